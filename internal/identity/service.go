package identity

import (
	"context"
	"errors"
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
	"chancery/internal/web"
)

// Service is the directory: units with their history, staff and citizens.
// Every write checks the rules stated on its method and runs in one
// transaction with its audit event, so nothing is ever half-written or
// unrecorded. It is safe for concurrent use.
//
// A write needs an audit origin on its context (see audit.WithOrigin)
// naming who acts, and a recorder (see SetRecorder); without either it
// fails and changes nothing.
type Service struct {
	db      *store.DB
	now     func() time.Time
	rec     Recorder
	onMerge []MergeHook
	// onCreate are run inside every unit's creation (OnCreate).
	onCreate []CreateHook
}

// MergeHook is called inside the transaction of a merger of unit from into
// unit into, after the directory's own changes: a capability moves what
// the absorbed unit held (its open dossiers, say). An error rolls the
// whole merger back.
type MergeHook func(ctx context.Context, tx *store.Tx, from, into Unit) error

// OnMerge adds a hook every merger runs. Call it while wiring the
// service, before it is used: it is not safe to call concurrently with
// other methods.
func (s *Service) OnMerge(h MergeHook) { s.onMerge = append(s.onMerge, h) }

// CreateHook is called inside the transaction of a unit's creation, after
// the directory's own changes: a capability checks what it needs of the
// new unit (a mission's working-day calendar, say) and records warnings
// with it. An error rolls the creation back.
type CreateHook func(ctx context.Context, tx *store.Tx, u Unit) error

// OnCreate adds a hook every unit's creation runs. Call it while wiring
// the service, as OnMerge.
func (s *Service) OnCreate(h CreateHook) { s.onCreate = append(s.onCreate, h) }

// NewService returns the directory kept in db. now is the clock; if nil,
// store.Now is used. It can change nothing until SetRecorder is called.
func NewService(db *store.DB, now func() time.Time) *Service {
	if now == nil {
		now = store.Now
	}
	return &Service{db: db, now: now}
}

// clock returns the current time at the precision both dialects store.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// NewUnit is what CreateUnit needs to create a unit.
type NewUnit struct {
	Code     string
	NameVI   string
	NameEN   string
	Kind     UnitKind
	ParentID int64 // zero only for the root, the ministry
	Country  string
	TimeZone string
}

// NewStaff is what CreateStaff needs to create a staff account.
type NewStaff struct {
	Username  string
	FullName  string
	Email     string // optional
	UnitID    int64
	Roles     authz.Roles
	Clearance authz.Level
}

// NewCitizen is what CreateCitizen needs to create a portal account.
type NewCitizen struct {
	Email    string
	FullName string
	Phone    string // optional
}

// clean validates in field by field and returns it normalised.
func (in NewUnit) clean() (NewUnit, error) {
	var err error
	if in.Code, err = cleanCode(in.Code); err != nil {
		return in, err
	}
	if in.NameVI, err = cleanName("name_vi", in.NameVI); err != nil {
		return in, err
	}
	if in.NameEN, err = cleanName("name_en", in.NameEN); err != nil {
		return in, err
	}
	if err = cleanKind(in.Kind); err != nil {
		return in, err
	}
	switch {
	case in.Kind == KindMinistry && in.ParentID != 0:
		return in, errs.Invalid("parent_id", "the ministry is the root of the tree and has no parent")
	case in.Kind != KindMinistry && in.ParentID == 0:
		return in, errs.Invalid("parent_id", "is required: every unit but the ministry sits under a parent unit")
	}
	if in.Country, err = cleanCountry(in.Country); err != nil {
		return in, err
	}
	if in.TimeZone, err = cleanTimeZone(in.TimeZone); err != nil {
		return in, err
	}
	return in, nil
}

