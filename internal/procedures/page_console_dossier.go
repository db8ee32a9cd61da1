package procedures

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// consoleAttachment is a file of a dossier, as the dossier page lists it.
type consoleAttachment struct {
	Href      string
	Document  string
	Filename  string
	MediaType string
	Size      string
}

// consoleHistoryRow is a step of a dossier's history.
type consoleHistoryRow struct {
	At     when
	Action string
	// FromKey and ToKey are the statuses' i18n keys; FromKey is empty for
	// the submission, ToKey when the step left the status as it was.
	FromKey string
	ToKey   string
	Actor   string
	Reason  string
}

// consoleActionForm is the form of one action the staff member may take.
type consoleActionForm struct {
	Action  string
	Label   string
	Prefix  string
	Fields  []web.Field
	Problem web.Refusal
	// Danger marks the actions that end or refuse a dossier.
	Danger bool
}

// consoleResult is a dossier's signed electronic result.
type consoleResult struct {
	Href     string
	Name     string
	IssuedAt when
	KeyID    string
}

// consoleDossierData is the dossier page.
type consoleDossierData struct {
	Code          string
	Version       int
	ProcedureCode string
	Procedure     string
	Unit          string
	Channel       string
	StatusKey     string
	OutcomeKey    string
	Applicant     string
	Email         string
	Assignee      string
	Submitted     when
	Appointment   when
	Due           when
	Deadline      consoleDeadline
	Fee           string
	Paid          bool
	PaidOnline    bool
	Prefilled     bool
	Digitised     bool
	// NationalPortalSynced reports whether the national portal has the current
	// status; NationalPortalStatusKey names the last status sent ("" for none).
	NationalPortalSynced    bool
	NationalPortalStatusKey string
	Answers                 []publicSummaryRow
	Attachments             []consoleAttachment
	History                 []consoleHistoryRow
	Actions                 []consoleActionForm
	// Problem is the refusal of a form that is not on the page: an action
	// no longer allowed, or never allowed to this staff member, or an
	// apology for a dossier that is not overdue.
	Problem       web.Refusal
	Result        *consoleResult
	Verify        []web.Field
	VerifyProblem web.Refusal
	// Apology is the letter of apology's form, for an overdue dossier.
	Apology        []web.Field
	ApologyProblem web.Refusal
	ApologyHref    string
	ReceiptHref    string
}

// dangerous are the actions whose buttons warn: they refuse or end a
// dossier.
var dangerous = map[Action]bool{ActRefuseIntake: true, ActRefuse: true, ActStop: true}

func (h *Handler) consoleDossier(w http.ResponseWriter, r *http.Request) {
	h.showConsoleDossier(w, r, http.StatusOK, r.PathValue("code"), web.SentBack{})
}

