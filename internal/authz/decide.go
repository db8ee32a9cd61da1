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
	// KindPopulationRecord is a citizen's record in the National
	// Population Database, looked up at the counter (a citizen's own
	// prefill reads only the number verified on their account).
	KindPopulationRecord
	// KindCitizenIdentity is the identity number verified on a citizen's
	// account: the one their forms are filled from.
	KindCitizenIdentity
	// The capacities in which staff take a dossier's steps; the
	// lifecycle's table of transitions (internal/procedures, lifecycle.go)
	// says which steps each capacity takes, and these kinds' grants say
	// who holds it. Resources of these kinds belong to the dossier's unit.
	KindIntake   // the counter: receive or refuse at intake, enter dossiers, take documents and fees, hand back results
	KindCasework // processing: assign, request documents or a fee, appraise
	KindDecision // deciding: approve, refuse, stop for cause, reassign
	// KindApology is a letter of apology for an overdue dossier (Decree
	// 61/2018/NĐ-CP), written by the unit's staff who work on dossiers.
	KindApology
	// KindIndices is a unit's Decision 766 service indices (the unit's
	// own, Resource.Unit).
	KindIndices
	// KindUnitComparison is every unit's, the missions' and the whole
	// ministry's indices side by side, for the ministry's leadership: the
	// resource belongs to the ministry unit (the root).
	KindUnitComparison
	// KindNationalPortalSync is the national portal's reconciliation of every
	// unit: which dossiers' statuses lag and resending them. Its name in
	// refusals recorded by the audit ledger stays "portal_sync", as events
	// already written call it.
	KindNationalPortalSync
	// KindCredential is how a staff account signs in: Create issues a
	// one-time second-factor enrolment code for it, Update links it to
	// (or unlinks it from) an account at the identity provider. Its
	// Resource.Owner is the account's staff id: nobody vouches for
	// their own sign-in.
	KindCredential
	// The records capability's capacities (internal/records). Resources
	// of these kinds carry the document's unit, distribution and level,
	// so no read up and need-to-know bind them as they bind the document.
	// KindRegister is the records office's (văn thư) registers: Create
	// registers an incoming document, Update takes an outgoing number.
	KindRegister
	// KindDocumentGrant is an explicit need-to-know grant on a document
	// to one member of staff, with reason and expiry (Create).
	KindDocumentGrant
	// KindClassification is a document's classification: Update extends
	// its protection or changes its level, Approve declassifies (a top
	// secret item's needs a second person, see internal/records).
	KindClassification
	// KindCaseFile is a unit's case file (hồ sơ công việc): Create opens
	// one, Update files documents into it and closes it.
	KindCaseFile
	// KindDocumentCopy is a copy or print of a classified document (State
	// secrets law: only with the competent person's permission): Approve
	// permits one, Create makes one under a permission, Read lists them.
	KindDocumentCopy
	// KindSecretRegister is a unit's registers of secret documents sent
	// and received (sổ đăng ký văn bản mật đi / đến): Read, Export.
	KindSecretRegister
	// KindDisposition is the retention and disposition of case files:
	// Read; Create sets schedules, places and lifts legal holds, appraises
	// and packs transfers; Update carries out a decided destruction;
	// Approve decides a destruction (the competent leader).
	KindDisposition
	// KindPublication is the public portal's foreign information (news,
	// press releases, the spokesperson's statements, travel advisories):
	// Create drafts one, Update edits, submits and publishes an approved
	// one, Approve approves, rejects and withdraws (internal/portal).
	// Publications belong to no unit: the ministry speaks with one voice.
	KindPublication
	// KindMissionPage is the public page of a mission abroad: its
	// ambassador, address, consular hours and protection hotline (Update).
	KindMissionPage
	// The architecture repository (internal/architecture). KindArchitecture
	// is the model: every staff member reads and exports it, architects
	// edit it. KindArchitectureRule is the conformance rules: security
	// officers edit them. KindInvestment is an investment proposal:
	// architects enter and review it, an approver decides it.
	KindArchitecture
	KindArchitectureRule
	KindInvestment
	// KindForecast is a unit's forecast of weekly demand and staff
	// workload (internal/forecast): it belongs to the unit whose dossiers
	// it forecasts and is shared with the ministry unit, whose heads are
	// the ministry's leadership. Read only: nothing in it is entered.
	KindForecast
	// Data-loss prevention on the ways out (internal/dlp). KindHeldItem is
	// an item held for approval: security officers Read and Approve
	// (approve or reject) it, auditors read. KindDLPPolicy is the policy
	// deciding what goes out: security officers Read and Update it.
	// KindCompliance is the compliance dashboard (internal/compliance):
	// security officers and auditors read it; security officers Update it
	// (run a verification of the ledger).
	KindHeldItem
	KindDLPPolicy
	KindCompliance
	// The insight capability (internal/insight). KindTask is a
	// leadership task (nhiệm vụ chỉ đạo): it belongs to its lead unit and
	// is shared with its supporting units; leaders assign it (Create),
	// follow it up (Update) and see every unit's. KindReport is the
	// periodic reporting of Decree 09/2019/NĐ-CP: a report template or a
	// collection round belongs to the unit that collects (shared with
	// the units asked to report), a submission to the unit that reports
	// (shared with the collecting unit). Create fills and submits,
	// Approve accepts or returns a submission, Export aggregates and
	// exports a round.
	KindTask
	KindReport
	// KindSentinelAlert is an alert of Sentinel's security monitoring
	// (internal/sentinel): security officers read and triage them
	// (Update); auditors read them.
	KindSentinelAlert
	// The data repository (internal/analytics). KindDataset is an entry of
	// the catalogue of datasets: every staff member reads the entries
	// their clearance allows (an entry is ministry-wide); an officer or a
	// unit's head registers and updates their unit's datasets and runs
	// their quality checks. KindUnitFacts are a unit's facts in the
	// analytics store: its head and officers read their unit's, leaders
	// every unit's.
	KindDataset
	KindUnitFacts
	// KindCheckpoint is a signed checkpoint of another node's audit
	// ledger offered to this node's witness (c2sp.org/tlog-witness): only
	// a peer node (a Node subject, authenticated by the key that signed
	// the checkpoint) presents one (Create); see nodeGrants.
	KindCheckpoint
	// KindOperations is a unit's figures in the operations view
	// (internal/insight/operations): its dossiers, indices, tasks,
	// reports, exchange link and alerts, and its weekly brief (Export).
	// The ministry's own (Resource.Unit the root) is the whole
	// ministry's. A unit's officers and head read their own unit's;
	// leaders every unit's (anyUnit). Figures counted from classified
	// items (tasks, alerts) are asked about at the item's level, so no
	// read up hides them from a reader not cleared for it.
	KindOperations
	numKinds
)

