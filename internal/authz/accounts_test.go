package authz

import "testing"

func TestAccountChangeGrantsAndSplit(t *testing.T) {
	tests := []struct {
		name       string
		c          AccountChange
		grants     bool
		now, later AccountChange
	}{
		{"raising a clearance grants, and waits whole",
			AccountChange{Account: 5, Clearance: Unclassified, NewClearance: Secret}, true,
			AccountChange{Account: 5}, AccountChange{Account: 5, NewClearance: Secret}},
		{"lowering a clearance is one person's",
			AccountChange{Account: 5, Clearance: TopSecret, NewClearance: Confidential}, false,
			AccountChange{Account: 5, Clearance: TopSecret, NewClearance: Confidential},
			AccountChange{Account: 5, Clearance: Confidential, NewClearance: Confidential}},
		{"adding a clerk role is one person's",
			AccountChange{Account: 5, NewRoles: RolesOf(Clerk, Administrator)}, false,
			AccountChange{Account: 5, NewRoles: RolesOf(Clerk, Administrator)},
			AccountChange{Account: 5, Roles: RolesOf(Clerk, Administrator), NewRoles: RolesOf(Clerk, Administrator)}},
		{"the security officer role waits; the clerk role removed and the officer role added do not",
			AccountChange{Account: 5, Roles: RolesOf(Clerk, Auditor), NewRoles: RolesOf(Officer, Auditor, SecurityOfficer), Clearance: Secret, NewClearance: TopSecret}, true,
			AccountChange{Account: 5, Roles: RolesOf(Clerk, Auditor), NewRoles: RolesOf(Officer, Auditor), Clearance: Secret, NewClearance: Secret},
			AccountChange{Account: 5, Roles: RolesOf(Officer, Auditor), NewRoles: RolesOf(Officer, Auditor, SecurityOfficer), Clearance: Secret, NewClearance: TopSecret}},
		{"keeping a guarded role grants nothing",
			AccountChange{Account: 5, Roles: RolesOf(Auditor), NewRoles: RolesOf(Auditor, Clerk)}, false,
			AccountChange{Account: 5, Roles: RolesOf(Auditor), NewRoles: RolesOf(Auditor, Clerk)},
			AccountChange{Account: 5, Roles: RolesOf(Auditor, Clerk), NewRoles: RolesOf(Auditor, Clerk)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Grants(); got != tt.grants {
				t.Errorf("Grants = %v, want %v", got, tt.grants)
			}
			now, later := tt.c.Split()
			if now != tt.now || later != tt.later {
				t.Errorf("Split = %+v, %+v\nwant %+v, %+v", now, later, tt.now, tt.later)
			}
			if now.Grants() {
				t.Errorf("the part made at once grants: %+v", now)
			}
			if later.Changes() != tt.grants {
				t.Errorf("the part left for approval changes = %v, want %v", later.Changes(), tt.grants)
			}
		})
	}
}

