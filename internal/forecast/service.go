package forecast

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/procedures"
	"chancery/internal/store"
	"chancery/internal/web"
)

// Directory is what the service needs of the unit directory.
type Directory interface {
	AllUnits(ctx context.Context) ([]identity.Unit, error)
}

// Options configure a Service.
type Options struct {
	DB        *store.DB
	Directory Directory
	Catalogue *procedures.Catalogue
	// Now is the clock (time.Now if nil): the forecast starts after the
	// last complete week.
	Now func() time.Time
	// Form is the seasonality the models take (Auto, the zero value,
	// fits both forms and keeps the better).
	Form Seasonality
}

// Service forecasts each unit's weekly demand per procedure.
type Service struct {
	opts Options
	// cache keeps fitted forecasts per series until a new week's data
	// (the last complete week) or a changed history changes the series.
	mu    sync.Mutex
	cache map[cacheKey]*Outlook
}

type cacheKey struct {
	Key
	last calendar.Date
	sum  float64
	n    int
}

// NewService returns the service.
func NewService(opts Options) (*Service, error) {
	if opts.DB == nil || opts.Directory == nil || opts.Catalogue == nil {
		return nil, errors.New("forecast: NewService needs the database, the directory and the catalogue")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts, cache: map[cacheKey]*Outlook{}}, nil
}

// Horizon is how many weeks ahead the console forecasts: a quarter.
const Horizon = 13

// Holdout is how many of the last weeks the console's backtest holds out.
const Holdout = 26

// Outlook is one series' history, forecast and backtest.
type Outlook struct {
	Unit      identity.Unit
	Procedure *procedures.Procedure
	History   Series
	Forecast  []Forecast
	Backtest  *Result
	Model     string
	// Problem says why there is no forecast (too short a history).
	Problem string
	// Minutes is the staff time one dossier takes (StaffMinutes).
	Minutes float64
}

// WorkloadHours returns the staff hours the forecast's mean and its 80 %
// interval mean for week i.
func (o *Outlook) WorkloadHours(i int) (mean, lo, hi float64) {
	f := o.Forecast[i]
	return f.Mean * o.Minutes / 60, f.Lo80 * o.Minutes / 60, f.Hi80 * o.Minutes / 60
}

// StaffMinutes is the staff time one dossier of p takes: for each of its
// processing steps, the working time of the role that takes it. The
// catalogue gives the steps and who takes them, not their working time,
// so these are assumptions, stated where they are shown: 15 minutes at
// the counter (a clerk's intake or hand-over), 45 for an officer's
// appraisal, 10 for an approver's decision.
func StaffMinutes(p *procedures.Procedure) float64 {
	total := 0.0
	for _, st := range p.Steps {
		total += roleMinutes(st.Role)
	}
	if total == 0 {
		return roleMinutes(procedures.RoleClerk) + roleMinutes(procedures.RoleOfficer) + roleMinutes(procedures.RoleApprover)
	}
	return total
}

func roleMinutes(r procedures.Role) float64 {
	switch r {
	case procedures.RoleClerk:
		return 15
	case procedures.RoleOfficer:
		return 45
	case procedures.RoleApprover:
		return 10
	}
	return 0
}

// resource is the authz resource of a unit's forecast: the unit's, shared
// with the ministry unit.
func resource(unit int64, ministry int64) authz.Resource {
	return authz.Resource{Kind: authz.KindForecast, Unit: unit, Shared: []int64{ministry}}
}

// Units returns the units whose forecasts sub may read and that have
// dossiers or history to forecast from, missions first, by name.
func (s *Service) Units(ctx context.Context, sub authz.Subject) ([]identity.Unit, error) {
	all, err := s.opts.Directory.AllUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("forecast: list the units: %w", err)
	}
	series, err := s.series(ctx)
	if err != nil {
		return nil, err
	}
	has := map[int64]bool{}
	for k := range series {
		has[k.Unit] = true
	}
	ministry := ministryOf(all)
	var out []identity.Unit
	for _, u := range all {
		if !has[u.ID] {
			continue
		}
		if d, _ := authz.Decide(sub, authz.Read, resource(u.ID, ministry)); d == authz.Allowed {
			out = append(out, u)
		}
	}
	slices.SortStableFunc(out, func(a, b identity.Unit) int {
		if a.Kind.Mission() != b.Kind.Mission() {
			if a.Kind.Mission() {
				return -1
			}
			return 1
		}
		return compareStrings(a.NameEN, b.NameEN)
	})
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func ministryOf(all []identity.Unit) int64 {
	for _, u := range all {
		if u.Kind == identity.KindMinistry && u.ParentID == 0 {
			return u.ID
		}
	}
	return 0
}

