package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/audit"
	"chancery/internal/lease"
)

// The receiving side: one consumer loop per source node.

// consume pulls what src sends to this node, in stream order, until ctx
// ends. While src is unreachable it retries with backoff.
//
// Order needs care: a batch the source delivered while the link was
// going down, or before the reply subject's interest crossed a link
// that just came back, is lost on the way and would come again only
// after the ack wait, behind newer ones. The loop therefore watches the
// consumer's delivery sequence and, at a gap (and at start, for what a
// previous run left unacknowledged), deletes and recreates its durable
// consumer: a work-queue stream keeps every unacknowledged batch, and a
// new consumer delivers them again from the first, in order.
//
// On one of several replicas (held is not nil) the loop runs while this
// replica holds src's lease: it recreates the consumer only while the
// lease is still held, so that a replica which lost it cannot take the
// consumer from under the new holder, and it commits a group only in a
// transaction that finds the lease held (logIncoming). It returns when
// the lease is lost.
func (t *transport) consume(ctx context.Context, src string, held *lease.Lease) {
	var (
		bo      backoff
		cons    jetstream.Consumer
		asm     assembly
		lastSeq uint64 // consumer sequence of the last delivery taken
		unreach quiet  // how long the source's stream has been out of reach
	)
	for ctx.Err() == nil {
		if cons == nil {
			if held != nil {
				ok, err := lease.Held(ctx, t.n.db, *held, time.Now())
				if err == nil && !ok {
					return
				}
				if err != nil {
					// The database is away: what was pulled could not be
					// committed anyway. The lease runner stops this loop
					// if the lease lapses meanwhile.
					sleep(ctx, bo.next())
					continue
				}
			}
			var err error
			if cons, err = t.consumer(ctx, src); err != nil {
				if ctx.Err() == nil {
					// A link down for a moment is ordinary; one that stays
					// down is what an operator must hear of.
					lvl, since := unreach.failed(time.Now())
					t.n.log.Log(ctx, lvl, "exchange: reach the stream of a source node", "source", src, "for", since.Round(time.Second).String(), "err", err)
				}
				sleep(ctx, bo.next())
				continue
			}
			unreach.reset()
			lastSeq = cons.CachedInfo().Delivered.Consumer
			asm.reset()
		}
		began := time.Now()
		// Bounded in bytes as well as messages: a pull of large
		// messages must not hold a backlog's worth of them in memory.
		// (FetchBytes alone would do, but it sizes the pull's channel
		// for a million messages, 16 MB allocated and cleared on every
		// pull, which cost the receiving side a tenth of its CPU.)
		batch, err := cons.Fetch(fetchMax, jetstream.FetchMaxBytes(fetchMaxBytes), jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			cons = nil
			sleep(ctx, bo.next())
			continue
		}
		got, gap := 0, false
		group := make([]jetstream.Msg, 0, 64)
		msgs := batch.Messages()
		for {
			var m jetstream.Msg
			select {
			case m = <-msgs:
			case <-ctx.Done():
				// A pull lasts seconds: stopping must not wait for it.
				// What was taken and not committed is delivered again.
				return
			}
			if m == nil {
				break // the pull is over
			}
			if gap {
				continue // redelivered after the resync
			}
			if meta, err := m.Metadata(); err == nil {
				if meta.Sequence.Consumer != lastSeq+1 {
					gap = true
					continue
				}
				lastSeq = meta.Sequence.Consumer
			}
			got++
			group = append(group, m)
			// Commit what has arrived whenever the pull pauses, so that
			// one transaction covers as many batches as are at hand.
			if len(msgs) == 0 || len(group) >= fetchMax {
				if err := t.receive(ctx, src, group, &asm, held); err != nil {
					if errors.Is(err, errLeaseLost) {
						return
					}
					cons = nil
					gap = true
				}
				group = group[:0]
			}
		}
		if len(group) > 0 {
			if err := t.receive(ctx, src, group, &asm, held); errors.Is(err, errLeaseLost) {
				return
			} else if err != nil {
				cons = nil
			}
		}
		if gap {
			t.n.log.Info("exchange: resynchronising with a source node after a lost delivery", "source", src,
				"why", "a gap in the consumer's sequence", "taken", lastSeq, "pull", time.Since(began).Round(time.Millisecond).String())
			cons = nil
		} else if got == 0 && cons != nil {
			if delivered, lost := t.lostDeliveries(ctx, cons, lastSeq); lost {
				t.n.log.Info("exchange: resynchronising with a source node after a lost delivery", "source", src,
					"why", "delivered but not received", "taken", lastSeq, "delivered", delivered,
					"pull", time.Since(began).Round(time.Millisecond).String(), "err", batch.Error())
				cons = nil
			}
		}
		switch err := batch.Error(); {
		case got > 0 && cons != nil:
			bo.reset()
		case cons == nil:
			sleep(ctx, bo.next())
		case err != nil && time.Since(began) < fetchWait/2:
			// An error at once (no responders: the link is down) must
			// not spin.
			cons = nil
			sleep(ctx, bo.next())
		}
	}
}

