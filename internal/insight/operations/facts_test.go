package operations

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// TestFactsMatchTheTables pins FactSource to the truth on both
// databases: over random dossiers, documents and alerts written, then
// changed (decided, reopened, deadlines moved, units and levels changed,
// alerts closed) and some deleted, as the capabilities' own statements
// would, its figures equal TableSource's (which counts the rows
// themselves) at several instants: now, today's midnight and the instant
// before it (so a deadline today counts once it has passed, not before),
// and a week later, when the summaries have seen no event since.
func TestFactsMatchTheTables(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedFixture(t, db)
		rng := rand.New(rand.NewPCG(43, 15))
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		now := fixtureNow
		day := 24 * time.Hour
		midnight := time.Date(2026, 12, 2, 0, 0, 0, 0, web.MinistryZone())
		units := []int64{ministryID, consularID, parisID, tokyoID}
		for i := range 160 {
			submitted := now.Add(-time.Duration(rng.Int64N(int64(120 * day))))
			received := int64(0)
			if rng.IntN(5) > 0 {
				received = submitted.Add(time.Hour).UnixMicro()
			}
			// Some deadlines fall today, before and after now.
			due := midnight.Add(time.Duration(rng.Int64N(int64(day)))).UnixMicro()
			if rng.IntN(3) > 0 {
				due = submitted.Add(time.Duration(5+rng.IntN(20)) * day).UnixMicro()
			}
			status, open, fin := 4, 1, int64(0)
			if rng.IntN(2) == 0 && received > 0 {
				status, open, fin = []int{9, 10, 11}[rng.IntN(3)], 0, received+rng.Int64N(int64(20*day/time.Microsecond))
			}
			exec(`INSERT INTO dossiers (code, procedure_code, unit_id, channel, status, open, lifecycle, applicant_name, form, prefilled, digitised,
					fee_amount, paid, paid_online, submitted_us, received_us, due_us, finished_us, late, result_blob, rating, national_portal_status, updated_us)
				VALUES (?, '1.900001', ?, ?, ?, ?, '{}', 'A', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				fmt.Sprintf("R-%d", i), units[rng.IntN(len(units))], 1+rng.IntN(2), status, open, []byte("x"), rng.IntN(2), rng.IntN(2),
				rng.IntN(2)*1000, rng.IntN(2), rng.IntN(2), submitted.UnixMicro(), received, due, fin, rng.IntN(2), []string{"", "sig"}[rng.IntN(2)],
				rng.IntN(6), []int{0, status}[rng.IntN(2)], now.UnixMicro())
			at := now.Add(-time.Duration(rng.Int64N(int64(120 * day)))).UnixMicro()
			exec(`INSERT INTO record_documents (direction, unit_id, doc_type, subject, status, level, created_us, updated_us)
				VALUES ('incoming', ?, 'cong_van', 'x', 'registered', ?, ?, ?)`, units[rng.IntN(len(units))], rng.IntN(4), at, at)
			if i%4 == 0 {
				exec(`INSERT INTO sentinel_alerts (rule, unit_id, score, risk, title_vi, title_en, explanation_vi, explanation_en, events, first_us, last_us, level, status, created_us, updated_us)
					VALUES ('r', ?, 1, 1, 'x', 'x', 'x', 'x', '[]', 0, 0, ?, ?, 0, 0)`, []int64{0, parisID, tokyoID}[rng.IntN(3)], rng.IntN(4),
					[]string{"new", "investigating", "closed_true_positive"}[rng.IntN(3)])
			}
		}
		// The changes, each touching a summary's key or condition.
		for i := range 60 {
			code := fmt.Sprintf("R-%d", rng.IntN(160))
			switch i % 6 {
			case 0: // decided on time with an electronic result
				exec(`UPDATE dossiers SET status = 9, open = 0, received_us = submitted_us + 1, finished_us = submitted_us + 100, late = 0, result_blob = 'r', updated_us = updated_us + 1 WHERE code = ?`, code)
			case 1: // reopened, its deadline moved to today
				exec(`UPDATE dossiers SET status = 4, open = 1, finished_us = 0, due_us = ?, version = version + 1 WHERE code = ?`, midnight.Add(time.Duration(rng.IntN(23))*time.Hour).UnixMicro(), code)
			case 2: // moved to another unit, rated
				exec(`UPDATE dossiers SET unit_id = ?, rating = ?, national_portal_status = status WHERE code = ?`, units[rng.IntN(len(units))], rng.IntN(6), code)
			case 3: // a change the summaries ignore
				exec(`UPDATE dossiers SET lifecycle = '{"x":1}', updated_us = updated_us + 1 WHERE code = ?`, code)
			case 4:
				exec(`DELETE FROM dossiers WHERE code = ?`, code)
			case 5:
				exec(`UPDATE record_documents SET level = ?, unit_id = ?, created_us = created_us - ? WHERE id = ?`, rng.IntN(4), units[rng.IntN(len(units))], rng.Int64N(int64(7*day/time.Microsecond)), 1+rng.IntN(160))
				exec(`UPDATE sentinel_alerts SET status = ?, level = ? WHERE id = ?`, []string{"new", "investigating", "closed_false_positive"}[rng.IntN(3)], rng.IntN(4), 1+rng.IntN(40))
				exec(`DELETE FROM record_documents WHERE id = ?`, 1+rng.IntN(160))
			}
		}
		compareFactsWithTables(t, db, now, midnight)
		// An existing ministry upgrading gets the summaries from the
		// rows it holds: migration 00043 taken down and applied again
		// backfills them, to the same figures.
		dialect := goose.DialectSQLite3
		if db.Dialect == store.Postgres {
			dialect = goose.DialectPostgres
		}
		p, err := goose.NewProvider(dialect, db.DB, os.DirFS("../../store/migrations/"+string(db.Dialect)), goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.ApplyVersion(ctx, 43, false); err != nil {
			t.Fatalf("take 00043 down: %v", err)
		}
		if err := db.Migrate(ctx, nil); err != nil {
			t.Fatalf("apply 00043 again over the rows: %v", err)
		}
		compareFactsWithTables(t, db, now, midnight)
	})
}

// compareFactsWithTables compares FactSource's figures with
// TableSource's at several instants around now and midnight.
func compareFactsWithTables(t *testing.T, db *store.DB, now, midnight time.Time) {
	t.Helper()
	ctx := context.Background()
	day := 24 * time.Hour
	{
		// The last instant's weeks start on Tuesdays: not the summaries'
		// weeks, so they are counted from the tables.
		tuesdays := WeekBounds(now)
		for i := range tuesdays {
			tuesdays[i] = tuesdays[i].Add(day)
		}
		for i, at := range []time.Time{now, midnight, midnight.Add(-time.Microsecond), midnight.Add(6 * time.Hour), now.Add(7 * day), now} {
			bounds := WeekBounds(at)
			if i == 5 {
				bounds = tuesdays
			}
			want, err := TableSource{DB: db}.Figures(ctx, bounds, at)
			if err != nil {
				t.Fatal(err)
			}
			got, err := FactSource{DB: db}.Figures(ctx, bounds, at)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				for _, f := range []string{"Dossiers", "Overdue", "Documents", "TasksOpen", "TasksOverdue", "ReportsOutstanding", "ReportsLate", "Alerts"} {
					g, w := reflect.ValueOf(got).Elem().FieldByName(f).Interface(), reflect.ValueOf(want).Elem().FieldByName(f).Interface()
					if !reflect.DeepEqual(g, w) {
						t.Errorf("at %s, %s from the facts = %v\nfrom the tables = %v", at, f, g, w)
					}
				}
			}
			if len(want.Dossiers) == 0 || len(want.Overdue) == 0 || len(want.Documents) == 0 || len(want.Alerts) == 0 {
				t.Errorf("at %s the corpus leaves a figure empty: %d %d %d %d", at, len(want.Dossiers), len(want.Overdue), len(want.Documents), len(want.Alerts))
			}
		}
	}
}

// TestFactDaysAreHanoiDays pins what migration 00043's triggers assume
// of the ministry's zone: a day there is (t_us + 7 h) / 1 day, and a week
// (day + 3) / 7 changes on Mondays' midnights, over the years the view
// covers.
func TestFactDaysAreHanoiDays(t *testing.T) {
	loc := web.MinistryZone()
	for _, t0 := range []time.Time{time.Date(2000, 1, 1, 0, 0, 0, 0, loc), time.Date(2026, 12, 6, 23, 59, 59, 0, loc), time.Date(2040, 6, 30, 0, 0, 0, 0, loc)} {
		for h := range 48 {
			at := t0.Add(time.Duration(h) * time.Hour)
			l := at.In(loc)
			want := int64(time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC).Sub(time.Unix(0, 0).UTC()) / (24 * time.Hour))
			if got := factDay(at); got != want {
				t.Fatalf("factDay(%s) = %d, want %d", at, got, want)
			}
		}
		for d := range 7 {
			midnight := time.Date(t0.Year(), t0.Month(), t0.Day()+d, 0, 0, 0, 0, loc)
			if got, want := wholeWeek(midnight), midnight.Weekday() == time.Monday; got != want {
				t.Errorf("wholeWeek(%s, a %s) = %v", midnight, midnight.Weekday(), got)
			}
			if got, want := factWeek(midnight.Add(-time.Microsecond))+1, factWeek(midnight); (got == want) != (midnight.Weekday() == time.Monday) {
				t.Errorf("the week changes at %s, a %s", midnight, midnight.Weekday())
			}
		}
	}
}