// CreateUnit creates a unit and records its creation in its history and
// the audit ledger ("unit.create"). It returns an errs.FieldError
// (ErrInvalid) for a malformed field or a missing or merged parent, and
// ErrConflict when the code is taken or a second root (ministry) is
// attempted.
func (s *Service) CreateUnit(ctx context.Context, actor string, in NewUnit) (Unit, error) {
	in, err := in.clean()
	if err != nil {
		return Unit{}, fmt.Errorf("create unit: %w", err)
	}
	now := s.clock()
	u := Unit{Code: in.Code, NameVI: in.NameVI, NameEN: in.NameEN, Kind: in.Kind, ParentID: in.ParentID,
		Country: in.Country, TimeZone: in.TimeZone, Status: UnitActive, CreatedAt: now, UpdatedAt: now, Version: 1}
	err = s.write(ctx, func(c *change) error {
		tx := c.tx
		if err := lockUnits(ctx, tx); err != nil {
			return err
		}
		if other, err := unitByCode(ctx, tx, u.Code); err == nil {
			return fmt.Errorf("%w: agency code %s is already used by %s; codes are never reused", errs.ErrConflict, u.Code, other.NameEN)
		} else if !errors.Is(err, errs.ErrNotFound) {
			return err
		}
		var parent Unit
		if u.Kind == KindMinistry {
			if root, err := rootUnit(ctx, tx); err == nil {
				return fmt.Errorf("%w: the ministry %s (%s) is already the root; there is exactly one", errs.ErrConflict, root.Code, root.NameEN)
			} else if !errors.Is(err, errs.ErrNotFound) {
				return err
			}
		} else {
			p, err := activeUnit(ctx, tx, "parent_id", u.ParentID)
			if err != nil {
				return err
			}
			parent = p
		}
		id, err := insertUnit(ctx, tx, u)
		if err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("%w: agency code %s or the ministry root already exists", errs.ErrConflict, u.Code)
			}
			return err
		}
		u.ID = id
		if err := insertUnitParent(ctx, tx, u.ID, u.ParentID, now); err != nil {
			return err
		}
		if err := insertUnitEvent(ctx, tx, UnitEvent{UnitID: u.ID, Kind: "created", EffectiveAt: now, RecordedAt: now, Actor: actor}); err != nil {
			return err
		}
		for _, h := range s.onCreate {
			if err := h(c.ctx, tx, u); err != nil {
				return err
			}
		}
		return c.record("unit.create", resUnit, u.ID, unitAttrs(u, parent))
	})
	if err != nil {
		return Unit{}, fmt.Errorf("create unit %s: %w", in.Code, err)
	}
	return u, nil
}

// activeUnit loads the unit a field refers to and checks it can take new
// members or children: it must exist and not be merged. Problems are
// reported against field.
func activeUnit(ctx context.Context, q store.Queryer, field string, id int64) (Unit, error) {
	u, err := unitByID(ctx, q, id)
	if errors.Is(err, errs.ErrNotFound) {
		return Unit{}, errs.Invalid(field, fmt.Sprintf("there is no unit %d", id))
	}
	if err != nil {
		return Unit{}, err
	}
	if u.Status != UnitActive {
		return Unit{}, errs.Invalid(field, fmt.Sprintf("unit %s was merged and takes no new members or units; choose the unit it was merged into", u.Code))
	}
	return u, nil
}

// Unit returns the unit with id, or an ErrNotFound error.
func (s *Service) Unit(ctx context.Context, id int64) (Unit, error) {
	return unitByID(ctx, s.db, id)
}

