package procedures

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// Limits on a dossier submitted whole as multipart/form-data.
const (
	// MaxSubmissionBytes bounds the whole request: five attachments of
	// the largest size and the form. The server's general body limit must
	// let POST /api/v1/dossiers through for the handler to apply this one.
	MaxSubmissionBytes = 5*MaxAttachmentBytes + 1<<20
	// MaxSubmissionFiles bounds the attachments of one submission: a
	// dossier's limit.
	MaxSubmissionFiles = MaxDossierFiles
	// MaxDraftUploadBytes bounds the request that attaches one file to an
	// application in progress: the file and its document key.
	MaxDraftUploadBytes = MaxAttachmentBytes + 64<<10
)

// The names of the parts of a multipart submission.
const (
	apiDossierPart    = "dossier"     // the dossier's JSON
	apiAttachmentPart = "attachment." // followed by the document key
	apiFilePart       = "file"        // a draft's one file
	apiDocumentField  = "document_key"
)

// apiDraftRequest is the body of POST /api/v1/drafts, and the start of a
// dossier submitted whole.
type apiDraftRequest struct {
	Procedure string         `json:"procedure_code"`
	UnitCode  string         `json:"agency_code"`
	Form      map[string]any `json:"form"`
	Prefilled bool           `json:"prefilled"`
}

// apiSubmissionRequest is the "dossier" part of a dossier submitted whole.
type apiSubmissionRequest struct {
	apiDraftRequest
	// Channel is 2 (online) for a citizen, who may leave it out; a clerk
	// gives 1 (in person) or 3 (postal).
	Channel Channel `json:"channel"`
	// Receipt is, for a clerk's entry, the number of the receipt handed
	// over for the fee taken at the counter.
	Receipt string `json:"receipt,omitempty"`
}

// submission is the dossier req describes, without files.
func (req apiSubmissionRequest) submission() Submission {
	return Submission{Procedure: req.Procedure, UnitCode: req.UnitCode, Channel: req.Channel, Form: req.Form, Prefilled: req.Prefilled, Receipt: req.Receipt}
}

// apiJSONSubmission is the JSON body of POST /api/v1/dossiers: the
// application prepared with the drafts API, its files attached there, or
// a whole dossier without files (a counter entry whose papers are kept
// on paper, say).
type apiJSONSubmission struct {
	apiSubmissionRequest
	Draft string `json:"draft"`
}

// check refuses a request that names no procedure or unit, before the
// service is asked (which would answer an empty code with 404).
func (d apiDraftRequest) check() error {
	if strings.TrimSpace(d.Procedure) == "" {
		return errs.Invalid("procedure_code", "is required: the national code of the procedure, from GET /api/v1/procedures")
	}
	if strings.TrimSpace(d.UnitCode) == "" {
		return errs.Invalid("agency_code", "is required: the agency code of the unit applied to, one the procedure lists")
	}
	return nil
}

