package records

import (
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/web"
)

// The outgoing side's console pages: starting a draft, and a draft's
// drafting page (versions, comments, the review chain, signing, issuance
// with its distribution list, recall and replacement).

const consoleNewDraftPath = "/console/documents/drafts/new"

// consoleDraftingPath is the drafting page of document id.
func consoleDraftingPath(id int64) string {
	return "/console/documents/" + strconv.FormatInt(id, 10) + "/drafting"
}

// explainPrefix is where the outgoing side's pages find their
// explanations of a refusal (records.drafting.error.conflict, …).
const explainPrefix = "records.drafting."

// registerDrafting adds the drafting pages. Each route says who may reach
// it; the service decides on the document itself.
func (h *Handler) registerDrafting(rt *web.Router) {
	create := web.Staff(authz.KindDocument, authz.Create)
	read := web.Staff(authz.KindDocument, authz.Read)
	rt.HandleFunc("GET "+consoleNewDraftPath, create, h.consoleNewDraft)
	rt.HandleFunc("POST "+consoleNewDraftPath, create, h.consolePostNewDraft)
	rt.HandleFunc("GET /console/documents/{id}/drafting", read, h.consoleDrafting)
	rt.HandleFunc("GET /console/documents/{id}/drafting/versions/{no}", read, h.consoleVersion)
	rt.HandleFunc("POST /console/documents/{id}/drafting/versions", web.Staff(authz.KindDocument, authz.Update), h.consolePostVersion)
	// Actions are taken in many capacities (a reviewer's decision, the
	// signer's signature, the records office's issuance): the service
	// asks authz for each one's.
	rt.HandleFunc("POST /console/documents/{id}/drafting/actions", web.SignedIn, h.consolePostDrafting)
	rt.HandleFunc("GET /api/v1/documents/{id}/drafting", read, h.apiDrafting)
}

// pageExplain turns a service's refusal into what a records form shows.
func (h *Handler) pageFormError(w http.ResponseWriter, r *http.Request, err error, draw func(web.Refusal)) {
	tr := h.shell.Localizer(r)
	web.FormError(w, r, err, func(err error) (web.Refusal, bool) { return web.Explain(tr, explainPrefix, err) }, draw)
}

// typeOptions lists the document types of Decree 30.
func typeOptions() []web.Option {
	var opts []web.Option
	for _, t := range DocTypes() {
		label := t.NameVI
		if t.Abbr != "" {
			label += " (" + t.Abbr + ")"
		}
		opts = append(opts, web.Option{Value: t.Key, Label: label})
	}
	return opts
}

// urgencyOptions lists the urgencies, from normal.
func urgencyOptions(p web.Page) []web.Option {
	var opts []web.Option
	for u := Normal; u <= Flash; u++ {
		opts = append(opts, web.Option{Value: u.String(), Label: p.T("records.urgency." + u.String())})
	}
	return opts
}

// levelsUpTo lists the levels up to a clearance: nobody classifies above
// their own.
func levelsUpTo(p web.Page, clearance authz.Level) []web.Option {
	opts := web.LevelOptions(p, "records.level.")
	return opts[:int(clearance)+1]
}

// draftLevels lists the levels a new document of sub's may take: from the
// level the session works at (what it creates is classified at least so,
// Subject.CreateLevel) to the clearance.
func draftLevels(p web.Page, sub authz.Subject) []web.Option {
	return levelsUpTo(p, sub.Clearance)[min(sub.Session, sub.Clearance):]
}

// newDraftData is the page starting a draft.
type newDraftData struct {
	Fields  []web.Field
	Problem web.Refusal
}

func (h *Handler) consoleNewDraft(w http.ResponseWriter, r *http.Request) {
	sub := web.SubjectFrom(r.Context())
	level := min(sub.Session, sub.Clearance).String()
	h.showNewDraft(w, r, http.StatusOK, url.Values{"urgency": {"normal"}, "classification": {level}}, web.Refusal{})
}

