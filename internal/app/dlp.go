package app

import (
	"context"
	"time"

	"chancery/internal/audit"
	"chancery/internal/compliance"

	"chancery/internal/dlp"
	"chancery/internal/records"
	"chancery/internal/web"
)

// openDLP builds data-loss prevention on the ways out, before the
// capabilities whose ways out it checks (the exchange, records, mail).
// It reads PDFs and office files with records' extractor, bounded for
// the request path: a scan's OCR must not keep a download waiting long.
func (a *App) openDLP() error {
	x, _ := records.FindTools() // missing tools: PDFs are "unreadable", for the policy to decide
	x.Timeout, x.MaxOCRPages = 30*time.Second, 5
	var err error
	a.DLP, err = dlp.NewService(dlp.Options{DB: a.DB, Recorder: a.Audit, Scanner: dlp.NewScanner(x)})
	return err
}

// dlpRoutes adds the held items' and the policy's console page and API.
func (a *App) dlpRoutes(rt *web.Router, shell *web.Shell) error {
	h, err := dlp.NewHandler(shell, a.DLP)
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}

// complianceRoutes adds the compliance dashboard's page and API.
func (a *App) complianceRoutes(rt *web.Router, shell *web.Shell) error {
	svc, err := compliance.NewService(compliance.Options{DB: a.DB, Ledger: a.Audit, Keys: a.Keys})
	if err != nil {
		return err
	}
	h, err := compliance.NewHandler(shell, svc)
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}

// seedDemoDLP fills the queue of held items with a day's work, and has
// the security officer verify the ledger once, so the compliance
// dashboard shows a verification on record.
func (a *App) seedDemoDLP(ctx context.Context) error {
	staff := map[string]dlp.DemoStaff{}
	for _, username := range append([]string{"security.officer"}, dlp.DemoSenders...) {
		m, err := a.Identity.StaffByUsername(ctx, username)
		if err != nil {
			return err
		}
		staff[username] = dlp.DemoStaff{Subject: m.Subject(), Username: m.Username}
	}
	officer := staff["security.officer"]
	if err := dlp.SeedDemo(ctx, a.DLP, staff, officer); err != nil {
		return err
	}
	svc, err := compliance.NewService(compliance.Options{DB: a.DB, Ledger: a.Audit, Keys: a.Keys})
	if err != nil {
		return err
	}
	_, err = svc.Verify(audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(officer.Subject.ID, officer.Username), UnitID: officer.Subject.Unit}), officer.Subject)
	return err
}
