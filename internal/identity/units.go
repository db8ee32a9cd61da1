package identity

// This file holds the directory's units: creating, finding, listing,
// changing, moving and merging them, with their history.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/errs"
	"chancery/internal/store"
)

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
