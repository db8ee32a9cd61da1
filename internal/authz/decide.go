package authz

// Action is what a subject wants to do to a resource.
type Action uint8

// The actions.
const (
	Read Action = iota
	Create
	Update
	Delete
	Approve
	Export
	Administer // restructure units, manage accounts, change settings
	numActions
)

var actionNames = [numActions]string{"read", "create", "update", "delete", "approve", "export", "administer"}

// String returns the action's name.
func (a Action) String() string {
	if a < numActions {
		return actionNames[a]
	}
	return "action(?)"
}

// writes reports whether a modifies the item, so the no-write-down rule
// applies.
func (a Action) writes() bool { return a == Create || a == Update || a == Delete || a == Approve }

// Actions is a set of actions.
type Actions uint16

func actions(as ...Action) Actions {
	var s Actions
	for _, a := range as {
		s |= 1 << a
	}
	return s
}

func (s Actions) has(a Action) bool { return s&(1<<a) != 0 }

// Kind is the type of a resource.
type Kind uint8

// The resource kinds. Directory kinds (units, staff, audit events) belong
// to no unit; item kinds (documents, dossiers, messages) belong to one and
// are subject to need-to-know.
const (
	KindUnit Kind = iota
	KindStaff
	KindCitizen
	KindAuditEvent
	KindDocument
	KindDossier
	KindMessage
	KindService
	KindSystem // settings, keys, enrolment of nodes
	numKinds
)

var kindNames = [numKinds]string{"unit", "staff", "citizen", "audit_event", "document", "dossier", "message", "service", "system"}

// String returns the kind's name.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "kind(?)"
}

// PrincipalKind says who a subject is.
type PrincipalKind uint8

// The principal kinds. The zero value is anonymous.
const (
	Anonymous PrincipalKind = iota
	Staff
	Citizen
	System // the node itself: background jobs, the exchange gateway
	// Client is an information system holding a client token of the
	// exchange: its identity is its subsystem (Subject.Subsystem), and it
	// acts only on its own messages (clientGrants).
	Client
)

// Subject is who asks: the labels Decide needs, loaded once per request.
type Subject struct {
	Kind PrincipalKind
	ID   int64 // staff or citizen id
	Unit int64 // staff's current unit
	// Roles granted to a staff member.
	Roles Roles
	// Clearance is the highest level the person may read.
	Clearance Level
	// Session is the level the session works at (≤ Clearance); writing into
	// an item needs Session ≤ the item's level, so secret knowledge cannot
	// flow down into a lower item. Zero means unclassified work.
	Session Level
	// Subsystem is a Client's exchange identity,
	// instance/class/member/subsystem.
	Subsystem string
}

// Authenticated reports whether the subject is not anonymous.
func (s Subject) Authenticated() bool { return s.Kind != Anonymous }

// Resource is what is asked about: a kind, and for an item its labels.
type Resource struct {
	Kind Kind
	// Unit owns the item; zero for directory kinds and ministry-wide items.
	Unit int64
	// Shared lists the other units that may see the item (need-to-know).
	Shared []int64
	// Level is the item's classification.
	Level Level
	// Owner is the staff member or citizen the item is about or by, who
	// keeps access to it (a citizen's own dossier, a staff member's own
	// account).
	Owner int64
	// Subsystem is the exchange subsystem a message belongs to (its
	// sender for one sent, its recipient for one received); a Client
	// reaches only its own. Empty when asking about the kind as a whole.
	Subsystem string
}

// Decision is the outcome of Decide.
type Decision uint8

// The decisions. Concealed is a refusal that must look like absence: the
// API answers 404, not 403, and lists and counts leave the item out.
const (
	Denied Decision = iota
	Concealed
	Allowed
)

// String returns the decision's name.
func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case Concealed:
		return "concealed"
	}
	return "denied"
}

// Reason says why Decide decided, for the audit ledger and for tests. It
// is a constant, so deciding allocates nothing.
type Reason string

// The reasons.
const (
	ReasonRoleGrants       Reason = "a role grants the action"
	ReasonOwner            Reason = "the subject owns the item"
	ReasonSystem           Reason = "the node itself"
	ReasonUnauthenticated  Reason = "not signed in"
	ReasonNoReadUp         Reason = "the item is classified above the subject's clearance"
	ReasonNeedToKnow       Reason = "the item belongs to another unit and is not shared with the subject's"
	ReasonNoRole           Reason = "no role of the subject grants this action"
	ReasonNoWriteDown      Reason = "the session works above the item's level (no write down)"
	ReasonCitizenNotOwner  Reason = "citizens see only their own items"
	ReasonUnknownPrincipal Reason = "unknown kind of subject"
	ReasonOwnSubsystem     Reason = "the information system acts on its own messages"
	ReasonClientNoGrant    Reason = "information systems are not granted this action"
	ReasonOtherSubsystem   Reason = "the message belongs to another information system"
)

