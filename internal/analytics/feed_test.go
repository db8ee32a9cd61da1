package analytics

import (
	"context"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// world is a database with two units, a ledger and a feeder.
type world struct {
	db     *store.DB
	ledger *audit.Ledger
	feeder *Feeder
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	addUnit(t, db, 1, "000.00.00.G06", "ministry", "VN", "Asia/Ho_Chi_Minh")
	addUnit(t, db, 2, "000.00.31.G06", "embassy", "FR", "Europe/Paris")
	w := &world{db: db, ledger: audittest.MustLedger(t, db)}
	w.feeder = w.newFeeder(t)
	return w
}

func (w *world) newFeeder(t testing.TB) *Feeder {
	t.Helper()
	f, err := NewFeeder(FeederOptions{DB: w.db, Ledger: w.ledger})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// commit writes a dossier row (or updates it) and its ledger event in one
// transaction, as procedures does, and integrates the ledger.
func (w *world) dossier(t testing.TB, code string, unit int64, action string, at time.Time, due time.Time, late bool) {
	t.Helper()
	ctx := context.Background()
	err := w.db.InTx(ctx, func(tx *store.Tx) error {
		if action == "dossier.submit" {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO dossiers (code, procedure_code, unit_id, channel, status, lifecycle, applicant_name, form, submitted_us, due_us, updated_us)
				VALUES (?, 'P1', ?, 2, 1, '{}', 'A', ?, ?, ?, ?)`), code, unit, []byte("{}"), store.Micros(at), store.Micros(due), store.Micros(at)); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE dossiers SET open = 0, late = ? WHERE code = ?"), b2i(late), code); err != nil {
			return err
		}
		return w.ledger.AppendTx(ctx, tx, audit.Event{Time: at, Actor: audit.System("test"), UnitID: 1, Action: action,
			ResourceType: "dossier", ResourceID: code, Outcome: audit.OK})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ledger.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
}

func (w *world) total(t testing.TB, day string, unit int64, m Measure) int64 {
	t.Helper()
	var v int64
	err := w.db.QueryRowContext(context.Background(), w.db.Rebind(`SELECT COALESCE(SUM(value), 0) FROM analytics_facts WHERE day = ? AND unit_id = ? AND measure = ?`),
		day, unit, string(m)).Scan(&v)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFeederCountsEachCommittedEventOnceAcrossRestartsAndReplicas(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		// 22:30 UTC on Friday 4 December is Saturday the 5th in Hanoi, and
		// still Friday in Paris.
		at := time.Date(2026, 12, 4, 22, 30, 0, 0, time.UTC)
		due := at.Add(240 * time.Hour)
		w.dossier(t, "A-1", 1, "dossier.submit", at, due, false)
		w.dossier(t, "A-2", 2, "dossier.submit", at, due, false)
		w.dossier(t, "A-3", 2, "dossier.submit", at, at.Add(-time.Hour), false)
		if err := w.feeder.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if got := w.total(t, "2026-12-05", 1, DossiersReceived); got != 1 {
			t.Errorf("unit 1 received on the 5th (Hanoi) = %d, want 1", got)
		}
		if got := w.total(t, "2026-12-04", 2, DossiersReceived); got != 2 {
			t.Errorf("unit 2 received on the 4th (Paris) = %d, want 2", got)
		}
		var working int
		if err := db.QueryRowContext(ctx, "SELECT working_day FROM analytics_facts WHERE unit_id = 1").Scan(&working); err != nil || working != 0 {
			t.Errorf("Saturday's working_day = %d, %v; want 0", working, err)
		}
		if got := w.total(t, "2026-12-04", 2, DossiersOverdue); got != 1 {
			t.Errorf("overdue on the 4th = %d, want 1 (A-3, past its deadline unresolved)", got)
		}

		// A restart (a new feeder) and a second replica racing it count
		// nothing again, and count what is new once.
		w.dossier(t, "A-1", 1, "dossier.approve", at.Add(time.Hour), due, false)
		w.dossier(t, "A-3", 2, "dossier.refuse", at.Add(time.Hour), due, true)
		var wg sync.WaitGroup
		for _, f := range []*Feeder{w.newFeeder(t), w.newFeeder(t), w.feeder} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f.CatchUp(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if err := w.newFeeder(t).CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			day  string
			unit int64
			m    Measure
			want int64
		}{
			{"2026-12-05", 1, DossiersReceived, 1},
			{"2026-12-05", 1, DossiersResolved, 1},
			{"2026-12-04", 2, DossiersReceived, 2},
			{"2026-12-05", 2, DossiersResolved, 1},
			{"2026-12-05", 2, DossiersResolvedLate, 1},
			{"2026-12-04", 2, DossiersOverdue, 1}, // A-3 once, although also resolved late
		} {
			if got := w.total(t, c.day, c.unit, c.m); got != c.want {
				t.Errorf("%s of unit %d on %s = %d, want %d", c.m, c.unit, c.day, got, c.want)
			}
		}

		// Rebuild recounts the same from the ledger.
		if err := w.feeder.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		if got := w.total(t, "2026-12-04", 2, DossiersReceived); got != 2 {
			t.Errorf("after a rebuild unit 2 received = %d, want 2", got)
		}
		if got := w.total(t, "2026-12-04", 2, DossiersOverdue); got != 1 {
			t.Errorf("after a rebuild overdue = %d, want 1", got)
		}
	})
}

func TestSweepRecountsAlertsAndExchangeTrafficIdempotently(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
		for i := range 3 {
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO sentinel_alerts (rule, unit_id, score, risk, title_vi, title_en, explanation_vi, explanation_en, events, first_us, last_us, status, created_us, updated_us)
				VALUES ('r', 2, 1, 1, 't', 't', 'e', 'e', '[]', ?, ?, 'new', ?, ?)`), store.Micros(at), store.Micros(at), store.Micros(at.Add(time.Duration(i)*time.Minute)), store.Micros(at)); err != nil {
				t.Fatal(err)
			}
		}
		for i, dir := range []string{"out", "out", "in"} {
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO exchange_log (msg_id, direction, type, peer, sender, recipient, service, level, content_type, size, msg_time_us, logged_us, digest, state)
				VALUES (?, ?, 1, 'hq', 'VN/GOV/000.00.31.G06/app', 'VN/GOV/000.00.00.G06/app', 's', 0, 'application/json', 1, ?, ?, ?, 'sent')`),
				"m"+string(rune('0'+i)), dir, store.Micros(at), store.Micros(at), []byte{1}); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if err := w.feeder.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := w.total(t, "2026-12-04", 2, Alerts); got != 3 {
			t.Errorf("alerts = %d, want 3", got)
		}
		if got := w.total(t, "2026-12-04", 2, ExchangeSent); got != 2 {
			t.Errorf("sent by the embassy = %d, want 2", got)
		}
		if got := w.total(t, "2026-12-04", 1, ExchangeReceived); got != 1 {
			t.Errorf("received by the ministry = %d, want 1", got)
		}
	})
}
