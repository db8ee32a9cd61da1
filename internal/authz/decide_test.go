package authz

import "testing"

const (
	consular = 10
	paris    = 20
	cipher   = 30
)

func staff(unit int64, clearance Level, roles ...Role) Subject {
	return Subject{Kind: Staff, ID: 100, Unit: unit, Roles: RolesOf(roles...), Clearance: clearance}
}

func TestDecide(t *testing.T) {
	doc := func(unit int64, level Level, shared ...int64) Resource {
		return Resource{Kind: KindDocument, Unit: unit, Level: level, Shared: shared}
	}
	working := func(s Subject, l Level) Subject { s.Session = l; return s }
	tests := []struct {
		name    string
		s       Subject
		a       Action
		r       Resource
		want    Decision
		wantWhy Reason
	}{
		{"a clerk reads an unclassified document of their unit", staff(consular, Unclassified, Clerk), Read, doc(consular, Unclassified), Allowed, ReasonRoleGrants},
		{"no read up: an uncleared clerk cannot learn a confidential document exists", staff(consular, Unclassified, Clerk), Read, doc(consular, Confidential), Concealed, ReasonNoReadUp},
		{"clearance equal to the level reads", staff(consular, Secret, Officer), Read, doc(consular, Secret), Allowed, ReasonRoleGrants},
		{"higher clearance reads lower", staff(consular, TopSecret, Officer), Read, doc(consular, Confidential), Allowed, ReasonRoleGrants},
		{"need-to-know: clearance alone never opens another unit's item", staff(cipher, TopSecret, Officer), Read, doc(consular, Unclassified), Concealed, ReasonNeedToKnow},
		{"sharing with the unit opens it", staff(paris, Unclassified, Clerk), Read, doc(consular, Unclassified, cipher, paris), Allowed, ReasonRoleGrants},
		{"sharing does not beat clearance", staff(paris, Unclassified, Clerk), Read, doc(consular, Secret, paris), Concealed, ReasonNoReadUp},
		{"roles grant actions: an auditor may not edit documents, nor know one is there", staff(consular, Unclassified, Auditor), Update, doc(consular, Unclassified), Concealed, ReasonNotKnown},
		{"an administrator's action on a document of the unit answers as on a missing one", staff(consular, Unclassified, Administrator), Update, doc(consular, Unclassified), Concealed, ReasonNotKnown},
		{"a security officer knows a document by its classification record: refused, not hidden", staff(consular, Secret, SecurityOfficer), Update, doc(consular, Secret), Denied, ReasonNoRole},
		{"only items hide: the kind as a whole is denied", staff(consular, Unclassified, Auditor), Read, Resource{Kind: KindDocument}, Denied, ReasonNoRole},
		{"an approver approves", staff(consular, Secret, Approver), Approve, doc(consular, Secret), Allowed, ReasonRoleGrants},
		{"a clerk may not approve", staff(consular, Secret, Clerk), Approve, doc(consular, Unclassified), Denied, ReasonNoRole},
		{"no write down: a session working at secret may not write a confidential item", working(staff(consular, Secret, Officer), Secret), Update, doc(consular, Confidential), Denied, ReasonNoWriteDown},
		{"writing at the item's level is fine", working(staff(consular, Secret, Officer), Confidential), Update, doc(consular, Confidential), Allowed, ReasonRoleGrants},
		{"reading down is fine whatever the session level", working(staff(consular, Secret, Officer), Secret), Read, doc(consular, Confidential), Allowed, ReasonRoleGrants},
		{"every staff member reads the unit directory", staff(paris, Unclassified), Read, Resource{Kind: KindUnit}, Allowed, ReasonRoleGrants},
		{"only administrators restructure units", staff(paris, TopSecret, Officer, Approver), Administer, Resource{Kind: KindUnit}, Denied, ReasonNoRole},
		{"administrators restructure units", staff(consular, Unclassified, Administrator), Administer, Resource{Kind: KindUnit}, Allowed, ReasonRoleGrants},
		{"a staff member reads their own account", staff(consular, Unclassified), Read, Resource{Kind: KindStaff, Owner: 100}, Allowed, ReasonOwner},
		{"but not another's", staff(consular, Unclassified), Read, Resource{Kind: KindStaff, Owner: 101}, Denied, ReasonNoRole},
		{"auditors read the ledger", staff(consular, Unclassified, Auditor), Read, Resource{Kind: KindAuditEvent}, Allowed, ReasonRoleGrants},
		{"administrators do not read the ledger", staff(consular, TopSecret, Administrator), Read, Resource{Kind: KindAuditEvent}, Denied, ReasonNoRole},
		{"anonymous is denied", Subject{}, Read, Resource{Kind: KindUnit}, Denied, ReasonUnauthenticated},
		{"a citizen reads their own dossier", Subject{Kind: Citizen, ID: 7}, Read, Resource{Kind: KindDossier, Owner: 7, Unit: consular}, Allowed, ReasonOwner},
		{"a citizen cannot learn another's dossier exists", Subject{Kind: Citizen, ID: 7}, Read, Resource{Kind: KindDossier, Owner: 8, Unit: consular}, Concealed, ReasonCitizenNotOwner},
		{"a citizen cannot read the unit directory", Subject{Kind: Citizen, ID: 7}, Read, Resource{Kind: KindUnit}, Concealed, ReasonCitizenNotOwner},
		{"the node itself may act", Subject{Kind: System}, Update, doc(consular, TopSecret), Allowed, ReasonSystem},
		{"an unknown kind of subject is denied", Subject{Kind: 99}, Read, Resource{Kind: KindUnit}, Denied, ReasonUnknownPrincipal},
		// The procedures' rules (issue 10, item 19): the dossier capacities,
		// letters of apology, the service indices, the comparison of units,
		// the national portal's reconciliation and the population lookups.
		{"a clerk works at the counter of their unit", staff(consular, Unclassified, Clerk), Update, Resource{Kind: KindIntake, Unit: consular}, Allowed, ReasonRoleGrants},
		{"a clerk enters dossiers", staff(consular, Unclassified, Clerk), Create, Resource{Kind: KindIntake, Unit: consular}, Allowed, ReasonRoleGrants},
		{"an officer does not enter dossiers", staff(consular, Unclassified, Officer), Create, Resource{Kind: KindIntake, Unit: consular}, Denied, ReasonNoRole},
		{"a clerk does not appraise", staff(consular, Unclassified, Clerk), Update, Resource{Kind: KindCasework, Unit: consular}, Denied, ReasonNoRole},
		{"an officer processes", staff(consular, Unclassified, Officer), Update, Resource{Kind: KindCasework, Unit: consular}, Allowed, ReasonRoleGrants},
		{"an approver decides", staff(consular, Unclassified, Approver), Update, Resource{Kind: KindDecision, Unit: consular}, Allowed, ReasonRoleGrants},
		{"an officer does not decide", staff(consular, Unclassified, Officer), Update, Resource{Kind: KindDecision, Unit: consular}, Denied, ReasonNoRole},
		{"another unit's approver cannot decide, nor learn the dossier exists", staff(paris, Unclassified, Approver), Update, Resource{Kind: KindDecision, Unit: consular}, Concealed, ReasonNeedToKnow},
		{"an administrator holds no capacity", staff(consular, TopSecret, Administrator), Update, Resource{Kind: KindIntake, Unit: consular}, Denied, ReasonNoRole},
		{"a citizen holds no staff capacity", Subject{Kind: Citizen, ID: 7}, Update, Resource{Kind: KindIntake, Unit: consular, Owner: 7}, Concealed, ReasonCitizenNotOwner},
		{"an officer writes a letter of apology", staff(consular, Unclassified, Officer), Create, Resource{Kind: KindApology, Unit: consular}, Allowed, ReasonRoleGrants},
		{"an auditor does not", staff(consular, Unclassified, Auditor), Create, Resource{Kind: KindApology, Unit: consular}, Denied, ReasonNoRole},
		{"a clerk reads their unit's indices", staff(consular, Unclassified, Clerk), Read, Resource{Kind: KindIndices, Unit: consular}, Allowed, ReasonRoleGrants},
		{"an administrator reads their unit's indices", staff(consular, Unclassified, Administrator), Read, Resource{Kind: KindIndices, Unit: consular}, Allowed, ReasonRoleGrants},
		{"an auditor does not", staff(consular, Unclassified, Auditor), Read, Resource{Kind: KindIndices, Unit: consular}, Denied, ReasonNoRole},
		{"another unit's clerk does not", staff(paris, Unclassified, Clerk), Read, Resource{Kind: KindIndices, Unit: consular}, Concealed, ReasonNeedToKnow},
		{"the ministry unit's approver compares units", staff(ministry, Unclassified, Approver), Read, Resource{Kind: KindUnitComparison, Unit: ministry}, Allowed, ReasonRoleGrants},
		{"the ministry unit's clerk does not", staff(ministry, Unclassified, Clerk), Read, Resource{Kind: KindUnitComparison, Unit: ministry}, Denied, ReasonNoRole},
		{"a department's approver does not", staff(consular, Unclassified, Approver), Read, Resource{Kind: KindUnitComparison, Unit: ministry}, Concealed, ReasonNeedToKnow},
		{"an administrator of any unit compares units", staff(paris, Unclassified, Administrator), Read, Resource{Kind: KindUnitComparison, Unit: ministry}, Allowed, ReasonRoleGrants},
		{"an administrator's reach over units stops at the comparison", staff(paris, Unclassified, Administrator), Read, Resource{Kind: KindIndices, Unit: consular}, Concealed, ReasonNeedToKnow},
		{"administrators reconcile every unit with the national portal", staff(paris, Unclassified, Administrator), Update, Resource{Kind: KindNationalPortalSync}, Allowed, ReasonRoleGrants},
		{"a clerk reconciles only their unit's dossiers", staff(consular, Unclassified, Clerk), Read, Resource{Kind: KindNationalPortalSync}, Denied, ReasonNoRole},
		{"a clerk looks applicants up at the counter", staff(consular, Unclassified, Clerk), Read, Resource{Kind: KindPopulationRecord}, Allowed, ReasonRoleGrants},
		{"an officer does not", staff(consular, Secret, Officer), Read, Resource{Kind: KindPopulationRecord}, Denied, ReasonNoRole},
		{"a citizen does not", Subject{Kind: Citizen, ID: 7}, Read, Resource{Kind: KindPopulationRecord}, Concealed, ReasonCitizenNotOwner},
		{"a clerk verifies a citizen's identity number", staff(consular, Unclassified, Clerk), Update, Resource{Kind: KindCitizenIdentity}, Allowed, ReasonRoleGrants},
		{"an administrator does not", staff(consular, TopSecret, Administrator), Update, Resource{Kind: KindCitizenIdentity}, Denied, ReasonNoRole},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := Decide(tt.s, tt.a, tt.r)
			if got != tt.want || why != tt.wantWhy {
				t.Fatalf("Decide = %s (%s), want %s (%s)", got, why, tt.want, tt.wantWhy)
			}
		})
	}
}

