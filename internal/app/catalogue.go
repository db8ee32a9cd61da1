package app

import (
	"chancery/internal/analytics"
	"chancery/internal/compliance"
	"chancery/internal/dlp"
	"fmt"

	"chancery/internal/architecture"
	"chancery/internal/audit"
	"chancery/internal/auth"
	"chancery/internal/console"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
	"chancery/internal/forecast"
	"chancery/internal/govsim"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/insight"
	"chancery/internal/insight/operations"
	"chancery/internal/mail"
	"chancery/internal/portal"
	"chancery/internal/procedures"
	"chancery/internal/public"
	"chancery/internal/records"
	"chancery/internal/sentinel"
	"chancery/internal/web"
)

// textTables are the tables of user-facing strings that each capability
// keeps beside its pages. A new capability with pages adds its table here
// (TestEveryTableIsWired fails until it does).
func textTables() []i18n.Texts {
	return []i18n.Texts{
		web.Texts(), // the layout, error pages and forms
		public.Texts(),
		console.Texts(),
		identity.Texts(),
		auth.Texts(),
		procedures.Texts(),
		records.Texts(),
		architecture.Texts(),
		forecast.Texts(),
		dlp.Texts(),
		compliance.Texts(),
		exchange.Texts(),
		registry.Texts(),
		audit.Texts(),
		govsim.Texts(),
		mail.Texts(),
		portal.Texts(),
		insight.Texts(),
		operations.Texts(),
		sentinel.Texts(),
		analytics.Texts(),
	}
}

// catalogue builds, once at wiring, the catalogue of every user-facing
// string from tables. A key that two tables define stops the start with
// an error naming it.
func catalogue(tables ...i18n.Texts) (*i18n.Catalogue, error) {
	texts, err := i18n.New(tables...)
	if err != nil {
		return nil, fmt.Errorf("build the catalogue of strings: %w", err)
	}
	return texts, nil
}
