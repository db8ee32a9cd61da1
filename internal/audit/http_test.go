package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/console"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// The tests of the API, pages, command line and remote source act from
// outside the package, as the node and outside verifiers do.

const fixtureOrigin = "chancery.mofa.gov.vn/audit/test"

// fixtureRing returns a keyring held in memory.
func fixtureRing(tb testing.TB) *keys.Ring { return audittest.MustRing(tb) }

// fixtureLedger opens a ledger on db and closes it when tb ends.
func fixtureLedger(tb testing.TB, db *store.DB, ring *keys.Ring, opts audit.Options) *audit.Ledger {
	tb.Helper()
	if opts.Origin == "" {
		opts.Origin = fixtureOrigin
	}
	return audittest.MustLedgerWith(tb, db, ring, opts)
}

// fixtureEvent returns the i-th of a varied series of events, an hour
// apart from 2025-03-01 08:00 in Viet Nam.
func fixtureEvent(i int) audit.Event {
	e := audit.Event{
		Time:         time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour),
		Actor:        audit.Staff(int64(100+i%3), fmt.Sprintf("Trần Thị %d", i%3)),
		UnitID:       int64(1 + i%2),
		Action:       []string{"record.read", "record.update", "login"}[i%3],
		ResourceType: "record",
		ResourceID:   fmt.Sprintf("2025-%04d", i),
		Level:        authz.Level(i % 4),
		Outcome:      []audit.Outcome{audit.Allowed, audit.Denied, audit.OK, audit.Failed}[i%4],
		RequestID:    fmt.Sprintf("req-%d", i),
		Attrs:        map[string]string{"ip": fmt.Sprintf("10.0.0.%d", i)},
	}
	return e
}

// fixtureAppend appends events [from, to) of the series and integrates
// them.
func fixtureAppend(tb testing.TB, l *audit.Ledger, from, to int) {
	tb.Helper()
	ctx := context.Background()
	for i := from; i < to; i++ {
		if _, err := l.Append(ctx, fixtureEvent(i)); err != nil {
			tb.Fatalf("Append(%d): %v", i, err)
		}
	}
	if _, err := l.Integrate(ctx); err != nil {
		tb.Fatalf("Integrate: %v", err)
	}
}

