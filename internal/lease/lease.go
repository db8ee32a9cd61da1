// Package lease runs a background job on one replica of a cluster at a
// time, with failover.
//
// Several headquarters replicas share one database. Work that must not
// run twice at once (publishing checkpoints, sending the mail outbox,
// escalating overdue dossiers, pulling the national portal) takes a
// lease: a row of the leases table naming its holder, renewed by the
// holder well before it expires. Another replica takes the job over only
// once the lease has expired (the holder died, hung or lost the
// database) or was released (the holder stopped in order). Each new
// holding gets a higher fence number, so that a holder that lost its
// lease without noticing can be told from the current one (Held checks
// it inside a transaction).
//
// The lease bounds the overlap, it does not exclude it: a holder whose
// renewal failed stops its job at the latest when its lease expires by
// its own clock, so clocks must agree within a fraction of the lease's
// time (chancery doctor checks the skew). Jobs that must never overlap
// check Held in the transaction of their work.
package lease

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"chancery/internal/store"
)

// DefaultTTL is how long a lease lasts unrenewed: a job stopped by a
// killed replica is taken over at most this long after.
const DefaultTTL = 15 * time.Second

// Lease is one holding of a named lease.
type Lease struct {
	Name   string
	Holder string
	// Fence grows with every new holding of the name.
	Fence   int64
	Expires time.Time
}

// Acquire takes the lease name for holder until now+ttl, when it is free,
// expired or already holder's (then it is renewed, keeping its fence).
// It reports false, with no error, when another holder's lease runs.
func Acquire(ctx context.Context, db *store.DB, name, holder string, ttl time.Duration, now time.Time) (Lease, bool, error) {
	at, exp := now.UnixMicro(), now.Add(ttl).UnixMicro()
	var fence int64
	err := db.QueryRowContext(ctx, db.Rebind(`INSERT INTO leases (name, holder, fence, acquired_us, expires_us) VALUES (?, ?, 1, ?, ?)
		ON CONFLICT (name) DO UPDATE SET
			fence = CASE WHEN leases.holder = excluded.holder AND leases.expires_us > excluded.acquired_us
				THEN leases.fence ELSE leases.fence + 1 END,
			acquired_us = CASE WHEN leases.holder = excluded.holder AND leases.expires_us > excluded.acquired_us
				THEN leases.acquired_us ELSE excluded.acquired_us END,
			holder = excluded.holder, expires_us = excluded.expires_us
		WHERE leases.holder = excluded.holder OR leases.expires_us <= excluded.acquired_us
		RETURNING fence`), name, holder, at, exp).Scan(&fence)
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, false, nil
	}
	if err != nil {
		return Lease{}, false, fmt.Errorf("lease: acquire %q: %w", name, err)
	}
	return Lease{Name: name, Holder: holder, Fence: fence, Expires: time.UnixMicro(exp).UTC()}, true, nil
}