var kindNames = [numKinds]string{"unit", "staff", "citizen", "audit_event", "document", "dossier", "message", "service", "system",
	"population_record", "citizen_identity", "dossier_intake", "dossier_casework", "dossier_decision", "dossier_apology",
	"service_indices", "unit_comparison", "portal_sync", "credential",
	"document_register", "document_grant", "classification", "case_file",
	"document_copy", "secret_register", "disposition", "publication", "mission_page",
	"architecture", "architecture_rule", "investment", "forecast",
	"dlp_hold", "dlp_policy", "compliance", "task", "report", "sentinel_alert",
	"dataset", "unit_facts", "checkpoint", "operations"}

// classified[kind] reports whether items of the kind carry a
// classification level, so that no write down applies to them. The
// directory kinds carry none, and neither do dossiers: a citizen's
// application to a public service is unclassified by its nature.
// Without this a session working at its clearance could change no
// directory entry or dossier at all (their Level is always zero).
var classified = [numKinds]bool{KindDocument: true, KindMessage: true}

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
	// Node is a peer node of the exchange (headquarters' node at a
	// mission), authenticated by its node signing key as the signed
	// global configuration lists it, never by a session: its identity is
	// its node id (Subject.Subsystem). It is the witness's caller, and
	// nodeGrants is all it may do.
	Node
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
	// Session is the level the session works at (≤ Clearance), chosen at
	// sign-in (the clearance unless a lower one is asked for); writing
	// into an item of a classified kind, creating it included, needs
	// Session ≤ the item's level, so secret knowledge cannot flow down
	// into a lower item. Zero means unclassified work.
	Session Level
	// Subsystem is a Client's exchange identity,
	// instance/class/member/subsystem.
	Subsystem string
}

