package exchange

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// The inbox of a client subsystem is its delivered, unacknowledged rows
// of the message log: reading it needs no other store, and an
// acknowledgement is one update.

// MaxInboxPage bounds the messages one Inbox call returns.
const MaxInboxPage = 500

// Delivered is a message in a client subsystem's inbox.
type Delivered struct {
	// Seq is the message's position in this node's log: the cursor to
	// read on from.
	Seq         int64
	ID          string
	Sender      ClientID
	Service     ServiceID
	Level       authz.Level
	ContentType string
	Time        time.Time
	// Payload is nil when the body was erased after the retention.
	Payload []byte
}

// Inbox returns up to limit unacknowledged messages delivered to client
// with Seq above after, in the order they were delivered. A limit out of
// 1..MaxInboxPage is taken as MaxInboxPage.
func (n *Node) Inbox(ctx context.Context, client ClientID, after int64, limit int) ([]Delivered, error) {
	if limit <= 0 || limit > MaxInboxPage {
		limit = MaxInboxPage
	}
	rows, err := n.logSQL.inbox(ctx, client.String(), after, limit)
	if err != nil {
		return nil, fmt.Errorf("exchange: read the inbox of %s: %w", client, err)
	}
	defer rows.Close()
	var out []Delivered
	for rows.Next() {
		var (
			d               Delivered
			sender, service string
			level, at       int64
			body            []byte
		)
		if err := rows.Scan(&d.Seq, &d.ID, &sender, &service, &level, &d.ContentType, &at, &body); err != nil {
			return nil, fmt.Errorf("exchange: read the inbox of %s: %w", client, err)
		}
		if d.Sender, err = ParseClientID(sender); err != nil {
			return nil, fmt.Errorf("exchange: inbox message %s: %w", d.ID, err)
		}
		if d.Service, err = ParseServiceID(service); err != nil {
			return nil, fmt.Errorf("exchange: inbox message %s: %w", d.ID, err)
		}
		d.Level, d.Time = authz.Level(level), time.UnixMicro(at).UTC()
		if body != nil {
			if d.Payload, err = n.ring.Open(ctx, keyPurpose, body, bodyAD("in", d.ID)); err != nil {
				return nil, fmt.Errorf("exchange: unseal inbox message %s: %w", d.ID, err)
			}
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// MaxAck bounds the ids one Ack call takes.
const MaxAck = 1000

// Ack acknowledges messages in client's inbox by id, so they are not
// returned or pushed again, and reports how many it acknowledged. Ids
// already acknowledged, or not in the client's inbox, are skipped.
func (n *Node) Ack(ctx context.Context, client ClientID, ids ...string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	if len(ids) > MaxAck {
		return 0, errs.Invalid("ids", fmt.Sprintf("acknowledge at most %d messages at once, not %d", MaxAck, len(ids)))
	}
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if plausibleMessageID(id) { // no other id is in an inbox
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return 0, nil
	}
	var acked int64
	err := n.writeTx(ctx, func(tx *store.Tx) (err error) {
		acked, err = n.logSQL.ackTx(ctx, tx, client.String(), n.now().UnixMicro(), valid)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("exchange: acknowledge messages of %s: %w", client, err)
	}
	return acked, nil
}
