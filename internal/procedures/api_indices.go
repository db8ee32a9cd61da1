package procedures

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// apiIndicesView is a reading of the Decision 766 indices as the API
// carries it; the period's days are inclusive, in TimeZone.
type apiIndicesView struct {
	Scope      IndexScopeKind `json:"scope"`
	AgencyCode string         `json:"agency_code,omitempty"`
	From       string         `json:"from"`
	To         string         `json:"to"`
	TimeZone   string         `json:"time_zone"`
	Counts     IndexCounts    `json:"counts"`
	Indices    Indices        `json:"indices"`
	// Trend is the last TrendMonths calendar months, oldest first.
	Trend []MonthIndices `json:"trend"`
}

// apiIndices reads the indices of a unit (the caller's unless unit names
// another), of the missions or of the ministry, over the days from and
// to, both included: by default the current month to date.
func (h *Handler) apiIndices(w http.ResponseWriter, r *http.Request) {
	sub := web.SubjectFrom(r.Context())
	q := r.URL.Query()
	scope := IndexScope{Kind: ScopeUnit, UnitCode: q.Get("unit")}
	if s := q.Get("scope"); s != "" {
		scope.Kind = IndexScopeKind(s)
	}
	switch scope.Kind {
	case ScopeUnit, ScopeMissions, ScopeMinistry:
	default:
		web.Error(w, r, errs.Invalid("scope", fmt.Sprintf("%q is not a scope; use unit, missions or ministry", scope.Kind)))
		return
	}
	if scope.Kind != ScopeUnit && scope.UnitCode != "" {
		web.Error(w, r, errs.Invalid("unit", "names a unit for scope=unit only"))
		return
	}
	loc := h.apiIndexZone(r.Context(), sub, scope)
	from, to, err := apiParsePeriod(q.Get("from"), q.Get("to"), h.svc.now().In(loc), loc)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	rep, err := h.svc.Indices(r.Context(), sub, scope, from, to)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	v := apiIndicesView{Scope: rep.Scope.Kind, AgencyCode: rep.Unit.Code, From: from.Format(time.DateOnly),
		To: to.AddDate(0, 0, -1).Format(time.DateOnly), TimeZone: loc.String(), Counts: rep.Counts, Indices: rep.Indices, Trend: rep.Trend}
	web.JSON(w, r, http.StatusOK, v)
}

// apiIndexZone returns the zone a period's days are counted in: the unit's
// for a unit, Viet Nam's otherwise, and for a unit that cannot be found
// (Indices then says why).
func (h *Handler) apiIndexZone(ctx context.Context, sub authz.Subject, scope IndexScope) *time.Location {
	if scope.Kind != ScopeUnit {
		return web.MinistryZone()
	}
	id := sub.Unit
	if scope.UnitCode != "" {
		u, err := h.svc.opts.Directory.UnitByCode(ctx, scope.UnitCode)
		if err != nil {
			return web.MinistryZone()
		}
		id = u.ID
	}
	cal, err := h.svc.Calendar(ctx, id)
	if err != nil {
		return web.MinistryZone()
	}
	return cal.Location()
}

// apiParsePeriod parses the inclusive days from and to (YYYY-MM-DD) in loc
// into the instants [from, to+1 day). An empty to is today's date at now;
// an empty from the first of to's month.
func apiParsePeriod(fromText, toText string, now time.Time, loc *time.Location) (time.Time, time.Time, error) {
	day := func(field, s string) (time.Time, error) {
		t, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil || t.Year() < 2000 {
			return time.Time{}, errs.Invalid(field, "must be a date written YYYY-MM-DD, from the year 2000")
		}
		return t, nil
	}
	to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	var err error
	if toText != "" {
		if to, err = day("to", toText); err != nil {
			return time.Time{}, time.Time{}, err
		}
	}
	from := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, loc)
	if fromText != "" {
		if from, err = day("from", fromText); err != nil {
			return time.Time{}, time.Time{}, err
		}
	}
	if from.After(to) {
		return time.Time{}, time.Time{}, errs.Invalid("from", "is after to; the period runs from the first day to the last, both included")
	}
	return from, to.AddDate(0, 0, 1), nil
}
