package architecture

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"chancery/internal/architecture/archimate"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func app(id, name string) Element {
	return Element{ID: id, Type: "ApplicationComponent", Name: archimate.Text{{Lang: "vi", Text: name}}, OwnerUnit: 4,
		Lifecycle: Lifecycle{Plan: "2024-01-01", Build: "2024-06-01", Run: "2025-01-01"}, AnnualCost: 1_200_000_000,
		Framework: Classification{ARM: "Ứng dụng nghiệp vụ"}}
}

func TestArchitectsEditAndAllStaffRead(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		if _, err := f.svc.SaveElement(as(clerk), clerk, app("id-portal", "Cổng thông tin")); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("a clerk saved an element: %v", err)
		}
		if _, err := f.svc.SaveElement(as(secOff), secOff, app("id-portal", "Cổng thông tin")); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("a security officer saved an element: %v", err)
		}
		if _, err := f.svc.Elements(as(citizen), citizen, Query{}); err == nil {
			t.Fatal("a citizen listed the model")
		}
		e, err := f.svc.SaveElement(as(architect), architect, app("id-portal", "Cổng thông tin"))
		if err != nil {
			t.Fatal(err)
		}
		if e.Version != 1 || e.Origin != OriginModel {
			t.Fatalf("saved %+v", e)
		}
		got, err := f.svc.Elements(as(clerk), clerk, Query{Text: "cong thong"})
		if err != nil || len(got) != 1 || got[0].ID != "id-portal" || got[0].AnnualCost != 1_200_000_000 || got[0].Framework[ARM] == "" {
			t.Fatalf("a clerk's search: %v %+v", err, got)
		}
		if a := f.rec.actions(); !slices.Equal(a, []string{"architecture.save_element"}) {
			t.Fatalf("audited %v", a)
		}
	})
}

func TestRelationshipsFollowAppendixB(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		ctx := as(architect)
		if _, err := f.svc.SaveElement(ctx, architect, app("id-portal", "Cổng")); err != nil {
			t.Fatal(err)
		}
		svc := Element{ID: "id-news", Type: "ApplicationService", Name: archimate.Text{{Text: "Tin tức"}}}
		if _, err := f.svc.SaveElement(ctx, architect, svc); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.SaveRelationship(ctx, architect, Relationship{ID: "id-bad", Type: "Realization", Source: "id-news", Target: "id-portal"})
		if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), "Appendix B") {
			t.Fatalf("a service realising a component: %v", err)
		}
		if _, err := f.svc.SaveRelationship(ctx, architect, Relationship{ID: "id-r", Type: "Realization", Source: "id-portal", Target: "id-news"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SaveRelationship(ctx, architect, Relationship{ID: "id-x", Type: "Serving", Source: "id-news", Target: "id-nowhere"}); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("a relationship to nothing: %v", err)
		}
		if err := f.svc.DeleteElement(ctx, architect, "id-portal", 1); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("deleting a joined element: %v", err)
		}
		_, rels, err := f.svc.Element(ctx, architect, "id-news")
		if err != nil || len(rels) != 1 {
			t.Fatalf("relationships of the service: %v %+v", err, rels)
		}
	})
}

func TestStaleVersionsAndReferenceContentAreRefused(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		ctx := as(architect)
		if err := f.svc.SyncReference(ctx); err != nil {
			t.Fatal(err)
		}
		ndxp, _, err := f.svc.Element(ctx, clerk, "ref-ndxp")
		if err != nil || ndxp.Origin != OriginReference {
			t.Fatalf("reference content: %v %+v", err, ndxp)
		}
		ndxp.Name = archimate.Text{{Text: "mine"}}
		if _, err := f.svc.SaveElement(ctx, architect, ndxp); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("editing reference content: %v", err)
		}
		if err := f.svc.DeleteElement(ctx, architect, "ref-ndxp", ndxp.Version); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("deleting reference content: %v", err)
		}
		e, err := f.svc.SaveElement(ctx, architect, app("id-a", "A"))
		if err != nil {
			t.Fatal(err)
		}
		stale := e
		e.Name = archimate.Text{{Text: "A2"}}
		if _, err := f.svc.SaveElement(ctx, architect, e); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SaveElement(ctx, architect, stale); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("a stale version saved: %v", err)
		}
		// A second start finds nothing to do.
		n := len(f.rec.actions())
		if err := f.svc.SyncReference(ctx); err != nil || len(f.rec.actions()) != n {
			t.Fatalf("a second sync changed something: %v %v", err, f.rec.actions())
		}
	})
}

func TestHostileInputIsRefused(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		ctx := as(architect)
		for name, e := range map[string]Element{
			"nul":       app("id-a", "A\x00B"),
			"bidi":      app("id-a", "A\u202eB"),
			"long":      app("id-a", strings.Repeat("x", 300)),
			"bad id":    app("1 a", "A"),
			"bad type":  {ID: "id-a", Type: "Database", Name: archimate.Text{{Text: "A"}}},
			"no name":   {ID: "id-a", Type: "Node"},
			"bad date":  {ID: "id-a", Type: "Node", Name: archimate.Text{{Text: "A"}}, Lifecycle: Lifecycle{Run: "2025-13-01"}},
			"backwards": {ID: "id-a", Type: "Node", Name: archimate.Text{{Text: "A"}}, Lifecycle: Lifecycle{Plan: "2025-01-01", Run: "2024-01-01"}},
			"no unit":   {ID: "id-a", Type: "Node", Name: archimate.Text{{Text: "A"}}, OwnerUnit: 99},
		} {
			if _, err := f.svc.SaveElement(ctx, architect, e); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if got, _ := f.svc.Elements(ctx, architect, Query{}); len(got) != 0 {
			t.Fatalf("refused input stored: %+v", got)
		}
	})
}

func TestTheModelAsItStoodOnADate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		ctx := as(architect)
		e, err := f.svc.SaveElement(ctx, architect, app("id-a", "First name"))
		if err != nil {
			t.Fatal(err)
		}
		t1 := f.clock.Now()
		f.clock.Advance(24 * time.Hour)
		e.Name = archimate.Text{{Lang: "vi", Text: "Second name"}}
		if e, err = f.svc.SaveElement(ctx, architect, e); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SaveElement(ctx, architect, app("id-b", "B")); err != nil {
			t.Fatal(err)
		}
		t2 := f.clock.Now()
		f.clock.Advance(24 * time.Hour)
		if err := f.svc.DeleteElement(ctx, architect, "id-b", 1); err != nil {
			t.Fatal(err)
		}
		names := func(at time.Time) []string {
			snap, err := f.svc.Snapshot(ctx, clerk, at)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range snap.Elements {
				out = append(out, e.ID+"="+e.Name.In("vi"))
			}
			return out
		}
		if got := names(t1); !slices.Equal(got, []string{"id-a=First name"}) {
			t.Errorf("on day 1: %v", got)
		}
		if got := names(t2); !slices.Equal(got, []string{"id-a=Second name", "id-b=B"}) {
			t.Errorf("on day 2: %v", got)
		}
		if got := names(time.Time{}); !slices.Equal(got, []string{"id-a=Second name"}) {
			t.Errorf("now: %v", got)
		}
		if got := names(t1.Add(-time.Hour)); len(got) != 0 {
			t.Errorf("before anything: %v", got)
		}
		h, err := f.svc.History(ctx, clerk, "element", "id-b", 0, 0)
		if err != nil || len(h) != 2 || h[0].Op != "delete" || h[1].Op != "create" || !strings.Contains(h[0].Actor, "staff:7") {
			t.Fatalf("history of id-b: %v %+v", err, h)
		}
	})
}
