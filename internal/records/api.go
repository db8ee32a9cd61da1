package records

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// apiContentBody is a document's file inside a JSON request: its bytes in
// base64 (encoding/json's []byte), with the text extracted from it for
// the index.
type apiContentBody struct {
	Filename  string `json:"filename"`
	MediaType string `json:"media_type"`
	Data      []byte `json:"data"`
	Text      string `json:"text"`
}

// apiCreateRequest registers an incoming document or starts a draft.
type apiCreateRequest struct {
	Direction            Direction       `json:"direction"`
	Type                 string          `json:"type"`
	Number               string          `json:"number"`
	Sender               string          `json:"sender"`
	Subject              string          `json:"subject"`
	Date                 time.Time       `json:"date"`
	Urgency              Urgency         `json:"urgency"`
	Classification       authz.Level     `json:"classification"`
	ClassificationReason string          `json:"classification_reason"`
	ClassificationSource string          `json:"classification_source"`
	DueAt                time.Time       `json:"due_at"`
	SharedUnits          []int64         `json:"shared_units"`
	Content              *apiContentBody `json:"content"`
	// Channel is how an incoming document arrived: paper, email,
	// exchange or other.
	Channel Channel `json:"channel"`
}

// apiCreate registers an incoming document or starts a draft: JSON
// (the file, if any, base64 in content.data), or multipart/form-data with
// a "metadata" part holding the same JSON without content and a "file"
// part (see upload.go). Either way the file is checked by its bytes.
func (h *Handler) apiCreate(w http.ResponseWriter, r *http.Request) {
	req, content, err := h.readCreate(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	sub := web.SubjectFrom(r.Context())
	cl := Classify{Level: req.Classification, Reason: req.ClassificationReason, Source: req.ClassificationSource}
	var d *Document
	switch req.Direction {
	case Incoming:
		d, err = h.svc.RegisterIncoming(r.Context(), sub, NewIncoming{Type: req.Type, Number: req.Number, Sender: req.Sender,
			Subject: req.Subject, Date: req.Date, Urgency: req.Urgency, Classify: cl, DueAt: req.DueAt, Shared: req.SharedUnits,
			Content: content, Channel: req.Channel})
	case Outgoing:
		if req.Number != "" || req.Sender != "" || req.Channel != "" {
			err = errs.Invalid("number", "an outgoing document takes its number at issuance and has no sender or channel")
			break
		}
		d, err = h.svc.StartDraft(r.Context(), sub, NewDraft{Type: req.Type, Subject: req.Subject, Urgency: req.Urgency, Classify: cl,
			DueAt: req.DueAt, Shared: req.SharedUnits, Content: content})
	default:
		err = errs.Invalid("direction", "use incoming (register a document received) or outgoing (start a draft)")
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/documents/"+strconv.FormatInt(d.ID, 10))
	web.JSON(w, r, http.StatusCreated, d)
}

// readCreate reads a create request's body, JSON or multipart, and
// returns its metadata and its file, checked (CheckFile).
func (h *Handler) readCreate(r *http.Request) (apiCreateRequest, *Content, error) {
	var req apiCreateRequest
	limit := h.maxUpload()
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(r.Body, RequestLimit(limit)+1))
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok || int64(len(body)) > RequestLimit(limit) {
			return req, nil, tooLarge(limit)
		}
		if err != nil {
			return req, nil, fmt.Errorf("%w: read body: %v", errs.ErrInvalid, err)
		}
		if err := web.DecodeJSONBytes(body, &req, RequestLimit(limit)); err != nil {
			return req, nil, err
		}
		if req.Content == nil {
			return req, nil, nil
		}
		c, err := CheckFile(req.Content.Filename, req.Content.MediaType, req.Content.Data, limit)
		if err != nil {
			return req, nil, err
		}
		c.Text = req.Content.Text
		return req, c, nil
	case "multipart/form-data":
		mr, err := web.MultipartReader(r)
		if err != nil {
			return req, nil, fmt.Errorf("%w: the multipart body could not be read: %v", errs.ErrInvalid, err)
		}
		up, err := readMultipartUpload(mr, "file", limit)
		if err == nil {
			err = up.fileErr
		}
		if err != nil {
			return req, nil, err
		}
		meta := up.fields["metadata"]
		if len(meta) != 1 || len(up.fields) != 1 {
			return req, nil, errs.Invalid("metadata", `send one "metadata" part (the document's JSON, without content) and one "file" part`)
		}
		if err := web.DecodeJSONBytes([]byte(meta[0]), &req, uploadFieldBytes); err != nil {
			return req, nil, err
		}
		if req.Content != nil {
			return req, nil, errs.Invalid("content", `the file goes in the "file" part; leave content out of the metadata`)
		}
		return req, up.file, nil
	}
	return req, nil, fmt.Errorf("%w: send the document as application/json (its file, if any, base64 in content.data) or as multipart/form-data (a metadata part and a file part)", errs.ErrInvalid)
}

