package analytics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func officer(unit int64, clearance authz.Level) authz.Subject {
	return authz.Subject{Kind: authz.Staff, ID: 10 + unit, Unit: unit, Roles: authz.RolesOf(authz.Officer), Clearance: clearance}
}

func staffCtx(sub authz.Subject) context.Context {
	return audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.Staff(sub.ID, "officer"), UnitID: sub.Unit})
}

func checkOf(t *testing.T, d Dataset, name string) Check {
	t.Helper()
	for _, c := range d.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("dataset %s has no check %s: %+v", d.Code, name, d.Checks)
	return Check{}
}

func TestBuiltinDatasetsAreRegisteredAndTheirChecksMeasureTheirTables(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		now := time.Now().UTC()
		w.dossier(t, "A-1", 1, "dossier.submit", now.Add(-time.Hour), now.Add(240*time.Hour), false)
		w.dossier(t, "A-2", 1, "dossier.submit", now.Add(-time.Hour), now.Add(-2*time.Hour), false) // due before it was submitted
		c := NewCatalogue(db, w.ledger, nil)
		for range 2 { // at every start: the second keeps one entry each
			if err := c.RegisterBuiltins(ctx); err != nil {
				t.Fatal(err)
			}
		}
		sub := officer(1, authz.Unclassified)
		list, err := c.List(ctx, sub)
		if err != nil || len(list) != len(builtins) {
			t.Fatalf("List = %d datasets, %v; want the %d builtins", len(list), err, len(builtins))
		}
		if err := c.RunAllChecks(ctx); err != nil {
			t.Fatal(err)
		}
		d, err := c.Get(ctx, sub, "chancery.dossiers")
		if err != nil {
			t.Fatal(err)
		}
		if ch := checkOf(t, d, "rows"); !ch.LastOK || ch.LastValue != 2 || ch.LastRun.IsZero() {
			t.Errorf("rows check = %+v, want passed with 2", ch)
		}
		if ch := checkOf(t, d, "deadline"); ch.LastOK || ch.LastValue != 0.5 {
			t.Errorf("deadline check = %+v, want failed at 0.5 (one of two dossiers due before submission)", ch)
		}
		if ch := checkOf(t, d, "freshness"); !ch.LastOK || ch.LastValue > 1.5 {
			t.Errorf("freshness check = %+v, want passed, about an hour", ch)
		}
		if ch := checkOf(t, d, "applicant_name"); !ch.LastOK {
			t.Errorf("applicant_name check = %+v, want passed", ch)
		}
		// An empty table fails its row count.
		docs, _ := c.Get(ctx, sub, "chancery.documents")
		if ch := checkOf(t, docs, "rows"); ch.LastOK || ch.LastRun.IsZero() {
			t.Errorf("documents' rows check = %+v, want failed (no documents)", ch)
		}
		// A restart keeps the last results.
		if err := c.RegisterBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		d, _ = c.Get(ctx, sub, "chancery.dossiers")
		if ch := checkOf(t, d, "rows"); ch.LastRun.IsZero() {
			t.Error("registering the builtins again lost the checks' last results")
		}
		// Any officer may run the checks of Chancery's own datasets (they
		// belong to no unit), and the run is recorded.
		if d, err = c.RunChecks(staffCtx(sub), sub, "chancery.dossiers"); err != nil || checkOf(t, d, "deadline").LastOK {
			t.Errorf("an officer's run = %+v, %v", d.Checks, err)
		}
	})
}

func TestOfficersRegisterTheirUnitsOutsideDatasets(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		c := NewCatalogue(db, w.ledger, nil)
		sub := officer(2, authz.Confidential)
		ctx := staffCtx(sub)
		n := NewDataset{Code: "consular.visas", NameVI: "Thị thực", NameEN: "Visas issued", OwnerUnit: 2, Level: authz.Confidential,
			PersonalData: true, SourceSystem: "Visa system", Refresh: RefreshDaily, Users: "Consular department", FreshnessHours: 48,
			RefreshedAt: time.Now().Add(-72 * time.Hour)}
		d, err := c.Register(ctx, sub, n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Register(ctx, sub, n); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("registering the code again = %v, want ErrConflict", err)
		}
		d, err = c.RunChecks(ctx, sub, d.Code)
		if err != nil {
			t.Fatal(err)
		}
		if ch := checkOf(t, d, "freshness"); ch.LastOK || ch.LastValue < 71 {
			t.Errorf("freshness of a 72-hour-old refresh = %+v, want failed", ch)
		}
		if d, err = c.ReportRefresh(ctx, sub, d.Code, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if d, err = c.RunChecks(ctx, sub, d.Code); err != nil || !checkOf(t, d, "freshness").LastOK {
			t.Errorf("freshness after a refresh an hour ago = %+v, %v; want passed", d.Checks, err)
		}

		// Another unit's officer may not register for unit 2, and an
		// unclassified reader does not learn the confidential entry exists.
		other := officer(1, authz.Unclassified)
		n.Code, n.Level = "consular.other", authz.Unclassified
		if _, err := c.Register(staffCtx(other), other, n); !errors.Is(err, errs.ErrNotFound) && !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("registering for another unit = %v, want a refusal", err)
		}
		if _, err := c.Get(ctx, other, "consular.visas"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("reading above clearance = %v, want ErrNotFound", err)
		}
		list, _ := c.List(ctx, other)
		for _, d := range list {
			if d.Code == "consular.visas" {
				t.Error("the list shows a dataset above the reader's clearance")
			}
		}
		if _, err := c.RunChecks(staffCtx(other), other, "consular.visas"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("running another unit's checks above clearance = %v, want ErrNotFound", err)
		}
	})
}

func TestRegisteringRefusesHostileInput(t *testing.T) {
	db := storetest.MustOpen(t, store.SQLite)
	addUnit(t, db, 2, "000.00.31.G06", "embassy", "FR", "Europe/Paris")
	c := NewCatalogue(db, audittest.MustLedger(t, db), nil)
	sub := officer(2, authz.Unclassified)
	good := NewDataset{Code: "x.y", NameVI: "a", NameEN: "a", OwnerUnit: 2, SourceSystem: "s", Refresh: RefreshDaily}
	for name, bad := range map[string]func(*NewDataset){
		"code with a space":  func(n *NewDataset) { n.Code = "x y" },
		"chancery's prefix":  func(n *NewDataset) { n.Code = "chancery.dossiers" },
		"CR LF in a name":    func(n *NewDataset) { n.NameEN = "a\r\nInjected: b" },
		"NUL":                func(n *NewDataset) { n.SourceSystem = "s\x00" },
		"bidi override":      func(n *NewDataset) { n.NameVI = "a\u202eb" },
		"50 MiB description": func(n *NewDataset) { n.Description = strings.Repeat("x", 50<<20) },
		"unknown refresh":    func(n *NewDataset) { n.Refresh = "hourly" },
		"no owner":           func(n *NewDataset) { n.OwnerUnit = 0 },
		"negative freshness": func(n *NewDataset) { n.FreshnessHours = -1 },
		"bad level":          func(n *NewDataset) { n.Level = 9 },
	} {
		n := good
		bad(&n)
		if _, err := c.Register(staffCtx(sub), sub, n); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%s: Register = %v, want ErrInvalid", name, err)
		}
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM analytics_datasets").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d datasets stored after refusals, %v", n, err)
	}
}