// lostDeliveries reports whether cons has delivered more than the loop
// took, after a pull that brought nothing: deliveries lost on the way
// with none after them, which no gap would reveal before the ack wait.
func (t *transport) lostDeliveries(ctx context.Context, cons jetstream.Consumer, lastSeq uint64) (delivered uint64, lost bool) {
	cctx, cancel := context.WithTimeout(ctx, fetchWait)
	defer cancel()
	info, err := cons.Info(cctx)
	if err != nil {
		return 0, false
	}
	return info.Delivered.Consumer, info.Delivered.Consumer > lastSeq
}

// quiet tracks how long something has kept failing, so that a failure
// is logged at debug level while it is brief and as a warning, once a
// minute, when it lasts.
type quiet struct{ since, warned time.Time }

// quietFor is how long a failure stays at debug level.
const quietFor = 30 * time.Second

func (q *quiet) failed(now time.Time) (slog.Level, time.Duration) {
	if q.since.IsZero() {
		q.since = now
	}
	if now.Sub(q.since) < quietFor || now.Sub(q.warned) < time.Minute {
		return slog.LevelDebug, now.Sub(q.since)
	}
	q.warned = now
	return slog.LevelWarn, now.Sub(q.since)
}

func (q *quiet) reset() { *q = quiet{} }

// consumer returns this node's durable consumer on src's stream, in
// src's domain, such that it delivers from the first unacknowledged
// batch: the one there when it has nothing delivered and unacknowledged
// and the configuration is the transport's, else a new one made after
// deleting the old. Each of those is a change that the source's
// JetStream commits (through Raft, on headquarters' cluster); keeping a
// consumer that needs none spares them where they are slowest, a loaded
// cluster on which a whole ministry's missions come back at once. (They
// were made on every return: at load 80, each mission's delete and
// create outran the timeout, and the next try deleted what the last one
// had made, for minutes.)
func (t *transport) consumer(ctx context.Context, src string) (jetstream.Consumer, error) {
	conf, err := t.n.Conf()
	if err != nil {
		return nil, err
	}
	info, ok := conf.Node(src)
	if !ok {
		return nil, fmt.Errorf("node %s is not in the global configuration", src)
	}
	js, err := jetstream.NewWithDomain(t.nc, info.Domain)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, consumerTimeout)
	defer cancel()
	want := consumerConfig(src, t.n.id)
	if c, err := js.Consumer(cctx, streamName, want.Durable); err == nil && reusable(c.CachedInfo(), want) {
		return c, nil
	}
	if err := js.DeleteConsumer(cctx, streamName, want.Durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	return js.CreateOrUpdateConsumer(cctx, streamName, want)
}

// reusable reports whether an existing consumer delivers next the first
// batch its receiver has not acknowledged: nothing it delivered waits
// for an acknowledgement or a redelivery, and it is configured as want.
func reusable(info *jetstream.ConsumerInfo, want jetstream.ConsumerConfig) bool {
	c := info.Config
	return info.NumAckPending == 0 && info.NumRedelivered == 0 &&
		c.FilterSubject == want.FilterSubject && c.AckPolicy == want.AckPolicy && c.AckWait == want.AckWait &&
		c.MaxAckPending == want.MaxAckPending && c.DeliverPolicy == want.DeliverPolicy
}

