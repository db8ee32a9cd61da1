package records

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// registerArchive adds the archive's routes: copies of classified
// documents, the secret-document registers, retention and disposition
// (API and console pages). Each line says who may reach the route; the
// service decides on the item itself (clearance, need-to-know, the
// capacity), so another unit's item answers as a missing one.
func (h *Handler) registerArchive(rt *web.Router) {
	readDoc := web.Staff(authz.KindDocument, authz.Read)
	// Copies: anyone who reads documents lists their own copies and
	// fetches them; the permission and the copy are actions.
	rt.HandleFunc("GET /api/v1/documents/{id}/copies", readDoc, h.apiCopies)
	rt.HandleFunc("GET /api/v1/documents/{id}/copies/{n}", readDoc, h.apiCopyPDF)
	// The registers of secret documents: the records office and the
	// security officers.
	rt.HandleFunc("GET /api/v1/registers/secret/{direction}", web.Staff(authz.KindSecretRegister, authz.Read), h.apiSecretRegister)
	// Retention and disposition: archivists (and leaders, who decide).
	readDisp := web.Staff(authz.KindDisposition, authz.Read)
	createDisp := web.Staff(authz.KindDisposition, authz.Create)
	rt.HandleFunc("GET /api/v1/records/retention", readDisp, h.apiRetention)
	rt.HandleFunc("POST /api/v1/records/retention/schedules", createDisp, h.apiSetSchedule)
	rt.HandleFunc("POST /api/v1/case-files/{id}/holds", createDisp, h.apiPlaceHold)
	rt.HandleFunc("POST /api/v1/case-files/{id}/holds/{hold}/lift", createDisp, h.apiLiftHold)
	rt.HandleFunc("POST /api/v1/records/disposals", createDisp, h.apiAppraise)
	rt.HandleFunc("GET /api/v1/records/disposals/{id}", readDisp, h.apiDisposal)
	rt.HandleFunc("POST /api/v1/records/disposals/{id}/decide", web.Staff(authz.KindDisposition, authz.Approve), h.apiDecide)
	rt.HandleFunc("POST /api/v1/records/disposals/{id}/execute", web.Staff(authz.KindDisposition, authz.Update), h.apiExecute)
	rt.HandleFunc("GET /api/v1/records/disposals/{id}/minutes", readDisp, h.apiMinutes)
	rt.HandleFunc("POST /api/v1/records/transfers", createDisp, h.apiTransfer)
	rt.HandleFunc("GET /api/v1/records/transfers/{id}/package", readDisp, h.apiTransferPackage)
	h.registerArchivePages(rt)
}

// archiveAct takes the copy actions of POST /api/v1/documents/{id}/actions:
// permit_copy and permit_print (the competent person's permission to
// staff_id for copies copies until expires_at, for reason), copy and print
// (the caller's next numbered copy). It reports false for another action.
func (h *Handler) archiveAct(r *http.Request, id int64, req apiActionRequest, res *apiActionResult) (bool, error) {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	var err error
	switch req.Action {
	case "permit_copy", "permit_print":
		kind := CopyKindCopy
		if req.Action == "permit_print" {
			kind = CopyKindPrint
		}
		res.Permit, err = h.svc.PermitCopy(ctx, sub, id, NewCopyPermit{StaffID: req.StaffID, Kind: kind, Copies: req.Copies, Reason: req.Reason, ExpiresAt: req.ExpiresAt})
	case CopyKindCopy, CopyKindPrint:
		res.Copy, err = h.svc.MakeCopy(ctx, sub, id, req.Action)
	default:
		return false, nil
	}
	return true, err
}

// apiCopiesBody lists a document's copies and permissions.
type apiCopiesBody struct {
	Copies  []Copy       `json:"copies"`
	Permits []CopyPermit `json:"permits"`
}

