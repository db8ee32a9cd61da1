package records

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func (f *fixture) search(t testing.TB, sub authz.Subject, q Query) *Page {
	t.Helper()
	p, err := f.svc.Search(f.as(sub), sub, q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return p
}

func ids(p *Page) []int64 {
	out := []int64{}
	for _, d := range p.Items {
		out = append(out, d.ID)
	}
	slices.Sort(out)
	return out
}

// TestSearchFoldsVietnamese pins search with or without diacritics, in
// the databases' own engines, and that the file text of a classified
// document stays out of the index.
func TestSearchFoldsVietnamese(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		qd := f.draft(t, "quyet_dinh", authz.Unclassified) // "Quyết định về việc cử cán bộ đi công tác"
		doan := f.incoming(t, "Công điện về Đoàn đại biểu Quốc hội", authz.Unclassified,
			&Content{Filename: "a.pdf", MediaType: "application/pdf", Data: []byte("x"), Text: "hộ chiếu ngoại giao"})
		secret := f.incoming(t, "Công điện mật", authz.Secret, &Content{Filename: "b.pdf", MediaType: "application/pdf", Data: []byte("x"), Text: "kế hoạch bí mật"})
		for q, want := range map[string][]int64{
			"quyet dinh":         {qd.ID},
			"QUYẾT ĐỊNH cán bộ":  {qd.ID},
			"doan dai bieu":      {doan.ID},
			"Đoàn":               {doan.ID},
			"ho chieu":           {doan.ID},            // the file's text, unclassified
			"bi mat ke hoach":    {},                   // a classified file's text is not indexed
			"12 CĐ BNG":          {doan.ID, secret.ID}, // the sender's number, 12/CĐ-BNG
			`"; DROP TABLE x --`: {},
			`NEAR(a b) OR *`:     {},
			"???":                {},
		} {
			got := ids(f.search(t, f.officer, Query{Text: q}))
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%q found %v, want %v", q, got, want)
			}
		}
		p := f.search(t, f.officer, Query{Direction: Outgoing})
		if p.Total != 1 || len(p.Items) != 1 || p.Items[0].ID != qd.ID {
			t.Errorf("outgoing filter: %+v", p)
		}
		if _, err := f.svc.Search(f.as(f.auditor), f.auditor, Query{}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an auditor searching documents: %v, want ErrForbidden", err)
		}
		if _, err := f.svc.Search(f.as(f.officer), f.officer, Query{Text: "a\x00b"}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a query with NUL: %v, want ErrInvalid", err)
		}
	})
}

// TestSearchAgreesWithDecide pins that search's filter inside the query
// is authz.Decide's: for callers of every clearance and unit, the hits and
// the count are exactly the documents Decide lets them read, across
// levels, units, distribution lists and grants (in force or expired), and
// pages never leak beyond them.
func TestSearchAgreesWithDecide(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		var all []int64
		for i, l := range []authz.Level{authz.Unclassified, authz.Confidential, authz.Secret, authz.TopSecret} {
			for j, author := range []authz.Subject{f.officer, f.office} {
				nd := NewDraft{Type: "bao_cao", Subject: fmt.Sprintf("Báo cáo tình hình %d-%d", i, j), Classify: Classify{Level: l, Reason: "mục 2"}}
				if j == 0 && i%2 == 1 {
					nd.Shared = []int64{f.office.Unit}
				}
				d, err := f.svc.StartDraft(f.as(author), author, nd)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, d.ID)
			}
		}
		// A grant in force to the Office's officer, and one expired to the
		// low officer.
		if _, err := f.svc.Grant(f.as(f.leader), f.leader, all[4], NewGrant{StaffID: f.office.ID, Reason: "phối hợp", ExpiresAt: f.clock.now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Grant(f.as(f.office), f.office, all[3], NewGrant{StaffID: f.lowOfficer.ID, Reason: "phối hợp", ExpiresAt: f.clock.now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		f.clock.advance(30 * time.Minute)
		for name, sub := range map[string]authz.Subject{"officer": f.officer, "low": f.lowOfficer, "office": f.office, "clerk": f.clerk, "leader": f.leader} {
			var want []int64
			for _, id := range all {
				r, err := loadDocument(ctx, db, id, f.clock.now(), false)
				if err != nil {
					t.Fatal(err)
				}
				if dec, _ := authz.Decide(sub, authz.Read, r.resource()); dec == authz.Allowed {
					want = append(want, id)
				}
			}
			slices.Sort(want)
			p := f.search(t, sub, Query{Text: "bao cao"})
			if got := ids(p); !slices.Equal(got, want) || p.Total != len(want) {
				t.Errorf("%s: search found %v (total %d); Decide allows %v", name, got, p.Total, want)
			}
			// Paging one at a time visits the same set.
			var paged []int64
			for q := (Query{Limit: 1}); ; {
				p := f.search(t, sub, q)
				paged = append(paged, ids(p)...)
				if p.Next == 0 {
					break
				}
				q.After = p.Next
			}
			slices.Sort(paged)
			if !slices.Equal(paged, want) {
				t.Errorf("%s: paging found %v, want %v", name, paged, want)
			}
		}
	})
}
