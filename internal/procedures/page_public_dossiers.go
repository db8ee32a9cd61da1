package procedures

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

// publicMyDossierRow is a dossier in the citizen's list.
type publicMyDossierRow struct {
	Code        string
	Name        string
	StatusKey   string
	Submitted   when
	Appointment when
}

// publicMyDossiersData is the view of "my dossiers": the search form, a
// page of the dossiers it selects and the links to the other pages.
type publicMyDossiersData struct {
	Search  []web.Field
	Problem web.Refusal
	// Filtered reports whether the form selects anything, so the page
	// offers to clear it and words an empty result as "none found".
	Filtered bool
	Rows     []publicMyDossierRow
	// Count says how many dossiers the form selects, in words.
	Count string
	Pager []publicPageLink
}

// publicPageLink is an entry of a list's pager: a page's link, the
// current page (Current, no link), or a gap (no Href, no number).
type publicPageLink struct {
	Label   string
	Href    string
	Rel     string
	Current bool
}

// myDossiersPath is the address of the citizen's list.
const myDossiersPath = "/my/dossiers"

// pageMyDossiers draws the citizen's dossiers: the search form and the
// page of the dossiers it selects, newest first. A malformed filter is
// shown beside its field (400), with no list.
func (h *Handler) pageMyDossiers(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := h.shell.Page(r, web.PublicSite, "procedures.public.mine.title")
	tr := p.Localizer()
	in := r.URL.Query()
	q, err := parseMyDossiersQuery(in)
	var res CitizenPage
	if err == nil {
		res, err = h.svc.CitizenDossiers(ctx, web.SubjectFrom(ctx), q)
	}
	data := publicMyDossiersData{}
	status := http.StatusOK
	var fe *errs.FieldError
	switch {
	case errors.As(err, &fe):
		status = http.StatusBadRequest
		data.Problem = web.Refusal{Status: status, Field: fe.Field, Message: tr.T("procedures.public.mine.invalid." + fe.Field)}
	case err != nil:
		web.Error(w, r, err)
		return
	}
	kept := url.Values{}
	for _, name := range []string{"q", "status", "procedure", "from", "to"} {
		if v := strings.TrimSpace(in.Get(name)); v != "" {
			kept.Set(name, v)
		}
	}
	data.Filtered = len(kept) > 0
	fm := web.NewForm(p, "mine-", kept, data.Problem)
	data.Search = []web.Field{
		fm.Field("q", "search", "procedures.public.mine.search", false),
		fm.Choice("status", "select", "procedures.public.status", false, h.myStatusOptions(p)),
		fm.Choice("procedure", "select", "procedures.public.receipt.procedure", false, h.myProcedureOptions(p)),
		fm.Field("from", "date", "procedures.public.mine.from", false),
		fm.Field("to", "date", "procedures.public.mine.to", false),
	}
	data.Problem = fm.Message()
	if status == http.StatusOK {
		data.Count = tr.T("procedures.public.mine.count", res.Total)
		if res.Capped {
			data.Count = tr.T("procedures.public.mine.count_capped", res.Total)
		}
		data.Pager = myDossiersPager(tr, kept, res)
		zones := map[string]zoned{}
		for _, it := range res.Items {
			agency := publicAgencyOf(it.Code)
			z, ok := zones[agency]
			if !ok {
				u, err := h.svc.opts.Directory.UnitByCode(ctx, agency)
				if err == nil {
					z, err = h.zoneOf(ctx, u.ID)
				}
				if err != nil {
					web.Error(w, r, err)
					return
				}
				zones[agency] = z
			}
			data.Rows = append(data.Rows, publicMyDossierRow{Code: it.Code, Name: h.procedureName(p.Lang, it.Procedure), StatusKey: it.Status.Key(),
				Submitted: z.at(it.SubmittedAt), Appointment: z.day(it.AppointmentAt)})
		}
	}
	h.pages.Render(w, r, status, "public_my_dossiers", web.View[publicMyDossiersData]{Page: p, Data: data})
}