// UnitByCode returns the unit with the electronic agency code, or an
// ErrNotFound error.
func (s *Service) UnitByCode(ctx context.Context, code string) (Unit, error) {
	return unitByCode(ctx, s.db, strings.TrimSpace(code))
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

// clean validates in field by field and returns it normalised.
func (in NewCitizen) clean() (NewCitizen, error) {
	var err error
	if in.Email, err = cleanEmail(in.Email, false); err != nil {
		return in, err
	}
	if in.FullName, err = cleanName("full_name", in.FullName); err != nil {
		return in, err
	}
	if in.Phone, err = cleanPhone(in.Phone); err != nil {
		return in, err
	}
	return in, nil
}

// Check validates in field by field as CreateCitizen does, and returns it
// normalised (the e-mail address lower-cased), for a caller that keeps
// the details until the account is created, as a registration waiting
// for its address to be confirmed does.
func (in NewCitizen) Check() (NewCitizen, error) { return in.clean() }

// CreateCitizen creates a portal account and records it in the audit
// ledger ("citizen.register"): as done by the origin's actor, or when the
// caller has not signed in, by the citizen registering themselves. The
// e-mail address is stored lower-cased. It returns an errs.FieldError for
// a malformed field and ErrConflict when the address is already
// registered.
func (s *Service) CreateCitizen(ctx context.Context, in NewCitizen) (Citizen, error) {
	in, err := in.clean()
	if err != nil {
		return Citizen{}, fmt.Errorf("create citizen account: %w", err)
	}
	o, err := s.origin(ctx)
	if err != nil {
		return Citizen{}, fmt.Errorf("create citizen account: %w", err)
	}
	cit := Citizen{Email: in.Email, FullName: in.FullName, Phone: in.Phone, CreatedAt: s.clock()}
	err = s.inTx(ctx, o, func(c *change) error {
		id, err := insertCitizen(ctx, c.tx, cit)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("%w: the e-mail address is already registered; sign in or reset the password", errs.ErrConflict)
		}
		if err != nil {
			return err
		}
		cit.ID = id
		if c.origin.Anonymous() {
			c.origin.Actor = audit.Citizen(id, "")
		}
		// The ledger holds the account's id only: the address, name and
		// phone number are personal data.
		return c.record("citizen.register", resCitizen, id, nil)
	})
	if err != nil {
		return Citizen{}, fmt.Errorf("create citizen account: %w", err)
	}
	return cit, nil
}

// Citizen returns the citizen with id, or an ErrNotFound error.
func (s *Service) Citizen(ctx context.Context, id int64) (Citizen, error) {
	return citizenWhere(ctx, s.db, "id = ?", id)
}

// CitizenByEmail returns the citizen registered with email (compared
// case-insensitively), or an ErrNotFound error.
func (s *Service) CitizenByEmail(ctx context.Context, email string) (Citizen, error) {
	return citizenWhere(ctx, s.db, "email = ?", strings.ToLower(strings.TrimSpace(email)))
}

// Defaults and limits of list pages.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// pageLimit applies DefaultLimit and MaxLimit to a requested page size.
func pageLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, errs.Invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	case n == 0:
		return DefaultLimit, nil
	case n > MaxLimit:
		return MaxLimit, nil
	}
	return n, nil
}

// cleanQuery checks a search query: plain text of reasonable length.
func cleanQuery(q string) (string, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return "", nil
	}
	if _, err := cleanName("q", q); err != nil {
		return "", err
	}
	return q, nil
}

// UnitFilter selects units for ListUnits. Zero fields select everything.
type UnitFilter struct {
	Kind     UnitKind
	ParentID int64
	Status   string // UnitActive or UnitMerged
	// Query matches the code or either name, ignoring case and
	// Vietnamese diacritics.
	Query string
	// After is the cursor: the next value ListUnits returned.
	After int64
	// Limit is the page size; if zero, DefaultLimit; at most MaxLimit.
	Limit int
}

func (f UnitFilter) clean() (UnitFilter, error) {
	var err error
	if f.Kind != "" {
		if err = cleanKind(f.Kind); err != nil {
			return f, err
		}
	}
	if f.Status != "" && f.Status != UnitActive && f.Status != UnitMerged {
		return f, errs.Invalid("status", "must be active or merged")
	}
	f.Query, f.Limit, err = cleanPage(f.After, f.Query, f.Limit)
	return f, err
}