// showConsoleDossier draws the page of the dossier with code, with a form
// sent back.
func (h *Handler) showConsoleDossier(w http.ResponseWriter, r *http.Request, status int, code string, back web.SentBack) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	d, err := h.svc.Get(ctx, sub, code)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	proc, err := h.svc.Catalogue().Procedure(d.Procedure)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	unit, z, err := h.unitPlace(ctx, web.LangFrom(ctx), d.UnitID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "procedures.console.dossier.title")
	p.Title = p.T("procedures.console.dossier.title") + " " + d.Code
	if p.Flash != "" {
		if f := actedFlash(p, r.URL.Query().Get("done"), d); f != "" {
			p.Flash = f
		}
	}
	now := h.svc.now()
	data := consoleDossierData{Code: d.Code, Version: d.Version, ProcedureCode: proc.Code, Procedure: pick(p.Lang, proc.NameVI, proc.NameEN),
		Unit: unit, Channel: p.T(d.Channel.Key()), StatusKey: d.Status.Key(), Applicant: d.ApplicantName, Email: d.ApplicantEmail,
		Submitted: z.at(d.SubmittedAt), Appointment: z.day(d.AppointmentAt), Due: z.day(d.DueAt),
		Fee: formatAmount(p.Localizer(), d.FeeAmount, d.FeeCurrency), Paid: d.Paid, PaidOnline: d.PaidOnline,
		Prefilled: d.Prefilled, Digitised: d.Digitised, NationalPortalSynced: d.NationalPortalStatus == d.Status,
		Answers:     publicSummarize(p.Localizer(), proc.Form.Fields(), d.Form),
		ReceiptHref: "/dossiers/" + url.PathEscape(d.Code) + "/receipt"}
	if d.Outcome != OutcomeNone {
		data.OutcomeKey = d.Outcome.Key()
	}
	if d.NationalPortalStatus.Valid() {
		data.NationalPortalStatusKey = d.NationalPortalStatus.Key()
	}
	data.Deadline = newDeadline(p, d.Status, d.DueAt, d.Overdue(z.cal, now), d.Clock.WorkingDaysLeft(z.cal, now))
	if d.AssigneeID != 0 {
		data.Assignee = h.staffName(r, d.AssigneeID)
	}
	docs := map[string]string{}
	for _, doc := range proc.Documents {
		docs[doc.Key] = pick(p.Lang, doc.NameVI, doc.NameEN)
	}
	for _, a := range d.Attachments {
		data.Attachments = append(data.Attachments, consoleAttachment{
			Href:     consoleDossierPath(d.Code) + "/attachments/" + strconv.FormatInt(a.ID, 10),
			Document: docs[a.DocumentKey], Filename: a.Filename, MediaType: a.MediaType, Size: publicFormatSize(p.Localizer(), a.Size)})
	}
	names := map[int64]string{}
	for _, e := range d.History {
		row := consoleHistoryRow{At: z.at(e.At), Action: p.T(publicEntryKey(e.Action)), Actor: h.consoleActorName(ctx, p, e, names), Reason: e.Reason}
		if e.From.Valid() {
			row.FromKey = e.From.Key()
		}
		if e.To != e.From || !e.From.Valid() {
			row.ToKey = e.To.Key()
		}
		if e.Action == "apologise" {
			data.ApologyHref = consoleDossierPath(d.Code) + "/apology"
		}
		data.History = append(data.History, row)
	}

	shown, err := h.consoleActions(r, p, d, back, &data)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if data.Deadline.Overdue && mayApologise(sub, d.UnitID) {
		shown = shown || back.Form == "apology-"
		next := z.cal.Date(z.cal.AddWorkingDays(now, 1))
		fm := back.NewForm(p, "apology-", url.Values{"appointment": {next.String()}})
		data.Apology = []web.Field{
			fm.Field("appointment", "date", "procedures.console.apology.appointment", true),
			fm.Field("reason", "textarea", "procedures.console.apology.reason", true),
		}
		data.ApologyProblem = fm.Message()
	}
	if d.HasResult {
		res, err := h.svc.Result(ctx, sub, d.Code)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		data.Result = &consoleResult{Href: consoleDossierPath(d.Code) + "/result", Name: pick(p.Lang, res.Document.ResultVI, res.Document.ResultEN),
			IssuedAt: z.at(res.Document.IssuedAt), KeyID: res.KeyID}
		data.Verify, data.VerifyProblem = verifyFields(p, back, url.Values{"document": {string(res.Raw)}, "key_id": {res.KeyID}, "signature": {res.Signature}})
	}
	if !shown {
		data.Problem = back.Refusal
	}
	h.pages.Render(w, r, status, "console_dossier", web.View[consoleDossierData]{Page: p, Data: data})
}

// consoleActions fills data with the forms of the actions the staff
// member's roles allow on d now, one per action, and reports whether the
// form sent back (if any) is among them.
func (h *Handler) consoleActions(r *http.Request, p web.Page, d *Dossier, back web.SentBack, data *consoleDossierData) (bool, error) {
	by := roles(web.SubjectFrom(r.Context()), d)
	drawn := back.Form == ""
	for _, a := range d.Lifecycle.Allowed(by...) {
		prefix := "act-" + string(a) + "-"
		drawn = drawn || back.Form == prefix
		var stored url.Values
		if a == ActAssign && d.AssigneeID != 0 {
			stored = url.Values{"assignee": {strconv.FormatInt(d.AssigneeID, 10)}}
		}
		fm := back.NewForm(p, prefix, stored)
		form := consoleActionForm{Action: string(a), Label: p.T(a.Key()), Prefix: prefix, Danger: dangerous[a]}
		if d.NeedsReason(a, by...) {
			form.Fields = append(form.Fields, fm.Field("reason", "textarea", "procedures.console.reason", true))
		}
		if a == ActPay {
			form.Fields = append(form.Fields, fm.Field("receipt", "text", "procedures.console.fee_receipt", true))
		}
		if a == ActAssign && h.opts.Staff != nil {
			staff, err := h.opts.Staff.Assignable(r.Context(), d.UnitID)
			if err != nil {
				return false, err
			}
			opts := make([]web.Option, len(staff))
			for i, s := range staff {
				opts[i] = web.Option{Value: strconv.FormatInt(s.ID, 10), Label: s.Name}
			}
			form.Fields = append(form.Fields, fm.Choice("assignee", "select", "procedures.console.assignee", true, opts))
		}
		form.Problem = fm.Message()
		data.Actions = append(data.Actions, form)
	}
	return drawn, nil
}

// mayApologise reports whether sub is among the staff of the unit with
// id unit who write its letters of apology.
func mayApologise(sub authz.Subject, unit int64) bool {
	dec, _ := authz.Decide(sub, authz.Create, authz.Resource{Kind: authz.KindApology, Unit: unit})
	return dec == authz.Allowed
}

// staffName names a staff member, or says the directory cannot (the
// page is still worth showing; a bare number would tell the reader
// nothing).
func (h *Handler) staffName(r *http.Request, id int64) string {
	if h.opts.Staff != nil {
		if name, err := h.opts.Staff.StaffName(r.Context(), id); err == nil {
			return name
		}
	}
	return h.shell.Localizer(r).T("procedures.console.staff_unknown")
}

