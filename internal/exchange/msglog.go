package exchange

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"chancery/internal/audit"
	"chancery/internal/lease"
	"chancery/internal/store"
)

// The message log. Every envelope the node sends or receives has a row in
// exchange_log with its digest, written in the same transaction as the
// send or the delivery. The log signer then signs the new rows in batches
// (one Ed25519 signature over the Merkle root of up to logBatchMax
// digests) and records each signed batch in the audit ledger, so that every
// message has an inclusion proof: digest → signed log batch → ledger
// event → checkpoint. This is non-repudiation at the price of one
// signature per batch instead of one per message (DESIGN.md §8), and the
// log holds digests, never plaintext; bodies are sealed and erased after
// the retention.
//
// Every write to the log is made in this file, through the node's
// writer (writeTx), with the statements of sql.go: the rows of a send
// (logOutgoing), of a publication (markSent, failRows), of a delivery
// (logIncoming), of the synchronous calls (the write-behind logWriter),
// the signatures (SignLog; markSent, logIncoming and the write-behind
// sign the many rows they write at once themselves, so that no second
// UPDATE rewrites each row) and the retention (EraseExpiredBodies);
// acknowledgements (Ack) and dead letters call sql.go's statements
// through writeTx too.

// logBatchMax bounds the entries one log signature covers.
const logBatchMax = 1024

// logContext separates log-batch signatures from the node key's others.
const logContext = "chancery-exchange-log-v1\n"

// writeTx runs fn in a transaction of the node's database, in the group
// commits of the node's writer while the transport runs (store.Writer).
// fn must not call writeTx.
//
// Each commit wakes the log signer (RunLogSigner): the rows a send, a
// delivery or a receipt leaves unsigned are written here, and so are
// writes that log nothing to sign (acknowledgements, dead letters), whose
// wake-up costs one read of the log; a node at rest wakes nobody.
func (n *Node) writeTx(ctx context.Context, fn func(tx *store.Tx) error) error {
	err := n.writer.InTx(ctx, fn)
	if err == nil {
		kick(n.msglog.signer.kick)
	}
	return err
}

// logOutgoing writes the rows of the sends of group, for node dest, as
// pending, and gives each send its row's seq.
func (n *Node) logOutgoing(ctx context.Context, tx *store.Tx, dest string, group []*sendReq) error {
	now := n.now()
	rows := make([]logRow, len(group))
	for i, r := range group {
		rows[i] = envelopeRow("out", dest, r.out.env, r.out.digest, r.out.body, "pending", "", now)
	}
	seqs, err := n.logSQL.insertRows(ctx, tx, rows)
	if err != nil {
		return fmt.Errorf("exchange: write %d outgoing messages: %w", len(group), err)
	}
	for _, r := range group {
		seq, ok := seqs[logKey{"out", TypeMessage, r.out.env.ID}]
		if !ok {
			return fmt.Errorf("exchange: write outgoing message %s: its id is already in the log", r.out.env.ID)
		}
		r.out.seq = seq
	}
	return nil
}

// signAtWriteMin is the least number of rows that a transaction writing
// or updating them anyway signs as a log batch of their own (markSent,
// logIncoming): SignLog would otherwise write each row a second time,
// only to set its batch. Smaller groups are left to SignLog, which signs
// them with others, so that a quiet node does not sign, and record in
// the audit ledger, a batch per message.
const signAtWriteMin = 32

// signAtWrite returns a fresh log batch id for a transaction writing
// rows rows, and the same as the batch to write in them when they are
// enough to sign at once (signAtWriteMin); nil when SignLog signs them.
func signAtWrite(rows int) (id [16]byte, logBatch []byte, err error) {
	if rows < signAtWriteMin {
		return id, nil, nil
	}
	if _, err := rand.Read(id[:]); err != nil {
		return id, nil, err
	}
	return id, id[:], nil
}

