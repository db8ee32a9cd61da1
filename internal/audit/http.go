package audit

import (
	"bufio"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves the ledger's JSON API and console pages to the staff
// whose roles grant read (and, for exports, export) on audit events:
// auditors and security officers. Each of them sees only the events at
// or below their clearance (see mayRead).
//
// Every route needs such a role, the routes a witness uses (the latest
// checkpoint and the proofs) included. A transparency log of public
// entries serves those to anyone, since a checkpoint or a proof reveals
// no entry; this ledger's entries are not public, and its proofs carry
// leaf hashes of short, guessable records (who, which record, when to the
// microsecond) that anyone holding them could confirm a guess against,
// while the tree's growth shows how busy the ministry is. A witness
// therefore signs in with an account that holds the auditor role (see
// Remote).
type Handler struct {
	l     *Ledger
	shell *web.Shell
	pages *web.Templates
}

// NewHandler returns the ledger's handlers, with the page templates
// parsed once; a broken template fails here, at start.
func NewHandler(l *Ledger, shell *web.Shell) (*Handler, error) {
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("audit: parse page templates: %w", err)
	}
	return &Handler{l: l, shell: shell, pages: pages}, nil
}

// Register adds the ledger's API routes and console pages to rt, and the
// console's "Audit log" navigation item for those who may read it.
func (h *Handler) Register(rt *web.Router) {
	var (
		read   = web.Staff(authz.KindAuditEvent, authz.Read)
		export = web.Staff(authz.KindAuditEvent, authz.Export)
	)
	rt.HandleFunc("GET /api/v1/audit/events", read, h.apiEvents)
	rt.HandleFunc("GET /api/v1/audit/events/{seq}", read, h.apiEvent)
	rt.HandleFunc("GET /api/v1/audit/checkpoints/latest", read, h.apiLatestCheckpoint)
	rt.HandleFunc("GET /api/v1/audit/proofs/inclusion", read, h.apiInclusionProof)
	rt.HandleFunc("GET /api/v1/audit/proofs/consistency", read, h.apiConsistencyProof)
	rt.HandleFunc("GET /api/v1/audit/export", export, h.apiExport)
	h.registerTiles(rt, read)

	rt.HandleFunc("GET /console/audit", read, h.pageSearch)
	rt.HandleFunc("GET /console/audit/events/{seq}", read, h.pageEvent)
	rt.HandleFunc("GET /console/audit/checkpoints", read, h.pageCheckpoints)
	rt.HandleFunc("GET /console/audit/export", export, h.pageExport)
	rt.HandleFunc("POST /console/audit/export", export, h.postExport)

	h.shell.AddNav(web.Console, web.NavItem{Key: "nav.audit", Href: "/console/audit", Access: read})
}

// parseCount parses a sequence number or a tree size given by a client:
// decimal digits only, at least min, at most the largest tree.
func parseCount(field, s string, min uint64) (uint64, error) {
	if s == "" {
		return 0, errs.Invalid(field, "is required")
	}
	if len(s) > 20 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errs.Invalid(field, "must be a whole number written with digits only")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > maxTreeSize {
		return 0, errs.Invalid(field, "is larger than any ledger")
	}
	if n < min {
		return 0, errs.Invalid(field, fmt.Sprintf("must be at least %d", min))
	}
	return n, nil
}

// parseTimeBound parses a bound of a time range: an RFC 3339 time, or a
// day (YYYY-MM-DD) in Viet Nam's time. A day that ends a range includes
// the whole day. Empty is the zero time (no bound).
func parseTimeBound(field, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, web.MinistryZone()); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	return time.Time{}, errs.Invalid(field, "must be a day written YYYY-MM-DD (Viet Nam's time) or an RFC 3339 time such as 2025-03-01T08:00:00+07:00")
}

// Page sizes of event searches. Search takes one more than the page to
// learn whether another page follows.
const (
	defaultPageSize = DefaultSearchLimit
	maxPageSize     = 200
)

