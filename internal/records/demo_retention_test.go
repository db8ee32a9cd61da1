package records

import (
	"testing"

	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestSeedDemoArchive pins that the archive's demo seeds through the
// service and gives its pages content: a numbered print in the secret
// register, a schedule, case files due, held and appraised.
func TestSeedDemoArchive(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		clerk, leader, arch := f.office, f.office, f.archivist
		clerk.Clearance, leader.Clearance, arch.Unit, arch.Clearance = authz.Confidential, authz.Secret, f.office.Unit, authz.Secret
		p := DemoArchivePeople{OfficeClerk: DemoStaff{Subject: clerk, Username: "office"}, OfficeApprover: DemoStaff{Subject: leader, Username: "office"},
			Archivist: DemoStaff{Subject: arch, Username: "archivist"}}
		if err := SeedDemoArchive(f.as(f.office), f.svc, p, f.clock.now()); err != nil {
			t.Fatal(err)
		}
		reg, err := f.svc.SecretRegister(f.as(clerk), clerk, Incoming, clerk.Unit, 2026)
		if err != nil || len(reg.Entries) != 1 || len(reg.Entries[0].Copies) != 1 {
			t.Fatalf("the Office's secret register = %+v, %v", reg, err)
		}
		if _, pdf, err := f.svc.CopyPDF(f.as(clerk), clerk, reg.Entries[0].Document.ID, 1); err != nil || len(pdf) == 0 {
			t.Errorf("the demo print: %v", err)
		}
		items, err := f.svc.Appraisal(f.as(arch), arch, clerk.Unit)
		if err != nil {
			t.Fatal(err)
		}
		due := dueByCode(items)
		if len(items) != 3 || !due["VP.TAM.01"].Due || due["VP.TAM.01"].Disposal == 0 || len(due["VP.TAM.02"].Holds) != 1 || due["VP.VV.01"].Action != "transfer" {
			t.Errorf("the demo's appraisal = %+v", due)
		}
	})
}
