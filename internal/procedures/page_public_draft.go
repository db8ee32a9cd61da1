package procedures

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

// publicSummaryRow is a line of a submitted form as a page restates it: a
// group's heading, or a field and its value.
type publicSummaryRow struct {
	Label string
	Value string
	Group bool
}

// publicSummarize restates form along the schema's fields, in order, leaving
// out what was not filled in.
func publicSummarize(tr i18n.Localizer, fs []FormField, form map[string]any) []publicSummaryRow {
	var out []publicSummaryRow
	for _, f := range fs {
		v, ok := form[f.Name[strings.LastIndexByte(f.Name, '.')+1:]]
		if !ok {
			continue
		}
		label := pick(tr.Lang, f.TitleVI, f.TitleEN)
		if f.Type == TypeObject {
			if sub, ok := v.(map[string]any); ok {
				out = append(out, publicSummaryRow{Label: label, Group: true})
				out = append(out, publicSummarize(tr, f.Fields, sub)...)
			}
			continue
		}
		out = append(out, publicSummaryRow{Label: label, Value: publicShownValue(tr, f, v)})
	}
	return out
}

// publicShownValue writes a form value for reading: a choice by its label, yes
// or no for a box, a number as written.
func publicShownValue(tr i18n.Localizer, f FormField, v any) string {
	if b, ok := v.(bool); ok {
		if b {
			return tr.T("procedures.public.yes")
		}
		return tr.T("procedures.public.no")
	}
	for _, o := range f.Options {
		if o.Value == formString(v) {
			return pick(tr.Lang, o.TitleVI, o.TitleEN)
		}
	}
	return formString(v)
}

// publicFileView is an uploaded file.
type publicFileView struct {
	ID       int64
	Name     string
	Document string
	Size     string
	Href     string
}

func publicViewFile(tr i18n.Localizer, docs map[string]string, href string, a Attachment) publicFileView {
	return publicFileView{ID: a.ID, Name: a.Filename, Document: docs[a.DocumentKey], Size: publicFormatSize(tr, a.Size), Href: href + strconv.FormatInt(a.ID, 10)}
}

// publicFormatSize writes a file size in kilobytes or megabytes.
func publicFormatSize(tr i18n.Localizer, n int64) string {
	if n < 1<<20 {
		return tr.T("procedures.public.size_kb", (n+1023)>>10)
	}
	return tr.T("procedures.public.size_mb", tr.Lang.FormatNumber(float64(n)/(1<<20), 1))
}

// publicDraftDocument is a paper of the application with its upload form and
// the files already uploaded for it.
type publicDraftDocument struct {
	publicDocumentView
	InputID string
	Files   []publicFileView
	Error   string
}

// publicDraftData is the view of an application being prepared.
type publicDraftData struct {
	ID          string
	Procedure   string
	Name        string
	Unit        string
	Expires     when
	Summary     []publicSummaryRow
	Documents   []publicDraftDocument
	Missing     []string
	Fee         string
	NeedsPay    bool
	PaidAt      when
	CanPay      bool
	PayPending  bool
	Problem     string
	Accept      string
	MaxUploadMB int
	// Steps shows where the application stands: documents missing, the
	// fee unpaid, or ready to submit.
	Steps publicStepper
}

// publicDraftBack is what the draft page says after a refused request: beside
// a document's file input, or above everything.
type publicDraftBack struct {
	document string
	docError string
	problem  string
}

// publicAcceptedFiles is the file input's accept list: the three types, by
// extension and media type.
var publicAcceptedFiles = strings.Join([]string{".pdf", ".jpg", ".jpeg", ".png", MediaPDF, MediaJPEG, MediaPNG}, ",")

