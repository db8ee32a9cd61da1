package app

import (
	"context"
	"time"

	"chancery/internal/records"
	"chancery/internal/web"
)

// openRecords builds the records capability: documents, registers, case
// files and the classified archive, sealed with the keyring's records
// purposes and audited in the ledger.
func (a *App) openRecords() error {
	var err error
	a.Records, err = records.NewService(records.Options{DB: a.DB, Ring: a.Keys, Recorder: a.Audit})
	return err
}

// recordsRoutes adds the records' console pages and JSON API.
func (a *App) recordsRoutes(rt *web.Router, shell *web.Shell) error {
	h, err := records.NewHandler(shell, records.HandlerOptions{Service: a.Records})
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}

// seedDemoRecords records the demo's documents, on a demo headquarters'
// first start, as the demo staff who would: the Office's records office
// and leader, the Consular Department's clerk, officer and leader, and
// the Cipher-IT Department's officer.
func (a *App) seedDemoRecords(ctx context.Context) error {
	var p records.DemoPeople
	for username, into := range map[string]*records.DemoStaff{
		"office.clerk": &p.OfficeClerk, "office.approver": &p.OfficeApprover, "consular.clerk": &p.ConsularClerk,
		"consular.officer": &p.ConsularOfficer, "consular.approver": &p.ConsularApprover, "cipher.officer": &p.CipherOfficer,
	} {
		m, err := a.Identity.StaffByUsername(ctx, username)
		if err != nil {
			return err
		}
		*into = records.DemoStaff{Subject: m.Subject(), Username: m.Username}
	}
	now := time.Now()
	if err := records.SeedDemo(ctx, a.Records, p, now); err != nil {
		return err
	}
	// The outgoing side's drafts, case files and archive decisions; the
	// security officer decides classifications.
	m, err := a.Identity.StaffByUsername(ctx, "security.officer")
	if err != nil {
		return err
	}
	return records.SeedDemoDrafting(ctx, a.Records, p, records.DemoStaff{Subject: m.Subject(), Username: m.Username}, now)
}
