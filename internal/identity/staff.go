package identity

// This file holds the directory's staff: creating accounts (with
// grants that take approval), finding, listing and changing them, their
// OpenID Connect links and their memberships of units.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// NewStaff is what CreateStaff needs to create a staff account.
type NewStaff struct {
	Username  string
	FullName  string
	Email     string // optional
	UnitID    int64
	Roles     authz.Roles
	Clearance authz.Level
}

// clean validates in field by field and returns it normalised.
func (in NewStaff) clean() (NewStaff, error) {
	var err error
	if in.Username, err = cleanUsername(in.Username); err != nil {
		return in, err
	}
	if in.FullName, err = cleanName("full_name", in.FullName); err != nil {
		return in, err
	}
	if in.Email, err = cleanEmail(in.Email, true); err != nil {
		return in, err
	}
	if in.UnitID == 0 {
		return in, errs.Invalid("unit_id", "is required")
	}
	if err = checkRoles(in.Roles); err != nil {
		return in, err
	}
	return in, checkClearance(in.Clearance)
}

// CreateStaff creates a staff account in an active unit, opens its first
// membership and records it in the audit ledger ("staff.create"). It
// returns an errs.FieldError for a malformed field or an unusable unit,
// ErrConflict when the username is taken, and ErrForbidden when the
// context's actor may not administer staff or the account would get a
// clearance or a guarded role, which takes a security officer's approval
// (AddStaff proposes it). Credentials are internal/auth's business.
func (s *Service) CreateStaff(ctx context.Context, actor string, in NewStaff) (StaffMember, error) {
	m, _, err := s.createStaff(ctx, actor, in, refuseGrants)
	return m, err
}

// AddStaff is CreateStaff for a request that may grant: the account is
// created with what one person may give (roles but the guarded ones, no
// clearance), and the rest is proposed for a security officer's approval
// in the same transaction (see ProposeStaff). The proposal is nil when
// nothing needed approval.
func (s *Service) AddStaff(ctx context.Context, actor string, in NewStaff) (StaffMember, *Proposal, error) {
	return s.createStaff(ctx, actor, in, proposeGrants)
}

// SeedStaff creates the account with the roles and clearance given,
// without the two-person rule: the setup of a new node or of the demo
// ministry, which no request or command reaches. The ledger records it as
// "staff.create" with "seeded": "true".
func (s *Service) SeedStaff(ctx context.Context, actor string, in NewStaff) (StaffMember, error) {
	m, _, err := s.createStaff(ctx, actor, in, seed)
	return m, err
}

// grantMode says what a change does with the part that takes approval.
type grantMode uint8

const (
	refuseGrants  grantMode = iota // refuse the whole change
	proposeGrants                  // make the rest, propose that part
	seed                           // setup: no rule applies
)

func (s *Service) createStaff(ctx context.Context, actor string, in NewStaff, mode grantMode) (StaffMember, *Proposal, error) {
	in, err := in.clean()
	if err != nil {
		return StaffMember{}, nil, fmt.Errorf("create staff member: %w", err)
	}
	now := s.clock()
	m := StaffMember{Username: in.Username, FullName: in.FullName, Email: in.Email, UnitID: in.UnitID,
		Roles: in.Roles, Clearance: in.Clearance, CreatedAt: now, UpdatedAt: now, Version: 1}
	var proposal *Proposal
	err = s.write(ctx, func(c *change) error {
		tx := c.tx
		var later authz.AccountChange
		if mode != seed {
			by, err := c.subject()
			if err != nil {
				return err
			}
			if later, err = decideGrant(by, authz.AccountChange{NewRoles: m.Roles, NewClearance: m.Clearance}, mode); err != nil {
				return err
			}
			m.Roles, m.Clearance = later.Roles, later.Clearance
		}
		if err := lockUnits(ctx, tx); err != nil {
			return err
		}
		unit, err := activeUnit(ctx, tx, "unit_id", m.UnitID)
		if err != nil {
			return err
		}
		id, err := insertStaff(ctx, tx, m)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("%w: username %s is already taken; choose another", errs.ErrConflict, m.Username)
		}
		if err != nil {
			return err
		}
		m.ID = id
		if err := insertMembership(ctx, tx, Membership{StaffID: id, UnitID: m.UnitID, ValidFrom: now, Reason: "created by " + actor}); err != nil {
			return err
		}
		// The name and address are personal data: the ledger keeps the
		// account's references only.
		attrs := map[string]string{"username": m.Username, "unit": unit.Code, "roles": m.Roles.String(), "clearance": m.Clearance.String()}
		if mode == seed {
			attrs["seeded"] = "true"
		}
		if err := c.record("staff.create", resStaff, id, attrs); err != nil {
			return err
		}
		if later.Changes() {
			later.Account = id
			proposal, err = s.propose(c, m, later)
		}
		return err
	})
	if err != nil {
		return StaffMember{}, nil, fmt.Errorf("create staff member %s: %w", in.Username, err)
	}
	return m, proposal, nil
}