// markSent records the published batches and marks their rows sent. When
// they are many, the same statement gives the rows not signed yet a log
// batch, which it signs (signAtWriteMin).
func (t *transport) markSent(ctx context.Context, dest string, batches []sealedOut) error {
	now := t.n.now()
	total := 0
	for _, b := range batches {
		total += len(b.msgs)
	}
	return t.n.writeTx(ctx, func(tx *store.Tx) error {
		id, logBatch, err := signAtWrite(total)
		if err != nil {
			return err
		}
		digests := make([][]byte, 0, total)
		first, last := int64(-1), int64(-1)
		for _, b := range batches {
			if err := insertBatch(ctx, tx, b.sb.ID, "out", dest, t.n.id, b.sb.KeyID, b.sb.Root, b.sb.Sig, b.sb.Digests, now); err != nil {
				return err
			}
			seqs := make([]int64, len(b.msgs))
			for i, m := range b.msgs {
				seqs[i] = m.seq
				digests = append(digests, m.digest)
				if first < 0 || m.seq < first {
					first = m.seq
				}
				last = max(last, m.seq)
			}
			if err := t.n.logSQL.markSentTx(ctx, tx, b.sb.ID[:], logBatch, seqs); err != nil {
				return fmt.Errorf("exchange: mark the %d messages of batch %x sent: %w", len(b.msgs), b.sb.ID, err)
			}
		}
		if logBatch == nil {
			return nil
		}
		// A row SignLog signed meanwhile keeps its batch; its digest in
		// this one too proves nothing less.
		return t.n.signBatch(ctx, tx, id, digests, first, last, nil)
	})
}

// failRows marks messages that can no longer be sent (their destination
// was revoked after they were accepted) as failed, with the reason.
func (t *transport) failRows(ctx context.Context, msgs []outMsg, re *RefusedError) error {
	return t.n.writeTx(ctx, func(tx *store.Tx) error {
		for _, m := range msgs {
			if err := failRowTx(ctx, tx, m.seq, string(re.Reason)+": "+re.Detail); err != nil {
				return fmt.Errorf("exchange: mark message %s failed: %w", m.env.ID, err)
			}
		}
		t.n.log.Error("exchange: messages can no longer be sent", "count", len(msgs), "reason", re.Reason, "detail", re.Detail)
		return nil
	})
}