func (h *Handler) showNewDraft(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal) {
	p := h.shell.Page(r, web.Console, "records.drafting.new.title")
	sub := web.SubjectFrom(r.Context())
	fm := web.NewForm(p, "draft-", values, ref)
	data := newDraftData{Fields: []web.Field{
		fm.Choice("type", "select", "records.drafting.type", true, typeOptions()),
		fm.Field("subject", "textarea", "records.drafting.subject", true),
		fm.Choice("urgency", "select", "records.drafting.urgency", true, urgencyOptions(p)),
		fm.Choice("classification", "select", "records.drafting.classification", true, draftLevels(p, sub)),
		fm.Field("classification_reason", "text", "records.drafting.classification_reason", false),
		fm.Field("classification_source", "text", "records.drafting.classification_source", false),
		fm.Field("due_at", "date", "records.drafting.due", false),
		fm.Field("file", "file", "records.drafting.file", false),
	}}
	data.Problem = fm.Message()
	h.pages.Render(w, r, status, "console_drafting_new", web.View[newDraftData]{Page: p, Data: data})
}

func (h *Handler) consolePostNewDraft(w http.ResponseWriter, r *http.Request) {
	values, c, err := readDraftForm(w, r)
	var d *Document
	if err == nil {
		var nd NewDraft
		if nd, err = newDraftOf(values); err == nil {
			nd.Content = c
			d, err = h.svc.StartDraft(r.Context(), web.SubjectFrom(r.Context()), nd)
		}
	}
	if err != nil {
		h.pageFormError(w, r, err, func(ref web.Refusal) { h.showNewDraft(w, r, ref.Status, values, ref) })
		return
	}
	web.RedirectWithFlash(w, r, consoleDraftingPath(d.ID), "records.drafting.flash.started")
}

// newDraftOf reads the new draft's form.
func newDraftOf(v url.Values) (NewDraft, error) {
	nd := NewDraft{Type: v.Get("type"), Subject: strings.TrimSpace(v.Get("subject")),
		Classify: Classify{Reason: strings.TrimSpace(v.Get("classification_reason")), Source: strings.TrimSpace(v.Get("classification_source"))}}
	var err error
	if nd.Urgency, err = ParseUrgency(v.Get("urgency")); err != nil {
		return nd, err
	}
	if nd.Level, err = authz.ParseLevel(v.Get("classification")); err != nil {
		return nd, errs.Invalid("classification", "choose a level from the list")
	}
	if nd.DueAt, err = parseDay("due_at", v.Get("due_at"), false); err != nil {
		return nd, err
	}
	if !nd.DueAt.IsZero() {
		nd.DueAt = nd.DueAt.Add(24*time.Hour - time.Second) // the end of the day
	}
	return nd, nil
}

// draftingVersion is a version as the page lists it.
type draftingVersion struct {
	No                              int
	Filename, MediaType, Size, Hash string
	Author, At, Note, Href          string
	Current                         bool
}

// draftingComment is a comment as the page lists it: replies under what
// they answer.
type draftingComment struct {
	ID               int64
	Version          int
	Author, At, Body string
	Reply            bool
}

// draftingReview is a reviewer's part of a round.
type draftingReview struct {
	Round                                             int
	Reviewer, RequestedBy, Requested, Decided, Reason string
	DecisionKey                                       string
}

// draftingStep is one entry of the document's log.
type draftingStep struct {
	At, ActionKey, Actor, Note string
}

// draftingSignature is a signature kept with the document, checked when
// the page is drawn.
type draftingSignature struct {
	KindKey, At, KeyID, Statement, Signature string
	Valid                                    bool
}

// draftingForm is one action's form.
type draftingForm struct {
	Action, Label, Prefix string
	Fields                []web.Field
	Problem               web.Refusal
	Danger                bool
	Multipart             bool
	Href, CSRF            string
}

