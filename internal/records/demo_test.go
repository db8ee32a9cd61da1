package records

import (
	"testing"

	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestSeedDemo pins that the demo's records seed through the service and
// that each demo member sees only what their clearance and unit allow.
func TestSeedDemo(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		staff := func(s authz.Subject, l authz.Level) DemoStaff {
			s.Clearance = l
			return DemoStaff{Subject: s, Username: f.names[s.ID]}
		}
		office := f.office // clerk, officer and approver of the Office
		p := DemoPeople{OfficeClerk: staff(office, authz.Confidential), OfficeApprover: staff(office, authz.Secret),
			ConsularClerk: staff(f.clerk, authz.Unclassified), ConsularOfficer: staff(f.officer, authz.Confidential),
			ConsularApprover: staff(f.leader, authz.Confidential), CipherOfficer: staff(f.officer, authz.TopSecret)}
		if err := SeedDemo(f.as(office), f.svc, p, f.clock.now()); err != nil {
			t.Fatal(err)
		}
		// The Consular Department's officer, cleared top secret, sees its
		// five outgoing documents, the three classified drafts, the two
		// incoming ones the Office's leader assigned to it and the
		// department's own three incoming ones; its clerk, cleared for
		// none, the four unclassified outgoing ones and the three incoming.
		if all := f.search(t, staff(f.officer, authz.TopSecret).Subject, Query{}); all.Total != 13 {
			t.Errorf("the cleared officer sees %d documents, want 13", all.Total)
		}
		low := f.search(t, p.ConsularClerk.Subject, Query{})
		for _, d := range low.Items {
			if d.Classification > authz.Unclassified {
				t.Errorf("an unclassified clerk sees %s document %d", d.Classification, d.ID)
			}
		}
		if low.Total != 7 {
			t.Errorf("the unclassified clerk sees %d documents, want 7", low.Total)
		}
	})
}