// fixtureSize returns the number of integrated events.
func fixtureSize(tb testing.TB, l *audit.Ledger) uint64 {
	tb.Helper()
	size, _, err := l.Head(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return size
}

// The principals tests act as.
var (
	asAuditor = staffPrincipal(7, "auditor", authz.Auditor)
	asSecOff  = staffPrincipal(8, "security.officer", authz.SecurityOfficer)
	asClerk   = staffPrincipal(9, "clerk", authz.Clerk)
	asNobody  = web.Principal{}
)

// asUncleared is an auditor cleared for no classified level.
var asUncleared = func() web.Principal {
	p := staffPrincipal(10, "auditor.uncleared", authz.Auditor)
	p.Subject.Clearance = authz.Unclassified
	return p
}()

// staffPrincipal returns a staff member in role, cleared for top secret
// so that every event of the fixtures is theirs to read.
func staffPrincipal(id int64, username string, role authz.Role) web.Principal {
	return web.Principal{Subject: authz.Subject{Kind: authz.Staff, ID: id, Unit: 3, Roles: authz.RolesOf(role), Clearance: authz.TopSecret},
		Username: username, Name: "Kiểm Toán " + username, Stage: "full"}
}

// node is a ledger behind its handlers, as the app wires them.
type node struct {
	l     *audit.Ledger
	db    *store.DB
	ring  *keys.Ring
	shell *web.Shell
	rt    *web.Router
}

func newNode(tb testing.TB, db *store.DB, ring *keys.Ring, opts audit.Options) *node {
	tb.Helper()
	n := &node{l: fixtureLedger(tb, db, ring, opts), db: db, ring: ring, shell: webtest.Shell(tb, audit.Texts(), console.Texts()), rt: web.NewRouter()}
	h, err := audit.NewHandler(n.l, n.shell)
	if err != nil {
		tb.Fatal(err)
	}
	h.Register(n.rt)
	return n
}

// do serves one request as p (the zero Principal: nobody signed in).
func (n *node) do(p web.Principal, method, target string, header http.Header, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range header {
		r.Header[k] = v
	}
	return webtest.Serve(n.shell, audit.RequestOrigin(n.rt), p, r)
}

func (n *node) get(p web.Principal, target string) *httptest.ResponseRecorder {
	return n.do(p, http.MethodGet, target, nil, "")
}

// decode decodes a JSON answer, failing the test on a wrong status.
func decode[T any](tb testing.TB, w *httptest.ResponseRecorder, status int) T {
	tb.Helper()
	var v T
	if w.Code != status {
		tb.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		tb.Fatalf("answer is not the JSON expected: %v: %s", err, w.Body)
	}
	return v
}

// parseNote checks that signed is a checkpoint signed by vkey's key, as
// an outside verifier would with golang.org/x/mod/sumdb/note alone, and
// returns its size and root.
func parseNote(tb testing.TB, signed []byte, vkey string) (uint64, []byte) {
	tb.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		tb.Fatalf("verifier key %q: %v", vkey, err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		tb.Fatalf("checkpoint does not open with the ledger's key: %v\n%s", err, signed)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != v.Name() {
		tb.Fatalf("checkpoint text %q is not origin, size, root", n.Text)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	root, err2 := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || err2 != nil {
		tb.Fatalf("checkpoint text %q: %v %v", n.Text, err, err2)
	}
	return size, root
}

// b64 returns b in standard base64, as html/template writes it in a
// page's text (it escapes '+').
func b64(b []byte) string {
	return strings.ReplaceAll(base64.StdEncoding.EncodeToString(b), "+", "&#43;")
}

// leafHash computes an event's leaf as an outside verifier does: the RFC
// 6962 leaf hash of its canonical encoding.
func leafHash(tb testing.TB, e audit.Event) []byte {
	tb.Helper()
	b, err := e.MarshalLeaf()
	if err != nil {
		tb.Fatal(err)
	}
	return rfc6962.DefaultHasher.HashLeaf(b)
}

func TestAPIIsForAuditorsAndSecurityOfficers(t *testing.T) {
	n := newNode(t, storetest.MustOpen(t, store.SQLite), fixtureRing(t), audit.Options{})
	fixtureAppend(t, n.l, 0, 4)
	targets := []string{
		"/api/v1/audit/events",
		"/api/v1/audit/events/1",
		"/api/v1/audit/checkpoints/latest",
		"/api/v1/audit/proofs/inclusion?seq=1&size=3",
		"/api/v1/audit/proofs/consistency?from=1&to=3",
		"/api/v1/audit/export?from_seq=0&to_seq=1",
	}
	tests := []struct {
		who    string
		p      web.Principal
		status int
	}{
		{"auditor", asAuditor, http.StatusOK},
		{"security officer", asSecOff, http.StatusOK},
		{"clerk", asClerk, http.StatusForbidden},
		{"anonymous", asNobody, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		for _, target := range targets {
			if w := n.get(tt.p, target); w.Code != tt.status {
				t.Errorf("%s GET %s = %d, want %d: %s", tt.who, target, w.Code, tt.status, w.Body)
			}
		}
	}
}

func TestMalformedRequestsAreRefusedWithAProblem(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newNode(t, db, fixtureRing(t), audit.Options{})
		fixtureAppend(t, n.l, 0, 5)
		tests := []struct{ target, want string }{
			{"/api/v1/audit/proofs/inclusion?seq=5&size=5", "not in a tree of size 5"},
			{"/api/v1/audit/proofs/inclusion?seq=0&size=0", "size: must be at least 1"},
			{"/api/v1/audit/proofs/inclusion?seq=0&size=6", "beyond the ledger's 5"},
			{"/api/v1/audit/proofs/inclusion?seq=x&size=3", "seq: must be a whole number"},
			{"/api/v1/audit/proofs/inclusion?seq=-1&size=3", "seq: must be a whole number"},
			{"/api/v1/audit/proofs/inclusion?seq=1", "size: is required"},
			{"/api/v1/audit/proofs/inclusion?seq=1&size=99999999999999999999", "size: is larger than any ledger"},
			{"/api/v1/audit/proofs/consistency?from=4&to=2", "greater than"},
			{"/api/v1/audit/proofs/consistency?from=0&to=2", "from: must be at least 1"},
			{"/api/v1/audit/proofs/consistency?from=2&to=9", "beyond the ledger's 5"},
			{"/api/v1/audit/proofs/consistency?from=2&to=3.0", "to: must be a whole number"},
			{"/api/v1/audit/events/abc", "seq: must be a whole number"},
			{"/api/v1/audit/events?outcome=maybe", "outcome"},
			{"/api/v1/audit/events?actor_kind=robot", "actor_kind"},
			{"/api/v1/audit/events?from=yesterday", "from: must be a day"},
			{"/api/v1/audit/events?from=2025-03-02&to=2025-03-01", "to: the end of the time range"},
			{"/api/v1/audit/events?action=Record.Read", "action"},
			{"/api/v1/audit/events?after=0", "after: must be at least 1"},
			{"/api/v1/audit/export?from_seq=3&to_seq=2", "to_seq: must not be before from_seq"},
			{"/api/v1/audit/export?from_seq=2&to_seq=5", "to_seq: there is no event 5"},
			{"/api/v1/audit/export?from_seq=7", "from_seq: there is no event 7"},
			{"/api/v1/audit/export?to_seq=two", "to_seq: must be a whole number"},
		}
		for _, tt := range tests {
			w := n.get(asAuditor, tt.target)
			if w.Code != http.StatusBadRequest || w.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(w.Body.String(), tt.want) {
				t.Errorf("GET %s = %d %s %s; want 400 problem+json saying %q", tt.target, w.Code, w.Header().Get("Content-Type"), w.Body, tt.want)
			}
		}
		if size := fixtureSize(t, n.l); size != 5 {
			t.Errorf("refused requests changed the ledger: %d events, want 5 (a refused export must not be recorded)", size)
		}
		if w := n.get(asAuditor, "/api/v1/audit/events/5"); w.Code != http.StatusNotFound {
			t.Errorf("GET an event beyond the ledger = %d, want 404", w.Code)
		}
	})
}

// eventProofAnswer is GET /api/v1/audit/events/{seq} as a client reads it.
type eventProofAnswer struct {
	Event      audit.Event `json:"event"`
	LeafHash   []byte      `json:"leaf_hash"`
	Checkpoint struct {
		Origin string `json:"origin"`
		Size   uint64 `json:"size"`
		Root   []byte `json:"root"`
		Note   string `json:"note"`
	} `json:"checkpoint"`
	Proof [][]byte `json:"proof"`
}

func TestEventProofsFromTheAPIVerify(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n := newNode(t, db, fixtureRing(t), audit.Options{})
		vkey, err := n.l.VerifierKey()
		if err != nil {
			t.Fatal(err)
		}
		fixtureAppend(t, n.l, 0, 6)
		if _, err := n.l.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		// Events 6 to 10 are not covered by a checkpoint yet: asking for
		// their proof signs one.
		fixtureAppend(t, n.l, 6, 11)
		for _, seq := range []uint64{0, 3, 5, 6, 10} {
			a := decode[eventProofAnswer](t, n.get(asAuditor, fmt.Sprintf("/api/v1/audit/events/%d", seq)), http.StatusOK)
			size, root := parseNote(t, []byte(a.Checkpoint.Note), vkey)
			if size != a.Checkpoint.Size || !bytes.Equal(root, a.Checkpoint.Root) || size <= seq {
				t.Fatalf("event %d: checkpoint fields %d/%x disagree with its note %d/%x", seq, a.Checkpoint.Size, a.Checkpoint.Root, size, root)
			}
			want := fixtureEvent(int(seq))
			if a.Event.Seq != seq || a.Event.RequestID != want.RequestID || !bytes.Equal(a.LeafHash, leafHash(t, a.Event)) {
				t.Fatalf("event %d: got %+v with leaf %x", seq, a.Event, a.LeafHash)
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, seq, size, leafHash(t, a.Event), a.Proof, root); err != nil {
				t.Errorf("event %d: inclusion proof does not verify: %v", seq, err)
			}
			ip := decode[proofAnswer](t, n.get(asAuditor, fmt.Sprintf("/api/v1/audit/proofs/inclusion?seq=%d&size=%d", seq, size)), http.StatusOK)
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, seq, size, a.LeafHash, ip.Proof, root); err != nil {
				t.Errorf("event %d: proofs/inclusion does not verify: %v", seq, err)
			}
		}
		// The checkpoints at 6 and 11 are consistent, as the API proves.
		old, err := n.l.LatestCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fixtureAppend(t, n.l, 11, 20)
		if _, err := n.l.Checkpoint(ctx); err != nil { // as Run does periodically
			t.Fatal(err)
		}
		latest := n.get(asAuditor, "/api/v1/audit/checkpoints/latest")
		newSize, newRoot := parseNote(t, latest.Body.Bytes(), vkey)
		if newSize != 20 {
			t.Fatalf("latest checkpoint has size %d, want 20: %s", newSize, latest.Body)
		}
		c := decode[proofAnswer](t, n.get(asAuditor, fmt.Sprintf("/api/v1/audit/proofs/consistency?from=%d&to=%d", old.Size, newSize)), http.StatusOK)
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, newSize, c.Proof, old.Root, newRoot); err != nil {
			t.Errorf("consistency proof %d→%d does not verify: %v", old.Size, newSize, err)
		}
	})
}

