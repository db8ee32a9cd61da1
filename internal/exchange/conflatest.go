package exchange

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Judging by the latest configuration. A node judges what arrives
// against the global configuration it holds, which may be older than the
// one the sender judged it by. A mission that has just enrolled shows it
// best: headquarters registers the mission's subsystems, services and
// rights one publication after another and sends under the newest at
// once, while the mission takes a publication up later, or misses it
// (it was installing the previous one, or its leaf link's interest in
// chx.conf had not reached headquarters yet) and would learn of it only
// at its next request, minutes later. Refused for good meanwhile, a new
// mission's first messages were lost. So a refusal that a newer
// configuration could lift is made only against the latest one: the
// receiver asks for it first, and a batch waits while it cannot learn it.
// A sender whose own configuration refuses such a message asks for the
// latest too, so that the caller's next try can pass.

// errNoLatestConf says that the node could not learn the latest global
// configuration; what waits on it is judged on a later try.
var errNoLatestConf = errors.New("exchange: the latest global configuration could not be had")

// confAskGap is the least time between two requests for the
// configuration that a sender's refusals ask for, so that a caller
// retrying a refused message does not flood headquarters.
const confAskGap = time.Second

// mayLift reports whether a newer configuration could lift the refusal
// err (an envelope's or a whole batch's): those about who is known,
// serves what, may send to whom, is cleared for what, and how large a
// message may be. Forgery, damage, replay and staleness stay refused
// whatever the configuration.
func mayLift(err error) bool {
	var re *RefusedError
	if !errors.As(err, &re) {
		return false
	}
	switch re.Reason {
	case ReasonUnknownSender, ReasonSpoofedSender, ReasonUnknownService, ReasonWrongRecipient, ReasonNoRight, ReasonClearance, ReasonTooLarge:
		return true
	}
	return false
}

// groupConf is the configuration a received group of batches is judged
// by: the node's, until a refusal that a newer one might lift makes the
// node learn the latest, once per group.
type groupConf struct {
	conf   *GlobalConf
	latest bool
}

// judge opens batch b from src and checks its envelopes against gc's
// configuration, judging again against the latest one when a refusal
// might be lifted by it. The error is the refusal of the whole batch, or
// errNoLatestConf when the batch must wait.
func (t *transport) judge(ctx context.Context, gc *groupConf, src string, b inBatch) (*openedIn, error) {
	for {
		ob, err := OpenBatch(b.wire, t.n.openSession(gc.conf), gc.conf)
		var o *openedIn
		doubt := mayLift(err)
		if err == nil {
			o = t.checkBatch(ctx, gc.conf, src, ob, b)
			for _, r := range o.results {
				doubt = doubt || r.refusal != nil && mayLift(r.refusal)
			}
		}
		if !doubt || gc.latest {
			return o, err
		}
		latest, lerr := t.latestConf(ctx)
		if lerr != nil {
			return nil, fmt.Errorf("%w: %v", errNoLatestConf, lerr)
		}
		gc.latest = true
		if latest.Serial == gc.conf.Serial {
			return o, err
		}
		t.n.log.Info("exchange: judging a batch again by a newer global configuration", "source", src,
			"held", gc.conf.Serial, "latest", latest.Serial)
		gc.conf = latest
	}
}

// confAsks keeps a node's requests for the configuration: when the last
// one that answered began, and when a sender's refusal last asked for one.
type confAsks struct {
	mu       sync.Mutex
	answered time.Time // guarded by mu
	doubted  atomic.Int64
}

// latestConf returns the newest configuration the node can hold now: at
// a mission, headquarters' (asked for now, or by a request that began
// since); at headquarters, the one in the database, where another
// replica may have installed a newer one than this replica holds.
func (t *transport) latestConf(ctx context.Context) (*GlobalConf, error) {
	if t.n.role == RoleHQ {
		var signed []byte
		if err := t.n.db.QueryRowContext(ctx, `SELECT conf FROM exchange_node WHERE id = 1`).Scan(&signed); err != nil {
			return nil, fmt.Errorf("exchange: read the global configuration: %w", err)
		}
		if len(signed) > 0 {
			t.installConf(signed)
		}
	} else if err := t.askConf(ctx, time.Now()); err != nil {
		return nil, err
	}
	return t.n.Conf()
}

// askConf asks headquarters for the configuration and installs it,
// unless a request that began at or after since has answered already.
func (t *transport) askConf(ctx context.Context, since time.Time) error {
	t.asks.mu.Lock()
	defer t.asks.mu.Unlock()
	if !t.asks.answered.Before(since) {
		return nil
	}
	began := time.Now()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// Naming the serial held lets headquarters answer with nothing when
	// it has no newer one (confdist.go).
	var held []byte
	if c, err := t.n.Conf(); err == nil {
		held = strconv.AppendUint(nil, c.Serial, 10)
	}
	m, err := t.nc.RequestWithContext(rctx, confGetSubject, held)
	if err != nil {
		return fmt.Errorf("exchange: ask headquarters for the global configuration: %w", err)
	}
	if len(m.Data) > 0 {
		t.installConf(m.Data)
	}
	t.asks.answered = began
	return nil
}

// doubtConf is called with the refusal of an outgoing message: at a
// mission, when a newer configuration could lift it, it has the
// configuration asked for now (at most once per confAskGap).
func (n *Node) doubtConf(err error) {
	t := n.transport()
	if t == nil || n.role == RoleHQ || !mayLift(err) {
		return
	}
	now, last := time.Now().UnixNano(), t.asks.doubted.Load()
	if now-last >= int64(confAskGap) && t.asks.doubted.CompareAndSwap(last, now) {
		kick(t.confKick)
	}
}
