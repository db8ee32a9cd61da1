package app

import (
	"context"
	"flag"
	"time"

	"chancery/internal/errs"
	"chancery/internal/forecast"
	"chancery/internal/identity"
	"chancery/internal/procedures"
	"chancery/internal/web"
)

// openForecast builds the forecasting service over the dossiers and the
// catalogue.
func (a *App) openForecast() error {
	var err error
	a.Forecast, err = forecast.NewService(forecast.Options{DB: a.DB, Directory: a.Identity, Catalogue: a.Procedures.Catalogue()})
	return err
}

// forecastRoutes adds the forecast page.
func (a *App) forecastRoutes(rt *web.Router, shell *web.Shell) error {
	h, err := forecast.NewHandler(shell, a.Forecast)
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}

// seedDemoForecast stores the demo's weekly history.
func (a *App) seedDemoForecast(ctx context.Context) error {
	return forecast.SeedDemo(ctx, a.DB, a.Identity, time.Now())
}

// forecastStorage registers the storage flags on an insight subcommand's
// flag set and returns the function that opens the forecasting service
// over the database they name (read only: it records nothing).
func forecastStorage(fs *flag.FlagSet) func(context.Context) (*forecast.Service, func() error, error) {
	open := ledgerStorage(fs)
	return func(ctx context.Context) (*forecast.Service, func() error, error) {
		st, closeAll, err := open(ctx)
		if err != nil {
			return nil, nil, err
		}
		cat, err := procedures.BuiltinCatalogue()
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		svc, err := forecast.NewService(forecast.Options{DB: st.DB, Directory: identity.NewService(st.DB, st.Ledger, nil), Catalogue: cat})
		if err != nil {
			closeAll()
			return nil, nil, errs.Usage("", "%v", err)
		}
		return svc, closeAll, nil
	}
}
