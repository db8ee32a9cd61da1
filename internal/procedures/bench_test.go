package procedures

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// submitClients is how many API clients BenchmarkSubmit runs at once: a
// fixed number of goroutines, each posting one dossier after another
// over its own keep-alive connection, as the one-stop shops' counters
// and the portal's back end would.
const submitClients = 16

// attachmentSize is the size of the file each benchmarked submission
// carries: a scanned page or two.
const attachmentSize = 100 << 10

// BenchmarkSubmit measures dossier submissions through the HTTP API
// (POST /api/v1/dossiers, multipart, one 100 KiB PDF) by submitClients
// concurrent clients, on each dialect, as dossiers/s, in two kinds:
// "online", a citizen's submission (registered, status 1), and "counter",
// a clerk's entry of an in-person dossier, which is also received at once
// (status 2: a second history entry, audit event and portal report). Each
// checks and seals the form, sniffs, seals and stores the file (in the
// fixture's file bucket), numbers the code, writes the history, the audit
// events (the real ledger) and the portal reports and queues the notice
// (to the fixture's outbox), while the portal sync sends the reports in
// the background (to the fixture's portal, which stands for the
// exchange: the exchange's throughput is measured in internal/exchange).
// portal-lag is how many reports were still unsent when the last
// submission was answered. raw-inserts/s is, in the same run on the same
// database, the rate of inserting copies of the same rows (the dossier,
// its history, its attachment's row) by as many clients, a transaction
// per dossier: no HTTP, no sealing, no blob, no audit, no portal report.
func BenchmarkSubmit(b *testing.B) {
	for _, d := range storetest.Dialects {
		for _, kind := range []struct {
			name    string
			channel Channel
			status  Status
		}{{"online", ChannelOnline, StatusRegistered}, {"counter", ChannelInPerson, StatusReceived}} {
			b.Run(string(d)+"/"+kind.name, func(b *testing.B) {
				f := newFixture(b, storetest.MustOpen(b, d))
				who := f.citizen
				if kind.channel == ChannelInPerson {
					who = f.clerk
				}
				srv := httptest.NewServer(f.signedIn(who, f.router(b)))
				b.Cleanup(srv.Close)
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: submitClients}}
				b.Cleanup(client.CloseIdleConnections)
				body, contentType := submission(b, kind.channel)

				ctx, stopSync := context.WithCancel(context.Background())
				synced := make(chan error, 1)
				go func() { synced <- f.svc.RunNationalPortalSync(ctx) }()
				b.ResetTimer()
				start := time.Now()
				err := inParallel(b.N, submitClients, func(int) error {
					return postDossier(client, srv.URL+"/api/v1/dossiers", contentType, body)
				})
				elapsed := time.Since(start)
				b.StopTimer()
				lag := f.unsentReports(b)
				stopSync()
				if serr := <-synced; err == nil {
					err = serr
				}
				if err != nil {
					b.Fatal(err)
				}
				f.checkSubmitted(b, b.N, kind.status)
				raw := f.rawInsertRate(b, b.N)
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "dossiers/s")
				b.ReportMetric(raw, "raw-inserts/s")
				b.ReportMetric(float64(lag), "portal-lag")
			})
		}
	}
}

