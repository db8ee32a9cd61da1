package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/auth"
	"chancery/internal/authz"
	"chancery/internal/procedures"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// submitClients is how many API clients BenchmarkSubmit runs at once: a
// fixed number of goroutines, each posting one dossier after another
// over its own keep-alive connection, as the one-stop shops' counters
// and the national portal's back end would.
const submitClients = 16

// attachmentSize is the size of the file each benchmarked submission
// carries: a scanned page or two.
const attachmentSize = 100 << 10

// BenchmarkSubmit measures dossier submissions through the whole server
// (POST /api/v1/dossiers, multipart, one 100 KiB PDF, a request for
// consular protection) by submitClients concurrent clients, on each
// dialect, as dossiers/s, in two kinds: "online", a citizen's submission
// (registered, status 1), and "counter", a clerk's entry of an in-person
// dossier, which is also received at once (status 2: a second history
// entry, audit event and national portal report). Each request goes through the
// app's handler and its middleware, signed in with a real bearer token
// (the citizen's session, the clerk's from POST /api/v1/auth/login); the
// service checks and seals the form, sniffs, seals and streams the file
// into the data directory's blob storage, numbers the code, writes the
// history, the audit events (the real ledger, integrating as it goes),
// the national portal reports and the notice (mail.Outbox), all in one
// transaction; meanwhile the background runs as `serve --demo` does: the
// outbox sends the notices to the demo's mailbox and the national portal sync
// sends the reports through the exchange (embedded NATS, signed and
// sealed) to the national portal's simulator. national-portal-lag is how many
// reports the exchange had not yet taken when the last submission was
// answered. raw-inserts/s is, in the same run on the same database, the
// rate of inserting copies of the rows one submission inserted (the
// dossier, its history, its attachment's row, its audit events, portal
// reports and notice) by as many clients, a transaction per dossier: no
// HTTP, no sealing, no blob, no ledger, no code sequence.
//
// PostgreSQL runs with production durability (storetest.PostgresSettings);
// SQLite with the server's settings, WAL and synchronous=NORMAL.
func BenchmarkSubmit(b *testing.B) {
	for _, d := range storetest.Dialects {
		for _, kind := range []struct {
			name    string
			channel procedures.Channel
			status  procedures.Status
		}{{"online", procedures.ChannelOnline, procedures.StatusRegistered}, {"counter", procedures.ChannelInPerson, procedures.StatusReceived}} {
			b.Run(string(d)+"/"+kind.name, func(b *testing.B) {
				cfg := testConfig(b, true)
				settings := "SQLite WAL synchronous=NORMAL"
				if d == store.Postgres {
					cfg.DB = storetest.MustPostgresURL(b)
					settings = storetest.PostgresSettings()
				}
				b.Log(settings)
				a, base := startDemo(b, cfg)
				token := submitter(b, a, base, kind.channel)
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: submitClients}}
				b.Cleanup(client.CloseIdleConnections)
				contentType, body := submission(b, kind.channel)
				post := func() error { return postDossier(client, base, token, contentType, bytes.NewReader(body)) }

				// One submission before the background starts shows the rows
				// a submission's transaction writes, as it wrote them.
				rows := submissionRows(b, a.DB, post)
				a.runBackground(context.Background())
				b.Cleanup(a.stopBackground)
				b.ResetTimer()
				start := time.Now()
				err := inParallel(b.N, submitClients, func(int) error { return post() })
				elapsed := time.Since(start)
				b.StopTimer()
				lag := count(b, a.DB, `SELECT COUNT(*) FROM national_portal_outbox WHERE sent_us = 0`)
				a.stopBackground()
				if err != nil {
					b.Fatal(err)
				}
				checkSubmitted(b, a.DB, b.N+1, kind.status)
				raw := rows.insertRate(b, a.DB, b.N)
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "dossiers/s")
				b.ReportMetric(raw, "raw-inserts/s")
				b.ReportMetric(float64(lag), "national-portal-lag")
			})
		}
	}
}

// submitter signs in the demo's citizen (online) or the consular
// department's clerk (counter) and returns the bearer token.
func submitter(tb testing.TB, a *App, base string, channel procedures.Channel) string {
	tb.Helper()
	if channel != procedures.ChannelOnline {
		return mustLogin(tb, base, "consular.clerk", a.cfg.DemoPassword, "")
	}
	sess, err := a.Auth.Login(context.Background(), auth.LoginRequest{Kind: authz.Citizen, Username: "citizen@example.com", Password: a.cfg.DemoPassword})
	if err != nil {
		tb.Fatal(err)
	}
	return sess.Token
}

// protectionRequest is the form of a request for consular protection
// (1.900014, free of charge, so a citizen submits it whole).
func protectionRequest() map[string]any {
	return map[string]any{
		"requester": map[string]any{"full_name": "Nguyễn Thị Lan", "phone": "+84 912 345 678", "email": "citizen@example.com"},
		"country":   "France", "location": "Paris", "situation": "lost_documents",
		"description": "Mất hộ chiếu ở ga tàu, cần giấy thông hành để về nước.", "consent": true,
	}
}