func TestLatestCheckpointIsTextOrJSONByAccept(t *testing.T) {
	n := newNode(t, storetest.MustOpen(t, store.SQLite), fixtureRing(t), audit.Options{})
	fixtureAppend(t, n.l, 0, 3)
	vkey, _ := n.l.VerifierKey()
	text := n.get(asAuditor, "/api/v1/audit/checkpoints/latest")
	if ct := text.Header().Get("Content-Type"); text.Code != http.StatusOK || !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("plain latest = %d %s", text.Code, ct)
	}
	if size, _ := parseNote(t, text.Body.Bytes(), vkey); size != 3 {
		t.Errorf("latest checkpoint size %d, want 3", size)
	}
	j := decode[struct {
		Origin      string `json:"origin"`
		Size        uint64 `json:"size"`
		Note        string `json:"note"`
		VerifierKey string `json:"verifier_key"`
	}](t, n.do(asAuditor, http.MethodGet, "/api/v1/audit/checkpoints/latest", http.Header{"Accept": {"application/json"}}, ""), http.StatusOK)
	if j.VerifierKey != vkey || j.Origin != fixtureOrigin || j.Size != 3 || j.Note != text.Body.String() {
		t.Errorf("JSON latest = %+v; want the same note with verifier key %s", j, vkey)
	}
}

