package mail

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// OutboxConfig tunes an Outbox; zero fields take the defaults.
type OutboxConfig struct {
	// MaxAttempts is how many times a message is tried before it is
	// marked failed. Default 8.
	MaxAttempts int
	// Backoff is the wait after the first failure; it doubles after each
	// further one, up to MaxBackoff. Defaults 30 s and 1 h.
	Backoff, MaxBackoff time.Duration
	// Poll is how often the worker looks for due messages when nothing
	// nudges it: messages queued by another replica, retries. Default 5 s.
	Poll time.Duration
	// Lease is how long a worker holds a message it is sending before
	// another may take it over (if the first one died). It must exceed
	// the sender's timeout. Default 2 min.
	Lease time.Duration
	// Log receives failures; nil uses slog.Default.
	Log *slog.Logger
	// Egress checks each message (its subject and text) before it is
	// sent (data-loss prevention, internal/dlp). A message it holds for
	// approval is tried again after the backoff, and goes once approved;
	// one it blocks (errs.ErrForbidden) fails for good. Nil checks
	// nothing.
	Egress Egress
}

// Egress checks what leaves through a way out: data, an item named name
// of media type mediaType classified at level, going to to. It returns
// nil if it may go, else why not.
type Egress interface {
	Check(ctx context.Context, to string, level authz.Level, name, mediaType string, data []byte) error
}

// Outbox is the durable queue of messages to send. Capabilities queue a
// notice with EnqueueTx in the transaction of the change it announces, so
// a notice goes out if and only if the change is committed; Run sends
// them. Several Outboxes (one per replica) may run on one database: each
// message is claimed before it is sent.
type Outbox struct {
	db    *store.DB
	send  Sender
	cfg   OutboxConfig
	log   *slog.Logger
	nudge chan struct{}
	now   func() time.Time
}

// NewOutbox returns an outbox on db that sends through send.
func NewOutbox(db *store.DB, send Sender, cfg OutboxConfig) *Outbox {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 30 * time.Second
	}
	if cfg.MaxBackoff < cfg.Backoff {
		cfg.MaxBackoff = max(time.Hour, cfg.Backoff)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	return &Outbox{db: db, send: send, cfg: cfg, log: log.With("component", "mail.outbox"),
		nudge: make(chan struct{}, 1), now: store.Now}
}

// EnqueueTx queues m in tx: it is sent once tx commits, and never if tx
// rolls back. An invalid message is refused with an error wrapping
// errs.ErrInvalid, so the caller's change can be refused with it. Call
// Nudge after the commit to have it sent at once rather than at the next
// poll.
func (o *Outbox) EnqueueTx(ctx context.Context, tx *store.Tx, m Message) error {
	return o.insert(ctx, tx, m)
}

// Enqueue queues m on its own and wakes the worker.
func (o *Outbox) Enqueue(ctx context.Context, m Message) error {
	if err := o.insert(ctx, o.db, m); err != nil {
		return err
	}
	o.Nudge()
	return nil
}

func (o *Outbox) insert(ctx context.Context, q store.Queryer, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	to, err := json.Marshal(m.To)
	if err != nil {
		return fmt.Errorf("mail: queue: %w", err)
	}
	now := o.now().UnixMicro()
	_, err = q.ExecContext(ctx, q.Rebind(`INSERT INTO mail_outbox (recipients, subject, body_text, body_html, next_try_us, created_us)
		VALUES (?, ?, ?, ?, ?, ?)`), string(to), m.Subject, m.Text, m.HTML, now, now)
	if err != nil {
		return fmt.Errorf("mail: queue a message: %w", err)
	}
	return nil
}

// Nudge wakes the worker to send what is due now. It never blocks.
func (o *Outbox) Nudge() {
	select {
	case o.nudge <- struct{}{}:
	default:
	}
}

