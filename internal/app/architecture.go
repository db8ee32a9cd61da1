package app

import (
	"context"
	"errors"
	"flag"

	"chancery/internal/architecture"
	"chancery/internal/audit"
	"chancery/internal/config"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/web"
)

// openArchitecture builds the architecture repository and brings its
// national reference content up to date.
func (a *App) openArchitecture(ctx context.Context) error {
	var err error
	if a.Architecture, err = architecture.NewService(architecture.Options{DB: a.DB, Recorder: a.Audit, Directory: a.Identity}); err != nil {
		return err
	}
	return a.Architecture.SyncReference(ctx)
}

// architectureRoutes adds the repository's console pages and JSON API.
func (a *App) architectureRoutes(rt *web.Router, shell *web.Shell) error {
	h, err := architecture.NewHandler(shell, a.Architecture)
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}

// seedDemoArchitecture imports the demo ministry's model as the demo's architect.
func (a *App) seedDemoArchitecture(ctx context.Context) error {
	m, err := a.Identity.StaffByUsername(ctx, "architect")
	if err != nil {
		return err
	}
	ctx = audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(m.ID, m.Username), UnitID: m.UnitID})
	return architecture.SeedDemo(ctx, a.Architecture, m.Subject())
}

// architectureStorage registers the storage flags on an architecture
// subcommand's flag set and returns the function that opens the
// repository they name, with the audit ledger and the unit directory.
func architectureStorage(fs *flag.FlagSet) func(context.Context) (*architecture.Service, func() error, error) {
	var cfg config.Config
	envErr := config.Storage(fs, &cfg)
	return func(ctx context.Context) (*architecture.Service, func() error, error) {
		if err := envErr(); err != nil {
			return nil, nil, errs.Usage("", "%v", err)
		}
		db, ring, err := openStorage(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		ledger, err := audit.New(ctx, db, ring, audit.Options{})
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		closeAll := func() error { return errors.Join(ledger.Close(), db.Close()) }
		svc, err := architecture.NewService(architecture.Options{DB: db, Recorder: ledger, Directory: identity.NewService(db, ledger, nil)})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		return svc, closeAll, nil
	}
}