// apiSubmit takes a dossier: whole, as multipart/form-data with the
// dossier's JSON and its files; or as JSON naming an application prepared
// with the drafts API.
func (h *Handler) apiSubmit(w http.ResponseWriter, r *http.Request) {
	sub := web.SubjectFrom(r.Context())
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var d *Dossier
	var err error
	switch mt {
	case "multipart/form-data":
		var sm Submission
		if sm, err = h.apiReadSubmission(w, r); err == nil {
			d, err = h.svc.Submit(r.Context(), sub, sm)
		}
	case "application/json":
		var req apiJSONSubmission
		if err = web.DecodeJSON(r, &req); err != nil {
			break
		}
		if req.Draft != "" {
			if req.Procedure != "" || req.UnitCode != "" || req.Form != nil {
				err = errs.Invalid("draft", "names an application, which holds its procedure, unit and form already; send either a draft or a whole dossier")
			} else {
				d, err = h.svc.SubmitDraft(r.Context(), sub, req.Draft)
			}
			break
		}
		if err = req.check(); err == nil {
			d, err = h.svc.Submit(r.Context(), sub, req.submission())
		}
	default:
		err = fmt.Errorf("%w: send the dossier as multipart/form-data (a %q part and one %q part per file), or as application/json naming a draft", errs.ErrInvalid, apiDossierPart, apiAttachmentPart+"<document_key>")
	}
	if err != nil {
		apiError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/dossiers/"+d.Code)
	web.JSON(w, r, http.StatusCreated, apiDossierView(d))
}

// apiDossierView lists a dossier's files and history as [] rather than
// null.
func apiDossierView(d *Dossier) *Dossier {
	if d.Attachments == nil {
		d.Attachments = []Attachment{}
	}
	if d.History == nil {
		d.History = []Entry{}
	}
	return d
}

// apiReadSubmission reads a multipart submission: one "dossier" part with
// the dossier's JSON, and a part named "attachment.<document key>" per
// file, each file checked as CheckUpload does as it streams into blob
// storage (StoreUpload). On an error, the files stored are discarded.
func (h *Handler) apiReadSubmission(w http.ResponseWriter, r *http.Request) (sm Submission, err error) {
	defer func() {
		if err != nil {
			h.svc.DiscardUploads(r.Context(), sm.Attachments)
		}
	}()
	mr, err := apiMultipartReader(w, r, MaxSubmissionBytes)
	if err != nil {
		return sm, err
	}
	seen := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sm, apiBodyError(err)
		}
		name := part.FormName()
		switch {
		case name == apiDossierPart:
			if seen {
				return sm, errs.Invalid(apiDossierPart, "is sent twice; send the dossier's JSON once")
			}
			seen = true
			var req apiSubmissionRequest
			if err := apiReadJSONPart(part, &req); err != nil {
				return sm, err
			}
			if err := req.check(); err != nil {
				return sm, err
			}
			files := sm.Attachments // the parts may come in any order
			sm = req.submission()
			sm.Attachments = files
		case strings.HasPrefix(name, apiAttachmentPart):
			if len(sm.Attachments) == MaxSubmissionFiles {
				return sm, errs.Invalid(name, fmt.Sprintf("is one file too many; a submission carries at most %d", MaxSubmissionFiles))
			}
			up, err := h.apiStoreUpload(r.Context(), part, name, strings.TrimPrefix(name, apiAttachmentPart))
			if err != nil {
				return sm, err
			}
			sm.Attachments = append(sm.Attachments, up)
		default:
			return sm, errs.Invalid(name, fmt.Sprintf("is not a part of a submission; send %q and %q parts", apiDossierPart, apiAttachmentPart+"<document_key>"))
		}
	}
	if !seen {
		return sm, errs.Invalid(apiDossierPart, "is missing: the part with the dossier's JSON (procedure_code, agency_code, form)")
	}
	return sm, nil
}

// apiMultipartReader limits r's body to limit bytes and returns its parts'
// reader.
func apiMultipartReader(w http.ResponseWriter, r *http.Request, limit int64) (*multipart.Reader, error) {
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: the body is %d bytes, over the limit of %d", errs.ErrTooLarge, r.ContentLength, limit)
	}
	if r.MultipartForm != nil {
		// Something before the handler parsed the body: the CSRF check
		// looks for its token in a form when the header lacks it.
		return nil, fmt.Errorf("%w: send the CSRF token in the X-CSRF-Token header, not as a part of the body", errs.ErrInvalid)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("%w: the body is not multipart/form-data with a boundary: %v", errs.ErrInvalid, err)
	}
	return mr, nil
}

// apiBodyError reports a failure to read a request's body: over its limit,
// or malformed or cut short as sent.
func apiBodyError(err error) error {
	if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return fmt.Errorf("%w: the body is over the limit of %d bytes", errs.ErrTooLarge, mbe.Limit)
	}
	return fmt.Errorf("%w: the body is malformed or cut short: %v", errs.ErrInvalid, err)
}

// apiReadJSONPart decodes a part holding one JSON object, as DecodeJSON
// decodes a body.
func apiReadJSONPart(part *multipart.Part, dst any) error {
	body, err := io.ReadAll(io.LimitReader(part, web.MaxJSONBody+1))
	if err != nil {
		return &apiPartError{part.FormName(), apiBodyError(err)}
	}
	return web.DecodeJSONBytes(body, dst, web.MaxJSONBody)
}

// apiStoreUpload checks and stores one file part; a refusal names the
// part.
func (h *Handler) apiStoreUpload(ctx context.Context, part *multipart.Part, name, documentKey string) (Upload, error) {
	up, err := h.storePart(ctx, part, documentKey)
	if err != nil {
		return Upload{}, &apiPartError{name, err}
	}
	return up, nil
}

// storePart checks and stores one file part as the document with
// documentKey (StoreUpload).
func (h *Handler) storePart(ctx context.Context, part *multipart.Part, documentKey string) (Upload, error) {
	body := &recordingReader{r: part}
	up, err := h.svc.StoreUpload(ctx, documentKey, part.FileName(), part.Header.Get("Content-Type"), body)
	if err != nil && body.err != nil && web.Status(err) == http.StatusInternalServerError {
		// The body did not arrive whole (cut short, or its framing
		// broken): the client's failure, not the store's.
		err = apiBodyError(body.err)
	}
	return up, err
}

// recordingReader remembers its reader's error other than io.EOF, so
// that a failure to receive can be told from a failure to store.
type recordingReader struct {
	r   io.Reader
	err error
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}