// levelBadge is a level as the "outpages-level" partial shows it.
type levelBadge struct{ Level, Label string }

func badgeOf(p web.Page, l authz.Level) levelBadge {
	return levelBadge{Level: l.String(), Label: p.T("records.level." + l.String())}
}

// draftingData is the drafting page.
type draftingData struct {
	ID                             int64
	Subject, Type, Number, Status  string
	StatusKey, UrgencyKey          string
	Level                          levelBadge
	Author, Created, Due, IssuedAt string
	ClassificationHref             string
	Versions                       []draftingVersion
	Comments                       []draftingComment
	Reviews                        []draftingReview
	Steps                          []draftingStep
	Signatures                     []draftingSignature
	Recipients                     []string
	ReplacesHref, ReplacedByHref   string
	Forms                          []draftingForm
	Problem                        web.Refusal
	// SessionNote says why a session working above the document's level
	// has no forms (no write down).
	SessionNote string
}

func (h *Handler) consoleDrafting(w http.ResponseWriter, r *http.Request) {
	h.showDrafting(w, r, http.StatusOK, web.SentBack{})
}

// showDrafting draws document {id}'s drafting page with a form sent back.
func (h *Handler) showDrafting(w http.ResponseWriter, r *http.Request, status int, back web.SentBack) {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	id, err := parseDocumentID(r.PathValue("id"))
	var v *View
	if err == nil {
		v, err = h.svc.Get(ctx, sub, id)
	}
	var dr *Drafting
	if err == nil {
		dr, err = h.svc.Drafting(ctx, sub, id)
	}
	if err == nil && v.Direction != Outgoing {
		err = errNoDocument(id) // an incoming document has no drafting: its page is the document's
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "records.drafting.title")
	p.Title = p.T("records.drafting.title") + " — " + ellipsis(v.Subject, 80)
	p.Flash = p.Confirmed(r, "records.drafting.flash.did.", ellipsis(v.Subject, 80))
	names, err := h.namesOf(r, v, dr)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	t, _ := LookupType(v.Type)
	data := draftingData{ID: v.ID, Subject: v.Subject, Type: t.NameVI, Number: v.Number, StatusKey: "records.drafting.status." + string(v.Status),
		Level: badgeOf(p, v.Classification), UrgencyKey: "records.urgency." + v.Urgency.String(), Author: names[v.AuthorID],
		Created: web.ShowTime(v.CreatedAt), Due: showDay(v.DueAt), IssuedAt: showDay(v.Date)}
	if v.Classification > authz.Unclassified {
		data.ClassificationHref = consoleClassificationPath(v.ID)
	}
	base := consoleDraftingPath(v.ID)
	for _, ver := range slices.Backward(dr.Versions) {
		data.Versions = append(data.Versions, draftingVersion{No: ver.No, Filename: ver.Filename, MediaType: ver.MediaType,
			Size: formatSize(ver.Size), Hash: hex.EncodeToString(ver.SHA256)[:16], Author: names[ver.AuthorID], At: web.ShowTime(ver.At),
			Note: ver.Note, Href: base + "/versions/" + strconv.Itoa(ver.No), Current: ver.Current})
	}
	data.Comments = threadComments(dr.Comments, names)
	for _, rv := range dr.Reviews {
		row := draftingReview{Round: rv.Round, Reviewer: names[rv.ReviewerID], RequestedBy: names[rv.RequestedBy], Requested: web.ShowTime(rv.RequestedAt),
			Reason: rv.Reason, DecisionKey: "records.drafting.review.pending"}
		if rv.Decision != ReviewPending {
			row.DecisionKey, row.Decided = "records.drafting.review."+rv.Decision, web.ShowTime(rv.DecidedAt)
		}
		data.Reviews = append(data.Reviews, row)
	}
	for _, st := range v.Steps {
		data.Steps = append(data.Steps, draftingStep{At: web.ShowTime(st.At), ActionKey: stepKey(p, st.Action), Actor: names[st.ActorID], Note: st.Note})
	}
	for _, sg := range v.Signatures {
		data.Signatures = append(data.Signatures, draftingSignature{KindKey: "records.drafting.signature." + sg.Kind, At: web.ShowTime(sg.At),
			KeyID: sg.KeyID, Statement: sg.Statement, Signature: sg.Signature, Valid: h.svc.VerifySignature(sg.Statement, sg.KeyID, sg.Signature) == nil})
	}
	for _, rc := range dr.Recipients {
		name := p.T("records.drafting.recipient."+string(rc.Kind)) + ": " + rc.Name
		if rc.Code != "" {
			name += " (" + rc.Code + ")"
		}
		data.Recipients = append(data.Recipients, name)
	}
	if dr.Replaces != 0 {
		data.ReplacesHref = consoleDraftingPath(dr.Replaces)
	}
	if dr.ReplacedBy != 0 {
		data.ReplacedByHref = consoleDraftingPath(dr.ReplacedBy)
	}
	shown, err := h.draftingForms(r, p, v, dr, back, &data)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if lower := sub; len(data.Forms) == 0 && sub.Session > v.Classification {
		// No write down: a session working above the document's level
		// changes nothing of it. Say so when a session at its level could.
		lower.Session = v.Classification
		for name := range steps {
			if may(lower, name, v.Document) && (name != "review" || dr.PendingReview(sub.ID) != nil) {
				data.SessionNote = p.T("records.drafting.session_note", p.T("records.level."+sub.Session.String()), p.T("records.level."+v.Classification.String()))
				break
			}
		}
	}
	if !shown {
		data.Problem = back.Refusal
	}
	h.pages.Render(w, r, status, "console_drafting", web.View[draftingData]{Page: p, Data: data})
}

