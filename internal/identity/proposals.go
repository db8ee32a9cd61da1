package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Granting a clearance, or the security officer or auditor role, takes two
// people (authz.DecidePropose, authz.DecideApprove): AddStaff and
// ChangeStaff make what one person may and file a Proposal for the rest;
// a security officer cleared at least to the proposed level approves it
// (ApproveProposal), which applies it atomically if the account has not
// changed since, or rejects it (RejectProposal).

// Proposal statuses.
const (
	ProposalPending    = "pending"
	ProposalApproved   = "approved"
	ProposalRejected   = "rejected"
	ProposalSuperseded = "superseded" // a newer proposal for the account replaced it
)

// Proposal is a proposed grant: the roles and clearance a staff account is
// to have, waiting for a security officer.
type Proposal struct {
	ID       int64  `json:"id"`
	StaffID  int64  `json:"staff_id"`
	Username string `json:"username"`
	// BasedVersion is the account's version when proposed; approval is
	// refused once the account has changed since.
	BasedVersion int         `json:"based_version"`
	Roles        authz.Roles `json:"-"`
	Clearance    authz.Level `json:"clearance"`
	OldRoles     authz.Roles `json:"-"`
	OldClearance authz.Level `json:"old_clearance"`
	// ProposedBy is the proposing staff member; zero when the host's
	// operator proposed at the command line.
	ProposedBy int64     `json:"proposed_by,omitempty"`
	Proposer   string    `json:"proposer"`
	ProposedAt time.Time `json:"proposed_at"`
	Status     string    `json:"status"`
	DecidedBy  int64     `json:"decided_by,omitempty"`
	Decider    string    `json:"decider,omitempty"`
	DecidedAt  time.Time `json:"decided_at,omitzero"`
	// Note is the reason a security officer gave for a rejection.
	Note string `json:"note,omitempty"`
	// Stale reports whether a pending proposal's account changed since it
	// was made: it can then only be rejected.
	Stale bool `json:"stale"`
}

// Change returns the change the proposal makes to the account.
func (p Proposal) Change() authz.AccountChange {
	return authz.AccountChange{Account: p.StaffID, Roles: p.OldRoles, NewRoles: p.Roles, Clearance: p.OldClearance, NewClearance: p.Clearance}
}

// refusal is the error of a decision against the actor.
func refusal(why authz.Reason) error {
	if why == authz.ReasonNeedsApproval {
		return fmt.Errorf("%w: %s; the console and the API propose it for approval when the account is saved", errs.ErrForbidden, why)
	}
	return fmt.Errorf("%w: %s", errs.ErrForbidden, why)
}

// subject returns the authz subject of the change's actor, with the
// roles and clearance stored now rather than those of a session that
// may be older: a staff member as loaded in the transaction (refused when
// disabled), the node itself for a system actor (setup, the command line).
func (c *change) subject() (authz.Subject, error) {
	a := c.origin.Actor
	switch a.Kind {
	case audit.ActorSystem:
		return authz.Subject{Kind: authz.System}, nil
	case audit.ActorStaff:
		id, err := strconv.ParseInt(a.ID, 10, 64)
		if err != nil {
			return authz.Subject{}, fmt.Errorf("identity: the staff actor %q has no numeric id", a.ID)
		}
		m, err := staffWhere(c.ctx, c.tx, "id = ?", id)
		if errors.Is(err, errs.ErrNotFound) || (err == nil && m.Disabled) {
			return authz.Subject{}, fmt.Errorf("%w: your account is disabled", errs.ErrForbidden)
		}
		if err != nil {
			return authz.Subject{}, err
		}
		return m.Subject(), nil
	}
	return authz.Subject{}, fmt.Errorf("%w: a %s does not administer staff accounts", errs.ErrForbidden, a.Kind)
}

// decideGrant decides whether by may make c in the given mode, and returns
// the part of c left for approval, which starts from the roles and
// clearance the account is to have at once (it changes nothing when
// nothing waits).
func decideGrant(by authz.Subject, c authz.AccountChange, mode grantMode) (authz.AccountChange, error) {
	now, later := c.Split()
	if mode == refuseGrants {
		now = c
		later = authz.AccountChange{Account: c.Account, Roles: c.NewRoles, NewRoles: c.NewRoles, Clearance: c.NewClearance, NewClearance: c.NewClearance}
	}
	if d, why := authz.DecideAccountChange(by, now); d != authz.Allowed {
		return later, refusal(why)
	}
	if later.Changes() {
		if d, why := authz.DecidePropose(by, later); d != authz.Allowed {
			return later, refusal(why)
		}
	}
	return later, nil
}

