package archimate

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func mustSample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeReadsEveryPartOfTheExchangeFormat(t *testing.T) {
	m, err := Decode(bytes.NewReader(mustSample(t)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "id-model" || m.Name.In("vi") != "Hệ thống của Bộ" || m.Name.In("en") != "Ministry systems" {
		t.Errorf("model %q names %v", m.ID, m.Name)
	}
	if len(m.Elements) != 5 || m.Elements[0].Type != "ApplicationComponent" || m.Elements[0].Properties[0].Value.In("") != "Office" {
		t.Errorf("elements %+v", m.Elements)
	}
	if r := m.Relationships[2]; r.Type != "Access" || r.AccessType != "Write" {
		t.Errorf("access %+v", r)
	}
	if m.Relationships[3].Target != "id-r3" || m.Relationships[3].IsDirected != "true" {
		t.Errorf("association to a relationship %+v", m.Relationships[3])
	}
	if len(m.Organizations) != 2 || m.Organizations[0].Items[1].Items[0].IdentifierRef != "id-db" {
		t.Errorf("organisations %+v", m.Organizations)
	}
	if m.PropertyDefs[0].Name.In("en") != "Owner" {
		t.Errorf("property definitions %+v", m.PropertyDefs)
	}
	v := m.Views[0]
	if v.Viewpoint != "Layered" || v.Nodes[0].Nodes[0].ElementRef != "id-portal" || v.Nodes[0].Nodes[0].Style.FillColor.B != 255 {
		t.Errorf("view %+v", v)
	}
	if c := v.Connections[0]; len(c.Bendpoints) != 2 || c.Bendpoints[1] != (Point{220, 20}) || c.Style.LineColor == nil || *c.SourceAttachment != (Point{92, 67}) || *c.TargetAttachment != (Point{308, 67}) {
		t.Errorf("connection %+v", c)
	}
}

func TestEncodeRoundTripsKeepingIdentifiers(t *testing.T) {
	m1, err := Decode(bytes.NewReader(mustSample(t)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(m1)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<model xmlns="` + Namespace + `"`, `xmlns:xsi="` + xsiNamespace + `"`, `xsi:type="ApplicationComponent"`, `xml:lang="vi"`, `identifier="id-portal"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("export lacks %s", want)
		}
	}
	m2, err := Decode(bytes.NewReader(out), Limits{})
	if err != nil {
		t.Fatalf("re-import: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(m1, m2) {
		t.Fatalf("round trip differs:\n%+v\n%+v", m1, m2)
	}
	out2, _ := Marshal(m2)
	if !bytes.Equal(out, out2) {
		t.Fatal("second export differs from the first")
	}
}

func TestDecodeRefusesDTDsEntitiesAndBombs(t *testing.T) {
	cases := map[string]string{
		"dtd":             `<?xml version="1.0"?><!DOCTYPE model><model xmlns="` + Namespace + `" identifier="m"><name>x</name></model>`,
		"external entity": `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><model xmlns="` + Namespace + `" identifier="m"><name>&x;</name></model>`,
		"billion laughs":  `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><model xmlns="` + Namespace + `" identifier="m"><name>&lol2;</name></model>`,
	}
	for name, doc := range cases {
		_, err := Decode(strings.NewReader(doc), Limits{})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "DTD") {
			t.Errorf("%s: got %v, want a refused DTD", name, err)
		}
	}
	// An undeclared entity without a DTD is not expanded either.
	_, err := Decode(strings.NewReader(`<model xmlns="`+Namespace+`" identifier="m"><name>&x;</name></model>`), Limits{})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("undeclared entity: %v", err)
	}
}

func TestDecodeBoundsSizeAndDepth(t *testing.T) {
	big := `<model xmlns="` + Namespace + `" identifier="m"><name>` + strings.Repeat("a", 2000) + `</name></model>`
	if _, err := Decode(strings.NewReader(big), Limits{MaxBytes: 1000}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("size: %v", err)
	}
	deep := `<model xmlns="` + Namespace + `" identifier="m"><name>x</name><organizations>` + strings.Repeat("<item>", 100) + strings.Repeat("</item>", 100) + `</organizations></model>`
	if _, err := Decode(strings.NewReader(deep), Limits{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("depth: %v", err)
	}
}

func TestDecodeRefusesWhatTheLanguageForbids(t *testing.T) {
	sample := string(mustSample(t))
	cases := map[string]struct{ old, new, want string }{
		"forbidden relationship": {`source="id-portal" target="id-svc" xsi:type="Realization"`, `source="id-svc" target="id-portal" xsi:type="Realization"`, "does not allow"},
		"unknown element type":   {`xsi:type="DataObject"`, `xsi:type="Database"`, "not an ArchiMate 3.2 element type"},
		"duplicate identifier":   {`identifier="id-svc"`, `identifier="id-portal"`, "is used by"},
		"dangling relationship":  {`target="id-db" xsi:type="Access"`, `target="id-nowhere" xsi:type="Access"`, "must be elements"},
		"dangling node":          {`elementRef="id-svc"`, `elementRef="id-gone"`, "not an element of the model"},
		"dangling connection":    {`relationshipRef="id-r1"`, `relationshipRef="id-r9"`, "not a relationship"},
		"undeclared property":    {`propertyDefinitionRef="pd-owner"><value>Office`, `propertyDefinitionRef="pd-x"><value>Office`, "does not declare"},
		"bad identifier":         {`identifier="id-db"`, `identifier="1 db"`, "xs:ID"},
		"wrong namespace":        {`xmlns="` + Namespace + `"`, `xmlns="http://www.opengroup.org/xsd/archimate/2.1/"`, "root element"},
		"wrong access type":      {`accessType="Write"`, `accessType="Erase"`, "accessType"},
		// What the Open Group's schemas require, so that no import can make
		// an export that fails them.
		"zero-width node":      {`x="250" y="40" w="120"`, `x="250" y="40" w="0"`, "width and height"},
		"negative bendpoint":   {`<bendpoint x="200" y="20"/>`, `<bendpoint x="-200" y="20"/>`, "x, y ≥ 0"},
		"unknown viewpoint":    {`viewpoint="Layered"`, `viewpoint="Sideways"`, "viewpoint"},
		"untyped property def": {`type="string"><name xml:lang="en">Owner`, `><name xml:lang="en">Owner`, "type of"},
		"nameless view":        {`<name xml:lang="en">Overview</name>`, ``, "has no name"},
	}
	for name, c := range cases {
		doc := strings.Replace(sample, c.old, c.new, 1)
		if doc == sample {
			t.Fatalf("%s: the sample has no %s", name, c.old)
		}
		_, err := Decode(strings.NewReader(doc), Limits{})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(mustSample(f))
	f.Add([]byte(`<model xmlns="` + Namespace + `" identifier="m"><name>x</name></model>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><model/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(bytes.NewReader(b), Limits{MaxBytes: 1 << 20})
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		out, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := Decode(bytes.NewReader(out), Limits{MaxBytes: 4 << 20})
		if err != nil {
			t.Fatalf("an accepted document's export is refused: %v", err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip differs")
		}
		for i := range m.Views {
			svg := RenderView(m, &m.Views[i], "en")
			if err := xml.NewDecoder(bytes.NewReader(svg)).Decode(new(struct{})); err != nil {
				t.Fatalf("SVG not well-formed: %v", err)
			}
		}
	})
}