func (h *Handler) apiCopies(w http.ResponseWriter, r *http.Request) {
	id, err := parseDocumentID(r.PathValue("id"))
	var body apiCopiesBody
	if err == nil {
		body.Copies, body.Permits, err = h.svc.Copies(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	reply(w, r, http.StatusOK, body, err)
}

func (h *Handler) apiCopyPDF(w http.ResponseWriter, r *http.Request) {
	id, err := parseDocumentID(r.PathValue("id"))
	var n int64
	if err == nil {
		n, err = parsePositive("n", r.PathValue("n"))
	}
	var name string
	var pdf []byte
	if err == nil {
		name, pdf, err = h.svc.CopyPDF(r.Context(), web.SubjectFrom(r.Context()), id, int(min(n, 1<<30)))
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	h.attachment(w, r, h.opts.Download, name, "application/pdf", pdf)
}

// unitYear reads the unit and year of a register or schedule query: the
// caller's unit and the current year unless they say otherwise.
func (h *Handler) unitYear(r *http.Request) (unit int64, year int, err error) {
	unit, year = web.SubjectFrom(r.Context()).Unit, h.svc.now().In(registerZone()).Year()
	q := r.URL.Query()
	if s := q.Get("unit"); s != "" {
		if unit, err = parsePositive("unit", s); err != nil {
			return 0, 0, err
		}
	}
	if s := q.Get("year"); s != "" {
		y, err := parsePositive("year", s)
		if err != nil || y > 9999 {
			return 0, 0, errs.Invalid("year", "must be a year such as 2026")
		}
		year = int(y)
	}
	return unit, year, nil
}

func (h *Handler) apiSecretRegister(w http.ResponseWriter, r *http.Request) {
	unit, year, err := h.unitYear(r)
	var reg *SecretRegister
	if err == nil {
		reg, err = h.svc.SecretRegister(r.Context(), web.SubjectFrom(r.Context()), Direction(r.PathValue("direction")), unit, year)
	}
	reply(w, r, http.StatusOK, reg, err)
}

// RetentionOverview is a unit's retention and disposition at a glance.
type RetentionOverview struct {
	UnitID    int64       `json:"unit_id"`
	Schedules []Schedule  `json:"schedules"`
	Appraisal []DueItem   `json:"appraisal"`
	Disposals []*Disposal `json:"disposals"`
	Transfers []Transfer  `json:"transfers"`
}

// Retention returns a unit's retention overview.
func (h *Handler) retention(r *http.Request, unit int64) (*RetentionOverview, error) {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	o := &RetentionOverview{UnitID: unit}
	var err error
	if o.Schedules, err = h.svc.Schedules(ctx, sub, unit); err != nil {
		return nil, err
	}
	if o.Appraisal, err = h.svc.Appraisal(ctx, sub, unit); err != nil {
		return nil, err
	}
	if o.Disposals, err = h.svc.Disposals(ctx, sub, unit); err != nil {
		return nil, err
	}
	if o.Disposals == nil {
		o.Disposals = []*Disposal{}
	}
	o.Transfers, err = h.svc.Transfers(ctx, sub, unit)
	return o, err
}

func (h *Handler) apiRetention(w http.ResponseWriter, r *http.Request) {
	unit, _, err := h.unitYear(r)
	var o *RetentionOverview
	if err == nil {
		o, err = h.retention(r, unit)
	}
	reply(w, r, http.StatusOK, o, err)
}

func (h *Handler) apiSetSchedule(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Series         string    `json:"series"`
		Title          string    `json:"title"`
		RetentionYears Retention `json:"retention_years"`
		Source         string    `json:"source"`
	}
	err := web.DecodeJSON(r, &req)
	var sc *Schedule
	if err == nil {
		sc, err = h.svc.SetSchedule(r.Context(), web.SubjectFrom(r.Context()), NewSchedule(req))
	}
	reply(w, r, http.StatusCreated, sc, err)
}

// apiReason is a body that gives a reason.
type apiReason struct {
	Reason string `json:"reason"`
}

func (h *Handler) apiPlaceHold(w http.ResponseWriter, r *http.Request) {
	id, err := parsePositive("id", r.PathValue("id"))
	var req apiReason
	if err == nil {
		err = web.DecodeJSON(r, &req)
	}
	var hold *Hold
	if err == nil {
		hold, err = h.svc.PlaceHold(r.Context(), web.SubjectFrom(r.Context()), id, req.Reason)
	}
	reply(w, r, http.StatusCreated, hold, err)
}

func (h *Handler) apiLiftHold(w http.ResponseWriter, r *http.Request) {
	id, err := parsePositive("id", r.PathValue("id"))
	var hold int64
	if err == nil {
		hold, err = parsePositive("hold", r.PathValue("hold"))
	}
	var req apiReason
	if err == nil {
		err = web.DecodeJSON(r, &req)
	}
	if err == nil {
		err = h.svc.LiftHold(r.Context(), web.SubjectFrom(r.Context()), id, hold, req.Reason)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, map[string]bool{"lifted": true})
}

// apiCaseFiles is a body listing case files.
type apiCaseFiles struct {
	CaseFiles []int64 `json:"case_files"`
}

func (h *Handler) apiAppraise(w http.ResponseWriter, r *http.Request) {
	var req apiCaseFiles
	err := web.DecodeJSON(r, &req)
	var d *Disposal
	if err == nil {
		d, err = h.svc.Appraise(r.Context(), web.SubjectFrom(r.Context()), req.CaseFiles)
	}
	reply(w, r, http.StatusCreated, d, err)
}

// reply answers v with status, or the problem err is.
func reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, status, v)
}

