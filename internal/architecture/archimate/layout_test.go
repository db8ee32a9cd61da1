package archimate

import (
	"bytes"
	"fmt"
	"testing"
)

// TestLayoutPlacesLayersInBandsWithoutOverlaps lays out every element of
// every type (61 boxes, many more than a row holds) with a relationship of
// each type: no two boxes overlap, the view fits 1366 px, business is
// above application above technology, and the result is a view the
// schemas and the SVG renderer accept.
func TestLayoutPlacesLayersInBandsWithoutOverlaps(t *testing.T) {
	m := everyConcept(t)
	var ids []string
	for _, e := range m.Elements {
		ids = append(ids, e.ID)
	}
	v := Layout(m, "gen-all", Text{{Text: "All"}}, append(ids, "e-nowhere", ids[0]), nil)
	if len(v.Nodes) != len(m.Elements) {
		t.Fatalf("%d nodes for %d elements (unknown and repeated ones are skipped)", len(v.Nodes), len(m.Elements))
	}
	want := 0 // relationships between two different elements shown
	for _, r := range m.Relationships {
		if r.Source != r.Target {
			want++
		}
	}
	if len(v.Connections) != want || want == 0 {
		t.Errorf("%d connections for %d relationships between two elements", len(v.Connections), want)
	}
	top := map[Layer]int{}
	bottom := map[Layer]int{}
	for i, a := range v.Nodes {
		if a.X+a.W > 1366-margin {
			t.Errorf("node %s reaches x=%d, past 1366 px", a.ID, a.X+a.W)
		}
		for _, b := range v.Nodes[i+1:] {
			if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
				t.Fatalf("nodes %s and %s overlap: %+v %+v", a.ID, b.ID, a, b)
			}
		}
		l, _ := LayerOf(a.ElementRef[len("e-"):])
		if _, ok := top[l]; !ok || a.Y < top[l] {
			top[l] = a.Y
		}
		bottom[l] = max(bottom[l], a.Y+a.H)
	}
	if !(bottom[Business] < top[Application] && bottom[Application] < top[Technology]) {
		t.Errorf("bands out of order: business %d–%d, application %d–%d, technology %d–%d",
			top[Business], bottom[Business], top[Application], bottom[Application], top[Technology], bottom[Technology])
	}
	m.Views = append(m.Views, v)
	if err := Check(m, 0); err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSchema(out); err != nil {
		t.Fatal(err)
	}
	if svg := RenderView(m, &m.Views[len(m.Views)-1], "en"); !bytes.Contains(svg, []byte("ApplicationComponent")) {
		t.Error("the generated view's SVG lacks its boxes")
	}
}

func TestNeighbourhoodFollowsRelationshipsToTheDepthAsked(t *testing.T) {
	m := &Model{}
	// a chain e0 — e1 — e2 — e3, and e1 — e4
	for i := range 5 {
		m.Elements = append(m.Elements, Element{ID: fmt.Sprint("e", i), Type: "ApplicationComponent", Name: Text{{Text: fmt.Sprint("E", i)}}})
	}
	for i, p := range [][2]string{{"e0", "e1"}, {"e1", "e2"}, {"e2", "e3"}, {"e4", "e1"}} {
		m.Relationships = append(m.Relationships, Relationship{ID: fmt.Sprint("r", i), Type: "Serving", Source: p[0], Target: p[1]})
	}
	for _, c := range []struct {
		depth, limit int
		want         string
	}{{0, 0, "[e1]"}, {1, 0, "[e1 e0 e2 e4]"}, {2, 0, "[e1 e0 e2 e4 e3]"}, {2, 3, "[e1 e0 e2]"}} {
		if got := fmt.Sprint(Neighbourhood(m, "e1", c.depth, c.limit)); got != c.want {
			t.Errorf("depth %d limit %d: %s, want %s", c.depth, c.limit, got, c.want)
		}
	}
}