// namesOf names every member of staff the page shows.
func (h *Handler) namesOf(r *http.Request, v *View, dr *Drafting) (map[int64]string, error) {
	ids := []int64{v.AuthorID, v.SignerID}
	for _, x := range dr.Versions {
		ids = append(ids, x.AuthorID)
	}
	for _, x := range dr.Comments {
		ids = append(ids, x.AuthorID)
	}
	for _, x := range dr.Reviews {
		ids = append(ids, x.ReviewerID, x.RequestedBy)
	}
	for _, x := range v.Steps {
		ids = append(ids, x.ActorID)
	}
	return staffNames(r.Context(), h.svc.db, ids)
}

// threadComments orders comments by version, newest version first, each
// comment followed by its replies.
func threadComments(cs []Comment, names map[int64]string) []draftingComment {
	var out []draftingComment
	byVersion := map[int][]Comment{}
	var versions []int
	for _, c := range cs {
		if _, ok := byVersion[c.VersionNo]; !ok {
			versions = append(versions, c.VersionNo)
		}
		byVersion[c.VersionNo] = append(byVersion[c.VersionNo], c)
	}
	slices.Sort(versions)
	for _, ver := range slices.Backward(versions) {
		list := byVersion[ver]
		var add func(parent int64, reply bool)
		add = func(parent int64, reply bool) {
			for _, c := range list {
				if c.ReplyTo == parent {
					out = append(out, draftingComment{ID: c.ID, Version: c.VersionNo, Author: names[c.AuthorID], At: web.ShowTime(c.At), Body: c.Body, Reply: reply})
					add(c.ID, true)
				}
			}
		}
		add(0, false)
	}
	return out
}

// stepKey is the catalogue key naming a step of the log.
func stepKey(p web.Page, action string) string {
	if key := "records.drafting.step." + action; p.Has(key) {
		return key
	}
	return "records.drafting.step.other"
}

