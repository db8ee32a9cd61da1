package audit

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// explainField turns a bad-input error naming a field into what a form
// shows (see web.Explain). It reports false for any other error (not
// found, internal), which web.Error answers.
func explainField(p web.Page, err error) (web.Refusal, bool) {
	if _, ok := errors.AsType[*errs.FieldError](err); !ok {
		return web.Refusal{}, false
	}
	return web.Explain(p.Localizer(), "audit.", err)
}

// choice returns a select of "any" and values, labelled with the
// catalogue's keyPrefix + value.
func choice(p web.Page, f *web.Form, name, labelKey, keyPrefix string, values []string) web.Field {
	opts := []web.Option{{Value: "", Label: p.T("audit.any")}}
	for _, v := range values {
		opts = append(opts, web.Option{Value: v, Label: p.T(keyPrefix + v)})
	}
	return f.Choice(name, "select", labelKey, false, opts)
}

// actionChoices is the action filter's options: any, then every action
// the catalogue has words for, by its words (grouped by area, as the
// codes sort); a code it has no words for (a link from elsewhere, an
// action added since) stays offered by its code, so the search still
// accepts any code.
func actionChoices(p web.Page, chosen string) []web.Option {
	const prefix = "audit.action."
	var codes []string
	for key := range texts {
		if code, ok := strings.CutPrefix(key, prefix); ok {
			if c, ok := hyphenated[code]; ok {
				code = c
			}
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	if chosen != "" && !slices.Contains(codes, chosen) {
		codes = append(codes, chosen)
	}
	opts := []web.Option{{Value: "", Label: p.T("audit.any")}}
	for _, code := range codes {
		opts = append(opts, web.Option{Value: code, Label: actionInWords(p, code)})
	}
	return opts
}

// badge is a label shown as a badge: the catalogue key of its text and
// the CSS class that colours it.
type badge struct {
	Key   string
	Class string
}

// eventView is an event as the search results and the event page show it:
// people and units by name, the action and the kind of item in words
// (their codes, which the search takes, in a title).
type eventView struct {
	Seq          uint64
	Time         string // in Viet Nam's time
	TimeISO      string // for <time datetime>
	ActorKindKey string
	// ActorKindText is the kind of actor in words.
	ActorKindText string
	ActorID       string
	// ActorName is a member of staff's full name (the directory's, else
	// the username the event kept), or the name the event gave another
	// actor; empty when it gave none.
	ActorName string
	// ActorUser is the username or id the event kept, for the title.
	ActorUser string
	UnitID    int64
	UnitName  string // empty when the directory cannot name it
	Action    string
	// ActionText is the action in words; the code when the catalogue has
	// none for it.
	ActionText   string
	ResourceType string
	// ResourceTypeText is the kind of item in words, as ActionText.
	ResourceTypeText string
	ResourceID       string
	// ResourceName names a unit or a member of staff the event is about;
	// empty for other items, whose id is shown.
	ResourceName string
	Level        badge
	Outcome      badge
}

func newEventView(p web.Page, names *web.Names, e Event) eventView {
	v := eventView{
		Seq: e.Seq, Time: showTime(e.Time), TimeISO: e.Time.UTC().Format(time.RFC3339Nano),
		ActorKindKey: "audit.actor." + string(e.Actor.Kind), ActorKindText: p.T("audit.actor." + string(e.Actor.Kind)),
		ActorID: e.Actor.ID, ActorName: e.Actor.Name, ActorUser: e.Actor.Name, UnitID: e.UnitID, UnitName: names.Unit(e.UnitID),
		Action: e.Action, ActionText: actionInWords(p, e.Action),
		ResourceType: e.ResourceType, ResourceTypeText: inWords(p, "audit.type.", e.ResourceType), ResourceID: e.ResourceID,
		Level:   badge{Key: "console.level." + e.Level.String(), Class: "level-" + e.Level.String()},
		Outcome: badge{Key: "audit.outcome." + string(e.Outcome), Class: "outcome-" + string(e.Outcome)},
	}
	if e.Actor.Kind == ActorStaff {
		if id, err := strconv.ParseInt(e.Actor.ID, 10, 64); err == nil {
			if name := names.Staff(id); name != "" {
				v.ActorName = name
			}
		}
	}
	if id, err := strconv.ParseInt(e.ResourceID, 10, 64); err == nil {
		switch e.ResourceType {
		case "staff":
			v.ResourceName = names.Staff(id)
		case "unit":
			v.ResourceName = names.Unit(id)
		}
	}
	return v
}

// inWords returns the catalogue's words for code under prefix, or the
// code itself when the catalogue has none (a kind of event added since).
// hyphenated are the actions whose codes hold a hyphen (the procedures'
// steps): a catalogue key holds none, so their words stand under the code
// with an underscore (actionInWords), and the search's choices map it back.
var hyphenated = map[string]string{
	"dossier.request_documents": "dossier.request-documents",
	"dossier.return_result":     "dossier.return-result",
}

// actionInWords is an audit action's words, or its code where the
// catalogue has none.
func actionInWords(p web.Page, code string) string {
	if w := inWords(p, "audit.action.", strings.ReplaceAll(code, "-", "_")); w != strings.ReplaceAll(code, "-", "_") {
		return w
	}
	return code
}

func inWords(p web.Page, prefix, code string) string {
	if code == "" || !p.Has(prefix+code) {
		return code
	}
	return p.T(prefix + code)
}

// showTime formats t as web.ShowTime does, and the zero time (no such
// moment) as nothing.
func showTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return web.ShowTime(t)
}

// actorKinds and outcomes are the values the search form offers.
var (
	actorKinds = []string{string(ActorStaff), string(ActorCitizen), string(ActorSystem), string(ActorMember)}
	outcomes   = []string{string(Allowed), string(Denied), string(OK), string(Failed)}
)

// searchData is the view of /console/audit.
type searchData struct {
	Filter  []web.Field
	Problem web.Refusal
	Rows    []eventView
	Pager   web.Pager
}

func (h *Handler) pageSearch(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "audit.title")
	values := r.URL.Query()
	var data searchData
	q, err := queryFrom(values)
	var events []Event
	var next int64
	if err == nil {
		events, next, err = h.search(r.Context(), web.SubjectFrom(r.Context()), q)
	}
	ref, status, ok := web.ListError(w, r, err, func(err error) (web.Refusal, bool) { return explainField(p, err) })
	if !ok {
		return
	}
	data.Problem = ref
	f := web.NewForm(p, "audit-", values, data.Problem)
	// A unit picker by name (merged units too: the ledger remembers
	// them), valued by id as the search reads it.
	units, err := h.shell.UnitPicker(r, p.T("audit.any"), nil, web.UnitID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data.Filter = []web.Field{
		choice(p, f, "actor_kind", "audit.field.actor_kind", "audit.actor.", actorKinds),
		f.Field("actor", "text", "audit.field.actor", false),
		f.Choice("unit", "select", "audit.field.unit", false, units),
		f.Choice("action", "select", "audit.field.action", false, actionChoices(p, values.Get("action"))),
		f.Field("resource_type", "text", "audit.field.resource_type", false),
		f.Field("resource_id", "text", "audit.field.resource_id", false),
		choice(p, f, "outcome", "audit.field.outcome", "audit.outcome.", outcomes),
		f.Field("from", "date", "audit.field.from", false),
		f.Field("to", "date", "audit.field.to", false),
	}
	data.Problem = f.Message()
	names := h.shell.Names(r)
	for _, e := range events {
		data.Rows = append(data.Rows, newEventView(p, names, e))
	}
	data.Pager = web.NewPager(p, r, web.NextID(next), len(data.Rows), web.PagerOffset(r))
	h.pages.Render(w, r, status, "audit_search", web.View[searchData]{Page: p, Data: data})
}

// attr is one of an event's attributes.
type attr struct{ Key, Value string }

// checkpointView is a checkpoint as the pages show it.
type checkpointView struct {
	Size    uint64
	Root    string
	Time    string
	TimeISO string
	Note    string
	// Cosigners names the witnesses whose cosignatures the stored note
	// carries (their keys are not known here, so not checked).
	Cosigners []string
}

func (l *Ledger) newCheckpointView(c Checkpoint) checkpointView {
	v := checkpointView{Size: c.Size, Root: base64.StdEncoding.EncodeToString(c.Root), Time: showTime(c.Time), Note: string(c.Note)}
	if !c.Time.IsZero() {
		v.TimeISO = c.Time.UTC().Format(time.RFC3339)
	}
	if n, err := note.Open(c.Note, note.VerifierList(l.verifiers()...)); err == nil {
		for _, s := range n.UnverifiedSigs {
			v.Cosigners = append(v.Cosigners, s.Name)
		}
	}
	return v
}

// eventData is the view of /console/audit/events/{seq}: the event and
// the result of checking its inclusion proof here, on the server.
type eventData struct {
	Row       eventView
	Reason    string
	RequestID string
	Attrs     []attr
	LeafHash  string
	// Verified reports whether the leaf hash recomputed from the event's
	// fields, with the proof, leads to the checkpoint's signed root.
	Verified   bool
	Failure    string // why not, in English
	Checkpoint checkpointView
	Proof      []string
}

func (h *Handler) pageEvent(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "audit.event.title")
	seq, err := parseCount("seq", r.PathValue("seq"), 0)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	e, err := h.l.readableEvent(r.Context(), web.SubjectFrom(r.Context()), authz.Read, seq)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p.Title = p.T("audit.event.heading", seq)
	data := eventData{Row: newEventView(p, h.shell.Names(r), e), Reason: e.Reason, RequestID: e.RequestID}
	for _, k := range slices.Sorted(maps.Keys(e.Attrs)) {
		data.Attrs = append(data.Attrs, attr{Key: k, Value: e.Attrs[k]})
	}
	proof, err := h.l.proofOf(r.Context(), e)
	if err == nil {
		err = proof.verify()
	}
	data.Verified = err == nil
	if err != nil {
		// A proof that cannot be built or does not verify is the finding
		// this page exists to show, not a failure of the page.
		web.Logger(r.Context()).Warn("audit: event does not verify", "seq", seq, "err", err)
		data.Failure = err.Error()
		if errors.Is(err, ErrBadProof) {
			data.Failure = fmt.Sprintf("event %d as stored, with its inclusion proof, does not lead to the root signed in the checkpoint of size %d: the event or the tree was altered after it was recorded",
				seq, proof.Checkpoint.Size)
		}
	}
	if proof.Leaf != nil {
		data.LeafHash = base64.StdEncoding.EncodeToString(proof.Leaf)
	}
	if proof.Checkpoint.Note != nil {
		data.Checkpoint = h.l.newCheckpointView(proof.Checkpoint)
	}
	for _, hash := range proof.Proof {
		data.Proof = append(data.Proof, base64.StdEncoding.EncodeToString(hash))
	}
	h.pages.Render(w, r, http.StatusOK, "audit_event", web.View[eventData]{Page: p, Data: data})
}

