package records

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
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

// TestSearchCountsUpToItsCap pins the capped total on both databases,
// through each arm of a search (words and tokens, a unit's own
// documents, grants): a search counts the matches the caller may see up
// to the cap and says when there are more; documents the caller may not
// know of, however new, change neither its page, its count, its "more"
// nor its facets — at the cap exactly, where one counted by mistake
// would show.
func TestSearchCountsUpToItsCap(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var seen []int64
		for i := range 3 {
			seen = append(seen, f.incoming(t, fmt.Sprintf("Công điện về lịch tiếp khách số %d", i), authz.Unclassified, nil).ID)
		}
		slices.Reverse(seen) // newest first
		const limit = 3
		type answer struct {
			ids         []int64
			total       int
			more        bool
			levels, all int
		}
		ask := func(sub authz.Subject, q Query) answer {
			q.countCap = limit
			p := f.search(t, sub, q)
			a := answer{total: p.Total, more: p.More}
			for _, d := range p.Items {
				a.ids = append(a.ids, d.ID)
			}
			fs, err := f.svc.SearchFacets(f.as(sub), sub, q)
			if err != nil {
				t.Fatal(err)
			}
			a.levels = len(fs["level"])
			for _, x := range fs["direction"] {
				a.all += x.Count
			}
			return a
		}
		queries := map[string]Query{"words": {Text: "tiep khach"}, "no words": {}}
		before := map[string]answer{}
		for name, q := range queries {
			a := ask(f.lowOfficer, q)
			if !slices.Equal(a.ids, seen) || a.total != 3 || a.more || a.levels != 1 || a.all != 3 {
				t.Fatalf("%s: the low officer's search = %+v, want %v, total 3, no more, one level in facets counting 3", name, a, seen)
			}
			before[name] = a
		}
		// Newer documents of the same words the low officer may not know
		// of: above its clearance in its own unit, and another unit's.
		secret := f.incoming(t, "Công điện mật về lịch tiếp khách", authz.Secret, nil)
		other, err := f.svc.StartDraft(f.as(f.office), f.office, NewDraft{Type: "bao_cao", Subject: "Báo cáo về lịch tiếp khách"})
		if err != nil {
			t.Fatal(err)
		}
		for name, q := range queries {
			if a := ask(f.lowOfficer, q); !reflect.DeepEqual(a, before[name]) {
				t.Errorf("%s: after hidden documents the low officer's search = %+v, want %+v", name, a, before[name])
			}
			// The officer of the same unit, cleared top secret, sees the
			// secret one: four matches, more than the cap.
			if a := ask(f.officer, q); a.total != limit || !a.more || len(a.ids) != 4 || a.ids[0] != secret.ID || a.all != limit {
				t.Errorf("%s: the cleared officer's search = %+v, want 4 hits, total %d and more, facets of the newest %d", name, a, limit, limit)
			}
		}
		// A grant in force makes the Office's document the low officer's
		// fourth match (the grants' arm).
		if _, err := f.svc.Grant(f.as(f.office), f.office, other.ID, NewGrant{StaffID: f.lowOfficer.ID, Reason: "phối hợp", ExpiresAt: f.clock.now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		for name, q := range queries {
			if a := ask(f.lowOfficer, q); a.total != limit || !a.more || len(a.ids) != 4 || a.ids[0] != other.ID {
				t.Errorf("%s: with a grant the low officer's search = %+v, want the granted one first, total %d and more", name, a, limit)
			}
		}
		// Pages past the cap follow the cursor to the last match.
		var paged []int64
		for q := (Query{Text: "tiep khach", Limit: 1, countCap: 1}); ; {
			p := f.search(t, f.officer, q)
			paged = append(paged, ids(p)...)
			if p.Next == 0 {
				break
			}
			q.After = p.Next
		}
		if len(paged) != 4 {
			t.Errorf("paging one by one past a cap of 1 found %v, want 4 documents", paged)
		}
	})
}

// TestSearchWidensItsWindowPastHiddenMatches pins the id windows of a
// search by words (search_sql.go, PostgreSQL's, forced here on both
// databases with a first window of 2 ids): when the newest matches are
// concealed from the caller — more of them than the page — the window
// widens until the page is full of the caller's own, and the page,
// count, "more" flag, facets and cursor are those of a search without
// windows.
func TestSearchWidensItsWindowPastHiddenMatches(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// Five matches the low officer may see, each followed by a
		// secret match and a document of other words.
		visible := make([]int64, 5)
		for i := range visible {
			visible[i] = f.incoming(t, fmt.Sprintf("Công điện về lịch tiếp khách số %d", i), authz.Unclassified, nil).ID
			f.incoming(t, fmt.Sprintf("Công điện mật về lịch tiếp khách số %d", i), authz.Secret, nil)
			f.incoming(t, fmt.Sprintf("Thông báo về hội nghị số %d", i), authz.Unclassified, nil)
		}
		// The newest eleven matches are above the low officer's clearance.
		for i := range 11 {
			f.incoming(t, fmt.Sprintf("Công điện tối mật về lịch tiếp khách số %d", i), authz.TopSecret, nil)
		}
		slices.Reverse(visible) // newest first
		want := searchAnswer{ids: visible[:3], total: 4, more: true, facet: 4, pages: visible}
		for _, window := range []int64{2, 1, 1 << 20} {
			q := Query{Text: "tiep khach", Limit: 3, countCap: 4, window: window}
			if got := f.answer(t, f.lowOfficer, q); !reflect.DeepEqual(got, want) {
				t.Errorf("first window of %d ids: the low officer's search = %+v, want %+v", window, got, want)
			}
		}
	})
}

