package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"chancery/internal/store"
)

// The limits on guessing live in the database (auth_limits, auth_spray),
// so that every replica of headquarters sees the failures counted by the
// others: an attacker spreading guesses over replicas behind the load
// balancer gets no more of them. No limit locks an account: one that did
// would let anyone who knows a username keep its owner out. Guessing is
// slowed per (account, address) and per address instead, and guessing at
// one account from many addresses raises an alert.
//
// A sign-in that goes through costs one read of the limits (its address's
// row and its pair's, in one query) and, only if the pair had failed
// before, one delete; failures cost a write or two. Rows whose time has
// passed count for nothing and are deleted, at most once a purgeInterval
// per process, so the tables hold only live limits.

// purgeInterval is how often a process deletes the limits whose time
// has passed.
const purgeInterval = time.Minute

// limits is the database the limits are kept in.
type limits struct {
	db        *store.DB
	lastPurge atomic.Int64 // unix microseconds of the last purge
}

// limitRow is a row of auth_limits.
type limitRow struct {
	fails                 int64
	start, until, expires time.Time
}

// read returns the live rows of keys, by key; a row whose expiry has
// passed at now is left out, as if absent.
func (l *limits) read(ctx context.Context, now time.Time, keys ...string) (map[string]limitRow, error) {
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ")
	args := make([]any, 0, len(keys)+1)
	for _, k := range keys {
		args = append(args, k)
	}
	args = append(args, now.UnixMicro())
	rows, err := l.db.QueryContext(ctx, l.db.Rebind(`SELECT key, fails, start_us, until_us, expires_us FROM auth_limits
		WHERE key IN (`+ph+`) AND expires_us > ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("auth: read the limits on sign-in: %w", err)
	}
	defer rows.Close()
	out := make(map[string]limitRow, len(keys))
	for rows.Next() {
		var k string
		var r limitRow
		var start, until, expires int64
		if err := rows.Scan(&k, &r.fails, &start, &until, &expires); err != nil {
			return nil, fmt.Errorf("auth: read the limits on sign-in: %w", err)
		}
		r.start, r.until, r.expires = time.UnixMicro(start).UTC(), time.UnixMicro(until).UTC(), time.UnixMicro(expires).UTC()
		out[k] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("auth: read the limits on sign-in: %w", err)
	}
	return out, nil
}

// count adds a failure to key's row, starting the row afresh (one
// failure, start now, expiring at now+life) when it is absent or its
// expiry has passed; a live row keeps its start and expiry unless
// renew, which moves both to now. It returns the row as it now is.
func (l *limits) count(ctx context.Context, q store.Queryer, key string, life time.Duration, renew bool, now time.Time) (limitRow, error) {
	keep := "auth_limits.start_us"
	keepExp := "auth_limits.expires_us"
	if renew {
		keep, keepExp = "excluded.start_us", "excluded.expires_us"
	}
	var r limitRow
	var start, until, expires int64
	err := q.QueryRowContext(ctx, q.Rebind(`INSERT INTO auth_limits (key, fails, start_us, until_us, expires_us) VALUES (?, 1, ?, 0, ?)
		ON CONFLICT (key) DO UPDATE SET
			fails = CASE WHEN auth_limits.expires_us <= excluded.start_us THEN 1 ELSE auth_limits.fails + 1 END,
			until_us = CASE WHEN auth_limits.expires_us <= excluded.start_us THEN 0 ELSE auth_limits.until_us END,
			start_us = CASE WHEN auth_limits.expires_us <= excluded.start_us THEN excluded.start_us ELSE `+keep+` END,
			expires_us = CASE WHEN auth_limits.expires_us <= excluded.start_us THEN excluded.expires_us ELSE `+keepExp+` END
		RETURNING fails, start_us, until_us, expires_us`), key, now.UnixMicro(), now.Add(life).UnixMicro()).
		Scan(&r.fails, &start, &until, &expires)
	if err != nil {
		return r, fmt.Errorf("auth: count a failure against the limits: %w", err)
	}
	r.start, r.until, r.expires = time.UnixMicro(start).UTC(), time.UnixMicro(until).UTC(), time.UnixMicro(expires).UTC()
	return r, nil
}

// setUntil stores until on key's row.
func (l *limits) setUntil(ctx context.Context, q store.Queryer, key string, until time.Time) error {
	if _, err := q.ExecContext(ctx, q.Rebind(`UPDATE auth_limits SET until_us = ? WHERE key = ?`), until.UnixMicro(), key); err != nil {
		return fmt.Errorf("auth: store a wait: %w", err)
	}
	return nil
}

// forget deletes key's row.
func (l *limits) forget(ctx context.Context, key string) error {
	if _, err := l.db.ExecContext(ctx, l.db.Rebind(`DELETE FROM auth_limits WHERE key = ?`), key); err != nil {
		return fmt.Errorf("auth: forget failed sign-ins: %w", err)
	}
	return nil
}

// purge deletes the rows whose time has passed, unless this process did
// within purgeInterval. It is called before a failure is counted, outside
// any transaction (SQLite has one writer). The spray rows of an ended window are kept a day,
// which covers any alert window. A failed purge is tried again next time.
func (l *limits) purge(ctx context.Context, now time.Time) {
	last := l.lastPurge.Load()
	if now.UnixMicro()-last < purgeInterval.Microseconds() || !l.lastPurge.CompareAndSwap(last, now.UnixMicro()) {
		return
	}
	if _, err := l.db.ExecContext(ctx, l.db.Rebind(`DELETE FROM auth_limits WHERE expires_us <= ?`), now.UnixMicro()); err != nil {
		l.lastPurge.Store(last)
		return
	}
	l.db.ExecContext(ctx, l.db.Rebind(`DELETE FROM auth_spray WHERE start_us <= ?`), now.Add(-pairMemory).UnixMicro()) //nolint:errcheck // tried again next purge
}

// addressLimiter counts failures per client address in fixed windows, so
// one address cannot guess passwords across many accounts (the pair
// limiter slows guessing at one). An address that used up its failures is
// refused until its window ends: a short, bounded time. The mails sent
// per client and per recipient are counted the same way.
type addressLimiter struct {
	*limits
	prefix string // of its keys in auth_limits
	limit  int
	window time.Duration
}

func newAddressLimiter(l *limits, prefix string, limit int, window time.Duration) *addressLimiter {
	return &addressLimiter{limits: l, prefix: prefix, limit: limit, window: window}
}

// key is addr's key in auth_limits.
func (l *addressLimiter) key(addr string) string { return l.prefix + addr }

// blockedBy reports whether addr's row r (ok: present) blocks it, and
// when its window ends.
func (l *addressLimiter) blockedBy(r limitRow, ok bool) (time.Time, bool) {
	return r.expires, ok && r.fails >= int64(l.limit)
}

// blocked reports whether addr has used up its failures in the current
// window, and when the window ends. An empty address is never blocked:
// callers that know no address are slowed per account and name alone.
func (l *addressLimiter) blocked(ctx context.Context, addr string, now time.Time) (time.Time, bool, error) {
	if addr == "" {
		return time.Time{}, false, nil
	}
	rows, err := l.read(ctx, now, l.key(addr))
	if err != nil {
		return time.Time{}, false, err
	}
	r, ok := rows[l.key(addr)]
	until, blocked := l.blockedBy(r, ok)
	return until, blocked, nil
}

// fail records a failure from addr. It reports whether this failure used
// up the address's allowance, and until when the address is then
// blocked: true once per window, so the block is recorded once.
func (l *addressLimiter) fail(ctx context.Context, addr string, now time.Time) (time.Time, bool, error) {
	if addr == "" {
		return time.Time{}, false, nil
	}
	l.purge(ctx, now)
	r, err := l.count(ctx, l.db, l.key(addr), l.window, false, now)
	if err != nil {
		return time.Time{}, false, err
	}
	return r.expires, r.fails == int64(l.limit), nil
}

// pairMemory is how long the pair limiter remembers the failures of a
// pair that has not failed since: a day, after which it starts afresh.
const pairMemory = 24 * time.Hour

// pairLimiter slows guessing at one account from one address: after
// `after` failures in a row, the pair must wait before its next attempt,
// `delay` after the first further failure and twice as long after each
// one after that, up to maxDelay. The account's owner, at another
// address, is not slowed at all; a success from the pair forgets its
// failures.
type pairLimiter struct {
	*limits
	after           int
	delay, maxDelay time.Duration
}

func newPairLimiter(l *limits, after int, delay, maxDelay time.Duration) *pairLimiter {
	return &pairLimiter{limits: l, after: after, delay: delay, maxDelay: maxDelay}
}

// pairKey is the limiter's key of sign-ins as name (a username or an
// e-mail address, in any case) of kind from address. It is a digest, so a
// long name costs no more room than a short one, and it is made from the
// name rather than the account, so a name no account has is slowed just
// like one that has, and the slowing tells nothing about which accounts
// exist.
func pairKey(kind, name, address string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + strings.ToLower(strings.TrimSpace(name)) + "\x00" + address))
	return "pair:" + hex.EncodeToString(sum[:])
}

// blockedBy reports whether the pair's row r (ok: present) makes it wait
// at now, and until when.
func (l *pairLimiter) blockedBy(r limitRow, ok bool, now time.Time) (time.Time, bool) {
	return r.until, ok && now.Before(r.until)
}

// blocked reports whether the pair must still wait, and until when.
func (l *pairLimiter) blocked(ctx context.Context, key string, now time.Time) (time.Time, bool, error) {
	rows, err := l.read(ctx, now, key)
	if err != nil {
		return time.Time{}, false, err
	}
	r, ok := rows[key]
	until, blocked := l.blockedBy(r, ok, now)
	return until, blocked, nil
}

// fail records a failed sign-in of the pair. It reports whether the pair
// must now wait, and until when, with the number of failures in a row.
func (l *pairLimiter) fail(ctx context.Context, key string, now time.Time) (until time.Time, fails int, slowed bool, err error) {
	l.purge(ctx, now)
	r, err := l.count(ctx, l.db, key, pairMemory, true, now)
	if err != nil {
		return time.Time{}, 0, false, err
	}
	if r.fails < int64(l.after) {
		return r.until, int(r.fails), false, nil
	}
	until = now.Add(l.wait(int(r.fails) - l.after + 1))
	if err := l.setUntil(ctx, l.db, key, until); err != nil {
		return time.Time{}, 0, false, err
	}
	return until, int(r.fails), true, nil
}

// wait returns how long a pair waits after its nth failure past the
// allowance: delay, doubling with each, up to maxDelay.
func (l *pairLimiter) wait(nth int) time.Duration {
	d := l.delay
	for i := 1; i < nth && d < l.maxDelay; i++ {
		d *= 2
	}
	return min(d, l.maxDelay)
}

// sprayWatch notices failed sign-ins to one account from many addresses:
// guessing spread over a botnet, or one password tried on many accounts,
// which the per-address limits do not slow. It only tells: slowing the
// account for everyone would be the lockout again. An account's window
// is its "spray:" row in auth_limits (until_us 1 once alerted); the
// addresses it failed from in the window are rows of auth_spray, at most
// the alert's number of them, since none is added once it was raised.
type sprayWatch struct {
	*limits
	addresses int // how many different addresses raise the alert
	window    time.Duration
}

func newSprayWatch(l *limits, addresses int, window time.Duration) *sprayWatch {
	return &sprayWatch{limits: l, addresses: addresses, window: window}
}

// fail records a failed sign-in to account from addr. It reports true
// once per window, on whichever replica counts the failure that brings
// the window's addresses to the alert's number.
func (w *sprayWatch) fail(ctx context.Context, account, addr string, now time.Time) (bool, error) {
	key := "spray:" + account
	alert := false
	w.purge(ctx, now)
	err := w.db.InTx(ctx, func(tx *store.Tx) error {
		alert = false
		r, err := w.count(ctx, tx, key, w.window, false, now)
		if err != nil || r.until.UnixMicro() != 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO auth_spray (account, address, start_us) VALUES (?, ?, ?)
			ON CONFLICT (account, address) DO UPDATE SET start_us = excluded.start_us`), account, addr, r.start.UnixMicro()); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, tx.Rebind(`SELECT count(*) FROM auth_spray WHERE account = ? AND start_us = ?`),
			account, r.start.UnixMicro()).Scan(&n); err != nil {
			return err
		}
		if n < w.addresses {
			return nil
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE auth_limits SET until_us = 1 WHERE key = ? AND until_us = 0`), key)
		if err != nil {
			return err
		}
		changed, err := res.RowsAffected()
		alert = changed == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("auth: watch failures from many addresses: %w", err)
	}
	return alert, nil
}