// queryFrom reads an event search from the parameters actor_kind, actor,
// unit, action, resource_type, resource_id, outcome, from, to, after (the
// cursor: the next of the previous page) and limit (above 200 is served
// as 200). It returns an *errs.FieldError naming the first bad parameter.
func queryFrom(v url.Values) (Query, error) {
	q := Query{
		ActorKind: ActorKind(v.Get("actor_kind")), ActorID: v.Get("actor"),
		Action: v.Get("action"), ResourceType: v.Get("resource_type"), ResourceID: v.Get("resource_id"),
		Outcome: Outcome(v.Get("outcome")), Limit: defaultPageSize,
	}
	if q.ActorKind != "" && !q.ActorKind.valid() {
		return q, errs.Invalid("actor_kind", "must be staff, citizen, system or member")
	}
	if q.Outcome != "" && !q.Outcome.valid() {
		return q, errs.Invalid("outcome", "must be allowed, denied, ok or failed")
	}
	for _, f := range []struct{ field, value string }{{"action", q.Action}, {"resource_type", q.ResourceType}} {
		if err := checkName(f.field, f.value); err != nil {
			return q, err
		}
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{{"actor", q.ActorID, maxActorID}, {"resource_id", q.ResourceID, maxResourceID}} {
		if err := checkText(f.field, f.value, f.max); err != nil {
			return q, err
		}
	}
	var err error
	if s := v.Get("unit"); s != "" {
		var n uint64
		if n, err = parseCount("unit", s, 1); err != nil {
			return q, err
		}
		q.UnitID = int64(n)
	}
	if q.From, err = parseTimeBound("from", v.Get("from"), false); err != nil {
		return q, err
	}
	if q.To, err = parseTimeBound("to", v.Get("to"), true); err != nil {
		return q, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return q, errs.Invalid("to", "the end of the time range must be after its start")
	}
	if s := v.Get("after"); s != "" {
		var n uint64
		if n, err = parseCount("after", s, 1); err != nil {
			return q, err
		}
		q.Before = int64(n)
	}
	if s := v.Get("limit"); s != "" {
		var n uint64
		if n, err = parseCount("limit", s, 1); err != nil {
			return q, err
		}
		q.Limit = int(min(n, maxPageSize))
	}
	return q, nil
}

// search returns a page of the events q selects that s may read, and the
// cursor of the next page, zero after the last. Storage is asked only for
// events at or below s's ceiling, so a page is as full as the events s
// may read allow and the cursor moves over them only.
func (h *Handler) search(ctx context.Context, s authz.Subject, q Query) ([]Event, int64, error) {
	top, ok := ceiling(s, authz.Read)
	if !ok {
		return nil, 0, nil
	}
	q.MaxLevel = &top
	page := q.Limit
	q.Limit = page + 1
	events, err := h.l.Search(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(events) > page {
		events = events[:page]
		next = events[page-1].ID
	}
	shown := events[:0]
	for _, e := range events {
		if mayRead(s, authz.Read, e) == nil {
			shown = append(shown, e)
		}
	}
	return shown, next, nil
}

func (h *Handler) apiEvents(w http.ResponseWriter, r *http.Request) {
	q, err := queryFrom(r.URL.Query())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	events, next, err := h.search(r.Context(), web.SubjectFrom(r.Context()), q)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(events, web.NextID(next)))
}

// checkpointJSON is a checkpoint in the API.
type checkpointJSON struct {
	Origin string    `json:"origin"`
	Size   uint64    `json:"size"`
	Root   []byte    `json:"root"`
	Note   string    `json:"note"` // the signed note, with any cosignatures
	Time   time.Time `json:"time,omitzero"`
	// VerifierKey is the note verifier key of the ledger's signing key,
	// for a witness's first contact; compare it with the key the node's
	// operators publish.
	VerifierKey string `json:"verifier_key,omitempty"`
}

func newCheckpointJSON(c Checkpoint) checkpointJSON {
	return checkpointJSON{Origin: c.Origin, Size: c.Size, Root: c.Root, Note: string(c.Note), Time: c.Time}
}

// checkpointCovering returns the newest checkpoint if it covers at least
// n events; otherwise it integrates what is pending and signs a new one.
// The result covers fewer than n events only if the ledger holds fewer.
func (l *Ledger) checkpointCovering(ctx context.Context, n uint64) (Checkpoint, error) {
	cp, err := l.LatestCheckpoint(ctx)
	switch {
	case err == nil && cp.Size >= n:
		return cp, nil
	case err != nil && !errors.Is(err, errs.ErrNotFound):
		return Checkpoint{}, err
	}
	if _, err := l.Integrate(ctx); err != nil {
		return Checkpoint{}, err
	}
	return l.Checkpoint(ctx)
}

// eventProof is an event with what proves that the ledger holds it: its
// leaf hash, recomputed from its fields as stored, and its inclusion
// proof against a signed checkpoint.
type eventProof struct {
	Event      Event
	Leaf       []byte
	Checkpoint Checkpoint
	Proof      [][]byte
}

// proveEvent returns event seq with its inclusion proof against the
// newest checkpoint, signing one if none covers the event yet. It returns
// an error wrapping errs.ErrNotFound if there is no such event.
func (l *Ledger) proveEvent(ctx context.Context, seq uint64) (eventProof, error) {
	e, err := l.Event(ctx, seq)
	if err != nil {
		return eventProof{}, err
	}
	return l.proofOf(ctx, e)
}

// proofOf returns what proves that the ledger holds e, as far as it could
// be built: an error leaves the fields before the failing step set.
func (l *Ledger) proofOf(ctx context.Context, e Event) (eventProof, error) {
	p := eventProof{Event: e}
	var err error
	if p.Leaf, err = e.LeafHash(); err != nil {
		return p, fmt.Errorf("audit: event %d cannot be encoded: %w", e.Seq, err)
	}
	if p.Checkpoint, err = l.checkpointCovering(ctx, e.Seq+1); err != nil {
		return p, err
	}
	if p.Checkpoint.Size <= e.Seq {
		return p, fmt.Errorf("%w: event %d is not in the tree yet", errs.ErrNotFound, e.Seq)
	}
	if p.Proof, err = l.InclusionProof(ctx, e.Seq, p.Checkpoint.Size); err != nil {
		return p, err
	}
	return p, nil
}

// verify checks the proof: the event's leaf, at its index, leads to the
// checkpoint's signed root. It returns an error wrapping ErrBadProof if
// not.
func (p eventProof) verify() error {
	return VerifyInclusion(p.Leaf, p.Event.Seq, p.Checkpoint.Size, p.Proof, p.Checkpoint.Root)
}

// nonNil returns hashes, or an empty list for nil, so that JSON shows [].
func nonNil(hashes [][]byte) [][]byte {
	if hashes == nil {
		return [][]byte{}
	}
	return hashes
}

// eventProofJSON is an event with its proof in the API.
type eventProofJSON struct {
	Event      Event          `json:"event"`
	LeafHash   []byte         `json:"leaf_hash"`
	Checkpoint checkpointJSON `json:"checkpoint"`
	Proof      [][]byte       `json:"proof"`
}

func (h *Handler) apiEvent(w http.ResponseWriter, r *http.Request) {
	seq, err := parseCount("seq", r.PathValue("seq"), 0)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	e, err := h.l.readableEvent(r.Context(), web.SubjectFrom(r.Context()), authz.Read, seq)
	var p eventProof
	if err == nil {
		p, err = h.l.proofOf(r.Context(), e)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, eventProofJSON{Event: p.Event, LeafHash: p.Leaf, Checkpoint: newCheckpointJSON(p.Checkpoint), Proof: nonNil(p.Proof)})
}

// apiLatestCheckpoint serves the newest signed checkpoint: the note as
// text/plain (what witnesses and tlog tools read), or as JSON with the
// ledger's verifier key when the client accepts application/json.
func (h *Handler) apiLatestCheckpoint(w http.ResponseWriter, r *http.Request) {
	cp, err := h.l.checkpointCovering(r.Context(), 0)
	if err == nil {
		cp, err = h.l.withCosignatures(r.Context(), cp)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(cp.Note) //nolint:errcheck // the client went away
		return
	}
	out := newCheckpointJSON(cp)
	if out.VerifierKey, err = h.l.VerifierKey(); err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, out)
}