// NeedsSecondFactor reports whether the subject must sign in with a
// second factor: staff with a clearance above none (DESIGN.md §6), and
// staff whose roles govern everyone else's access or read the whole
// ledger (administrator, security officer, auditor), whatever their
// clearance. It is the one statement of that rule; sign-in asks it.
func (s Subject) NeedsSecondFactor() bool {
	return s.Kind == Staff && (s.Clearance > Unclassified ||
		s.Roles&RolesOf(Administrator, SecurityOfficer, Auditor) != 0)
}

// CreateLevel returns the level an item the subject creates in its
// session is classified at: the level asked for, raised to the session's
// working level, so that what a session knows does not flow down into a
// lower item (Decide refuses creating below it).
func (s Subject) CreateLevel(asked Level) Level { return max(asked, s.Session) }

// Authenticated reports whether the subject is not anonymous.
func (s Subject) Authenticated() bool { return s.Kind != Anonymous }

// Resource is what is asked about: a kind, and for an item its labels.
type Resource struct {
	Kind Kind
	// Unit owns the item; zero for directory kinds and ministry-wide items.
	Unit int64
	// Shared lists the other units that may see the item (need-to-know).
	Shared []int64
	// Readers lists the staff holding an explicit need-to-know grant on
	// the item still in force (the capability keeps its reason and
	// expiry): need-to-know only, never clearance.
	Readers []int64
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
	ReasonNotKnown         Reason = "no role of the subject reads the item, so it stays hidden"
	ReasonNoWriteDown      Reason = "the session works above the item's level (no write down)"
	ReasonCitizenNotOwner  Reason = "citizens see only their own items"
	ReasonOwnCredential    Reason = "nobody vouches for their own sign-in (an enrolment code or an identity-provider link)"
	ReasonUnknownPrincipal Reason = "unknown kind of subject"
	ReasonOwnSubsystem     Reason = "the information system acts on its own messages"
	ReasonClientNoGrant    Reason = "information systems are not granted this action"
	ReasonOtherSubsystem   Reason = "the message belongs to another information system"
	ReasonPeerNode         Reason = "a peer node presents what it signed"
	ReasonNodeNoGrant      Reason = "peer nodes are not granted this action"
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
	// The counter: a clerk looks an applicant up, stating why, and
	// verifies the number on a citizen's account against the card.
	g[KindPopulationRecord][Clerk] = actions(Read)
	g[KindCitizenIdentity][Clerk] = actions(Read, Update)
	// A dossier's capacities: a clerk at the counter, an officer in
	// processing, an approver deciding (and reassigning).
	g[KindIntake][Clerk] = actions(Read, Create, Update)
	g[KindCasework][Officer] = actions(Read, Update)
	g[KindDecision][Approver] = actions(Read, Update, Approve)
	g[KindApology][Clerk] = actions(Create)
	g[KindApology][Officer] = actions(Create)
	g[KindApology][Approver] = actions(Create)
	// Service indices: a unit's for those who work on its dossiers and
	// the administrators; comparing units for the ministry unit's
	// approvers (its leadership) and the administrators, of any unit
	// (see anyUnit).
	g[KindIndices][Clerk] = actions(Read)
	g[KindIndices][Officer] = actions(Read)
	g[KindIndices][Approver] = actions(Read)
	g[KindIndices][Administrator] = actions(Read)
	g[KindUnitComparison][Approver] = actions(Read)
	g[KindUnitComparison][Administrator] = actions(Read)
	// The national portal's reconciliation of every unit is the administrators';
	// a unit's staff reconcile their own dossiers (KindDossier).
	g[KindNationalPortalSync][Administrator] = actions(Read, Update)
	// Second-factor enrolment codes are handed over out of band by an
	// administrator or a security officer; identity-provider links are
	// an administrator's.
	g[KindCredential][Administrator] = actions(Create, Update)
	g[KindCredential][SecurityOfficer] = actions(Create)
	// Records: the records office registers and numbers; a unit's
	// leaders (approvers) and the security officers grant need-to-know
	// and decide classifications; clerks and officers keep their unit's
	// case files, which archivists take over.
	g[KindRegister][Clerk] = actions(Read, Create, Update)
	g[KindDocumentGrant][Approver] = actions(Create)
	g[KindDocumentGrant][SecurityOfficer] = actions(Create)
	g[KindClassification][Approver] = actions(Read, Update, Approve)
	g[KindClassification][SecurityOfficer] = actions(Read, Update, Approve)
	g[KindCaseFile][Clerk] = actions(Read, Create, Update)
	g[KindCaseFile][Officer] = actions(Read, Create, Update)
	g[KindCaseFile][Archivist] = actions(Read, Update, Export)
	// Copies of classified documents: the leader or security officer
	// permits (the competent person); whoever holds a permission and a
	// records role makes the copy; the records office and security
	// officers keep the secret-document registers.
	g[KindDocumentCopy][Approver] = actions(Read, Approve)
	g[KindDocumentCopy][SecurityOfficer] = actions(Read, Approve)
	g[KindDocumentCopy][Clerk] = actions(Read, Create)
	g[KindDocumentCopy][Officer] = actions(Create)
	g[KindDocumentCopy][Archivist] = actions(Read, Create)
	g[KindSecretRegister][Clerk] = actions(Read, Export)
	g[KindSecretRegister][SecurityOfficer] = actions(Read, Export)
	// Disposition: the archivist appraises, holds, packs and carries out;
	// only a leader decides a destruction (Law on Archives 33/2024).
	g[KindDisposition][Archivist] = actions(Read, Create, Update)
	g[KindDisposition][Approver] = actions(Read, Approve)
	g[KindDisposition][SecurityOfficer] = actions(Read)
	// The records office exports its unit's case files for delivery to
	// the archive (Decree 30's case-file export); archivists read the
	// classification records of the archive they keep, deciding nothing.
	g[KindCaseFile][Clerk] |= actions(Export)
	g[KindClassification][Archivist] = actions(Read)
	// The portal's foreign information: the press department drafts, the
	// spokesperson approves (a second person before anything is public);
	// missions' public pages are kept by the press department or by
	// administrators, who keep the directory they extend.
	g[KindPublication][PressOfficer] = actions(Read, Create, Update)
	g[KindPublication][Spokesperson] = actions(Read, Approve)
	g[KindMissionPage][PressOfficer] = actions(Read, Update)
	g[KindMissionPage][Administrator] = actions(Read, Update)
	// The architecture repository: architects keep the model and enter
	// investment proposals; security officers keep the conformance rules;
	// an approver decides an investment (everyone reads: see everyone).
	g[KindArchitecture][Architect] = actions(Read, Create, Update, Delete, Export)
	g[KindArchitectureRule][SecurityOfficer] = actions(Read, Update)
	g[KindInvestment][Architect] = actions(Read, Create, Update)
	g[KindInvestment][Approver] = actions(Read, Approve)
	// Forecasts: a unit's head reads the unit's (and the ministry
	// unit's heads every unit's, as each is shared with it).
	g[KindForecast][Approver] = actions(Read)
	g[KindForecast][Leader] = actions(Read) // every unit's: see anyUnit
	// Data-loss prevention and compliance: security officers decide on
	// held items and keep the policy; auditors read both and the checks.
	g[KindHeldItem][SecurityOfficer] = actions(Read, Approve)
	g[KindHeldItem][Auditor] = actions(Read)
	g[KindDLPPolicy][SecurityOfficer] = actions(Read, Update)
	g[KindDLPPolicy][Auditor] = actions(Read)
	g[KindCompliance][SecurityOfficer] = actions(Read, Update) // Update: run a verification of the ledger
	g[KindCompliance][Auditor] = actions(Read)
	// Insight: leaders assign tasks and read every unit's tasks and
	// reports (see anyUnit); a unit's head and officers report progress
	// on their unit's tasks; officers fill their unit's reports, the
	// collecting unit's head approves or returns them and aggregates the
	// round; leaders and heads set templates and open rounds.
	g[KindTask][Leader] = actions(Read, Create, Update, Export)
	g[KindTask][Approver] = actions(Read, Update)
	g[KindTask][Officer] = actions(Read, Update)
	g[KindReport][Leader] = actions(Read, Create, Export)
	g[KindReport][Approver] = actions(Read, Create, Update, Approve, Export)
	g[KindReport][Officer] = actions(Read, Update)
	// Sentinel's alerts: security officers triage them; auditors, who
	// read the whole ledger, read them too and change nothing.
	g[KindSentinelAlert][SecurityOfficer] = actions(Read, Update)
	g[KindSentinelAlert][Auditor] = actions(Read)
	// The data repository: officers and heads register and keep their
	// unit's datasets (Update: also run its quality checks), and with
	// administrators run the checks of Chancery's own, which belong to no
	// unit. A unit's
	// facts are read by its head and officers, and by leaders for every
	// unit (anyUnit).
	g[KindDataset][Officer] = actions(Read, Create, Update)
	g[KindDataset][Approver] = actions(Read, Create, Update)
	g[KindDataset][Administrator] = actions(Read, Update)
	g[KindUnitFacts][Officer] = actions(Read)
	g[KindUnitFacts][Approver] = actions(Read)
	g[KindUnitFacts][Leader] = actions(Read)
	// The operations view: a unit's officers and head read their unit's
	// figures and print its weekly brief; leaders every unit's and the
	// ministry's (see anyUnit).
	g[KindOperations][Officer] = actions(Read, Export)
	g[KindOperations][Approver] = actions(Read, Export)
	g[KindOperations][Leader] = actions(Read, Export)
	return g
}()