// logIncoming records the batches received from src and their envelopes
// (delivered or refused) in one transaction, with an audit event for
// each refusal. A message id already in the log is dropped: silently
// when it came in the same batch (a redelivery after a crash), as a
// replay otherwise.
//
// The receipts go in the same transaction: a receipt that came is kept
// on its circular's row (applyReceipt), and a receipt this node owes for
// a copy it logged, delivered or refused, is queued for src (logReceipt),
// so that a copy is acknowledged exactly once.
//
// held, if not nil, is the lease under which this replica receives from
// src: the transaction commits nothing unless it is still held, so that
// a replica which lost it without noticing (a pause, a clock ahead)
// cannot commit a sender's later messages beside the new holder.
func (t *transport) logIncoming(ctx context.Context, src string, opened []*openedIn, held *lease.Lease) error {
	now := t.n.now()
	replied := false
	total := 0
	for _, o := range opened {
		total += len(o.ob.Envelopes)
	}
	err := t.n.writeTx(ctx, func(tx *store.Tx) error {
		replied = false
		if held != nil {
			// The lease runs on the wall clock, not the node's.
			if ok, err := lease.Held(ctx, tx, *held, time.Now()); err != nil {
				return err
			} else if !ok {
				return errLeaseLost
			}
		}
		// Many rows are signed as they are inserted (signAtWriteMin).
		id, logBatch, err := signAtWrite(total)
		if err != nil {
			return err
		}
		var signRows []logRow
		signSeqs := map[logKey]int64{}
		for _, o := range opened {
			ob := o.ob
			if err := insertBatch(ctx, tx, ob.ID, "in", src, src, ob.KeyID, ob.Root, ob.Sig, ob.Digests, now); err != nil {
				return err
			}
			rows := make([]logRow, len(ob.Envelopes))
			for i, e := range ob.Envelopes {
				r := &o.results[i]
				r.duplicate = false
				if r.receipt != nil {
					refusal, err := applyReceipt(ctx, tx, r.receipt)
					if err != nil {
						return err
					}
					r.refusal = refusal
				}
				state, reason, body := "delivered", "", r.body
				if r.refusal != nil {
					state, reason, body = "refused", string(r.refusal.Reason)+": "+r.refusal.Detail, nil
				}
				rows[i] = envelopeRow("in", src, e, ob.Digests[i], body, state, reason, now)
				rows[i].batchID, rows[i].batchIndex = ob.ID[:], int64(i)
				// A receipt is for this node, not for an inbox.
				rows[i].acked = e.Type == TypeReceipt
				rows[i].logBatch = logBatch
			}
			inserted, err := t.n.logSQL.insertRows(ctx, tx, rows)
			if err != nil {
				return fmt.Errorf("exchange: record %d received messages of batch %x: %w", len(rows), ob.ID, err)
			}
			if logBatch != nil {
				signRows = append(signRows, rows...)
				for k, seq := range inserted {
					signSeqs[k] = seq
				}
			}
			if err := t.settleIn(ctx, tx, src, o, inserted, now); err != nil {
				return err
			}
			for i, e := range ob.Envelopes {
				r := &o.results[i]
				if !r.reply || r.duplicate || r.refusal != nil && r.refusal.Reason == ReasonReplay {
					continue // not owed, or owed for the first copy only
				}
				outcome, reason := outcomeDelivered, ""
				if r.refusal != nil {
					outcome, reason = outcomeDead, string(r.refusal.Reason)+": "+r.refusal.Detail
				}
				if err := t.n.logReceipt(ctx, tx, src, e, ob.Digests[i], outcome, reason, now); err != nil {
					return err
				}
				replied = true
			}
		}
		if logBatch == nil {
			return nil
		}
		return t.n.signInserted(ctx, tx, id, signRows, signSeqs)
	})
	if err == nil && replied {
		kick(t.destination(src).resend)
	}
	return err
}

// logReceipt queues, in tx, the receipt with outcome (and reason) for
// copy c, which came from node dest with digest digest, as a pending
// outgoing row to dest; the caller kicks dest's publisher after the
// commit (receipt.go).
func (n *Node) logReceipt(ctx context.Context, tx *store.Tx, dest string, c *Envelope, digest []byte, outcome, reason string, now time.Time) error {
	e, err := n.receiptEnvelope(c, digest, outcome, reason, now)
	if err != nil {
		return err
	}
	body, err := n.ring.Seal(ctx, keyPurpose, e.Payload, bodyAD("out", e.ID))
	if err != nil {
		return fmt.Errorf("exchange: seal the receipt of %s: %w", c.ID, err)
	}
	row := envelopeRow("out", dest, e, Digest(e.Encode()), body, "pending", "", now)
	if _, err := n.logSQL.insertRows(ctx, tx, []logRow{row}); err != nil {
		return fmt.Errorf("exchange: queue the receipt of %s: %w", c.ID, err)
	}
	return nil
}

// logReceiptFor queues, in tx, the receipt with outcome for incoming
// message msgID if it asked for one, and returns the node it goes to
// ("" when none is owed).
func (n *Node) logReceiptFor(ctx context.Context, tx *store.Tx, msgID, outcome, reason string) (string, error) {
	c, digest, src, err := receiptSourceTx(ctx, tx, msgID)
	if err != nil || c == nil {
		return "", err
	}
	return src, n.logReceipt(ctx, tx, src, c, digest, outcome, reason, n.now())
}