// Run sends due messages until ctx ends, then returns nil. A database
// failure is logged and the queue read again at the next poll, since the
// database may come back; a message being sent when ctx ends is released
// for the next worker, untouched.
func (o *Outbox) Run(ctx context.Context) error {
	t := time.NewTicker(o.cfg.Poll)
	defer t.Stop()
	for {
		if err := o.drain(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("mail outbox: cannot read the queue", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-o.nudge:
		case <-t.C:
		}
	}
}

// batch is how many due messages one look at the queue takes.
const batch = 20

// drain sends every message due now, oldest first, batch by batch.
func (o *Outbox) drain(ctx context.Context) error {
	for ctx.Err() == nil {
		ids, err := o.due(ctx)
		if err != nil {
			return err
		}
		sent := 0
		for _, id := range ids {
			ok, err := o.claim(ctx, id)
			if err != nil {
				return err
			}
			if !ok {
				continue // another worker has it
			}
			if err := o.deliver(ctx, id); err != nil {
				return err
			}
			sent++
		}
		if len(ids) < batch || sent == 0 {
			return nil
		}
	}
	return nil
}

func (o *Outbox) due(ctx context.Context) ([]int64, error) {
	now := o.now().UnixMicro()
	rows, err := o.db.QueryContext(ctx, o.db.Rebind(`SELECT id FROM mail_outbox
		WHERE state = 'pending' AND next_try_us <= ? AND claimed_until_us < ? ORDER BY id LIMIT ?`), now, now, batch)
	if err != nil {
		return nil, fmt.Errorf("mail: read the outbox: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("mail: read the outbox: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// claim takes message id for this worker for one lease, if no other
// worker holds it: a compare-and-set on claimed_until_us, which one
// worker wins on either dialect.
func (o *Outbox) claim(ctx context.Context, id int64) (bool, error) {
	now := o.now()
	res, err := o.db.ExecContext(ctx, o.db.Rebind(`UPDATE mail_outbox SET claimed_until_us = ?
		WHERE id = ? AND state = 'pending' AND claimed_until_us < ?`), now.Add(o.cfg.Lease).UnixMicro(), id, now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("mail: claim message %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("mail: claim message %d: %w", id, err)
	}
	return n == 1, nil
}

// deliver sends claimed message id and records the outcome.
func (o *Outbox) deliver(ctx context.Context, id int64) error {
	var (
		m        Message
		to       string
		attempts int
	)
	err := o.db.QueryRowContext(ctx, o.db.Rebind(`SELECT recipients, subject, body_text, body_html, attempts FROM mail_outbox WHERE id = ?`), id).
		Scan(&to, &m.Subject, &m.Text, &m.HTML, &attempts)
	if err != nil {
		return fmt.Errorf("mail: read message %d: %w", id, err)
	}
	if err := json.Unmarshal([]byte(to), &m.To); err != nil {
		return o.fail(ctx, id, attempts, true, fmt.Errorf("recipients: %w", err))
	}
	if o.cfg.Egress != nil {
		err := o.cfg.Egress.Check(ctx, strings.Join(m.To, ","), authz.Unclassified, m.Subject, "text/plain", []byte(m.Subject+"\n"+m.Text))
		if err != nil {
			return o.fail(ctx, id, attempts, errors.Is(err, errs.ErrForbidden), fmt.Errorf("withheld by data-loss prevention: %w", err))
		}
	}
	sendCtx, cancel := context.WithTimeout(ctx, o.cfg.Lease)
	err = o.send.Send(sendCtx, m)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			// Shutting down: release the claim untouched, so the message
			// is tried again at once by whichever worker runs next.
			_, _ = o.db.ExecContext(context.WithoutCancel(ctx), o.db.Rebind(`UPDATE mail_outbox SET claimed_until_us = 0 WHERE id = ?`), id)
			return nil
		}
		return o.fail(ctx, id, attempts, errors.Is(err, errs.ErrInvalid), err)
	}
	_, err = o.db.ExecContext(ctx, o.db.Rebind(`UPDATE mail_outbox SET state = 'sent', attempts = attempts + 1, sent_us = ?,
		claimed_until_us = 0, last_error = '' WHERE id = ?`), o.now().UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("mail: mark message %d sent: %w", id, err)
	}
	return nil
}

// fail records a failed attempt: another one after a backoff that
// doubles with each failure, or none if the message is hopeless or has
// had its attempts.
func (o *Outbox) fail(ctx context.Context, id int64, attempts int, hopeless bool, cause error) error {
	attempts++
	state := "pending"
	if hopeless || attempts >= o.cfg.MaxAttempts {
		state = "failed"
		o.log.Error("mail outbox: giving up on a message", "id", id, "attempts", attempts, "err", cause)
	} else {
		o.log.Warn("mail outbox: sending failed; will retry", "id", id, "attempts", attempts, "err", cause)
	}
	next := o.now().Add(o.backoff(attempts)).UnixMicro()
	_, err := o.db.ExecContext(ctx, o.db.Rebind(`UPDATE mail_outbox SET state = ?, attempts = ?, next_try_us = ?,
		claimed_until_us = 0, last_error = ? WHERE id = ?`), state, attempts, next, cause.Error(), id)
	if err != nil {
		return fmt.Errorf("mail: record failure of message %d: %w", id, err)
	}
	return nil
}

// backoff is the wait after the attempts-th failure.
func (o *Outbox) backoff(attempts int) time.Duration {
	d := o.cfg.Backoff
	for i := 1; i < attempts && d < o.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, o.cfg.MaxBackoff)
}

// State is where a queued message stands.
type State string

// The states of a queued message.
const (
	Pending State = "pending" // waiting to be sent or retried
	Sent    State = "sent"
	Failed  State = "failed" // given up on; kept for staff to see
)

// Queued is a message in the outbox with its delivery record.
type Queued struct {
	ID        int64
	Message   Message
	State     State
	Attempts  int
	LastError string
	NextTry   time.Time
	Created   time.Time
	Sent      time.Time // zero until sent
}

// List returns up to limit messages in state, newest first.
func (o *Outbox) List(ctx context.Context, state State, limit int) ([]Queued, error) {
	rows, err := o.db.QueryContext(ctx, o.db.Rebind(`SELECT id, recipients, subject, body_text, body_html, state, attempts,
		last_error, next_try_us, created_us, sent_us FROM mail_outbox WHERE state = ? ORDER BY id DESC LIMIT ?`), string(state), limit)
	if err != nil {
		return nil, fmt.Errorf("mail: list the outbox: %w", err)
	}
	defer rows.Close()
	var out []Queued
	for rows.Next() {
		var (
			q             Queued
			to, st        string
			next, created int64
			sent          sql.NullInt64
		)
		if err := rows.Scan(&q.ID, &to, &q.Message.Subject, &q.Message.Text, &q.Message.HTML, &st, &q.Attempts,
			&q.LastError, &next, &created, &sent); err != nil {
			return nil, fmt.Errorf("mail: list the outbox: %w", err)
		}
		if err := json.Unmarshal([]byte(to), &q.Message.To); err != nil {
			return nil, fmt.Errorf("mail: list the outbox: message %d: %w", q.ID, err)
		}
		q.State, q.NextTry, q.Created = State(st), time.UnixMicro(next).UTC(), time.UnixMicro(created).UTC()
		if sent.Valid {
			q.Sent = time.UnixMicro(sent.Int64).UTC()
		}
		out = append(out, q)
	}
	return out, rows.Err()
}