// clientGrants[kind] is what an information system holding a client token
// (a Client) may do, on its own subsystem's items only: send messages and
// call services (Create), read its inbox and its messages' proofs (Read),
// acknowledge and choose where its inbox is pushed (Update).
var clientGrants = [numKinds]Actions{
	KindMessage: actions(Read, Create, Update),
}

// nodeGrants[kind] is what a peer node (a Node) may do: present its
// ledger's signed checkpoints to this node's witness for a cosignature
// (the "witness" grant of c2sp.org/tlog-witness). Nothing else: a node
// key opens no other route.
var nodeGrants = [numKinds]Actions{
	KindCheckpoint: actions(Create),
}

// anyUnit[kind] are the roles whose grants on kind hold whatever unit
// the item belongs to: ministry-wide duties over items without personal
// data (the administrators compare every unit's service indices, wherever
// they sit). Need-to-know binds every other role to its unit.
var anyUnit = [numKinds]Roles{
	KindUnitComparison: RolesOf(Administrator),
	// The ministry's leadership directs and follows every unit and
	// mission (internal/insight).
	KindTask:     RolesOf(Leader),
	KindReport:   RolesOf(Leader),
	KindForecast: RolesOf(Leader),
	// The data repository's facts, per unit (internal/analytics).
	KindUnitFacts: RolesOf(Leader),
	// Leaders follow every unit's and mission's operations.
	KindOperations: RolesOf(Leader),
}