// consumerConfig is the durable consumer with which dest pulls what src
// sends it from src's stream. Headquarters creates a mission's consumer
// with it too, whatever the mission asked for (see createForLeaf).
func consumerConfig(src, dest string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       consumerName(src, dest),
		Description:   "Chancery exchange: what node " + dest + " receives",
		FilterSubject: subjectFor(src, dest),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxAckPending: maxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// receive handles one group of messages from src's stream: it
// reassembles the batches published in chunks (assemble.go), opens and
// checks every batch, commits the deliveries and refusals in one
// transaction, and only then acknowledges the messages. It returns an
// error when the group must be fetched again (the database failed), after
// asking for redelivery: errLeaseLost when held, the lease under which
// this replica receives from src, is no longer this replica's.
func (t *transport) receive(ctx context.Context, src string, group []jetstream.Msg, asm *assembly, held *lease.Lease) error {
	batches, drop := asm.take(group)
	for _, m := range asm.msgs {
		m.InProgress() //nolint:errcheck // at worst the chunk is redelivered
	}
	conf, err := t.n.Conf()
	if err != nil {
		t.nakAll(batches)
		return err
	}
	var (
		opened  []*openedIn
		refused []inBatch
		gc      = groupConf{conf: conf}
	)
	for _, b := range batches {
		o, err := t.judge(ctx, &gc, src, b) // by the latest configuration where it matters (conflatest.go)
		if errors.Is(err, errNoLatestConf) {
			t.n.log.Warn("exchange: a batch waits for the latest global configuration", "source", src, "err", err)
			t.nakAll(batches)
			return err
		}
		if err != nil {
			t.refuseBatch(ctx, src, b, err)
			refused = append(refused, b)
			continue
		}
		opened = append(opened, o)
	}
	if len(opened) > 0 {
		if err := t.logIncoming(ctx, src, opened, held); err != nil {
			if ctx.Err() == nil && !errors.Is(err, errLeaseLost) {
				t.n.log.Error("exchange: record received messages; they will be fetched again", "source", src, "err", err)
			}
			for _, o := range opened {
				for _, m := range o.msgs {
					m.NakWithDelay(time.Second) //nolint:errcheck // redelivered after AckWait anyway
				}
			}
			return err
		}
	}
	for _, o := range opened {
		for _, m := range o.msgs {
			m.Ack() //nolint:errcheck // a lost ack means a redelivery, which the log drops
		}
		for i, r := range o.results {
			e := o.ob.Envelopes[i]
			switch {
			case e.Type == TypeReceipt:
				// Not a message: CircularStatus shows what it said.
			case r.refusal != nil:
				t.n.metrics.message("in", e.Service, "refused", 1)
			case r.duplicate:
				t.n.metrics.message("in", e.Service, "duplicate", 1)
			default:
				t.n.metrics.message("in", e.Service, "delivered", 1)
			}
		}
	}
	for _, b := range refused {
		for _, m := range b.msgs {
			m.Term() //nolint:errcheck // a refused batch must not come back
		}
	}
	for _, m := range drop {
		m.Term() //nolint:errcheck // abandoned chunks are sent again in a new batch
	}
	if len(opened) > 0 {
		kick(t.hookKick)
		t.n.arrived.signal()
	}
	return nil
}

// errLeaseLost says that a replica no longer holds the lease under which
// it received from a source: another replica receives from it now.
var errLeaseLost = errors.New("exchange: this replica no longer holds the lease of the source; another replica receives from it")

func (t *transport) nakAll(batches []inBatch) {
	for _, b := range batches {
		for _, m := range b.msgs {
			m.NakWithDelay(time.Second) //nolint:errcheck // redelivered after AckWait anyway
		}
	}
}

// openedIn is a batch that verified, with what the checks decided for
// each envelope and the sealed bodies of those to deliver.
type openedIn struct {
	ob      *OpenedBatch
	msgs    []jetstream.Msg
	results []inResult
}

type inResult struct {
	refusal   *RefusedError
	body      []byte   // sealed payload, for a delivery
	duplicate bool     // set by logIncoming: already delivered from this very batch
	receipt   *Receipt // a receipt that checked, for logIncoming to apply
	reply     bool     // this node owes the sender a receipt (receipt.go)
}

// refuseBatch records the refusal of a whole batch: it proves nothing
// about any envelope in it, so only an audit event says what came.
func (t *transport) refuseBatch(ctx context.Context, src string, b inBatch, err error) {
	var re *RefusedError
	if !errors.As(err, &re) {
		re = refuse(ReasonMalformed, err.Error())
	}
	t.n.log.Warn("exchange: refused a batch", "source", src, "reason", re.Reason, "detail", re.Detail)
	if t.n.ledger == nil {
		return
	}
	e := audit.Event{Actor: audit.System("exchange"), Action: "exchange.batch.refused", ResourceType: "exchange_batch",
		ResourceID: b.msgs[0].Headers().Get(nats.MsgIdHdr), Outcome: audit.Denied, Reason: string(re.Reason) + ": " + re.Detail,
		Attrs: map[string]string{"node": t.n.id, "sender_node": src, "reason": string(re.Reason)}}
	if _, err := t.n.ledger.Append(context.WithoutCancel(ctx), e); err != nil {
		t.n.log.Error("exchange: record a refused batch in the audit ledger", "err", err)
	}
}

// checkBatch applies the receiving node's policy to each envelope of a
// batch that verified, and seals the bodies of those it accepts.
func (t *transport) checkBatch(ctx context.Context, conf *GlobalConf, src string, ob *OpenedBatch, b inBatch) *openedIn {
	o := &openedIn{ob: ob, msgs: b.msgs, results: make([]inResult, len(ob.Envelopes))}
	now := t.n.now()
	for i, e := range ob.Envelopes {
		if e.Type == TypeReceipt {
			o.results[i].receipt, o.results[i].refusal = t.checkReceipt(conf, src, e, now)
			continue
		}
		o.results[i].reply = t.n.owesReceipt(conf, src, e)
		if re := t.checkIncoming(conf, src, e, now); re != nil {
			o.results[i].refusal = re
			continue
		}
		body, err := t.n.ring.Seal(ctx, keyPurpose, e.Payload, bodyAD("in", e.ID))
		if err != nil {
			o.results[i].refusal = refuse(ReasonMalformed, "the body could not be sealed: "+err.Error())
			continue
		}
		o.results[i].body = body
	}
	return o
}

// checkIncoming applies the configuration to an envelope that src's
// signed batch carried to this node.
func (t *transport) checkIncoming(conf *GlobalConf, src string, e *Envelope, now time.Time) *RefusedError {
	if e.Type != TypeMessage {
		return refuse(ReasonMalformed, fmt.Sprintf("envelope %s is not an asynchronous message", e.ID))
	}
	senderNode, ok := conf.NodeOf(e.Sender)
	if _, known := conf.Subsystem(e.Sender); !ok || !known {
		return refuse(ReasonUnknownSender, fmt.Sprintf("sender %s is not in the global configuration", e.Sender))
	}
	if senderNode != src {
		return refuse(ReasonSpoofedSender, fmt.Sprintf("sender %s is served by node %s, but node %s sent the message", e.Sender, senderNode, src))
	}
	svc, ok := conf.Service(e.Service)
	if !ok || svc.Kind != KindAsync {
		return refuse(ReasonUnknownService, fmt.Sprintf("%s is not an asynchronous service of the global configuration", e.Service))
	}
	if e.Recipient != e.Service.Provider() {
		return refuse(ReasonWrongRecipient, fmt.Sprintf("recipient %s does not provide service %s", e.Recipient, e.Service))
	}
	if node, _ := conf.NodeOf(e.Recipient); node != t.n.id {
		return refuse(ReasonWrongRecipient, fmt.Sprintf("recipient %s is served by node %s, not this node %s", e.Recipient, node, t.n.id))
	}
	if !conf.Allowed(e.Sender, e.Service) {
		return refuse(ReasonNoRight, fmt.Sprintf("%s has no access right to service %s", e.Sender, e.Service))
	}
	recipient, ok := conf.Subsystem(e.Recipient)
	if !ok || e.Level > recipient.Clearance {
		return refuse(ReasonClearance, fmt.Sprintf("recipient %s is not cleared for %s messages", e.Recipient, e.Level))
	}
	if e.Level > svc.MaxLevel {
		return refuse(ReasonClearance, fmt.Sprintf("service %s takes messages up to %s, not %s", e.Service, svc.MaxLevel, e.Level))
	}
	if int64(len(e.Payload)) > conf.MaxMessageBytes {
		return refuse(ReasonTooLarge, fmt.Sprintf("payload of %d bytes is over the limit of %d bytes", len(e.Payload), conf.MaxMessageBytes))
	}
	if e.ContentType != "" && checkContentType(e.ContentType) != nil {
		// It could never be handed to the recipient's webhook.
		return refuse(ReasonMalformed, fmt.Sprintf("content type %q is not a media type of printable ASCII", e.ContentType))
	}
	if e.Time.Before(now.Add(-t.n.opts.Retention)) || e.Time.After(now.Add(messageSkew)) {
		return refuse(ReasonStale, fmt.Sprintf("message time %s is outside the accepted window", e.Time.Format(time.RFC3339)))
	}
	return nil
}

// refusalEvent is the audit event of a refused envelope.
func refusalEvent(self, src string, e *Envelope, re *RefusedError, now time.Time) audit.Event {
	return audit.Event{Time: now, Actor: audit.Member(e.Sender.Member, e.Sender.String()), Action: "exchange.message.refused",
		ResourceType: "exchange_message", ResourceID: e.ID, Level: e.Level, Outcome: audit.Denied,
		Reason: string(re.Reason) + ": " + re.Detail,
		Attrs: map[string]string{"node": self, "sender_node": src, "sender": e.Sender.String(), "recipient": e.Recipient.String(),
			"service": e.Service.String(), "reason": string(re.Reason)}}
}