// router returns the package's routes, as internal/app registers them.
func (f *fixture) router(tb testing.TB) *web.Router {
	tb.Helper()
	h, err := NewHandler(webtest.Shell(tb, Texts(), identity.Texts()), HandlerOptions{Service: f.svc})
	if err != nil {
		tb.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return rt
}

// signedIn puts sub's principal, as an API client with a bearer token,
// and audit origin on every request, as the server's session middleware
// does once a caller has signed in: signing in is not what the
// benchmarks measure.
func (f *fixture) signedIn(sub authz.Subject, next http.Handler) http.Handler {
	p := web.Principal{Subject: sub, Username: f.staffName[sub.ID], Name: f.staffName[sub.ID], Stage: "full", Bearer: true}
	o, _ := audit.OriginFrom(f.as(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := audit.WithOrigin(web.WithPrincipal(r.Context(), p), o)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// submission returns the body of a legalization dossier on channel (a
// clerk's is paid at the counter), with an attachmentSize-byte PDF of
// the paper.
func submission(tb testing.TB, channel Channel) ([]byte, string) {
	tb.Helper()
	dossier, err := json.Marshal(map[string]any{"procedure_code": "1.900001", "agency_code": consularCode,
		"channel": int(channel), "form": legalizationForm()})
	if err != nil {
		tb.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormField("dossier")
	if err == nil {
		_, err = part.Write(dossier)
	}
	if err == nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="attachment.paper"; filename="paper.pdf"`)
		h.Set("Content-Type", MediaPDF)
		part, err = mw.CreatePart(h)
	}
	if err == nil {
		_, err = part.Write(scannedPDF(attachmentSize))
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
	return body.Bytes(), mw.FormDataContentType()
}

// scannedPDF returns a PDF of size bytes whose stream is random, as a
// scan's compressed image is.
func scannedPDF(size int) []byte {
	head := []byte("%PDF-1.7\n1 0 obj<</Length 0>>stream\n")
	tail := []byte("\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
	out := make([]byte, size)
	copy(out, head)
	rand.Read(out[len(head) : size-len(tail)])
	copy(out[size-len(tail):], tail)
	return out
}

// postDossier submits a dossier and fails unless it was created.
func postDossier(client *http.Client, url, contentType string, body []byte) error {
	resp, err := client.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /api/v1/dossiers: %s: %s", resp.Status, answer)
	}
	return nil
}

// inParallel runs op(0) to op(n-1) on clients goroutines and returns the
// first error, after which no new op starts.
func inParallel(n, clients int, op func(i int) error) error {
	var (
		next   atomic.Int64
		failed atomic.Bool
		wg     sync.WaitGroup
		mu     sync.Mutex
		first  error
	)
	for range clients {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && !failed.Load(); i = int(next.Add(1)) - 1 {
				if err := op(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return first
}

// unsentReports counts the portal reports not yet taken by the exchange.
func (f *fixture) unsentReports(tb testing.TB) int {
	tb.Helper()
	var n int
	if err := f.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM portal_outbox WHERE sent_us = 0`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// checkSubmitted fails unless n dossiers are in status, each with its
// attachment, so the rate counts only real submissions.
func (f *fixture) checkSubmitted(tb testing.TB, n int, status Status) {
	tb.Helper()
	var dossiers, files int
	err := f.db.QueryRowContext(context.Background(), f.db.Rebind(`SELECT
		(SELECT COUNT(*) FROM dossiers WHERE status = ?),
		(SELECT COUNT(*) FROM dossier_attachments WHERE dossier_id IS NOT NULL AND size = ?)`), int(status), attachmentSize).Scan(&dossiers, &files)
	if err != nil {
		tb.Fatal(err)
	}
	if dossiers != n || files != n {
		tb.Fatalf("after %d submissions the database holds %d dossiers in status %d and %d attachments of %d bytes", n, dossiers, status, files, attachmentSize)
	}
}

// rawInsertRate copies the first submitted dossier's rows — the dossier,
// its history, its attachment's row — n times, under new codes and blob
// keys of the same length, by submitClients clients in a transaction per
// dossier, and returns the rate in dossiers per second.
func (f *fixture) rawInsertRate(tb testing.TB, n int) float64 {
	tb.Helper()
	ctx := context.Background()
	var id int64
	if err := f.db.QueryRowContext(ctx, `SELECT MIN(id) FROM dossiers`).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	dossier := readRows(tb, f.db, `SELECT * FROM dossiers WHERE id = ?`, id)
	events := readRows(tb, f.db, `SELECT * FROM dossier_events WHERE dossier_id = ? ORDER BY id`, id)
	files := readRows(tb, f.db, `SELECT * FROM dossier_attachments WHERE dossier_id = ? ORDER BY id`, id)
	start := time.Now()
	err := inParallel(n, submitClients, func(i int) error {
		return f.db.InTx(ctx, func(tx *store.Tx) error {
			code := fmt.Sprintf("%s-250311-%0*d", consularCode, SeqWidth, i+1)
			copyID, err := insertCopy(ctx, tx, "dossiers", dossier[0], map[string]any{"code": code})
			if err != nil {
				return err
			}
			for _, e := range events {
				if _, err := insertCopy(ctx, tx, "dossier_events", e, map[string]any{"dossier_id": copyID}); err != nil {
					return err
				}
			}
			for _, a := range files {
				key := a.get("blob_key").(string)
				key = key[:len(key)-8] + fmt.Sprintf("%08d", i)
				if _, err := insertCopy(ctx, tx, "dossier_attachments", a, map[string]any{"dossier_id": copyID, "blob_key": key}); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		tb.Fatalf("raw inserts: %v", err)
	}
	return float64(n) / time.Since(start).Seconds()
}

// row is a row read whole, to be inserted again.
type row struct {
	cols []string
	vals []any
}

func (r row) get(col string) any { return r.vals[slices.Index(r.cols, col)] }

// readRows reads whole rows, whatever their columns.
func readRows(tb testing.TB, db *store.DB, query string, args ...any) []row {
	tb.Helper()
	rows, err := db.QueryContext(context.Background(), db.Rebind(query), args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		tb.Fatal(err)
	}
	var out []row
	for rows.Next() {
		r := row{cols: cols, vals: make([]any, len(cols))}
		ptrs := make([]any, len(cols))
		for i := range ptrs {
			ptrs[i] = &r.vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(out) == 0 {
		tb.Fatalf("no rows for %s", query)
	}
	return out
}

// insertCopy inserts r into table without its id, with the columns of
// changes changed, and returns the new id.
func insertCopy(ctx context.Context, tx *store.Tx, table string, r row, changes map[string]any) (int64, error) {
	var cols, marks []string
	var args []any
	for i, c := range r.cols {
		if c == "id" {
			continue
		}
		v, ok := changes[c]
		if !ok {
			v = r.vals[i]
		}
		cols, marks, args = append(cols, c), append(marks, "?"), append(args, v)
	}
	var id int64
	err := tx.QueryRowContext(ctx, tx.Rebind("INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(marks, ", ")+") RETURNING id"), args...).Scan(&id)
	return id, err
}

// BenchmarkDossiers1M measures, with a million dossiers loaded (see
// loadDossiers), the staff work queue of the consular department's clerk
// (its first page, a page 5,000 dossiers deep through the cursor, one
// status's queue, and the console's "waiting" tab of two statuses) and
// the lookup of a dossier by code (Get, as the clerk: history, files,
// the form opened and the reading audited; and Track, the public view),
// one caller at a time, as ns/op and p95-ms. Every dossier has its
// history and files, and each lookup draws its code at random from the
// whole table (Get from the clerk's unit's dossiers, Track from all), so
// the caches hold what they would. Loading takes several minutes per
// dialect, before the timed sub-benchmarks (-count repeats them on the
// same load); it is skipped in -short mode. CHANCERY_BENCH_DOSSIERS sets
// another number of dossiers (50,000 or more), to try the benchmark at a
// smaller scale.
func BenchmarkDossiers1M(b *testing.B) {
	if testing.Short() {
		b.Skip("loads a million dossiers; skipped in -short mode")
	}
	n := bulkDossiers
	if v := os.Getenv("CHANCERY_BENCH_DOSSIERS"); v != "" {
		var err error
		// Fewer leave the clerk's "waiting" tab without a full page.
		if n, err = strconv.Atoi(v); err != nil || n < 50_000 {
			b.Fatalf("CHANCERY_BENCH_DOSSIERS=%q: want a number of dossiers, 50000 or more", v)
		}
		b.Logf("loading %d dossiers, not a million (CHANCERY_BENCH_DOSSIERS)", n)
	}
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			s := loadDossiers(b, storetest.MustOpen(b, d), n)
			s.checkPlans(b)
			ctx := s.as(s.clerk)
			deep := s.cursorAt(b, s.deep)
			rng := mrand.New(mrand.NewPCG(3, 4))
			page := func(q Queue) func(int) error {
				return func(int) error {
					items, next, err := s.svc.Queue(ctx, s.clerk, q)
					if err == nil && (len(items) != DefaultQueueLimit || next == "") {
						err = fmt.Errorf("queue %+v gave %d dossiers and cursor %q, want a full page and more", q, len(items), next)
					}
					return err
				}
			}
			for _, c := range []struct {
				name string
				op   func(i int) error
			}{
				{"queue-first", page(Queue{})},
				{"queue-deep", page(Queue{After: deep})},
				{"queue-status", page(Queue{Statuses: []Status{StatusProcessing}})},
				{"queue-waiting", page(Queue{Statuses: waiting})},
				{"get", func(int) error {
					code := s.mine[rng.IntN(len(s.mine))]
					d, err := s.svc.Get(ctx, s.clerk, code)
					if err == nil && (d.Code != code || len(d.History) == 0 || len(d.Attachments) == 0 || d.Form["document_name"] == nil) {
						err = fmt.Errorf("Get(%s) = %s with %d entries, %d files, form %v", code, d.Code, len(d.History), len(d.Attachments), d.Form)
					}
					return err
				}},
				{"track", func(int) error {
					code := s.tracked[rng.IntN(len(s.tracked))]
					t, err := s.svc.Track(context.Background(), code, bulkPIN)
					if err == nil && t.Code != code {
						err = fmt.Errorf("Track(%s) = %s", code, t.Code)
					}
					return err
				}},
			} {
				b.Run(c.name, func(b *testing.B) { timeOps(b, c.op) })
			}
		})
	}
}

// timeOps runs op in b's loop, timing each call, and reports the 95th
// percentile as p95-ms beside the mean.
func timeOps(b *testing.B, op func(i int) error) {
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if err := op(i); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[(len(took)*95+99)/100-1])/float64(time.Millisecond), "p95-ms")
}

// cursorAt walks the clerk's queue of open dossiers n dossiers deep and
// returns the cursor there.
func (s *bulkSet) cursorAt(tb testing.TB, n int) string {
	tb.Helper()
	after := ""
	for seen := 0; seen < n; {
		items, next, err := s.svc.Queue(s.as(s.clerk), s.clerk, Queue{Limit: min(MaxQueueLimit, n-seen), After: after})
		if err != nil {
			tb.Fatal(err)
		}
		if next == "" {
			tb.Fatalf("the clerk's queue ends after %d dossiers, before %d", seen+len(items), n)
		}
		seen, after = seen+len(items), next
	}
	return after
}

// checkPlans logs the plans of the queries of the queue and of a lookup
// by code (those of queueRows, loadDossier, listEntries and
// listAttachments, with the values the benchmark uses) and fails when one
// reads a whole dossiers table, or when its index does not seek on the
// columns it should: a column left to a filter is read row by row, so the
// cost grows with the table (or, for the cursor, with the depth of the
// page). A sort in a plan means the index finds the rows but does not
// give their order.
func (s *bulkSet) checkPlans(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	unit := s.clerk.Unit
	var due, after, sample int64
	if err := s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT due_us, id FROM dossiers WHERE unit_id = ? AND open = 1 ORDER BY due_us, id LIMIT 1 OFFSET ?`),
		unit, s.deep).Scan(&due, &after); err != nil {
		tb.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT id FROM dossiers WHERE code = ?`), s.mine[0]).Scan(&sample); err != nil {
		tb.Fatal(err)
	}
	query := func(statuses []Status, after cursor) (string, []any) {
		return queueQuery(unit, statuses, 0, after, DefaultQueueLimit+1)
	}
	first, firstArgs := query(nil, cursor{due: -1})
	deep, deepArgs := query(nil, cursor{due: due, id: after})
	status, statusArgs := query([]Status{StatusProcessing}, cursor{due: -1})
	wait, waitArgs := query(waiting, cursor{due: -1})
	for _, q := range []struct {
		name, query string
		args        []any
		seek        []string // the columns the index must seek on
	}{
		{"queue-first", first, firstArgs, []string{"unit_id", "open"}},
		{"queue-deep", deep, deepArgs, []string{"unit_id", "open", "due_us"}},
		{"queue-status", status, statusArgs, []string{"unit_id", "status"}},
		{"queue-waiting", wait, waitArgs, []string{"unit_id", "status"}},
		{"lookup", `SELECT ` + dossierColumns + ` FROM dossiers d JOIN units u ON u.id = d.unit_id WHERE d.code = ?`, []any{s.mine[0]}, []string{"code"}},
		{"history", `SELECT action, from_status, to_status, actor_kind, actor_name, unit_id, reason, at_us FROM dossier_events WHERE dossier_id = ? ORDER BY id`,
			[]any{sample}, []string{"dossier_id"}},
		{"files", `SELECT id, document_key, filename, media_type, size, sha256, blob_key, created_us FROM dossier_attachments WHERE dossier_id = ? ORDER BY id`,
			[]any{sample}, []string{"dossier_id"}},
	} {
		plan := s.explain(tb, q.query, q.args...)
		tb.Logf("%s plan of %s:\n%s", s.db.Dialect, q.name, plan)
		if scan := tableScan(plan); scan != "" {
			tb.Errorf("%s: %s reads a whole table (%s): no index serves it", s.db.Dialect, q.name, scan)
		}
		for _, col := range q.seek {
			if !seeks(plan, col) {
				tb.Errorf("%s: %s does not seek its index on %s but filters the rows it reads", s.db.Dialect, q.name, col)
			}
		}
	}
}

// seeks reports whether a plan's index search uses col: in SQLite's
// "SEARCH t USING INDEX i (col=? AND …)", in PostgreSQL's "Index Cond".
func seeks(plan, col string) bool {
	for _, line := range strings.Split(plan, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "SEARCH ") {
			_, l, _ = strings.Cut(l, " (") // after the index's name, which may contain a column's
		} else if !strings.HasPrefix(l, "Index Cond:") {
			continue
		}
		if strings.Contains(l, col) {
			return true
		}
	}
	return false
}

// explain returns the plan of a query as the dialect shows it.
func (s *bulkSet) explain(tb testing.TB, query string, args ...any) string {
	tb.Helper()
	prefix := "EXPLAIN "
	if s.db.Dialect == store.SQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := s.db.QueryContext(context.Background(), s.db.Rebind(prefix+query), args...)
	if err != nil {
		tb.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1])) // SQLite's detail, PostgreSQL's line
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// tableScan returns the step of a plan that reads a whole dossiers table,
// or "". (PostgreSQL may well scan the 30 units.)
func tableScan(plan string) string {
	for _, line := range strings.Split(plan, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "SCAN ") && !strings.Contains(l, " USING ") || strings.Contains(l, "Seq Scan on dossier") {
			return l
		}
	}
	return ""
}

// waiting are the statuses of the console's "waiting" tab.
var waiting = []Status{StatusDocumentsRequested, StatusPaymentRequested}
