package exchange

import (
	"context"
	"crypto"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/errs"
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

// logBatchMax bounds the entries one log signature covers.
const logBatchMax = 1024

// logContext separates log-batch signatures from the node key's others.
const logContext = "chancery-exchange-log-v1\n"

// SignLog signs the oldest unsigned log entries, at most logBatchMax of
// them, and records the signed batch in the audit ledger. It returns how
// many entries it signed; zero when there were none.
func (n *Node) SignLog(ctx context.Context) (int, error) {
	signed := 0
	// Queued with the transport's writers: on SQLite, a transaction of
	// its own would wait for them in the busy handler's sleeps.
	err := n.writeTx(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, tx.Rebind(`SELECT seq, digest FROM exchange_log WHERE log_batch IS NULL ORDER BY seq LIMIT ?`), logBatchMax)
		if err != nil {
			return fmt.Errorf("exchange: read unsigned log entries: %w", err)
		}
		var (
			seqs    []int64
			digests [][]byte
		)
		for rows.Next() {
			var (
				seq int64
				d   []byte
			)
			if err := rows.Scan(&seq, &d); err != nil {
				rows.Close()
				return fmt.Errorf("exchange: read unsigned log entries: %w", err)
			}
			seqs, digests = append(seqs, seq), append(digests, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("exchange: read unsigned log entries: %w", err)
		}
		if len(seqs) == 0 {
			return nil
		}
		root, err := merkleRoot(digests)
		if err != nil {
			return err
		}
		var id [16]byte
		if _, err := rand.Read(id[:]); err != nil {
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
		first, last := seqs[0], seqs[len(seqs)-1]
		// Mark exactly the rows read. On SQLite this transaction has
		// held the only write lock since before the read, so they are
		// the unsigned rows of the range first..last, which one short
		// statement marks; on PostgreSQL a row with a seq inside the
		// range can commit after the read, and it is not in this batch.
		q, args := `UPDATE exchange_log SET log_batch = ? WHERE seq BETWEEN ? AND ? AND log_batch IS NULL`, []any{id[:], first, last}
		if tx.Dialect != store.SQLite {
			args = make([]any, 0, len(seqs)+1)
			args = append(args, id[:])
			for _, seq := range seqs {
				args = append(args, seq)
			}
			q = `UPDATE exchange_log SET log_batch = ? WHERE seq IN (?` + strings.Repeat(", ?", len(seqs)-1) + `)`
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("exchange: mark log entries signed: %w", err)
		}
		if n.ledger != nil {
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
		}
		signed = len(seqs)
		return nil
	})
	return signed, err
}

func logSigned(node string, id [16]byte, at int64, n int, root []byte) []byte {
	b := appendString([]byte(logContext), node)
	b = append(b, id[:]...)
	b = appendInt(b, at)
	b = appendInt(b, int64(n))
	return append(b, root...)
}

// insertBatch records a signed batch with its digests, once: when a node
// sends to itself, its sending and receiving sides record the same batch,
// in whichever order they commit.
func insertBatch(ctx context.Context, q store.Queryer, id [16]byte, direction, peer, signer, keyID string, root, sig []byte, digests [][]byte, at time.Time) error {
	all := make([]byte, 0, 32*len(digests))
	for _, d := range digests {
		all = append(all, d...)
	}
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO exchange_batches (batch_id, direction, peer, signer, key_id, root, signature, digests, created_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (batch_id) DO NOTHING`), id[:], direction, peer, signer, keyID, root, sig, all, at.UnixMicro())
	if err != nil {
		return fmt.Errorf("exchange: record batch %x: %w", id, err)
	}
	return nil
}

// RunLogSigner signs the log every interval until ctx ends, catching up at
// once when a batch was full.
func (n *Node) RunLogSigner(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		k, err := n.SignLog(ctx)
		if err != nil && ctx.Err() == nil {
			n.log.Error("exchange: sign the message log", "err", err)
		}
		if k == logBatchMax {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// BatchRef is a signed batch an envelope belongs to, with the envelope's
// inclusion proof into the batch's signed root.
type BatchRef struct {
	ID        string   `json:"id"`
	Signer    string   `json:"signer"`
	KeyID     string   `json:"key_id"`
	Root      []byte   `json:"root"`
	Signature []byte   `json:"signature"`
	Index     uint64   `json:"index"`
	Size      uint64   `json:"size"`
	Path      [][]byte `json:"path"`
	Created   string   `json:"created"`
}

// MessageProof proves what the node logged of one envelope: its digest,
// its place in a log batch this node signed (which the audit ledger
// records as event exchange.log.signed with the batch id as resource),
// and for a received asynchronous message, its place in the batch its
// sender signed.
type MessageProof struct {
	MessageID string    `json:"message_id"`
	Direction string    `json:"direction"`
	Digest    []byte    `json:"digest"`
	Log       *BatchRef `json:"log,omitempty"`
	Origin    *BatchRef `json:"origin,omitempty"`
}

// Proof returns the proof of the envelope with the given id, direction
// ("in" or "out") and type. The log part is missing until the log signer
// has run. It returns an error wrapping errs.ErrNotFound if the node has
// no such envelope.
func (n *Node) Proof(ctx context.Context, direction string, t EnvelopeType, msgID string) (*MessageProof, error) {
	p := &MessageProof{MessageID: msgID, Direction: direction}
	var (
		logBatch, origin []byte
		index            sql.NullInt64
	)
	err := n.db.QueryRowContext(ctx, n.db.Rebind(`SELECT digest, log_batch, batch_id, batch_index FROM exchange_log WHERE direction = ? AND type = ? AND msg_id = ?`),
		direction, int64(t), msgID).Scan(&p.Digest, &logBatch, &origin, &index)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("exchange: no %s message %s in the log: %w", direction, msgID, errs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("exchange: read message %s: %w", msgID, err)
	}
	if logBatch != nil {
		if p.Log, err = n.batchRef(ctx, logBatch, p.Digest, -1); err != nil {
			return nil, err
		}
	}
	if origin != nil && index.Valid {
		if p.Origin, err = n.batchRef(ctx, origin, p.Digest, index.Int64); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// batchRef loads a batch and proves digest's inclusion, at index or, when
// index is negative, wherever digest is.
func (n *Node) batchRef(ctx context.Context, id, digest []byte, index int64) (*BatchRef, error) {
	var (
		all     []byte
		created int64
	)
	ref := &BatchRef{ID: hex.EncodeToString(id)}
	err := n.db.QueryRowContext(ctx, n.db.Rebind(`SELECT signer, key_id, root, signature, digests, created_us FROM exchange_batches WHERE batch_id = ?`), id).
		Scan(&ref.Signer, &ref.KeyID, &ref.Root, &ref.Signature, &all, &created)
	if err != nil {
		return nil, fmt.Errorf("exchange: read batch %x: %w", id, err)
	}
	leaves := make([][]byte, 0, len(all)/32)
	for i := 0; i+32 <= len(all); i += 32 {
		if index < 0 && string(all[i:i+32]) == string(digest) {
			index = int64(i / 32)
		}
		leaves = append(leaves, all[i:i+32])
	}
	if index < 0 || index >= int64(len(leaves)) {
		return nil, fmt.Errorf("exchange: batch %x does not hold the message's digest", id)
	}
	ref.Index, ref.Size = uint64(index), uint64(len(leaves))
	ref.Created = time.UnixMicro(created).UTC().Format(time.RFC3339Nano)
	if ref.Path, err = BatchProof(leaves, ref.Index); err != nil {
		return nil, err
	}
	return ref, nil
}
