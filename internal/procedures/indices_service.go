package procedures

import (
	"context"
	"errors"
	"fmt"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/web"
)

// IndexScopeKind is whose dossiers a reading of the indices counts.
type IndexScopeKind string

// The scopes of the indices.
const (
	ScopeUnit     IndexScopeKind = "unit"     // one unit's
	ScopeMissions IndexScopeKind = "missions" // every mission abroad's
	ScopeMinistry IndexScopeKind = "ministry" // the whole ministry's
)

// IndexScope selects whose dossiers the indices count.
type IndexScope struct {
	Kind IndexScopeKind
	// UnitCode is the agency code of the unit, for ScopeUnit; if empty,
	// the caller's own unit.
	UnitCode string
}

// TrendMonths is how many calendar months an IndexReport's trend covers.
const TrendMonths = 12

// IndexReport is a reading of the Decision 766 indices.
type IndexReport struct {
	Scope IndexScope
	// Unit is the unit read, for ScopeUnit.
	Unit identity.Unit
	// From and To bound the period read, [From, To).
	From, To time.Time
	// Location is the time zone the trend's months are counted in: the
	// unit's, or Viet Nam's for the missions and the ministry.
	Location *time.Location
	Counts   IndexCounts
	Indices  Indices
	// Trend is the TrendMonths calendar months ending with the current
	// one, oldest first.
	Trend []MonthIndices
}

// Indices reads the Decision 766 indices of a scope over [from, to), with
// the trend of the last TrendMonths months.
//
// Staff who work on dossiers read their own unit's. Other units', the
// missions' and the ministry's are for those who compare units: the
// ministry's administrators and the approvers of the ministry unit itself
// (its leadership); an approver of a department or a mission leads that
// unit only. The indices are aggregates with no personal data, but a
// unit's figures are its own business until the ministry looks at them.
//
// It returns an error wrapping errs.ErrForbidden for a scope sub may not
// read, and errs.ErrInvalid for an unknown scope or agency code, or an
// empty period.
func (s *Service) Indices(ctx context.Context, sub authz.Subject, scope IndexScope, from, to time.Time) (IndexReport, error) {
	if sub.Kind != authz.Staff {
		return IndexReport{}, fmt.Errorf("%w: the service indices are for staff", errs.ErrForbidden)
	}
	own, err := s.opts.Directory.Unit(ctx, sub.Unit)
	if err != nil {
		return IndexReport{}, err
	}
	if scope.Kind == ScopeUnit && (scope.UnitCode == "" || scope.UnitCode == own.Code) {
		scope.UnitCode = own.Code
		if dec, _ := authz.Decide(sub, authz.Read, authz.Resource{Kind: authz.KindIndices, Unit: own.ID}); dec != authz.Allowed {
			return IndexReport{}, fmt.Errorf("%w: your roles do not include work on dossiers", errs.ErrForbidden)
		}
	} else if ok, err := s.mayCompareUnits(ctx, sub); err != nil {
		return IndexReport{}, err
	} else if !ok {
		return IndexReport{}, fmt.Errorf("%w: the indices of other units, of the missions and of the ministry are for the ministry's administrators and leadership; you may read your own unit's", errs.ErrForbidden)
	}
	rep := IndexReport{Scope: scope, From: from, To: to}
	var units []int64 // nil: the whole ministry
	switch scope.Kind {
	case ScopeUnit:
		u, err := s.opts.Directory.UnitByCode(ctx, scope.UnitCode)
		if err != nil {
			if errors.Is(err, errs.ErrNotFound) {
				return IndexReport{}, errs.Invalid("unit", fmt.Sprintf("no unit has the agency code %q", scope.UnitCode))
			}
			return IndexReport{}, err
		}
		cal, err := s.Calendar(ctx, u.ID)
		if err != nil {
			return IndexReport{}, err
		}
		rep.Unit, rep.Location, units = u, cal.Location(), []int64{u.ID}
	case ScopeMissions, ScopeMinistry:
		rep.Location = web.MinistryZone()
		if scope.Kind == ScopeMissions {
			if units, err = s.missionIDs(ctx); err != nil {
				return IndexReport{}, err
			}
		}
	default:
		return IndexReport{}, errs.Invalid("scope", fmt.Sprintf("%q is not a scope; use unit, missions or ministry", scope.Kind))
	}
	if rep.Counts, err = LoadIndexCounts(ctx, s.db, IndexQuery{UnitIDs: units, From: from, To: to}); err != nil {
		return IndexReport{}, err
	}
	rep.Indices = Score(rep.Counts)
	if rep.Trend, err = LoadIndexTrend(ctx, s.db, units, TrendMonths, s.now(), rep.Location); err != nil {
		return IndexReport{}, err
	}
	return rep, nil
}

// missionIDs returns the ids of every mission abroad, merged ones
// included: their closed dossiers still count in the periods they fall
// in. It is never nil, so that no missions select no dossiers rather
// than the whole ministry's.
func (s *Service) missionIDs(ctx context.Context) ([]int64, error) {
	all, err := s.opts.Directory.AllUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("procedures: list the missions: %w", err)
	}
	ids := []int64{}
	for _, u := range all {
		if u.Kind.Mission() {
			ids = append(ids, u.ID)
		}
	}
	return ids, nil
}

// mayCompareUnits reports whether sub may read other units', the
// missions' and the ministry's indices: the comparison belongs to the
// ministry unit, and authz says who may read it.
func (s *Service) mayCompareUnits(ctx context.Context, sub authz.Subject) (bool, error) {
	all, err := s.opts.Directory.AllUnits(ctx)
	if err != nil {
		return false, fmt.Errorf("procedures: find the ministry unit: %w", err)
	}
	for _, u := range all {
		if u.Kind == identity.KindMinistry {
			dec, _ := authz.Decide(sub, authz.Read, authz.Resource{Kind: authz.KindUnitComparison, Unit: u.ID})
			return dec == authz.Allowed, nil
		}
	}
	return false, nil
}
