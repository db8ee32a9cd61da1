package archimate

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Namespace is the Open Exchange Format's XML namespace (ArchiMate 3.x).
const Namespace = "http://www.opengroup.org/xsd/archimate/3.0/"

// xsiNamespace is the XML Schema instance namespace of xsi:type.
const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

// Model is an ArchiMate model as the Open Exchange Format carries it. The
// same structure is the codec's XML and the caller's data, so what is
// decoded and encoded again keeps every identifier and every field.
type Model struct {
	XMLName       xml.Name       `xml:"http://www.opengroup.org/xsd/archimate/3.0/ model" json:"-"`
	XSI           string         `xml:"xmlns:xsi,attr,omitempty" json:"-"`
	ID            string         `xml:"identifier,attr" json:"id,omitempty"`
	Version       string         `xml:"version,attr,omitempty" json:"version,omitempty"`
	Name          Text           `xml:"name" json:"name,omitempty"`
	Documentation Text           `xml:"documentation" json:"documentation,omitempty"`
	Properties    Properties     `xml:"properties" json:"properties,omitempty"`
	Elements      []Element      `xml:"elements>element" json:"elements,omitempty"`
	Relationships []Relationship `xml:"relationships>relationship" json:"relationships,omitempty"`
	Organizations []Item         `xml:"organizations>item" json:"organizations,omitempty"`
	PropertyDefs  []PropertyDef  `xml:"propertyDefinitions>propertyDefinition" json:"propertyDefinitions,omitempty"`
	Views         []View         `xml:"views>diagrams>view" json:"views,omitempty"`
}

// LangString is one language's text of a name, label or documentation.
type LangString struct {
	Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty" json:"lang,omitempty"`
	Text string `xml:",chardata" json:"text,omitempty"`
}

// Text is a multilingual string: one LangString per language.
type Text []LangString

// In returns the text in language lang, else the first one, else "".
func (t Text) In(lang string) string {
	for _, s := range t {
		if s.Lang == lang {
			return s.Text
		}
	}
	if len(t) > 0 {
		return t[0].Text
	}
	return ""
}

// Type is an xsi:type attribute: written with the xsi prefix the root
// declares, read in the XML Schema instance namespace whatever its prefix.
type Type string

// MarshalXMLAttr writes xsi:type.
func (t Type) MarshalXMLAttr(xml.Name) (xml.Attr, error) {
	if t == "" {
		return xml.Attr{}, nil
	}
	return xml.Attr{Name: xml.Name{Local: "xsi:type"}, Value: string(t)}, nil
}

// UnmarshalXMLAttr reads xsi:type.
func (t *Type) UnmarshalXMLAttr(a xml.Attr) error { *t = Type(a.Value); return nil }

// Property is a value of a property definition on a concept or a view.
type Property struct {
	Ref   string `xml:"propertyDefinitionRef,attr" json:"propertyDefinitionRef,omitempty"`
	Value Text   `xml:"value" json:"value,omitempty"`
}

// PropertyDef declares a property: its identifier, name and data type
// (string, boolean, currency, date, time or number).
type PropertyDef struct {
	ID   string `xml:"identifier,attr" json:"id,omitempty"`
	Type string `xml:"type,attr,omitempty" json:"type,omitempty"`
	Name Text   `xml:"name" json:"name,omitempty"`
}

// Element is an element of the model; Type is its xsi:type.
type Element struct {
	ID            string     `xml:"identifier,attr" json:"id,omitempty"`
	Type          Type       `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr" json:"type,omitempty"`
	Name          Text       `xml:"name" json:"name,omitempty"`
	Documentation Text       `xml:"documentation" json:"documentation,omitempty"`
	Properties    Properties `xml:"properties" json:"properties,omitempty"`
}

// Relationship joins Source to Target; each is an element's or another
// relationship's identifier. AccessType is for access relationships,
// IsDirected for associations, Modifier for influence.
type Relationship struct {
	ID            string     `xml:"identifier,attr" json:"id,omitempty"`
	Type          Type       `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr" json:"type,omitempty"`
	Source        string     `xml:"source,attr" json:"source,omitempty"`
	Target        string     `xml:"target,attr" json:"target,omitempty"`
	AccessType    string     `xml:"accessType,attr,omitempty" json:"accessType,omitempty"`
	IsDirected    string     `xml:"isDirected,attr,omitempty" json:"isDirected,omitempty"`
	Modifier      string     `xml:"modifier,attr,omitempty" json:"modifier,omitempty"`
	Name          Text       `xml:"name" json:"name,omitempty"`
	Documentation Text       `xml:"documentation" json:"documentation,omitempty"`
	Properties    Properties `xml:"properties" json:"properties,omitempty"`
}