// disposalID runs fn with the path's disposal id and answers with the
// disposal it returns.
func (h *Handler) disposalID(w http.ResponseWriter, r *http.Request, fn func(id int64) (*Disposal, error)) {
	id, err := parsePositive("id", r.PathValue("id"))
	var d *Disposal
	if err == nil {
		d, err = fn(id)
	}
	reply(w, r, http.StatusOK, d, err)
}

func (h *Handler) apiDisposal(w http.ResponseWriter, r *http.Request) {
	h.disposalID(w, r, func(id int64) (*Disposal, error) {
		return h.svc.Disposal(r.Context(), web.SubjectFrom(r.Context()), id)
	})
}

func (h *Handler) apiDecide(w http.ResponseWriter, r *http.Request) {
	h.disposalID(w, r, func(id int64) (*Disposal, error) {
		var req struct {
			Number string    `json:"decision_number"`
			Date   time.Time `json:"decision_date"`
		}
		if err := web.DecodeJSON(r, &req); err != nil {
			return nil, err
		}
		return h.svc.DecideDisposal(r.Context(), web.SubjectFrom(r.Context()), id, req.Number, req.Date)
	})
}

func (h *Handler) apiExecute(w http.ResponseWriter, r *http.Request) {
	h.disposalID(w, r, func(id int64) (*Disposal, error) {
		return h.svc.ExecuteDisposal(r.Context(), web.SubjectFrom(r.Context()), id)
	})
}

func (h *Handler) apiMinutes(w http.ResponseWriter, r *http.Request) {
	download(w, r, "bien-ban-huy-%d.pdf", "application/pdf", func(id int64) ([]byte, error) {
		return h.svc.MinutesPDF(r.Context(), web.SubjectFrom(r.Context()), id)
	})
}

// download sends what fn returns for the path's id as an attachment
// named after name (a format of the id), or the problem it is.
func download(w http.ResponseWriter, r *http.Request, name, mediaType string, fn func(id int64) ([]byte, error)) {
	id, err := parsePositive("id", r.PathValue("id"))
	var data []byte
	if err == nil {
		data, err = fn(id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.Attachment(w, fmt.Sprintf(name, id), mediaType, data)
}

func (h *Handler) apiTransfer(w http.ResponseWriter, r *http.Request) {
	var req apiCaseFiles
	err := web.DecodeJSON(r, &req)
	var t *Transfer
	if err == nil {
		t, err = h.svc.TransferCaseFiles(r.Context(), web.SubjectFrom(r.Context()), req.CaseFiles)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/records/transfers/"+strconv.FormatInt(t.ID, 10)+"/package")
	web.JSON(w, r, http.StatusCreated, t)
}

func (h *Handler) apiTransferPackage(w http.ResponseWriter, r *http.Request) {
	download(w, r, "transfer-%d.zip", "application/zip", func(id int64) ([]byte, error) {
		return h.svc.TransferPackage(r.Context(), web.SubjectFrom(r.Context()), id)
	})
}
