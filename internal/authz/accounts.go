package authz

// The rules for changing who may do what: a staff account's roles and
// clearance. DESIGN.md §6 gives roles actions and clearances reading; these
// functions say who may hand them out. They are separate from Decide
// because they compare two subjects (who acts, whose account changes) and
// two states of an account, which Resource does not describe.
//
// Access that reduces (a lower clearance, a role removed) is one
// person's decision; access that opens classified material or oversees the
// others (a higher clearance, the security officer or auditor role) takes
// two: an administrator, or the host's operator at the command line,
// proposes; a security officer cleared at least to the level granted
// approves. Nobody changes their own roles or clearance, and nobody
// approves a grant they proposed or that is made to themselves.

// GuardedRoles are the roles whose grant takes a second person: security
// officers approve grants and watch the ledger, auditors read it, so
// neither may be handed out by the administrators they oversee.
const GuardedRoles = Roles(1<<SecurityOfficer | 1<<Auditor)

// AccountChange is a change of a staff account's roles and clearance,
// from Roles and Clearance to NewRoles and NewClearance.
type AccountChange struct {
	// Account is the staff member whose account changes; zero for an
	// account not created yet.
	Account      int64
	Roles        Roles
	NewRoles     Roles
	Clearance    Level
	NewClearance Level
}

// Changes reports whether c changes the roles or the clearance.
func (c AccountChange) Changes() bool {
	return c.Roles != c.NewRoles || c.Clearance != c.NewClearance
}

// Grants reports whether c gives access that takes two people: a higher
// clearance, or a guarded role the account does not hold.
func (c AccountChange) Grants() bool {
	return c.NewClearance > c.Clearance || c.NewRoles&^c.Roles&GuardedRoles != 0
}

// Split divides c into what one person may do at once (now: every role
// removed, every role added but the guarded ones, a lower clearance) and
// what must wait for approval (later, which starts where now ends and is
// zero-changed when c grants nothing). Taking access away is never held
// up by the approval of the rest.
func (c AccountChange) Split() (now, later AccountChange) {
	now = c
	now.NewRoles = c.NewRoles &^ (c.NewRoles &^ c.Roles & GuardedRoles)
	now.NewClearance = min(c.Clearance, c.NewClearance)
	later = AccountChange{Account: c.Account, Roles: now.NewRoles, NewRoles: c.NewRoles,
		Clearance: now.NewClearance, NewClearance: c.NewClearance}
	return now, later
}

// The reasons of the account rules.
const (
	ReasonOwnAccount        Reason = "nobody changes their own roles, clearance or password through account administration"
	ReasonNeedsApproval     Reason = "granting a clearance or the security officer or auditor role needs a security officer's approval"
	ReasonNothingToApprove  Reason = "the change grants nothing that needs approval; make it directly"
	ReasonOwnProposal       Reason = "nobody approves a grant they proposed"
	ReasonApproverClearance Reason = "the approver's clearance is below the clearance granted"
	ReasonApproverNotStaff  Reason = "a grant is approved only by a signed-in security officer"
)

// administers reports whether s may administer staff accounts: the node
// itself (the host's operator, setup) or a role granting it.
func administers(s Subject) (bool, Reason) {
	switch s.Kind {
	case System:
		return true, ReasonSystem
	case Staff:
		if roleGrants(s, KindStaff).has(Administer) {
			return true, ReasonRoleGrants
		}
		return false, ReasonNoRole
	case Anonymous:
		return false, ReasonUnauthenticated
	}
	return false, ReasonNoRole
}

// own reports whether s is the staff member whose account c changes.
func own(s Subject, account int64) bool {
	return s.Kind == Staff && account != 0 && s.ID == account
}

// DecideAccountChange decides whether s may make c by themselves, at once.
// It is Denied with ReasonOwnAccount for a change of s's own roles or
// clearance, ReasonNeedsApproval for a change that Grants (propose it:
// DecidePropose), and ReasonNoRole for a subject who does not administer
// staff. It allocates nothing.
func DecideAccountChange(s Subject, c AccountChange) (Decision, Reason) {
	if c.Changes() && own(s, c.Account) {
		return Denied, ReasonOwnAccount
	}
	ok, why := administers(s)
	switch {
	case !ok:
		return Denied, why
	case c.Grants():
		return Denied, ReasonNeedsApproval
	}
	return Allowed, why
}

// DecidePropose decides whether s may propose c for a security officer's
// approval: administrators and the node's operator propose grants to
// accounts other than their own. A change that grants nothing is Denied
// with ReasonNothingToApprove.
func DecidePropose(s Subject, c AccountChange) (Decision, Reason) {
	if own(s, c.Account) {
		return Denied, ReasonOwnAccount
	}
	ok, why := administers(s)
	switch {
	case !ok:
		return Denied, why
	case !c.Grants():
		return Denied, ReasonNothingToApprove
	}
	return Allowed, why
}

// DecideApprove decides whether s may approve c, proposed by the staff
// member proposer (zero: the host's operator at the command line). The
// approver must be a signed-in staff member whose roles grant approving
// on staff (security officers), cleared at least to c's new clearance,
// and neither the proposer nor the account's holder.
func DecideApprove(s Subject, proposer int64, c AccountChange) (Decision, Reason) {
	switch {
	case s.Kind != Staff:
		return Denied, ReasonApproverNotStaff
	case own(s, c.Account):
		return Denied, ReasonOwnAccount
	case s.ID == proposer:
		return Denied, ReasonOwnProposal
	case !roleGrants(s, KindStaff).has(Approve):
		return Denied, ReasonNoRole
	case s.Clearance < c.NewClearance:
		return Denied, ReasonApproverClearance
	}
	return Allowed, ReasonRoleGrants
}

// DecideReject decides whether s may reject a proposed grant: whoever may
// approve grants (a security officer, whatever their clearance: refusing
// gives nothing), or the proposer withdrawing their own proposal.
func DecideReject(s Subject, proposer int64) (Decision, Reason) {
	switch {
	case s.Kind != Staff:
		return Denied, ReasonApproverNotStaff
	case proposer != 0 && s.ID == proposer:
		return Allowed, ReasonOwner
	case roleGrants(s, KindStaff).has(Approve):
		return Allowed, ReasonRoleGrants
	}
	return Denied, ReasonNoRole
}

// DecidePasswordReset decides whether s may reset the password of the
// staff member account (a one-time password, handed over out of band).
// Resetting one's own would skip the current password: staff change their
// own through the sign-in pages instead.
func DecidePasswordReset(s Subject, account int64) (Decision, Reason) {
	if own(s, account) {
		return Denied, ReasonOwnAccount
	}
	ok, why := administers(s)
	if !ok {
		return Denied, why
	}
	return Allowed, why
}
