package procedures

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

// registerConsole adds the staff's pages: the unit's work queue, each
// dossier with the actions the staff member's roles allow, the entry of
// in-person and postal dossiers, letters of apology, the national portal's
// reconciliation and the Decision 766 dashboard.
func (h *Handler) registerConsole(rt *web.Router) {
	read := web.Staff(authz.KindDossier, authz.Read)
	update := web.Staff(authz.KindDossier, authz.Update)
	create := web.Staff(authz.KindDossier, authz.Create)
	h.shell.AddNav(web.Console, web.NavItem{Key: "procedures.console.nav", Href: consoleQueuePath, Access: read})
	// The indices are open to every member of staff (Service.Indices
	// decides which scopes each reads); the navigation offers them to
	// those whose roles give them a unit's or the ministry's.
	h.shell.AddNav(web.Console, web.NavItem{Key: "procedures.console.nav_indices", Href: consoleIndicesPath,
		Access: web.Staff(authz.KindIndices, authz.Read)})

	rt.HandleFunc("GET "+consoleQueuePath, read, h.consoleQueue)
	rt.HandleFunc("GET /console/dossiers/new", create, h.consoleNewDossier)
	rt.HandleFunc("POST /console/dossiers/new", create, h.consolePostNewDossier)
	rt.HandleFunc("GET /console/dossiers/{code}", read, h.consoleDossier)
	rt.HandleFunc("POST /console/dossiers/{code}/actions", update, h.consolePostAction)
	rt.HandleFunc("GET /console/dossiers/{code}/attachments/{id}", read, h.getDossierAttachment)
	rt.HandleFunc("GET /console/dossiers/{code}/result", read, h.getResult)
	rt.HandleFunc("POST /console/results/verify", read, h.consolePostVerify)
	rt.HandleFunc("GET /console/dossiers/{code}/apology", read, h.consoleApology)
	rt.HandleFunc("POST /console/dossiers/{code}/apology", update, h.consolePostApology)
	rt.HandleFunc("GET /console/procedures/reconciliation", update, h.consoleReconciliation)
	rt.HandleFunc("POST /console/procedures/reconciliation/resend", update, h.consolePostResend)
	// The dashboard is open to every signed-in staff member: Service.Indices
	// decides which scopes each may read (administrators hold no dossier
	// role, yet read the whole ministry's).
	rt.HandleFunc("GET "+consoleIndicesPath, web.SignedIn, h.consoleIndices)
}

// consoleQueuePath is the work queue's page.
const consoleQueuePath = "/console/dossiers"

// consoleIndicesPath is the Decision 766 dashboard's page.
const consoleIndicesPath = "/console/procedures/indices"

// consoleDossierPath is the page of the dossier with code.
func consoleDossierPath(code string) string { return "/console/dossiers/" + url.PathEscape(code) }

// consoleExplain turns a service's refusal into what a console form
// shows: beside the field it names, or above the form. It reports false
// for errors no form can show (not found, internal), which web.Error
// answers. The service explains in English; a Vietnamese page leads with
// the catalogue's explanation and keeps the precise reason beside it.
func consoleExplain(tr i18n.Localizer, err error) (web.Refusal, bool) {
	if form := (*FormError)(nil); errors.As(err, &form) {
		return web.Refusal{Status: http.StatusUnprocessableEntity, Message: tr.T("form.errors")}, true
	}
	return web.Explain(tr, "procedures.console.", err)
}

// consoleFormError answers a refused console form: draw draws the page
// again with the refusal when a form can show it; anything else is
// answered by web.Error.
func (h *Handler) consoleFormError(w http.ResponseWriter, r *http.Request, err error, draw func(web.Refusal)) {
	tr := h.shell.Localizer(r)
	web.FormError(w, r, err, func(err error) (web.Refusal, bool) { return consoleExplain(tr, err) }, draw)
}

// consoleActorName names who took a step of a dossier's history: a staff
// member by full name (as the directory has it, else the username the
// entry kept), or the kind of actor (the applicant, the system).
func (h *Handler) consoleActorName(ctx context.Context, p web.Page, e Entry, names map[int64]string) string {
	if e.ActorKind == string(audit.ActorStaff) && e.ActorID != 0 && h.opts.Staff != nil {
		name, ok := names[e.ActorID]
		if !ok {
			name, _ = h.opts.Staff.StaffName(ctx, e.ActorID)
			names[e.ActorID] = name
		}
		if name != "" {
			return name
		}
	}
	if e.ActorName != "" {
		return e.ActorName
	}
	return p.T("procedures.public.actor." + publicActorKind(e.ActorKind))
}

// consoleDeadline is how a dossier stands against its deadline, as the
// queue and the dossier page show it: flagged when it is nearing its
// deadline (NearingDays working days or fewer) or past it.
type consoleDeadline struct {
	// Running reports whether the deadline clock runs: the dossier is
	// received and neither paused nor completed.
	Running  bool
	DaysLeft int
	Overdue  bool
	Nearing  bool
	Badge    string
	Text     string
}

// newDeadline describes a dossier in status st, due at due (zero before
// receipt), with daysLeft working days left (negative: late by that
// many), as of now.
func newDeadline(p web.Page, st Status, due time.Time, overdue bool, daysLeft int) consoleDeadline {
	d := consoleDeadline{Running: !due.IsZero() && !st.Paused() && st != StatusCompleted && !st.Final(), Text: "—"}
	if !d.Running {
		return d
	}
	d.DaysLeft, d.Overdue = daysLeft, overdue
	switch {
	case overdue && daysLeft < 0:
		d.Badge, d.Text = p.T("procedures.console.overdue"), p.T("procedures.console.days.late", -daysLeft)
	case overdue:
		d.Badge, d.Text = p.T("procedures.console.overdue"), p.T("procedures.console.days.late_first")
	default:
		d.Nearing = daysLeft <= NearingDays
		d.Text = p.T("procedures.console.days.left", daysLeft)
		if d.Nearing {
			d.Badge = p.T("procedures.console.nearing")
		}
	}
	return d
}
