package app

import (
	"context"
	"flag"
	"fmt"
	"time"

	"chancery/internal/analytics"
	"chancery/internal/web"
)

// checkInterval is how often the catalogue's quality checks run.
const checkInterval = time.Hour

// feedPoll is how often the feeder looks in the ledger for new events:
// the ledger integrates them every second (audit.DefaultIntegrateInterval),
// so a look every 200 ms (the feeder's default) mostly finds nothing,
// and a node at rest made five reads a second for it.
const feedPoll = time.Second

// openAnalytics builds the data repository: the catalogue, with
// Chancery's own datasets registered, the analytics store's query API
// and its feeder from the ledger.
func (a *App) openAnalytics(ctx context.Context) error {
	a.Catalogue = analytics.NewCatalogue(a.DB, a.Audit, nil)
	a.Analytics = analytics.NewStore(a.DB)
	var err error
	if a.feeder, err = analytics.NewFeeder(analytics.FeederOptions{DB: a.DB, Ledger: a.Audit, Logger: a.log, Poll: feedPoll}); err != nil {
		return err
	}
	return a.Catalogue.RegisterBuiltins(ctx)
}

// seedDemoAnalytics registers the demo's outside datasets and runs the
// checks.
func (a *App) seedDemoAnalytics(ctx context.Context) error {
	officer := func(username string) (analytics.DemoOfficer, error) {
		m, err := a.Identity.StaffByUsername(ctx, username)
		if err != nil {
			return analytics.DemoOfficer{}, fmt.Errorf("demo account %s: %w", username, err)
		}
		return analytics.DemoOfficer{Subject: m.Subject(), Username: m.Username}, nil
	}
	consular, err := officer("consular.officer")
	if err != nil {
		return err
	}
	paris, err := officer("paris.officer")
	if err != nil {
		return err
	}
	return analytics.SeedDemo(ctx, a.Catalogue, consular, paris, time.Now())
}

// analyticsRoutes adds the catalogue's pages and the analytics API.
func (a *App) analyticsRoutes(rt *web.Router, shell *web.Shell) error {
	h, err := analytics.NewHandler(shell, a.Catalogue, a.Analytics)
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}

// runAnalytics feeds the analytics store (catching up from its cursor
// first) and runs the quality checks a minute after start and every
// checkInterval, until ctx ends.
func (a *App) runAnalytics(spawn func(func(context.Context))) {
	spawn(func(ctx context.Context) {
		a.feeder.Run(ctx) //nolint:errcheck // Run logs its own errors and returns nil
	})
	spawn(func(ctx context.Context) {
		// The first run waits a minute, for the start's own work (demo
		// data, the feeder's catch-up) to be in what it measures.
		t := time.NewTimer(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := a.Catalogue.RunAllChecks(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("analytics: run the quality checks (retried)", "err", err)
			}
			t.Reset(checkInterval)
		}
	})
}

// analyticsStorage registers the storage flags on an analytics
// subcommand's flag set and returns the function that opens the feeder
// and the catalogue over the database they name.
func analyticsStorage(fs *flag.FlagSet) func(context.Context) (*analytics.Feeder, *analytics.Catalogue, func() error, error) {
	open := ledgerStorage(fs)
	return func(ctx context.Context) (*analytics.Feeder, *analytics.Catalogue, func() error, error) {
		st, closeAll, err := open(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		f, err := analytics.NewFeeder(analytics.FeederOptions{DB: st.DB, Ledger: st.Ledger})
		if err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		return f, analytics.NewCatalogue(st.DB, st.Ledger, nil), closeAll, nil
	}
}
