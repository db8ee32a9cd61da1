package archimate

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// What The Open Group's ArchiMate 3.1 exchange schemas (archimate3_Model,
// _View and _Diagram.xsd) require of a document, written out from reading
// them, so that every build checks the exports' structure even where
// xmllint and the schemas are missing (TestExportValidatesAgainstTheOpenGroupSchemas
// validates with the schemas themselves).

// schemaSeq is an element's content model: its children in the order the
// schema's sequence gives, each with its least and most occurrences
// (-1: unbounded), and its required attributes.
type schemaSeq struct {
	children []schemaChild
	attrs    []string
}

type schemaChild struct {
	name     string
	min, max int
}

func seq(attrs []string, children ...schemaChild) schemaSeq {
	return schemaSeq{children: children, attrs: attrs}
}

func ch(name string, min, max int) schemaChild { return schemaChild{name, min, max} }

// schemaElements maps an element's path suffix (parent/child, or the name
// alone) to its content model.
var schemaElements = map[string]schemaSeq{
	"model": seq([]string{"identifier"}, ch("name", 1, -1), ch("documentation", 0, -1), ch("properties", 0, 1), ch("metadata", 0, 1),
		ch("elements", 0, 1), ch("relationships", 0, 1), ch("organizations", 0, -1), ch("propertyDefinitions", 0, 1), ch("views", 0, 1)),
	"properties":          seq(nil, ch("property", 1, -1)),
	"property":            seq([]string{"propertyDefinitionRef"}, ch("value", 0, -1)),
	"elements":            seq(nil, ch("element", 1, -1)),
	"element":             seq([]string{"identifier", "xsi:type"}, ch("name", 0, -1), ch("documentation", 0, -1), ch("properties", 0, 1)),
	"relationships":       seq(nil, ch("relationship", 1, -1)),
	"relationship":        seq([]string{"identifier", "xsi:type", "source", "target"}, ch("name", 0, -1), ch("documentation", 0, -1), ch("properties", 0, 1)),
	"organizations":       seq(nil, ch("item", 1, -1)),
	"item":                seq(nil, ch("label", 0, -1), ch("documentation", 0, -1), ch("item", 0, -1)),
	"propertyDefinitions": seq(nil, ch("propertyDefinition", 1, -1)),
	"propertyDefinition":  seq([]string{"identifier", "type"}, ch("name", 1, -1), ch("documentation", 0, -1)),
	"views":               seq(nil, ch("viewpoints", 0, 1), ch("diagrams", 0, 1)),
	"diagrams":            seq(nil, ch("view", 1, -1)),
	"view":                seq([]string{"identifier"}, ch("name", 1, -1), ch("documentation", 0, -1), ch("properties", 0, 1), ch("node", 0, -1), ch("connection", 0, -1)),
	"node":                seq([]string{"identifier", "xsi:type", "x", "y", "w", "h"}, ch("label", 0, -1), ch("documentation", 0, -1), ch("style", 0, 1), ch("viewRef", 0, -1), ch("node", 0, -1)),
	"connection": seq([]string{"identifier", "xsi:type"}, ch("label", 0, -1), ch("documentation", 0, -1), ch("style", 0, 1), ch("viewRef", 0, -1),
		ch("sourceAttachment", 0, 1), ch("bendpoint", 0, -1), ch("targetAttachment", 0, 1)),
	"style":            seq(nil, ch("lineColor", 0, 1), ch("fillColor", 0, 1), ch("font", 0, 1)),
	"font":             seq(nil, ch("color", 0, 1)),
	"lineColor":        seq([]string{"r", "g", "b"}),
	"fillColor":        seq([]string{"r", "g", "b"}),
	"color":            seq([]string{"r", "g", "b"}),
	"bendpoint":        seq([]string{"x", "y"}),
	"sourceAttachment": seq([]string{"x", "y"}),
	"targetAttachment": seq([]string{"x", "y"}),
}

// The concrete types an element, a relationship, a node and a connection
// may name in xsi:type (the model schema's types extending
// RealElementType, CompositeType, RelationshipConnectorType and
// RelationshipType; the diagram schema's node and connection types).
var (
	schemaElementTypes = strings.Fields(`BusinessActor BusinessRole BusinessCollaboration BusinessInterface BusinessProcess
		BusinessFunction BusinessInteraction BusinessEvent BusinessService BusinessObject Contract Representation Product
		ApplicationComponent ApplicationCollaboration ApplicationInterface ApplicationFunction ApplicationInteraction
		ApplicationProcess ApplicationEvent ApplicationService DataObject Node Device SystemSoftware TechnologyCollaboration
		TechnologyInterface Path CommunicationNetwork TechnologyFunction TechnologyProcess TechnologyInteraction TechnologyEvent
		TechnologyService Artifact Equipment Facility DistributionNetwork Material Stakeholder Driver Assessment Goal Outcome
		Principle Requirement Constraint Meaning Value Resource Capability CourseOfAction ValueStream WorkPackage Deliverable
		ImplementationEvent Plateau Gap Grouping Location AndJunction OrJunction`)
	schemaRelationshipTypes = strings.Fields(`Composition Aggregation Assignment Realization Serving Access Influence Triggering Flow Specialization Association`)
	schemaNodeTypes         = []string{"Element", "Label", "Container"}
	schemaConnectionTypes   = []string{"Relationship", "Line"}
	// xs:ID is an NCName: no colon, no space, not starting with a digit,
	// '-' or '.'.
	schemaNCName = regexp.MustCompile(`^[\p{L}_][\p{L}\p{N}_.\-]*$`)
)

