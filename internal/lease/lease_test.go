package lease

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// A lease is taken by one holder at a time; another takes it only once it
// expired or was released, with a higher fence, and the old holder can
// neither renew it nor pass Held.
func TestALeaseIsHeldByOneHolderUntilItExpiresOrIsReleased(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
		ttl := 10 * time.Second
		a, ok, err := Acquire(ctx, db, "mail", "a", ttl, t0)
		if err != nil || !ok || a.Fence != 1 {
			t.Fatalf("first acquire: %+v %v %v; want fence 1", a, ok, err)
		}
		if _, ok, err := Acquire(ctx, db, "mail", "b", ttl, t0.Add(9*time.Second)); ok || err != nil {
			t.Fatalf("b took a running lease: %v %v", ok, err)
		}
		if _, ok, _ := Acquire(ctx, db, "outbox", "b", ttl, t0); !ok {
			t.Fatal("b could not take another name's lease")
		}
		if ok, err := Renew(ctx, db, &a, ttl, t0.Add(5*time.Second)); !ok || err != nil {
			t.Fatalf("a could not renew: %v %v", ok, err)
		}
		// Renewed until t0+15s: b still waits at t0+14s.
		if _, ok, _ := Acquire(ctx, db, "mail", "b", ttl, t0.Add(14*time.Second)); ok {
			t.Fatal("b took a renewed lease before it expired")
		}
		again, ok, _ := Acquire(ctx, db, "mail", "a", ttl, t0.Add(14*time.Second))
		if !ok || again.Fence != 1 {
			t.Fatalf("the holder taking its own lease again: %+v %v; want the same fence", again, ok)
		}
		// a stops renewing (killed): b takes over once it expired.
		b, ok, err := Acquire(ctx, db, "mail", "b", ttl, t0.Add(24*time.Second))
		if err != nil || !ok || b.Fence != 2 {
			t.Fatalf("takeover after expiry: %+v %v %v; want fence 2", b, ok, err)
		}
		if ok, _ := Renew(ctx, db, &a, ttl, t0.Add(25*time.Second)); ok {
			t.Fatal("the old holder renewed a lease another holds")
		}
		for _, c := range []struct {
			l    Lease
			want bool
		}{{a, false}, {b, true}} {
			if held, err := Held(ctx, db, c.l, t0.Add(25*time.Second)); held != c.want || err != nil {
				t.Errorf("Held(%s, fence %d) = %v, %v; want %v", c.l.Holder, c.l.Fence, held, err, c.want)
			}
		}
		// Released, it is free at once.
		if err := Release(ctx, db, b); err != nil {
			t.Fatal(err)
		}
		if err := Release(ctx, db, a); err != nil {
			t.Fatal(err) // releasing one no longer held does nothing
		}
		c, ok, _ := Acquire(ctx, db, "mail", "a", ttl, t0.Add(26*time.Second))
		if !ok || c.Fence != 3 {
			t.Fatalf("acquire after release: %+v %v; want fence 3", c, ok)
		}
	})
}

// Two replicas run one job: it runs on exactly one of them, and on the
// other once the holder stops.
func TestAJobRunsOnOneReplicaAndOnTheOtherAfterTheHolderStops(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		var running, most atomic.Int32
		started := make(chan string, 4)
		job := func(ctx context.Context, l Lease) {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			started <- l.Holder
			<-ctx.Done()
			running.Add(-1)
		}
		ctxs := map[string]context.CancelFunc{}
		var wg sync.WaitGroup
		for _, name := range []string{"replica-1", "replica-2"} {
			ctx, cancel := context.WithCancel(context.Background())
			ctxs[name] = cancel
			r := NewRunner(db, Options{Holder: name, TTL: 300 * time.Millisecond})
			wg.Go(func() { r.Run(ctx, "checkpoints", job) })
		}
		defer func() {
			for _, cancel := range ctxs {
				cancel()
			}
			wg.Wait()
		}()
		first := wait(t, started)
		// The holder renews while the other keeps trying: wait for two
		// renewals, then check nobody else ran meanwhile.
		deadline := time.Now().Add(10 * time.Second)
		var last int64
		for renewals := -1; renewals < 2; {
			var holder string
			var exp int64
			if err := db.QueryRowContext(context.Background(), db.Rebind(`SELECT holder, expires_us FROM leases WHERE name = ?`),
				"checkpoints").Scan(&holder, &exp); err != nil {
				t.Fatal(err)
			}
			if holder != first {
				t.Fatalf("the lease moved to %s while %s ran", holder, first)
			}
			if exp > last {
				renewals, last = renewals+1, exp
			}
			if time.Now().After(deadline) {
				t.Fatal("the holder did not renew its lease")
			}
			time.Sleep(20 * time.Millisecond)
		}
		select {
		case h := <-started:
			t.Fatalf("%s ran the job too, while %s held it", h, first)
		default:
		}
		ctxs[first]()
		second := wait(t, started)
		if second == first {
			t.Fatalf("the job started again on %s, which stopped", first)
		}
		if m := most.Load(); m != 1 {
			t.Fatalf("the job ran on %d replicas at once", m)
		}
	})
}

func wait(t *testing.T, c <-chan string) string {
	t.Helper()
	select {
	case h := <-c:
		return h
	case <-time.After(10 * time.Second):
		t.Fatal("no replica ran the job")
		return ""
	}
}