// TestConcealmentComesBeforeDenial pins the order of checks: a subject
// whose roles would not allow the action still gets Concealed, not
// Denied, for an item they may not see — a 403 would confirm it exists.
func TestConcealmentComesBeforeDenial(t *testing.T) {
	s := staff(consular, Unclassified, Auditor)
	for _, r := range []Resource{
		{Kind: KindDocument, Unit: consular, Level: TopSecret},
		{Kind: KindDocument, Unit: cipher},
	} {
		for a := Action(0); a < numActions; a++ {
			if d, _ := Decide(s, a, r); d != Concealed {
				t.Errorf("Decide(%s on %+v) = %s, want concealed", a, r, d)
			}
		}
	}
}

func TestLevelsAndRolesParse(t *testing.T) {
	for _, l := range []Level{Unclassified, Confidential, Secret, TopSecret} {
		got, err := ParseLevel(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l.String(), got, err)
		}
	}
	if _, err := ParseLevel("cosmic"); err == nil {
		t.Error("ParseLevel accepted an unknown level")
	}
	rs, err := ParseRoles([]string{"clerk", " approver", ""})
	if err != nil || rs != RolesOf(Clerk, Approver) || rs.String() != "clerk,approver" {
		t.Errorf("ParseRoles = %v (%s), %v", rs, rs, err)
	}
	if _, err := ParseRoles([]string{"king"}); err == nil {
		t.Error("ParseRoles accepted an unknown role")
	}
	var l Level
	if err := l.UnmarshalText([]byte("top_secret")); err != nil || l != TopSecret {
		t.Errorf("UnmarshalText = %v, %v", l, err)
	}
}