// proofAnswer is an inclusion or consistency proof from the API.
type proofAnswer struct {
	Proof [][]byte `json:"proof"`
}

// eventPage is GET /api/v1/audit/events as a client reads it.
type eventPage struct {
	Items []audit.Event `json:"items"`
	Next  string        `json:"next"`
}

func TestEventSearchFiltersAndPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newNode(t, db, fixtureRing(t), audit.Options{})
		fixtureAppend(t, n.l, 0, 30) // one an hour from 2025-03-01 08:00 in Viet Nam
		seqs := func(items []audit.Event) []uint64 {
			var out []uint64
			for _, e := range items {
				out = append(out, e.Seq)
			}
			return out
		}
		tests := []struct {
			query string
			want  []uint64
		}{
			{"actor_kind=staff&actor=101&outcome=allowed", []uint64{28, 16, 4}},
			{"unit=2&action=record.update", []uint64{25, 19, 13, 7, 1}},
			{"resource_type=record&resource_id=2025-0017", []uint64{17}},
			{"outcome=denied&from=2025-03-01&to=2025-03-01", []uint64{13, 9, 5, 1}}, // the whole day in Viet Nam: events 0 to 15
			{"from=2025-03-02T05:00:00%2B07:00&to=2025-03-02T08:00:00%2B07:00", []uint64{23, 22, 21}},
			{"actor=nobody", nil},
		}
		for _, tt := range tests {
			p := decode[eventPage](t, n.get(asAuditor, "/api/v1/audit/events?"+tt.query), http.StatusOK)
			if got := seqs(p.Items); fmt.Sprint(got) != fmt.Sprint(tt.want) || p.Next != "" {
				t.Errorf("search %s = %v next %q, want %v and no next page", tt.query, got, p.Next, tt.want)
			}
		}
		var all []uint64
		next := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			p := decode[eventPage](t, n.get(asAuditor, "/api/v1/audit/events?limit=7&after="+url.QueryEscape(next)), http.StatusOK)
			if len(p.Items) > 7 {
				t.Fatalf("page of %d events, limit 7", len(p.Items))
			}
			all = append(all, seqs(p.Items)...)
			if next = p.Next; next == "" {
				break
			}
		}
		if len(all) != 30 || all[0] != 29 || all[29] != 0 {
			t.Errorf("paging through every event gave %v, want 29 down to 0", all)
		}
	})
}

