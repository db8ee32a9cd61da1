package procedures

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"chancery/internal/errs"
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

func (h *Handler) pageMyDossiers(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	items, err := h.svc.ForCitizen(ctx, web.SubjectFrom(ctx))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.PublicSite, "procedures.public.mine.title")
	rows := make([]publicMyDossierRow, 0, len(items))
	zones := map[string]zoned{}
	for _, it := range items {
		z, ok := zones[publicAgencyOf(it.Code)]
		if !ok {
			u, err := h.svc.opts.Directory.UnitByCode(ctx, publicAgencyOf(it.Code))
			if err == nil {
				z, err = h.zoneOf(ctx, u.ID)
			}
			if err != nil {
				web.Error(w, r, err)
				return
			}
			zones[publicAgencyOf(it.Code)] = z
		}
		rows = append(rows, publicMyDossierRow{Code: it.Code, Name: h.procedureName(p.Lang, it.Procedure), StatusKey: it.Status.Key(),
			Submitted: z.at(it.SubmittedAt), Appointment: z.day(it.AppointmentAt)})
	}
	h.pages.Render(w, r, http.StatusOK, "public_my_dossiers", web.View[[]publicMyDossierRow]{Page: p, Data: rows})
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