func TestAccountRules(t *testing.T) {
	const admin, officer, target = 1, 2, 3
	administrator := Subject{Kind: Staff, ID: admin, Roles: RolesOf(Administrator)}
	secOff := func(l Level) Subject {
		return Subject{Kind: Staff, ID: officer, Roles: RolesOf(SecurityOfficer), Clearance: l}
	}
	system := Subject{Kind: System}
	raise := func(account int64, l Level) AccountChange { return AccountChange{Account: account, NewClearance: l} }
	lower := AccountChange{Account: target, Clearance: Secret}
	guarded := AccountChange{Account: target, NewRoles: RolesOf(SecurityOfficer)}
	type decision struct {
		d   Decision
		why Reason
	}
	tests := []struct {
		name string
		got  func() (Decision, Reason)
		want decision
	}{
		{"an administrator lowers a clearance alone", func() (Decision, Reason) { return DecideAccountChange(administrator, lower) }, decision{Allowed, ReasonRoleGrants}},
		{"an administrator may not raise a clearance alone", func() (Decision, Reason) { return DecideAccountChange(administrator, raise(target, Secret)) }, decision{Denied, ReasonNeedsApproval}},
		{"nor grant the security officer role", func() (Decision, Reason) { return DecideAccountChange(administrator, guarded) }, decision{Denied, ReasonNeedsApproval}},
		{"nor may the host's operator", func() (Decision, Reason) { return DecideAccountChange(system, raise(target, Secret)) }, decision{Denied, ReasonNeedsApproval}},
		{"nobody changes their own clearance, even down", func() (Decision, Reason) {
			return DecideAccountChange(administrator, AccountChange{Account: admin, Clearance: Secret})
		}, decision{Denied, ReasonOwnAccount}},
		{"nobody changes their own roles", func() (Decision, Reason) {
			return DecideAccountChange(administrator, AccountChange{Account: admin, Roles: RolesOf(Administrator)})
		}, decision{Denied, ReasonOwnAccount}},
		{"a change of one's own account that leaves roles and clearance alone is no account change", func() (Decision, Reason) {
			return DecideAccountChange(administrator, AccountChange{Account: admin, Roles: RolesOf(Administrator), NewRoles: RolesOf(Administrator)})
		}, decision{Allowed, ReasonRoleGrants}},
		{"a clerk administers no accounts", func() (Decision, Reason) {
			return DecideAccountChange(Subject{Kind: Staff, ID: 9, Roles: RolesOf(Clerk)}, lower)
		}, decision{Denied, ReasonNoRole}},
		{"an administrator proposes a top-secret clearance above their own", func() (Decision, Reason) { return DecidePropose(administrator, raise(target, TopSecret)) }, decision{Allowed, ReasonRoleGrants}},
		{"the host's operator proposes", func() (Decision, Reason) { return DecidePropose(system, raise(0, Secret)) }, decision{Allowed, ReasonSystem}},
		{"nobody proposes a grant to themselves", func() (Decision, Reason) { return DecidePropose(administrator, raise(admin, Secret)) }, decision{Denied, ReasonOwnAccount}},
		{"a security officer does not propose", func() (Decision, Reason) { return DecidePropose(secOff(TopSecret), raise(target, Secret)) }, decision{Denied, ReasonNoRole}},
		{"a proposal must grant something", func() (Decision, Reason) { return DecidePropose(administrator, lower) }, decision{Denied, ReasonNothingToApprove}},
		{"a security officer cleared to the level approves", func() (Decision, Reason) { return DecideApprove(secOff(Secret), admin, raise(target, Secret)) }, decision{Allowed, ReasonRoleGrants}},
		{"an administrator cannot grant above the approver's clearance", func() (Decision, Reason) {
			return DecideApprove(secOff(Secret), admin, raise(target, TopSecret))
		}, decision{Denied, ReasonApproverClearance}},
		{"an administrator does not approve", func() (Decision, Reason) {
			return DecideApprove(Subject{Kind: Staff, ID: 7, Roles: RolesOf(Administrator), Clearance: TopSecret}, admin, raise(target, Secret))
		}, decision{Denied, ReasonNoRole}},
		{"nobody approves their own proposal", func() (Decision, Reason) {
			both := Subject{Kind: Staff, ID: admin, Roles: RolesOf(Administrator, SecurityOfficer), Clearance: TopSecret}
			return DecideApprove(both, admin, raise(target, Secret))
		}, decision{Denied, ReasonOwnProposal}},
		{"nobody approves a grant to themselves", func() (Decision, Reason) { return DecideApprove(secOff(TopSecret), admin, raise(officer, TopSecret)) }, decision{Denied, ReasonOwnAccount}},
		{"the node itself approves nothing", func() (Decision, Reason) { return DecideApprove(system, 0, raise(target, Secret)) }, decision{Denied, ReasonApproverNotStaff}},
		{"a grant the host's operator proposed is approved by a security officer", func() (Decision, Reason) { return DecideApprove(secOff(Secret), 0, raise(target, Confidential)) }, decision{Allowed, ReasonRoleGrants}},
		{"any security officer rejects", func() (Decision, Reason) { return DecideReject(secOff(Unclassified), admin) }, decision{Allowed, ReasonRoleGrants}},
		{"the proposer withdraws", func() (Decision, Reason) { return DecideReject(administrator, admin) }, decision{Allowed, ReasonOwner}},
		{"another administrator does not reject", func() (Decision, Reason) {
			return DecideReject(Subject{Kind: Staff, ID: 7, Roles: RolesOf(Administrator)}, admin)
		}, decision{Denied, ReasonNoRole}},
		{"an administrator resets another's password", func() (Decision, Reason) { return DecidePasswordReset(administrator, target) }, decision{Allowed, ReasonRoleGrants}},
		{"but not their own", func() (Decision, Reason) { return DecidePasswordReset(administrator, admin) }, decision{Denied, ReasonOwnAccount}},
		{"a clerk resets nobody's", func() (Decision, Reason) {
			return DecidePasswordReset(Subject{Kind: Staff, ID: 9, Roles: RolesOf(Clerk)}, target)
		}, decision{Denied, ReasonNoRole}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, why := tt.got()
			if (decision{d, why}) != tt.want {
				t.Fatalf("= %s (%s), want %s (%s)", d, why, tt.want.d, tt.want.why)
			}
		})
	}
}

func TestAccountRulesAllocateNothing(t *testing.T) {
	s := Subject{Kind: Staff, ID: 2, Roles: RolesOf(SecurityOfficer), Clearance: TopSecret}
	c := AccountChange{Account: 3, NewRoles: RolesOf(Auditor), NewClearance: Secret}
	if n := testing.AllocsPerRun(100, func() {
		DecideAccountChange(s, c)
		DecideApprove(s, 1, c)
	}); n != 0 {
		t.Fatalf("%v allocations per run, want 0", n)
	}
}