// knownAs[kind] are the kinds of record through which a staff member
// knows of an item of kind: a document, and the capacities an action on
// it is taken in (its grants, classification and copies), are known to
// whoever reads the document, its classification record or its unit's
// secret registers. An action refused on such an item to a subject whose
// roles read it as none of these is Concealed (the item must stay
// hidden: the answer is a missing item's 404), not Denied; whoever may
// know of it is Denied (a 403 tells them nothing new).
var knownAs = [numKinds][]Kind{
	KindDocument:       documentKnownAs,
	KindDocumentGrant:  documentKnownAs,
	KindClassification: documentKnownAs,
	KindDocumentCopy:   documentKnownAs,
}

var documentKnownAs = []Kind{KindDocument, KindClassification, KindSecretRegister}

// knows reports whether s's roles read an item of kind k as one of the
// kinds it is known as (true for a kind without such a list).
func knows(s Subject, k Kind) bool {
	if len(knownAs[k]) == 0 {
		return true
	}
	for _, as := range knownAs[k] {
		if roleGrants(s, as).has(Read) {
			return true
		}
	}
	return false
}

// everyone[kind] is what any signed-in staff member may do regardless of
// role.
var everyone = [numKinds]Actions{
	KindUnit:    actions(Read),
	KindService: actions(Read),
	// All staff read the architecture repository, its rules and its
	// investment reviews (issue 12: "all staff read").
	KindArchitecture:     actions(Read, Export),
	KindArchitectureRule: actions(Read),
	KindInvestment:       actions(Read),
	// The catalogue of datasets is read by all staff (each entry within
	// their clearance): knowing what data the ministry holds is the
	// point of a catalogue.
	KindDataset: actions(Read),
}

