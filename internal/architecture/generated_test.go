package architecture

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"chancery/internal/architecture/archimate"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web/webtest"
)

// TestGeneratedViewsOfLayersAndNeighbourhoods draws the demo model's
// application layer and the LGSP's neighbourhood: pages in both languages,
// SVG from the API, the export with ?generated=layers a valid model whose
// layer views do not come twice once imported again, and a citizen, a
// wrong depth or an unknown layer refused.
func TestGeneratedViewsOfLayersAndNeighbourhoods(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := mustServer(t, db)
		s.f.mustDemo(t)
		ctx := as(architect)

		g, err := s.f.svc.LayerView(ctx, clerk, archimate.Application, "en")
		if err != nil {
			t.Fatal(err)
		}
		if len(g.View.Nodes) == 0 || g.View.Viewpoint != "Layered" {
			t.Fatalf("the application layer's view: %+v", g.View)
		}
		for _, n := range g.View.Nodes {
			if l, _ := archimate.LayerOf(string(elementType(g.Model, n.ElementRef))); l != archimate.Application {
				t.Errorf("node %s shows %s, not of the application layer", n.ID, n.ElementRef)
			}
		}
		n1, err := s.f.svc.Neighbourhood(ctx, clerk, "mofa-lgsp", 1, "vi")
		if err != nil {
			t.Fatal(err)
		}
		n2, err := s.f.svc.Neighbourhood(ctx, clerk, "mofa-lgsp", 2, "vi")
		if err != nil {
			t.Fatal(err)
		}
		if len(n1.View.Nodes) < 3 || len(n2.View.Nodes) <= len(n1.View.Nodes) || n1.View.Nodes[0].ElementRef == "" {
			t.Fatalf("neighbourhoods of depth 1 and 2: %d and %d nodes", len(n1.View.Nodes), len(n2.View.Nodes))
		}
		if _, err := s.f.svc.Neighbourhood(ctx, clerk, "mofa-lgsp", 3, "vi"); err == nil {
			t.Error("depth 3 was accepted")
		}

		for target, want := range map[string][2]string{
			"/console/architecture/layers/application?lang=":                       {"Tầng ứng dụng", "Application layer"},
			"/console/architecture/elements/mofa-lgsp/neighbourhood?depth=2&lang=": {"Lân cận của Nền tảng tích hợp", "Neighbourhood of Ministry data integration platform"},
		} {
			for i, lang := range []string{"vi", "en"} {
				rec := s.page(clerk, target+lang)
				if body := rec.Body.String(); rec.Code != http.StatusOK || !strings.Contains(body, "<svg") || !strings.Contains(body, "(LGSP)") || !strings.Contains(body, want[i]) {
					t.Errorf("%s%s: %d, or no SVG with the LGSP titled %q", target, lang, rec.Code, want[i])
				}
			}
		}
		if body := s.page(clerk, "/console/architecture").Body.String(); !strings.Contains(body, `href="/console/architecture/layers/technology"`) {
			t.Error("the repository's page does not link the layers' views")
		}
		rec := s.do(clerk, "GET", "/api/v1/architecture/elements/mofa-lgsp/neighbourhood/svg?depth=1", "", "")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/svg+xml" || !bytes.Contains(rec.Body.Bytes(), []byte("<polyline")) {
			t.Errorf("neighbourhood SVG: %d %s", rec.Code, rec.Header().Get("Content-Type"))
		}
		webtest.Problem(t, s.do(clerk, "GET", "/api/v1/architecture/layers/nowhere/svg", "", ""), http.StatusNotFound)
		webtest.Problem(t, s.do(clerk, "GET", "/api/v1/architecture/elements/mofa-lgsp/neighbourhood/svg?depth=9", "", ""), http.StatusBadRequest)
		webtest.Problem(t, s.do(clerk, "GET", "/api/v1/architecture/elements/nobody/neighbourhood/svg", "", ""), http.StatusNotFound)
		webtest.Problem(t, s.do(citizen, "GET", "/api/v1/architecture/layers/business/svg", "", ""), http.StatusForbidden)

		// The export with the layers' views is a valid model; imported and
		// exported again with them, each layer's view comes once.
		rec = s.do(architect, "GET", "/api/v1/architecture/export?generated=layers", "", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("export: %d %s", rec.Code, rec.Body)
		}
		m, err := archimate.Decode(bytes.NewReader(rec.Body.Bytes()), archimate.Limits{})
		if err != nil {
			t.Fatalf("the export with generated views does not import: %v", err)
		}
		if countView(m, LayerViewID(archimate.Application)) != 1 || countView(m, LayerViewID(archimate.Technology)) != 1 || countView(m, LayerViewID(archimate.Business)) != 0 {
			t.Fatal("the export lacks the layers' views")
		}
		if _, err := s.f.svc.Import(ctx, architect, bytes.NewReader(rec.Body.Bytes())); err != nil {
			t.Fatal(err)
		}
		again, err := s.f.svc.Export(ctx, clerk, timeZero)
		if err != nil {
			t.Fatal(err)
		}
		addLayerViews(again)
		if countView(again, LayerViewID(archimate.Application)) != 1 {
			t.Error("a layer's view came twice after a round trip")
		}
		webtest.Problem(t, s.do(architect, "GET", "/api/v1/architecture/export?generated=all", "", ""), http.StatusBadRequest)
	})
}

func elementType(m *archimate.Model, id string) archimate.Type {
	for _, e := range m.Elements {
		if e.ID == id {
			return e.Type
		}
	}
	return ""
}

func countView(m *archimate.Model, id string) int {
	n := 0
	for _, v := range m.Views {
		if v.ID == id {
			n++
		}
	}
	return n
}