// BenchmarkDecide measures the hot-path decision: a role + clearance +
// unit check on a shared, classified item. Target: under 2 µs and zero
// allocations.
func BenchmarkDecide(b *testing.B) {
	s := Subject{Kind: Staff, ID: 1, Unit: paris, Roles: RolesOf(Clerk, Officer), Clearance: Secret, Session: Confidential}
	r := Resource{Kind: KindDocument, Unit: consular, Shared: []int64{cipher, 40, 50, paris}, Level: Confidential}
	b.ReportAllocs()
	var d Decision
	for b.Loop() {
		d, _ = Decide(s, Update, r)
	}
	if d != Allowed {
		b.Fatalf("decision = %s", d)
	}
}

// TestClientActsOnItsOwnMessagesOnly pins the grants of an information
// system holding a client token: it sends and reads messages of its own
// subsystem, cannot learn another subsystem's exist, and nothing else.
func TestClientActsOnItsOwnMessagesOnly(t *testing.T) {
	const own, other = "VN/GOV/000.00.00.G12/procedures", "VN/GOV/000.00.00.G22/portal"
	c := Subject{Kind: Client, Subsystem: own}
	tests := []struct {
		name    string
		a       Action
		r       Resource
		want    Decision
		wantWhy Reason
	}{
		{"a client may send messages (route check)", Create, Resource{Kind: KindMessage}, Allowed, ReasonOwnSubsystem},
		{"it reads its own message", Read, Resource{Kind: KindMessage, Subsystem: own}, Allowed, ReasonOwnSubsystem},
		{"it acknowledges its own message", Update, Resource{Kind: KindMessage, Subsystem: own}, Allowed, ReasonOwnSubsystem},
		{"another subsystem's message is concealed", Read, Resource{Kind: KindMessage, Subsystem: other}, Concealed, ReasonOtherSubsystem},
		{"it may not delete messages", Delete, Resource{Kind: KindMessage, Subsystem: own}, Denied, ReasonClientNoGrant},
		{"it may not read the unit directory", Read, Resource{Kind: KindUnit}, Denied, ReasonClientNoGrant},
		{"it may not read dossiers", Read, Resource{Kind: KindDossier}, Denied, ReasonClientNoGrant},
		{"it may not administer services", Administer, Resource{Kind: KindService}, Denied, ReasonClientNoGrant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, why := Decide(c, tt.a, tt.r); got != tt.want || why != tt.wantWhy {
				t.Fatalf("Decide = %s (%s), want %s (%s)", got, why, tt.want, tt.wantWhy)
			}
		})
	}
	if d, _ := Decide(staff(consular, Unclassified, Administrator), Update, Resource{Kind: KindMessage}); d != Allowed {
		t.Errorf("an administrator may not resend a dead letter: %s", d)
	}
	if d, _ := Decide(staff(consular, Unclassified, Clerk), Delete, Resource{Kind: KindMessage}); d != Denied {
		t.Errorf("a clerk may discard a dead letter: %s", d)
	}
}