// Renew extends l until now+ttl. It reports false when l is no longer
// held: it expired, or another holder took it.
func Renew(ctx context.Context, db *store.DB, l *Lease, ttl time.Duration, now time.Time) (bool, error) {
	exp := now.Add(ttl).UnixMicro()
	res, err := db.ExecContext(ctx, db.Rebind(`UPDATE leases SET expires_us = ?
		WHERE name = ? AND holder = ? AND fence = ? AND expires_us > ?`), exp, l.Name, l.Holder, l.Fence, now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("lease: renew %q: %w", l.Name, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	l.Expires = time.UnixMicro(exp).UTC()
	return true, nil
}

// Release gives l up at once, so that another replica takes the job over
// without waiting for it to expire. Releasing a lease no longer held
// does nothing.
func Release(ctx context.Context, db *store.DB, l Lease) error {
	_, err := db.ExecContext(ctx, db.Rebind(`UPDATE leases SET expires_us = 0 WHERE name = ? AND holder = ? AND fence = ?`),
		l.Name, l.Holder, l.Fence)
	if err != nil {
		return fmt.Errorf("lease: release %q: %w", l.Name, err)
	}
	return nil
}

// Held reports whether l is still held at now, read through q: inside a
// job's transaction, it fences off a holder that lost the lease.
func Held(ctx context.Context, q store.Queryer, l Lease, now time.Time) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT 1 FROM leases WHERE name = ? AND holder = ? AND fence = ? AND expires_us > ?`),
		l.Name, l.Holder, l.Fence, now.UnixMicro()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lease: check %q: %w", l.Name, err)
	}
	return true, nil
}

// Options configure a Runner. Every zero field takes its default.
type Options struct {
	// Holder names this replica in the leases it holds; if empty, the
	// host name, the process id and a random suffix.
	Holder string
	// TTL is how long a lease lasts unrenewed; if zero, DefaultTTL. It is
	// renewed every TTL/3, and tried for every TTL/3 while another holds it.
	TTL time.Duration
	// Now is the clock; if nil, time.Now.
	Now func() time.Time
	// Log receives the changes of holder; if nil, slog.Default().
	Log *slog.Logger
}

// Runner runs jobs under leases of one database.
type Runner struct {
	db   *store.DB
	opts Options
}

// NewRunner returns a Runner taking leases in db.
func NewRunner(db *store.DB, opts Options) *Runner {
	if opts.Holder == "" {
		host, _ := os.Hostname()
		opts.Holder = host + ":" + strconv.Itoa(os.Getpid()) + ":" + rand.Text()[:8]
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Runner{db: db, opts: opts}
}

// Holder returns the name this Runner holds leases under.
func (r *Runner) Holder() string { return r.opts.Holder }

// Run runs job while holding the lease name, until ctx ends. It waits
// for the lease, runs job with a context that ends when the lease is
// lost (or ctx ends), and waits for the lease again if it was lost; when
// job returns by itself, or ctx ends, it releases the lease. Run returns
// when ctx ends or job returned.
func (r *Runner) Run(ctx context.Context, name string, job func(ctx context.Context, l Lease)) {
	every := r.opts.TTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		l, ok, err := Acquire(ctx, r.db, name, r.opts.Holder, r.opts.TTL, r.opts.Now())
		if err != nil && ctx.Err() == nil {
			r.opts.Log.Warn("lease: cannot take a job's lease; trying again", "job", name, "err", err)
		}
		if ok && r.hold(ctx, l, job, t.C) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// hold runs job under l, renewing l on each tick. It reports true when
// Run is done (ctx ended or job returned), false when the lease was lost.
func (r *Runner) hold(ctx context.Context, l Lease, job func(context.Context, Lease), tick <-chan time.Time) bool {
	r.opts.Log.Info("lease: running a job on this replica", "job", l.Name, "holder", l.Holder, "fence", l.Fence)
	jctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	held := l // the job's copy: the loop below renews l
	go func() {
		defer close(done)
		job(jctx, held)
	}()
	stop := func() {
		cancel()
		<-done
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer rcancel()
		if err := Release(rctx, r.db, l); err != nil {
			r.opts.Log.Warn("lease: cannot release a job's lease; another replica takes it over when it expires", "job", l.Name, "err", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			stop()
			return true
		case <-done:
			stop()
			return true
		case <-tick:
		}
		now := r.opts.Now()
		ok, err := Renew(ctx, r.db, &l, r.opts.TTL, now)
		switch {
		case ok:
			continue
		case err != nil && now.Before(l.Expires.Add(-r.opts.TTL/3)):
			// The database may be back before the lease runs out.
			r.opts.Log.Warn("lease: cannot renew a job's lease; trying again", "job", l.Name, "err", err)
			continue
		case ctx.Err() != nil:
			stop()
			return true
		}
		r.opts.Log.Warn("lease: lost a job's lease; stopping it here", "job", l.Name, "fence", l.Fence, "err", err)
		cancel()
		<-done
		return false
	}
}
