package analytics

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// benchRate is the rate BenchmarkFactLag submits dossiers at: the
// dossier submission benchmark's (internal/app BenchmarkSubmit, online
// submissions through the whole server: 244/s on SQLite, 122/s on
// PostgreSQL on these machines), rounded up.
const benchRate = 250

// BenchmarkFactLag measures how long after a dossier's transaction
// commits its fact is in the analytics store: each of b.N dossiers is
// committed as procedures commits one (the dossier's row and its ledger
// event in one transaction) at benchRate a second by a pool of writers,
// while the ledger integrates as a server's does (audit.Ledger.Run) and
// the feeder follows it (Feeder.Run); the feeder reports when the
// transaction that counted each event committed. It reports the lag's
// p50-ms and p99-ms (target p99 < 2 s) and the rate reached.
func BenchmarkFactLag(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.MustOpen(b, d)
			addUnit(b, db, 1, "000.00.00.G06", "ministry", "VN", "Asia/Ho_Chi_Minh")
			ledger := audittest.MustLedger(b, db)
			var mu sync.Mutex
			applied := map[string]time.Time{}
			f, err := NewFeeder(FeederOptions{DB: db, Ledger: ledger, applied: func(events []audit.Event, at time.Time) {
				mu.Lock()
				defer mu.Unlock()
				for _, e := range events {
					if e.Action == "dossier.submit" {
						applied[e.ResourceID] = at
					}
				}
			}})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var bg sync.WaitGroup
			bg.Add(2)
			go func() { defer bg.Done(); ledger.Run(ctx) }() //nolint:errcheck // returns nil
			go func() { defer bg.Done(); f.Run(ctx) }()      //nolint:errcheck // returns nil
			defer func() { cancel(); bg.Wait() }()

			committed := map[string]time.Time{}
			codes := make(chan string, 64)
			var wg sync.WaitGroup
			var failed error
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for code := range codes {
						err := submitDossier(ctx, db, ledger, code)
						mu.Lock()
						if err != nil && failed == nil {
							failed = err
						}
						committed[code] = time.Now()
						mu.Unlock()
					}
				}()
			}
			tick := time.NewTicker(time.Second / benchRate)
			start := time.Now()
			n := 0
			for b.Loop() {
				<-tick.C
				codes <- fmt.Sprintf("%s-%d-%d", d, start.UnixNano(), n)
				n++
			}
			close(codes)
			wg.Wait()
			tick.Stop()
			elapsed := time.Since(start)
			if failed != nil {
				b.Fatal(failed)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				mu.Lock()
				done := len(applied) >= n
				mu.Unlock()
				if done {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("after 30 s the store counts %d of %d dossiers", len(applied), n)
				}
				time.Sleep(10 * time.Millisecond)
			}
			b.StopTimer()
			lags := make([]time.Duration, 0, n)
			for code, at := range committed {
				lags = append(lags, max(0, applied[code].Sub(at)))
			}
			slices.Sort(lags)
			pct := func(p int) float64 {
				return float64(lags[(len(lags)*p+99)/100-1]) / float64(time.Millisecond)
			}
			var counted int64
			if err := db.QueryRow(db.Rebind("SELECT COALESCE(SUM(value), 0) FROM analytics_facts WHERE measure = ?"), string(DossiersReceived)).Scan(&counted); err != nil || counted != int64(n) {
				b.Fatalf("the store counts %d dossiers received, %v; want %d", counted, err, n)
			}
			b.ReportMetric(pct(50), "p50-ms")
			b.ReportMetric(pct(99), "p99-ms")
			b.ReportMetric(float64(n)/elapsed.Seconds(), "dossiers/s")
		})
	}
}

// submitDossier commits a dossier as procedures does: its row and its
// ledger event in one transaction.
func submitDossier(ctx context.Context, db *store.DB, ledger *audit.Ledger, code string) error {
	now := store.Now()
	return db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO dossiers (code, procedure_code, unit_id, channel, status, lifecycle, applicant_name, form, submitted_us, due_us, updated_us)
			VALUES (?, 'P1', 1, 2, 1, '{}', 'A', ?, ?, ?, ?)`), code, []byte("{}"), store.Micros(now), store.Micros(now.Add(240*time.Hour)), store.Micros(now)); err != nil {
			return err
		}
		return ledger.AppendTx(ctx, tx, audit.Event{Time: now, Actor: audit.System("bench"), UnitID: 1, Action: "dossier.submit",
			ResourceType: "dossier", ResourceID: code, Outcome: audit.OK})
	})
}