// schemaNode is an XML element read back for checking.
type schemaNode struct {
	name     string
	attrs    map[string]string
	children []*schemaNode
}

func parseForSchema(doc []byte) (*schemaNode, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	var stack []*schemaNode
	var root *schemaNode
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &schemaNode{name: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				k := a.Name.Local
				if a.Name.Space != "" {
					k = a.Name.Space + ":" + k
				}
				n.attrs[k] = a.Value
			}
			if len(stack) == 0 {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// checkSchema reports the first way doc breaks what the schemas require.
func checkSchema(doc []byte) error {
	root, err := parseForSchema(doc)
	if err != nil {
		return err
	}
	if root == nil || root.name != "model" || root.attrs["xmlns"] != Namespace {
		return fmt.Errorf("the root is not <model xmlns=%q>", Namespace)
	}
	ids := map[string]string{}
	var refs [][2]string // attribute, value
	var walk func(n *schemaNode, path string) error
	walk = func(n *schemaNode, path string) error {
		where := path + "/" + n.name
		s, known := schemaElements[n.name]
		if !known {
			return nil // text-only elements (name, documentation, value, label)
		}
		for _, a := range s.attrs {
			if _, ok := n.attrs[a]; !ok {
				return fmt.Errorf("%s lacks the required attribute %s", where, a)
			}
		}
		if id, ok := n.attrs["identifier"]; ok {
			if !schemaNCName.MatchString(id) {
				return fmt.Errorf("%s: identifier %q is not an xs:ID", where, id)
			}
			if prev, dup := ids[id]; dup {
				return fmt.Errorf("%s: identifier %q is also %s's", where, id, prev)
			}
			ids[id] = where
		}
		typ := n.attrs["xsi:type"]
		for name, allowed := range map[string][]string{"element": schemaElementTypes, "relationship": schemaRelationshipTypes, "node": schemaNodeTypes, "connection": schemaConnectionTypes} {
			if n.name == name && !slices.Contains(allowed, typ) {
				return fmt.Errorf("%s has xsi:type %q, not one of the schema's", where, typ)
			}
		}
		if n.name == "node" {
			for _, a := range []string{"x", "y", "w", "h"} {
				var v int
				if _, err := fmt.Sscan(n.attrs[a], &v); err != nil || v < 0 || (v == 0 && (a == "w" || a == "h")) {
					return fmt.Errorf("%s has %s=%q; x and y are non-negative, w and h positive", where, a, n.attrs[a])
				}
			}
		}
		for _, a := range []string{"source", "target", "elementRef", "relationshipRef", "propertyDefinitionRef", "identifierRef"} {
			if v, ok := n.attrs[a]; ok {
				refs = append(refs, [2]string{a, v})
			}
		}
		if typ == "Element" && n.attrs["elementRef"] == "" || typ == "Relationship" && n.name == "connection" && (n.attrs["relationshipRef"] == "" || n.attrs["source"] == "" || n.attrs["target"] == "") {
			return fmt.Errorf("%s (%s) lacks its references", where, typ)
		}
		// The children follow the sequence, each within its bounds.
		i := 0
		for _, c := range s.children {
			count := 0
			for i < len(n.children) && n.children[i].name == c.name {
				if err := walk(n.children[i], where); err != nil {
					return err
				}
				count++
				i++
			}
			if count < c.min || (c.max >= 0 && count > c.max) {
				return fmt.Errorf("%s has %d <%s>; the schema wants %d to %d", where, count, c.name, c.min, c.max)
			}
		}
		if i < len(n.children) {
			return fmt.Errorf("%s: <%s> is out of the schema's order or not allowed there", where, n.children[i].name)
		}
		return nil
	}
	if err := walk(root, ""); err != nil {
		return err
	}
	for _, r := range refs {
		if _, ok := ids[r[1]]; !ok {
			return fmt.Errorf("%s=%q refers to no identifier of the document", r[0], r[1])
		}
	}
	return nil
}

func TestExportFollowsTheSchemasStructure(t *testing.T) {
	sample, err := Decode(bytes.NewReader(mustSample(t)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*Model{"sample": sample, "every concept": everyConcept(t), "minimal": {ID: "id-m", Name: Text{{Text: "m"}}}} {
		out, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkSchema(out); err != nil {
			t.Errorf("the export of %s breaks the schemas: %v\n%s", name, err, out)
		}
	}
	// The check does catch what breaks them.
	good, _ := Marshal(sample)
	for what, bad := range map[string]string{
		"documentation before the name": strings.Replace(string(good), "<name xml:lang=\"en\">Ministry systems</name>", "<documentation>x</documentation><name xml:lang=\"en\">Ministry systems</name>", 1),
		"fillColor before lineColor":    strings.Replace(string(good), `<style lineWidth="1">`, `<style lineWidth="1"><fillColor r="1" g="1" b="1"></fillColor>`, 1),
		"an empty properties list":      strings.Replace(string(good), `<elements>`, `<properties></properties><elements>`, 1),
		"a node 0 wide":                 strings.Replace(string(good), `w="120"`, `w="0"`, 1),
		"an unknown xsi:type":           strings.Replace(string(good), `xsi:type="DataObject"`, `xsi:type="Database"`, 1),
		"an identifier with a colon":    strings.ReplaceAll(string(good), `"id-portal"`, `"id:portal"`),
		"a dangling reference":          strings.Replace(string(good), `elementRef="id-svc"`, `elementRef="id-gone"`, 1),
	} {
		if bad == string(good) {
			t.Fatalf("%s: the mutation did not apply", what)
		}
		if checkSchema([]byte(bad)) == nil {
			t.Errorf("a document with %s passed the check", what)
		}
	}
}