// lastWeek is the Monday of the last complete week, Viet Nam time.
func (s *Service) lastWeek() calendar.Date {
	now := s.opts.Now().In(web.MinistryZone())
	return mondayOf(calendar.DateOf(now)).AddDays(-7)
}

func (s *Service) series(ctx context.Context) (map[Key]Series, error) {
	return weekly(ctx, s.opts.DB, s.lastWeek())
}

// unitSeries is one procedure's weekly series at a unit, with the
// unit's calendar.
type unitSeries struct {
	key       Key
	procedure *procedures.Procedure
	series    Series
	cal       *calendar.Calendar
}

// seriesOf returns unit's series per procedure, by procedure code. A
// unit sub may not read answers errs.ErrNotFound, as a missing one does.
func (s *Service) seriesOf(ctx context.Context, sub authz.Subject, unitID int64) (identity.Unit, []unitSeries, error) {
	all, err := s.opts.Directory.AllUnits(ctx)
	if err != nil {
		return identity.Unit{}, nil, fmt.Errorf("forecast: list the units: %w", err)
	}
	var unit identity.Unit
	for _, u := range all {
		if u.ID == unitID {
			unit = u
		}
	}
	if d, _ := authz.Decide(sub, authz.Read, resource(unitID, ministryOf(all))); unit.ID == 0 || d != authz.Allowed {
		return identity.Unit{}, nil, fmt.Errorf("%w: no forecast of unit %d", errs.ErrNotFound, unitID)
	}
	series, err := s.series(ctx)
	if err != nil {
		return identity.Unit{}, nil, err
	}
	cal, err := calendar.ForMission(unit.Country)
	if err != nil {
		cal = calendar.Vietnam() // a country without calendar data: Viet Nam's holidays still close a mission
	}
	var out []unitSeries
	for k, ser := range series {
		if k.Unit != unitID {
			continue
		}
		p, err := s.opts.Catalogue.Procedure(k.Procedure)
		if err != nil {
			continue // a procedure no longer in the catalogue: nothing to staff
		}
		out = append(out, unitSeries{key: k, procedure: p, series: ser, cal: cal})
	}
	slices.SortFunc(out, func(a, b unitSeries) int { return compareStrings(a.procedure.Code, b.procedure.Code) })
	return unit, out, nil
}

// Unit returns the outlook of every procedure of unit that has data:
// history, forecast for the next Horizon weeks, backtest on the last
// Holdout weeks, staff minutes. A unit sub may not read answers
// errs.ErrNotFound, as a missing one does.
func (s *Service) Unit(ctx context.Context, sub authz.Subject, unitID int64) (identity.Unit, []*Outlook, error) {
	unit, list, err := s.seriesOf(ctx, sub, unitID)
	if err != nil {
		return identity.Unit{}, nil, err
	}
	out := make([]*Outlook, 0, len(list))
	for _, us := range list {
		out = append(out, s.outlook(unit, us))
	}
	return unit, out, nil
}

// outlook fits and backtests one series, from the cache when its data
// have not changed.
func (s *Service) outlook(unit identity.Unit, us unitSeries) *Outlook {
	p, ser, cal := us.procedure, us.series, us.cal
	ck := cacheKey{Key: us.key, last: ser.Week(len(ser.Values) - 1), n: len(ser.Values)}
	for _, v := range ser.Values {
		ck.sum += v
	}
	s.mu.Lock()
	o, ok := s.cache[ck]
	s.mu.Unlock()
	if ok {
		return o
	}
	o = &Outlook{Unit: unit, Procedure: p, History: ser, Minutes: StaffMinutes(p)}
	m, err := Fit(ser, cal, s.opts.Form)
	if err != nil {
		o.Problem = err.Error()
	} else {
		o.Model = m.Name()
		o.Forecast = m.Ahead(ser.Values, Horizon)
		if r, err := Backtest(ser, Holdout, cal, s.opts.Form); err == nil {
			o.Backtest = &r
		}
	}
	s.mu.Lock()
	for old := range s.cache {
		if old.last != ck.last { // a new week: last week's forecasts are stale
			delete(s.cache, old)
		}
	}
	s.cache[ck] = o
	s.mu.Unlock()
	return o
}
