package procedures

import (
	"context"
	"testing"
	"time"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestDemoSeedRecordsHalfAYearOfDossiers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		people := DemoPeople{UnitCode: consularCode,
			Citizens: []DemoCitizen{{Subject: f.citizen, Name: "Nguyễn Thị Lan", Email: "lan@example.vn", IDNumber: "001188004215", DOB: "1988-04-12", Sex: "female"}},
			Clerk:    DemoStaff{Subject: f.clerk, Username: "clerk"}, Officer: DemoStaff{Subject: f.officer, Username: "officer"},
			Approver: DemoStaff{Subject: f.approver, Username: "approver"}}
		now := f.clock.Now().AddDate(0, 6, 0)
		if err := SeedDemo(context.Background(), f.svc, people, now); err != nil {
			t.Fatal(err)
		}
		counts, err := LoadIndexCounts(context.Background(), db, IndexQuery{From: now.AddDate(-1, 0, 0), To: now})
		if err != nil {
			t.Fatal(err)
		}
		if counts.Submitted < 50 || counts.Finished < counts.Submitted/2 || counts.Online == 0 || counts.Rated == 0 || counts.Prefilled == 0 || counts.Digitised == 0 {
			t.Errorf("demo history: %+v", counts)
		}
		f.clock.Advance(now.Sub(f.clock.Now()))
		items, _, err := f.svc.Queue(f.as(f.clerk), f.clerk, Queue{})
		if err != nil || len(items) == 0 {
			t.Errorf("the demo leaves no dossier waiting: %d, %v", len(items), err)
		}
		for _, it := range items {
			if it.SubmittedAt.After(now) {
				t.Errorf("dossier %s submitted in the future, %s", it.Code, it.SubmittedAt.Format(time.RFC3339))
			}
		}
	})
}
