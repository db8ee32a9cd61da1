// Package authz makes every access decision in Chancery through one
// function, Decide, implementing the security model of DESIGN.md §6:
// roles grant actions, clearance dominance (no read up, no write down),
// need-to-know by owning and shared units, and concealment — a caller who
// may not see an item cannot learn that it exists.
//
// Decide is on the hot path of every request and every list row, so it
// allocates nothing and touches no storage: callers load the subject and
// the resource's labels, then ask.
package authz

import (
	"fmt"
	"strings"
)

// Level is a classification (of an item) or a clearance (of a person),
// lowest to highest.
type Level uint8

// The levels, in Vietnamese law's order: Mật, Tối mật, Tuyệt mật.
const (
	Unclassified Level = iota
	Confidential       // Mật
	Secret             // Tối mật
	TopSecret          // Tuyệt mật
)

var levelNames = [...]string{"none", "confidential", "secret", "top_secret"}

// String returns the level's API name: none, confidential, secret or top_secret.
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", l)
}

// Valid reports whether l is one of the four levels.
func (l Level) Valid() bool { return l <= TopSecret }

// ParseLevel parses an API level name, or its number 0–3.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if s == n || s == fmt.Sprint(i) {
			return Level(i), nil
		}
	}
	return 0, fmt.Errorf("authz: unknown clearance level %q: use one of %s", s, strings.Join(levelNames[:], ", "))
}

// MarshalText encodes the level as its API name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText decodes an API level name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Role is a staff role. Roles grant actions; they never raise clearance.
type Role uint8

// The roles.
const (
	Clerk Role = iota
	Officer
	Approver
	Archivist
	Auditor
	SecurityOfficer
	Administrator
	// The press department's: a press officer drafts the portal's news,
	// press releases, statements and travel advisories, which the
	// spokesperson approves before they are published (internal/portal).
	PressOfficer
	Spokesperson
	// Architect keeps the ministry's architecture repository
	// (internal/architecture): the Cipher-IT Department's architects.
	Architect
	// Leader is the ministry's leadership and the Minister's office
	// (the minister, deputy ministers, the office's chief): they assign
	// leadership tasks to any unit or mission and read every unit's
	// tasks and reports (internal/insight). An Approver heads one unit
	// and sees only its own; leaders see across units without taking
	// any unit's dossier or document powers.
	Leader
	numRoles
)

var roleNames = [numRoles]string{"clerk", "officer", "approver", "archivist", "auditor", "security_officer", "administrator", "press_officer", "spokesperson", "architect", "leader"}

// String returns the role's API name.
func (r Role) String() string {
	if r < numRoles {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", r)
}

// AllRoles lists every role in order.
func AllRoles() []Role {
	rs := make([]Role, numRoles)
	for i := range rs {
		rs[i] = Role(i)
	}
	return rs
}

// ParseRole parses a role's API name.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames {
		if s == n {
			return Role(i), nil
		}
	}
	return 0, fmt.Errorf("authz: unknown role %q: use one of %s", s, strings.Join(roleNames[:], ", "))
}

// Roles is a set of roles.
type Roles uint16

// RolesOf returns the set holding rs.
func RolesOf(rs ...Role) Roles {
	var s Roles
	for _, r := range rs {
		s |= 1 << r
	}
	return s
}

// Has reports whether the set holds r.
func (s Roles) Has(r Role) bool { return s&(1<<r) != 0 }

// List returns the roles in the set, in order.
func (s Roles) List() []Role {
	var out []Role
	for r := Role(0); r < numRoles; r++ {
		if s.Has(r) {
			out = append(out, r)
		}
	}
	return out
}

// Names returns the API names of the roles in the set, in order.
func (s Roles) Names() []string {
	out := []string{}
	for _, r := range s.List() {
		out = append(out, r.String())
	}
	return out
}

// ParseRoles parses role names; an empty list is the empty set.
func ParseRoles(names []string) (Roles, error) {
	var s Roles
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		r, err := ParseRole(n)
		if err != nil {
			return 0, err
		}
		s |= 1 << r
	}
	return s, nil
}

// String joins the role names with commas, the storage form.
func (s Roles) String() string { return strings.Join(s.Names(), ",") }
