package exchange

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/authz"
)

// publishLoop publishes the committed groups in order, and re-sends what
// is left pending: rows from before a restart, or from a failed publish.
func (t *transport) publishLoop(d *destination) {
	tick := time.NewTicker(forwardEvery)
	defer tick.Stop()
	var bo backoff
	retry := true // the first pass takes leftovers from before the start
	// behind says that rows older than the groups in the channel are
	// pending (leftovers, or a publish that failed): the groups are
	// pending in the log too, so they are dropped and re-read with the
	// older rows, in order, rather than published ahead of them.
	behind := true
	for {
		if retry {
			if ok := d.commitMu.TryLock(); ok {
				for behind && len(d.groups) > 0 {
					<-d.groups
				}
				var rows []outMsg
				var err error
				if len(d.groups) == 0 {
					rows, err = t.pendingRows(t.ctx, d.node)
				}
				d.commitMu.Unlock()
				if err == nil && len(rows) > 0 {
					err = t.publish(t.ctx, d.node, rows)
				}
				switch {
				case err != nil && t.ctx.Err() == nil:
					t.n.log.Warn("exchange: re-send pending messages", "destination", d.node, "err", err)
					if !sleep(t.ctx, bo.next()) {
						return
					}
					continue
				case len(rows) == logBatchMax:
					continue // more are waiting
				}
				bo.reset()
				retry, behind = false, false
			}
		}
		select {
		case <-t.ctx.Done():
			return
		case g := <-d.groups:
			if behind {
				continue // the retry above takes it from the log, in order
			}
			// Publish every group already committed at once: fewer,
			// fuller batches and one transaction to mark them sent.
		gather:
			for {
				select {
				case more := <-d.groups:
					g = append(g, more...)
				default:
					break gather
				}
			}
			if err := t.publish(t.ctx, d.node, g); err != nil {
				if t.ctx.Err() != nil {
					return
				}
				t.n.log.Warn("exchange: publish messages; they stay pending and are sent again", "destination", d.node, "err", err)
				retry, behind = true, true
			}
		case <-tick.C:
			retry = true
		case <-d.resend:
			retry = true
		}
	}
}

// pendingRows reads up to logBatchMax messages still pending for dest,
// rebuilding their envelopes from the log.
func (t *transport) pendingRows(ctx context.Context, dest string) ([]outMsg, error) {
	rows, err := t.n.db.QueryContext(ctx, t.n.db.Rebind(`SELECT seq, type, receipt, msg_id, sender, recipient, service, level, content_type, msg_time_us, digest, body
		FROM exchange_log WHERE peer = ? AND state = 'pending' AND direction = 'out' ORDER BY seq LIMIT ?`), dest, logBatchMax)
	if err != nil {
		return nil, fmt.Errorf("exchange: read pending messages for %s: %w", dest, err)
	}
	defer rows.Close()
	var out []outMsg
	for rows.Next() {
		var (
			m                           outMsg
			sender, recipient, service  string
			typ, receipt, level, timeUS int64
			e                           = &Envelope{}
		)
		if err := rows.Scan(&m.seq, &typ, &receipt, &e.ID, &sender, &recipient, &service, &level, &e.ContentType, &timeUS, &m.digest, &m.body); err != nil {
			return nil, fmt.Errorf("exchange: read pending messages for %s: %w", dest, err)
		}
		e.Type, e.Receipt = EnvelopeType(typ), receipt != 0
		e.Level, e.Time = authz.Level(level), time.UnixMicro(timeUS).UTC()
		if e.Sender, err = ParseClientID(sender); err == nil {
			if e.Recipient, err = ParseClientID(recipient); err == nil {
				e.Service, err = ParseServiceID(service)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("exchange: pending message %s has a malformed id: %w", e.ID, err)
		}
		if e.Payload, err = t.n.ring.Open(ctx, keyPurpose, m.body, bodyAD("out", e.ID)); err != nil {
			return nil, fmt.Errorf("exchange: unseal pending message %s: %w", e.ID, err)
		}
		if string(Digest(e.Encode())) != string(m.digest) {
			return nil, fmt.Errorf("exchange: pending message %s does not match its logged digest", e.ID)
		}
		m.env = e
		out = append(out, m)
	}
	return out, rows.Err()
}

// resumePending notes the destinations with messages left pending, so
// that their publishers start and re-send them.
func (t *transport) resumePending(ctx context.Context) error {
	rows, err := t.n.db.QueryContext(ctx, `SELECT DISTINCT peer FROM exchange_log WHERE state = 'pending' AND direction = 'out'`)
	if err != nil {
		return fmt.Errorf("exchange: read pending messages: %w", err)
	}
	var peers []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return fmt.Errorf("exchange: read pending messages: %w", err)
		}
		peers = append(peers, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("exchange: read pending messages: %w", err)
	}
	for _, p := range peers {
		t.destination(p)
	}
	return nil
}