func (h *Handler) pageDraft(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Draft(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	h.showDraft(w, r, http.StatusOK, d, publicDraftBack{})
}

// showDraft draws the page of draft d with what was sent back.
func (h *Handler) showDraft(w http.ResponseWriter, r *http.Request, status int, d Draft, back publicDraftBack) {
	ctx := r.Context()
	pr, err := h.svc.Catalogue().Procedure(d.Procedure)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.PublicSite, "procedures.public.draft.title")
	unit, z, err := h.unitPlace(ctx, p.Lang, d.UnitID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data := publicDraftData{ID: d.ID, Procedure: pr.Code, Name: pick(p.Lang, pr.NameVI, pr.NameEN), Unit: unit, Expires: z.at(d.ExpiresAt),
		Summary: publicSummarize(p.Localizer(), pr.Form.Fields(), d.Form), Fee: formatAmount(p.Localizer(), d.FeeAmount, d.FeeCurrency),
		NeedsPay: d.NeedsPayment(), PaidAt: z.at(d.PaidAt), CanPay: d.NeedsPayment() && h.opts.Checkout != nil,
		PayPending: d.NeedsPayment() && r.URL.Query().Get("paid") == "1", Problem: back.problem,
		Accept: publicAcceptedFiles, MaxUploadMB: MaxAttachmentBytes >> 20}
	names := map[string]string{}
	for _, doc := range publicViewDocuments(p.Lang, pr.Documents) {
		names[doc.Key] = doc.Name
		dd := publicDraftDocument{publicDocumentView: doc, InputID: "file-" + doc.Key}
		if back.document == doc.Key {
			dd.Error = back.docError
		}
		data.Documents = append(data.Documents, dd)
	}
	for i := range data.Documents {
		dd := &data.Documents[i]
		for _, a := range d.Attachments {
			if a.DocumentKey == dd.Key {
				dd.Files = append(dd.Files, publicViewFile(p.Localizer(), names, "/applications/"+d.ID+"/attachments/", a))
			}
		}
		if dd.Required && len(dd.Files) == 0 {
			data.Missing = append(data.Missing, dd.Name)
		}
	}
	step := applyStepSubmit
	switch {
	case len(data.Missing) > 0:
		step = applyStepDocuments
	case data.NeedsPay:
		step = applyStepFee
	}
	data.Steps = applySteps(p.Localizer(), step)
	h.pages.Render(w, r, status, "public_draft", web.View[publicDraftData]{Page: p, Data: data})
}

func (h *Handler) postDraftAttachment(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	d, err := h.svc.Draft(ctx, sub, r.PathValue("id"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	tr := h.shell.Localizer(r)
	up, refused := h.publicReadUpload(r, tr)
	if refused != nil && refused.err != nil {
		web.Error(w, r, refused.err)
		return
	}
	if refused != nil {
		h.showDraft(w, r, refused.status, d, publicDraftBack{document: refused.document, docError: refused.docError, problem: refused.problem})
		return
	}
	_, err = h.svc.AttachToDraft(ctx, sub, d.ID, up)
	switch {
	case err == nil:
		web.RedirectWithFlash(w, r, "/applications/"+d.ID, "procedures.public.flash.uploaded")
	case errors.Is(err, errs.ErrInvalid):
		h.showDraft(w, r, http.StatusBadRequest, d, publicDraftBack{problem: tr.T("procedures.public.upload.no_document")})
	default:
		web.Error(w, r, err)
	}
}

// publicUploadRefusal is why a page's upload was refused: the answer's
// status, the message beside the file input and the one atop the page;
// or the server's failure to store it, err, which web.Error answers.
type publicUploadRefusal struct {
	status                      int
	document, docError, problem string
	err                         error
}

// publicReadUpload reads a page's upload, the "file" input and the
// "document" it is for, the file checked and stored as it streams.
func (h *Handler) publicReadUpload(r *http.Request, tr i18n.Localizer) (Upload, *publicUploadRefusal) {
	f, refused := h.publicReadForm(r, tr, func(name string) bool { return name == "file" })
	if refused != nil {
		return Upload{}, refused
	}
	ups, key := f.files["file"], f.values.Get("document")
	if len(ups) != 1 {
		h.svc.DiscardUploads(r.Context(), ups)
		return Upload{}, &publicUploadRefusal{status: http.StatusBadRequest, document: key,
			docError: tr.T("procedures.public.upload.choose"), problem: tr.T("procedures.public.upload.refused")}
	}
	up := ups[0]
	up.DocumentKey = key
	return up, nil
}

// publicReadForm reads a public-site page's multipart form (readPageForm),
// fileInput naming the inputs that take files, and words a refusal as the
// page shows it: a file's beside the document its input is for
// ("file_2"'s is "document_2"'s).
func (h *Handler) publicReadForm(r *http.Request, tr i18n.Localizer, fileInput func(string) bool) (pageForm, *publicUploadRefusal) {
	f, err := h.readPageForm(r, fileInput)
	if err == nil {
		return f, nil
	}
	var document string
	if fe, ok := errors.AsType[*pageFileError](err); ok {
		document = f.values.Get(strings.Replace(fe.input, "file", "document", 1))
	}
	ue, refusedFile := errors.AsType[*UploadError](err)
	switch {
	case refusedFile:
		return f, &publicUploadRefusal{status: uploadStatus(err), document: document, docError: ue.Message(tr.Lang),
			problem: tr.T("procedures.public.upload.refused")}
	case errors.Is(err, errs.ErrTooLarge):
		return f, &publicUploadRefusal{status: http.StatusRequestEntityTooLarge, document: document,
			problem: tr.T("procedures.public.upload.too_large", MaxAttachmentBytes>>20)}
	case errors.Is(err, errs.ErrInvalid), errors.Is(err, http.ErrNotMultipart):
		return f, &publicUploadRefusal{status: http.StatusBadRequest, problem: tr.T("procedures.public.upload.unreadable")}
	}
	return f, &publicUploadRefusal{err: err}
}

// publicAttachmentID reads a numeric attachment id from the path; anything else
// names no attachment.
func publicAttachmentID(r *http.Request, name string) (int64, error) {
	// The one id rule (web.ParseID); a page answers a malformed id as
	// the page that is not there.
	id, err := web.ParseID(name, r.PathValue(name))
	if err != nil {
		return 0, fmt.Errorf("%w: no such attachment", errs.ErrNotFound)
	}
	return id, nil
}

func (h *Handler) getDraftAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := publicAttachmentID(r, "att")
	if err != nil {
		web.Error(w, r, err)
		return
	}
	a, content, err := h.svc.DraftAttachment(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	serveFile(w, a.Filename, a.MediaType, content)
}

// serveFile sends a stored file as a download of its recorded type, never
// to be sniffed into something a browser would run.
func serveFile(w http.ResponseWriter, name, mediaType string, content []byte) {
	web.Attachment(w, name, mediaType, content)
}

func (h *Handler) postRemoveDraftAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := publicAttachmentID(r, "att")
	if err == nil {
		err = h.svc.RemoveFromDraft(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"), id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.RedirectWithFlash(w, r, "/applications/"+r.PathValue("id"), "procedures.public.flash.removed")
}

// getPay starts the payment of the draft's fee at the gateway and sends
// the browser there. It is a link, not a form: the page's CSP allows
// forms to post only to this site, and browsers apply that to where a
// form's answer redirects, so a form could not lead to the gateway. The
// checkout is created when the citizen asks to pay, not each time the
// page is drawn, so the gateway holds one order per intent to pay.
func (h *Handler) getPay(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, err := h.svc.Draft(ctx, web.SubjectFrom(ctx), r.PathValue("id"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if !d.NeedsPayment() {
		http.Redirect(w, r, "/applications/"+d.ID, http.StatusSeeOther)
		return
	}
	tr := h.shell.Localizer(r)
	if h.opts.Checkout == nil {
		h.showDraft(w, r, http.StatusServiceUnavailable, d, publicDraftBack{problem: tr.T("procedures.public.pay.unavailable")})
		return
	}
	checkout, err := h.checkout(r, draftOrder(d), "/applications/"+d.ID+"?paid=1")
	if err != nil {
		h.showDraft(w, r, http.StatusServiceUnavailable, d, publicDraftBack{problem: tr.T("procedures.public.pay.failed")})
		return
	}
	http.Redirect(w, r, checkout, http.StatusSeeOther)
}

// draftOrder is the payment order of an application's fee.
func draftOrder(d Draft) PaymentOrder {
	return PaymentOrder{ID: d.ID, Amount: d.FeeAmount, Currency: d.FeeCurrency, Description: "Lệ phí thủ tục " + d.Procedure}
}

// errNoGateway answers a payment asked of a node without a gateway.
var errNoGateway = fmt.Errorf("%w: online payment is not available on this node; pay at the unit's counter", errs.ErrUnavailable)

// checkout starts paying order o at the gateway and returns the gateway's
// checkout page, to which the browser goes; the gateway sends it back to
// returnPath on this site. Its errors are logged here and wrap
// errs.ErrUnavailable.
func (h *Handler) checkout(r *http.Request, o PaymentOrder, returnPath string) (string, error) {
	if h.opts.Checkout == nil {
		return "", errNoGateway
	}
	checkout, err := h.opts.Checkout(r.Context(), o, publicAbsoluteURL(r, returnPath))
	if err == nil {
		var u *url.URL
		if u, err = url.Parse(checkout); err == nil && (u.Scheme != "https" && u.Scheme != "http" || u.Host == "") {
			err = fmt.Errorf("procedures: the payment gateway gave a checkout address that is not an absolute http(s) URL: %q", checkout)
		}
	}
	if err != nil {
		web.Logger(r.Context()).Warn("procedures: start a checkout", "order", o.ID, "err", err)
		return "", fmt.Errorf("%w: the payment gateway could not start the payment; try again later", errs.ErrUnavailable)
	}
	return checkout, nil
}

// publicAbsoluteURL returns the absolute address of path on the host r came
// to, for the gateway to send the browser back to.
func publicAbsoluteURL(r *http.Request, path string) string {
	scheme := "http"
	if web.IsHTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

func (h *Handler) postSubmitDraft(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	ds, err := h.svc.SubmitDraft(ctx, sub, r.PathValue("id"))
	if err == nil {
		web.RedirectWithFlash(w, r, "/dossiers/"+ds.Code+"/receipt", "procedures.public.flash.submitted")
		return
	}
	if !errors.Is(err, errs.ErrConflict) {
		web.Error(w, r, err)
		return
	}
	d, derr := h.svc.Draft(ctx, sub, r.PathValue("id"))
	if derr != nil {
		web.Error(w, r, derr)
		return
	}
	h.showDraft(w, r, http.StatusConflict, d, publicDraftBack{problem: h.shell.Localizer(r).T("procedures.public.submit.unpaid")})
}
