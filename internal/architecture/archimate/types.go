// Package archimate is the ArchiMate 3.2 language as data: its element and
// relationship types by layer, the specification's table of which
// relationships are allowed between which types, the Open Group's Open
// Exchange Format (OEF) and an SVG rendering of a view as laid out. It knows
// nothing of storage or HTTP.
package archimate

import (
	"errors"
	"slices"
)

// ErrInvalid reports a model, document or relationship that breaks the
// language or the exchange format; the wrapping message says which rule.
var ErrInvalid = errors.New("archimate: invalid")

// Layer is one of the specification's layers or aspects an element type
// belongs to (ArchiMate 3.2, chapters 7 to 13).
type Layer string

// The layers, in the order the specification presents them.
const (
	Strategy       Layer = "strategy"
	Business       Layer = "business"
	Application    Layer = "application"
	Technology     Layer = "technology"
	Physical       Layer = "physical"
	Motivation     Layer = "motivation"
	Implementation Layer = "implementation"
	Other          Layer = "other"
)

// Layers lists every layer in the specification's order.
var layers = []Layer{Strategy, Business, Application, Technology, Physical, Motivation, Implementation, Other}

// Layers returns every layer in the specification's order.
func Layers() []Layer { return slices.Clone(layers) }

// elementTypes maps each element type, spelt as the exchange format's
// xsi:type spells it, to its layer. Junctions are "AndJunction" and
// "OrJunction" in the exchange format and one "Junction" in Appendix B.
var elementTypes = map[string]Layer{
	"Resource": Strategy, "Capability": Strategy, "ValueStream": Strategy, "CourseOfAction": Strategy,

	"BusinessActor": Business, "BusinessRole": Business, "BusinessCollaboration": Business,
	"BusinessInterface": Business, "BusinessProcess": Business, "BusinessFunction": Business,
	"BusinessInteraction": Business, "BusinessEvent": Business, "BusinessService": Business,
	"BusinessObject": Business, "Contract": Business, "Representation": Business, "Product": Business,

	"ApplicationComponent": Application, "ApplicationCollaboration": Application,
	"ApplicationInterface": Application, "ApplicationFunction": Application,
	"ApplicationInteraction": Application, "ApplicationProcess": Application,
	"ApplicationEvent": Application, "ApplicationService": Application, "DataObject": Application,

	"Node": Technology, "Device": Technology, "SystemSoftware": Technology,
	"TechnologyCollaboration": Technology, "TechnologyInterface": Technology, "Path": Technology,
	"CommunicationNetwork": Technology, "TechnologyFunction": Technology,
	"TechnologyProcess": Technology, "TechnologyInteraction": Technology,
	"TechnologyEvent": Technology, "TechnologyService": Technology, "Artifact": Technology,

	"Equipment": Physical, "Facility": Physical, "DistributionNetwork": Physical, "Material": Physical,

	"Stakeholder": Motivation, "Driver": Motivation, "Assessment": Motivation, "Goal": Motivation,
	"Outcome": Motivation, "Principle": Motivation, "Requirement": Motivation,
	"Constraint": Motivation, "Meaning": Motivation, "Value": Motivation,

	"WorkPackage": Implementation, "Deliverable": Implementation,
	"ImplementationEvent": Implementation, "Plateau": Implementation, "Gap": Implementation,

	"Location": Other, "Grouping": Other, "AndJunction": Other, "OrJunction": Other,
}

// LayerOf returns the layer of element type t and whether t is an element
// type of the language.
func LayerOf(t string) (Layer, bool) {
	l, ok := elementTypes[t]
	return l, ok
}

// ElementTypes returns the element types of layer l, sorted.
func ElementTypes(l Layer) []string {
	var out []string
	for t, tl := range elementTypes {
		if tl == l {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// The relationship types as the exchange format spells them, with the key
// letter the specification's Appendix B uses for each.
var relationshipLetters = map[string]byte{
	"Access": 'a', "Composition": 'c', "Flow": 'f', "Aggregation": 'g', "Assignment": 'i',
	"Influence": 'n', "Association": 'o', "Realization": 'r', "Specialization": 's',
	"Triggering": 't', "Serving": 'v',
}

// RelationshipTypes returns the eleven relationship types, sorted.
func RelationshipTypes() []string {
	out := make([]string, 0, len(relationshipLetters))
	for t := range relationshipLetters {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// IsRelationshipType reports whether t is a relationship type of the language.
func IsRelationshipType(t string) bool {
	_, ok := relationshipLetters[t]
	return ok
}

// AccessTypes are the values of an access relationship's accessType.
var accessTypes = []string{"Access", "Read", "Write", "ReadWrite"}

// IsAccessType reports whether s is an access relationship's access type.
func IsAccessType(s string) bool { return slices.Contains(accessTypes, s) }