// apiCreateDraft starts a citizen's application.
func (h *Handler) apiCreateDraft(w http.ResponseWriter, r *http.Request) {
	var req apiDraftRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	if err := req.check(); err != nil {
		web.Error(w, r, err)
		return
	}
	d, err := h.svc.CreateDraft(r.Context(), web.SubjectFrom(r.Context()),
		NewDraft(req))
	if err != nil {
		apiError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/drafts/"+d.ID)
	web.JSON(w, r, http.StatusCreated, apiDraftView(d))
}

// apiDraftView lists a draft's files as [] rather than null.
func apiDraftView(d Draft) Draft {
	if d.Attachments == nil {
		d.Attachments = []Attachment{}
	}
	return d
}

// apiDraft returns the signed-in citizen's application with its files.
func (h *Handler) apiDraft(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Draft(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, apiDraftView(d))
}

// apiPayDraft starts paying a draft's fee at the payment gateway and
// answers the address of the gateway's checkout page, where the citizen
// pays; the gateway then reports the payment to this node and the draft
// may be submitted. A draft with nothing to pay is a conflict.
func (h *Handler) apiPayDraft(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Draft(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"))
	if err == nil && !d.NeedsPayment() {
		err = fmt.Errorf("%w: this application has no fee left to pay; submit it", errs.ErrConflict)
	}
	var url string
	if err == nil {
		url, err = h.checkout(r, draftOrder(d), "/applications/"+d.ID+"?paid=1")
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusCreated, map[string]string{"payment_url": url})
}

// apiAttachToDraft attaches one file, the "file" part, as the document
// the "document_key" part names.
func (h *Handler) apiAttachToDraft(w http.ResponseWriter, r *http.Request) {
	// Someone else's or no draft is refused before a byte is stored.
	_, err := h.svc.Draft(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"))
	var up Upload
	if err == nil {
		up, err = h.apiReadDraftUpload(w, r)
	}
	if err == nil {
		var a Attachment
		if a, err = h.svc.AttachToDraft(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"), up); err == nil {
			web.JSON(w, r, http.StatusCreated, a)
			return
		}
	}
	apiError(w, r, err)
}

// apiReadDraftUpload reads the one file, storing it (StoreUpload), and
// its document key, in either order. On an error, the file is discarded.
func (h *Handler) apiReadDraftUpload(w http.ResponseWriter, r *http.Request) (_ Upload, err error) {
	var up Upload
	defer func() {
		if err != nil {
			h.svc.DiscardUploads(r.Context(), []Upload{up})
		}
	}()
	mr, err := apiMultipartReader(w, r, MaxDraftUploadBytes)
	if err != nil {
		return Upload{}, err
	}
	key, haveFile := "", false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Upload{}, apiBodyError(err)
		}
		switch name := part.FormName(); {
		case name == apiDocumentField && key == "":
			b, err := io.ReadAll(io.LimitReader(part, 65))
			if err != nil {
				return Upload{}, apiBodyError(err)
			}
			if key = strings.TrimSpace(string(b)); key == "" || len(b) > 64 {
				return Upload{}, errs.Invalid(apiDocumentField, "must be the key of one of the procedure's documents, at most 64 characters")
			}
		case name == apiFilePart && !haveFile:
			if up, err = h.apiStoreUpload(r.Context(), part, apiFilePart, ""); err != nil {
				return Upload{}, err
			}
			haveFile = true
		default:
			return Upload{}, errs.Invalid(name, fmt.Sprintf("is not expected; send one %q part and one %q part", apiFilePart, apiDocumentField))
		}
	}
	switch {
	case !haveFile:
		return Upload{}, errs.Invalid(apiFilePart, "is missing: the part with the file")
	case key == "":
		return Upload{}, errs.Invalid(apiDocumentField, "is missing: which of the procedure's documents the file is")
	}
	up.DocumentKey = key
	return up, nil
}

// apiRemoveFromDraft removes a file from the citizen's application.
func (h *Handler) apiRemoveFromDraft(w http.ResponseWriter, r *http.Request) {
	id, err := web.ParseID("attachment", r.PathValue("attachment"))
	if err == nil {
		err = h.svc.RemoveFromDraft(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"), id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiDossier returns a dossier whole to its applicant and its unit's
// staff.
func (h *Handler) apiDossier(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Get(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("code"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, apiDossierView(d))
}

// TrackingPINHeader carries a dossier's tracking PIN to the public
// status route: a header, so that the PIN stays out of the access logs
// that keep request addresses.
const TrackingPINHeader = "X-Tracking-PIN"

// apiTrack tells anyone holding a dossier's code and its tracking PIN
// where it stands, at the rate the client's address is allowed.
func (h *Handler) apiTrack(w http.ResponseWriter, r *http.Request) {
	err := h.allowTrack(w, r)
	var t Tracking
	if err == nil {
		t, err = h.svc.Track(r.Context(), r.PathValue("code"), r.Header.Get(TrackingPINHeader))
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, t)
}

// apiDossiers lists the caller's unit's work queue (staff) or the
// caller's own dossiers (citizens).
func (h *Handler) apiDossiers(w http.ResponseWriter, r *http.Request) {
	sub := web.SubjectFrom(r.Context())
	q := r.URL.Query()
	statuses, err := apiParseStatuses(q["status"])
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if sub.Kind == authz.Citizen {
		// A citizen's dossiers come in one list, newest first.
		if q.Get("mine") != "" || q.Get("after") != "" || q.Get("limit") != "" {
			web.Error(w, r, errs.Invalid("mine", "mine, after and limit are for staff's work queues; a citizen's list holds all their dossiers"))
			return
		}
		items, err := h.svc.ForCitizen(r.Context(), sub)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		if len(statuses) > 0 {
			kept := items[:0]
			for _, it := range items {
				for _, st := range statuses {
					if it.Status == st {
						kept = append(kept, it)
						break
					}
				}
			}
			items = kept
		}
		web.JSON(w, r, http.StatusOK, web.NewList(items, ""))
		return
	}
	queue := Queue{Statuses: statuses, After: q.Get("after")}
	if queue.Mine, err = web.ParseBool("mine", q.Get("mine")); err == nil {
		queue.Limit, err = web.OptionalInt("limit", q.Get("limit"))
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	items, next, err := h.svc.Queue(r.Context(), sub, queue)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(items, next))
}

// apiParseStatuses parses status filters: numbers 1 to 10 or their API
// names, repeated or separated by commas.
func apiParseStatuses(values []string) ([]Status, error) {
	var out []Status
	for _, v := range values {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue // status= filters nothing, as the other empty parameters
			}
			st, err := apiParseStatus(s)
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
	}
	return out, nil
}

func apiParseStatus(s string) (Status, error) {
	if n, err := strconv.Atoi(s); err == nil && Status(n).Valid() {
		return Status(n), nil
	}
	for st := StatusRegistered; st <= StatusReturned; st++ {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, errs.Invalid("status", fmt.Sprintf("%q is not a dossier status; use 1 to 10 or a name such as processing", s))
}

// apiAct takes an action on a dossier and returns the dossier after it.
func (h *Handler) apiAct(w http.ResponseWriter, r *http.Request) {
	var req ActionRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	if req.Action == "" {
		web.Error(w, r, errs.Invalid("action", "is required, such as receive, request-documents or approve"))
		return
	}
	d, err := h.svc.Act(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("code"), req)
	if err == nil {
		// Act returns the row it changed; the answer is the whole dossier,
		// as GET returns it, without recording a reading besides the act.
		err = h.svc.complete(r.Context(), d)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, apiDossierView(d))
}

// apiResult returns a dossier's signed result to those who may read it.
func (h *Handler) apiResult(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.Result(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("code"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, res.File())
}

// apiVerifyResult tells anyone whether a result document carries this
// node's signature. A signature that does not verify is 422: the request
// was understood, and the document is not genuine.
func (h *Handler) apiVerifyResult(w http.ResponseWriter, r *http.Request) {
	var req ResultFile
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	err := errs.Invalid("algorithm", "must be "+ResultAlgorithm+", the only algorithm results are signed with")
	if req.Algorithm == "" || req.Algorithm == ResultAlgorithm {
		err = h.svc.VerifyResult([]byte(req.Document), req.KeyID, req.Signature)
	}
	if err != nil {
		p := web.ProblemDetails{Status: http.StatusUnprocessableEntity, Detail: err.Error(), Code: "signature_invalid"}
		if fe, ok := errors.AsType[*errs.FieldError](err); ok {
			p.Errors = map[string]string{fe.Field: fe.Message}
		}
		web.Problem(w, r, p)
		return
	}
	web.JSON(w, r, http.StatusOK, map[string]bool{"valid": true})
}

// apiAttachment sends a dossier's file as it was stored: its sniffed
// media type, never to be sniffed again or shown inline.
func (h *Handler) apiAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := web.ParseID("id", r.PathValue("id"))
	h.sendAttachment(w, r, id, err)
}

// sendAttachment sends file id of the dossier {code} to whoever may read
// it: the API's, the console's and the public site's download, which
// differ only in how they answer a malformed id (idErr).
func (h *Handler) sendAttachment(w http.ResponseWriter, r *http.Request, id int64, idErr error) {
	if idErr != nil {
		web.Error(w, r, idErr)
		return
	}
	a, content, err := h.svc.Attachment(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("code"), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	serveFile(w, a.Filename, a.MediaType, content)
}
