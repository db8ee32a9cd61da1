package sentinel

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/audit"
	"chancery/internal/sentinel/detect"
	"chancery/internal/store"
)

// The watcher reads the node's ledger stream (audit.PublishStream) with a
// durable JetStream consumer and scores each event exactly once:
//
//   - the scorer's state and the first sequence number not yet scored are
//     saved in the transaction that stores the alerts of the events
//     before it, and the messages are acknowledged only after it commits;
//   - on a (re)start the scorer is restored from that state, and every
//     message of an event already scored (a redelivery, a republication)
//     is acknowledged and skipped by its sequence number;
//   - a gap (events the stream lost, or expired before they were read) is
//     filled from the database, in order, before the event after it;
//   - when the stream brings nothing while the ledger has grown (the
//     publisher or the bus down), the watcher reads the ledger itself.
//
// Several headquarters replicas share one database: a lease row in it
// (sentinel_watchers) lets one of them score; the others wait for the
// lease to expire. Every save checks the lease in its transaction, so a
// replica that lost it (paused past its lease) stores nothing.

// Watcher defaults.
const (
	DefaultLease = 15 * time.Second
	watchBatch   = 500
	watchWait    = time.Second
	// watchLook is how often, while the stream brings nothing, the
	// watcher reads the ledger (for events the stream did not bring) and
	// the verdicts to feed back: a node at rest reads neither in between.
	watchLook    = 5 * time.Second
	consumerName = "sentinel"
)

// WatcherOptions configure a Watcher. DB, Ledger, JetStream, Node and
// NewScorer are required.
type WatcherOptions struct {
	DB        *store.DB
	Ledger    *audit.Ledger
	JetStream jetstream.JetStream
	// Node is the node's id: its ledger's stream subject and the
	// watcher's name.
	Node string
	// NewScorer returns an empty scorer, into which the saved state is
	// restored.
	NewScorer func() (detect.Scorer, error)
	// OnAlerts is called with the alerts of each save once it has
	// committed: notifications and forwarding. It must not block long.
	OnAlerts func(ctx context.Context, alerts []Alert)
	// Lease is how long a replica's claim to score lasts unrenewed; if
	// zero, DefaultLease.
	Lease time.Duration
	// Holder names this replica; if empty, the host name and a random
	// suffix.
	Holder string
	Now    func() time.Time
	Logger *slog.Logger

	// afterCommit, in tests, runs after a save commits and before its
	// messages are acknowledged; an error there stands for a crash: the
	// messages are not acknowledged but redelivered.
	afterCommit func(next uint64) error
	// ackWait, in tests, is the consumer's ack wait; if zero, 30s.
	ackWait time.Duration
}

// Watcher scores the node's ledger as it grows.
type Watcher struct {
	opts WatcherOptions
	log  *slog.Logger
}

// NewWatcher returns a watcher, or an error naming a missing option.
func NewWatcher(opts WatcherOptions) (*Watcher, error) {
	if opts.DB == nil || opts.Ledger == nil || opts.JetStream == nil || opts.Node == "" || opts.NewScorer == nil {
		return nil, errors.New("sentinel: NewWatcher needs DB, Ledger, JetStream, Node and NewScorer")
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Holder == "" {
		host, _ := os.Hostname()
		var b [4]byte
		rand.Read(b[:]) //nolint:errcheck // never fails
		opts.Holder = host + "-" + hex.EncodeToString(b[:])
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Watcher{opts: opts, log: opts.Logger.With("component", "sentinel")}, nil
}

func (w *Watcher) now() time.Time { return w.opts.Now().UTC().Truncate(time.Microsecond) }

// Run scores until ctx ends, then releases the lease and returns nil.
// Failures are logged and retried.
func (w *Watcher) Run(ctx context.Context) error {
	pause := time.Duration(0)
	for {
		if pause > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(pause):
			}
		}
		held, err := takeLease(ctx, w.opts.DB, w.opts.Node, w.opts.Holder, w.now(), w.now().Add(w.opts.Lease))
		if ctx.Err() != nil {
			return nil
		}
		if err != nil || !held {
			if err != nil {
				w.log.Warn("sentinel: take the watcher's lease (retried)", "err", err)
			}
			pause = w.opts.Lease / 3
			continue
		}
		err = w.score(ctx)
		if ctx.Err() != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			releaseLease(rctx, w.opts.DB, w.opts.Node, w.opts.Holder) //nolint:errcheck // it expires anyway
			cancel()
			return nil
		}
		if errors.Is(err, errLeaseLost) {
			w.log.Info("sentinel: another replica scores now")
			pause = w.opts.Lease / 3
			continue
		}
		w.log.Warn("sentinel: scoring stopped (restarted from the saved state)", "err", err)
		pause = min(max(2*pause, 250*time.Millisecond), 30*time.Second)
	}
}