// TestDecideForClientsAllocatesNothing keeps Decide off the allocator for every
// kind of subject, the client's string comparison included.
func TestDecideForClientsAllocatesNothing(t *testing.T) {
	c := Subject{Kind: Client, Subsystem: "VN/GOV/000.00.00.G12/procedures"}
	r := Resource{Kind: KindMessage, Subsystem: "VN/GOV/000.00.00.G12/procedures"}
	s := Subject{Kind: Staff, ID: 1, Unit: paris, Roles: RolesOf(Clerk, Officer), Clearance: Secret}
	d := Resource{Kind: KindDocument, Unit: consular, Shared: []int64{cipher, paris}, Level: Confidential}
	if n := testing.AllocsPerRun(100, func() { Decide(c, Read, r); Decide(s, Update, d) }); n != 0 {
		t.Errorf("Decide allocates %v times per call", n)
	}
}

// TestNoWriteDownCoversCreating pins that creating is a write: a session
// may not create an item below its working level, and an item created at
// CreateLevel passes. Kinds that carry no classification are outside the
// rule, or a cleared session could change no directory entry or dossier.
func TestNoWriteDownCoversCreating(t *testing.T) {
	officer := staff(consular, Secret, Officer, Clerk)
	officer.Session = Confidential
	doc := func(l Level) Resource { return Resource{Kind: KindDocument, Unit: consular, Level: l} }
	for _, tc := range []struct {
		name    string
		r       Resource
		want    Decision
		wantWhy Reason
	}{
		{"creating an unclassified document from a confidential session", doc(Unclassified), Denied, ReasonNoWriteDown},
		{"creating at the session's level", doc(Confidential), Allowed, ReasonRoleGrants},
		{"creating above it, within the clearance", doc(Secret), Allowed, ReasonRoleGrants},
		{"creating at the level CreateLevel gives", doc(officer.CreateLevel(Unclassified)), Allowed, ReasonRoleGrants},
		{"a message is classified too", Resource{Kind: KindMessage, Unit: consular}, Denied, ReasonNoWriteDown},
		{"a dossier carries no classification", Resource{Kind: KindDossier, Unit: consular}, Allowed, ReasonRoleGrants},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, why := Decide(officer, Create, tc.r); got != tc.want || why != tc.wantWhy {
				t.Fatalf("Decide = %s (%s), want %s (%s)", got, why, tc.want, tc.wantWhy)
			}
		})
	}
	if got := officer.CreateLevel(Unclassified); got != Confidential {
		t.Errorf("CreateLevel(none) = %s in a confidential session; want confidential", got)
	}
	if got := officer.CreateLevel(TopSecret); got != TopSecret {
		t.Errorf("CreateLevel(top_secret) = %s; want top_secret (asked above the session)", got)
	}
}

