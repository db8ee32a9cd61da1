package exchange

import (
	"context"
	"fmt"
	"sync"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
)

// Outgoing is a message an information system sends through its node.
type Outgoing struct {
	// From is the sending subsystem, which this node must serve.
	From ClientID
	// To is the asynchronous service the message is for; its provider
	// receives it.
	To ServiceID
	// Level is the message's classification.
	Level authz.Level
	// ContentType is the payload's media type.
	ContentType string
	Payload     []byte
}

// Send checks a message against the global configuration, makes it
// durable in the message log and returns its id; the transport then
// delivers it, whether or not the destination is reachable now. A message
// the configuration does not allow is refused with a *RefusedError and
// never queued. Send returns ErrConfExpired when the node's configuration
// has expired, and ErrTransportStopped when Run is not running.
func (n *Node) Send(ctx context.Context, m Outgoing) (string, error) {
	conf, err := n.sendConf(ctx)
	if err != nil {
		return "", err
	}
	dest, err := checkOutgoing(conf, n.id, m)
	if err != nil {
		n.metrics.message("out", m.To, "refused", 1)
		n.doubtConf(err) // a newer configuration may allow it: have it asked for
		return "", err
	}
	// Every message leaves through here: data-loss prevention checks it
	// before it is queued.
	if n.opts.Egress != nil {
		if err := n.opts.Egress.Check(ctx, m.To.Provider().String(), m.Level, m.To.String(), m.ContentType, m.Payload); err != nil {
			n.metrics.message("out", m.To, "refused", 1)
			return "", err
		}
	}
	t := n.transport()
	if t == nil {
		return "", ErrTransportStopped
	}
	e := &Envelope{Header: Header{ID: NewMessageID(n.now()), Type: TypeMessage, Sender: m.From, Recipient: m.To.Provider(), Service: m.To,
		// The log keeps microseconds; the envelope must be rebuilt from
		// it with the same digest.
		Time:  n.now().UTC().Truncate(time.Microsecond),
		Level: m.Level, ContentType: m.ContentType}, Payload: m.Payload}
	body, err := n.ring.Seal(ctx, keyPurpose, m.Payload, bodyAD("out", e.ID))
	if err != nil {
		return "", fmt.Errorf("exchange: seal message body: %w", err)
	}
	req := &sendReq{out: outMsg{env: e, digest: Digest(e.Encode()), body: body}, done: make(chan error, 1)}
	d := t.destination(dest)
	select {
	case d.reqs <- req:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-t.ctx.Done():
		return "", ErrTransportStopped
	}
	select {
	case err := <-req.done:
		if err != nil {
			return "", err
		}
		return e.ID, nil
	case <-t.ctx.Done():
		return "", ErrTransportStopped
	}
}

// checkOutgoing applies the configuration to a message the node self is
// asked to send, and returns the destination node.
func checkOutgoing(conf *GlobalConf, self string, m Outgoing) (string, error) {
	svc, ok := conf.Service(m.To)
	if !ok || svc.Kind != KindAsync {
		return "", refuse(ReasonUnknownService, fmt.Sprintf("%s is not an asynchronous service of the global configuration (find it in the service catalogue)", m.To))
	}
	if _, ok := conf.Subsystem(m.From); !ok {
		return "", refuse(ReasonUnknownSender, fmt.Sprintf("subsystem %s is not in the global configuration", m.From))
	}
	if node, _ := conf.NodeOf(m.From); node != self {
		return "", refuse(ReasonSpoofedSender, fmt.Sprintf("subsystem %s is served by node %s, not this node %s", m.From, node, self))
	}
	if !conf.Allowed(m.From, m.To) {
		return "", refuse(ReasonNoRight, fmt.Sprintf("subsystem %s has no access right to service %s (ask its provider to grant one)", m.From, m.To))
	}
	if !m.Level.Valid() {
		return "", refuse(ReasonMalformed, fmt.Sprintf("level %d is not a classification level", m.Level))
	}
	if m.ContentType != "" {
		if err := checkContentType(m.ContentType); err != nil {
			return "", err
		}
	}
	if m.Level > svc.MaxLevel {
		return "", refuse(ReasonClearance, fmt.Sprintf("service %s takes messages up to %s, not %s", m.To, svc.MaxLevel, m.Level))
	}
	provider, ok := conf.Subsystem(m.To.Provider())
	if !ok || m.Level > provider.Clearance {
		return "", refuse(ReasonClearance, fmt.Sprintf("the provider %s is not cleared for %s messages", m.To.Provider(), m.Level))
	}
	if int64(len(m.Payload)) > conf.MaxMessageBytes {
		return "", refuse(ReasonTooLarge, fmt.Sprintf("the payload of %d bytes is over the limit of %d bytes", len(m.Payload), conf.MaxMessageBytes))
	}
	dest, ok := conf.NodeOf(m.To.Provider())
	if !ok {
		return "", refuse(ReasonWrongRecipient, fmt.Sprintf("no node serves the provider %s", m.To.Provider()))
	}
	if rv, ok := conf.Revocation(dest); ok {
		return "", refuse(ReasonRevoked, fmt.Sprintf("node %s, which serves %s, was revoked on %s: %s", dest, m.To.Provider(), rv.At.Format(time.RFC3339), rv.Reason))
	}
	return dest, nil
}