// session is one stretch of scoring under the lease, from the saved state.
type session struct {
	w      *Watcher
	scorer detect.Scorer
	next   uint64
	// renewed is when the lease was last renewed.
	renewed time.Time
	// looked is when the ledger and the verdicts were last read with
	// nothing on the stream.
	looked time.Time
}

// score restores the scorer and scores from the stream until ctx ends or
// something fails; the caller restarts it from the saved state.
func (w *Watcher) score(ctx context.Context) error {
	row, err := loadWatcher(ctx, w.opts.DB, w.opts.Node)
	if err != nil {
		return err
	}
	scorer, err := w.opts.NewScorer()
	if err != nil {
		return err
	}
	if len(row.state) > 0 {
		if err := scorer.UnmarshalState(row.state); err != nil {
			return fmt.Errorf("sentinel: restore the scorer's state: %w", err)
		}
	}
	if _, err := audit.EnsureStream(ctx, w.opts.JetStream, w.opts.Node); err != nil {
		return err
	}
	cons, err := w.opts.JetStream.CreateOrUpdateConsumer(ctx, audit.StreamName, jetstream.ConsumerConfig{
		Durable:       consumerName,
		Description:   "Chancery Sentinel: scores the ledger's events",
		FilterSubject: audit.StreamSubject(w.opts.Node),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cmp.Or(w.opts.ackWait, 30*time.Second),
		MaxAckPending: 4 * watchBatch,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("sentinel: create the stream's consumer: %w", err)
	}
	s := &session{w: w, scorer: scorer, next: row.next, renewed: w.now()}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		msgs, err := fetch(cons)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err := s.take(ctx, msgs); err != nil {
			for _, m := range msgs {
				m.Nak() //nolint:errcheck // redelivered after the ack wait anyway
			}
			return err
		}
	}
}

// take scores msgs' events past the saved position, fills gaps from the
// ledger, saves, and acknowledges. With no messages it catches up from
// the ledger if it has grown, tells the scorer new verdicts, and renews
// the lease.
func (s *session) take(ctx context.Context, msgs []jetstream.Msg) error {
	w := s.w
	var events []audit.Event
	next := s.next
	for _, m := range msgs {
		var e audit.Event
		if err := json.Unmarshal(m.Data(), &e); err != nil {
			w.log.Error("sentinel: a message of the ledger's stream is not an event; skipped (the ledger is read for it)", "err", err)
			continue
		}
		if e.Seq < next {
			continue // scored before: a redelivery or a republication
		}
		if e.Seq > next {
			gap, err := w.opts.Ledger.EventsFrom(ctx, next, int(e.Seq-next))
			if err != nil {
				return err
			}
			if uint64(len(gap)) != e.Seq-next {
				return fmt.Errorf("sentinel: the ledger has %d of events %d to %d", len(gap), next, e.Seq-1)
			}
			events = append(events, gap...)
		}
		events = append(events, e)
		next = e.Seq + 1
	}
	if len(msgs) == 0 {
		now := w.now()
		if now.Sub(s.looked) < watchLook && now.Sub(s.renewed) < w.opts.Lease/3 {
			return nil // at rest, and nothing due: read nothing
		}
		s.looked = now
		// Nothing on the stream: the ledger may have grown without it.
		more, err := w.opts.Ledger.EventsFrom(ctx, next, watchBatch)
		if err != nil {
			return err
		}
		events = append(events, more...)
		next += uint64(len(more))
	}
	saved, err := s.save(ctx, events, next)
	if err != nil {
		return err
	}
	if w.opts.afterCommit != nil && saved {
		if err := w.opts.afterCommit(next); err != nil {
			return err
		}
	}
	for _, m := range msgs {
		m.Ack() //nolint:errcheck // a lost ack is a redelivery, skipped by its sequence number
	}
	return nil
}