// writeDossierPart writes the "dossier" part of a request for consular
// protection at the consular department on channel.
func writeDossierPart(mw *multipart.Writer, channel procedures.Channel) error {
	dossier, err := json.Marshal(map[string]any{"procedure_code": "1.900014", "agency_code": "000.00.03.G12",
		"channel": int(channel), "form": protectionRequest()})
	if err != nil {
		return err
	}
	return mw.WriteField("dossier", string(dossier))
}

// writeScanPart writes a file part of the "evidence" document: a PDF of
// size bytes.
func writeScanPart(mw *multipart.Writer, name string, size int) error {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="attachment.evidence"; filename=%q`, name))
	h.Set("Content-Type", procedures.MediaPDF)
	part, err := mw.CreatePart(h)
	if err == nil {
		err = writeScan(part, size)
	}
	return err
}

// submission returns the body of a request for consular protection on
// channel with an attachmentSize-byte PDF.
func submission(tb testing.TB, channel procedures.Channel) (string, []byte) {
	tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	err := writeDossierPart(mw, channel)
	if err == nil {
		err = writeScanPart(mw, "scan.pdf", attachmentSize)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
	return mw.FormDataContentType(), body.Bytes()
}

// postDossier submits a dossier with a bearer token and fails unless it
// was created.
func postDossier(client *http.Client, base, token, contentType string, body io.Reader) error {
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/dossiers", body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /api/v1/dossiers: %s: %.300s", resp.Status, answer)
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

func count(tb testing.TB, db *store.DB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), db.Rebind(query), args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// checkSubmitted fails unless n dossiers are in status, each with its
// attachment, so the rate counts only real submissions.
func checkSubmitted(tb testing.TB, db *store.DB, n int, status procedures.Status) {
	tb.Helper()
	dossiers := count(tb, db, `SELECT COUNT(*) FROM dossiers WHERE status = ?`, int(status))
	files := count(tb, db, `SELECT COUNT(*) FROM dossier_attachments WHERE dossier_id IS NOT NULL AND size = ?`, attachmentSize)
	if dossiers != n || files != n {
		tb.Fatalf("after %d submissions the database holds %d dossiers in status %d and %d attachments of %d bytes", n, dossiers, status, files, attachmentSize)
	}
}

// submittedTables are the tables a submission inserts rows into, in the
// order of their references.
var submittedTables = []string{"dossiers", "dossier_events", "dossier_attachments", "audit_events", "national_portal_outbox", "mail_outbox"}

// submittedRows are the rows one submission inserted, by table.
type submittedRows map[string][]row

// submissionRows runs submit, one submission while nothing else writes,
// and returns the rows it inserted.
func submissionRows(tb testing.TB, db *store.DB, submit func() error) submittedRows {
	tb.Helper()
	before := map[string]int{}
	for _, t := range submittedTables {
		before[t] = count(tb, db, `SELECT COALESCE(MAX(id), 0) FROM `+t)
	}
	if err := submit(); err != nil {
		tb.Fatal(err)
	}
	rows := submittedRows{}
	for _, t := range submittedTables {
		rows[t] = readRows(tb, db, `SELECT * FROM `+t+` WHERE id > ? ORDER BY id`, before[t])
	}
	if len(rows["dossiers"]) != 1 {
		tb.Fatalf("a submission inserted %d dossiers", len(rows["dossiers"]))
	}
	var counts []string
	for _, t := range submittedTables {
		counts = append(counts, fmt.Sprintf("%d in %s", len(rows[t]), t))
	}
	tb.Logf("a submission inserts rows: %s", strings.Join(counts, ", "))
	return rows
}

// insertRate copies the rows n times, under new codes and blob keys of
// the same length, by submitClients clients in a transaction per
// dossier, and returns the rate in dossiers per second.
func (s submittedRows) insertRate(tb testing.TB, db *store.DB, n int) float64 {
	tb.Helper()
	ctx := context.Background()
	dossier := s["dossiers"][0]
	code := dossier.get("code").(string)
	i := strings.LastIndexByte(code, '-')
	j := strings.LastIndexByte(code[:i], '-')
	start := time.Now()
	err := inParallel(n, submitClients, func(k int) error {
		return db.InTx(ctx, func(tx *store.Tx) error {
			// Another day's codes, which no real submission of the run took.
			copyCode := fmt.Sprintf("%s-991231-%0*d", code[:j], len(code)-i-1, k+1)
			id, err := insertCopy(ctx, tx, "dossiers", dossier, map[string]any{"code": copyCode})
			if err != nil {
				return err
			}
			for _, t := range submittedTables[1:] {
				for _, r := range s[t] {
					changes := map[string]any{}
					switch t {
					case "dossier_events", "national_portal_outbox":
						changes["dossier_id"] = id
					case "dossier_attachments":
						key := r.get("blob_key").(string)
						changes["dossier_id"], changes["blob_key"] = id, key[:len(key)-8]+fmt.Sprintf("%08d", k)
					case "audit_events":
						// Appended, not yet in the ledger's tree: the
						// integrator gives seq after the commit.
						changes["seq"] = nil
						if r.get("resource_id") == code {
							changes["resource_id"] = copyCode
						}
					}
					if _, err := insertCopy(ctx, tx, t, r, changes); err != nil {
						return fmt.Errorf("copy a row of %s: %w", t, err)
					}
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