func TestNeedsSecondFactor(t *testing.T) {
	for _, tc := range []struct {
		s    Subject
		want bool
	}{
		{staff(consular, Unclassified, Clerk, Officer, Approver, Archivist), false},
		{staff(consular, Confidential, Clerk), true},
		{staff(consular, Unclassified, Administrator), true},
		{staff(consular, Unclassified, SecurityOfficer), true},
		{staff(consular, Unclassified, Auditor), true},
		{Subject{Kind: Citizen, ID: 7}, false},
	} {
		if got := tc.s.NeedsSecondFactor(); got != tc.want {
			t.Errorf("NeedsSecondFactor(%v, %s) = %v, want %v", tc.s.Roles, tc.s.Clearance, got, tc.want)
		}
	}
}

func TestCredentialsNeedAnotherPerson(t *testing.T) {
	target := Resource{Kind: KindCredential, Owner: 200}
	for _, tc := range []struct {
		name    string
		s       Subject
		a       Action
		r       Resource
		want    Decision
		wantWhy Reason
	}{
		{"an administrator issues an enrolment code", staff(consular, Unclassified, Administrator), Create, target, Allowed, ReasonRoleGrants},
		{"a security officer issues one", staff(cipher, TopSecret, SecurityOfficer), Create, target, Allowed, ReasonRoleGrants},
		{"a clerk does not", staff(consular, Secret, Clerk, Officer, Approver), Create, target, Denied, ReasonNoRole},
		{"nor anyone for themselves", staff(consular, Unclassified, Administrator, SecurityOfficer), Create, Resource{Kind: KindCredential, Owner: 100}, Denied, ReasonOwnCredential},
		{"an administrator links an identity-provider account", staff(consular, Unclassified, Administrator), Update, target, Allowed, ReasonRoleGrants},
		{"a security officer does not", staff(cipher, TopSecret, SecurityOfficer), Update, target, Denied, ReasonNoRole},
		{"nor an administrator their own", staff(consular, Secret, Administrator), Update, Resource{Kind: KindCredential, Owner: 100}, Denied, ReasonOwnCredential},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, why := Decide(tc.s, tc.a, tc.r); got != tc.want || why != tc.wantWhy {
				t.Fatalf("Decide = %s (%s), want %s (%s)", got, why, tc.want, tc.wantWhy)
			}
		})
	}
}