// Decide decides whether s may do a to r, and why. The checks run from the
// ones that conceal to the ones that merely deny, so a refusal never tells
// more than the subject may know:
//
//  1. no read up: an item above the subject's clearance is Concealed;
//  2. need-to-know: another unit's item not shared with the subject's unit
//     (nor with the subject by an explicit grant, Resource.Readers) is
//     Concealed, whatever the clearance;
//  3. roles: the action must be granted by a role (or to every staff
//     member, or to the item's owner for reading and updating), else Denied
//     — or Concealed, for an item (Unit set) of a kind in knownAs that no
//     role of the subject reads (a document the subject's roles never show
//     it: an action on it answers as on a missing one);
//  4. no write down: a write (creating included) from a session working
//     above the level of an item of a classified kind is Denied, so an
//     item created in a session is classified at least at the session's
//     level (see Subject.CreateLevel);
//  5. nobody issues an enrolment code for, or links, their own account.
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
	case Node:
		if !nodeGrants[r.Kind].has(a) {
			return Denied, ReasonNodeNoGrant
		}
		return Allowed, ReasonPeerNode
	case Staff:
	default:
		return Denied, ReasonUnknownPrincipal
	}
	if r.Level > s.Clearance {
		return Concealed, ReasonNoReadUp
	}
	if r.Unit != 0 && r.Unit != s.Unit && !contains(r.Shared, s.Unit) && !contains(r.Readers, s.ID) && s.Roles&anyUnit[r.Kind] == 0 {
		return Concealed, ReasonNeedToKnow
	}
	granted := roleGrants(s, r.Kind)
	reason := ReasonRoleGrants
	if !granted.has(a) {
		switch {
		case r.Kind == KindStaff && r.Owner == s.ID && (a == Read || a == Update):
			reason = ReasonOwner
		case r.Unit != 0 && !knows(s, r.Kind):
			return Concealed, ReasonNotKnown
		default:
			return Denied, ReasonNoRole
		}
	}
	if a.writes() && s.Session > r.Level && classified[r.Kind] {
		return Denied, ReasonNoWriteDown
	}
	if r.Kind == KindCredential && r.Owner == s.ID {
		return Denied, ReasonOwnCredential
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
