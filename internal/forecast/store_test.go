package forecast

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/procedures"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// world is a ministry (unit 1), a mission in Paris (2) and one in Tokyo
// (3) with their dossiers and history.
type world struct {
	db  *store.DB
	svc *Service
}

type units []identity.Unit

func (u units) AllUnits(context.Context) ([]identity.Unit, error) { return u, nil }

var ict = time.FixedZone("ICT", 7*3600)

func newWorld(t *testing.T, db *store.DB, now time.Time) world {
	return newWorldForm(t, db, now, Auto)
}

// newWorldForm is newWorld with the models' seasonality fixed: one fit
// where Auto makes two.
func newWorldForm(t *testing.T, db *store.DB, now time.Time, form Seasonality) world {
	t.Helper()
	ctx := context.Background()
	dir := units{
		{ID: 1, Code: "000.00.00.G12", NameVI: "Bộ", NameEN: "Ministry", Kind: identity.KindMinistry, Country: "VN"},
		{ID: 2, Code: "000.01.02.G12", NameVI: "ĐSQ Pháp", NameEN: "Paris", Kind: identity.KindEmbassy, ParentID: 1, Country: "FR"},
		{ID: 3, Code: "000.01.03.G12", NameVI: "ĐSQ Nhật", NameEN: "Tokyo", Kind: identity.KindEmbassy, ParentID: 1, Country: "JP"},
	}
	stamp := store.Now()
	for _, u := range dir {
		if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO units (id, code, name_vi, name_en, kind, country, timezone, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'UTC', ?, ?)`), u.ID, u.Code, u.NameVI, u.NameEN, string(u.Kind), u.Country, stamp, stamp); err != nil {
			t.Fatalf("insert unit %d: %v", u.ID, err)
		}
	}
	cat, err := procedures.BuiltinCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(Options{DB: db, Directory: dir, Catalogue: cat, Now: func() time.Time { return now }, Form: form})
	if err != nil {
		t.Fatal(err)
	}
	return world{db: db, svc: svc}
}

func (w world) dossier(t *testing.T, unit int64, procedure string, at time.Time) {
	t.Helper()
	n := time.Now().UnixNano()
	if _, err := w.db.ExecContext(context.Background(), w.db.Rebind(`INSERT INTO dossiers (code, procedure_code, unit_id, channel, status, lifecycle,
		applicant_name, form, submitted_us, updated_us) VALUES (?, ?, ?, 1, 1, '{}', 'Nguyễn Văn A', ?, ?, ?)`),
		fmt.Sprintf("T-%d", n), procedure, unit, []byte("sealed"), at.UnixMicro(), at.UnixMicro()); err != nil {
		t.Fatalf("insert dossier: %v", err)
	}
}

// The weekly series counts dossiers by their Monday-to-Sunday week in
// Viet Nam time, fills weeks without any with 0, and takes the history
// only for the weeks before the unit's first dossier in Chancery.
func TestWeeklySeriesJoinsHistoryAndDossiers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2025, 2, 5, 12, 0, 0, 0, ict) // a Wednesday: the last complete week began on 27 January
		w := newWorld(t, db, now)
		// Sunday 12 January 2025, 18:00 UTC is Monday 13 January, 01:00 in Ha Noi.
		w.dossier(t, 2, "1.900009", time.Date(2025, 1, 12, 18, 0, 0, 0, time.UTC))
		w.dossier(t, 2, "1.900009", time.Date(2025, 1, 19, 16, 59, 0, 0, time.UTC)) // Sunday 23:59 in Ha Noi: same week
		w.dossier(t, 2, "1.900009", time.Date(2025, 1, 28, 9, 0, 0, 0, ict))
		w.dossier(t, 2, "1.900009", time.Date(2025, 2, 4, 9, 0, 0, 0, ict)) // this week: not complete, not counted
		hist := Series{Start: calendar.Date{Year: 2024, Month: 12, Day: 30}, Values: []float64{5, 7, 99}}
		if err := SaveHistory(ctx, db, 2, "1.900009", hist, "test"); err != nil {
			t.Fatal(err)
		}
		if err := SaveHistory(ctx, db, 2, "1.900009", hist, "test again"); err != nil {
			t.Fatalf("saving the same weeks again: %v", err)
		}
		got, err := weekly(ctx, db, w.svc.lastWeek())
		if err != nil {
			t.Fatal(err)
		}
		s := got[Key{2, "1.900009"}]
		want := []float64{5, 7, 2, 0, 1} // 30 Dec, 6 Jan from history; 13 Jan (not 99) on from dossiers
		if s.Start != (calendar.Date{Year: 2024, Month: 12, Day: 30}) || !slices.Equal(s.Values, want) {
			t.Errorf("series = %v from %v; want %v from 2024-12-30", s.Values, s.Start, want)
		}
		if len(got) != 1 {
			t.Errorf("series = %v; want only Paris's visas", got)
		}
	})
}

// A unit's head sees the unit's forecast and no other unit's (another
// mission's answers as missing); the ministry unit's heads see every
// unit's; a clerk sees none.
func TestForecastHidesOtherUnits(t *testing.T) {
	db := storetest.MustOpen(t, store.SQLite)
	ctx := context.Background()
	now := time.Date(2025, 2, 5, 12, 0, 0, 0, ict)
	w := newWorld(t, db, now)
	w.dossier(t, 2, "1.900009", now.AddDate(0, 0, -10))
	w.dossier(t, 3, "1.900009", now.AddDate(0, 0, -10))
	paris := authz.Subject{Kind: authz.Staff, ID: 10, Unit: 2, Roles: authz.RolesOf(authz.Approver)}
	leader := authz.Subject{Kind: authz.Staff, ID: 11, Unit: 1, Roles: authz.RolesOf(authz.Approver)}
	clerk := authz.Subject{Kind: authz.Staff, ID: 12, Unit: 2, Roles: authz.RolesOf(authz.Clerk, authz.Officer)}

	names := func(sub authz.Subject) []string {
		us, err := w.svc.Units(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range us {
			out = append(out, u.NameEN)
		}
		return out
	}
	if got := names(paris); !slices.Equal(got, []string{"Paris"}) {
		t.Errorf("Paris's head sees %v; want [Paris]", got)
	}
	if got := names(leader); !slices.Equal(got, []string{"Paris", "Tokyo"}) {
		t.Errorf("the ministry's head sees %v; want [Paris Tokyo]", got)
	}
	if got := names(clerk); len(got) != 0 {
		t.Errorf("a clerk sees %v; want none", got)
	}
	if _, _, err := w.svc.Unit(ctx, paris, 3); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Paris's head reading Tokyo's forecast: %v; want not found", err)
	}
	if _, _, err := w.svc.Unit(ctx, paris, 99); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("reading a unit that does not exist: %v; want not found", err)
	}
	if _, list, err := w.svc.Unit(ctx, leader, 3); err != nil || len(list) != 1 || list[0].Problem == "" {
		t.Errorf("the ministry's head reading Tokyo's two weeks: %v, %d outlooks; want one with a too-short problem", err, len(list))
	}
}
