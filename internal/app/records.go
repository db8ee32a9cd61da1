package app

import (
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

// recordsRoutes adds the records' JSON API.
func (a *App) recordsRoutes(rt *web.Router) error {
	h, err := records.NewHandler(a.Records)
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}
