package procedures

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKeyedLimiterAllowsABurstPerKeyUnderConcurrency pins the limiter
// behind public tracking and population lookups: each key gets its burst
// and no more, however many goroutines ask at once, and a flood of new
// keys is forgotten rather than kept without bound.
func TestKeyedLimiterAllowsABurstPerKeyUnderConcurrency(t *testing.T) {
	now := time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)
	l := newKeyedLimiter(time.Second, 5, 100)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if ok, _ := l.allow("198.51.100.7", now); ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 5 {
		t.Errorf("50 concurrent attempts from one key: %d allowed, want the burst of 5", n)
	}
	if ok, wait := l.allow("198.51.100.7", now); ok || wait <= 0 || wait > time.Second {
		t.Errorf("past the burst: allowed %v, wait %v, want refused for up to a second", ok, wait)
	}
	if ok, _ := l.allow("203.0.113.9", now); !ok {
		t.Error("another key was refused")
	}
	for i := range 1000 {
		l.allow(fmt.Sprintf("key-%d", i), now)
	}
	l.mu.Lock()
	n := len(l.keys)
	l.mu.Unlock()
	if n > 100 {
		t.Errorf("the limiter remembers %d keys, more than its 100", n)
	}
	if ok, _ := l.allow("198.51.100.7", now.Add(time.Second)); !ok {
		t.Error("a key refused a second ago was not allowed again")
	}
}
