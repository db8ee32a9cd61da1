package archimate

import (
	"errors"
	"testing"
)

func el(t string) Endpoint { return Endpoint{Type: t} }

// Known cells of ArchiMate 3.2's Appendix B, allowed and forbidden, checked
// against the specification's text (the core relationships of chapters 5
// and 12) rather than against the table itself.
func TestAppendixBAllowsWhatTheSpecificationAllows(t *testing.T) {
	allowed := []struct{ rel, src, tgt string }{
		{"Serving", "ApplicationService", "BusinessProcess"},
		{"Realization", "ApplicationComponent", "ApplicationService"},
		{"Assignment", "ApplicationComponent", "ApplicationFunction"},
		{"Access", "ApplicationFunction", "DataObject"},
		{"Realization", "Artifact", "ApplicationComponent"},
		{"Realization", "DataObject", "BusinessObject"},
		{"Flow", "ApplicationComponent", "ApplicationComponent"},
		{"Composition", "ApplicationComponent", "ApplicationInterface"},
		{"Assignment", "Node", "SystemSoftware"},
		{"Serving", "TechnologyService", "ApplicationComponent"},
		{"Influence", "Goal", "Goal"},
		{"Realization", "Capability", "Goal"},
		{"Association", "Stakeholder", "Driver"},
		{"Specialization", "BusinessActor", "BusinessActor"},
		{"Triggering", "BusinessEvent", "BusinessProcess"},
		{"Aggregation", "Grouping", "ApplicationComponent"},
		{"Flow", "AndJunction", "ApplicationComponent"},
	}
	for _, c := range allowed {
		if !Allowed(c.rel, el(c.src), el(c.tgt)) {
			t.Errorf("%s %s → %s refused, the specification allows it", c.rel, c.src, c.tgt)
		}
	}
	forbidden := []struct{ rel, src, tgt string }{
		{"Access", "DataObject", "ApplicationComponent"},       // passive structure never accesses
		{"Assignment", "DataObject", "ApplicationFunction"},    // only active structure is assigned
		{"Composition", "BusinessActor", "ApplicationService"}, // composition stays within one kind
		{"Specialization", "BusinessActor", "BusinessRole"},    // specialization only between the same type
		{"Triggering", "DataObject", "ApplicationProcess"},     // passive structure is not dynamic
		{"Realization", "ApplicationService", "ApplicationComponent"},
		{"Serving", "Goal", "ApplicationComponent"},
		{"Flow", "Goal", "Goal"},
		{"Bogus", "ApplicationComponent", "ApplicationComponent"},
		{"Association", "NoSuchType", "ApplicationComponent"},
	}
	for _, c := range forbidden {
		if Allowed(c.rel, el(c.src), el(c.tgt)) {
			t.Errorf("%s %s → %s allowed, the specification forbids it", c.rel, c.src, c.tgt)
		}
	}
}

func TestAssociationToARelationshipIsAllowed(t *testing.T) {
	if !Allowed("Association", el("ApplicationComponent"), Endpoint{Type: "Flow", Relationship: true}) {
		t.Fatal("an association from an element to a relationship is refused")
	}
	if Allowed("Serving", el("ApplicationComponent"), Endpoint{Type: "Flow", Relationship: true}) {
		t.Fatal("serving a relationship is allowed")
	}
}

func TestTheTableCoversEveryElementTypeBothWays(t *testing.T) {
	tab, err := appendixB()
	if err != nil {
		t.Fatal(err)
	}
	for typ := range elementTypes {
		c := concept(typ, false)
		if _, ok := tab[c]; !ok {
			t.Errorf("no row for %s", c)
		}
		if _, ok := tab["ApplicationComponent"][c]; !ok {
			t.Errorf("no ApplicationComponent → %s cell (association is allowed between any two elements)", c)
		}
	}
}

func TestCheckRelationshipNamesTheRule(t *testing.T) {
	err := CheckRelationship("Access", el("DataObject"), el("ApplicationComponent"))
	if !errors.Is(err, ErrInvalid) || err.Error() != "archimate: invalid: ArchiMate 3.2 (Appendix B) does not allow a Access relationship from DataObject to ApplicationComponent" {
		t.Fatalf("got %v", err)
	}
	if err := CheckRelationship("Serving", el("ApplicationService"), el("BusinessProcess")); err != nil {
		t.Fatal(err)
	}
}

func TestParseTableRefusesARaggedRow(t *testing.T) {
	if _, err := parseTable("targets A B\nA o\n"); err == nil {
		t.Fatal("a row with a missing column parsed")
	}
}
