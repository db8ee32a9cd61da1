package architecture

import (
	"testing"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestTheDemoModelImportsBesideTheReferenceContent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		ctx := as(architect)
		f.mustDemo(t)
		e, rels, err := f.svc.Element(ctx, clerk, "mofa-lgsp")
		if err != nil || e.OwnerUnit != 4 || len(rels) < 4 {
			t.Fatalf("the LGSP: %v %+v %d", err, e, len(rels))
		}
		ref, _, err := f.svc.Element(ctx, clerk, "ref-ndxp")
		if err != nil || ref.Origin != OriginReference || ref.Version != 1 {
			t.Fatalf("the demo changed reference content: %v %+v", err, ref)
		}
		if _, err := f.svc.RenderView(ctx, clerk, "mofa-view-overview", "vi"); err != nil {
			t.Fatal(err)
		}
	})
}