// ListUnits returns a page of the units f selects in order of creation,
// and the cursor of the next page (zero after the last).
func (s *Service) ListUnits(ctx context.Context, f UnitFilter) ([]Unit, int64, error) {
	f, err := f.clean()
	if err != nil {
		return nil, 0, fmt.Errorf("list units: %w", err)
	}
	units, err := listUnits(ctx, s.db, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list units: %w", err)
	}
	return page(units, f.Limit, func(u Unit) int64 { return u.ID })
}

// page trims a list fetched with one extra row to limit and returns the
// cursor of the next page, zero when the extra row was not there.
func page[T any](items []T, limit int, id func(T) int64) ([]T, int64, error) {
	if len(items) <= limit {
		return items, 0, nil
	}
	items = items[:limit]
	return items, id(items[limit-1]), nil
}

// AllUnits returns every unit, merged ones included, in order of
// creation: the whole tree, for views that draw it. A ministry has at most
// a few hundred units.
func (s *Service) AllUnits(ctx context.Context) ([]Unit, error) {
	units, err := listUnits(ctx, s.db, UnitFilter{Limit: -1})
	if err != nil {
		return nil, fmt.Errorf("list all units: %w", err)
	}
	return units, nil
}

// UnitPatch changes a unit's descriptive fields; nil fields are kept.
// Version must be the version the change is based on: a unit changed since
// is refused with ErrConflict, so no one overwrites a change unseen.
// Placement in the tree changes through MoveUnit and MergeUnits.
type UnitPatch struct {
	NameVI   *string
	NameEN   *string
	Kind     *UnitKind
	Country  *string
	TimeZone *string
	Version  int
}

// errStale is the refusal of a change based on an old version.
var errStale = fmt.Errorf("%w: the unit was changed by someone else; reload it and apply your change again", errs.ErrConflict)

// checkVersion compares the version a change is based on with the stored
// one.
func checkVersion(based, stored int, stale error) error {
	if based == 0 {
		return errs.Invalid("version", "is required: send the version you read, so a change made meanwhile is not overwritten")
	}
	if based != stored {
		return stale
	}
	return nil
}

// apply returns u with the patch applied, and the fields it changed.
func (p UnitPatch) apply(u Unit) (Unit, []fieldChange, error) {
	var changes []fieldChange
	set := func(field string, dst *string, v string) {
		if *dst != v {
			changes = append(changes, fieldChange{field: field, old: *dst, new: v})
			*dst = v
		}
	}
	var err error
	if p.NameVI != nil {
		v, err := cleanName("name_vi", *p.NameVI)
		if err != nil {
			return u, nil, err
		}
		set("name_vi", &u.NameVI, v)
	}
	if p.NameEN != nil {
		v, err := cleanName("name_en", *p.NameEN)
		if err != nil {
			return u, nil, err
		}
		set("name_en", &u.NameEN, v)
	}
	if p.Kind != nil {
		if err = cleanKind(*p.Kind); err != nil {
			return u, nil, err
		}
		if (*p.Kind == KindMinistry) != (u.Kind == KindMinistry) {
			return u, nil, errs.Invalid("kind", "only the root is the ministry: the root's kind cannot change and no other unit can become a ministry")
		}
		kind := string(u.Kind)
		set("kind", &kind, string(*p.Kind))
		u.Kind = UnitKind(kind)
	}
	if p.Country != nil {
		v, err := cleanCountry(*p.Country)
		if err != nil {
			return u, nil, err
		}
		set("country", &u.Country, v)
	}
	if p.TimeZone != nil {
		v, err := cleanTimeZone(*p.TimeZone)
		if err != nil {
			return u, nil, err
		}
		set("time_zone", &u.TimeZone, v)
	}
	return u, changes, nil
}

