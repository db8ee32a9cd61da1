package procedures

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyedLimiter allows each key (a client address, an account) a burst of
// attempts, refilled at a steady rate. It remembers at most max keys:
// past that it forgets those whose bucket is full again (they have been
// quiet for long enough to be allowed a whole burst anyway), and if every
// remembered key is still busy, all of them, so that a flood of new keys
// costs memory once, never without bound. It is safe for concurrent use.
type keyedLimiter struct {
	every time.Duration // one attempt comes back per every
	burst int
	max   int

	mu   sync.Mutex
	keys map[string]*rate.Limiter // guarded by mu
}

func newKeyedLimiter(every time.Duration, burst, max int) *keyedLimiter {
	return &keyedLimiter{every: every, burst: burst, max: max, keys: map[string]*rate.Limiter{}}
}

// allow reports whether key may make an attempt at now, and takes it; if
// not, it returns how long until the next one is allowed.
func (l *keyedLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	r, wait := l.take(key, now)
	return r != nil, wait
}

// take takes one of key's attempts at now and returns its reservation,
// which the caller may cancel (giving the attempt back) when the attempt
// came to nothing; or nil and how long until the next one is allowed.
func (l *keyedLimiter) take(key string, now time.Time) (*rate.Reservation, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.max {
			l.forgetLocked(now)
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.keys[key] = lim
	}
	r := lim.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return nil, wait
	}
	return r, 0
}

func (l *keyedLimiter) forgetLocked(now time.Time) {
	for k, lim := range l.keys {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
	if len(l.keys) >= l.max {
		clear(l.keys)
	}
}