// Staff returns the staff member with id, or an ErrNotFound error.
func (s *Service) Staff(ctx context.Context, id int64) (StaffMember, error) {
	return staffWhere(ctx, s.db, "id = ?", id)
}

// StaffByUsername returns the staff member with username, or an
// ErrNotFound error.
func (s *Service) StaffByUsername(ctx context.Context, username string) (StaffMember, error) {
	return staffWhere(ctx, s.db, "username = ?", strings.TrimSpace(username))
}

// StaffByOIDCSubject returns the staff member an administrator linked to
// the account subject at the identity provider issuer, or an ErrNotFound
// error. Both must match: a subject means nothing without its issuer.
func (s *Service) StaffByOIDCSubject(ctx context.Context, issuer, subject string) (StaffMember, error) {
	if issuer == "" || subject == "" {
		return StaffMember{}, fmt.Errorf("staff member by empty OIDC issuer or subject: %w", errs.ErrNotFound)
	}
	return staffWhere(ctx, s.db, "oidc_issuer = ? AND oidc_subject = ?", issuer, subject)
}

// LinkOIDCSubject links the staff member to the account subject at the
// identity provider issuer, as an administrator does before the member's
// first sign-in through the provider (authz.KindCredential, Update), and
// records the link in the audit ledger ("staff.oidc_link"). Linking the
// same account again is a no-op. It returns an errs.FieldError for an
// empty or malformed issuer or subject, ErrNotFound for an unknown staff
// member and ErrConflict when the subject belongs to someone else or the
// staff member is already linked to another account (unlink it first).
func (s *Service) LinkOIDCSubject(ctx context.Context, staffID int64, issuer, subject string) error {
	if err := cleanOIDCField("subject", subject); err != nil {
		return fmt.Errorf("link OIDC subject: %w", err)
	}
	if err := cleanOIDCField("issuer", issuer); err != nil {
		return fmt.Errorf("link OIDC subject: %w", err)
	}
	err := s.write(ctx, func(c *change) error {
		tx := c.tx
		n, err := setOIDCSubject(ctx, tx, staffID, issuer, subject, s.clock())
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("%w: the identity provider's subject is already linked to another staff member", errs.ErrConflict)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			if _, err := staffWhere(ctx, tx, "id = ?", staffID); err != nil {
				return err
			}
			return fmt.Errorf("%w: the staff member is already linked to another identity-provider account; unlink it first", errs.ErrConflict)
		}
		return c.record("staff.oidc_link", resStaff, staffID, map[string]string{"issuer": audit.AttrValue(issuer), "subject": audit.AttrValue(subject)})
	})
	if err != nil {
		return fmt.Errorf("link staff member %d to OIDC subject: %w", staffID, err)
	}
	return nil
}

// UnlinkOIDCSubject removes the staff member's link to an identity-provider
// account, recording it in the audit ledger ("staff.oidc_unlink"); the
// member then signs in through the provider no more. Unlinking an account
// that is not linked changes and records nothing. It returns ErrNotFound
// for an unknown staff member.
func (s *Service) UnlinkOIDCSubject(ctx context.Context, staffID int64) error {
	err := s.write(ctx, func(c *change) error {
		n, err := setOIDCSubject(ctx, c.tx, staffID, "", "", s.clock())
		if err != nil || n > 0 {
			if err == nil {
				err = c.record("staff.oidc_unlink", resStaff, staffID, nil)
			}
			return err
		}
		_, err = staffWhere(ctx, c.tx, "id = ?", staffID)
		return err
	})
	if err != nil {
		return fmt.Errorf("unlink staff member %d from its OIDC subject: %w", staffID, err)
	}
	return nil
}

// cleanOIDCField checks an issuer or subject: 1–255 bytes of UTF-8 text
// without control characters, which no provider's identifiers hold.
func cleanOIDCField(field, v string) error {
	if v == "" || len(v) > 255 || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return errs.Invalid(field, "must be 1–255 bytes of UTF-8 text without control characters")
	}
	return nil
}

// StaffFilter selects staff for ListStaff. Zero fields select everything
// but disabled accounts.
type StaffFilter struct {
	UnitID int64
	// Roles keeps staff holding every one of these roles.
	Roles authz.Roles
	// Query matches the username or full name, ignoring case and
	// Vietnamese diacritics.
	Query           string
	IncludeDisabled bool
	// After is the cursor: the next value ListStaff returned.
	After int64
	// Limit is the page size; if zero, DefaultLimit; at most MaxLimit.
	Limit int
}