// TestExplicitGrantGivesNeedToKnowOnly pins Resource.Readers: a member of
// staff named in it reads another unit's item, but only within their
// clearance and their roles; others of their unit still do not.
func TestExplicitGrantGivesNeedToKnowOnly(t *testing.T) {
	const other = 77
	officer := staff(consular, Secret, Officer) // ID 100
	granted := Resource{Kind: KindDocument, Unit: other, Level: Secret, Readers: []int64{100}}
	for _, tc := range []struct {
		name    string
		s       Subject
		r       Resource
		want    Decision
		wantWhy Reason
	}{
		{"the grantee reads it", officer, granted, Allowed, ReasonRoleGrants},
		{"a colleague of the grantee does not", Subject{Kind: Staff, ID: 101, Unit: consular, Roles: RolesOf(Officer), Clearance: Secret}, granted, Concealed, ReasonNeedToKnow},
		{"a grant never raises clearance", staff(consular, Confidential, Officer), granted, Concealed, ReasonNoReadUp},
		{"nor gives a role (and the item stays hidden)", staff(consular, Secret, Auditor), granted, Concealed, ReasonNotKnown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, why := Decide(tc.s, Read, tc.r); got != tc.want || why != tc.wantWhy {
				t.Fatalf("Decide = %s (%s), want %s (%s)", got, why, tc.want, tc.wantWhy)
			}
		})
	}
}

// TestCopiesRegistersAndDispositionGrants pins who may permit and make
// copies of classified documents, read the secret-document registers and
// decide dispositions: the leader or security officer permits a copy, a
// records role makes it, neither crosses clearance or need-to-know; only
// a leader decides a destruction, the archivist carries it out.
func TestCopiesRegistersAndDispositionGrants(t *testing.T) {
	copyOf := func(unit int64, l Level) Resource { return Resource{Kind: KindDocumentCopy, Unit: unit, Level: l} }
	tests := []struct {
		name string
		s    Subject
		a    Action
		r    Resource
		want Decision
	}{
		{"a leader permits a copy", staff(consular, Secret, Approver), Approve, copyOf(consular, Secret), Allowed},
		{"a security officer permits a copy", staff(consular, Secret, SecurityOfficer), Approve, copyOf(consular, Secret), Allowed},
		{"a clerk does not permit copies", staff(consular, Secret, Clerk), Approve, copyOf(consular, Secret), Denied},
		{"an officer makes a copy", staff(consular, Secret, Officer), Create, copyOf(consular, Secret), Allowed},
		{"an auditor makes none, nor learns the document is there", staff(consular, Secret, Auditor), Create, copyOf(consular, Secret), Concealed},
		{"no copy above one's clearance, not even known", staff(consular, Confidential, Approver), Approve, copyOf(consular, Secret), Concealed},
		{"no copy of another unit's document", staff(cipher, TopSecret, Approver), Approve, copyOf(consular, Confidential), Concealed},
		{"a clerk reads the secret registers", staff(consular, Secret, Clerk), Read, Resource{Kind: KindSecretRegister, Unit: consular}, Allowed},
		{"an officer does not", staff(consular, Secret, Officer), Read, Resource{Kind: KindSecretRegister, Unit: consular}, Denied},
		{"another unit's secret register is hidden", staff(cipher, TopSecret, SecurityOfficer), Read, Resource{Kind: KindSecretRegister, Unit: consular}, Concealed},
		{"a leader decides a destruction", staff(consular, TopSecret, Approver), Approve, Resource{Kind: KindDisposition, Unit: consular}, Allowed},
		{"an archivist does not decide one", staff(consular, TopSecret, Archivist), Approve, Resource{Kind: KindDisposition, Unit: consular}, Denied},
		{"an archivist carries it out", staff(consular, TopSecret, Archivist), Update, Resource{Kind: KindDisposition, Unit: consular}, Allowed},
		{"a leader does not carry it out", staff(consular, TopSecret, Approver), Update, Resource{Kind: KindDisposition, Unit: consular}, Denied},
	}
	for _, tt := range tests {
		if got, why := Decide(tt.s, tt.a, tt.r); got != tt.want {
			t.Errorf("%s: %s (%s), want %s", tt.name, got, why, tt.want)
		}
	}
}

