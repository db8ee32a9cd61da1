package auth

import (
	"sync"
	"time"
)

// addressLimiter counts failed sign-ins per client address in fixed
// windows, so one address cannot guess passwords across many accounts
// (the per-account lockout stops guessing at one). It lives in memory:
// each replica limits on its own, which bounds the rate all the same.
type addressLimiter struct {
	limit  int
	window time.Duration
	max    int // addresses remembered at most

	mu      sync.Mutex
	windows map[string]addressWindow // guarded by mu
}

type addressWindow struct {
	start time.Time
	fails int
}

func newAddressLimiter(limit int, window time.Duration, max int) *addressLimiter {
	return &addressLimiter{limit: limit, window: window, max: max, windows: map[string]addressWindow{}}
}

// blocked reports whether addr has used up its failures in the current
// window, and when the window ends. An empty address is never blocked:
// callers that know no address are limited by the account lockout alone.
func (l *addressLimiter) blocked(addr string, now time.Time) (time.Time, bool) {
	if addr == "" {
		return time.Time{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.windows[addr]
	end := w.start.Add(l.window)
	if !ok || !now.Before(end) {
		return time.Time{}, false
	}
	return end, w.fails >= l.limit
}

// fail records a failed sign-in from addr. It reports whether this
// failure used up the address's allowance, and until when the address is
// then blocked: true once per window, so the block is recorded once.
func (l *addressLimiter) fail(addr string, now time.Time) (time.Time, bool) {
	if addr == "" {
		return time.Time{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.windows[addr]
	if !ok || !now.Before(w.start.Add(l.window)) {
		if !ok && len(l.windows) >= l.max {
			l.evictLocked(now)
		}
		w = addressWindow{start: now}
	}
	w.fails++
	l.windows[addr] = w
	return w.start.Add(l.window), w.fails == l.limit
}

// evictLocked makes room for one address: it drops every window that has
// ended, and if none has, an arbitrary one (map order is random), so the
// memory stays bounded however many addresses an attacker uses.
func (l *addressLimiter) evictLocked(now time.Time) {
	for addr, w := range l.windows {
		if !now.Before(w.start.Add(l.window)) {
			delete(l.windows, addr)
		}
	}
	for addr := range l.windows {
		if len(l.windows) < l.max {
			return
		}
		delete(l.windows, addr)
	}
}