func (h *Handler) consolePostAction(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if err := formValues(r); err != nil {
		web.Error(w, r, err)
		return
	}
	req, err := actionRequestOf(r)
	if err == nil {
		_, err = h.svc.Act(r.Context(), web.SubjectFrom(r.Context()), code, req)
	}
	if err != nil {
		h.consoleFormError(w, r, err, func(ref web.Refusal) {
			h.showConsoleDossier(w, r, ref.Status, code, web.SentBack{Form: "act-" + r.PostFormValue("action") + "-", Values: r.PostForm, Refusal: ref})
		})
		return
	}
	// The page it leads to says what was done: the action (a word the
	// catalogue knows, never text from the link) and where it left the
	// dossier.
	web.RedirectWithFlash(w, r, consoleDossierPath(code)+"?done="+url.QueryEscape(string(req.Action)), "procedures.console.flash.acted")
}

// actedFlash is the confirmation the dossier page shows after an action:
// which action, on which dossier, and the status it is in now; "" when
// the link names no action the catalogue knows (the general flash then
// stands).
func actedFlash(p web.Page, done string, d *Dossier) string {
	a := Action(done)
	if done == "" || strings.ContainsFunc(done, func(r rune) bool { return (r < 'a' || r > 'z') && r != '-' }) || !p.Has(a.Key()) {
		return ""
	}
	return p.T("procedures.console.flash.did", p.T(a.Key()), d.Code, p.T(d.Status.Key()))
}

// actionRequestOf reads an action form.
func actionRequestOf(r *http.Request) (ActionRequest, error) {
	a, err := ParseAction(r.PostFormValue("action"))
	if err != nil {
		return ActionRequest{}, err
	}
	req := ActionRequest{Action: a, Reason: r.PostFormValue("reason"), Receipt: r.PostFormValue("receipt")}
	if req.Version, err = web.OptionalInt("version", r.PostFormValue("version")); err != nil || req.Version < 1 {
		return ActionRequest{}, errs.Invalid("version", "the form lacks the dossier's version; reload the dossier and try again")
	}
	if v := r.PostFormValue("assignee"); v != "" {
		if req.Assignee, err = web.ParseID("assignee", v); err != nil {
			return ActionRequest{}, errs.Invalid("assignee", "choose a staff member from the list")
		}
	}
	return req, nil
}

// verifyFields returns the verification form's fields, filled with stored
// unless it is the form sent back.
func verifyFields(p web.Page, back web.SentBack, stored url.Values) ([]web.Field, web.Refusal) {
	fm := back.NewForm(p, "verify-", stored)
	fields := []web.Field{
		fm.Field("document", "textarea", "procedures.console.verify.document", true),
		fm.Field("key_id", "text", "procedures.console.verify.key_id", true),
		fm.Field("signature", "text", "procedures.console.verify.signature", true),
	}
	return fields, fm.Message()
}

// consoleVerifyData is the page answering a verification.
type consoleVerifyData struct {
	Valid   bool
	Fields  []web.Field
	Problem web.Refusal
}

func (h *Handler) consolePostVerify(w http.ResponseWriter, r *http.Request) {
	if err := formValues(r); err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "procedures.console.verify.title")
	back := web.SentBack{Form: "verify-", Values: r.PostForm}
	status := http.StatusOK
	err := h.svc.VerifyResult([]byte(r.PostFormValue("document")), r.PostFormValue("key_id"), r.PostFormValue("signature"))
	if err != nil {
		ref, ok := consoleExplain(p.Localizer(), err)
		if !ok {
			web.Error(w, r, err)
			return
		}
		back.Refusal, status = ref, ref.Status
	}
	data := consoleVerifyData{Valid: err == nil}
	data.Fields, data.Problem = verifyFields(p, back, nil)
	h.pages.Render(w, r, status, "console_verify", web.View[consoleVerifyData]{Page: p, Data: data})
}

func (h *Handler) consolePostApology(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if err := formValues(r); err != nil {
		web.Error(w, r, err)
		return
	}
	day, err := calendar.ParseDate(r.PostFormValue("appointment"))
	if err != nil {
		err = errs.Invalid("appointment", "write the new appointment as a date, YYYY-MM-DD")
	} else {
		_, err = h.svc.Apologise(r.Context(), web.SubjectFrom(r.Context()), code, day, r.PostFormValue("reason"))
	}
	if err != nil {
		h.consoleFormError(w, r, err, func(ref web.Refusal) {
			h.showConsoleDossier(w, r, ref.Status, code, web.SentBack{Form: "apology-", Values: r.PostForm, Refusal: ref})
		})
		return
	}
	web.RedirectWithFlash(w, r, consoleDossierPath(code), "procedures.console.flash.apologised")
}