// parseMyDossiersQuery reads the list's query string. Days are the
// ministry's (web.MinistryZone): "to" is the last day shown, whole.
func parseMyDossiersQuery(in url.Values) (CitizenQuery, error) {
	q := CitizenQuery{Text: in.Get("q"), Procedure: strings.TrimSpace(in.Get("procedure"))}
	if s := strings.TrimSpace(in.Get("status")); s != "" {
		n, err := web.ParseID("status", s)
		if err != nil || n > 99 {
			return q, errs.Invalid("status", "is not a dossier status; use 1 to 10")
		}
		q.Status = Status(n)
	}
	for _, day := range []struct {
		name string
		into *time.Time
		add  int
	}{{"from", &q.From, 0}, {"to", &q.To, 1}} {
		s := strings.TrimSpace(in.Get(day.name))
		if s == "" {
			continue
		}
		d, err := calendar.ParseDate(s)
		if err != nil {
			return q, errs.Invalid(day.name, "is not a day; use YYYY-MM-DD")
		}
		*day.into = d.AddDays(day.add).Time(web.MinistryZone())
	}
	page, err := web.OptionalInt("page", in.Get("page"))
	q.Page = page
	return q, err
}

// myStatusOptions lists the dossier statuses for the list's filter,
// after "any".
func (h *Handler) myStatusOptions(p web.Page) []web.Option {
	opts := []web.Option{{Value: "", Label: p.T("procedures.public.mine.any_status")}}
	for st := StatusRegistered; st.Valid(); st++ {
		opts = append(opts, web.Option{Value: strconv.Itoa(int(st)), Label: p.T(st.Key())})
	}
	return opts
}

// myProcedureOptions lists the catalogue's procedures by name for the
// list's filter, after "any".
func (h *Handler) myProcedureOptions(p web.Page) []web.Option {
	opts := []web.Option{{Value: "", Label: p.T("procedures.public.mine.any_procedure")}}
	for _, pr := range h.svc.Catalogue().Procedures() {
		opts = append(opts, web.Option{Value: pr.Code, Label: pick(p.Lang, pr.NameVI, pr.NameEN)})
	}
	return opts
}

// myDossiersPager links the pages of res: the previous and next pages,
// the first and last, and the two either side of the current one, with
// gaps between. One page needs no pager.
func myDossiersPager(tr i18n.Localizer, kept url.Values, res CitizenPage) []publicPageLink {
	pages := res.Pages()
	if pages <= 1 && res.Page <= 1 {
		return nil
	}
	href := func(n int) string {
		v := url.Values{}
		maps.Copy(v, kept)
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return myDossiersPath
		}
		return myDossiersPath + "?" + v.Encode()
	}
	var out []publicPageLink
	if res.Page > 1 {
		out = append(out, publicPageLink{Label: tr.T("procedures.public.mine.previous"), Href: href(min(res.Page-1, pages)), Rel: "prev"})
	}
	gap := false
	for n := 1; n <= pages; n++ {
		if n != 1 && n != pages && (n < res.Page-2 || n > res.Page+2) {
			if !gap {
				out, gap = append(out, publicPageLink{Label: "…"}), true
			}
			continue
		}
		gap = false
		out = append(out, publicPageLink{Label: strconv.Itoa(n), Href: href(n), Current: n == res.Page})
	}
	if res.Page < pages {
		out = append(out, publicPageLink{Label: tr.T("procedures.public.mine.next"), Href: href(res.Page + 1), Rel: "next"})
	}
	return out
}

// publicAgencyOf returns the agency code a dossier code begins with: the unit
// that received it (which keeps its code even when merged, so its zone is
// the one the dates were promised in).
func publicAgencyOf(code string) string {
	c, err := ParseDossierCode(code)
	if err != nil {
		return ""
	}
	return c.Agency
}

// publicHistoryRow is a step of a dossier's history.
type publicHistoryRow struct {
	At        when
	ActionKey string
	ToKey     string
	ActorKey  string
	Reason    string
}

