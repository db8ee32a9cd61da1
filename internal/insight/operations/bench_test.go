package operations

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"chancery/internal/analytics"
	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// The figure of issue 15: the operations view over a million dossiers
// and a hundred thousand documents renders p95 < 200 ms. Run it as
//
//	go test -run '^$' -bench BenchmarkOperationsView -benchtime 50x -count 5 ./internal/insight/operations/
//
// The corpus is built once per schema into os.TempDir (SQLite; half an
// hour on a busy machine) and reused by later runs, its summaries
// (migration 00043) backfilled once into a copy; PostgreSQL's is built by
// each run (-short skips it). Each iteration renders the leader's
// overview page (every unit's figures, the map, the trend) through the
// handler, from the sources internal/app wires (FactSource's summaries
// and the analytics store). The baseline in the same run is the raw SQL
// the page needed before the summaries (TableSource's queries over the
// dossiers and documents themselves), timed on the first baselineRuns
// iterations only: it takes seconds each.

const (
	benchDossiers  = 1_000_000
	benchDocuments = 100_000
	benchUnits     = 60 // 20 of them missions
	benchMissions  = 20
	benchWeeks     = 156 // three years of dossiers
)

// baselineRuns is how many iterations of a run also time the raw SQL.
const baselineRuns = 3

// benchNow is the corpus's "now": the figures are read as at it.
var benchNow = time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)

var benchCountries = []string{"US", "FR", "JP", "AU", "ZA", "BR", "RU", "CN", "EG", "CH", "GB", "DE", "IN", "KR", "TH", "LA", "KH", "SG", "CA", "MX"}

// benchUnitsList returns the corpus's units: the ministry (id 1), the
// departments, then the missions.
func benchUnitsList() []identity.Unit {
	out := []identity.Unit{{ID: 1, Code: "000.00.00.G12", NameVI: "Bộ Ngoại giao", NameEN: "Ministry of Foreign Affairs", Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"}}
	for i := 2; i <= benchUnits; i++ {
		u := identity.Unit{ID: int64(i), ParentID: 1, TimeZone: "Asia/Ho_Chi_Minh", Country: "VN", Kind: identity.KindDepartment,
			Code: fmt.Sprintf("000.00.%02d.G12", i), NameVI: fmt.Sprintf("Vụ %d", i), NameEN: fmt.Sprintf("Department %d", i)}
		if m := i - (benchUnits - benchMissions); m > 0 {
			u.Kind, u.Country, u.Code = identity.KindEmbassy, benchCountries[m-1], fmt.Sprintf("000.01.%02d.G12", m)
			u.NameVI, u.NameEN = "Đại sứ quán tại "+u.Country, "Embassy in "+u.Country+" ("+u.Country+")"
		}
		out = append(out, u)
	}
	return out
}

// buildCorpus writes the units, the dossiers and the documents with
// multi-row INSERTs (not through the services: a million submissions
// would take hours; the rows are the columns the view reads), and a few
// hundred tasks and alerts.
func buildCorpus(tb testing.TB, db *store.DB) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(15, 4))
	now := benchNow
	for _, u := range benchUnitsList() {
		if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO units (id, code, name_vi, name_en, kind, country, timezone, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), u.ID, u.Code, u.NameVI, u.NameEN, string(u.Kind), u.Country, u.TimeZone, now, now); err != nil {
			tb.Fatal(err)
		}
	}
	span := time.Duration(benchWeeks) * 7 * 24 * time.Hour
	start := now.Add(-span)
	day := 24 * time.Hour
	insert := func(n int, table, cols string, row func(i int) []any) {
		const batch = 500
		for first := 0; first < n; first += batch {
			last := min(first+batch, n)
			var vals []string
			var args []any
			for i := first; i < last; i++ {
				r := row(i)
				vals = append(vals, "("+strings.TrimSuffix(strings.Repeat("?,", len(r)), ",")+")")
				args = append(args, r...)
			}
			if _, err := db.ExecContext(ctx, db.Rebind("INSERT INTO "+table+" "+cols+" VALUES "+strings.Join(vals, ",")), args...); err != nil {
				tb.Fatalf("%s at %d: %v", table, first, err)
			}
		}
	}
	form := []byte("sealed")
	insert(benchDossiers, "dossiers", `(id, code, procedure_code, unit_id, channel, status, open, lifecycle, applicant_name, form, prefilled, digitised,
		fee_amount, paid, paid_online, submitted_us, received_us, due_us, finished_us, late, rating, national_portal_status, updated_us)`,
		func(i int) []any {
			submitted := start.Add(time.Duration(rng.Int64N(int64(span))))
			unit := 2 + rng.IntN(benchUnits-1)
			received := submitted.Add(time.Duration(rng.IntN(48)) * time.Hour)
			due := received.Add(time.Duration(10+rng.IntN(10)) * day)
			status, open, finished, late := 10, 0, received.Add(time.Duration(2+rng.IntN(20))*day), 0
			if finished.After(due) {
				late = 1
			}
			if finished.After(now) || rng.IntN(200) == 0 { // still being processed, a few long overdue
				status, open, finished, late = 4, 1, time.Time{}, 0
			}
			fin := int64(0)
			if !finished.IsZero() {
				fin = finished.UnixMicro()
			}
			return []any{i + 1, fmt.Sprintf("B-%07d", i+1), fmt.Sprintf("1.9000%02d", rng.IntN(12)), unit, 1 + rng.IntN(2), status, open, "{}",
				"Nguyễn Văn A", form, rng.IntN(2), rng.IntN(2), 0, 0, 0, submitted.UnixMicro(), received.UnixMicro(), due.UnixMicro(), fin, late,
				rng.IntN(6), status, now.UnixMicro()}
		})
	insert(benchDocuments, "record_documents", "(id, direction, unit_id, doc_type, subject, status, level, created_us, updated_us)", func(i int) []any {
		at := start.Add(time.Duration(rng.Int64N(int64(span)))).UnixMicro()
		return []any{i + 1, "incoming", 2 + rng.IntN(benchUnits-1), "cong_van", "Công văn về việc cử cán bộ đi công tác", "registered", rng.IntN(4), at, at}
	})
	insert(600, "insight_tasks", "(uid, title, source, level, lead_unit, assigned_by, status, due_us, created_us, updated_us)", func(i int) []any {
		due := now.Add(time.Duration(rng.IntN(60)-30) * day).UnixMicro()
		return []any{fmt.Sprintf("t%d", i), "Nhiệm vụ", "direct", rng.IntN(3), 2 + rng.IntN(benchUnits-1), "Lãnh đạo", []string{"open", "in_progress", "done"}[rng.IntN(3)],
			due, now.UnixMicro(), now.UnixMicro()}
	})
	insert(300, "sentinel_alerts", `(rule, unit_id, score, risk, title_vi, title_en, explanation_vi, explanation_en, events, first_us, last_us, level, status, created_us, updated_us)`,
		func(i int) []any {
			return []any{"r", 2 + rng.IntN(benchUnits-1), 1, 1, "Cảnh báo", "Alert", "x", "x", "[]", now.UnixMicro(), now.UnixMicro(), rng.IntN(3),
				[]string{"new", "investigating", "closed_true_positive"}[rng.IntN(3)], now.UnixMicro(), now.UnixMicro()}
		})
	if db.Dialect == store.Postgres {
		if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
			tb.Fatal(err)
		}
	} else if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
}

