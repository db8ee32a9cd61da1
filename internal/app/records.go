package app

import (
	"context"
	"errors"
	"flag"
	"time"

	"chancery/internal/audit"
	"chancery/internal/config"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/records"
	"chancery/internal/store"
	"chancery/internal/web"
)

// openRecords builds the records capability: documents, registers, case
// files and the classified archive, sealed with the keyring's records
// purposes and audited in the ledger.
func (a *App) openRecords() error {
	var err error
	a.Records, err = records.NewService(records.Options{DB: a.DB, Ring: a.Keys, Recorder: a.Audit, Staff: a.Identity, Writer: store.NewWriter(a.DB, a.log),
		Courier: edxmlCourier{node: a.Node, dir: a.Identity, office: a.cfg.RecordsOffice}})
	if err != nil {
		return err
	}
	// A merger hands the absorbed unit's registers, case files and open
	// handling to the unit it merges into, in the merger's transaction.
	a.Identity.OnMerge(func(ctx context.Context, tx *store.Tx, from, into identity.Unit) error {
		return a.Records.MergeUnitTx(ctx, tx, from.ID, into.ID, from.Code)
	})
	return nil
}

// runRecords starts the exchange of packages (edxml.go), the group commit of new documents (see
// records.Options.Writer) and the text extraction workers
// (--ocr-workers), which read queued documents' files for the search
// index, until ctx ends.
func (a *App) runRecords(spawn func(func(context.Context))) {
	a.runRecordsExchange(spawn)
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
	h, err := records.NewHandler(shell, records.HandlerOptions{Service: a.Records, MaxUpload: a.cfg.MaxDocumentBytes})
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}

// seedDemoRecords records the demo's documents, on a demo headquarters'
// first start, as the demo staff who would: the Office's records office
// and leader, the Consular Department's clerk, officer and leader, and
// the Cipher-IT Department's officer, with the clerks cleared for
// classified documents and the Cipher-IT Department's clerk and director.
func (a *App) seedDemoRecords(ctx context.Context) error {
	var p records.DemoPeople
	for username, into := range map[string]*records.DemoStaff{
		"office.clerk": &p.OfficeClerk, "office.approver": &p.OfficeApprover, "consular.clerk": &p.ConsularClerk,
		"consular.officer": &p.ConsularOfficer, "consular.approver": &p.ConsularApprover, "cipher.officer": &p.CipherOfficer,
		"office.secretclerk": &p.OfficeSecretClerk, "consular.secretclerk": &p.ConsularSecretClerk, "cipher.clerk": &p.CipherClerk,
		"cipher.approver": &p.CipherApprover,
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
	if err := records.SeedDemoDrafting(ctx, a.Records, p, records.DemoStaff{Subject: m.Subject(), Username: m.Username}, now); err != nil {
		return err
	}
	return a.seedDemoArchive(ctx)
}

// seedDemoArchive records the archive's demo: a print of a confidential
// document, the Office's retention schedule and case files of earlier
// years, as the Office's records office, its leader and the archivist.
func (a *App) seedDemoArchive(ctx context.Context) error {
	var p records.DemoArchivePeople
	for username, into := range map[string]*records.DemoStaff{"office.clerk": &p.OfficeClerk, "office.approver": &p.OfficeApprover, "archivist": &p.Archivist} {
		m, err := a.Identity.StaffByUsername(ctx, username)
		if err != nil {
			return err
		}
		*into = records.DemoStaff{Subject: m.Subject(), Username: m.Username}
	}
	return records.SeedDemoArchive(ctx, a.Records, p, time.Now())
}

// recordsStorage registers the storage flags on the flag set of a
// records subcommand and returns the function that opens the records
// service they name, with the audit ledger and the unit directory.
func recordsStorage(fs *flag.FlagSet) func(context.Context) (records.CommandStorage, func() error, error) {
	var cfg config.Config
	envErr := config.Storage(fs, &cfg)
	return func(ctx context.Context) (records.CommandStorage, func() error, error) {
		if err := envErr(); err != nil {
			return records.CommandStorage{}, nil, errs.Usage("", "%v", err)
		}
		db, ring, err := openStorage(ctx, cfg)
		if err != nil {
			return records.CommandStorage{}, nil, err
		}
		ledger, err := audit.New(ctx, db, ring, audit.Options{})
		if err != nil {
			db.Close()
			return records.CommandStorage{}, nil, err
		}
		closeAll := func() error { return errors.Join(ledger.Close(), db.Close()) }
		dir := identity.NewService(db, ledger, nil)
		svc, err := records.NewService(records.Options{DB: db, Ring: ring, Recorder: ledger, Staff: dir})
		if err != nil {
			closeAll()
			return records.CommandStorage{}, nil, err
		}
		byCode := func(ctx context.Context, code string) (int64, error) {
			u, err := dir.UnitByCode(ctx, code)
			return u.ID, err
		}
		return records.CommandStorage{Service: svc, Ledger: ledger, UnitByCode: byCode}, closeAll, nil
	}
}
