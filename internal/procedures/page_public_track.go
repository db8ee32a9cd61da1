package procedures

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

// publicStep is a step of a stepper (the "public-steps" partial): an
// application's four steps, or a dossier's way to its result.
type publicStep struct {
	Label string
	// State is "done", "current", "todo" or "stopped" (the dossier's way
	// ended there: refused at intake, or processing stopped).
	State string
	// StateText says State in words, for those who cannot see the marks.
	StateText string
	// Note is the status in its own words where it says more than the
	// step's name: documents or a fee requested, withdrawal asked.
	Note string
}

// publicStepper is a stepper: its steps, and the list's accessible name.
type publicStepper struct {
	Label string
	Steps []publicStep
}

// trackMilestones are the statuses a dossier passes on its way to its
// result, in order: the steps that tracking draws.
var trackMilestones = []Status{StatusRegistered, StatusReceived, StatusProcessing, StatusCompleted, StatusReturned}

// trackSteps lays status out on the milestones: those before it done, its
// own current (or stopped, for a dossier refused at intake or stopped),
// those after it to come. A dossier that stopped shows no steps after the
// one it stopped at, which it will never reach. A status off the main way
// (documents or a fee requested, withdrawal asked) is a pause in
// processing, noted there in its own words.
func trackSteps(tr i18n.Localizer, status Status) []publicStep {
	at, state, note := 0, "current", ""
	switch status {
	case StatusRegistered:
		at = 0
	case StatusReceived:
		at = 1
	case StatusRefusedIntake:
		at, state, note = 1, "stopped", tr.T(status.Key())
	case StatusProcessing:
		at = 2
	case StatusDocumentsRequested, StatusPaymentRequested, StatusWithdrawalRequested:
		at, note = 2, tr.T(status.Key())
	case StatusStopped:
		at, state, note = 2, "stopped", tr.T(status.Key())
	case StatusCompleted:
		at = 3
	case StatusReturned:
		at, state = 4, "done"
	}
	var out []publicStep
	for i, m := range trackMilestones {
		st := publicStep{Label: tr.T(m.Key()), State: "todo"}
		switch {
		case i < at:
			st.State = "done"
		case i == at:
			st.State, st.Note = state, note
		case state == "stopped":
			return out
		}
		st.StateText = tr.T("procedures.public.step." + st.State)
		out = append(out, st)
	}
	return out
}

// publicTrackData is the view of tracking by code and tracking PIN.
type publicTrackData struct {
	Code     string
	Searched bool
	Found    bool
	// Problem says why nothing is shown: not found (the same words for a
	// wrong code and a wrong PIN), or too many attempts.
	Problem     string
	Procedure   string
	Name        string
	Unit        string
	StatusKey   string
	OutcomeKey  string
	Submitted   when
	Appointment when
	Updated     when
	// Steps are the dossier's way from submission to the result, with
	// where it is now.
	Steps publicStepper
}

// pageTrack draws the tracking form, with the code filled in when the
// receipt's link gives it. The PIN is posted (postTrack), never put in an
// address that logs and browser histories keep.
func (h *Handler) pageTrack(w http.ResponseWriter, r *http.Request) {
	h.showTrack(w, r, http.StatusOK, publicTrackData{Code: strings.TrimSpace(r.URL.Query().Get("code"))})
}

func (h *Handler) showTrack(w http.ResponseWriter, r *http.Request, status int, data publicTrackData) {
	p := h.shell.Page(r, web.PublicSite, "procedures.public.track.title")
	h.pages.Render(w, r, status, "public_track", web.View[publicTrackData]{Page: p, Data: data})
}

// postTrack answers a tracking form: the code and the tracking PIN, at the
// rate the client's address is allowed.
func (h *Handler) postTrack(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := formValues(r); err != nil {
		web.Error(w, r, err)
		return
	}
	tr := h.shell.Localizer(r)
	code := strings.TrimSpace(r.PostFormValue("code"))
	data := publicTrackData{Code: code, Searched: true}
	if err := h.allowTrack(w, r); err != nil {
		data.Problem = tr.T("procedures.public.track.limited")
		h.showTrack(w, r, http.StatusTooManyRequests, data)
		return
	}
	t, err := h.svc.Track(ctx, code, r.PostFormValue("pin"))
	switch {
	case errors.Is(err, errs.ErrNotFound):
		data.Problem = tr.T("procedures.public.track.unknown")
		h.showTrack(w, r, http.StatusNotFound, data)
		return
	case err != nil:
		web.Error(w, r, err)
		return
	}
	u, err := h.svc.opts.Directory.UnitByCode(ctx, t.UnitCode)
	if err != nil {
		web.Error(w, r, fmt.Errorf("procedures: the unit of dossier %s: %w", t.Code, err))
		return
	}
	z, err := h.zoneOf(ctx, u.ID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data.Found, data.Code, data.Procedure, data.Name = true, t.Code, t.Procedure, h.procedureName(tr.Lang, t.Procedure)
	data.Unit, data.StatusKey = publicUnitName(tr.Lang, u), t.Status.Key()
	data.Submitted, data.Appointment, data.Updated = z.at(t.SubmittedAt), z.day(t.AppointmentAt), z.at(t.UpdatedAt)
	if t.Outcome != OutcomeNone {
		data.OutcomeKey = t.Outcome.Key()
	}
	data.Steps = publicStepper{Label: tr.T("procedures.public.track.steps"), Steps: trackSteps(tr, t.Status)}
	h.showTrack(w, r, http.StatusOK, data)
}

// Public tracking's allowance per client address: a burst of attempts,
// then one every trackEvery. A reader who mistypes has a few tries; a
// script walking the sequential codes with guessed PINs gets ten a minute.
const (
	trackBurst = 10
	trackEvery = 6 * time.Second
)

// allowTrack takes one of the client address's tracking attempts, or
// returns an error wrapping errs.ErrRateLimited and sets Retry-After.
func (h *Handler) allowTrack(w http.ResponseWriter, r *http.Request) error {
	ok, wait, err := h.track.allow(r.Context(), web.ClientAddr(r), h.svc.now())
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return fmt.Errorf("%w: too many tracking attempts from your address; try again in %d seconds", errs.ErrRateLimited, secs)
}
