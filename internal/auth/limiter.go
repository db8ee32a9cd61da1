package auth

import (
	"crypto/sha256"
	"strings"
	"sync"
	"time"
)

// The limits on guessing live in memory: each replica limits on its own,
// which bounds the rate all the same, and a restart forgets them, which
// lets nobody in. No limit locks an account: one that did would let
// anyone who knows a username keep its owner out. Guessing is slowed per
// (account, address) and per address instead, and guessing at one
// account from many addresses raises an alert.

// bounded is a map of at most max entries. Adding a key to a full map
// first drops every entry stale reports, and if none is stale an
// arbitrary one (map order is random), so the memory stays bounded
// however many keys an attacker makes up. Its owner locks it.
type bounded[V any] struct {
	max   int
	stale func(v V, now time.Time) bool
	m     map[string]V
}

func newBounded[V any](max int, stale func(V, time.Time) bool) bounded[V] {
	return bounded[V]{max: max, stale: stale, m: map[string]V{}}
}

// put stores v under k, making room first when k is new and the map full.
func (b *bounded[V]) put(k string, v V, now time.Time) {
	if _, ok := b.m[k]; !ok && len(b.m) >= b.max {
		for key, old := range b.m {
			if b.stale(old, now) {
				delete(b.m, key)
			}
		}
		for key := range b.m {
			if len(b.m) < b.max {
				break
			}
			delete(b.m, key)
		}
	}
	b.m[k] = v
}

// addressLimiter counts failed sign-ins per client address in fixed
// windows, so one address cannot guess passwords across many accounts
// (the pair limiter slows guessing at one). An address that used up its
// failures is refused until its window ends: a short, bounded time.
type addressLimiter struct {
	limit  int
	window time.Duration

	mu      sync.Mutex
	windows bounded[addressWindow] // guarded by mu
}

type addressWindow struct {
	start time.Time
	fails int
}

func newAddressLimiter(limit int, window time.Duration, max int) *addressLimiter {
	return &addressLimiter{limit: limit, window: window,
		windows: newBounded(max, func(w addressWindow, now time.Time) bool { return !now.Before(w.start.Add(window)) })}
}

// blocked reports whether addr has used up its failures in the current
// window, and when the window ends. An empty address is never blocked:
// callers that know no address are slowed per account and name alone.
func (l *addressLimiter) blocked(addr string, now time.Time) (time.Time, bool) {
	if addr == "" {
		return time.Time{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.windows.m[addr]
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
	w, ok := l.windows.m[addr]
	if !ok || !now.Before(w.start.Add(l.window)) {
		w = addressWindow{start: now}
	}
	w.fails++
	l.windows.put(addr, w, now)
	return w.start.Add(l.window), w.fails == l.limit
}

// pairMemory is how long the pair limiter remembers the failures of a
// pair that has not failed since: a day, after which it starts afresh.
const pairMemory = 24 * time.Hour

// pairLimiter slows guessing at one account from one address: after
// `after` failures in a row, the pair must wait before its next attempt,
// `delay` after the first further failure and twice as long after each
// one after that, up to maxDelay. The account's owner, at another
// address, is not slowed at all; a success from the pair forgets its
// failures.
type pairLimiter struct {
	after           int
	delay, maxDelay time.Duration

	mu    sync.Mutex
	pairs bounded[pairState] // guarded by mu
}

type pairState struct {
	fails int
	last  time.Time // the last failure
	until time.Time // refused until then
}

func newPairLimiter(after int, delay, maxDelay time.Duration, max int) *pairLimiter {
	return &pairLimiter{after: after, delay: delay, maxDelay: maxDelay,
		pairs: newBounded(max, func(p pairState, now time.Time) bool {
			return !now.Before(p.until) && !now.Before(p.last.Add(pairMemory))
		})}
}

// pairKey is the limiter's key of sign-ins as name (a username or an
// e-mail address, in any case) of kind from address. It is a digest, so a
// long name costs no memory, and it is made from the name rather than the
// account, so a name no account has is slowed just like one that has,
// and the slowing tells nothing about which accounts exist.
func pairKey(kind, name, address string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + strings.ToLower(strings.TrimSpace(name)) + "\x00" + address))
	return string(sum[:])
}

// blocked reports whether the pair must still wait, and until when.
func (l *pairLimiter) blocked(key string, now time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.pairs.m[key]
	return p.until, ok && now.Before(p.until)
}

// fail records a failed sign-in of the pair. It reports whether the pair
// must now wait, and until when, with the number of failures in a row.
func (l *pairLimiter) fail(key string, now time.Time) (until time.Time, fails int, slowed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.pairs.m[key]
	if !ok || !now.Before(p.last.Add(pairMemory)) {
		p = pairState{}
	}
	p.fails++
	p.last = now
	if p.fails >= l.after {
		p.until = now.Add(l.wait(p.fails - l.after + 1))
	}
	l.pairs.put(key, p, now)
	return p.until, p.fails, p.fails >= l.after
}

// wait returns how long a pair waits after its nth failure past the
// allowance: delay, doubling with each, up to maxDelay.
func (l *pairLimiter) wait(nth int) time.Duration {
	d := l.delay
	for i := 1; i < nth && d < l.maxDelay; i++ {
		d *= 2
	}
	return min(d, l.maxDelay)
}

// forget drops the pair's failures after it signed in.
func (l *pairLimiter) forget(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pairs.m, key)
}

// sprayWatch notices failed sign-ins to one account from many addresses:
// guessing spread over a botnet, or one password tried on many accounts,
// which the per-address limits do not slow. It only tells: slowing the
// account for everyone would be the lockout again.
type sprayWatch struct {
	addresses int // how many different addresses raise the alert
	window    time.Duration

	mu       sync.Mutex
	accounts bounded[sprayState] // guarded by mu
}

type sprayState struct {
	start   time.Time
	addrs   map[string]struct{} // at most `addresses` of them
	alerted bool
}

func newSprayWatch(addresses int, window time.Duration, max int) *sprayWatch {
	return &sprayWatch{addresses: addresses, window: window,
		accounts: newBounded(max, func(s sprayState, now time.Time) bool { return !now.Before(s.start.Add(window)) })}
}

// fail records a failed sign-in to account from addr. It reports true
// once per window: when the failures of the window come from the alert's
// number of different addresses.
func (w *sprayWatch) fail(account, addr string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.accounts.m[account]
	if !ok || !now.Before(s.start.Add(w.window)) {
		s = sprayState{start: now, addrs: map[string]struct{}{}}
	}
	if s.alerted {
		return false
	}
	s.addrs[addr] = struct{}{}
	s.alerted = len(s.addrs) >= w.addresses
	w.accounts.put(account, s, now)
	return s.alerted
}
