package exchange

import (
	"fmt"
	"sync"
	"time"

	"chancery/internal/errs"
)

// Anti-replay of request frames. Each request frame carries its session's
// next sequence number, authenticated with the envelope, and the
// provider's node keeps, per incoming session, the window of RFC 4303
// §3.4.3: the highest number accepted and a bitmap of the
// replayWindowSize numbers below it. A frame whose number is set, or
// below the window, is refused with ReasonReplay, before its request is
// checked or logged: replay protection costs no database write.
//
// The windows live in the cached sessions, so their memory is bounded
// with the cache. A session evicted from the cache and opened again would
// start a fresh window; the cache therefore evicts only a session that
// accepted no frame for replayMemory, and refuses to cache a new session
// (the request is answered "unavailable", to be retried) while every
// cached one is more recent. That is sound because of the freshness
// check: a frame accepted at t carried a time no later than
// t+requestSkew, so replayed at or after t+replayMemory it is more than
// requestSkew old and refused as stale, whatever window it meets.

const (
	// replayWindowSize is how many sequence numbers below the highest
	// accepted one a window remembers; requests running at once on one
	// session arrive at most this far out of order.
	replayWindowSize = 4096
	// replayMemory is how long after its last accepted frame a
	// session's window must be kept.
	replayMemory = 2*requestSkew + time.Second
)

// replayWindow is the anti-replay window of one incoming session.
type replayWindow struct {
	mu      sync.Mutex
	top     uint64                        // highest accepted number; guarded by mu
	bits    [replayWindowSize / 64]uint64 // bit seq%replayWindowSize: seq accepted; guarded by mu
	last    time.Time                     // when a frame was last accepted, or the session opened; guarded by mu
	retired bool                          // evicted from the cache; guarded by mu
}

func newReplayWindow(opened time.Time) *replayWindow { return &replayWindow{last: opened} }

// errRetiredSession is returned for a frame that raced with its session's
// eviction from the cache: the window is forgotten, so the frame cannot
// be taken, but sending it again opens the session anew.
var errRetiredSession = fmt.Errorf("exchange: the request's session was just dropped from this node's cache; send it again: %w", errs.ErrUnavailable)

// accept takes sequence number seq, received at now, or refuses it.
func (w *replayWindow) accept(seq uint64, now time.Time) error {
	if seq == 0 {
		return refuse(ReasonMalformed, "request frame has sequence number 0")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.retired:
		return errRetiredSession
	case seq > w.top:
		if seq-w.top >= replayWindowSize {
			clear(w.bits[:])
		} else {
			for s := w.top + 1; s < seq; s++ {
				w.bits[s/64%uint64(len(w.bits))] &^= 1 << (s % 64)
			}
		}
		w.top = seq
	case w.top-seq >= replayWindowSize:
		return refuse(ReasonReplay, fmt.Sprintf("request frame %d is more than %d frames behind the newest of its session (%d): "+
			"too old to tell from a replay", seq, replayWindowSize, w.top))
	case w.bits[seq/64%uint64(len(w.bits))]&(1<<(seq%64)) != 0:
		return refuse(ReasonReplay, fmt.Sprintf("request frame %d of this session was received before", seq))
	}
	w.bits[seq/64%uint64(len(w.bits))] |= 1 << (seq % 64)
	if now.After(w.last) {
		w.last = now
	}
	return nil
}

// retire marks the window forgotten and reports true if it accepted no
// frame for replayMemory before now; a window of a session this node
// sends on (nil) is always forgettable.
func (w *replayWindow) retire(now time.Time) bool {
	if w == nil {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.Sub(w.last) < replayMemory {
		return false
	}
	w.retired = true
	return true
}