// TestRecordsOfficeExportsCaseFilesAndArchivistsReadClassifications pins
// the outgoing side's rows: a unit's clerks export its case files (not
// another unit's), officers do not; archivists read classification
// records but neither change nor declassify them.
func TestRecordsOfficeExportsCaseFilesAndArchivistsReadClassifications(t *testing.T) {
	const other = 77
	for _, tc := range []struct {
		name string
		s    Subject
		a    Action
		r    Resource
		want Decision
	}{
		{"a clerk exports the unit's case file", staff(consular, Unclassified, Clerk), Export, Resource{Kind: KindCaseFile, Unit: consular}, Allowed},
		{"not another unit's", staff(consular, Unclassified, Clerk), Export, Resource{Kind: KindCaseFile, Unit: other}, Concealed},
		{"an officer does not export", staff(consular, Secret, Officer), Export, Resource{Kind: KindCaseFile, Unit: consular}, Denied},
		{"an archivist reads a classification", staff(consular, Secret, Archivist), Read, Resource{Kind: KindClassification, Unit: consular, Level: Secret}, Allowed},
		{"but does not extend it", staff(consular, Secret, Archivist), Update, Resource{Kind: KindClassification, Unit: consular, Level: Secret}, Denied},
		{"nor declassify it", staff(consular, Secret, Archivist), Approve, Resource{Kind: KindClassification, Unit: consular, Level: Secret}, Denied},
		{"nor read above the clearance", staff(consular, Confidential, Archivist), Read, Resource{Kind: KindClassification, Unit: consular, Level: Secret}, Concealed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, why := Decide(tc.s, tc.a, tc.r); got != tc.want {
				t.Fatalf("Decide = %s (%s), want %s", got, why, tc.want)
			}
		})
	}
}

// TestLeadersSeeEveryUnitsTasksAndReports pins the leader role: a leader
// reads and assigns tasks of any unit and reads any unit's reports, but
// gains no dossier or document powers; a unit's head is bound to their
// unit (another unit's task is concealed) and cannot assign.
func TestLeadersSeeEveryUnitsTasksReportsAndForecasts(t *testing.T) {
	leader := Subject{Kind: Staff, ID: 1, Unit: 1, Roles: RolesOf(Leader)}
	head := Subject{Kind: Staff, ID: 2, Unit: 2, Roles: RolesOf(Approver)}
	other := Resource{Kind: KindTask, Unit: 3}
	for _, tc := range []struct {
		s    Subject
		a    Action
		r    Resource
		want Decision
	}{
		{leader, Read, other, Allowed},
		{leader, Create, Resource{Kind: KindTask}, Allowed},
		{leader, Export, Resource{Kind: KindReport, Unit: 3}, Allowed},
		{leader, Approve, Resource{Kind: KindReport, Unit: 3}, Denied},
		{leader, Read, Resource{Kind: KindDossier, Unit: 3}, Concealed},
		{leader, Read, Resource{Kind: KindTask, Unit: 3, Level: Secret}, Concealed},
		{head, Read, other, Concealed},
		{head, Create, Resource{Kind: KindTask}, Denied},
		{head, Update, Resource{Kind: KindTask, Unit: 2}, Allowed},
		{head, Approve, Resource{Kind: KindReport, Unit: 2}, Allowed},
		// Forecasts: leaders read every unit's, a head only the unit's own.
		{leader, Read, Resource{Kind: KindForecast, Unit: 3}, Allowed},
		{leader, Update, Resource{Kind: KindForecast, Unit: 3}, Denied},
		{head, Read, Resource{Kind: KindForecast, Unit: 2}, Allowed},
		{head, Read, Resource{Kind: KindForecast, Unit: 3}, Concealed},
	} {
		if got, reason := Decide(tc.s, tc.a, tc.r); got != tc.want {
			t.Errorf("%v %s %+v = %s (%s), want %s", tc.s.Roles.Names(), tc.a, tc.r, got, reason, tc.want)
		}
	}
}