// exportLines reads an export as an outside verifier does, with only
// sumdb/note and merkle/proof: the first line's checkpoint must be signed
// by vkey, every event's leaf hash must be its fields' and its proof lead
// to the checkpoint's root, and the export must end with its count. It
// returns the events.
func exportLines(tb testing.TB, body []byte, vkey string) []audit.Event {
	tb.Helper()
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		tb.Fatal("empty export")
	}
	var head struct {
		Format      string `json:"format"`
		Checkpoint  string `json:"checkpoint"`
		VerifierKey string `json:"verifier_key"`
		Size        uint64 `json:"size"`
		Root        []byte `json:"root"`
		FromSeq     uint64 `json:"from_seq"`
		ToSeq       uint64 `json:"to_seq"`
	}
	if err := json.Unmarshal(sc.Bytes(), &head); err != nil || head.Format != audit.ExportFormat {
		tb.Fatalf("first line %s: %v", sc.Bytes(), err)
	}
	if head.VerifierKey != vkey {
		tb.Fatalf("export names verifier key %s, the node publishes %s", head.VerifierKey, vkey)
	}
	size, root := parseNote(tb, []byte(head.Checkpoint), vkey)
	if size != head.Size || !bytes.Equal(root, head.Root) || head.ToSeq >= size {
		tb.Fatalf("header %+v disagrees with its signed checkpoint %d %x", head, size, root)
	}
	var events []audit.Event
	next := head.FromSeq
	for sc.Scan() {
		var line struct {
			Event    *audit.Event `json:"event"`
			LeafHash []byte       `json:"leaf_hash"`
			Proof    [][]byte     `json:"proof"`
			End      bool         `json:"end"`
			Events   uint64       `json:"events"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			tb.Fatalf("line %s: %v", sc.Bytes(), err)
		}
		if line.End {
			if line.Events != uint64(len(events)) || next > head.ToSeq+1 || sc.Scan() {
				tb.Fatalf("export ends claiming %d events after %d, at %d of %d..%d", line.Events, len(events), next, head.FromSeq, head.ToSeq)
			}
			return events
		}
		if line.Event == nil {
			tb.Fatalf("line is neither an event nor the end: %s", sc.Bytes())
		}
		e := *line.Event
		if e.Seq < next || e.Seq > head.ToSeq {
			tb.Fatalf("event %d where %d..%d was due", e.Seq, next, head.ToSeq)
		}
		leaf := leafHash(tb, e)
		if !bytes.Equal(leaf, line.LeafHash) {
			tb.Fatalf("event %d: leaf hash %x is not its fields' %x", e.Seq, line.LeafHash, leaf)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, e.Seq, size, leaf, line.Proof, root); err != nil {
			tb.Fatalf("event %d: %v", e.Seq, err)
		}
		events = append(events, e)
		next = e.Seq + 1
	}
	tb.Fatalf("export has no end line after %d events: it is incomplete", len(events))
	return nil
}

// exportEvents returns the audit.export events recorded.
func exportEvents(tb testing.TB, l *audit.Ledger) []audit.Event {
	tb.Helper()
	if _, err := l.Integrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	events, err := l.Search(context.Background(), audit.Query{Action: audit.ExportAction})
	if err != nil {
		tb.Fatal(err)
	}
	return events
}

func TestExportVerifiesOfflineAndIsItselfAudited(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		bucket, err := store.OpenBucket(context.Background(), "mem://", "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bucket.Close() })
		n := newNode(t, db, fixtureRing(t), audit.Options{Archive: bucket})
		vkey, _ := n.l.VerifierKey()
		fixtureAppend(t, n.l, 0, 40)
		// Events before 12 live in the archive from now on; the export
		// reads them back.
		if _, err := n.l.Archive(context.Background(), 12); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			query    string
			from, to uint64
		}{
			{"from_seq=3&to_seq=30", 3, 30},
			{"from_seq=12&to_seq=12", 12, 12},
			{"", 0, 39},
		}
		for i, tt := range tests {
			w := n.get(asAuditor, "/api/v1/audit/export?"+tt.query)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/x-ndjson" ||
				!strings.Contains(w.Header().Get("Content-Disposition"), "attachment") {
				t.Fatalf("export %s = %d %v: %s", tt.query, w.Code, w.Header(), w.Body)
			}
			events := exportLines(t, w.Body.Bytes(), vkey)
			if len(events) != int(tt.to-tt.from+1) || events[0].Seq != tt.from {
				t.Errorf("export %s has %d events from %d, want %d..%d", tt.query, len(events), events[0].Seq, tt.from, tt.to)
			}
			for _, e := range events {
				if e.Action == audit.ExportAction {
					continue // an earlier export, recorded in the ledger
				}
				if want := fixtureEvent(int(e.Seq)); e.RequestID != want.RequestID {
					t.Errorf("export %s: event %d is %s, want %s", tt.query, e.Seq, e.RequestID, want.RequestID)
				}
			}
			recorded := exportEvents(t, n.l)
			if len(recorded) != i+1 {
				t.Fatalf("after %d exports the ledger records %d", i+1, len(recorded))
			}
			got := recorded[0]
			if got.Actor != audit.Staff(asAuditor.Subject.ID, asAuditor.Username) || got.UnitID != 3 || got.Outcome != audit.OK ||
				got.Attrs["from_seq"] != strconv.FormatUint(tt.from, 10) || got.Attrs["to_seq"] != strconv.FormatUint(tt.to, 10) {
				t.Errorf("export %s recorded as %+v", tt.query, got)
			}
		}
	})
}

func TestExportThatCannotBeRecordedIsNotSent(t *testing.T) {
	n := newNode(t, storetest.MustOpen(t, store.SQLite), fixtureRing(t), audit.Options{})
	fixtureAppend(t, n.l, 0, 5)
	if _, err := n.l.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	n.l.Close() // appends now fail
	w := n.get(asAuditor, "/api/v1/audit/export")
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), `"event"`) {
		t.Fatalf("export with the ledger closed = %d %s; want 500 and no events", w.Code, w.Body)
	}
}
