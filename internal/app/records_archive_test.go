package app

import (
	"context"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/records"
	"chancery/internal/web"
)

// TestMergingAUnitHandsOverItsRecords pins the merger hook as wired: when
// the Office merges into the Consular Department, its register of secret
// documents is kept by the Consular Department's records office (its
// entries keep their numbers), and its case files, with their appraisal,
// are the Consular Department's archivist's.
func TestMergingAUnitHandsOverItsRecords(t *testing.T) {
	a, _ := serveDemo(t)
	ctx := context.Background()
	clerk, err := a.Identity.StaffByUsername(ctx, "office.clerk")
	if err != nil {
		t.Fatal(err)
	}
	office := clerk.UnitID
	into, err := a.Identity.UnitByCode(ctx, "000.00.03.G12")
	if err != nil {
		t.Fatal(err)
	}
	year := time.Now().In(web.MinistryZone()).Year()
	before, err := a.Records.SecretRegister(audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(clerk.ID, clerk.Username)}), clerk.Subject(), records.Incoming, office, year)
	if err != nil || len(before.Entries) == 0 {
		t.Fatalf("the Office's secret register before: %+v, %v", before, err)
	}
	if _, err := a.Identity.MergeUnits(audit.WithOrigin(ctx, audit.Origin{Actor: audit.System("test")}), "test", office, into.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"office.clerk", "archivist"} {
		m, err := a.Identity.StaffByUsername(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if m.UnitID != into.ID {
			t.Fatalf("%s is in unit %d after the merger, want %d", name, m.UnitID, into.ID)
		}
		sctx := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(m.ID, m.Username)})
		if name == "office.clerk" {
			after, err := a.Records.SecretRegister(sctx, m.Subject(), records.Incoming, office, year)
			if err != nil || len(after.Entries) != len(before.Entries) || after.Entries[0].Document.RegisterNumber != before.Entries[0].Document.RegisterNumber {
				t.Errorf("the Office's register kept by the Consular Department: %+v, %v", after, err)
			}
			continue
		}
		items, err := a.Records.Appraisal(sctx, m.Subject(), into.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, it := range items {
			found = found || (it.CaseFile.Code == "VP.TAM.01" && it.Disposal != 0)
		}
		if !found {
			t.Errorf("the Office's appraised case file did not move: %+v", items)
		}
	}
}