// inclusionProofJSON is an inclusion proof in the API.
type inclusionProofJSON struct {
	Seq   uint64   `json:"seq"`
	Size  uint64   `json:"size"`
	Proof [][]byte `json:"proof"`
}

func (h *Handler) apiInclusionProof(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	seq, err := parseCount("seq", q.Get("seq"), 0)
	var size uint64
	if err == nil {
		size, err = parseCount("size", q.Get("size"), 1)
	}
	var proof [][]byte
	if err == nil {
		proof, err = h.l.InclusionProof(r.Context(), seq, size)
	}
	if err == nil {
		// The proof of an event above the reader's clearance is refused
		// like the event itself: it would confirm a guess at its record.
		_, err = h.l.readableEvent(r.Context(), web.SubjectFrom(r.Context()), authz.Read, seq)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, inclusionProofJSON{Seq: seq, Size: size, Proof: nonNil(proof)})
}

// consistencyProofJSON is a consistency proof in the API.
type consistencyProofJSON struct {
	From  uint64   `json:"from"`
	To    uint64   `json:"to"`
	Proof [][]byte `json:"proof"`
}

func (h *Handler) apiConsistencyProof(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err := parseCount("from", q.Get("from"), 1)
	var to uint64
	if err == nil {
		to, err = parseCount("to", q.Get("to"), 1)
	}
	if err == nil && from > to {
		err = errs.Invalid("from", fmt.Sprintf("tree size %d is greater than to, %d: a tree can only extend a smaller one", from, to))
	}
	var proof [][]byte
	if err == nil {
		proof, err = h.l.ConsistencyProof(r.Context(), from, to)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, consistencyProofJSON{From: from, To: to, Proof: nonNil(proof)})
}