// kickReceipts wakes the publisher of node dest, if any, for the receipts
// just committed for it.
func (n *Node) kickReceipts(dest string) {
	if t := n.transport(); t != nil && dest != "" {
		kick(t.destination(dest).resend)
	}
}

// settleIn decides, after their rows were inserted, the fate of the
// envelopes of a received batch: an id that was not inserted was logged
// before, and is a duplicate when it came in this very batch (a
// redelivery, or a second copy inside the batch) and a replay otherwise;
// every refusal is audited in the same transaction.
func (t *transport) settleIn(ctx context.Context, tx *store.Tx, src string, o *openedIn, inserted map[logKey]int64, now time.Time) error {
	ob := o.ob
	for i, e := range ob.Envelopes {
		r := &o.results[i]
		if k := (logKey{"in", e.Type, e.ID}); inserted[k] > 0 {
			delete(inserted, k) // a second copy in the batch is a duplicate
		} else {
			prior, err := priorBatch(ctx, tx, e.Type, e.ID)
			if err != nil {
				return fmt.Errorf("exchange: read earlier copy of message %s: %w", e.ID, err)
			}
			if string(prior) == string(ob.ID[:]) {
				r.duplicate = true
				continue
			}
			r.refusal = refuse(ReasonReplay, fmt.Sprintf("message %s was received before, in another batch", e.ID))
		}
		if r.refusal != nil && t.n.ledger != nil {
			if err := t.n.ledger.AppendTx(ctx, tx, refusalEvent(t.n.id, src, e, r.refusal, now)); err != nil {
				return fmt.Errorf("exchange: record refusal of message %s in the audit ledger: %w", e.ID, err)
			}
		}
	}
	return nil
}

// The message log of synchronous calls is written behind the answers:
// each request queues its rows with the node's writer and goes on, and the
// writer commits what has gathered every syncLogInterval (sooner when
// syncLogBatch rows wait) in one transaction, which also signs them as
// one log batch (signInserted), so that they are written once and never
// updated by SignLog; a commit on the request path would buy nothing but
// latency. The queue is bounded: when it is full, requests
// wait for the writer (backpressure), and no row is ever dropped.
//
// The price is a crash window: rows queued in the last flush interval
// before a crash (the process killed, the machine down) are lost, though
// their answers were sent. Replay protection does not depend on the log
// (see replayWindow); the log's unique index still refuses a second row
// for one message id. A node that stops in order flushes the queue
// (FlushLog, and ServeRequests on its way out).

const (
	// syncLogQueue bounds the rows waiting for a commit; further
	// requests wait for room.
	syncLogQueue = 8192
	// syncLogBatch bounds the rows one transaction commits; a queue this
	// long is committed without waiting for the interval.
	syncLogBatch = 1024
	// syncLogInterval is how long the writer lets rows gather before a
	// commit.
	syncLogInterval = 100 * time.Millisecond
	// syncLogTimeout bounds one commit.
	syncLogTimeout = 30 * time.Second
	// syncLogRetry is the first pause after a failed commit; it doubles
	// up to syncLogTimeout.
	syncLogRetry = 100 * time.Millisecond
)

// sealedRow makes e's row for the log of synchronous calls, sealing its
// payload.
func (n *Node) sealedRow(ctx context.Context, direction, peer string, e *Envelope, digest []byte, state, reason string) (logRow, error) {
	body, err := n.ring.Seal(ctx, keyPurpose, e.Payload, bodyAD(direction, e.ID))
	if err != nil {
		return logRow{}, fmt.Errorf("exchange: seal the body of %s for the log: %w", e.ID, err)
	}
	return envelopeRow(direction, peer, e, digest, body, state, reason, n.now()), nil
}