// may reports whether sub may take step name on document d now: the
// document is where the step starts, and authz grants its capacity.
func may(sub authz.Subject, name string, d *Document) bool {
	st, ok := steps[name]
	if !ok || st.dir != "" && (d.Direction != st.dir || !slices.Contains(st.from, d.Status)) {
		return false
	}
	res := d.resource()
	res.Kind = st.kind
	dec, _ := authz.Decide(sub, st.action, res)
	if st.dir == Outgoing {
		return dec == authz.Allowed && draftingUnit(sub, name, &row{Document: *d}) == nil
	}
	return dec == authz.Allowed
}

// draftingForms fills data with the forms sub may use on v now, and
// reports whether the form sent back (if any) is among them.
func (h *Handler) draftingForms(r *http.Request, p web.Page, v *View, dr *Drafting, back web.SentBack, data *draftingData) (bool, error) {
	sub := web.SubjectFrom(r.Context())
	drawn := back.Form == ""
	add := func(action string, danger bool, fields func(fm *web.Form) ([]web.Field, error)) error {
		prefix := "act-" + action + "-"
		drawn = drawn || back.Form == prefix
		fm := back.NewForm(p, prefix, nil)
		f := draftingForm{Action: action, Label: p.T("records.drafting.action." + action), Prefix: prefix, Danger: danger,
			Href: consoleDraftingPath(v.ID) + "/actions", CSRF: p.CSRF}
		if fields != nil {
			var err error
			if f.Fields, err = fields(fm); err != nil {
				return err
			}
		}
		f.Problem = fm.Message()
		data.Forms = append(data.Forms, f)
		return nil
	}
	var err error
	if mine := dr.PendingReview(sub.ID); mine != nil && may(sub, "review", v.Document) {
		err = errors.Join(err, add("review", false, func(fm *web.Form) ([]web.Field, error) {
			return []web.Field{
				fm.Choice("decision", "select", "records.drafting.review.decision", true, []web.Option{
					{Value: "approve", Label: p.T("records.drafting.review.approve")}, {Value: "return", Label: p.T("records.drafting.review.return")}}),
				fm.Field("reason", "textarea", "records.drafting.reason", false)}, nil
		}))
	}
	if may(sub, "revise", v.Document) {
		prefix := "act-version-"
		drawn = drawn || back.Form == prefix
		fm := back.NewForm(p, prefix, nil)
		f := draftingForm{Action: "version", Label: p.T("records.drafting.action.version"), Prefix: prefix, Multipart: true,
			Href: consoleDraftingPath(v.ID) + "/versions", CSRF: p.CSRF,
			Fields: []web.Field{fm.Field("file", "file", "records.drafting.file", true), fm.Field("note", "textarea", "records.drafting.version_note", false)}}
		f.Problem = fm.Message()
		data.Forms = append(data.Forms, f)
	}
	if may(sub, "send_review", v.Document) {
		err = errors.Join(err, add("send_review", false, func(fm *web.Form) ([]web.Field, error) {
			row := &row{Document: *v.Document}
			choices, err := reviewerChoices(r.Context(), h.svc.db, row)
			if err != nil {
				return nil, err
			}
			var opts []web.Option
			for _, c := range choices {
				if c.ID != sub.ID {
					opts = append(opts, web.Option{Value: strconv.FormatInt(c.ID, 10), Label: c.Name})
				}
			}
			return []web.Field{fm.Choice("reviewers", "checkboxes", "records.drafting.reviewers", true, opts),
				fm.Field("note", "textarea", "records.drafting.note", false)}, nil
		}))
	}
	if may(sub, "comment", v.Document) && v.Status == StatusDraft {
		err = errors.Join(err, add("comment", false, func(fm *web.Form) ([]web.Field, error) {
			var opts []web.Option
			for _, ver := range data.Versions {
				opts = append(opts, web.Option{Value: strconv.Itoa(ver.No), Label: p.T("records.drafting.version_n", ver.No)})
			}
			fields := []web.Field{fm.Field("body", "textarea", "records.drafting.comment", true)}
			if len(opts) > 0 {
				fields = append([]web.Field{fm.Choice("version", "select", "records.drafting.version", true, opts)}, fields...)
			}
			var replies []web.Option
			replies = append(replies, web.Option{Value: "", Label: p.T("records.drafting.reply_none")})
			for _, c := range data.Comments {
				replies = append(replies, web.Option{Value: strconv.FormatInt(c.ID, 10), Label: "#" + strconv.FormatInt(c.ID, 10) + " " + c.Author + ": " + ellipsis(c.Body, 40)})
			}
			if len(replies) > 1 {
				fields = append(fields, fm.Choice("reply_to", "select", "records.drafting.reply_to", false, replies))
			}
			return fields, nil
		}))
	}
	if may(sub, "approve", v.Document) {
		err = errors.Join(err, add("approve", false, func(fm *web.Form) ([]web.Field, error) {
			return []web.Field{fm.Field("note", "textarea", "records.drafting.note", false)}, nil
		}))
	}
	if may(sub, "sign", v.Document) {
		err = errors.Join(err, add("sign", false, nil))
	}
	if may(sub, "issue", v.Document) {
		err = errors.Join(err, add("issue", false, func(fm *web.Form) ([]web.Field, error) {
			return h.issueFields(r, p, fm, v)
		}))
	}
	if may(sub, "recall", v.Document) {
		err = errors.Join(err, add("recall", true, func(fm *web.Form) ([]web.Field, error) {
			return []web.Field{fm.Field("note", "textarea", "records.drafting.reason", true)}, nil
		}))
	}
	if dr.ReplacedBy == 0 && may(sub, "replace", v.Document) {
		err = errors.Join(err, add("replace", false, nil))
	}
	return drawn, err
}

