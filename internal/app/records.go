package app

import (
	"context"
	"time"

	"chancery/internal/records"
	"chancery/internal/store"
	"chancery/internal/web"
)

// openRecords builds the records capability: documents, registers, case
// files and the classified archive, sealed with the keyring's records
// purposes and audited in the ledger.
func (a *App) openRecords() error {
	var err error
	a.Records, err = records.NewService(records.Options{DB: a.DB, Ring: a.Keys, Recorder: a.Audit, Writer: store.NewWriter(a.DB, a.log)})
	return err
}

// runRecords starts the group commit of new documents (see
// records.Options.Writer) and the text extraction workers
// (--ocr-workers), which read queued documents' files for the search
// index, until ctx ends.
func (a *App) runRecords(spawn func(func(context.Context))) {
	spawn(func(ctx context.Context) {
		wait, err := a.Records.StartWriter(ctx)
		if err != nil {
			a.log.Error("records: start the group commit; documents commit one by one", "err", err)
			return
		}
		wait()
	})
	if a.cfg.OCRWorkers <= 0 {
		return
	}
	w, missing := a.Records.NewExtractWorker(records.ExtractOptions{Log: a.log})
	if len(missing) > 0 {
		a.log.Warn("records: text extraction tools missing; files needing them wait and are retried (install poppler-utils, tesseract-ocr, tesseract-ocr-vie)",
			"missing", missing)
	}
	spawn(func(ctx context.Context) { w.Run(ctx, a.cfg.OCRWorkers) }) //nolint:errcheck // Run logs its own errors and returns nil
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
	return records.SeedDemo(ctx, a.Records, p, time.Now())
}