// describe says what changes changed, for a unit's history.
func describe(changes []fieldChange) string {
	parts := make([]string, len(changes))
	for i, c := range changes {
		parts[i] = fmt.Sprintf("%s: %q → %q", c.field, c.old, c.new)
	}
	return strings.Join(parts, "; ")
}

// UpdateUnit applies p to the unit with id and records the change in its
// history and the audit ledger ("unit.update", with the fields changed
// and their new values). It returns ErrNotFound for an unknown unit, an
// errs.FieldError for a bad field or a missing version, and ErrConflict
// for a stale version or a merged unit. A patch that changes nothing
// returns the unit as it is, and records nothing.
func (s *Service) UpdateUnit(ctx context.Context, actor string, id int64, p UnitPatch) (Unit, error) {
	var out Unit
	err := s.write(ctx, func(c *change) error {
		tx := c.tx
		u, err := unitByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkVersion(p.Version, u.Version, errStale); err != nil {
			return err
		}
		if u.Status != UnitActive {
			return fmt.Errorf("%w: unit %s was merged and is kept unchanged for history; edit the unit it was merged into", errs.ErrConflict, u.Code)
		}
		changed, changes, err := p.apply(u)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			out = u // nothing changes: no new version, no event
			return nil
		}
		now := s.clock()
		changed.UpdatedAt = now
		if out, err = saveUnit(ctx, tx, changed, u.Version); err != nil {
			return err
		}
		if err := insertUnitEvent(ctx, tx, UnitEvent{UnitID: id, Kind: "updated", EffectiveAt: now, RecordedAt: now, Actor: actor,
			Detail: describe(changes)}); err != nil {
			return err
		}
		return c.record("unit.update", resUnit, id, changeAttrs(changes))
	})
	if err != nil {
		return Unit{}, fmt.Errorf("update unit %d: %w", id, err)
	}
	return out, nil
}

// saveUnit writes u's mutable fields if the stored version is still
// based, and returns u at its new version.
func saveUnit(ctx context.Context, tx *store.Tx, u Unit, based int) (Unit, error) {
	n, err := updateUnitRow(ctx, tx, u, based)
	if err != nil {
		return Unit{}, err
	}
	if n == 0 {
		return Unit{}, errStale
	}
	u.Version = based + 1
	return u, nil
}