// Item is an organisation (folder) with a label and items, or a reference
// to a concept or view by IdentifierRef.
type Item struct {
	IdentifierRef string `xml:"identifierRef,attr,omitempty" json:"identifierRef,omitempty"`
	Label         Text   `xml:"label" json:"label,omitempty"`
	Documentation Text   `xml:"documentation" json:"documentation,omitempty"`
	Items         []Item `xml:"item" json:"items,omitempty"`
}

// View is a diagram: nodes (nested), connections between them.
type View struct {
	ID            string       `xml:"identifier,attr" json:"id,omitempty"`
	Type          Type         `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr" json:"type,omitempty"`
	Viewpoint     string       `xml:"viewpoint,attr,omitempty" json:"viewpoint,omitempty"`
	Name          Text         `xml:"name" json:"name,omitempty"`
	Documentation Text         `xml:"documentation" json:"documentation,omitempty"`
	Properties    Properties   `xml:"properties" json:"properties,omitempty"`
	Nodes         []Node       `xml:"node" json:"nodes,omitempty"`
	Connections   []Connection `xml:"connection" json:"connections,omitempty"`
}

// Node is a box on a view: an element's (Type "Element", ElementRef), a
// label's or a container's (Type "Label" or "Container", Label). X, Y, W and
// H are in the view's absolute coordinates, nested nodes too.
type Node struct {
	ID         string `xml:"identifier,attr" json:"id,omitempty"`
	Type       Type   `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr" json:"type,omitempty"`
	ElementRef string `xml:"elementRef,attr,omitempty" json:"elementRef,omitempty"`
	X          int    `xml:"x,attr" json:"x,omitempty"`
	Y          int    `xml:"y,attr" json:"y,omitempty"`
	W          int    `xml:"w,attr" json:"w,omitempty"`
	H          int    `xml:"h,attr" json:"h,omitempty"`
	Label      Text   `xml:"label" json:"label,omitempty"`
	Style      *Style `xml:"style" json:"style,omitempty"`
	Nodes      []Node `xml:"node" json:"nodes,omitempty"`
}

// Connection is a line on a view between two nodes (Source, Target are node
// identifiers): a relationship's (Type "Relationship", RelationshipRef) or
// a plain line (Type "Line").
type Connection struct {
	ID              string `xml:"identifier,attr" json:"id,omitempty"`
	Type            Type   `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr" json:"type,omitempty"`
	RelationshipRef string `xml:"relationshipRef,attr,omitempty" json:"relationshipRef,omitempty"`
	Source          string `xml:"source,attr" json:"source,omitempty"`
	Target          string `xml:"target,attr" json:"target,omitempty"`
	Label           Text   `xml:"label" json:"label,omitempty"`
	Style           *Style `xml:"style" json:"style,omitempty"`
	// SourceAttachment and TargetAttachment are where the line meets its
	// nodes, when the tool fixed them (Archi does); the schema puts them
	// around the bendpoints.
	SourceAttachment *Point  `xml:"sourceAttachment" json:"sourceAttachment,omitempty"`
	Bendpoints       []Point `xml:"bendpoint" json:"bendpoints,omitempty"`
	TargetAttachment *Point  `xml:"targetAttachment" json:"targetAttachment,omitempty"`
}

// Point is a connection's bendpoint.
type Point struct {
	X int `xml:"x,attr" json:"x,omitempty"`
	Y int `xml:"y,attr" json:"y,omitempty"`
}

// Style is a node's or connection's look. The fields are in the schema's
// order (StyleType: lineColor, fillColor, font), which Encode follows.
type Style struct {
	LineWidth string `xml:"lineWidth,attr,omitempty" json:"lineWidth,omitempty"`
	LineColor *Color `xml:"lineColor" json:"lineColor,omitempty"`
	FillColor *Color `xml:"fillColor" json:"fillColor,omitempty"`
	Font      *Font  `xml:"font" json:"font,omitempty"`
}

