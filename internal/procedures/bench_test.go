package procedures

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

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