// issueFields are the issuance form's fields: the symbols, and the
// distribution list (units, missions, agencies of the directory, and
// agencies outside it, one per line).
func (h *Handler) issueFields(r *http.Request, p web.Page, fm *web.Form, v *View) ([]web.Field, error) {
	units, err := unitChoices(r.Context(), h.svc.db, p.Lang)
	if err != nil {
		return nil, err
	}
	var internal, missions, agencies []web.Option
	for _, u := range units {
		if u.ID == v.UnitID {
			continue
		}
		o := web.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name}
		switch recipientKindOf(identity.UnitKind(u.Kind)) {
		case RecipientMission:
			missions = append(missions, o)
		case RecipientAgency:
			agencies = append(agencies, o)
		default:
			internal = append(internal, o)
		}
	}
	fields := []web.Field{fm.Field("org_symbol", "text", "records.drafting.org_symbol", true)}
	if v.Type == TypeOfficialLetter {
		fields = append(fields, fm.Field("unit_symbol", "text", "records.drafting.unit_symbol", true))
	}
	fields = append(fields,
		fm.Choice("to_units", "checkboxes", "records.drafting.to_units", false, internal),
		fm.Choice("to_missions", "checkboxes", "records.drafting.to_missions", false, missions),
		fm.Choice("to_agencies", "checkboxes", "records.drafting.to_agencies", false, agencies),
		fm.Field("to_others", "textarea", "records.drafting.to_others", false))
	// The document systems the unit's may send to through the exchange,
	// those cleared for the document's level (edxml_send.go): each gets
	// an edXML package once the document is issued, as with the API's
	// recipients "exchange": true.
	peers, err := h.svc.ExchangePeers(r.Context(), v.UnitID)
	if errors.Is(err, errs.ErrUnavailable) {
		return fields, nil // no exchange configuration here yet: nothing to offer
	} else if err != nil {
		return nil, err
	}
	var reach []web.Option
	for _, peer := range peers {
		if peer.MaxLevel >= v.Classification {
			reach = append(reach, web.Option{Value: peer.ID, Label: peer.Name + " (" + peer.ID + ")"})
		}
	}
	if len(reach) > 0 {
		fields = append(fields, fm.Choice("to_exchange", "checkboxes", "records.drafting.to_exchange", false, reach))
	}
	return fields, nil
}

