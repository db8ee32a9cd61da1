package procedures

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestKeyedLimiterIsSharedByReplicas pins the limiter behind public
// tracking and population lookups as headquarters runs it: on several
// replicas sharing one database. Two limiters on two connections to one
// database (two replicas) give each key its burst between them and no
// more, however many goroutines ask at once through either; a key one
// refuses the other refuses too, for the time the first reports; a given
// back attempt can be taken through the other; and the full buckets are
// deleted.
func TestKeyedLimiterIsSharedByReplicas(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db, dsn := storetest.MustOpenShared(t, d)
			other, err := store.Open(ctx, dsn, "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { other.Close() })
			now := time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)
			one, two := newKeyedLimiter(db, "test:", time.Second, 5), newKeyedLimiter(other, "test:", time.Second, 5)
			var allowed atomic.Int64
			var wg sync.WaitGroup
			for i := range 20 {
				l := one
				if i%2 == 1 {
					l = two
				}
				wg.Go(func() {
					ok, _, err := l.allow(ctx, "198.51.100.7", now)
					if err != nil {
						t.Error(err)
					}
					if ok {
						allowed.Add(1)
					}
				})
			}
			wg.Wait()
			if n := allowed.Load(); n != 5 {
				t.Errorf("20 concurrent attempts from one key through two replicas: %d allowed, want the burst of 5", n)
			}
			for _, l := range []*keyedLimiter{one, two} {
				if ok, wait, err := l.allow(ctx, "198.51.100.7", now.Add(100*time.Millisecond)); err != nil || ok || wait != 900*time.Millisecond {
					t.Errorf("past the burst: allowed %v, wait %v, err %v; want refused for 900ms on either replica", ok, wait, err)
				}
			}
			if ok, _, err := two.allow(ctx, "203.0.113.9", now); err != nil || !ok {
				t.Errorf("another key was refused (%v)", err)
			}
			if err := one.giveBack(ctx, "198.51.100.7"); err != nil {
				t.Fatal(err)
			}
			if ok, _, err := two.allow(ctx, "198.51.100.7", now); err != nil || !ok {
				t.Errorf("an attempt given back through one replica was refused through the other (%v)", err)
			}
			if ok, _, err := one.allow(ctx, "198.51.100.7", now.Add(time.Second)); err != nil || !ok {
				t.Errorf("a key refused a second ago was not allowed again (%v)", err)
			}
			// Long after, the purge leaves only the bucket just taken.
			later := now.Add(time.Hour)
			if ok, _, err := two.allow(ctx, "192.0.2.1", later); err != nil || !ok {
				t.Fatalf("a new key was refused (%v)", err)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM procedures_limits`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("%d rows in procedures_limits after the purge, want the 1 bucket still busy", n)
			}
		})
	}
}