func (f StaffFilter) clean() (StaffFilter, error) {
	var err error
	if err = checkRoles(f.Roles); err != nil {
		return f, err
	}
	f.Query, f.Limit, err = cleanPage(f.After, f.Query, f.Limit)
	return f, err
}

// ListStaff returns a page of the staff f selects in order of creation,
// and the cursor of the next page (zero after the last).
func (s *Service) ListStaff(ctx context.Context, f StaffFilter) ([]StaffMember, int64, error) {
	f, err := f.clean()
	if err != nil {
		return nil, 0, fmt.Errorf("list staff: %w", err)
	}
	staff, err := listStaff(ctx, s.db, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list staff: %w", err)
	}
	return page(staff, f.Limit, func(m StaffMember) int64 { return m.ID })
}

// StaffPatch changes a staff account; nil fields are kept. Version must be
// the version the change is based on (see UnitPatch).
type StaffPatch struct {
	FullName  *string
	Email     *string
	UnitID    *int64
	Roles     *authz.Roles
	Clearance *authz.Level
	Disabled  *bool
	Version   int
}

// errStaleStaff is the refusal of a staff change based on an old version.
var errStaleStaff = fmt.Errorf("%w: the account was changed by someone else; reload it and apply your change again", errs.ErrConflict)

// apply returns m with the patch's fields checked and applied.
func (p StaffPatch) apply(m StaffMember) (StaffMember, error) {
	var err error
	if p.FullName != nil {
		if m.FullName, err = cleanName("full_name", *p.FullName); err != nil {
			return m, err
		}
	}
	if p.Email != nil {
		if m.Email, err = cleanEmail(*p.Email, true); err != nil {
			return m, err
		}
	}
	if p.Roles != nil {
		if err = checkRoles(*p.Roles); err != nil {
			return m, err
		}
		m.Roles = *p.Roles
	}
	if p.Clearance != nil {
		if err = checkClearance(*p.Clearance); err != nil {
			return m, err
		}
		m.Clearance = *p.Clearance
	}
	if p.Disabled != nil {
		m.Disabled = *p.Disabled
	}
	return m, nil
}

// UpdateStaff applies p to the staff member with id. A change of unit
// closes the current membership and opens one in the new, active unit.
// It returns ErrNotFound for an unknown staff member, an errs.FieldError
// for a bad field, a missing version or an unusable unit, ErrConflict for
// a stale version or a change that would leave no active administrator
// or security officer (see keepOversight), and ErrForbidden when the
// context's actor may not make it: a change of their own roles or
// clearance, or a grant, which takes a security officer's approval
// (ChangeStaff proposes it). The audit ledger records the change
// ("staff.update": the fields changed, with the new values of those that
// are not personal data); a patch that changes nothing records nothing.
// Revoking sessions after disabling or lowering a clearance is the
// caller's job (internal/auth owns sessions).
func (s *Service) UpdateStaff(ctx context.Context, actor string, id int64, p StaffPatch) (StaffMember, error) {
	m, _, err := s.updateStaff(ctx, actor, id, p, refuseGrants)
	return m, err
}

// ChangeStaff is UpdateStaff for a request that may grant: it makes at
// once everything one person may (other fields, roles removed, roles
// added but the guarded ones, a lower clearance) and proposes the rest
// for a security officer's approval, in one transaction. The proposal is
// nil when nothing needed approval.
func (s *Service) ChangeStaff(ctx context.Context, actor string, id int64, p StaffPatch) (StaffMember, *Proposal, error) {
	return s.updateStaff(ctx, actor, id, p, proposeGrants)
}

