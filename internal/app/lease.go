package app

import (
	"context"
	"errors"
	"time"

	"chancery/internal/errs"
	"chancery/internal/lease"
)

// onOne returns job to be spawned so that it runs on one replica of the
// cluster at a time, under the lease name (internal/lease): the work
// every replica would otherwise do twice (checkpoints, the national
// portal's sync, escalations, notifying alerts, the configuration's
// renewal). Another replica takes it over within lease.DefaultTTL of the
// holder's death, at once when the holder stops in order. A node without
// replicas takes every lease at once.
func (a *App) onOne(name string, job func(context.Context)) func(context.Context) {
	return func(ctx context.Context) {
		a.leases.Run(ctx, name, func(ctx context.Context, _ lease.Lease) { job(ctx) })
	}
}

// every calls fn at once and then every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// inboxRetry paces awaitArrivals' passes after a failed one.
const inboxRetry = time.Second

// awaitArrivals runs pass, which reads inboxes of this node, at once,
// then whenever this process's exchange delivers messages (arrived is
// Node.Arrived), every inboxRetry while pass fails, and every safety for
// what another replica of headquarters received (it wakes only itself),
// until ctx ends. A node at rest runs pass only every safety.
func awaitArrivals(ctx context.Context, arrivals func() <-chan struct{}, safety time.Duration, pass func() error) {
	tick := time.NewTicker(safety)
	defer tick.Stop()
	for {
		// Taken before the pass, so what commits during it wakes the next.
		arrived := arrivals()
		var retry <-chan time.Time
		if pass() != nil {
			retry = time.After(inboxRetry)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-arrived:
		case <-retry:
		}
	}
}

// takeLatestConf installs the latest global configuration the registry
// published, if this replica does not hold it yet.
func (a *App) takeLatestConf(ctx context.Context) {
	signed, err := a.Registry.Latest(ctx)
	if err == nil {
		err = a.Node.Install(ctx, signed)
	}
	if err != nil && !errors.Is(err, errs.ErrNotFound) && !errors.Is(err, errs.ErrConflict) && ctx.Err() == nil {
		a.log.Error("exchange: take up the latest global configuration", "err", err)
	}
}