// outMsg is an outgoing message on its way: its envelope, digest and
// sealed body, and its log row once written.
type outMsg struct {
	env    *Envelope
	digest []byte
	body   []byte
	seq    int64
}

type sendReq struct {
	out  outMsg
	done chan error
}

// destination is the sending side for one destination node: a committer
// that groups sends into one transaction each, and a publisher that seals
// and publishes the committed groups in order.
type destination struct {
	node   string
	reqs   chan *sendReq
	groups chan []outMsg
	// commitMu is held by the committer from a group's commit until it is
	// handed to the publisher, so that the forwarder sees every pending
	// row either in the channel or as a leftover, never in between.
	commitMu sync.Mutex
	// resend wakes the publisher to read the pending rows from the log
	// (kick): for rows written by others than the committer, such as
	// receipts.
	resend chan struct{}
}

// destination returns the destination for node, starting its goroutines
// the first time.
func (t *transport) destination(node string) *destination {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.dests[node]
	if !ok {
		d = &destination{node: node, reqs: make(chan *sendReq, sendQueue), groups: make(chan []outMsg, 4), resend: make(chan struct{}, 1)}
		t.dests[node] = d
		t.spawn(func() { t.commitLoop(d) })
		t.spawn(func() { t.publishLoop(d) })
	}
	return d
}

// commitLoop writes groups of sends to the log, one transaction each.
func (t *transport) commitLoop(d *destination) {
	for {
		var first *sendReq
		select {
		case <-t.ctx.Done():
			return
		case first = <-d.reqs:
		}
		// The group takes what is queued when its transaction runs,
		// without waiting for more: while the writer is busy, sends
		// gather, so groups grow with the load and a lone send is not
		// held back.
		group := []*sendReq{first}
		d.commitMu.Lock()
		err := t.commitOut(t.ctx, d.node, &group, d.reqs)
		msgs := make([]outMsg, len(group))
		for i, r := range group {
			r.done <- err
			msgs[i] = r.out
		}
		if err == nil {
			select {
			case d.groups <- msgs:
			case <-t.ctx.Done():
			}
		}
		d.commitMu.Unlock()
		if err == nil {
			for _, m := range msgs {
				t.n.metrics.message("out", m.env.Service, "sent", 1)
			}
		}
	}
}

// commitOut writes the log rows of the group, with the sends queued in
// more when its transaction begins (up to sendGroupMax), as 'pending'.
func (t *transport) commitOut(ctx context.Context, dest string, groupp *[]*sendReq, more <-chan *sendReq) error {
	return t.n.writeTx(ctx, func(tx *store.Tx) error {
		group := *groupp
	collect:
		for len(group) < sendGroupMax {
			select {
			case r := <-more:
				group = append(group, r)
			default:
				break collect
			}
		}
		*groupp = group
		return t.n.logOutgoing(ctx, tx, dest, group)
	})
}
