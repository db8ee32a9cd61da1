package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/store"
)

// The ledger's live stream: every integrated event, in sequence order, as
// a JSON message on a JetStream stream of the node's own, for whoever
// watches what happens as it happens (internal/sentinel). An event is
// published once it has its sequence number, which is final then; a
// cursor in the database (audit_stream_cursor) says how far the stream
// has acknowledged, so that a publisher that stops, or finds the bus
// down, catches up from the database and skips nothing. Each message's
// Nats-Msg-Id is the node and the sequence number, so that the stream
// drops a republication (after a crash between the stream's
// acknowledgement and the cursor's update, or by another replica) within
// its duplicate window; consumers skip what they have seen by sequence
// number beyond it.

// StreamName is the JetStream stream of the ledger's events, in the
// node's own JetStream domain.
const StreamName = "CHANCERY_LEDGER"

// streamSubjectPrefix starts the subject of a node's events.
const streamSubjectPrefix = "chancery.ledger."

// Stream publishing's tuning.
const (
	streamBatch     = 1000                // events read and published per round
	streamPoll      = time.Second         // rounds without a wake-up: events other replicas integrated
	streamMaxAge    = 14 * 24 * time.Hour // older events are read from the database
	streamDupWindow = 10 * time.Minute
	streamRetryMax  = 30 * time.Second
)

// StreamSubject is the subject node's ledger events are published on. A
// node id may hold characters a subject token may not; those become '_'.
func StreamSubject(node string) string {
	return streamSubjectPrefix + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, node)
}

// StreamMsgID is the Nats-Msg-Id of node's event seq.
func StreamMsgID(node string, seq uint64) string { return node + ":" + strconv.FormatUint(seq, 10) }

// EnsureStream creates the ledger's stream for node in js, or updates it
// to this configuration.
func EnsureStream(ctx context.Context, js jetstream.JetStream, node string) (jetstream.Stream, error) {
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "Chancery audit ledger: integrated events in sequence order",
		Subjects:    []string{StreamSubject(node)},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      streamMaxAge,
		Duplicates:  streamDupWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("audit: create stream %s: %w", StreamName, err)
	}
	return s, nil
}

// Integrated returns a channel that receives (coalesced) whenever this
// process has integrated events, for a publisher to wake on.
func (l *Ledger) Integrated() <-chan struct{} { return l.integrated }

// noteIntegrated wakes whoever waits on Integrated.
func (l *Ledger) noteIntegrated() {
	select {
	case l.integrated <- struct{}{}:
	default:
	}
}

// PublishStream publishes the ledger's integrated events to node's
// subject in js, from the stored cursor on, until ctx ends; then it
// returns nil. A failure (the bus down, the database busy) is logged and
// retried with a growing pause; nothing is skipped. Run it in one
// goroutine per process: replicas sharing a database may each run it,
// the stream dropping the duplicates.
func (l *Ledger) PublishStream(ctx context.Context, js jetstream.JetStream, node string) error {
	subject := StreamSubject(node)
	pause := time.Duration(0)
	ensured := false
	t := time.NewTicker(streamPoll)
	defer t.Stop()
	for {
		if pause > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(pause):
			}
		}
		var err error
		if !ensured {
			_, err = EnsureStream(ctx, js, node)
			ensured = err == nil
		}
		n := 0
		if err == nil {
			n, err = l.publishRound(ctx, js, node, subject)
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case publishingElsewhere(err):
			// Another replica is publishing the same events at this very
			// moment (a clustered stream says so rather than acknowledging
			// a duplicate): not a failure; read the cursor again shortly.
			pause = 250 * time.Millisecond
			l.log.Debug("audit: another replica is publishing the ledger's stream", "err", err)
			continue
		case err != nil:
			pause = min(max(2*pause, 250*time.Millisecond), streamRetryMax)
			l.log.Warn("audit: publish the ledger's stream (retried)", "err", err, "retry_in", pause)
			continue
		}
		pause = 0
		if n == streamBatch {
			continue // more are waiting
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.integrated:
		case <-t.C:
		}
	}
}

// publishingElsewhere reports whether err is a clustered stream's refusal
// of a message whose id another publisher's copy is being stored under
// (JetStream's error 10158, "duplicate message id is in process").
func publishingElsewhere(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jsDuplicateInProcess
}