func (h *Handler) consolePostDrafting(w http.ResponseWriter, r *http.Request) {
	id, err := parseDocumentID(r.PathValue("id"))
	if err == nil {
		if perr := r.ParseForm(); perr != nil {
			err = errs.Invalid("form", "the form could not be read")
		}
	}
	action := r.PostFormValue("action")
	if err == nil {
		err = h.draftingAct(r, id, action)
	}
	if err != nil {
		h.pageFormError(w, r, err, func(ref web.Refusal) {
			h.showDrafting(w, r, ref.Status, web.SentBack{Form: "act-" + action + "-", Values: r.PostForm, Refusal: ref})
		})
		return
	}
	target := consoleDraftingPath(id)
	if action == "replace" {
		if dr, err := h.svc.Drafting(r.Context(), web.SubjectFrom(r.Context()), id); err == nil && dr.ReplacedBy != 0 {
			target = consoleDraftingPath(dr.ReplacedBy)
		}
	}
	web.RedirectDone(w, r, target, "records.drafting.flash.done", action)
}

// draftingAct takes the action a drafting form posted.
func (h *Handler) draftingAct(r *http.Request, id int64, action string) error {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	v := r.PostForm
	var err error
	switch action {
	case "comment":
		var no int
		var reply int64
		if no, err = web.OptionalInt("version", v.Get("version")); err == nil {
			if reply, err = web.OptionalID("reply_to", v.Get("reply_to")); err == nil {
				_, err = h.svc.AddComment(ctx, sub, id, no, reply, v.Get("body"))
			}
		}
	case "send_review":
		var ids []int64
		for _, s := range v["reviewers"] {
			n, perr := web.ParseID("reviewers", s)
			if perr != nil {
				return perr
			}
			ids = append(ids, n)
		}
		_, err = h.svc.SendForReview(ctx, sub, id, ids, v.Get("note"))
	case "review":
		switch v.Get("decision") {
		case "approve":
			_, err = h.svc.ReviewDraft(ctx, sub, id, true, v.Get("reason"))
		case "return":
			_, err = h.svc.ReviewDraft(ctx, sub, id, false, v.Get("reason"))
		default:
			err = errs.Invalid("decision", "approve the draft or send it back")
		}
	case "approve":
		_, err = h.svc.Approve(ctx, sub, id, v.Get("note"))
	case "sign":
		_, err = h.svc.Sign(ctx, sub, id, "")
	case "issue":
		var to []Recipient
		var peers []Peer
		if len(v["to_exchange"]) > 0 {
			peers, err = h.exchangePeersOf(r, id)
		}
		if err == nil {
			to, err = recipientsOf(v, peers)
		}
		if err == nil {
			_, err = h.svc.Distribute(ctx, sub, id, IssueAs{OrgSymbol: strings.TrimSpace(v.Get("org_symbol")), UnitSymbol: strings.TrimSpace(v.Get("unit_symbol"))}, to)
		}
	case "recall":
		_, err = h.svc.Recall(ctx, sub, id, v.Get("note"))
	case "replace":
		_, err = h.svc.Replace(ctx, sub, id)
	default:
		err = errs.Invalid("action", "unknown action")
	}
	return err
}

// exchangePeersOf lists the organisations the document system of the
// unit of document id may send to, as sub may know of the document.
func (h *Handler) exchangePeersOf(r *http.Request, id int64) ([]Peer, error) {
	d, err := h.svc.Get(r.Context(), web.SubjectFrom(r.Context()), id)
	if err != nil {
		return nil, err
	}
	return h.svc.ExchangePeers(r.Context(), d.UnitID)
}