// publicActionForm is an action the applicant may take, as a button.
type publicActionForm struct {
	Action string
	Key    string
	ID     string
}

// publicResultView is the electronic result's signature, shown for checking.
type publicResultView struct {
	KeyID     string
	Signature string
	Issued    when
	Href      string
	// Verify is the public verification page the printed result's QR
	// code leads to.
	Verify string
}

// publicDossierData is the view of a citizen's dossier.
type publicDossierData struct {
	Code        string
	Procedure   string
	Name        string
	Unit        string
	StatusKey   string
	OutcomeKey  string
	ChannelKey  string
	Submitted   when
	Appointment when
	Version     int
	Summary     []publicSummaryRow
	Files       []publicFileView
	History     []publicHistoryRow
	Result      *publicResultView
	Actions     []publicActionForm
	NoteError   string
	Problem     string
	CanRate     bool
	Rating      int
	RatingError string
	Stars       []int
	Fee         string
	// PayAtUnit reports that the unit requested a fee (status 6), and
	// PayOnline that it may be paid through the payment gateway.
	PayAtUnit bool
	PayOnline bool
	// Supplement is the form to bring requested documents; nil unless
	// the unit asked for them.
	Supplement *publicSupplementView
}

// publicDossierBack is what the dossier page says after a refused request.
type publicDossierBack struct {
	problem         string
	noteError       string
	ratingError     string
	supplementError string
}

// publicSupplementView is the form with which the applicant brings the
// documents the unit requested: a few rows of a document and its file.
type publicSupplementView struct {
	Rows      []int
	Documents []publicDocOption
	Error     string
}

// publicDocOption is a document of the procedure, as a choice.
type publicDocOption struct{ Key, Name string }

// postSupplement takes the documents the unit requested, with their
// files, and resumes the dossier's processing.
func (h *Handler) postSupplement(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tr := h.shell.Localizer(r)
	refusal := func(ref *publicUploadRefusal) {
		msg := ref.problem
		if ref.docError != "" {
			msg = ref.docError
		}
		h.showDossier(w, r, ref.status, publicDossierBack{problem: ref.problem, supplementError: msg})
	}
	f, ref := h.publicReadForm(r, tr, publicSupplementFile)
	if ref != nil && ref.err != nil {
		web.Error(w, r, ref.err)
		return
	}
	if ref != nil {
		refusal(ref)
		return
	}
	var ups []Upload
	for _, i := range publicSupplementRows {
		for _, up := range f.files[fmt.Sprintf("file_%d", i)] {
			up.DocumentKey = f.values.Get(fmt.Sprintf("document_%d", i))
			ups = append(ups, up)
		}
	}
	if len(ups) == 0 {
		refusal(&publicUploadRefusal{status: http.StatusBadRequest, problem: tr.T("procedures.public.upload.refused"),
			docError: tr.T("procedures.public.upload.choose")})
		return
	}
	_, err := h.svc.Supplement(ctx, web.SubjectFrom(ctx), r.PathValue("code"), f.values.Get("note"), ups)
	switch {
	case err == nil:
		web.RedirectWithFlash(w, r, "/my/dossiers/"+r.PathValue("code"), "procedures.public.flash.supplemented")
	case errors.Is(err, errs.ErrInvalid):
		h.showDossier(w, r, http.StatusBadRequest, publicDossierBack{supplementError: tr.T("procedures.public.upload.no_document")})
	default:
		web.Error(w, r, err)
	}
}

// publicSupplementRows number the rows of the supplement form: how many
// files one supplement may bring.
var publicSupplementRows = []int{1, 2, 3}

// publicSupplementFile reports whether input is a file input of the
// supplement form's rows.
func publicSupplementFile(input string) bool {
	for _, i := range publicSupplementRows {
		if input == fmt.Sprintf("file_%d", i) {
			return true
		}
	}
	return false
}

func (h *Handler) pageMyDossier(w http.ResponseWriter, r *http.Request) {
	h.showDossier(w, r, http.StatusOK, publicDossierBack{})
}