// jsDuplicateInProcess is JetStream's JSStreamDuplicateMessageConflict.
const jsDuplicateInProcess jetstream.ErrorCode = 10158

// publishRound publishes up to streamBatch events from the cursor on,
// waits for the stream's acknowledgements and moves the cursor past them.
// It returns how many it published.
func (l *Ledger) publishRound(ctx context.Context, js jetstream.JetStream, node, subject string) (int, error) {
	next, err := streamCursor(ctx, l.db, subject)
	if err != nil {
		return 0, err
	}
	events, err := l.EventsFrom(ctx, next, streamBatch)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	acks := make([]jetstream.PubAckFuture, 0, len(events))
	for i := range events {
		data, err := json.Marshal(&events[i])
		if err != nil {
			return 0, fmt.Errorf("audit: encode event %d for the stream: %w", events[i].Seq, err)
		}
		msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, StreamMsgID(node, events[i].Seq))
		f, err := js.PublishMsgAsync(msg)
		if err != nil {
			return 0, fmt.Errorf("audit: publish event %d: %w", events[i].Seq, err)
		}
		acks = append(acks, f)
	}
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for i, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return 0, fmt.Errorf("audit: the stream refused event %d: %w", events[i].Seq, err)
		case <-timeout.C:
			return 0, fmt.Errorf("audit: the stream did not acknowledge event %d within 10s", events[i].Seq)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	end := events[len(events)-1].Seq + 1
	if err := setStreamCursor(ctx, l.db, subject, end, l.now()); err != nil {
		return 0, err
	}
	return len(events), nil
}

// EventsFrom returns the integrated events with sequence numbers from
// from on, in order and without a gap, at most limit of them (fewer at
// the ledger's end). Archived events are read back from the archive.
func (l *Ledger) EventsFrom(ctx context.Context, from uint64, limit int) ([]Event, error) {
	size, _, err := l.Head(ctx)
	if err != nil || from >= size || limit <= 0 {
		return nil, err
	}
	end := min(size, from+uint64(limit))
	rows, err := l.db.QueryContext(ctx, l.db.Rebind("SELECT "+selectEventColumns+" FROM audit_events WHERE seq >= ? AND seq < ? ORDER BY seq"),
		int64(from), int64(end))
	if err != nil {
		return nil, fmt.Errorf("audit: read events from %d: %w", from, err)
	}
	defer rows.Close()
	out := make([]Event, 0, end-from)
	for rows.Next() {
		var r eventRow
		if err := scanEvent(rows, &r); err != nil {
			return nil, fmt.Errorf("audit: read events from %d: %w", from, err)
		}
		if r.err != nil {
			return nil, fmt.Errorf("audit: read event %d: %w; run audit verify", r.ev.Seq, r.err)
		}
		// An archived stretch leaves a gap: read it back first.
		for want := from + uint64(len(out)); want < r.ev.Seq; want++ {
			e, err := l.Event(ctx, want)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		out = append(out, r.ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: read events from %d: %w", from, err)
	}
	for want := from + uint64(len(out)); want < end; want++ {
		e, err := l.Event(ctx, want)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// streamCursor is the first sequence number subject's stream has not
// acknowledged; 0 before the first.
func streamCursor(ctx context.Context, db *store.DB, subject string) (uint64, error) {
	var next int64
	err := db.QueryRowContext(ctx, db.Rebind("SELECT next_seq FROM audit_stream_cursor WHERE subject = ?"), subject).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("audit: read the stream's cursor: %w", err)
	}
	return uint64(next), nil
}

// setStreamCursor moves subject's cursor forward to next; never back,
// when another replica has published further.
func setStreamCursor(ctx context.Context, db *store.DB, subject string, next uint64, now time.Time) error {
	_, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO audit_stream_cursor (subject, next_seq, updated_us) VALUES (?, ?, ?)
		ON CONFLICT (subject) DO UPDATE SET next_seq = excluded.next_seq, updated_us = excluded.updated_us
		WHERE audit_stream_cursor.next_seq < excluded.next_seq`), subject, int64(next), store.Micros(now))
	if err != nil {
		return fmt.Errorf("audit: move the stream's cursor: %w", err)
	}
	return nil
}