// effectiveAt checks the effective time of a restructuring and returns
// the current time and the effective one. Zero means now, and so does any
// time today: effective dates are days, and a change dated today takes
// effect the moment it is made. An earlier day is applied now and recorded
// with that date; a future one is refused, since changes cannot be
// scheduled yet.
func (s *Service) effectiveAt(t time.Time) (time.Time, time.Time, error) {
	now := s.clock()
	if t.IsZero() || sameDay(t, now) {
		return now, now, nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	if t.After(now) {
		return now, t, errs.Invalid("effective", fmt.Sprintf("%s is in the future; scheduling a restructuring is not supported yet, so apply it on or after that date", t.In(web.MinistryZone()).Format(time.DateOnly)))
	}
	return now, t, nil
}

// sameDay reports whether a and b fall on the same day in web.MinistryZone().
func sameDay(a, b time.Time) bool {
	ay, am, ad := a.In(web.MinistryZone()).Date()
	by, bm, bd := b.In(web.MinistryZone()).Date()
	return ay == by && am == bm && ad == bd
}

// periodEnd returns when a period that began at since ends for a change
// effective at effective. A change dated the day the period began ends it
// at its start (the period was void); an earlier one is refused, since the
// period would end before it began. what names the period's start.
func periodEnd(effective, since time.Time, what string) (time.Time, error) {
	switch {
	case !effective.Before(since):
		return effective, nil
	case sameDay(effective, since):
		return since, nil
	}
	return time.Time{}, errs.Invalid("effective", fmt.Sprintf("is before %s (%s); choose a date on or after it", what, since.In(web.MinistryZone()).Format(time.DateOnly)))
}

// notBeforeCreation checks that effective is not before any of units was
// created (on their creation day, it becomes the creation time), so that a
// restructuring cannot date history before the units existed.
func notBeforeCreation(effective time.Time, units ...Unit) (time.Time, error) {
	for _, u := range units {
		var err error
		if effective, err = periodEnd(effective, u.CreatedAt, fmt.Sprintf("unit %s was created", u.Code)); err != nil {
			return time.Time{}, err
		}
	}
	return effective, nil
}

// descendsFrom reports whether unit id is u itself or lies below it in the
// tree, walking up from id.
func descendsFrom(ctx context.Context, q store.Queryer, id int64, u Unit) (bool, error) {
	for steps := 0; id != 0; steps++ {
		if id == u.ID {
			return true, nil
		}
		if steps > maxDepth {
			return false, fmt.Errorf("the unit tree is deeper than %d levels above unit %d; it holds a cycle", maxDepth, id)
		}
		p, err := unitByID(ctx, q, id)
		if err != nil {
			return false, err
		}
		id = p.ParentID
	}
	return false, nil
}

// maxDepth bounds walks up the tree, which the rules keep acyclic.
const maxDepth = 64

// reparent moves u from under from to under parent, from effective on: it
// closes u's current parent period, opens the next, saves u, and records
// the move, with reason if there is one, in u's history ("moved") and the
// audit ledger ("unit.move"). It returns u as saved.
func reparent(c *change, u, from, parent Unit, effective, now time.Time, actor, reason string) (Unit, error) {
	ctx, tx := c.ctx, c.tx
	since, err := parentSince(ctx, tx, u.ID)
	if err != nil {
		return Unit{}, err
	}
	if effective, err = periodEnd(effective, since, fmt.Sprintf("unit %s was placed under its current parent", u.Code)); err != nil {
		return Unit{}, err
	}
	if err := closeUnitParent(ctx, tx, u.ID, effective); err != nil {
		return Unit{}, err
	}
	if err := insertUnitParent(ctx, tx, u.ID, parent.ID, effective); err != nil {
		return Unit{}, err
	}
	based := u.Version
	u.ParentID, u.UpdatedAt = parent.ID, now
	if u, err = saveUnit(ctx, tx, u, based); err != nil {
		return Unit{}, err
	}
	detail := fmt.Sprintf("from %s to %s", from.Code, parent.Code)
	attrs := map[string]string{"from": from.Code, "to": parent.Code, "effective": day(effective)}
	if reason != "" {
		detail += ": " + reason
		attrs["reason"] = reason
	}
	if err := insertUnitEvent(ctx, tx, UnitEvent{UnitID: u.ID, Kind: "moved", EffectiveAt: effective, RecordedAt: now,
		Actor: actor, OtherUnitID: parent.ID, Detail: detail}); err != nil {
		return Unit{}, err
	}
	return u, c.record("unit.move", resUnit, u.ID, attrs)
}

// MoveUnit places the unit with id under newParentID, effective from
// effective (zero: now). It refuses, with an errs.FieldError, moving the
// root, a move that would make a cycle, a merged or unknown parent, a move
// to the current parent, a future effective date and one before either
// unit was created; and with ErrConflict a merged unit. The old placement stays in the history, so
// UnitParentAt answers for any date; the audit ledger records the move
// ("unit.move", from and to parent codes).
func (s *Service) MoveUnit(ctx context.Context, actor string, id, newParentID int64, effective time.Time) (Unit, error) {
	now, effective, err := s.effectiveAt(effective)
	if err != nil {
		return Unit{}, fmt.Errorf("move unit %d: %w", id, err)
	}
	var out Unit
	err = s.write(ctx, func(c *change) error {
		tx := c.tx
		if err := lockUnits(ctx, tx); err != nil {
			return err
		}
		u, err := unitByID(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case u.ParentID == 0:
			return errs.Invalid("parent", "the ministry is the root of the tree and cannot be moved")
		case u.Status != UnitActive:
			return fmt.Errorf("%w: unit %s was merged and is kept unchanged for history", errs.ErrConflict, u.Code)
		case newParentID == u.ParentID:
			return errs.Invalid("parent", "the unit is already there; choose another parent")
		}
		parent, err := activeUnit(ctx, tx, "parent", newParentID)
		if err != nil {
			return err
		}
		cycle, err := descendsFrom(ctx, tx, parent.ID, u)
		if err != nil {
			return err
		}
		if cycle {
			return errs.Invalid("parent", fmt.Sprintf("unit %s is %s or lies inside it; moving it there would make a cycle", parent.Code, u.Code))
		}
		if effective, err = notBeforeCreation(effective, u, parent); err != nil {
			return err
		}
		old, err := unitByID(ctx, tx, u.ParentID)
		if err != nil {
			return err
		}
		out, err = reparent(c, u, old, parent, effective, now, actor, "")
		return err
	})
	if err != nil {
		return Unit{}, fmt.Errorf("move unit %d: %w", id, err)
	}
	return out, nil
}

// MergeUnits merges the unit sourceID into targetID, effective from
// effective (zero: now): the source's staff move to the target (their
// memberships closed and reopened with the reason "merged into <code>"),
// its child units move under the target, the source becomes merged with
// MergedInto set, and both histories record it ("merged_into",
// "absorbed"), as does the audit ledger: "unit.merge" for the source, and
// "unit.move" and "staff.update" for each unit and member moved. It
// returns the target. It refuses, with an errs.FieldError,
// merging the root, a unit into itself, into a merged unit or into one of
// its own descendants, a future effective date and one before either unit
// was created; with ErrConflict a source already merged.
func (s *Service) MergeUnits(ctx context.Context, actor string, sourceID, targetID int64, effective time.Time) (Unit, error) {
	now, effective, err := s.effectiveAt(effective)
	if err != nil {
		return Unit{}, fmt.Errorf("merge unit %d: %w", sourceID, err)
	}
	var target Unit
	err = s.write(ctx, func(c *change) error {
		tx := c.tx
		if err := lockUnits(ctx, tx); err != nil {
			return err
		}
		src, err := unitByID(ctx, tx, sourceID)
		if err != nil {
			return err
		}
		switch {
		case src.ParentID == 0:
			return errs.Invalid("into", "the ministry is the root of the tree and cannot be merged")
		case src.Status != UnitActive:
			return fmt.Errorf("%w: unit %s was already merged", errs.ErrConflict, src.Code)
		case targetID == src.ID:
			return errs.Invalid("into", "a unit cannot be merged into itself")
		}
		if target, err = activeUnit(ctx, tx, "into", targetID); err != nil {
			return err
		}
		inside, err := descendsFrom(ctx, tx, target.ID, src)
		if err != nil {
			return err
		}
		if inside {
			return errs.Invalid("into", fmt.Sprintf("unit %s lies inside %s; move it out first or merge the other way", target.Code, src.Code))
		}
		// History cannot begin before the units it joins existed.
		if effective, err = notBeforeCreation(effective, src, target); err != nil {
			return err
		}
		reason := "merged into " + target.Code
		// Merged children stay where they were when merged, as history.
		children, err := listUnits(ctx, tx, UnitFilter{ParentID: src.ID, Status: UnitActive, Limit: -1})
		if err != nil {
			return err
		}
		for _, child := range children {
			if _, err := reparent(c, child, src, target, effective, now, actor, reason); err != nil {
				return err
			}
		}
		staff, err := listStaff(ctx, tx, StaffFilter{UnitID: src.ID, IncludeDisabled: true, Limit: -1})
		if err != nil {
			return err
		}
		for _, m := range staff {
			if _, err := transfer(ctx, tx, m, target.ID, effective, now, reason); err != nil {
				return err
			}
			if err := c.record("staff.update", resStaff, m.ID, map[string]string{"changed": "unit", "unit": target.Code, "reason": reason}); err != nil {
				return err
			}
		}
		based := src.Version
		src.Status, src.MergedInto, src.UpdatedAt = UnitMerged, target.ID, now
		if _, err := saveUnit(ctx, tx, src, based); err != nil {
			return err
		}
		if err := insertUnitEvent(ctx, tx, UnitEvent{UnitID: src.ID, Kind: "merged_into", EffectiveAt: effective, RecordedAt: now,
			Actor: actor, OtherUnitID: target.ID, Detail: fmt.Sprintf("%d staff and %d units moved to %s", len(staff), len(children), target.Code)}); err != nil {
			return err
		}
		if err := insertUnitEvent(ctx, tx, UnitEvent{UnitID: target.ID, Kind: "absorbed", EffectiveAt: effective, RecordedAt: now,
			Actor: actor, OtherUnitID: src.ID, Detail: fmt.Sprintf("absorbed %s with %d staff and %d units", src.Code, len(staff), len(children))}); err != nil {
			return err
		}
		for _, h := range s.onMerge {
			if err := h(c.ctx, tx, src, target); err != nil {
				return err
			}
		}
		return c.record("unit.merge", resUnit, src.ID, map[string]string{"into": target.Code, "effective": day(effective),
			"staff": strconv.Itoa(len(staff)), "units": strconv.Itoa(len(children))})
	})
	if err != nil {
		return Unit{}, fmt.Errorf("merge unit %d into %d: %w", sourceID, targetID, err)
	}
	return target, nil
}

// UnitHistory returns the unit's history, oldest first, or an ErrNotFound
// error for an unknown unit.
func (s *Service) UnitHistory(ctx context.Context, id int64) ([]UnitEvent, error) {
	if _, err := unitByID(ctx, s.db, id); err != nil {
		return nil, err
	}
	events, err := unitEvents(ctx, s.db, id)
	if err != nil {
		return nil, fmt.Errorf("history of unit %d: %w", id, err)
	}
	return events, nil
}

// UnitParentAt returns the id of the unit's parent at t (zero for the
// root), from the placement history. It returns an ErrNotFound error for
// an unknown unit or a time before the unit was placed.
func (s *Service) UnitParentAt(ctx context.Context, id int64, t time.Time) (int64, error) {
	parent, err := parentAt(ctx, s.db, id, t.UTC())
	if err != nil {
		return 0, fmt.Errorf("parent of unit %d on %s: %w", id, t.Format(time.DateOnly), err)
	}
	return parent, nil
}

// Successor returns the active unit that now carries the work of the unit
// with id: the unit itself if active, else the unit it was merged into,
// followed through later merges. Items owned by a merged unit re-home
// with it. It returns an ErrNotFound error for an unknown unit.
func (s *Service) Successor(ctx context.Context, id int64) (Unit, error) {
	for steps := 0; ; steps++ {
		u, err := unitByID(ctx, s.db, id)
		if err != nil {
			return Unit{}, err
		}
		if u.Status == UnitActive {
			return u, nil
		}
		if steps > maxDepth {
			return Unit{}, fmt.Errorf("successor of unit %d: more than %d merges in a row; the merge chain holds a cycle", id, maxDepth)
		}
		id = u.MergedInto
	}
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

// cleanPage checks what every list filter shares: the cursor, the search
// text and the page size (defaulted and capped).
func cleanPage(after int64, query string, limit int) (string, int, error) {
	if after < 0 {
		return "", 0, errs.Invalid("after", "is not a cursor this service returned")
	}
	query, err := cleanQuery(query)
	if err != nil {
		return "", 0, err
	}
	limit, err = pageLimit(limit)
	return query, limit, err
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