// showDossier draws the citizen's dossier of the path's {code}.
func (h *Handler) showDossier(w http.ResponseWriter, r *http.Request, status int, back publicDossierBack) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	d, err := h.svc.Get(ctx, sub, r.PathValue("code"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.PublicSite, "procedures.public.dossier.title")
	unit, z, err := h.unitPlace(ctx, p.Lang, d.UnitID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data := publicDossierData{Code: d.Code, Procedure: d.Procedure, Name: h.procedureName(p.Lang, d.Procedure), Unit: unit,
		StatusKey: d.Status.Key(), ChannelKey: d.Channel.Key(), Submitted: z.at(d.SubmittedAt), Appointment: z.day(d.AppointmentAt),
		Version: d.Version, Problem: back.problem, NoteError: back.noteError, RatingError: back.ratingError,
		CanRate: d.Status == StatusReturned && d.Rating == 0, Rating: d.Rating, Stars: []int{5, 4, 3, 2, 1},
		Fee: formatAmount(p.Localizer(), d.FeeAmount, d.FeeCurrency), PayAtUnit: d.Status == StatusPaymentRequested,
		PayOnline: d.Status == StatusPaymentRequested && h.opts.Checkout != nil && d.FeeAmount > 0}
	if d.Outcome != OutcomeNone {
		data.OutcomeKey = d.Outcome.Key()
	}
	names := map[string]string{}
	var docs []publicDocOption
	if pr, err := h.svc.Catalogue().Procedure(d.Procedure); err == nil {
		data.Summary = publicSummarize(p.Localizer(), pr.Form.Fields(), d.Form)
		for _, doc := range pr.Documents {
			names[doc.Key] = pick(p.Lang, doc.NameVI, doc.NameEN)
			docs = append(docs, publicDocOption{Key: doc.Key, Name: names[doc.Key]})
		}
	}
	for _, a := range d.Attachments {
		data.Files = append(data.Files, publicViewFile(p.Localizer(), names, "/my/dossiers/"+d.Code+"/attachments/", a))
	}
	for _, e := range d.History {
		data.History = append(data.History, publicHistoryRow{At: z.at(e.At), ActionKey: publicEntryKey(e.Action), ToKey: e.To.Key(),
			ActorKey: "procedures.public.actor." + publicActorKind(e.ActorKind), Reason: e.Reason})
	}
	if d.HasResult {
		res, err := h.svc.Result(ctx, sub, d.Code)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		data.Result = &publicResultView{KeyID: res.KeyID, Signature: res.Signature, Issued: z.at(res.Document.IssuedAt), Href: "/my/dossiers/" + d.Code + "/result", Verify: res.VerifyPath()}
	}
	for _, a := range d.Allowed(RoleApplicant) {
		// Paying is the gateway's to report, never a button: a fee the
		// unit asks for is paid as its notice says. Supplementing brings
		// files, in a form of its own.
		if a == ActPay {
			continue
		}
		if a == ActSupplement {
			data.Supplement = &publicSupplementView{Rows: publicSupplementRows, Documents: docs, Error: back.supplementError}
			continue
		}
		data.Actions = append(data.Actions, publicActionForm{Action: string(a), Key: a.Key(), ID: "act-" + string(a)})
	}
	h.pages.Render(w, r, status, "public_dossier", web.View[publicDossierData]{Page: p, Data: data})
}

// publicEntryKey names a history entry's action: a lifecycle action, or the
// steps outside the lifecycle (submission, transfer, apology, rating).
func publicEntryKey(action string) string {
	if a, err := ParseAction(action); err == nil {
		return a.Key()
	}
	return "procedures.public.entry." + strings.ReplaceAll(action, "-", "_")
}

// publicActorKind returns the kind of actor an entry names, as the catalogue
// knows it; anything unexpected is the system.
func publicActorKind(kind string) string {
	switch kind {
	case "staff", "citizen":
		return kind
	}
	return "system"
}

func (h *Handler) getDossierAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := publicAttachmentID(r, "id")
	h.sendAttachment(w, r, id, err)
}

