package app

import (
	"context"
	"flag"
	"time"

	"chancery/internal/analytics"
	"chancery/internal/web"
)

// checkInterval is how often the catalogue's quality checks run.
const checkInterval = time.Hour

// openAnalytics builds the data repository: the catalogue, the analytics
// store's query API and its feeder from the ledger.
func (a *App) openAnalytics() error {
	a.Catalogue = analytics.NewCatalogue(a.DB, a.Audit, nil)
	a.Analytics = analytics.NewStore(a.DB)
	var err error
	a.feeder, err = analytics.NewFeeder(analytics.FeederOptions{DB: a.DB, Ledger: a.Audit, Logger: a.log})
	return err
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

// runAnalytics registers Chancery's own datasets, feeds the analytics
// store (catching up from its cursor first) and runs the quality checks
// at start and every checkInterval, until ctx ends.
func (a *App) runAnalytics(spawn func(func(context.Context))) {
	spawn(func(ctx context.Context) {
		a.feeder.Run(ctx) //nolint:errcheck // Run logs its own errors and returns nil
	})
	spawn(func(ctx context.Context) {
		if err := a.Catalogue.RegisterBuiltins(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("analytics: register Chancery's datasets", "err", err)
		}
		t := time.NewTicker(checkInterval)
		defer t.Stop()
		for {
			if err := a.Catalogue.RunAllChecks(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("analytics: run the quality checks (retried)", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
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
