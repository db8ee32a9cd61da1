package records

import (
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestSeedDemoDraftingFillsTheOutgoingPages seeds the demo and its
// drafting part, and checks what each page shows its demo user: a review
// awaiting the Consular leader, a distribution list, a replacement, a
// case file past its delivery, a top-secret declassification awaiting its
// second person.
func TestSeedDemoDraftingFillsTheOutgoingPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		now := time.Now().UTC()
		for _, code := range []string{"000.01.03.G12", "000.02.02.G12"} {
			if _, err := db.ExecContext(f.as(f.office), db.Rebind(`INSERT INTO units (code, name_vi, name_en, kind, country, timezone, created_at, updated_at)
				VALUES (?, 'Cơ quan đại diện', 'Mission', 'embassy', 'JP', 'Asia/Tokyo', ?, ?)`), code, now, now); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.ExecContext(f.as(f.office), db.Rebind(`INSERT INTO units (code, name_vi, name_en, kind, country, timezone, created_at, updated_at)
			VALUES ('000.00.00.G02', 'Bộ Công an', 'Ministry of Public Security', 'agency', 'VN', 'Asia/Ho_Chi_Minh', ?, ?)`), now, now); err != nil {
			t.Fatal(err)
		}
		staff := func(s authz.Subject, l authz.Level) DemoStaff {
			s.Clearance = l
			return DemoStaff{Subject: s, Username: f.names[s.ID]}
		}
		security := staff(f.auditor, authz.TopSecret)
		security.Subject.Roles = authz.RolesOf(authz.SecurityOfficer)
		p := demoPeople(t, f)
		ctx := f.as(f.office)
		if err := SeedDemo(ctx, f.svc, p, now); err != nil {
			t.Fatal(err)
		}
		if err := SeedDemoDrafting(ctx, f.svc, p, security, now); err != nil {
			t.Fatal(err)
		}
		drafts := f.search(t, p.ConsularApprover.Subject, Query{Direction: Outgoing, Status: StatusDraft, Limit: MaxLimit})
		awaiting := 0
		for _, d := range drafts.Items {
			dr, err := f.svc.Drafting(f.as(f.leader), p.ConsularApprover.Subject, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if dr.PendingReview(p.ConsularApprover.Subject.ID) != nil && len(dr.Versions) == 2 && len(dr.Comments) == 2 {
				awaiting++
			}
		}
		if awaiting != 1 {
			t.Errorf("drafts awaiting the leader's review with two versions and a thread: %d, want 1", awaiting)
		}
		year := now.In(registerZone()).Year()
		old, err := f.svc.CaseFiles(f.as(f.clerk), p.ConsularClerk.Subject, year-2)
		if err != nil || len(old) != 1 || !old[0].DeliverySoon || old[0].Count != 1 {
			t.Errorf("the case files of two years ago = %+v, %v", old, err)
		}
		items, err := f.svc.Archive(f.as(f.auditor), security.Subject, authz.Unclassified)
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, it := range items {
			if it.Pending != nil && it.Pending.Action == "declassify" {
				pending++
			}
		}
		if len(items) == 0 || pending != 1 {
			t.Errorf("the security officer's archive: %d items, %d pending", len(items), pending)
		}
	})
}