// exportRange reads the range of an export, from_seq and to_seq, both
// inclusive and optional: the first event, and the last one the export's
// checkpoint covers.
func exportRange(fromSeq, toSeq string) (from uint64, to *uint64, err error) {
	if fromSeq != "" {
		if from, err = parseCount("from_seq", fromSeq, 0); err != nil {
			return 0, nil, err
		}
	}
	if toSeq != "" {
		n, err := parseCount("to_seq", toSeq, 0)
		if err != nil {
			return 0, nil, err
		}
		if n < from {
			return 0, nil, errs.Invalid("to_seq", "must not be before from_seq")
		}
		to = &n
	}
	return from, to, nil
}

// exportPlan is what an export covers, fixed before it starts: one signed
// checkpoint, and events From to To (inclusive), which it covers.
type exportPlan struct {
	Checkpoint  Checkpoint
	VerifierKey string
	From, To    uint64
}

// planExport fixes an export of events from to *to (the last covered if
// to is nil) against a checkpoint covering them. It returns an
// *errs.FieldError naming from_seq or to_seq for events the ledger does
// not hold.
func (l *Ledger) planExport(ctx context.Context, from uint64, to *uint64) (exportPlan, error) {
	need := from + 1
	if to != nil {
		need = *to + 1
	}
	cp, err := l.checkpointCovering(ctx, need)
	if err != nil {
		return exportPlan{}, err
	}
	if cp.Size == 0 {
		return exportPlan{}, errs.Invalid("from_seq", "the ledger holds no events yet")
	}
	held := fmt.Sprintf("the ledger holds events 0 to %d", cp.Size-1)
	if from >= cp.Size {
		return exportPlan{}, errs.Invalid("from_seq", fmt.Sprintf("there is no event %d: %s", from, held))
	}
	plan := exportPlan{Checkpoint: cp, From: from, To: cp.Size - 1}
	if to != nil {
		if *to >= cp.Size {
			return exportPlan{}, errs.Invalid("to_seq", fmt.Sprintf("there is no event %d: %s", *to, held))
		}
		plan.To = *to
	}
	if plan.VerifierKey, err = l.VerifierKey(); err != nil {
		return exportPlan{}, err
	}
	return plan, nil
}

