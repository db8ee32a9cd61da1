package analytics

import (
	"context"
	"fmt"
	"strings"
	"time"

	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// Measure names one count the analytics store keeps per day, unit,
// procedure and country. Every measure is additive: the total over a
// period is the sum of its days.
type Measure string

// The measures.
const (
	DossiersReceived     Measure = "dossiers_received"      // dossiers submitted (dossier.submit)
	DossiersResolved     Measure = "dossiers_resolved"      // dossiers decided: approved, refused, refused at intake or stopped
	DossiersResolvedLate Measure = "dossiers_resolved_late" // of those, decided after their deadline
	DossiersOverdue      Measure = "dossiers_overdue"       // dossiers that passed their deadline unresolved, on the day it passed
	DocumentsIn          Measure = "documents_in"           // incoming documents registered
	DocumentsOut         Measure = "documents_out"          // outgoing documents issued
	ExchangeSent         Measure = "exchange_sent"          // exchange messages sent by the node
	ExchangeReceived     Measure = "exchange_received"      // exchange messages received by the node
	Alerts               Measure = "alerts"                 // security alerts raised
	TasksAssigned        Measure = "tasks_assigned"         // leadership tasks assigned (per lead unit)
	TasksCompleted       Measure = "tasks_completed"        // leadership tasks reported done
	ReportsSubmitted     Measure = "reports_submitted"      // periodic report submissions
)

// Measures lists every measure, in the order pages show them.
var Measures = []Measure{DossiersReceived, DossiersResolved, DossiersResolvedLate, DossiersOverdue,
	DocumentsIn, DocumentsOut, ExchangeSent, ExchangeReceived, Alerts, TasksAssigned, TasksCompleted, ReportsSubmitted}

// Totals are the measures summed over some facts.
type Totals struct {
	DossiersReceived     int64 `json:"dossiers_received"`
	DossiersResolved     int64 `json:"dossiers_resolved"`
	DossiersResolvedLate int64 `json:"dossiers_resolved_late"`
	DossiersOverdue      int64 `json:"dossiers_overdue"`
	DocumentsIn          int64 `json:"documents_in"`
	DocumentsOut         int64 `json:"documents_out"`
	ExchangeSent         int64 `json:"exchange_sent"`
	ExchangeReceived     int64 `json:"exchange_received"`
	Alerts               int64 `json:"alerts"`
	TasksAssigned        int64 `json:"tasks_assigned"`
	TasksCompleted       int64 `json:"tasks_completed"`
	ReportsSubmitted     int64 `json:"reports_submitted"`
}

// Get returns the total of measure m (0 for an unknown one).
func (t *Totals) Get(m Measure) int64 {
	if p := t.field(m); p != nil {
		return *p
	}
	return 0
}

// add adds v to measure m; an unknown measure (written by a newer
// version) is ignored.
func (t *Totals) add(m Measure, v int64) {
	if p := t.field(m); p != nil {
		*p += v
	}
}

func (t *Totals) field(m Measure) *int64 {
	switch m {
	case DossiersReceived:
		return &t.DossiersReceived
	case DossiersResolved:
		return &t.DossiersResolved
	case DossiersResolvedLate:
		return &t.DossiersResolvedLate
	case DossiersOverdue:
		return &t.DossiersOverdue
	case DocumentsIn:
		return &t.DocumentsIn
	case DocumentsOut:
		return &t.DocumentsOut
	case ExchangeSent:
		return &t.ExchangeSent
	case ExchangeReceived:
		return &t.ExchangeReceived
	case Alerts:
		return &t.Alerts
	case TasksAssigned:
		return &t.TasksAssigned
	case TasksCompleted:
		return &t.TasksCompleted
	case ReportsSubmitted:
		return &t.ReportsSubmitted
	}
	return nil
}

// Period is a span of whole days, From to To inclusive, in each unit's
// own calendar days (a fact's day is the day in the unit's time zone).
type Period struct {
	From, To calendar.Date
}

// LastDays returns the period of n days ending on the day of now in loc.
func LastDays(now time.Time, loc *time.Location, n int) Period {
	to := calendar.DateOf(now.In(loc))
	from := calendar.DateOf(now.In(loc).AddDate(0, 0, -(n - 1)))
	return Period{From: from, To: to}
}

func (p Period) check() error {
	if p.From.Year == 0 || p.To.Year == 0 {
		return fmt.Errorf("analytics: a period needs both its first and last day: %w", errs.ErrInvalid)
	}
	if p.To.String() < p.From.String() {
		return fmt.Errorf("analytics: period %s to %s ends before it starts: %w", p.From, p.To, errs.ErrInvalid)
	}
	return nil
}

// Filter narrows a query. Units, when not nil, lists the only units
// whose facts count (an empty, non-nil list matches nothing): the caller
// passes the units its user may see, since the Store decides no access.
type Filter struct {
	Units      []int64
	Procedure  string // "" for every procedure
	Country    string // "" for every country
	MissionsOf bool   // only missions abroad (identity.UnitKind.Mission)
}

// UnitTotals are the totals of one unit.
type UnitTotals struct {
	UnitID int64 `json:"unit_id"`
	Totals
}

// DayTotals are the totals of one day.
type DayTotals struct {
	Day calendar.Date `json:"day"`
	// WorkingDay reports whether the day was a working day for (any of)
	// the units counted.
	WorkingDay bool `json:"working_day"`
	Totals
}

// CountryTotals are the totals of the units in one country.
type CountryTotals struct {
	Country string `json:"country"`
	Totals
}

// ProcedureTotals are the totals of one procedure's dossiers.
type ProcedureTotals struct {
	Procedure string `json:"procedure"`
	Totals
}

// Store reads the analytics store: the daily facts the Feeder keeps. It
// is the query API of operations views and briefs. It decides no access:
// callers pass, in Filter.Units, the units their user may see. It is safe
// for concurrent use.
type Store struct {
	db *store.DB
}

// NewStore returns the Store over db.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

// Total returns the totals over period p of the facts f selects. It
// returns an error wrapping errs.ErrInvalid for a bad period.
func (s *Store) Total(ctx context.Context, p Period, f Filter) (Totals, error) {
	var t Totals
	err := s.scan(ctx, p, f, "", func(_ string, _ bool, m Measure, v int64) { t.add(m, v) })
	return t, err
}

// ByUnit returns the totals over p per unit, in unit id order; units
// without facts are left out.
func (s *Store) ByUnit(ctx context.Context, p Period, f Filter) ([]UnitTotals, error) {
	var out []UnitTotals
	err := s.scan(ctx, p, f, "f.unit_id", func(key string, _ bool, m Measure, v int64) {
		var id int64
		fmt.Sscan(key, &id)
		if len(out) == 0 || out[len(out)-1].UnitID != id {
			out = append(out, UnitTotals{UnitID: id})
		}
		out[len(out)-1].add(m, v)
	})
	return out, err
}

// ByMission returns ByUnit limited to missions.
func (s *Store) ByMission(ctx context.Context, p Period, f Filter) ([]UnitTotals, error) {
	f.MissionsOf = true
	return s.ByUnit(ctx, p, f)
}

// ByDay returns the totals over p per day, every day of p in order, days
// without facts with zero totals; WorkingDay is taken from the facts, or
// from Viet Nam's calendar on a day without any.
func (s *Store) ByDay(ctx context.Context, p Period, f Filter) ([]DayTotals, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	idx := map[string]int{}
	var out []DayTotals
	vn := calendar.Vietnam()
	start := time.Date(p.From.Year, p.From.Month, p.From.Day, 12, 0, 0, 0, time.UTC)
	for d := start; calendar.DateOf(d).String() <= p.To.String(); d = d.AddDate(0, 0, 1) {
		day := calendar.DateOf(d)
		idx[day.String()] = len(out)
		out = append(out, DayTotals{Day: day, WorkingDay: vn.IsWorkingDay(day)})
	}
	seen := map[string]bool{}
	err := s.scan(ctx, p, f, "f.day", func(key string, working bool, m Measure, v int64) {
		i, ok := idx[key]
		if !ok {
			return
		}
		if !seen[key] {
			seen[key] = true
			out[i].WorkingDay = false
		}
		out[i].WorkingDay = out[i].WorkingDay || working
		out[i].add(m, v)
	})
	return out, err
}

// ByCountry returns the totals over p per country, in country order.
func (s *Store) ByCountry(ctx context.Context, p Period, f Filter) ([]CountryTotals, error) {
	var out []CountryTotals
	err := s.scan(ctx, p, f, "f.country", func(key string, _ bool, m Measure, v int64) {
		if len(out) == 0 || out[len(out)-1].Country != key {
			out = append(out, CountryTotals{Country: key})
		}
		out[len(out)-1].add(m, v)
	})
	return out, err
}

// ByProcedure returns the totals over p per procedure code, in code
// order; facts of no procedure (documents, tasks, ...) are left out.
func (s *Store) ByProcedure(ctx context.Context, p Period, f Filter) ([]ProcedureTotals, error) {
	var out []ProcedureTotals
	err := s.scan(ctx, p, f, "f.procedure_code", func(key string, _ bool, m Measure, v int64) {
		if key == "" {
			return
		}
		if len(out) == 0 || out[len(out)-1].Procedure != key {
			out = append(out, ProcedureTotals{Procedure: key})
		}
		out[len(out)-1].add(m, v)
	})
	return out, err
}

// scan sums the facts of p and f grouped by group (a column of f, or ""
// for no grouping), ordered by it, calling fn per group and measure.
func (s *Store) scan(ctx context.Context, p Period, f Filter, group string, fn func(key string, working bool, m Measure, v int64)) error {
	if err := p.check(); err != nil {
		return err
	}
	if f.Units != nil && len(f.Units) == 0 {
		return nil
	}
	key := "''"
	if group != "" {
		key = group
	}
	var where []string
	args := []any{p.From.String(), p.To.String()}
	where = append(where, "f.day >= ?", "f.day <= ?")
	if f.Units != nil {
		where = append(where, "f.unit_id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.Units)), ",")+")")
		for _, u := range f.Units {
			args = append(args, u)
		}
	}
	if f.Procedure != "" {
		where, args = append(where, "f.procedure_code = ?"), append(args, f.Procedure)
	}
	if f.Country != "" {
		where, args = append(where, "f.country = ?"), append(args, strings.ToUpper(f.Country))
	}
	if f.MissionsOf {
		where = append(where, "f.unit_id IN (SELECT id FROM units WHERE kind IN (?, ?, ?))")
		args = append(args, string(identity.KindEmbassy), string(identity.KindConsulateGeneral), string(identity.KindPermanentMission))
	}
	q := "SELECT " + key + ", MAX(f.working_day), f.measure, SUM(f.value) FROM analytics_facts f WHERE " +
		strings.Join(where, " AND ") + " GROUP BY " + key + ", f.measure ORDER BY " + key + ", f.measure"
	if group == "" {
		q = "SELECT '', MAX(f.working_day), f.measure, SUM(f.value) FROM analytics_facts f WHERE " +
			strings.Join(where, " AND ") + " GROUP BY f.measure ORDER BY f.measure"
	}
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return fmt.Errorf("analytics: read facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k       any
			working int64
			m       string
			v       int64
		)
		if err := rows.Scan(&k, &working, &m, &v); err != nil {
			return fmt.Errorf("analytics: read facts: %w", err)
		}
		fn(keyString(k), working != 0, Measure(m), v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("analytics: read facts: %w", err)
	}
	return nil
}

// keyString renders a grouping key as scanned from either dialect.
func keyString(k any) string {
	switch v := k.(type) {
	case nil:
		return ""
	case []byte:
		return string(v)
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// BIViews names the read-only views documented for BI tools (see the
// package comment); on PostgreSQL the role chancery_bi may read them and
// nothing else.
var BIViews = []string{"bi_units", "bi_facts", "bi_daily", "bi_datasets", "bi_dataset_checks"}