// derivedMarker opens a migration whose tables are all computed from
// other tables' rows and backfilled by the migration itself (00043's
// summaries): Migrate fills them on a copy of a corpus built before.
const derivedMarker = "-- Derived:"

// corpusKeys name the schema the cached corpus was built on, and the one
// the benchmark reads: base is a digest of the SQLite migrations that
// touch the tables the corpus fills (except derived ones) and of the
// corpus's version; derived adds the derived migrations, so a corpus
// with the summaries of another version of them is never read. Other
// migrations are applied to the cached copies.
func corpusKeys(tb testing.TB) (base, derived string) {
	h := sha256.New()
	h.Write([]byte("operations corpus v1"))
	files, err := filepath.Glob("../../store/migrations/sqlite/*.sql")
	if err != nil || len(files) == 0 {
		tb.Fatalf("find the migrations: %v", err)
	}
	var later [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		if bytes.Contains(data, []byte("\n"+derivedMarker)) {
			later = append(later, data)
			continue
		}
		for _, t := range []string{"dossiers", "record_documents", "insight_tasks", "sentinel_alerts", "CREATE TABLE units"} {
			if bytes.Contains(data, []byte(t)) {
				h.Write(data)
				break
			}
		}
	}
	base = hex.EncodeToString(h.Sum(nil))[:16]
	for _, data := range later {
		h.Write(data)
	}
	return base, hex.EncodeToString(h.Sum(nil))[:16]
}

// openCorpus returns the corpus's database: on SQLite built once per
// schema into os.TempDir, in a directory of its own renamed into place
// when complete (two runs building at once do not share one), then
// copied once into the derived key's directory and migrated there, which
// backfills the derived migrations' summaries from the rows; on
// PostgreSQL built in the throwaway cluster.
func openCorpus(b *testing.B, d store.Dialect) *store.DB {
	ctx := context.Background()
	if d == store.Postgres {
		db, err := store.Open(ctx, storetest.MustPostgresURL(b), "")
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Migrate(ctx, nil); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		buildCorpus(b, db)
		b.Logf("built the corpus in %s", time.Since(start).Round(time.Second))
		return db
	}
	baseKey, derivedKey := corpusKeys(b)
	base := filepath.Join(os.TempDir(), "chancery-bench-operations-"+baseKey)
	cache(b, base, func(dir string) {
		b.Logf("building %d dossiers and %d documents into %s (kept for later runs)", benchDossiers, benchDocuments, base)
		bdb, err := store.Open(ctx, "", dir)
		if err != nil {
			b.Fatal(err)
		}
		defer bdb.Close()
		if err := bdb.Migrate(ctx, nil); err != nil {
			b.Fatal(err)
		}
		buildCorpus(b, bdb)
	})
	dir := filepath.Join(os.TempDir(), "chancery-bench-operations-"+derivedKey)
	cache(b, dir, func(dir string) {
		b.Logf("copying %s into %s and backfilling its summaries (kept for later runs)", base, dir)
		files, err := os.ReadDir(base)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(base, f.Name()))
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f.Name()), data, 0o600); err != nil {
				b.Fatal(err)
			}
		}
		ddb, err := store.Open(ctx, "", dir)
		if err != nil {
			b.Fatal(err)
		}
		defer ddb.Close()
		if err := ddb.Migrate(ctx, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := ddb.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	})
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Migrate(ctx, nil); err != nil {
		b.Fatal(err)
	}
	return db
}

