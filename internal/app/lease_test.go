package app

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// arrivalsForTest is an exchange node's Arrived as a test drives it.
type arrivalsForTest struct {
	mu sync.Mutex
	ch chan struct{}
}

func (a *arrivalsForTest) wait() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ch == nil {
		a.ch = make(chan struct{})
	}
	return a.ch
}

func (a *arrivalsForTest) deliver() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ch != nil {
		close(a.ch)
		a.ch = nil
	}
}

// TestInboxReadersWaitForArrivalsNotForATick pins awaitArrivals, which the
// inbox readers (records' packages, missions' alerts) run on: a pass at
// start, one per arrival, a retry after a failed pass, and none at rest
// though the safety tick never comes.
func TestInboxReadersWaitForArrivalsNotForATick(t *testing.T) {
	var arrivals arrivalsForTest
	var passes atomic.Int64
	var fail atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		awaitArrivals(ctx, arrivals.wait, time.Hour, func() error {
			passes.Add(1)
			if fail.Load() {
				return errors.New("the database is away")
			}
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	settle := func(what string, want int64, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for passes.Load() < want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // and nothing more at rest
		if got := passes.Load(); got != want {
			t.Fatalf("%s: %d passes, want %d", what, got, want)
		}
	}
	settle("at start", 1, time.Second)
	arrivals.deliver()
	settle("after an arrival", 2, time.Second)
	fail.Store(true)
	arrivals.deliver()
	settle("after a failed pass and its retry", 4, inboxRetry+time.Second)
}