// grants[kind][role] is the set of actions the role grants on the kind.
// Any signed-in staff member may read the unit directory; everything else
// comes from roles. Later capabilities refine their rows; the table is the
// one place a reviewer reads to know who may do what.
var grants = func() (g [numKinds][numRoles]Actions) {
	rw := actions(Read, Create, Update)
	g[KindUnit][Administrator] = actions(Read, Create, Update, Administer)
	g[KindStaff][Administrator] = actions(Read, Create, Update, Administer)
	// Security officers approve the grants administrators propose (see
	// DecideApprove for the rest of that rule).
	g[KindStaff][SecurityOfficer] = actions(Read, Approve)
	g[KindStaff][Auditor] = actions(Read)
	g[KindCitizen][Administrator] = actions(Read, Update)
	g[KindAuditEvent][Auditor] = actions(Read, Export)
	g[KindAuditEvent][SecurityOfficer] = actions(Read, Export)
	g[KindDocument][Clerk] = rw
	g[KindDocument][Officer] = rw
	g[KindDocument][Approver] = actions(Read, Update, Approve)
	g[KindDocument][Archivist] = actions(Read, Update, Delete, Export)
	g[KindDossier][Clerk] = rw
	g[KindDossier][Officer] = rw
	g[KindDossier][Approver] = actions(Read, Update, Approve)
	g[KindMessage][Clerk] = actions(Read, Create)
	g[KindMessage][Officer] = actions(Read, Create)
	// The exchange's operators: resend (Update) or discard (Delete) a
	// message its receiver refused (a dead letter).
	g[KindMessage][Administrator] = actions(Read, Update, Delete)
	g[KindService][Administrator] = actions(Read, Create, Update, Delete, Administer)
	g[KindSystem][Administrator] = actions(Read, Update, Administer)
	g[KindSystem][SecurityOfficer] = actions(Read)
	return g
}()

// clientGrants[kind] is what an information system holding a client token
// (a Client) may do, on its own subsystem's items only: send messages and
// call services (Create), read its inbox and its messages' proofs (Read),
// acknowledge and choose where its inbox is pushed (Update).
var clientGrants = [numKinds]Actions{
	KindMessage: actions(Read, Create, Update),
}

// everyone[kind] is what any signed-in staff member may do regardless of
// role.
var everyone = [numKinds]Actions{
	KindUnit:    actions(Read),
	KindService: actions(Read),
}

// Decide decides whether s may do a to r, and why. The checks run from the
// ones that conceal to the ones that merely deny, so a refusal never tells
// more than the subject may know:
//
//  1. no read up: an item above the subject's clearance is Concealed;
//  2. need-to-know: another unit's item not shared with the subject's unit
//     is Concealed, whatever the clearance;
//  3. roles: the action must be granted by a role (or to every staff
//     member, or to the item's owner for reading and updating), else Denied;
//  4. no write down: a write from a session working above the item's level
//     is Denied.
//
// Citizens see only items they own; information systems (Client) only
// their own subsystem's messages. Decide allocates nothing.
func Decide(s Subject, a Action, r Resource) (Decision, Reason) {
	switch s.Kind {
	case System:
		return Allowed, ReasonSystem
	case Anonymous:
		return Denied, ReasonUnauthenticated
	case Citizen:
		if r.Owner != 0 && r.Owner == s.ID && r.Kind == KindDossier && (a == Read || a == Update || a == Create) {
			return Allowed, ReasonOwner
		}
		if r.Owner != 0 && r.Owner == s.ID && r.Kind == KindCitizen && (a == Read || a == Update) {
			return Allowed, ReasonOwner
		}
		return Concealed, ReasonCitizenNotOwner
	case Client:
		if !clientGrants[r.Kind].has(a) {
			return Denied, ReasonClientNoGrant
		}
		if r.Subsystem != "" && r.Subsystem != s.Subsystem {
			return Concealed, ReasonOtherSubsystem
		}
		return Allowed, ReasonOwnSubsystem
	case Staff:
	default:
		return Denied, ReasonUnknownPrincipal
	}
	if r.Level > s.Clearance {
		return Concealed, ReasonNoReadUp
	}
	if r.Unit != 0 && r.Unit != s.Unit && !contains(r.Shared, s.Unit) {
		return Concealed, ReasonNeedToKnow
	}
	granted := roleGrants(s, r.Kind)
	reason := ReasonRoleGrants
	if !granted.has(a) {
		if r.Kind == KindStaff && r.Owner == s.ID && (a == Read || a == Update) {
			reason = ReasonOwner
		} else {
			return Denied, ReasonNoRole
		}
	}
	if a.writes() && s.Session > r.Level {
		return Denied, ReasonNoWriteDown
	}
	return Allowed, reason
}

// roleGrants returns the actions on kind that every staff member, and s's
// roles, grant s.
func roleGrants(s Subject, kind Kind) Actions {
	granted := everyone[kind]
	for role := Role(0); role < numRoles; role++ {
		if s.Roles.Has(role) {
			granted |= grants[kind][role]
		}
	}
	return granted
}

func contains(units []int64, u int64) bool {
	for _, x := range units {
		if x == u {
			return true
		}
	}
	return false
}
