package exchange

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"chancery/internal/errs"
)

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
