package procedures

import (
	"fmt"
	"net/http"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// consoleApologyData is the letter of apology of an overdue dossier
// (Decree 61/2018/NĐ-CP, Article 19; the form of Circular
// 01/2018/TT-VPCP): the unit apologises to the applicant, says why the
// dossier is late and gives a new appointment.
type consoleApologyData struct {
	Unit      string
	Applicant string
	Code      string
	Procedure string
	Received  when
	// Original is the appointment on the receipt: the time limit counted
	// from receipt.
	Original when
	Reason   string
	// NewAppointment is the latest letter's.
	NewAppointment when
	Written        when
	Signer         string
	DossierHref    string
}

// consoleApology shows the latest letter of apology of a dossier, to
// print and hand or send to the applicant.
func (h *Handler) consoleApology(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, err := h.svc.Get(ctx, web.SubjectFrom(ctx), r.PathValue("code"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var letter *Entry
	for i := range d.History {
		if d.History[i].Action == "apologise" {
			letter = &d.History[i]
		}
	}
	if letter == nil {
		web.Error(w, r, fmt.Errorf("%w: dossier %s has no letter of apology; one is written when a dossier is overdue", errs.ErrNotFound, d.Code))
		return
	}
	p := h.shell.Page(r, web.Console, "procedures.console.apology.title")
	unit, z, err := h.unitPlace(ctx, p.Lang, d.UnitID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data := consoleApologyData{Unit: unit, Applicant: d.ApplicantName, Code: d.Code, Procedure: h.procedureName(p.Lang, d.Procedure),
		Received: z.day(d.Clock.ReceivedAt), Original: z.day(z.cal.AddWorkingDays(d.Clock.ReceivedAt, d.Clock.WorkingDays)),
		Reason: letter.Reason, NewAppointment: z.day(d.AppointmentAt), Written: z.day(letter.At), Signer: letter.ActorName,
		DossierHref: consoleDossierPath(d.Code)}
	h.pages.Render(w, r, http.StatusOK, "console_apology", web.View[consoleApologyData]{Page: p, Data: data})
}