// A peer node's key opens one thing: presenting its checkpoints to the
// witness. No staff role, client or citizen presents one.
func TestNodeMayOnlyPresentCheckpoints(t *testing.T) {
	node := Subject{Kind: Node, Subsystem: "hq"}
	for k := Kind(0); k < numKinds; k++ {
		for a := Action(0); a < numActions; a++ {
			d, _ := Decide(node, a, Resource{Kind: k})
			if want := k == KindCheckpoint && a == Create; (d == Allowed) != want {
				t.Errorf("Decide(node, %s, %s) = %s, want allowed: %v", a, k, d, want)
			}
		}
	}
	everyRole := Subject{Kind: Staff, Roles: RolesOf(AllRoles()...), Clearance: TopSecret}
	others := []Subject{everyRole, {Kind: Client, Subsystem: "x"}, {Kind: Citizen, ID: 1}, {}}
	for _, s := range others {
		if d, _ := Decide(s, Create, Resource{Kind: KindCheckpoint}); d == Allowed {
			t.Errorf("Decide(%v, create, checkpoint) = allowed, want refused", s.Kind)
		}
	}
}

// TestOperationsViewIsNeedToKnowAndClearance pins the operations view's
// access: an officer or head reads their own unit's figures only (another
// unit's, the ministry's included, are concealed), a leader every unit's
// and the ministry's; figures of classified items need the clearance.
func TestOperationsViewIsNeedToKnowAndClearance(t *testing.T) {
	leader := Subject{Kind: Staff, ID: 1, Unit: 2, Roles: RolesOf(Leader), Clearance: Confidential}
	officer := Subject{Kind: Staff, ID: 2, Unit: 3, Roles: RolesOf(Officer)}
	clerk := Subject{Kind: Staff, ID: 3, Unit: 3, Roles: RolesOf(Clerk)}
	for _, tc := range []struct {
		s    Subject
		a    Action
		r    Resource
		want Decision
	}{
		{leader, Read, Resource{Kind: KindOperations, Unit: ministry}, Allowed},
		{leader, Export, Resource{Kind: KindOperations, Unit: 3}, Allowed},
		{leader, Read, Resource{Kind: KindOperations, Unit: 3, Level: Confidential}, Allowed},
		{leader, Read, Resource{Kind: KindOperations, Unit: 3, Level: Secret}, Concealed},
		{officer, Read, Resource{Kind: KindOperations, Unit: 3}, Allowed},
		{officer, Export, Resource{Kind: KindOperations, Unit: 3}, Allowed},
		{officer, Read, Resource{Kind: KindOperations, Unit: 3, Level: Confidential}, Concealed},
		{officer, Read, Resource{Kind: KindOperations, Unit: 4}, Concealed},
		{officer, Read, Resource{Kind: KindOperations, Unit: ministry}, Concealed},
		{clerk, Read, Resource{Kind: KindOperations, Unit: 3}, Denied},
	} {
		if got, reason := Decide(tc.s, tc.a, tc.r); got != tc.want {
			t.Errorf("%v %s %+v = %s (%s), want %s", tc.s.Roles.Names(), tc.a, tc.r, got, reason, tc.want)
		}
	}
}
