package sentinel

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestWatcherScoresEveryEventExactlyOnceAcrossRestarts: events recorded
// before any watcher runs are caught up; a watcher that crashes after
// saving and before acknowledging gets its messages again and skips them;
// a watcher stopped mid-stream is replaced by a replica waiting for the
// lease, which resumes from the saved state; only one replica scores at a
// time. At the end the scorer has seen every event once, in order, and
// the alerts stored are exactly those its count implies.
func TestWatcherScoresEveryEventExactlyOnceAcrossRestarts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.appendN(t, 0, 40)
		var crashed atomic.Bool // set by the watcher's goroutine, read here
		fast := func(holder string) WatcherOptions {
			return WatcherOptions{Holder: holder, Lease: time.Second, ackWait: time.Second}
		}
		a := fast("a")
		a.afterCommit = func(next uint64) error {
			if next > 20 && crashed.CompareAndSwap(false, true) {
				return errors.New("crash after the save, before the acknowledgements")
			}
			return nil
		}
		stopA := w.watch(t, a)
		w.appendN(t, 40, 80)
		w.waitScored(t, 80)
		if !crashed.Load() {
			t.Fatal("the watcher never crashed after a save")
		}
		stopA()
		stopB := w.watch(t, fast("b"))
		w.watch(t, fast("c"))
		w.appendN(t, 80, 150)
		w.waitScored(t, 150)
		stopB()
		w.appendN(t, 150, 160)
		s := w.waitScored(t, 160)

		if s.State.Next != 160 || len(s.State.Disorder) != 0 {
			t.Fatalf("the scorer saw up to %d with these out of order or twice: %v", s.State.Next, s.State.Disorder)
		}
		total, alerts := 0, 0
		for _, n := range s.State.PerUser {
			total += n
			alerts += n / 5
		}
		if total != 160 {
			t.Fatalf("the scorer observed %d events, want 160 (each once): %v", total, s.State.PerUser)
		}
		if got := countAlerts(t, db); got != alerts {
			t.Fatalf("%d alerts stored, want %d", got, alerts)
		}
	})
}

// TestClosingAnAlertTellsTheScorerOnce: a security officer's verdict
// reaches the scorer's saved state once, whichever replica scores.
func TestClosingAnAlertTellsTheScorerOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		s := newSite(t, db)
		w.appendN(t, 0, 15)
		w.watch(t, WatcherOptions{Holder: "a", Lease: time.Second, ackWait: time.Second})
		w.waitScored(t, 15)
		page, err := s.svc.List(t.Context(), s.officer, Filter{})
		if err != nil || page.Total != 3 {
			t.Fatalf("%d alerts, %v; want 3", page.Total, err)
		}
		tp, fp := StatusTruePositive, StatusFalsePositive
		ctx := audit.WithOrigin(t.Context(), audit.Origin{Actor: audit.Staff(s.officer.ID, "officer")})
		for i, st := range []*Status{&tp, &fp} {
			if _, err := s.svc.Update(ctx, s.officer, page.Items[i].ID, Patch{Status: st, Version: 1}); err != nil {
				t.Fatal(err)
			}
		}
		w.appendN(t, 15, 16) // and one more event, so that the state is saved again anyway
		deadline := time.Now().Add(10 * time.Second)
		for {
			sc := w.waitScored(t, 16)
			if v := sc.State.Verdicts["bulk_read"]; len(v) == 2 {
				if v[0]+v[1] != 0 {
					t.Fatalf("verdicts %v, want one true and one false positive", v)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the scorer has verdicts %v", sc.State.Verdicts)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
