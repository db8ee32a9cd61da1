package authz

import "testing"

const ministry = 1

// TestProceduresRules pins the procedures' access rules that issue 10
// (item 19) moved out of hand-written role checks into the grants table:
// the dossier capacities, letters of apology, the service indices, the
// comparison of units, the portal's reconciliation and the population
// lookups at the counter.
func TestProceduresRules(t *testing.T) {
	tests := []struct {
		name    string
		s       Subject
		a       Action
		r       Resource
		want    Decision
		wantWhy Reason
	}{
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
		{"administrators reconcile every unit with the portal", staff(paris, Unclassified, Administrator), Update, Resource{Kind: KindPortalSync}, Allowed, ReasonRoleGrants},
		{"a clerk reconciles only their unit's dossiers", staff(consular, Unclassified, Clerk), Read, Resource{Kind: KindPortalSync}, Denied, ReasonNoRole},
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

// TestEveryKindHasAName keeps the kinds' names, which pages ask Can by,
// complete as kinds are added.
func TestEveryKindHasAName(t *testing.T) {
	seen := map[string]bool{}
	for k := Kind(0); k < numKinds; k++ {
		n := k.String()
		if n == "" || n == "kind(?)" || seen[n] {
			t.Errorf("kind %d is named %q", k, n)
		}
		seen[n] = true
	}
}