// logWriter is the write-behind writer. A drain goroutine runs while
// rows are waiting and ends when there are none, so an idle node keeps no
// goroutine for it.
type logWriter struct {
	writer *store.Writer
	sql    *logSQL
	log    *slog.Logger
	// sign, if set, signs the rows of each commit as one log batch in
	// its transaction (Node.signInserted); otherwise SignLog signs them
	// later.
	sign     func(ctx context.Context, tx *store.Tx, id [16]byte, rows []logRow, seqs map[logKey]int64) error
	batch    int           // rows per commit
	interval time.Duration // gathering time before a commit
	slots    chan struct{} // one per queued row: bounds the queue
	wake     chan struct{} // tells the drain goroutine not to wait

	mu       sync.Mutex
	queue    []logRow      // guarded by mu
	busy     bool          // a drain goroutine runs; guarded by mu
	added    uint64        // rows ever queued; guarded by mu
	written  uint64        // rows ever committed; guarded by mu
	flushing uint64        // rows flush waits for: commit without waiting up to there; guarded by mu
	progress chan struct{} // closed and replaced at each commit; guarded by mu

	signer logSigner
}

// logSigner is what wakes and paces the log signer (RunLogSigner).
type logSigner struct {
	kick   chan struct{} // a commit of writeTx that may have logged rows to sign
	every  time.Duration // the safety tick: logSignEvery (tests set their own)
	passes atomic.Int64  // SignLog's reads of the log, which tests count
}

// logSignEvery is how often RunLogSigner looks for unsigned rows that no
// commit of this process woke it for: those another replica of
// headquarters logged and did not sign (it died first; alive, it signs
// its own), and those of a pass that failed.
const logSignEvery = 30 * time.Second

func newLogWriter(writer *store.Writer, q *logSQL, log *slog.Logger, queue, batch int, interval time.Duration) *logWriter {
	return &logWriter{writer: writer, sql: q, log: log, batch: batch, interval: interval, slots: make(chan struct{}, queue),
		wake: make(chan struct{}, 1), progress: make(chan struct{}),
		signer: logSigner{kick: make(chan struct{}, 1), every: logSignEvery}}
}

// add queues rows for the next commit, waiting for room while the queue
// is full.
func (w *logWriter) add(rows ...logRow) {
	for range rows {
		w.slots <- struct{}{}
	}
	w.mu.Lock()
	w.queue = append(w.queue, rows...)
	w.added += uint64(len(rows))
	full := len(w.queue) >= w.batch
	if !w.busy {
		w.busy = true
		go w.drain()
	}
	w.mu.Unlock()
	if full {
		w.nudge()
	}
}

// nudge wakes the drain goroutine if it waits.
func (w *logWriter) nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// flush waits until the rows queued before it was called are committed,
// or ctx ends.
func (w *logWriter) flush(ctx context.Context) error {
	w.mu.Lock()
	target := w.added
	defer w.mu.Unlock()
	for w.written < target {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("exchange: flush the message log (%d rows still queued): %w", target-w.written, err)
		}
		w.flushing = max(w.flushing, target)
		progress := w.progress
		w.mu.Unlock()
		w.nudge()
		select {
		case <-progress:
		case <-ctx.Done():
		}
		w.mu.Lock()
	}
	return nil
}

func (w *logWriter) drain() {
	timer := time.NewTimer(w.interval)
	defer timer.Stop()
	for {
		w.mu.Lock()
		if w.written >= w.flushing && len(w.queue) < w.batch {
			w.mu.Unlock()
			timer.Reset(w.interval)
			select {
			case <-timer.C:
			case <-w.wake:
			}
			w.mu.Lock()
		}
		k := min(len(w.queue), w.batch)
		if k == 0 {
			w.busy = false
			w.mu.Unlock()
			return
		}
		batch := slices.Clone(w.queue[:k])
		w.queue = slices.Delete(w.queue, 0, k)
		w.mu.Unlock()

		for pause := syncLogRetry; ; pause = min(2*pause, syncLogTimeout) {
			err := w.commit(batch)
			if err == nil {
				break
			}
			// Rows are never dropped: the queue stays full and requests
			// wait until the database takes them again.
			w.log.Error("exchange: write the message log; retrying", "rows", k, "retry_in", pause, "err", err)
			time.Sleep(pause)
		}
		for range k {
			<-w.slots
		}
		w.mu.Lock()
		w.written += uint64(k)
		close(w.progress)
		w.progress = make(chan struct{})
		w.mu.Unlock()
	}
}