// Color is RGB with an optional alpha (0–100 in the format).
type Color struct {
	R uint8  `xml:"r,attr" json:"r,omitempty"`
	G uint8  `xml:"g,attr" json:"g,omitempty"`
	B uint8  `xml:"b,attr" json:"b,omitempty"`
	A string `xml:"a,attr,omitempty" json:"a,omitempty"`
}

// Font is a style's font.
type Font struct {
	Name  string `xml:"name,attr,omitempty" json:"name,omitempty"`
	Size  string `xml:"size,attr,omitempty" json:"size,omitempty"`
	Style string `xml:"style,attr,omitempty" json:"style,omitempty"`
	Color *Color `xml:"color" json:"color,omitempty"`
}

// Limits bound what Decode accepts.
type Limits struct {
	// MaxBytes bounds the document's size. If zero, 64 MiB.
	MaxBytes int64
	// MaxDepth bounds element nesting. If zero, 64.
	MaxDepth int
	// MaxConcepts bounds elements + relationships + views + nodes +
	// connections. If zero, 500,000.
	MaxConcepts int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 64 << 20
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 64
	}
	if l.MaxConcepts <= 0 {
		l.MaxConcepts = 500_000
	}
	return l
}

// ErrTooLarge reports a document over a Limits bound.
var ErrTooLarge = errors.New("archimate: document too large")

// guard passes the tokens of a document on, refusing what the importer
// never accepts: any DTD (so no entity can be declared, expanded or fetched),
// nesting past MaxDepth and more start elements than the concepts allow.
type guard struct {
	d      *xml.Decoder
	lim    Limits
	depth  int
	starts int
}

func (g *guard) Token() (xml.Token, error) {
	tok, err := g.d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case xml.Directive:
		return nil, fmt.Errorf("%w: the document has a DTD (<!%s…>); the exchange format needs none, and DTDs and entities are refused", ErrInvalid, clip(strings.TrimSpace(string(t))))
	case xml.StartElement:
		g.depth++
		g.starts++
		if g.depth > g.lim.MaxDepth {
			return nil, fmt.Errorf("%w: elements nested deeper than %d", ErrTooLarge, g.lim.MaxDepth)
		}
		// Each concept is a handful of XML elements (name, documentation,
		// properties); sixteen each is far above any real document.
		if g.starts > 16*g.lim.MaxConcepts {
			return nil, fmt.Errorf("%w: more than %d XML elements", ErrTooLarge, 16*g.lim.MaxConcepts)
		}
	case xml.EndElement:
		g.depth--
	case xml.ProcInst:
		if t.Target != "xml" {
			return nil, fmt.Errorf("%w: processing instruction <?%s?> refused", ErrInvalid, clip(t.Target))
		}
	}
	return tok, nil
}

// Decode reads an Open Exchange Format document and checks it with Check.
// It refuses a DTD (and so every entity), documents past lim, a root other
// than the 3.0 namespace's model, and a model that breaks the language.
// Errors wrap ErrInvalid or ErrTooLarge and say what was wrong.
func Decode(r io.Reader, lim Limits) (*Model, error) {
	lim = lim.withDefaults()
	lr := &io.LimitedReader{R: r, N: lim.MaxBytes + 1}
	d := xml.NewDecoder(lr)
	d.Strict = true
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") {
			return in, nil
		}
		return nil, fmt.Errorf("%w: encoding %q; the exchange format is read in UTF-8 only", ErrInvalid, clip(label))
	}
	var m Model
	err := xml.NewTokenDecoder(&guard{d: d, lim: lim}).Decode(&m)
	if lr.N <= 0 {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	if err != nil {
		if errors.Is(err, ErrInvalid) || errors.Is(err, ErrTooLarge) {
			return nil, err
		}
		if err == io.EOF {
			return nil, fmt.Errorf("%w: the document is empty", ErrInvalid)
		}
		var se xml.UnmarshalError
		if errors.As(err, &se) && strings.HasPrefix(string(se), "expected element") {
			return nil, fmt.Errorf("%w: the root element is not <model> in namespace %s", ErrInvalid, Namespace)
		}
		return nil, fmt.Errorf("%w: not well-formed XML: %s", ErrInvalid, clip(err.Error()))
	}
	if err := Check(&m, lim.MaxConcepts); err != nil {
		return nil, err
	}
	return &m, nil
}