func (h *Handler) getResult(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.Result(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("code"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	b, err := json.Marshal(res.File())
	if err != nil {
		web.Error(w, r, fmt.Errorf("procedures: encode the result of %s: %w", r.PathValue("code"), err))
		return
	}
	serveFile(w, "ket-qua-"+r.PathValue("code")+".json", "application/json", b)
}

func (h *Handler) postDossierAction(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := formValues(r); err != nil {
		web.Error(w, r, err)
		return
	}
	tr := h.shell.Localizer(r)
	action, err := ParseAction(r.PostForm.Get("action"))
	if err != nil || action == ActPay {
		h.showDossier(w, r, http.StatusBadRequest, publicDossierBack{problem: tr.T("procedures.public.action.unknown")})
		return
	}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	code := r.PathValue("code")
	_, err = h.svc.Act(ctx, web.SubjectFrom(ctx), code, ActionRequest{Action: action, Reason: r.PostForm.Get("note"), Version: version})
	var field *errs.FieldError
	switch {
	case err == nil:
		web.RedirectWithFlash(w, r, "/my/dossiers/"+code, "procedures.public.flash.action_done")
	case errors.Is(err, errs.ErrNotFound):
		web.Error(w, r, err)
	case errors.As(err, &field) && field.Field == "reason":
		h.showDossier(w, r, http.StatusUnprocessableEntity, publicDossierBack{noteError: tr.T("procedures.public.action.note_invalid"),
			problem: tr.T("procedures.public.apply.errors", 1)})
	case errors.Is(err, errs.ErrConflict), errors.Is(err, errs.ErrForbidden), errors.Is(err, errs.ErrInvalid):
		h.showDossier(w, r, web.Status(err), publicDossierBack{problem: tr.T("procedures.public.action.refused")})
	default:
		web.Error(w, r, err)
	}
}

func (h *Handler) postRating(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := formValues(r); err != nil {
		web.Error(w, r, err)
		return
	}
	tr := h.shell.Localizer(r)
	code := r.PathValue("code")
	stars, err := strconv.Atoi(r.PostForm.Get("stars"))
	if err != nil {
		stars = 0 // the service refuses it with its message
	}
	err = h.svc.Rate(ctx, web.SubjectFrom(ctx), code, stars)
	switch {
	case err == nil:
		web.RedirectWithFlash(w, r, "/my/dossiers/"+code, "procedures.public.flash.rated")
	case errors.Is(err, errs.ErrNotFound):
		web.Error(w, r, err)
	case errors.Is(err, errs.ErrInvalid):
		h.showDossier(w, r, http.StatusUnprocessableEntity, publicDossierBack{ratingError: tr.T("procedures.public.rating.invalid"),
			problem: tr.T("procedures.public.apply.errors", 1)})
	case errors.Is(err, errs.ErrConflict):
		h.showDossier(w, r, http.StatusConflict, publicDossierBack{problem: tr.T("procedures.public.rating.refused")})
	default:
		web.Error(w, r, err)
	}
}

// getPayDossier sends the applicant to the payment gateway to pay the fee
// the unit requested of a dossier (status 6); the gateway's callback then
// resumes its processing.
func (h *Handler) getPayDossier(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, err := h.svc.Get(ctx, web.SubjectFrom(ctx), r.PathValue("code"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	back := "/my/dossiers/" + d.Code
	if d.Status != StatusPaymentRequested || d.FeeAmount == 0 {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	checkout, err := h.checkout(r, PaymentOrder{ID: d.Code, Amount: d.FeeAmount, Currency: d.FeeCurrency,
		Description: "Lệ phí hồ sơ " + d.Code}, back+"?paid=1")
	if err != nil {
		h.showDossier(w, r, http.StatusServiceUnavailable, publicDossierBack{problem: h.shell.Localizer(r).T("procedures.public.pay.failed")})
		return
	}
	http.Redirect(w, r, checkout, http.StatusSeeOther)
}