// ExportAction is the action of the event that records an export.
const ExportAction = "audit.export"

// exportEvent returns the event that records the export plan by the
// caller whose origin ctx carries.
func exportEvent(ctx context.Context, plan exportPlan) (Event, error) {
	o, ok := OriginFrom(ctx)
	if !ok || o.Anonymous() {
		return Event{}, errors.New("audit: an export needs the caller's audit origin on its request; the server must put it there (see RequestOrigin)")
	}
	from, to := strconv.FormatUint(plan.From, 10), strconv.FormatUint(plan.To, 10)
	e := o.Event(ExportAction)
	e.ResourceType, e.ResourceID = "audit_event", from+"-"+to
	e.Attrs = map[string]string{"from_seq": from, "to_seq": to, "checkpoint_size": strconv.FormatUint(plan.Checkpoint.Size, 10)}
	return e, nil
}

// RequestOrigin is the server's middleware that puts on every request
// the Origin of its signed-in principal (see WithOrigin): the staff
// member or citizen, their unit and the request's id. A request from
// nobody signed in gets an anonymous origin that still carries the
// request id. It goes after web.Authenticate.
func RequestOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := web.PrincipalFrom(r.Context())
		o := Origin{RequestID: web.RequestID(r.Context())}
		if a, ok := ActorOf(p.Subject, p.Username); ok {
			o.Actor, o.UnitID = a, p.Subject.Unit
		}
		next.ServeHTTP(w, r.WithContext(WithOrigin(r.Context(), o)))
	})
}

func (h *Handler) apiExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to, err := exportRange(q.Get("from_seq"), q.Get("to_seq"))
	var plan exportPlan
	if err == nil {
		plan, err = h.l.planExport(r.Context(), from, to)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	h.export(w, r, plan)
}

