package analytics

import (
	"context"
	"errors"
	"testing"
	"time"

	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// addUnit inserts a unit for a test.
func addUnit(t testing.TB, db *store.DB, id int64, code, kind, country, zone string) {
	t.Helper()
	now := time.Now().UTC()
	if _, err := db.ExecContext(context.Background(), db.Rebind(`INSERT INTO units (id, code, name_vi, name_en, kind, country, timezone, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), id, code, code, code, kind, country, zone, now, now); err != nil {
		t.Fatal(err)
	}
}

// addFact inserts one fact row for a test.
func addFact(t testing.TB, db *store.DB, day string, unit int64, proc, country string, m Measure, working int, v int64) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), db.Rebind(`INSERT INTO analytics_facts (day, unit_id, procedure_code, country, measure, working_day, value)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), day, unit, proc, country, string(m), working, v); err != nil {
		t.Fatal(err)
	}
}

func date(t testing.TB, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestStoreSumsFactsPerUnitDayCountryAndProcedure(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addUnit(t, db, 1, "000.00.00.G06", "ministry", "VN", "Asia/Ho_Chi_Minh")
		addUnit(t, db, 2, "000.00.31.G06", "embassy", "FR", "Europe/Paris")
		addFact(t, db, "2026-12-04", 1, "P1", "VN", DossiersReceived, 1, 3)
		addFact(t, db, "2026-12-05", 1, "P1", "VN", DossiersReceived, 0, 2) // a Saturday
		addFact(t, db, "2026-12-05", 2, "P2", "FR", DossiersReceived, 0, 5)
		addFact(t, db, "2026-12-05", 2, "P2", "FR", DossiersResolved, 0, 4)
		addFact(t, db, "2026-12-05", 2, "", "FR", DocumentsIn, 0, 7)
		addFact(t, db, "2026-12-09", 2, "P2", "FR", DossiersReceived, 1, 100) // outside the period
		s := NewStore(db)
		p := Period{From: date(t, "2026-12-04"), To: date(t, "2026-12-06")}

		tot, err := s.Total(ctx, p, Filter{})
		if err != nil || tot.DossiersReceived != 10 || tot.DossiersResolved != 4 || tot.DocumentsIn != 7 {
			t.Fatalf("Total = %+v, %v; want 10 received, 4 resolved, 7 in", tot, err)
		}
		units, err := s.ByUnit(ctx, p, Filter{})
		if err != nil || len(units) != 2 || units[0].UnitID != 1 || units[0].DossiersReceived != 5 || units[1].DossiersReceived != 5 {
			t.Fatalf("ByUnit = %+v, %v", units, err)
		}
		missions, err := s.ByMission(ctx, p, Filter{})
		if err != nil || len(missions) != 1 || missions[0].UnitID != 2 || missions[0].DocumentsIn != 7 {
			t.Fatalf("ByMission = %+v, %v", missions, err)
		}
		only, err := s.ByUnit(ctx, p, Filter{Units: []int64{1}})
		if err != nil || len(only) != 1 || only[0].UnitID != 1 {
			t.Fatalf("ByUnit(unit 1) = %+v, %v", only, err)
		}
		none, err := s.Total(ctx, p, Filter{Units: []int64{}})
		if err != nil || none != (Totals{}) {
			t.Fatalf("Total(no units) = %+v, %v; want nothing", none, err)
		}
		days, err := s.ByDay(ctx, p, Filter{})
		if err != nil || len(days) != 3 {
			t.Fatalf("ByDay = %+v, %v", days, err)
		}
		if days[0].DossiersReceived != 3 || !days[0].WorkingDay || days[1].DossiersReceived != 7 || days[1].WorkingDay || days[2].DossiersReceived != 0 || days[2].WorkingDay {
			t.Errorf("ByDay = %+v", days)
		}
		countries, err := s.ByCountry(ctx, p, Filter{})
		if err != nil || len(countries) != 2 || countries[0].Country != "FR" || countries[0].DossiersReceived != 5 {
			t.Errorf("ByCountry = %+v, %v", countries, err)
		}
		procs, err := s.ByProcedure(ctx, p, Filter{Country: "fr"})
		if err != nil || len(procs) != 1 || procs[0].Procedure != "P2" || procs[0].DossiersResolved != 4 {
			t.Errorf("ByProcedure(FR) = %+v, %v", procs, err)
		}
		if _, err := s.Total(ctx, Period{From: p.To, To: p.From}, Filter{}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Total(reversed period) = %v, want ErrInvalid", err)
		}
	})
}

func TestBIViewsExistOnBothDatabases(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		addUnit(t, db, 1, "000.00.00.G06", "ministry", "VN", "Asia/Ho_Chi_Minh")
		addFact(t, db, "2026-12-04", 1, "P1", "VN", DossiersReceived, 1, 3)
		for _, v := range BIViews {
			var n int
			if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+v).Scan(&n); err != nil {
				t.Errorf("view %s: %v", v, err)
			}
		}
		var got int64
		if err := db.QueryRowContext(context.Background(), "SELECT dossiers_received FROM bi_daily WHERE unit_code = '000.00.00.G06'").Scan(&got); err != nil || got != 3 {
			t.Errorf("bi_daily dossiers_received = %d, %v; want 3", got, err)
		}
	})
}

func TestTheBIRoleReadsOnlyTheBIViews(t *testing.T) {
	db := storetest.MustOpen(t, store.Postgres)
	ctx := context.Background()
	addUnit(t, db, 1, "000.00.00.G06", "ministry", "VN", "Asia/Ho_Chi_Minh")
	var login bool
	if err := db.QueryRowContext(ctx, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'chancery_bi'").Scan(&login); err != nil {
		t.Fatalf("the role chancery_bi: %v", err)
	}
	if login {
		t.Error("chancery_bi may sign in; it must be NOLOGIN until the operator allows it")
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET ROLE chancery_bi"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "RESET ROLE") //nolint:errcheck // the connection is closed next
	for _, v := range BIViews {
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+v).Scan(&n); err != nil {
			t.Errorf("chancery_bi cannot read %s: %v", v, err)
		}
	}
	for _, table := range []string{"analytics_facts", "units", "dossiers", "staff", "audit_events", "analytics_datasets"} {
		var n int
		err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n)
		if err == nil {
			t.Errorf("chancery_bi read table %s", table)
		}
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM bi_facts"); err == nil {
		t.Error("chancery_bi deleted through a view")
	}
}