// cache makes dir once: fill writes it into a directory of its own,
// renamed into place when complete, so that two runs filling it at once
// do not share one.
func cache(b *testing.B, dir string, fill func(dir string)) {
	if _, err := os.Stat(dir); err == nil {
		return
	}
	building, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".building-")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	fill(building)
	if err := os.Rename(building, dir); err != nil {
		os.RemoveAll(building) // another run finished first: use its copy
		if _, serr := os.Stat(dir); serr != nil {
			b.Fatal(err)
		}
	}
	b.Logf("made %s in %s", dir, time.Since(start).Round(time.Second))
}

var corpora = struct {
	mu sync.Mutex
	m  map[store.Dialect]*store.DB
}{m: map[store.Dialect]*store.DB{}}

// corpusOnce opens each dialect's corpus once per test process, so the
// -count runs share it.
func corpusOnce(b *testing.B, d store.Dialect) *store.DB {
	corpora.mu.Lock()
	defer corpora.mu.Unlock()
	if db, ok := corpora.m[d]; ok {
		return db
	}
	db := openCorpus(b, d)
	corpora.m[d] = db
	return db
}

func BenchmarkOperationsView(b *testing.B) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			if d == store.Postgres && testing.Short() {
				b.Skip("-short: PostgreSQL's corpus is built by each run")
			}
			db := corpusOnce(b, d)
			src := TableSource{DB: db}
			view := AnalyticsSource{Base: FactSource{DB: db}, Facts: analytics.NewStore(db)} // as internal/app wires it
			svc, err := NewService(Options{Source: view, Directory: fixedDirectory(benchUnitsList()), Now: func() time.Time { return benchNow }})
			if err != nil {
				b.Fatal(err)
			}
			texts, err := i18n.New(web.Texts(), Texts())
			if err != nil {
				b.Fatal(err)
			}
			h, err := NewHandler(web.NewShell(texts), svc)
			if err != nil {
				b.Fatal(err)
			}
			sub := authz.Subject{Kind: authz.Staff, ID: 1, Unit: 2, Roles: authz.RolesOf(authz.Leader), Clearance: authz.Secret}
			render := func() {
				r := httptest.NewRequest(http.MethodGet, PagePath, nil)
				r = r.WithContext(web.WithPrincipal(r.Context(), web.Principal{Subject: sub, Stage: "full"}))
				rec := httptest.NewRecorder()
				h.overview(rec, r)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "ops-map") {
					b.Fatalf("the overview: %d %.300s", rec.Code, rec.Body.String())
				}
			}
			raw := func() {
				if _, err := src.Figures(context.Background(), WeekBounds(benchNow), benchNow); err != nil {
					b.Fatal(err)
				}
			}
			render() // warm the caches once, outside the measure
			// The summaries (backfilled into the cached corpus, or kept by
			// the triggers while PostgreSQL's was built) say what the rows say.
			got, err := (FactSource{DB: db}).Figures(context.Background(), WeekBounds(benchNow), benchNow)
			if err != nil {
				b.Fatal(err)
			}
			want, err := src.Figures(context.Background(), WeekBounds(benchNow), benchNow)
			if err != nil {
				b.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				b.Fatalf("the summaries' figures differ from the tables':\n%+v\n%+v", got, want)
			}
			var views, bases []time.Duration
			var cpu time.Duration // the process's CPU time while rendering: what the load of the machine does not change
			b.ResetTimer()
			for i := range b.N {
				if i < baselineRuns {
					t0 := time.Now()
					raw()
					bases = append(bases, time.Since(t0))
				}
				t0, c0 := time.Now(), cpuTime(b)
				render()
				views = append(views, time.Since(t0))
				cpu += cpuTime(b) - c0
			}
			b.StopTimer()
			b.ReportMetric(p95(views), "p95-ms")
			b.ReportMetric(p95(bases), "baseline-p95-ms")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/view")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// p95 returns the 95th percentile of ds in milliseconds.
func p95(ds []time.Duration) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[(len(s)*95+99)/100-1].Microseconds()) / 1000
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