// recentCheckpointCount is how many checkpoints the checkpoints page
// lists.
const recentCheckpointCount = 50

// checkpointsData is the view of /console/audit/checkpoints.
type checkpointsData struct {
	Origin      string
	VerifierKey string
	Rows        []checkpointView
}

func (h *Handler) pageCheckpoints(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "audit.checkpoints.title")
	cps, err := h.l.recentCheckpoints(r.Context(), recentCheckpointCount)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data := checkpointsData{Origin: h.l.Origin()}
	if data.VerifierKey, err = h.l.VerifierKey(); err != nil {
		web.Error(w, r, err)
		return
	}
	for _, c := range cps {
		data.Rows = append(data.Rows, h.l.newCheckpointView(c))
	}
	h.pages.Render(w, r, http.StatusOK, "audit_checkpoints", web.View[checkpointsData]{Page: p, Data: data})
}

// exportData is the view of /console/audit/export.
type exportData struct {
	Fields  []web.Field
	Problem web.Refusal
}

func (h *Handler) pageExport(w http.ResponseWriter, r *http.Request) {
	h.showExport(w, r, http.StatusOK, url.Values{}, web.Refusal{})
}

func (h *Handler) showExport(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal) {
	p := h.shell.Page(r, web.Console, "audit.export.title")
	f := web.NewForm(p, "audit-", values, ref)
	data := exportData{Fields: []web.Field{
		f.Field("from_seq", "number", "audit.field.from_seq", false),
		f.Field("to_seq", "number", "audit.field.to_seq", false),
	}}
	data.Problem = f.Message()
	h.pages.Render(w, r, status, "audit_export", web.View[exportData]{Page: p, Data: data})
}

// postExport streams the export the form asks for, as a download; a
// range the ledger does not hold re-renders the form with the reason
// beside the field.
func (h *Handler) postExport(w http.ResponseWriter, r *http.Request) {
	values := url.Values{"from_seq": {r.PostFormValue("from_seq")}, "to_seq": {r.PostFormValue("to_seq")}}
	from, to, err := exportRange(values.Get("from_seq"), values.Get("to_seq"))
	var plan exportPlan
	if err == nil {
		plan, err = h.l.planExport(r.Context(), from, to)
	}
	if err != nil {
		ref, ok := explainField(h.shell.Page(r, web.Console, "audit.export.title"), err)
		if !ok {
			web.Error(w, r, err)
			return
		}
		h.showExport(w, r, ref.Status, values, ref)
		return
	}
	h.export(w, r, plan)
}
