package exchange

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Dead letters. A webhook delivers a subsystem's inbox strictly in order,
// so one message its receiver refuses (a non-2xx answer to that message)
// would hold up every message behind it for good. Such a message is tried
// webhookMaxRefusals times with the webhook's backoff, then moved out of
// the inbox to the dead letters — state 'dead', with the receiver's last
// answer — alerted (an error log line, an audit event and the
// chancery_exchange_messages_total{outcome="dead"} counter), and the
// queue goes on in order with the next message. An operator resends a
// dead letter (it goes back into the inbox at its place in the order, so
// it is pushed next) or discards it; both are audited.
//
// Order across a dead letter is the receiver's to keep from the
// messages themselves: each carries its sender's time (X-Chancery-Time),
// and a status report of a dossier carries the dossier's whole state and
// its updated_at, so a later report supersedes an earlier one — a
// receiver that keeps the latest updated_at never goes back to an older
// status, whether a report before it died or is resent late.

// webhookMaxRefusals is how many times a receiver may refuse one message
// before it becomes a dead letter.
const webhookMaxRefusals = 8

// Message states of the dead letters.
const (
	stateDead      = "dead"
	stateDiscarded = "discarded"
)

// webhookRefusal is a receiver's refusal of one message: an HTTP answer
// outside 2xx that does not merely say the receiver (or a proxy before
// it) is unavailable. permanent is set for a message that could never be
// sent at all, which dies at once.
type webhookRefusal struct {
	answer    string
	permanent bool
}

func (e *webhookRefusal) Error() string { return "the webhook refused the message: " + e.answer }

// receiverUnavailable reports whether an HTTP status says the receiver
// cannot take anything now, rather than that it refuses this message:
// such answers are retried without limit, like a connection failure.
func receiverUnavailable(status int) bool {
	switch status {
	case 408, 425, 429, 502, 503, 504:
		return true
	}
	return false
}

// printable returns s as valid UTF-8 with control characters (NUL, CR,
// LF …) replaced by spaces, cut to at most max bytes: a receiver's answer
// is stored, shown on a page and put in the audit ledger.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	return cutText(strings.TrimSpace(s), max)
}

// webhookRefused counts a refusal of m by client's webhook. It reports
// whether m became a dead letter; if not, the webhook is tried again
// after its backoff.
func (t *transport) webhookRefused(ctx context.Context, client ClientID, m Delivered, ref *webhookRefusal) (bool, error) {
	n := t.n
	var refusals int64
	err := n.writeTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE exchange_webhooks SET refusals = CASE WHEN refused_id = ? THEN refusals + 1 ELSE 1 END, refused_id = ?
			WHERE client = ?`), m.ID, m.ID, client.String()); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, tx.Rebind(`SELECT refusals FROM exchange_webhooks WHERE client = ?`), client.String()).Scan(&refusals)
	})
	if err != nil {
		n.log.Error("exchange: count a webhook refusal", "client", client.String(), "err", err)
		return false, err
	}
	if !ref.permanent && refusals < webhookMaxRefusals {
		t.webhookFailed(ctx, client.String(), ref)
		return false, nil
	}
	if err := t.deadLetter(ctx, client, m, ref.answer, refusals); err != nil {
		n.log.Error("exchange: move a refused message to the dead letters", "client", client.String(), "id", m.ID, "err", err)
		return false, err
	}
	return true, nil
}

// deadLetter moves m out of client's inbox to the dead letters, with the
// receiver's answer, resets the webhook's counts so the next message is
// pushed at once, and alerts.
func (t *transport) deadLetter(ctx context.Context, client ClientID, m Delivered, answer string, refusals int64) error {
	n := t.n
	now := n.now()
	answer = printable(answer, 1000)
	moved, receiptTo := false, ""
	err := n.writeTx(ctx, func(tx *store.Tx) error {
		dead, err := markDeadTx(ctx, tx, m.ID, client.String(), answer, now.UnixMicro())
		if err != nil {
			return err
		}
		if dead {
			// A circular's sender learns that this copy is dead.
			if receiptTo, err = n.logReceiptFor(ctx, tx, m.ID, outcomeDead, "the recipient's webhook refused it: "+answer); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE exchange_webhooks SET refusals = 0, refused_id = '', failures = 0, next_try_us = 0, last_error = ''
			WHERE client = ?`), client.String()); err != nil {
			return err
		}
		if !dead {
			return nil // acknowledged through the API meanwhile
		}
		moved = true
		if n.ledger == nil {
			return nil
		}
		return n.ledger.AppendTx(ctx, tx, audit.Event{Time: now, Actor: audit.System("exchange"), Action: "exchange.message.dead",
			ResourceType: "exchange_message", ResourceID: m.ID, Level: m.Level, Outcome: audit.Failed,
			Reason: cutText(fmt.Sprintf("the recipient's webhook refused the message %d times; its last answer: %s", refusals, answer), 1024),
			Attrs:  map[string]string{"node": n.id, "recipient": client.String(), "sender": m.Sender.String(), "service": m.Service.String()}})
	})
	if err != nil {
		return err
	}
	n.kickReceipts(receiptTo)
	if moved {
		n.metrics.message("in", m.Service, stateDead, 1)
		n.log.Error("exchange: a message the recipient's webhook refused is now a dead letter; the queue goes on without it (resend or discard it on the monitoring page)",
			"id", m.ID, "recipient", client.String(), "service", m.Service.String(), "refusals", refusals, "answer", answer)
	}
	return nil
}