// commit writes rows in one transaction, through the node's writer. A
// row whose key the log already holds is skipped (the first row of an id
// stays) and reported.
func (w *logWriter) commit(rows []logRow) error {
	ctx, cancel := context.WithTimeout(context.Background(), syncLogTimeout)
	defer cancel()
	var inserted int
	err := w.writer.InTx(ctx, func(tx *store.Tx) error {
		var id [16]byte
		if w.sign != nil {
			if _, err := rand.Read(id[:]); err != nil {
				return err
			}
			for i := range rows {
				rows[i].logBatch = id[:]
			}
		}
		seqs, err := w.sql.insertRows(ctx, tx, rows)
		if err != nil {
			return err
		}
		inserted = len(seqs)
		if w.sign != nil {
			return w.sign(ctx, tx, id, rows, seqs)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("exchange: write the message log: %w", err)
	}
	if w.sign == nil {
		kick(w.signer.kick) // SignLog signs them
	}
	if skipped := len(rows) - inserted; skipped > 0 {
		// The caller's node sealed two requests with one id (a replay
		// by anyone else is refused by the window), or a test did.
		w.log.Warn("exchange: message log rows skipped: their message ids were logged before", "rows", skipped)
	}
	return nil
}

// FlushLog waits until the message log rows of the synchronous calls
// made so far are committed, or ctx ends. A process that stops calls it
// after its last call; ServeRequests calls it on its way out.
func (n *Node) FlushLog(ctx context.Context) error { return n.msglog.flush(ctx) }

// SignLog signs the oldest unsigned log entries, at most logBatchMax of
// them, and records the signed batch in the audit ledger. It returns how
// many entries it signed; zero when there were none.
func (n *Node) SignLog(ctx context.Context) (int, error) {
	signed := 0
	n.msglog.signer.passes.Add(1)
	// Queued with the transport's writers: on SQLite, a transaction of
	// its own would wait for them in the busy handler's sleeps. Not
	// through writeTx, whose commit would wake the signer again.
	err := n.writer.InTx(ctx, func(tx *store.Tx) error {
		seqs, digests, err := unsignedTx(ctx, tx, logBatchMax)
		if err != nil {
			return fmt.Errorf("exchange: read unsigned log entries: %w", err)
		}
		if len(seqs) == 0 {
			return nil
		}
		var id [16]byte
		if _, err := rand.Read(id[:]); err != nil {
			return err
		}
		if err := n.signBatch(ctx, tx, id, digests, seqs[0], seqs[len(seqs)-1], func() error {
			return markSignedTx(ctx, tx, id[:], seqs)
		}); err != nil {
			return err
		}
		signed = len(seqs)
		return nil
	})
	return signed, err
}

// signBatch signs digests, the rows first..last of the log, as log batch
// id in tx: it records the batch, runs mark (which gives the rows their
// batch, unless they were inserted with it), and records the signed batch
// in the audit ledger.
func (n *Node) signBatch(ctx context.Context, tx *store.Tx, id [16]byte, digests [][]byte, first, last int64, mark func() error) error {
	root, err := merkleRoot(digests)
	if err != nil {
		return err
	}
	now := n.now()
	signer := n.ring.Signer()
	sig, err := signer.Sign(nil, logSigned(n.id, id, now.UnixMicro(), len(digests), root), crypto.Hash(0))
	if err != nil {
		return fmt.Errorf("exchange: sign log batch: %w", err)
	}
	if err := insertBatch(ctx, tx, id, "log", "", n.id, signer.KeyID(), root, sig, digests, now); err != nil {
		return err
	}
	if mark != nil {
		if err := mark(); err != nil {
			return fmt.Errorf("exchange: mark log entries signed: %w", err)
		}
	}
	if n.ledger == nil {
		return nil
	}
	e := audit.Event{Time: now, Actor: audit.System("exchange"), Action: "exchange.log.signed",
		ResourceType: "exchange_log_batch", ResourceID: hex.EncodeToString(id[:]), Outcome: audit.OK,
		Attrs: map[string]string{
			"node": n.id, "root": hex.EncodeToString(root), "count": strconv.Itoa(len(digests)),
			"first": strconv.FormatInt(first, 10), "last": strconv.FormatInt(last, 10),
			"key": signer.KeyID(), "signature": base64.StdEncoding.EncodeToString(sig),
		}}
	if err := n.ledger.AppendTx(ctx, tx, e); err != nil {
		return fmt.Errorf("exchange: record log batch in the audit ledger: %w", err)
	}
	return nil
}

// signInserted signs, as log batch id, the rows the write-behind has just
// inserted with that batch (seqs holds the rows inserted; a row whose id
// was logged before was not, and keeps its own batch): the log of
// synchronous calls is signed in the transaction that writes it, and is
// never written twice.
func (n *Node) signInserted(ctx context.Context, tx *store.Tx, id [16]byte, rows []logRow, seqs map[logKey]int64) error {
	digests := make([][]byte, 0, len(seqs))
	first, last := int64(-1), int64(-1)
	for i := range rows {
		seq, ok := seqs[rows[i].key()]
		if !ok {
			continue
		}
		delete(seqs, rows[i].key()) // of two rows with one key, the first was inserted
		digests = append(digests, rows[i].digest)
		if first < 0 || seq < first {
			first = seq
		}
		last = max(last, seq)
	}
	if len(digests) == 0 {
		return nil
	}
	return n.signBatch(ctx, tx, id, digests, first, last, nil)
}

func logSigned(node string, id [16]byte, at int64, n int, root []byte) []byte {
	b := appendString([]byte(logContext), node)
	b = append(b, id[:]...)
	b = appendInt(b, at)
	b = appendInt(b, int64(n))
	return append(b, root...)
}

// RunLogSigner signs the log until ctx ends: at start (rows left from
// before), gather after a commit of this process that may have logged
// rows woke it (writeTx), so that what commits meanwhile is signed in the
// same batch; at once again when a batch was full; and every
// logSignEvery for what no commit here woke it for. A node at rest reads
// nothing: before, the signer read the log every gather, five times a
// second, for nothing most of the time.
func (n *Node) RunLogSigner(ctx context.Context, gather time.Duration) {
	s := &n.msglog.signer
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	retry := time.Duration(0)
	for {
		// A commit before this is seen by the pass; one after it wakes
		// the next.
		select {
		case <-s.kick:
		default:
		}
		k, err := n.SignLog(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			n.log.Error("exchange: sign the message log", "err", err)
			// The database may be away: try again, less and less often.
			retry = min(max(2*retry, gather), s.every)
			if !sleep(ctx, retry) {
				return
			}
			continue
		case k == logBatchMax:
			continue
		}
		retry = 0
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.kick:
			if !sleep(ctx, gather) {
				return
			}
		}
	}
}

// EraseExpiredBodies erases the sealed bodies of log entries older than
// the node's retention, keeping their digests (and so their proofs), and
// reports how many it erased. Messages still pending or unacknowledged
// are erased too: the retention is also the freshness window, so they
// could not be delivered any more.
func (n *Node) EraseExpiredBodies(ctx context.Context) (int64, error) {
	k, err := eraseBodies(ctx, n.db, n.now().Add(-n.opts.Retention).UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("exchange: erase message bodies: %w", err)
	}
	return k, nil
}