// recipientsOf reads the issuance form's distribution list: chosen units,
// missions and agencies, agencies outside the directory one per line as
// "name" or "name | identifier code", and the organisations chosen to
// receive it through the exchange, named as peers (the exchange's
// organisations) names them; a code that is none of them is kept as
// given, for the issuance to refuse.
func recipientsOf(v url.Values, peers []Peer) ([]Recipient, error) {
	var out []Recipient
	for field, kind := range map[string]RecipientKind{"to_units": RecipientUnit, "to_missions": RecipientMission, "to_agencies": RecipientAgency} {
		for _, s := range v[field] {
			id, err := web.ParseID(field, s)
			if err != nil {
				return nil, err
			}
			out = append(out, Recipient{Kind: kind, UnitID: id})
		}
	}
	slices.SortFunc(out, func(a, b Recipient) int { return int(a.UnitID - b.UnitID) })
	for line := range strings.Lines(v.Get("to_others")) {
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, code, _ := strings.Cut(line, "|")
		out = append(out, Recipient{Kind: RecipientAgency, Name: strings.TrimSpace(name), Code: strings.TrimSpace(code)})
	}
	for _, code := range v["to_exchange"] {
		rc := Recipient{Kind: RecipientAgency, Name: code, Code: code, Exchange: true}
		if i := slices.IndexFunc(peers, func(p Peer) bool { return p.ID == code }); i >= 0 {
			rc.Name = peers[i].Name
			if peers[i].Kind != "" {
				rc.Kind = recipientKindOf(identity.UnitKind(peers[i].Kind))
			}
		}
		out = append(out, rc)
	}
	return out, nil
}

func (h *Handler) consolePostVersion(w http.ResponseWriter, r *http.Request) {
	id, err := parseDocumentID(r.PathValue("id"))
	var values url.Values
	var c *Content
	if err == nil {
		values, c, err = readDraftForm(w, r)
	}
	if err == nil {
		_, err = h.svc.AddVersion(r.Context(), web.SubjectFrom(r.Context()), id, c, values.Get("note"))
	}
	if err != nil {
		h.pageFormError(w, r, err, func(ref web.Refusal) {
			h.showDrafting(w, r, ref.Status, web.SentBack{Form: "act-version-", Values: values, Refusal: ref})
		})
		return
	}
	web.RedirectWithFlash(w, r, consoleDraftingPath(id), "records.drafting.flash.version")
}

// consoleVersion downloads a version of a document's file.
func (h *Handler) consoleVersion(w http.ResponseWriter, r *http.Request) {
	id, err := parseDocumentID(r.PathValue("id"))
	var no int64
	if err == nil {
		no, err = parsePositive("no", r.PathValue("no"))
	}
	var info ContentInfo
	var data []byte
	if err == nil {
		info, data, err = h.svc.VersionContent(r.Context(), web.SubjectFrom(r.Context()), id, int(min(no, 1<<30)))
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.Attachment(w, info.Filename, info.MediaType, data)
}

// showDay shows a day in the ministry's zone, "—" for none.
func showDay(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(web.MinistryZone()).Format("02/01/2006")
}

// formatSize shows a file's size.
func formatSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// ellipsis shortens s to at most n runes for a title or a list.
func ellipsis(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// registerOutgoing adds the outgoing side's pages — drafting, case files,
// the classified archive — and their navigation.
func (h *Handler) registerOutgoing(rt *web.Router) {
	h.shell.AddNav(web.Console, web.NavItem{Key: "records.casefiles.nav", Href: consoleCaseFilesPath, Access: web.Staff(authz.KindCaseFile, authz.Read)})
	h.shell.AddNav(web.Console, web.NavItem{Key: "records.archive.nav", Href: consoleArchivePath, Access: web.Staff(authz.KindClassification, authz.Read)})
	h.shell.AddNav(web.Console, web.NavItem{Key: "records.drafting.list.title", Href: consoleDraftsPath, Access: web.Staff(authz.KindDocument, authz.Read)})
	h.registerDraftsList(rt)
	h.registerDrafting(rt)
	h.registerCaseFiles(rt)
	h.registerClassification(rt)
}