// DeadLetter is an incoming message its recipient's webhook refused, out
// of the inbox until an operator resends or discards it.
type DeadLetter struct {
	// Seq orders the dead letters; pass the last one's as "after".
	Seq         int64       `json:"seq"`
	ID          string      `json:"id"`
	Recipient   string      `json:"recipient"`
	Sender      string      `json:"sender"`
	Service     string      `json:"service"`
	Level       authz.Level `json:"level"`
	ContentType string      `json:"content_type"`
	Size        int64       `json:"size"`
	Time        time.Time   `json:"time"`
	// Died is when the message became a dead letter, and Answer the
	// receiver's last answer (status and the start of its body).
	Died   time.Time `json:"dead_since"`
	Answer string    `json:"answer"`
}

// MaxDeadLetterPage bounds one page of DeadLetters.
const MaxDeadLetterPage = 500

const deadLetterColumns = `seq, msg_id, recipient, sender, service, level, content_type, size, msg_time_us, COALESCE(dead_us, 0), reason`

func scanDeadLetter(sc interface{ Scan(...any) error }) (DeadLetter, error) {
	var (
		d              DeadLetter
		level, at, die int64
	)
	err := sc.Scan(&d.Seq, &d.ID, &d.Recipient, &d.Sender, &d.Service, &level, &d.ContentType, &d.Size, &at, &die, &d.Answer)
	d.Level, d.Time, d.Died = authz.Level(level), time.UnixMicro(at).UTC(), time.UnixMicro(die).UTC()
	return d, err
}

// DeadLetters returns up to limit dead letters after seq after, oldest
// first.
func (n *Node) DeadLetters(ctx context.Context, after int64, limit int) ([]DeadLetter, error) {
	if limit <= 0 || limit > MaxDeadLetterPage {
		limit = MaxDeadLetterPage
	}
	rows, err := n.db.QueryContext(ctx, n.db.Rebind(`SELECT `+deadLetterColumns+` FROM exchange_log
		WHERE state = 'dead' AND seq > ? ORDER BY seq LIMIT ?`), after, limit)
	if err != nil {
		return nil, fmt.Errorf("exchange: read the dead letters: %w", err)
	}
	defer rows.Close()
	out := []DeadLetter{}
	for rows.Next() {
		d, err := scanDeadLetter(rows)
		if err != nil {
			return nil, fmt.Errorf("exchange: read the dead letters: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeadLetterByID returns the dead letter id, or an error wrapping
// errs.ErrNotFound.
func (n *Node) DeadLetterByID(ctx context.Context, id string) (DeadLetter, error) {
	if !plausibleMessageID(id) {
		return DeadLetter{}, fmt.Errorf("exchange: no dead letter with such an id: %w", errs.ErrNotFound)
	}
	d, err := scanDeadLetter(n.db.QueryRowContext(ctx, n.db.Rebind(`SELECT `+deadLetterColumns+` FROM exchange_log
		WHERE direction = 'in' AND type = 1 AND msg_id = ? AND state = 'dead'`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("exchange: no dead letter %s: %w", cutText(id, 64), errs.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("exchange: read dead letter %s: %w", id, err)
	}
	return d, nil
}

// ResendDeadLetter puts dead letter id back into its recipient's inbox, at
// its place in the order, so the webhook pushes it next (and its
// refusals count from zero). DiscardDeadLetter marks it discarded for
// good. Both record who did it in the audit ledger, in the same
// transaction, and return an error wrapping errs.ErrNotFound when id is
// not a dead letter (any more).
func (n *Node) ResendDeadLetter(ctx context.Context, id string) error {
	err := n.settleDeadLetter(ctx, id, "delivered", "exchange.message.resend")
	if t := n.transport(); err == nil && t != nil {
		kick(t.hookKick)
	}
	return err
}

// DiscardDeadLetter: see ResendDeadLetter.
func (n *Node) DiscardDeadLetter(ctx context.Context, id string) error {
	return n.settleDeadLetter(ctx, id, stateDiscarded, "exchange.message.discard")
}

// settleDeadLetter moves dead letter id to state, recording action.
func (n *Node) settleDeadLetter(ctx context.Context, id, state, action string) error {
	o, ok := audit.OriginFrom(ctx)
	if !ok || o.Anonymous() {
		return fmt.Errorf("exchange: %s needs a signed-in actor: %w", action, errs.ErrUnauthenticated)
	}
	d, err := n.DeadLetterByID(ctx, id)
	if err != nil {
		return err
	}
	dead := sql.NullInt64{Int64: d.Died.UnixMicro(), Valid: state != "delivered"}
	reason := d.Answer
	if state == "delivered" {
		reason = ""
	}
	receiptTo := ""
	defer func() { n.kickReceipts(receiptTo) }()
	return n.writeTx(ctx, func(tx *store.Tx) error {
		settled, err := settleDeadTx(ctx, tx, id, state, dead, reason)
		if err != nil {
			return fmt.Errorf("exchange: %s %s: %w", action, id, err)
		}
		if !settled {
			return fmt.Errorf("exchange: dead letter %s was resent or discarded meanwhile: %w", id, errs.ErrNotFound)
		}
		if state == "delivered" {
			// Back in the inbox: a circular's sender learns it.
			if receiptTo, err = n.logReceiptFor(ctx, tx, id, outcomeDelivered, ""); err != nil {
				return err
			}
		}
		if n.ledger == nil {
			return nil
		}
		e := o.Event(action)
		e.ResourceType, e.ResourceID, e.Level = "exchange_message", id, d.Level
		e.Reason = cutText("the recipient's last answer: "+d.Answer, 1024)
		e.Attrs = map[string]string{"node": n.id, "recipient": d.Recipient, "service": d.Service}
		return n.ledger.AppendTx(ctx, tx, e)
	})
}
