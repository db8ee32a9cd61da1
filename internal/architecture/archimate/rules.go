package archimate

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

// relationshipsTable is Appendix B of the ArchiMate 3.2 specification; the
// file's header says where it was transcribed from and what its letters mean.
//
//go:embed relationships.tab
var relationshipsTable string

// RelationshipConcept is the name Appendix B gives any relationship when it
// is itself the source or target of a relationship (an association to a
// relationship, or the aggregation of one in a grouping).
const RelationshipConcept = "Relationship"

// table maps source concept → target concept → the key letters allowed.
type table map[string]map[string]string

// appendixB parses the embedded table once; the table is immutable after.
var appendixB = sync.OnceValues(func() (table, error) { return parseTable(relationshipsTable) })

func parseTable(s string) (table, error) {
	var targets []string
	t := table{}
	for n, line := range strings.Split(s, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if f[0] == "targets" {
			targets = f[1:]
			continue
		}
		if len(f)-1 != len(targets) {
			return nil, fmt.Errorf("relationships.tab line %d: %d columns, want %d", n+1, len(f)-1, len(targets))
		}
		row := make(map[string]string, len(targets))
		for i, letters := range f[1:] {
			if letters != "-" {
				row[targets[i]] = letters
			}
		}
		t[f[0]] = row
	}
	return t, nil
}

// concept returns the name Appendix B uses for an element type, or for a
// relationship when isRelationship: both junction types are one "Junction".
func concept(t string, isRelationship bool) string {
	if isRelationship {
		return RelationshipConcept
	}
	if t == "AndJunction" || t == "OrJunction" {
		return "Junction"
	}
	return t
}

// Endpoint is one end of a relationship: an element's type, or a
// relationship (Type then names the relationship's type, which Appendix B
// does not distinguish).
type Endpoint struct {
	Type         string
	Relationship bool
}

// Allowed reports whether the specification allows a relationship of type
// rel from source to target (ArchiMate 3.2, Appendix B). Unknown types are
// never allowed.
func Allowed(rel string, source, target Endpoint) bool {
	letter, ok := relationshipLetters[rel]
	if !ok {
		return false
	}
	t, err := appendixB()
	if err != nil {
		return false
	}
	row, ok := t[concept(source.Type, source.Relationship)]
	if !ok {
		return false
	}
	return strings.IndexByte(row[concept(target.Type, target.Relationship)], letter) >= 0
}

// CheckRelationship returns nil when Allowed, or an ErrInvalid that names
// the three types and where the rule comes from.
func CheckRelationship(rel string, source, target Endpoint) error {
	if !IsRelationshipType(rel) {
		return fmt.Errorf("%w: %q is not an ArchiMate relationship type (one of %s)", ErrInvalid, clip(rel), strings.Join(RelationshipTypes(), ", "))
	}
	if !Allowed(rel, source, target) {
		return fmt.Errorf("%w: ArchiMate 3.2 (Appendix B) does not allow a %s relationship from %s to %s", ErrInvalid, rel, clip(concept(source.Type, source.Relationship)), clip(concept(target.Type, target.Relationship)))
	}
	return nil
}

// AllowedBetween returns the relationship types allowed from source to target, sorted.
func AllowedBetween(source, target Endpoint) []string {
	var out []string
	for _, r := range RelationshipTypes() {
		if Allowed(r, source, target) {
			out = append(out, r)
		}
	}
	return out
}

// clip shortens a value quoted back in an error so hostile input cannot
// flood a message; the value is quoted by the caller's %q where needed.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
