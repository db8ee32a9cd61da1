package exchange

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/bus"
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

// The windows above are per process, and the replicas of one node share
// its requests through a queue group: a frame replayed to a replica that
// has not seen it would pass that replica's window. So each frame that
// passed the local window is also claimed in a key-value bucket of the
// node's JetStream, with a create that succeeds only for a key that is
// not there: of any number of deliveries of one frame, to any replicas,
// at once or not, exactly one claim succeeds. The bucket lives on the
// bus, not in the database, because the request itself comes over the
// bus: the shared window adds no service the path did not already need,
// and keeps the path free of database writes. If the bucket cannot be
// reached the request is refused as unavailable (fail closed): a frame
// is never answered unclaimed.
//
// A key expires sharedReplayTTL after its claim, by the NATS server's
// clock; the freshness check refuses a replay replayMemory after the
// claim by the answering replica's clock, so the replicas' and the NATS
// servers' clocks must agree within sharedReplayTTL-replayMemory
// (`chancery doctor` checks the skew against NATS).

const (
	// sharedReplayBucket is the key-value bucket of the claimed frames.
	sharedReplayBucket = "chx_replay"
	// sharedReplayTTL is how long a claim is kept.
	sharedReplayTTL = replayMemory + time.Minute
	// A claim may use a third of the caller's time budget, within these
	// bounds: an R3 bucket's write waits for a quorum of NATS servers,
	// which on a loaded cluster takes seconds (a fixed 2 s refused one
	// request in seventy at the whole-system test's full size), and the
	// rest of the budget is the backend's.
	minClaimTimeout = 2 * time.Second
	maxClaimTimeout = 10 * time.Second
)

// claimTimeout is how long a claim of a request with the caller's budget
// may take.
func claimTimeout(budget time.Duration) time.Duration {
	return min(max(budget/3, minClaimTimeout), maxClaimTimeout)
}

// sharedReplay is the anti-replay memory that the replicas of one node
// share through its bus.
type sharedReplay struct {
	bus *bus.Bus
	mu  sync.Mutex
	kv  jetstream.KeyValue // guarded by mu; nil until the bucket is open
}

// bucket opens the bucket, creating it on first use.
func (r *sharedReplay) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kv != nil {
		return r.kv, nil
	}
	kv, err := r.bus.JetStream().CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      sharedReplayBucket,
		Description: "Chancery: request frames taken by a node's replicas (anti-replay)",
		TTL:         sharedReplayTTL,
		History:     1,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, err
	}
	r.kv = kv
	return kv, nil
}

// claim takes frame seq of session id for the whole node, or refuses it
// as a replay if any replica took it before. Any other failure is
// returned wrapping errs.ErrUnavailable.
func (r *sharedReplay) claim(ctx context.Context, id [SessionIDSize]byte, seq uint64, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	kv, err := r.bucket(ctx)
	if err == nil {
		_, err = kv.Create(ctx, hex.EncodeToString(id[:])+"."+strconv.FormatUint(seq, 10), nil)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jetstream.ErrKeyExists):
		return refuse(ReasonReplay, fmt.Sprintf("request frame %d of this session was received before (by another replica of this node)", seq))
	default:
		// The bucket may have gone with a JetStream that lost its
		// store: open it afresh for the next claim. Not after a claim
		// that was only slow: opening it is a write to the cluster
		// too, and adds to the load that made the claim late.
		if !bus.Slow(err) {
			r.mu.Lock()
			r.kv = nil
			r.mu.Unlock()
		}
		return fmt.Errorf("exchange: cannot record the request in the replicas' shared anti-replay bucket %s, so it is not taken "+
			"(check the NATS JetStream connection; the caller may send it again): %v: %w", sharedReplayBucket, err, errs.ErrUnavailable)
	}
}

// claimFrame claims frame seq of s, which passed s's local window, for
// all the replicas of this node (sharedReplay.claim); without a bus it
// has no replicas to share with.
func (n *Node) claimFrame(ctx context.Context, s *Session, e *Envelope, seq uint64) error {
	r := n.replay.Load()
	if r == nil {
		return nil
	}
	// The payload is authenticated; one that does not decode gets the
	// least time here and is refused as malformed after.
	var budget time.Duration
	if req, err := decodeRequest(e.Payload); err == nil {
		budget = time.Duration(req.budgetMS) * time.Millisecond
	}
	return r.claim(ctx, s.ID, seq, claimTimeout(budget))
}
