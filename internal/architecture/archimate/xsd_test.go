package archimate

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"chancery/internal/architecture/archimate/archimatetest"
)

// everyConcept is a model with one element of every type, every
// relationship type the language allows between some pair of them, a
// property on each kind of concept, nested organisations and a view with
// every kind of node and connection, styled: every part Encode can write.
func everyConcept(t *testing.T) *Model {
	t.Helper()
	m := &Model{ID: "id-all", Version: "1", Name: Text{{Lang: "en", Text: "Every concept"}, {Lang: "vi", Text: "Mọi khái niệm"}},
		Documentation: Text{{Lang: "en", Text: "  kept as written  "}},
		PropertyDefs:  []PropertyDef{{ID: "pd-1", Type: "string", Name: Text{{Text: "Owner"}}}},
		Properties:    []Property{{Ref: "pd-1", Value: Text{{Lang: "vi", Text: "Cục Cơ yếu – CNTT"}}}},
	}
	prop := []Property{{Ref: "pd-1", Value: Text{{Text: "x"}}}}
	var types []string
	for _, l := range Layers() {
		types = append(types, ElementTypes(l)...)
	}
	for _, typ := range types {
		e := Element{ID: "e-" + typ, Type: Type(typ), Name: Text{{Lang: "en", Text: typ}}, Documentation: Text{{Text: "doc"}}, Properties: prop}
		m.Elements = append(m.Elements, e)
	}
	// One relationship of each type between the first pair that allows it.
	for _, rt := range RelationshipTypes() {
	pairs:
		for _, s := range types {
			for _, d := range types {
				if CheckRelationship(rt, Endpoint{Type: s}, Endpoint{Type: d}) != nil {
					continue
				}
				r := Relationship{ID: "r-" + rt, Type: Type(rt), Source: "e-" + s, Target: "e-" + d, Name: Text{{Text: rt}}, Properties: prop}
				switch rt {
				case "Access":
					r.AccessType = "ReadWrite"
				case "Association":
					r.IsDirected = "true"
				case "Influence":
					r.Modifier = "+"
				}
				m.Relationships = append(m.Relationships, r)
				break pairs
			}
		}
	}
	if len(m.Relationships) != len(RelationshipTypes()) {
		t.Fatalf("found a pair for %d of %d relationship types", len(m.Relationships), len(RelationshipTypes()))
	}
	r0 := m.Relationships[0]
	style := &Style{LineWidth: "2", LineColor: &Color{R: 1, G: 2, B: 3}, FillColor: &Color{R: 255, G: 255, B: 181, A: "100"}, Font: &Font{Name: "Sans", Size: "9", Style: "bold", Color: &Color{}}}
	m.Views = []View{{ID: "v-1", Type: "Diagram", Viewpoint: "Layered", Name: Text{{Text: "All"}}, Documentation: Text{{Text: "doc"}}, Properties: prop,
		Nodes: []Node{
			{ID: "n-group", Type: "Container", X: 0, Y: 0, W: 400, H: 300, Label: Text{{Text: "Group"}}, Style: style, Nodes: []Node{
				{ID: "n-src", Type: "Element", ElementRef: r0.Source, X: 20, Y: 40, W: 120, H: 55, Style: style},
			}},
			{ID: "n-dst", Type: "Element", ElementRef: r0.Target, X: 500, Y: 40, W: 120, H: 55},
			{ID: "n-note", Type: "Label", X: 20, Y: 350, W: 200, H: 40, Label: Text{{Lang: "vi", Text: "Ghi chú"}}},
		},
		Connections: []Connection{
			{ID: "c-rel", Type: "Relationship", RelationshipRef: r0.ID, Source: "n-src", Target: "n-dst", Label: Text{{Text: "l"}}, Style: style,
				SourceAttachment: &Point{X: 80, Y: 67}, Bendpoints: []Point{{X: 300, Y: 20}}, TargetAttachment: &Point{X: 560, Y: 67}},
			{ID: "c-line", Type: "Line", Source: "n-note", Target: "n-dst"},
		},
	}}
	m.Organizations = []Item{{Label: Text{{Text: "Folder"}}, Documentation: Text{{Text: "doc"}}, Items: []Item{
		{IdentifierRef: "e-Node"}, {Label: Text{{Text: "Views"}}, Items: []Item{{IdentifierRef: "v-1"}}},
	}}}
	if err := Check(m, 0); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestExportValidatesAgainstTheOpenGroupSchemas(t *testing.T) {
	validate := archimatetest.Validator(t)
	sample, err := Decode(bytes.NewReader(mustSample(t)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*Model{"sample.xml": sample, "every-concept.xml": everyConcept(t), "minimal.xml": {ID: "id-m", Name: Text{{Text: "m"}}}} {
		out, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(name, out); err != nil {
			t.Errorf("the export of %s does not validate: %v", name, err)
		}
	}
	// The validator does refuse what breaks the schemas: an element before
	// its name, a style's colours out of order, a zero-width node.
	good, _ := Marshal(sample)
	for what, bad := range map[string]string{
		"documentation before the name": strings.Replace(string(good), "<name xml:lang=\"en\">Ministry systems</name>", "<documentation>x</documentation><name xml:lang=\"en\">Ministry systems</name>", 1),
		"fillColor before lineColor":    strings.Replace(string(good), `<style lineWidth="1">`, `<style lineWidth="1"><fillColor r="1" g="1" b="1"></fillColor>`, 1),
		"a node 0 wide":                 strings.Replace(string(good), `w="120"`, `w="0"`, 1),
		"an unknown xsi:type":           strings.Replace(string(good), `xsi:type="DataObject"`, `xsi:type="Database"`, 1),
	} {
		if bad == string(good) {
			t.Fatalf("%s: the mutation did not apply", what)
		}
		if validate("bad.xml", []byte(bad)) == nil {
			t.Errorf("a document with %s validated", what)
		}
	}
}

// TestArchiExportRoundTrips imports a file Archi itself exported and
// exports it again: the schemas accept the export, and reading it back
// gives the same model, every identifier, attachment and bendpoint kept.
func TestArchiExportRoundTrips(t *testing.T) {
	in := archimatetest.ArchiExport(t)
	m1, err := Decode(bytes.NewReader(in), Limits{})
	if err != nil {
		t.Fatalf("Archi's export does not import: %v", err)
	}
	c := m1.Views[0].Connections[0]
	if c.SourceAttachment == nil || *c.SourceAttachment != (Point{X: 35, Y: 138}) || c.TargetAttachment == nil || *c.TargetAttachment != (Point{X: 35, Y: 70}) {
		t.Errorf("connection %s lost its attachments: %+v", c.ID, c)
	}
	out, err := Marshal(m1)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Decode(bytes.NewReader(out), Limits{})
	if err != nil {
		t.Fatalf("re-import: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(m1, m2) {
		t.Fatalf("round trip differs:\n%+v\n%+v", m1, m2)
	}
	for _, id := range []string{"id-019dd58b-68f1-7486-8548-1584050b4711", "id-019dd58d-4fcc-7b66-bbe6-ad9d4c3efc06", "id-019dd58c-fbb9-73fa-8251-f74d2a8b73f6"} {
		if !bytes.Contains(out, []byte(`identifier="`+id+`"`)) {
			t.Errorf("the export lost identifier %s", id)
		}
	}
	validate := archimatetest.Validator(t)
	if err := validate("archi.xml", in); err != nil {
		t.Fatalf("Archi's own file does not validate (the schemas or the validator are wrong): %v", err)
	}
	if err := validate("archi-again.xml", out); err != nil {
		t.Errorf("the re-export does not validate: %v", err)
	}
}