// save scores events, then stores the scorer's state, next, the alerts
// and the verdicts told in one short transaction (the scoring runs
// before it, so that the database's write lock is not held while the
// scorer works; if the transaction fails the caller restarts from the
// saved state). With nothing to store it only renews the lease when due.
// It reports whether it saved a new position.
func (s *session) save(ctx context.Context, events []audit.Event, next uint64) (bool, error) {
	w := s.w
	now := w.now()
	verdicts, err := pendingVerdicts(ctx, w.opts.DB)
	if err != nil {
		return false, err
	}
	if len(events) == 0 && len(verdicts) == 0 && now.Sub(s.renewed) < w.opts.Lease/3 {
		return false, nil
	}
	for _, v := range verdicts {
		s.scorer.Feedback(detect.Feedback{Rule: v.rule, User: v.user, UnitID: v.unit, TruePositive: v.tp})
	}
	var alerts []Alert
	for _, e := range events {
		for _, d := range s.scorer.Observe(e) {
			alerts = append(alerts, fromDetect(d, now))
		}
	}
	state, err := s.scorer.MarshalState()
	if err != nil {
		return false, fmt.Errorf("sentinel: save the scorer's state: %w", err)
	}
	err = w.opts.DB.InTx(ctx, func(tx *store.Tx) error {
		for i := range alerts {
			var err error
			if alerts[i].ID, err = insertAlert(ctx, tx, alerts[i], 0); err != nil {
				return err
			}
		}
		if err := markFedBack(ctx, tx, verdicts); err != nil {
			return err
		}
		return saveWatcher(ctx, tx, w.opts.Node, w.opts.Holder, next, state, now, now.Add(w.opts.Lease))
	})
	if err != nil {
		return false, err
	}
	saved := next != s.next
	s.next, s.renewed = next, now
	if len(alerts) > 0 && w.opts.OnAlerts != nil {
		w.opts.OnAlerts(ctx, alerts)
	}
	return saved, nil
}

// fetch takes what the consumer has now, up to watchBatch; with nothing
// there it waits up to watchWait for one message and then takes what
// followed it. (A plain Fetch of a batch would wait for the batch to
// fill or the wait to pass: latency for nothing.)
func fetch(cons jetstream.Consumer) ([]jetstream.Msg, error) {
	take := func(b jetstream.MessageBatch, err error, msgs []jetstream.Msg) ([]jetstream.Msg, error) {
		if err != nil {
			return msgs, fmt.Errorf("sentinel: fetch from the stream: %w", err)
		}
		for m := range b.Messages() {
			msgs = append(msgs, m)
		}
		if err := b.Error(); err != nil && len(msgs) == 0 && !errors.Is(err, jetstream.ErrNoHeartbeat) && !errors.Is(err, nats.ErrTimeout) {
			return msgs, fmt.Errorf("sentinel: fetch from the stream: %w", err)
		}
		return msgs, nil
	}
	b, err := cons.FetchNoWait(watchBatch)
	msgs, err := take(b, err, nil)
	if err != nil || len(msgs) > 0 {
		return msgs, err
	}
	b, err = cons.Fetch(1, jetstream.FetchMaxWait(watchWait))
	if msgs, err = take(b, err, nil); err != nil || len(msgs) == 0 {
		return msgs, err
	}
	b, err = cons.FetchNoWait(watchBatch - 1)
	return take(b, err, msgs)
}