// parseDocumentID parses a path's document id: digits only, positive.
func parseDocumentID(s string) (int64, error) { return parsePositive("id", s) }

// parsePositive parses a positive whole number of a path or query: digits
// only (ParseUint refuses signs).
func parsePositive(field, s string) (int64, error) {
	id, err := strconv.ParseUint(s, 10, 63)
	if err != nil || id == 0 {
		return 0, errs.Invalid(field, "must be a positive whole number")
	}
	return int64(id), nil
}

func (h *Handler) apiDocument(w http.ResponseWriter, r *http.Request) {
	id, err := parseDocumentID(r.PathValue("id"))
	var v *View
	if err == nil {
		v, err = h.svc.Get(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, v)
}

// apiContent sends a document's file as stored, as an attachment never to
// be sniffed or shown inline.
func (h *Handler) apiContent(w http.ResponseWriter, r *http.Request) {
	id, err := parseDocumentID(r.PathValue("id"))
	h.sendContent(w, r, id, err)
}

// sendContent sends document id's file, read (and recorded) as the
// caller, unless parsing its id failed with err.
func (h *Handler) sendContent(w http.ResponseWriter, r *http.Request, id int64, err error) {
	var info ContentInfo
	var data []byte
	if err == nil {
		info, data, err = h.svc.ContentOf(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	h.attachment(w, r, h.opts.Download, info.Filename, info.MediaType, data)
}

// sendAttachment sends one of a document's other files (API and page
// alike), read (and recorded) as the caller; a malformed id or number
// answers as a missing document.
func (h *Handler) sendAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := pageDocumentID(r)
	var info ContentInfo
	var data []byte
	if err == nil {
		var seq int64
		if seq, err = parsePositive("seq", r.PathValue("seq")); err == nil {
			info, data, err = h.svc.AttachmentContent(r.Context(), web.SubjectFrom(r.Context()), id, int(min(seq, 1<<30)))
		}
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	h.attachment(w, r, h.opts.Download, info.Filename, info.MediaType, data)
}

// apiSearch searches the documents the caller may know of.
func (h *Handler) apiSearch(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := Query{Text: v.Get("q"), Direction: Direction(v.Get("direction")), Type: v.Get("type"), Status: Status(v.Get("status"))}
	var err error
	number := func(field string, dst *int64) {
		if s := v.Get(field); s != "" && err == nil {
			*dst, err = parsePositive(field, s)
		}
	}
	var year, limit int64
	number("year", &year)
	number("limit", &limit)
	number("after", &q.After)
	switch {
	case err != nil:
	case year > 9999:
		err = errs.Invalid("year", "must be a year such as 2026")
	case limit > MaxLimit:
		err = errs.Invalid("limit", fmt.Sprintf("must be at most %d", MaxLimit))
	}
	switch o := v.Get("overdue"); {
	case err != nil:
	case o == "true":
		q.Overdue = true
	case o != "" && o != "false":
		err = errs.Invalid("overdue", "must be true or false")
	}
	if err == nil {
		// The filters the console's search has too (page_search.go).
		var more Query
		more, err = parseSearch(url.Values{"urgency": v["urgency"], "level": v["level"], "unit": v["unit"]})
		q.Urgency, q.Level, q.Unit = more.Urgency, more.Level, more.Unit
	}
	var p *Page
	if err == nil {
		q.Year, q.Limit = int(year), int(limit)
		p, err = h.svc.Search(r.Context(), web.SubjectFrom(r.Context()), q)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	next := ""
	if p.Next != 0 {
		next = strconv.FormatInt(p.Next, 10)
	}
	web.JSON(w, r, http.StatusOK, apiSearchPage{Items: p.Items, Total: p.Total, More: p.More, Next: next})
}

// apiSearchPage is a page of documents, with the cursor of the next page
// (empty after the last) and the count of the matches the caller may see,
// up to SearchCap (total_is_lower_bound beyond it).
type apiSearchPage struct {
	Items []*Document `json:"items"`
	Total int         `json:"total"`
	More  bool        `json:"total_is_lower_bound"`
	Next  string      `json:"next"`
}

// apiActionRequest is an action on a document; which fields it needs
// depends on the action.
type apiActionRequest struct {
	Action string `json:"action"`
	// Note is a comment, a recall's reason, or an instruction's text.
	Note string `json:"note"`
	// issue
	OrgSymbol  string `json:"org_symbol"`
	UnitSymbol string `json:"unit_symbol"`
	// assign
	Lead     *AssignTo  `json:"lead"`
	Support  []AssignTo `json:"support"`
	Deadline time.Time  `json:"deadline"`
	// grant
	StaffID   int64     `json:"staff_id"`
	ExpiresAt time.Time `json:"expires_at"`
	// grant, extend, change_level, declassify, destroy: why (for destroy,
	// the decision).
	Reason string      `json:"reason"`
	Until  time.Time   `json:"until"`
	Level  authz.Level `json:"level"`
	// file
	CaseFileID int64 `json:"case_file_id"`
	// lift_hold: the hold lifted (with reason); hold takes a reason.
	HoldID int64 `json:"hold_id"`
	// permit_copy, permit_print (with staff_id, reason, expires_at)
	Copies int `json:"copies"`
	// send_review: the approvers; review: approve or return (with
	// reason); issue: the distribution list (drafting.go), where an
	// identifier code alone, or a recipient marked exchange, goes as an
	// edXML package through the exchange.
	Reviewers  []int64     `json:"reviewers"`
	Decision   string      `json:"decision"`
	Recipients []Recipient `json:"recipients"`
}

// apiActionResult is what an action answers: the document after it, and
// for a grant the grant; done is false when a top-secret declassification
// or destruction waits for its second person.
type apiActionResult struct {
	Action   string    `json:"action"`
	Done     bool      `json:"done"`
	Document *Document `json:"document,omitempty"`
	Grant    *Grant    `json:"grant,omitempty"`
	// permit_copy, permit_print; copy, print (api_archive.go)
	Permit *CopyPermit `json:"permit,omitempty"`
	Copy   *Copy       `json:"copy,omitempty"`
	// hold
	Hold *Hold `json:"hold,omitempty"`
}

func (h *Handler) apiAct(w http.ResponseWriter, r *http.Request) {
	id, err := parseDocumentID(r.PathValue("id"))
	var req apiActionRequest
	if err == nil {
		err = web.DecodeJSON(r, &req)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	res := apiActionResult{Action: req.Action, Done: true}
	switch req.Action {
	case "approve":
		res.Document, err = h.svc.Approve(ctx, sub, id, req.Note)
	case "sign":
		res.Document, err = h.svc.Sign(ctx, sub, id, req.Note)
	case "issue":
		res.Document, err = h.svc.Distribute(ctx, sub, id, IssueAs{OrgSymbol: req.OrgSymbol, UnitSymbol: req.UnitSymbol}, req.Recipients)
	case "send_review", "review", "replace":
		res.Document, err = h.apiDraftingAct(r, id, req)
	case "recall":
		res.Document, err = h.svc.Recall(ctx, sub, id, req.Note)
	case "comment":
		res.Document, err = h.svc.Comment(ctx, sub, id, req.Note)
	case "complete":
		res.Document, err = h.svc.Complete(ctx, sub, id, req.Note)
	case "assign":
		if req.Lead == nil {
			err = errs.Invalid("lead", "an instruction names its lead unit")
			break
		}
		res.Document, err = h.svc.Assign(ctx, sub, id, Instruction{Text: req.Note, Lead: *req.Lead, Support: req.Support, Deadline: req.Deadline})
	case "grant":
		res.Grant, err = h.svc.Grant(ctx, sub, id, NewGrant{StaffID: req.StaffID, Reason: req.Reason, ExpiresAt: req.ExpiresAt})
	case "extend":
		err = h.svc.Extend(ctx, sub, id, req.Until, req.Reason)
	case "change_level":
		err = h.svc.ChangeLevel(ctx, sub, id, req.Level, req.Reason)
	case "declassify":
		res.Done, err = h.svc.Declassify(ctx, sub, id, req.Reason)
	case "destroy":
		res.Done, err = h.svc.Destroy(ctx, sub, id, req.Reason)
	case "file":
		err = h.svc.File(ctx, sub, req.CaseFileID, id)
	case "hold":
		res.Hold, err = h.svc.PlaceDocumentHold(ctx, sub, id, req.Reason)
	case "lift_hold":
		err = h.svc.LiftDocumentHold(ctx, sub, id, req.HoldID, req.Reason)
	default:
		var ok bool
		if ok, err = h.archiveAct(r, id, req, &res); !ok {
			err = errs.Invalid("action", fmt.Sprintf("unknown action %q: use one of %s", web.Clip(req.Action), strings.Join(apiActions, ", ")))
		}
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, res)
}

// apiActions lists the actions the API takes, for its error message.
var apiActions = []string{"approve", "sign", "issue", "recall", "comment", "complete", "assign", "grant", "extend", "change_level",
	"declassify", "destroy", "file", "hold", "lift_hold", "permit_copy", "permit_print", "copy", "print", "send_review", "review", "replace"}

// apiRegister returns a page of a unit's register of a year (the
// caller's unit and the current year unless unit and year say
// otherwise), in number order; secret=true asks for its classified
// series.
func (h *Handler) apiRegister(w http.ResponseWriter, r *http.Request) {
	sub := web.SubjectFrom(r.Context())
	v := r.URL.Query()
	q := RegisterQuery{Direction: Direction(r.PathValue("direction")), UnitID: sub.Unit, Year: h.svc.now().In(registerZone()).Year()}
	var err error
	for _, p := range []struct {
		field string
		set   func(int64)
	}{
		{"unit", func(n int64) { q.UnitID = n }}, {"year", func(n int64) { q.Year = int(min(n, 10000)) }},
		{"after", func(n int64) { q.After = int(min(n, 1<<31)) }}, {"limit", func(n int64) { q.Limit = int(min(n, MaxLimit+1)) }},
	} {
		if s := v.Get(p.field); s != "" && err == nil {
			var n int64
			if n, err = parsePositive(p.field, s); err == nil {
				p.set(n)
			}
		}
	}
	if err == nil {
		q.Secret, err = web.ParseBool("secret", v.Get("secret"))
	}
	var p *RegisterPage
	if err == nil {
		p, err = h.svc.Register(r.Context(), sub, q)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	// The register number to send as after for the next page, empty
	// after the last.
	web.JSON(w, r, http.StatusOK, web.NewList(p.Items, web.NextID(int64(p.Next))))
}

// apiCaseFileRequest opens a case file in the caller's unit.
type apiCaseFileRequest struct {
	Year           int       `json:"year"`
	Code           string    `json:"code"`
	Title          string    `json:"title"`
	RetentionYears Retention `json:"retention_years"`
}

func (h *Handler) apiCreateCaseFile(w http.ResponseWriter, r *http.Request) {
	var req apiCaseFileRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	cf, err := h.svc.CreateCaseFile(r.Context(), web.SubjectFrom(r.Context()), NewCaseFile(req))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/case-files/"+strconv.FormatInt(cf.ID, 10))
	web.JSON(w, r, http.StatusCreated, cf)
}

func (h *Handler) apiCaseFile(w http.ResponseWriter, r *http.Request) {
	id, err := parsePositive("id", r.PathValue("id"))
	var cf *CaseFile
	if err == nil {
		cf, err = h.svc.CaseFile(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, cf)
}

func (h *Handler) apiCloseCaseFile(w http.ResponseWriter, r *http.Request) {
	sub := web.SubjectFrom(r.Context())
	id, err := parsePositive("id", r.PathValue("id"))
	var cf *CaseFile
	if err == nil {
		if err = h.svc.CloseCaseFile(r.Context(), sub, id); err == nil {
			cf, err = h.svc.CaseFile(r.Context(), sub, id)
		}
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, cf)
}

// apiVerify tells whether a statement carries this node's signature. One
// that does not verify is 422: the request was understood, and the
// statement is not genuine.
func (h *Handler) apiVerify(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Statement string `json:"statement"`
		KeyID     string `json:"key_id"`
		Signature string `json:"signature"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	if err := h.svc.VerifySignature(req.Statement, req.KeyID, req.Signature); err != nil {
		web.Problem(w, r, web.ProblemDetails{Status: http.StatusUnprocessableEntity, Detail: err.Error(), Code: "signature_invalid"})
		return
	}
	web.JSON(w, r, http.StatusOK, map[string]bool{"valid": true})
}