// export records the export in the ledger, durably, and only then
// streams it as JSON Lines.
func (h *Handler) export(w http.ResponseWriter, r *http.Request, plan exportPlan) {
	e, err := exportEvent(r.Context(), plan)
	if err == nil {
		_, err = h.l.Append(r.Context(), e)
	}
	if err != nil {
		web.Error(w, r, fmt.Errorf("audit: record the export: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%d-%d.jsonl"`, plan.From, plan.To))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	// A long export may outlast the server's write timeout, which runs
	// from the request's arrival: each write that gets out earns the
	// next one a minute, whether the buffer filled or a batch ended.
	bw := bufio.NewWriterSize(deadlineWriter{w, rc}, 64<<10)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		rc.Flush() //nolint:errcheck // not every writer flushes
		return nil
	}
	s := web.SubjectFrom(r.Context())
	show := func(e Event) bool { return mayRead(s, authz.Export, e) == nil }
	if err := h.l.writeExport(r.Context(), bw, plan, show, flush); err != nil {
		log := web.Logger(r.Context())
		if r.Context().Err() != nil {
			log.Info("audit: export abandoned by the client", "from_seq", plan.From, "to_seq", plan.To, "err", err)
			return
		}
		log.Error("audit: export broke off", "from_seq", plan.From, "to_seq", plan.To, "err", err)
	}
	flush() //nolint:errcheck // the client went away
}

// The lines of an export (application/x-ndjson): one exportHeader, one
// exportEntry per event in order, then exportEnd, or exportFailure if
// the export broke off. Events above the reader's clearance are left out,
// so sequence numbers may skip; each entry's proof stands on its own. A verifier that sees no exportEnd must treat the
// export as incomplete.
type (
	exportHeader struct {
		Format      string `json:"format"`
		Origin      string `json:"origin"`
		Checkpoint  string `json:"checkpoint"` // the signed note every proof leads to
		VerifierKey string `json:"verifier_key"`
		Size        uint64 `json:"size"`
		Root        []byte `json:"root"`
		FromSeq     uint64 `json:"from_seq"`
		ToSeq       uint64 `json:"to_seq"`
	}
	exportEntry struct {
		Event    Event    `json:"event"`
		LeafHash []byte   `json:"leaf_hash"`
		Proof    [][]byte `json:"proof"`
	}
	exportEnd struct {
		End    bool   `json:"end"`
		Events uint64 `json:"events"`
	}
	exportFailure struct {
		Error string `json:"error"`
	}
)

// deadlineWriter moves the connection's write deadline a minute ahead
// of each write, so that a stream is cut only when the client stops
// reading, not when it is merely long.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.rc.SetWriteDeadline(time.Now().Add(time.Minute)) //nolint:errcheck // not every writer has deadlines
	return d.w.Write(p)
}

// ExportFormat names the layout of an export in its first line.
const ExportFormat = "chancery-audit-export/v1"

// exportFlushEvery is how many events go out between flushes.
const exportFlushEvery = 256

// writeExport writes plan's export to w, with the events show accepts
// (those the reader may export; the others are left out, and the end
// line counts only those written), calling flush after every few
// events. Memory stays bounded: events are read one at a time (archived
// ones streamed from their file). If reading fails part-way, the export
// ends with an exportFailure line and writeExport returns the error.
func (l *Ledger) writeExport(ctx context.Context, w io.Writer, plan exportPlan, show func(Event) bool, flush func() error) error {
	enc := json.NewEncoder(w)
	cp := plan.Checkpoint
	if err := enc.Encode(exportHeader{Format: ExportFormat, Origin: cp.Origin, Checkpoint: string(cp.Note), VerifierKey: plan.VerifierKey,
		Size: cp.Size, Root: cp.Root, FromSeq: plan.From, ToSeq: plan.To}); err != nil {
		return err
	}
	var n uint64
	err := l.eachEvent(ctx, plan.From, plan.To, func(e Event) error {
		if !show(e) {
			return nil
		}
		leaf, err := e.LeafHash()
		if err != nil {
			return fmt.Errorf("audit: event %d cannot be encoded: %w", e.Seq, err)
		}
		proof, err := l.InclusionProof(ctx, e.Seq, cp.Size)
		if err != nil {
			return err
		}
		if err := enc.Encode(exportEntry{Event: e, LeafHash: leaf, Proof: nonNil(proof)}); err != nil {
			return err
		}
		if n++; n%exportFlushEvery == 0 {
			return flush()
		}
		return nil
	})
	if err != nil {
		enc.Encode(exportFailure{Error: "the export broke off after " + strconv.FormatUint(n, 10) + " events; it is incomplete"}) //nolint:errcheck // already failing
		return err
	}
	return enc.Encode(exportEnd{End: true, Events: n})
}

// errStopArchive ends the reading of an archive file early.
var errStopArchive = errors.New("audit: stop reading the archive")

// eachEvent calls fn with events from to to (inclusive), in order. Events
// in an archived range are streamed from its file in one pass, not looked
// up one by one.
func (l *Ledger) eachEvent(ctx context.Context, from, to uint64, fn func(Event) error) error {
	archives, err := listArchives(ctx, l.db)
	if err != nil {
		return err
	}
	seq := from
	for _, a := range archives {
		if seq > to {
			return nil
		}
		if a.end <= seq || a.first > seq {
			continue
		}
		err := l.readArchive(ctx, a, func(e *Event, lineErr error) error {
			switch {
			case lineErr != nil:
				return fmt.Errorf("audit: archive %s: event %d does not decode (run audit verify): %w", a.key, seq, lineErr)
			case e.Seq < seq:
				return nil
			case e.Seq > to:
				return errStopArchive
			case e.Seq != seq:
				return fmt.Errorf("audit: archive %s lacks event %d; run audit verify", a.key, seq)
			}
			seq++
			return fn(*e)
		})
		if err != nil && !errors.Is(err, errStopArchive) {
			return err
		}
		if seq < min(a.end, to+1) {
			return fmt.Errorf("audit: archive %s lacks event %d; run audit verify", a.key, seq)
		}
	}
	for ; seq <= to; seq++ {
		e, err := l.Event(ctx, seq)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}
