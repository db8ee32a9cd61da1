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
		// Every history reads in time order, and a rating comes after the
		// result it rates.
		mine, err := f.svc.ForCitizen(f.as(f.citizen), f.citizen)
		if err != nil {
			t.Fatal(err)
		}
		rated := 0
		for _, it := range mine {
			d, err := f.svc.Get(f.as(f.citizen), f.citizen, it.Code)
			if err != nil {
				t.Fatal(err)
			}
			var returned time.Time
			for i, e := range d.History {
				if i > 0 && e.At.Before(d.History[i-1].At) {
					t.Errorf("%s: %s at %s comes after %s at %s", d.Code, e.Action, e.At, d.History[i-1].Action, d.History[i-1].At)
				}
				switch e.Action {
				case string(ActReturnResult):
					returned = e.At
				case "rate":
					rated++
					if returned.IsZero() || !e.At.After(returned) || e.At.After(now) {
						t.Errorf("%s: rated at %s, its result returned at %s", d.Code, e.At, returned)
					}
				}
			}
		}
		if rated == 0 {
			t.Error("the demo's citizen rated no dossier")
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