// searchAnswer is what a search tells its caller: the first page's ids,
// the total and "more", the facets' count of matches, and the ids of
// every page, following the cursor one match a page.
type searchAnswer struct {
	ids   []int64
	total int
	more  bool
	facet int
	pages []int64
}

// answer returns sub's searchAnswer for q.
func (f *fixture) answer(t *testing.T, sub authz.Subject, q Query) searchAnswer {
	t.Helper()
	p := f.search(t, sub, q)
	a := searchAnswer{ids: inOrder(p), total: p.Total, more: p.More}
	fs, err := f.svc.SearchFacets(f.as(sub), sub, q)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range fs["direction"] {
		a.facet += x.Count
	}
	for q.Limit = 1; ; {
		p := f.search(t, sub, q)
		a.pages = append(a.pages, inOrder(p)...)
		if p.Next == 0 {
			break
		}
		q.After = p.Next
	}
	return a
}

// TestSearchWindowsOfIDBuckets pins the windows of whole id buckets
// (search_sql.go's span and bucketToken; PostgreSQL's, forced here on
// both databases with the production's first window): with the low
// officer's matches far apart in ids, found in windows of buckets of
// each width, one of them distributed from another unit, a concealed
// match above each and the newest three top secret, the page, count,
// "more" flag, facets and cursor paging are those of the whole query.
func TestSearchWindowsOfIDBuckets(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		filler := f.incoming(t, "Công điện tối mật về lịch tiếp khách", authz.TopSecret, nil).ID
		var visible []int64
		for _, next := range []int64{9_000, 12_000, 300_000, 320_000, 1_500_000, 2_200_000, 3_300_000} {
			f.jumpDocumentIDs(t, filler, next)
			if next == 1_500_000 { // the Office's, distributed to the Consular Department
				d, err := f.svc.RegisterIncoming(f.as(f.office), f.office, NewIncoming{Type: "cong_dien", Number: "3/CĐ-BNG", Sender: "Bộ Ngoại giao",
					Subject: "Công điện về lịch tiếp khách", Date: f.clock.now(), Shared: []int64{f.lowOfficer.Unit}})
				if err != nil {
					t.Fatal(err)
				}
				visible = append(visible, d.ID)
			} else {
				visible = append(visible, f.incoming(t, "Công điện về lịch tiếp khách", authz.Unclassified, nil).ID)
			}
			f.incoming(t, "Công điện mật về lịch tiếp khách", authz.Secret, nil)
		}
		for range 3 {
			f.incoming(t, "Công điện tối mật về lịch tiếp khách", authz.TopSecret, nil)
		}
		if visible[0] != 9_000 || visible[len(visible)-1] != 3_300_000 {
			t.Fatalf("the matches' ids are %v", visible)
		}
		slices.Reverse(visible)
		want := searchAnswer{ids: visible[:2], total: 3, more: true, facet: 3, pages: visible}
		q := Query{Text: "tiep khach", Limit: 2, countCap: 3, window: firstWindow}
		if got := f.answer(t, f.lowOfficer, q); !reflect.DeepEqual(got, want) {
			t.Errorf("the low officer's search = %+v, want %+v", got, want)
		}
	})
}

// jumpDocumentIDs makes next the id of the next document registered, by
// storing a copy of document from, without its number, at id next-1 (a
// copy in no index, so no search finds it).
func (f *fixture) jumpDocumentIDs(t *testing.T, from, next int64) {
	t.Helper()
	ctx := context.Background()
	cols := strings.TrimPrefix(documentColumns, "id, ")
	copied := strings.Replace(cols, "register_number", "0", 1)
	if _, err := f.db.ExecContext(ctx, f.db.Rebind(`INSERT INTO record_documents (id, `+cols+`) SELECT ?, `+copied+`
		FROM record_documents WHERE id = ?`), next-1, from); err != nil {
		t.Fatal(err)
	}
	if f.db.Dialect == store.Postgres {
		if _, err := f.db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('record_documents', 'id'), $1)`, next-1); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSpanOfAWindow pins how a window of ids is widened to whole id
// buckets: of the narrowest width of which at most maxBuckets cover it;
// cut by id alone below the narrowest bucket; every id when it reaches
// the first bucket or no width fits.
func TestSpanOfAWindow(t *testing.T) {
	for _, c := range []struct {
		top, w int64
		want   window
	}{
		{12_000, 4096, window{floor: 4095, top: 12_000, bits: 12}},
		{12_000, 2, window{floor: 11_997, top: 12_000}},
		{3_300_005, 65_536, window{floor: 3_211_263, top: 3_300_005, bits: 16}},
		{3_300_005, 1 << 20, window{floor: 2_097_151, top: 3_300_005, bits: 20}},
		{5_000, 4096, window{top: 5_000}},
		{100, 200, window{top: 100}},
		{1 << 40, 1 << 30, window{top: 1 << 40}},
	} {
		if got := span(c.top, c.w); got != c.want {
			t.Errorf("span(%d, %d) = %+v, want %+v", c.top, c.w, got, c.want)
		}
	}
}

// inOrder returns the ids of p's documents in the page's order.
func inOrder(p *Page) []int64 {
	out := []int64{}
	for _, d := range p.Items {
		out = append(out, d.ID)
	}
	return out
}
