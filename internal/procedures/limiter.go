package procedures

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"chancery/internal/store"
)

// keyedLimiter allows each key (a client address, an account) a burst of
// attempts, refilled at a steady rate. The buckets live in the database
// (procedures_limits), so that every replica of headquarters behind the
// load balancer counts the same attempts: spreading them over replicas
// gains nothing. A bucket is one row holding its theoretical arrival time
// (GCRA): the time at which it is full again. Taking an attempt is one
// atomic upsert that moves that time on by every unless it would then lie
// more than burst*every ahead of now; two replicas taking at once are
// ordered by the row. Rows whose time has passed hold a full bucket,
// count for nothing, and are deleted at most once a limitPurge per
// process, so the table holds only busy keys. It is safe for concurrent
// use.
type keyedLimiter struct {
	db     *store.DB
	prefix string        // of its keys in procedures_limits
	every  time.Duration // one attempt comes back per every
	burst  int

	lastPurge atomic.Int64 // unix microseconds of this process's last purge
}

// limitPurge is how often a process deletes the full buckets.
const limitPurge = time.Minute

func newKeyedLimiter(db *store.DB, prefix string, every time.Duration, burst int) *keyedLimiter {
	return &keyedLimiter{db: db, prefix: prefix, every: every, burst: burst}
}

// allow reports whether key may make an attempt at now, and takes it; if
// not, it returns how long until the next one is allowed.
func (l *keyedLimiter) allow(ctx context.Context, key string, now time.Time) (bool, time.Duration, error) {
	return l.take(ctx, key, now)
}

// take takes one of key's attempts at now, or reports how long until the
// next one is allowed. The caller may give the attempt back (giveBack)
// when it came to nothing.
func (l *keyedLimiter) take(ctx context.Context, key string, now time.Time) (bool, time.Duration, error) {
	l.purge(ctx, now)
	n, e, b := now.UnixMicro(), l.every.Microseconds(), int64(l.burst)*l.every.Microseconds()
	var tat int64
	err := l.db.QueryRowContext(ctx, l.db.Rebind(`INSERT INTO procedures_limits (key, tat_us) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET
			tat_us = CASE WHEN procedures_limits.tat_us > ? THEN procedures_limits.tat_us ELSE ? END + ?
		WHERE CASE WHEN procedures_limits.tat_us > ? THEN procedures_limits.tat_us ELSE ? END + ? <= ?
		RETURNING tat_us`), l.prefix+key, n+e, n, n, e, n, n, e, n+b).Scan(&tat)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, 0, fmt.Errorf("procedures: take an attempt from the limits: %w", err)
	}
	// Refused: the next attempt comes when the bucket's time is no more
	// than burst*every-every ahead.
	if err := l.db.QueryRowContext(ctx, l.db.Rebind(`SELECT tat_us FROM procedures_limits WHERE key = ?`), l.prefix+key).Scan(&tat); err != nil {
		return false, 0, fmt.Errorf("procedures: read the limits: %w", err)
	}
	wait := time.Duration(tat+e-b-n) * time.Microsecond
	return false, max(wait, time.Microsecond), nil
}

// giveBack returns an attempt taken from key.
func (l *keyedLimiter) giveBack(ctx context.Context, key string) error {
	if _, err := l.db.ExecContext(ctx, l.db.Rebind(`UPDATE procedures_limits SET tat_us = tat_us - ? WHERE key = ?`),
		l.every.Microseconds(), l.prefix+key); err != nil {
		return fmt.Errorf("procedures: give an attempt back to the limits: %w", err)
	}
	return nil
}

// purge deletes the full buckets, unless this process did within
// limitPurge. A failed purge is tried again next time.
func (l *keyedLimiter) purge(ctx context.Context, now time.Time) {
	last := l.lastPurge.Load()
	if now.UnixMicro()-last < limitPurge.Microseconds() || !l.lastPurge.CompareAndSwap(last, now.UnixMicro()) {
		return
	}
	if _, err := l.db.ExecContext(ctx, l.db.Rebind(`DELETE FROM procedures_limits WHERE tat_us <= ?`), now.UnixMicro()); err != nil {
		l.lastPurge.Store(last)
	}
}