// Encode writes m as an Open Exchange Format document, indented, UTF-8.
func Encode(w io.Writer, m *Model) error {
	c := *m
	c.XSI = xsiNamespace
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	e := xml.NewEncoder(w)
	e.Indent("", "  ")
	if err := e.Encode(&c); err != nil {
		return fmt.Errorf("encode exchange format: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// Marshal returns Encode's document as bytes.
func Marshal(m *Model) ([]byte, error) {
	var b bytes.Buffer
	err := Encode(&b, m)
	return b.Bytes(), err
}

// ncName is xs:ID's lexical space (an NCName), ASCII-restricted to stay
// portable across tools, plus the characters Archi uses ("id-" + hex).
var ncName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$`)

// Check verifies what the exchange format's schema and the language
// require: identifiers unique and well-formed, every type known, every
// reference resolving, and every relationship allowed by Appendix B.
func Check(m *Model, maxConcepts int) error {
	if maxConcepts <= 0 {
		maxConcepts = Limits{}.withDefaults().MaxConcepts
	}
	ids := map[string]string{}
	claim := func(id, what string) error {
		if !ncName.MatchString(id) {
			return fmt.Errorf("%w: %s identifier %q is not an xs:ID (a letter or _, then letters, digits, _ . -, at most 128)", ErrInvalid, what, clip(id))
		}
		if prev, dup := ids[id]; dup {
			return fmt.Errorf("%w: identifier %q is used by a %s and a %s", ErrInvalid, id, prev, what)
		}
		ids[id] = what
		return nil
	}
	if err := claim(m.ID, "model"); err != nil {
		return err
	}
	if len(m.Name) == 0 {
		return fmt.Errorf("%w: the model has no name", ErrInvalid)
	}
	n := len(m.Elements) + len(m.Relationships) + len(m.Views)
	if n > maxConcepts {
		return fmt.Errorf("%w: %d concepts, more than %d", ErrTooLarge, n, maxConcepts)
	}
	for _, p := range m.PropertyDefs {
		if err := claim(p.ID, "property definition"); err != nil {
			return err
		}
		if !slices.Contains(dataTypes, p.Type) || len(p.Name) == 0 {
			return fmt.Errorf("%w: property definition %s needs a name and a type of %s (it has %q)", ErrInvalid, p.ID, strings.Join(dataTypes, ", "), clip(p.Type))
		}
	}
	elementType := map[string]string{}
	for _, e := range m.Elements {
		if err := claim(e.ID, "element"); err != nil {
			return err
		}
		if _, ok := LayerOf(string(e.Type)); !ok {
			return fmt.Errorf("%w: element %s has type %q, not an ArchiMate 3.2 element type", ErrInvalid, e.ID, clip(string(e.Type)))
		}
		elementType[e.ID] = string(e.Type)
	}
	relType := map[string]string{}
	for _, r := range m.Relationships {
		if err := claim(r.ID, "relationship"); err != nil {
			return err
		}
		relType[r.ID] = string(r.Type)
	}
	endpoint := func(id string) (Endpoint, bool) {
		if t, ok := elementType[id]; ok {
			return Endpoint{Type: t}, true
		}
		if t, ok := relType[id]; ok {
			return Endpoint{Type: t, Relationship: true}, true
		}
		return Endpoint{}, false
	}
	for _, r := range m.Relationships {
		src, ok1 := endpoint(r.Source)
		tgt, ok2 := endpoint(r.Target)
		if !ok1 || !ok2 {
			return fmt.Errorf("%w: relationship %s joins %q and %q; both must be elements or relationships of the model", ErrInvalid, r.ID, clip(r.Source), clip(r.Target))
		}
		if err := CheckRelationship(string(r.Type), src, tgt); err != nil {
			return fmt.Errorf("relationship %s: %w", r.ID, err)
		}
		if r.AccessType != "" && (r.Type != "Access" || !IsAccessType(r.AccessType)) {
			return fmt.Errorf("%w: relationship %s has accessType %q; only an Access relationship has one, of %s", ErrInvalid, r.ID, clip(r.AccessType), strings.Join(accessTypes, ", "))
		}
	}
	for _, v := range m.Views {
		if err := claim(v.ID, "view"); err != nil {
			return err
		}
		if len(v.Name) == 0 {
			return fmt.Errorf("%w: view %s has no name", ErrInvalid, v.ID)
		}
		if v.Viewpoint != "" && !slices.Contains(viewpoints, v.Viewpoint) {
			return fmt.Errorf("%w: view %s has viewpoint %q, not one of the specification's", ErrInvalid, v.ID, clip(v.Viewpoint))
		}
	}
	defs := map[string]bool{}
	for _, p := range m.PropertyDefs {
		defs[p.ID] = true
	}
	if err := checkProps(m.Properties, defs, "the model"); err != nil {
		return err
	}
	for _, e := range m.Elements {
		if err := checkProps(e.Properties, defs, "element "+e.ID); err != nil {
			return err
		}
	}
	for _, r := range m.Relationships {
		if err := checkProps(r.Properties, defs, "relationship "+r.ID); err != nil {
			return err
		}
	}
	shapes := 0
	for _, v := range m.Views {
		if err := checkProps(v.Properties, defs, "view "+v.ID); err != nil {
			return err
		}
		nodes := map[string]bool{}
		var walk func([]Node) error
		walk = func(ns []Node) error {
			for _, nd := range ns {
				shapes++
				if err := claim(nd.ID, "node"); err != nil {
					return err
				}
				nodes[nd.ID] = true
				if nd.X < 0 || nd.Y < 0 || nd.W <= 0 || nd.H <= 0 {
					return fmt.Errorf("%w: node %s of view %s is at %d,%d sized %d×%d; the schema wants x, y ≥ 0 and a width and height ≥ 1", ErrInvalid, nd.ID, v.ID, nd.X, nd.Y, nd.W, nd.H)
				}
				switch nd.Type {
				case "Element":
					if _, ok := elementType[nd.ElementRef]; !ok {
						return fmt.Errorf("%w: node %s of view %s shows %q, not an element of the model", ErrInvalid, nd.ID, v.ID, clip(nd.ElementRef))
					}
				case "Label", "Container":
				default:
					return fmt.Errorf("%w: node %s has type %q (Element, Label or Container)", ErrInvalid, nd.ID, clip(string(nd.Type)))
				}
				if err := walk(nd.Nodes); err != nil {
					return err
				}
			}
			return nil
		}
		if err := walk(v.Nodes); err != nil {
			return err
		}
		for _, c := range v.Connections {
			shapes++
			if err := claim(c.ID, "connection"); err != nil {
				return err
			}
			if p, ok := c.pointsOK(); !ok {
				return fmt.Errorf("%w: connection %s of view %s has a point at %d,%d; the schema wants x, y ≥ 0", ErrInvalid, c.ID, v.ID, p.X, p.Y)
			}
			if !nodes[c.Source] || !nodes[c.Target] {
				return fmt.Errorf("%w: connection %s of view %s joins %q and %q, not both nodes of the view", ErrInvalid, c.ID, v.ID, clip(c.Source), clip(c.Target))
			}
			switch c.Type {
			case "Relationship":
				if _, ok := relType[c.RelationshipRef]; !ok {
					return fmt.Errorf("%w: connection %s shows %q, not a relationship of the model", ErrInvalid, c.ID, clip(c.RelationshipRef))
				}
			case "Line":
			default:
				return fmt.Errorf("%w: connection %s has type %q (Relationship or Line)", ErrInvalid, c.ID, clip(string(c.Type)))
			}
		}
	}
	if n+shapes > maxConcepts {
		return fmt.Errorf("%w: %d concepts and shapes, more than %d", ErrTooLarge, n+shapes, maxConcepts)
	}
	var walkItems func([]Item) error
	walkItems = func(items []Item) error {
		for _, it := range items {
			if it.IdentifierRef != "" {
				if _, ok := ids[it.IdentifierRef]; !ok {
					return fmt.Errorf("%w: an organisation refers to %q, which is not in the model", ErrInvalid, clip(it.IdentifierRef))
				}
			}
			if err := walkItems(it.Items); err != nil {
				return err
			}
		}
		return nil
	}
	return walkItems(m.Organizations)
}

func checkProps(ps []Property, defs map[string]bool, where string) error {
	for _, p := range ps {
		if !defs[p.Ref] {
			return fmt.Errorf("%w: a property of %s refers to definition %q, which the model does not declare", ErrInvalid, where, clip(p.Ref))
		}
	}
	return nil
}

// pointsOK reports whether the connection's attachments and bendpoints
// are all at x, y ≥ 0, as the schema's LocationType wants; else the first
// point that is not.
func (c *Connection) pointsOK() (Point, bool) {
	for _, p := range c.Bendpoints {
		if p.X < 0 || p.Y < 0 {
			return p, false
		}
	}
	for _, p := range []*Point{c.SourceAttachment, c.TargetAttachment} {
		if p != nil && (p.X < 0 || p.Y < 0) {
			return *p, false
		}
	}
	return Point{}, true
}

// dataTypes are a property definition's types (the model schema's DataType).
var dataTypes = []string{"string", "boolean", "currency", "date", "time", "number"}

// viewpoints are the values of a view's viewpoint attribute (the view
// schema's ViewpointsEnum: ArchiMate 3.1's example viewpoints).
var viewpoints = []string{"Organization", "Application Platform", "Application Structure", "Information Structure", "Technology", "Layered", "Physical", "Product", "Application Usage", "Technology Usage", "Business Process Cooperation", "Application Cooperation", "Service Realization", "Implementation and Deployment", "Goal Realization", "Goal Contribution", "Principles", "Requirements Realization", "Motivation", "Strategy", "Capability Map", "Outcome Realization", "Resource Map", "Value Stream", "Project", "Migration", "Implementation and Migration", "Stakeholder"}

// IsIdentifier reports whether id is an identifier the exchange format
// accepts (an xs:ID, restricted as Check restricts it).
func IsIdentifier(id string) bool { return ncName.MatchString(id) }

// Bytes returns the size bound the limits give, defaults applied.
func (l Limits) Bytes() int64 { return l.withDefaults().MaxBytes }

// The schema's list wrappers (properties, elements, relationships,
// organizations, propertyDefinitions, diagrams) must hold at least one
// item, but encoding/xml writes a field's parent elements even for an empty
// slice. Encode therefore writes the concepts that carry such lists
// through these mirrors, whose wrappers are nil pointers when empty.
type (
	elementsXML struct {
		E []Element `xml:"element"`
	}
	relsXML struct {
		R []Relationship `xml:"relationship"`
	}
	orgsXML struct {
		I []Item `xml:"item"`
	}
	defsXML struct {
		D []PropertyDef `xml:"propertyDefinition"`
	}
	viewsXML struct {
		V []View `xml:"diagrams>view"`
	}
)

// Properties is a concept's list of properties; it writes no
// <properties> element when empty.
type Properties []Property

// MarshalXML writes <properties> and its items, or nothing when empty.
func (ps Properties) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if len(ps) == 0 {
		return nil
	}
	return e.EncodeElement(struct {
		P []Property `xml:"property"`
	}{ps}, start)
}

// UnmarshalXML reads <properties>.
func (ps *Properties) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var in struct {
		P []Property `xml:"property"`
	}
	if err := d.DecodeElement(&in, &start); err != nil {
		return err
	}
	*ps = append(*ps, in.P...)
	return nil
}

// MarshalXML writes the model in the schema's order, no empty list.
func (m Model) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	out := struct {
		XSI           string       `xml:"xmlns:xsi,attr,omitempty"`
		ID            string       `xml:"identifier,attr"`
		Version       string       `xml:"version,attr,omitempty"`
		Name          Text         `xml:"name"`
		Documentation Text         `xml:"documentation"`
		Properties    Properties   `xml:"properties"`
		Elements      *elementsXML `xml:"elements"`
		Relationships *relsXML     `xml:"relationships"`
		Organizations *orgsXML     `xml:"organizations"`
		PropertyDefs  *defsXML     `xml:"propertyDefinitions"`
		Views         *viewsXML    `xml:"views"`
	}{XSI: m.XSI, ID: m.ID, Version: m.Version, Name: m.Name, Documentation: m.Documentation, Properties: m.Properties}
	if len(m.Elements) > 0 {
		out.Elements = &elementsXML{m.Elements}
	}
	if len(m.Relationships) > 0 {
		out.Relationships = &relsXML{m.Relationships}
	}
	if len(m.Organizations) > 0 {
		out.Organizations = &orgsXML{m.Organizations}
	}
	if len(m.PropertyDefs) > 0 {
		out.PropertyDefs = &defsXML{m.PropertyDefs}
	}
	if len(m.Views) > 0 {
		out.Views = &viewsXML{m.Views}
	}
	start.Name = xml.Name{Space: Namespace, Local: "model"}
	return e.EncodeElement(out, start)
}