// sealedOut is one batch ready to publish, with the rows it carries.
type sealedOut struct {
	sb   *SealedBatch
	msgs []outMsg
}

// publish seals msgs into batches for dest, publishes them to this
// node's stream, waits for the stream's acknowledgements, then records
// the batches and marks the rows sent.
func (t *transport) publish(ctx context.Context, dest string, msgs []outMsg) error {
	// The server would drop the publications without an answer.
	if err := t.n.bus.StoreErr(); err != nil {
		return fmt.Errorf("exchange: publish to stream %s: %w", streamName, err)
	}
	conf, err := t.n.Conf()
	if err != nil {
		return err
	}
	s, err := t.n.session(conf, dest)
	if err != nil {
		var re *RefusedError
		if errors.As(err, &re) {
			return t.failRows(ctx, msgs, re)
		}
		return err
	}
	signer := t.n.ring.Signer()
	var batches []sealedOut
	flush := func(group []outMsg) error {
		if len(group) == 0 {
			return nil
		}
		envs := make([]*Envelope, len(group))
		for i, m := range group {
			envs[i] = m.env
		}
		sb, err := SealBatch(s, signer, envs, t.n.now())
		if err != nil {
			return err
		}
		batches = append(batches, sealedOut{sb: sb, msgs: group})
		return nil
	}
	start, size := 0, 0
	for i, m := range msgs {
		sz := len(m.env.Payload) + 256
		if i > start && (size+sz > batchTarget || i-start == MaxBatch || sz > batchTarget) {
			if err := flush(msgs[start:i]); err != nil {
				return err
			}
			start, size = i, 0
		}
		size += sz
	}
	if err := flush(msgs[start:]); err != nil {
		return err
	}
	subject := subjectFor(t.n.id, dest)
	storeChanged := t.n.bus.StoreChanged()
	var futures []jetstream.PubAckFuture
	for _, b := range batches {
		fs, err := t.publishWire(subject, b.sb)
		futures = append(futures, fs...)
		if err != nil {
			return err
		}
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("exchange: publish to stream %s: %w", streamName, err)
		case <-timeout.C:
			return fmt.Errorf("exchange: publish to stream %s: no acknowledgement within 30s", streamName)
		case <-storeChanged:
			return fmt.Errorf("exchange: publish to stream %s: JetStream failed to write its store, or restarted after it did, and dropped what was not acknowledged; sending it again", streamName)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return t.markSent(ctx, dest, batches)
}

// publishWire publishes one sealed batch, in chunks when it is larger
// than the bus takes in one message.
func (t *transport) publishWire(subject string, sb *SealedBatch) ([]jetstream.PubAckFuture, error) {
	id := hex.EncodeToString(sb.ID[:])
	if len(sb.Wire) <= t.maxWire {
		f, err := t.js.PublishMsgAsync(&nats.Msg{Subject: subject, Data: sb.Wire}, jetstream.WithMsgID(id))
		if err != nil {
			return nil, fmt.Errorf("exchange: publish batch %s: %w", id, err)
		}
		return []jetstream.PubAckFuture{f}, nil
	}
	count := (len(sb.Wire) + t.maxWire - 1) / t.maxWire
	futures := make([]jetstream.PubAckFuture, 0, count)
	for i := range count {
		part := sb.Wire[i*t.maxWire : min((i+1)*t.maxWire, len(sb.Wire))]
		m := nats.NewMsg(subject)
		m.Data = part
		m.Header.Set(hdrBatch, id)
		m.Header.Set(hdrChunk, strconv.Itoa(i)+"/"+strconv.Itoa(count))
		f, err := t.js.PublishMsgAsync(m, jetstream.WithMsgID(id+"."+strconv.Itoa(i)))
		if err != nil {
			return futures, fmt.Errorf("exchange: publish batch %s part %d: %w", id, i, err)
		}
		futures = append(futures, f)
	}
	return futures, nil
}