func (s *Service) updateStaff(ctx context.Context, actor string, id int64, p StaffPatch, mode grantMode) (StaffMember, *Proposal, error) {
	var out StaffMember
	var proposal *Proposal
	err := s.write(ctx, func(c *change) error {
		tx := c.tx
		if p.UnitID != nil {
			if err := lockUnits(ctx, tx); err != nil {
				return err
			}
		}
		if p.Roles != nil || p.Disabled != nil {
			if err := lockStaff(ctx, tx); err != nil {
				return err
			}
		}
		m, err := staffWhere(ctx, tx, "id = ?", id)
		if err != nil {
			return err
		}
		if err := checkVersion(p.Version, m.Version, errStaleStaff); err != nil {
			return err
		}
		changed, err := p.apply(m)
		if err != nil {
			return err
		}
		by, err := c.subject()
		if err != nil {
			return err
		}
		later, err := decideGrant(by, authz.AccountChange{Account: id, Roles: m.Roles, NewRoles: changed.Roles,
			Clearance: m.Clearance, NewClearance: changed.Clearance}, mode)
		if err != nil {
			return err
		}
		changed.Roles, changed.Clearance = later.Roles, later.Clearance
		if err := keepOversight(ctx, tx, m, changed); err != nil {
			return err
		}
		now := s.clock()
		var unit Unit
		switch {
		case p.UnitID != nil && *p.UnitID != m.UnitID:
			if unit, err = activeUnit(ctx, tx, "unit_id", *p.UnitID); err != nil {
				return err
			}
			if changed, err = transfer(ctx, tx, changed, unit.ID, now, now, "moved by "+actor); err != nil {
				return err
			}
		case changed == m:
			out = m
		default:
			changed.UpdatedAt = now
			if changed, err = saveStaff(ctx, tx, changed, m.Version); err != nil {
				return err
			}
		}
		if changed != m {
			out = changed
			if err := c.record("staff.update", resStaff, id, changeAttrs(staffChanges(m, changed, unit.Code))); err != nil {
				return err
			}
		}
		if later.Changes() {
			proposal, err = s.propose(c, out, later)
		}
		return err
	})
	if err != nil {
		return StaffMember{}, nil, fmt.Errorf("update staff member %d: %w", id, err)
	}
	return out, proposal, nil
}

// staffChanges returns the fields in which after differs from before;
// unitCode names after's unit when it changed.
func staffChanges(before, after StaffMember, unitCode string) []fieldChange {
	var changes []fieldChange
	add := func(field, old, new string, personal bool) {
		if old != new {
			changes = append(changes, fieldChange{field: field, old: old, new: new, personal: personal})
		}
	}
	add("full_name", before.FullName, after.FullName, true)
	add("email", before.Email, after.Email, true)
	if before.UnitID != after.UnitID {
		changes = append(changes, fieldChange{field: "unit", new: unitCode})
	}
	add("roles", before.Roles.String(), after.Roles.String(), false)
	add("clearance", before.Clearance.String(), after.Clearance.String(), false)
	add("disabled", strconv.FormatBool(before.Disabled), strconv.FormatBool(after.Disabled), false)
	return changes
}

// transfer moves m (with any other changes already applied) to unit
// from effective on: it closes the current membership, opens the next with
// reason, and saves m.
func transfer(ctx context.Context, tx *store.Tx, m StaffMember, unit int64, effective, now time.Time, reason string) (StaffMember, error) {
	since, err := membershipSince(ctx, tx, m.ID)
	if err != nil {
		return StaffMember{}, err
	}
	if effective, err = periodEnd(effective, since, fmt.Sprintf("%s joined their current unit", m.Username)); err != nil {
		return StaffMember{}, err
	}
	if err := closeMembership(ctx, tx, m.ID, effective); err != nil {
		return StaffMember{}, err
	}
	if err := insertMembership(ctx, tx, Membership{StaffID: m.ID, UnitID: unit, ValidFrom: effective, Reason: reason}); err != nil {
		return StaffMember{}, err
	}
	based := m.Version
	m.UnitID, m.UpdatedAt = unit, now
	return saveStaff(ctx, tx, m, based)
}

// saveStaff writes m's mutable fields if the stored version is still
// based, and returns m at its new version.
func saveStaff(ctx context.Context, tx *store.Tx, m StaffMember, based int) (StaffMember, error) {
	n, err := updateStaffRow(ctx, tx, m, based)
	if err != nil {
		return StaffMember{}, err
	}
	if n == 0 {
		return StaffMember{}, errStaleStaff
	}
	m.Version = based + 1
	return m, nil
}

// Memberships returns the staff member's unit memberships, oldest first,
// or an ErrNotFound error for an unknown staff member.
func (s *Service) Memberships(ctx context.Context, staffID int64) ([]Membership, error) {
	if _, err := staffWhere(ctx, s.db, "id = ?", staffID); err != nil {
		return nil, err
	}
	ms, err := memberships(ctx, s.db, staffID)
	if err != nil {
		return nil, fmt.Errorf("memberships of staff member %d: %w", staffID, err)
	}
	return ms, nil
}

// StaffUnitAt returns the id of the unit the staff member belonged to at
// t. It returns an ErrNotFound error for an unknown staff member or a time
// before they joined.
func (s *Service) StaffUnitAt(ctx context.Context, staffID int64, t time.Time) (int64, error) {
	unit, err := unitAt(ctx, s.db, staffID, t.UTC())
	if err != nil {
		return 0, fmt.Errorf("unit of staff member %d on %s: %w", staffID, t.Format(time.DateOnly), err)
	}
	return unit, nil
}