// actorName is how proposals name who proposed or decided.
func actorName(a audit.Actor) string {
	if a.Kind == audit.ActorSystem && a.Name != "" {
		return a.ID + " (" + a.Name + ")"
	}
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

// actorStaffID returns the staff id of a staff actor, zero for any other.
func actorStaffID(a audit.Actor) int64 {
	if a.Kind != audit.ActorStaff {
		return 0
	}
	id, _ := strconv.ParseInt(a.ID, 10, 64)
	return id
}

// propose files later, a grant to account m (at its current version), for
// approval, superseding the account's pending proposal if there is one,
// and records it ("staff.propose").
func (s *Service) propose(c *change, m StaffMember, later authz.AccountChange) (*Proposal, error) {
	now := s.clock()
	p := Proposal{StaffID: m.ID, Username: m.Username, BasedVersion: m.Version, Roles: later.NewRoles, Clearance: later.NewClearance,
		OldRoles: later.Roles, OldClearance: later.Clearance, ProposedBy: actorStaffID(c.origin.Actor),
		Proposer: actorName(c.origin.Actor), ProposedAt: now, Status: ProposalPending}
	attrs := map[string]string{"roles": p.Roles.String(), "clearance": p.Clearance.String()}
	old, err := pendingProposalOf(c.ctx, c.tx, m.ID)
	switch {
	case err == nil:
		if err := decideProposal(c.ctx, c.tx, old, ProposalSuperseded, 0, p.Proposer, now, ""); err != nil {
			return nil, err
		}
		attrs["supersedes"] = strconv.FormatInt(old, 10)
	case !errors.Is(err, errs.ErrNotFound):
		return nil, err
	}
	if p.ID, err = insertProposal(c.ctx, c.tx, p); err != nil {
		return nil, err
	}
	attrs["proposal"] = strconv.FormatInt(p.ID, 10)
	return &p, c.record("staff.propose", resStaff, m.ID, attrs)
}

// ApproveProposal approves the pending proposal with id on behalf of the
// context's actor and applies it to the account, in one transaction: the
// account gets the proposed roles and clearance, and the ledger records
// "staff.update" and "staff.approve". It returns ErrNotFound for an
// unknown proposal, ErrForbidden when authz.DecideApprove refuses the
// actor (not a security officer, cleared below the proposed level, the
// proposer, or the account's holder), and ErrConflict for a proposal
// already decided or whose account changed since it was made.
func (s *Service) ApproveProposal(ctx context.Context, id int64) (StaffMember, Proposal, error) {
	var out StaffMember
	var p Proposal
	err := s.write(ctx, func(c *change) error {
		var by authz.Subject
		var err error
		if p, by, err = c.proposalToDecide(id); err != nil {
			return err
		}
		if d, why := authz.DecideApprove(by, p.ProposedBy, p.Change()); d != authz.Allowed {
			if why == authz.ReasonApproverClearance {
				return fmt.Errorf("%w: %s (yours is %s, the proposal grants %s)", errs.ErrForbidden, why, by.Clearance, p.Clearance)
			}
			return refusal(why)
		}
		m, err := staffWhere(ctx, c.tx, "id = ?", p.StaffID)
		if err != nil {
			return err
		}
		if m.Version != p.BasedVersion {
			return fmt.Errorf("%w: account %s changed since proposal %d was made; reject it, and propose again if the grant is still wanted", errs.ErrConflict, m.Username, p.ID)
		}
		changed := m
		changed.Roles, changed.Clearance, changed.UpdatedAt = p.Roles, p.Clearance, s.clock()
		// Approval only adds (ChangeStaff took away at once what the
		// proposal leaves out), so it cannot break keepOversight.
		if out, err = saveStaff(ctx, c.tx, changed, m.Version); err != nil {
			return err
		}
		p.Status, p.DecidedBy, p.Decider, p.DecidedAt = ProposalApproved, by.ID, actorName(c.origin.Actor), changed.UpdatedAt
		if err := decideProposal(ctx, c.tx, p.ID, p.Status, p.DecidedBy, p.Decider, p.DecidedAt, ""); err != nil {
			return err
		}
		attrs := changeAttrs(staffChanges(m, out, ""))
		attrs["proposal"] = strconv.FormatInt(p.ID, 10)
		if err := c.record("staff.update", resStaff, m.ID, attrs); err != nil {
			return err
		}
		return c.record("staff.approve", resStaff, m.ID, map[string]string{"proposal": strconv.FormatInt(p.ID, 10),
			"roles": p.Roles.String(), "clearance": p.Clearance.String(), "proposer": audit.AttrValue(p.Proposer)})
	})
	if err != nil {
		return StaffMember{}, Proposal{}, fmt.Errorf("approve proposal %d: %w", id, err)
	}
	return out, p, nil
}

// RejectProposal rejects the pending proposal with id on behalf of the
// context's actor, with an optional note saying why, and records it
// ("staff.reject"). Security officers reject whatever their clearance;
// the proposer may withdraw their own. It returns ErrNotFound for an
// unknown proposal, ErrForbidden for an actor authz.DecideReject refuses,
// ErrConflict for a proposal already decided, and an errs.FieldError for
// a malformed note.
func (s *Service) RejectProposal(ctx context.Context, id int64, note string) (Proposal, error) {
	var p Proposal
	if note != "" {
		var err error
		if note, err = cleanName("note", note); err != nil {
			return Proposal{}, fmt.Errorf("reject proposal %d: %w", id, err)
		}
	}
	err := s.write(ctx, func(c *change) error {
		var by authz.Subject
		var err error
		if p, by, err = c.proposalToDecide(id); err != nil {
			return err
		}
		if d, why := authz.DecideReject(by, p.ProposedBy); d != authz.Allowed {
			return refusal(why)
		}
		p.Status, p.DecidedBy, p.Decider, p.DecidedAt, p.Note = ProposalRejected, by.ID, actorName(c.origin.Actor), s.clock(), note
		if err := decideProposal(ctx, c.tx, p.ID, p.Status, p.DecidedBy, p.Decider, p.DecidedAt, note); err != nil {
			return err
		}
		return c.record("staff.reject", resStaff, p.StaffID, map[string]string{"proposal": strconv.FormatInt(p.ID, 10),
			"note": audit.AttrValue(note)})
	})
	if err != nil {
		return Proposal{}, fmt.Errorf("reject proposal %d: %w", id, err)
	}
	return p, nil
}

// proposalToDecide loads the pending proposal with id and the actor who
// is to decide it.
func (c *change) proposalToDecide(id int64) (Proposal, authz.Subject, error) {
	p, err := pendingProposal(c.ctx, c.tx, id)
	if err != nil {
		return Proposal{}, authz.Subject{}, err
	}
	by, err := c.subject()
	return p, by, err
}

// pendingProposal loads the proposal with id and checks it waits for a
// decision.
func pendingProposal(ctx context.Context, q store.Queryer, id int64) (Proposal, error) {
	p, err := proposalWhere(ctx, q, "p.id = ?", id)
	if err != nil {
		return Proposal{}, err
	}
	if p.Status != ProposalPending {
		return Proposal{}, fmt.Errorf("%w: proposal %d was already %s", errs.ErrConflict, id, p.Status)
	}
	return p, nil
}

// Proposal returns the proposal with id, or an ErrNotFound error.
func (s *Service) Proposal(ctx context.Context, id int64) (Proposal, error) {
	return proposalWhere(ctx, s.db, "p.id = ?", id)
}

// ProposalFilter selects proposals for ListProposals.
type ProposalFilter struct {
	// Status keeps proposals in this status; empty keeps all.
	Status  string
	StaffID int64
	// After is the cursor: the next value ListProposals returned.
	After int64
	// Limit is the page size; if zero, DefaultLimit; at most MaxLimit.
	Limit int
}

// ListProposals returns a page of the proposals f selects, oldest first,
// and the cursor of the next page (zero after the last).
func (s *Service) ListProposals(ctx context.Context, f ProposalFilter) ([]Proposal, int64, error) {
	switch f.Status {
	case "", ProposalPending, ProposalApproved, ProposalRejected, ProposalSuperseded:
	default:
		return nil, 0, fmt.Errorf("list proposals: %w", errs.Invalid("status", "must be pending, approved, rejected or superseded"))
	}
	var err error
	if _, f.Limit, err = cleanPage(f.After, "", f.Limit); err != nil {
		return nil, 0, fmt.Errorf("list proposals: %w", err)
	}
	ps, err := listProposals(ctx, s.db, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list proposals: %w", err)
	}
	return page(ps, f.Limit, func(p Proposal) int64 { return p.ID })
}

// oversightRoles are the roles the directory never lets go unheld: without
// an active administrator nobody manages accounts, and without an active
// security officer nobody approves a grant.
var oversightRoles = [...]authz.Role{authz.Administrator, authz.SecurityOfficer}

// errLastHolder is the refusal of a change that would leave an oversight
// role unheld; a conflict with the stored state, but not one that retrying
// resolves.
var errLastHolder = fmt.Errorf("%w: the change would leave a role unheld", errs.ErrConflict)

// keepOversight refuses, with ErrConflict, a change from before to after
// that would leave no active holder of an oversight role. The caller holds
// lockStaff, so two changes cannot each count the other's account and
// both remove the last two holders.
func keepOversight(ctx context.Context, tx *store.Tx, before, after StaffMember) error {
	for _, role := range oversightRoles {
		if before.Disabled || !before.Roles.Has(role) || (!after.Disabled && after.Roles.Has(role)) {
			continue
		}
		n, err := countActiveWithRole(ctx, tx, role, before.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: %s is the last active %s; give the role to another account first", errLastHolder, before.Username, role)
		}
	}
	return nil
}
