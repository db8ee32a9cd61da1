package operations

import (
	"context"
	"fmt"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/procedures"
	"chancery/internal/store"
)

// The summaries' days (migration 00043) are days since 1970-01-01 in the
// ministry's zone, Asia/Ho_Chi_Minh, UTC+7 without summer time since
// 1975: day = (t_us + zoneOffset) / dayMicros; their weeks start on
// Mondays there, week = (day + 3) / 7 (1970-01-01 was a Thursday).
// TestFactDaysAreHanoiDays pins that the zone still is what the
// migration's triggers assume.
const (
	zoneOffsetMicros = int64(7 * time.Hour / time.Microsecond)
	dayMicros        = int64(24 * time.Hour / time.Microsecond)
)

// factDay is the summaries' day of t.
func factDay(t time.Time) int64 { return (t.UnixMicro() + zoneOffsetMicros) / dayMicros }

// factWeek is the summaries' week of t.
func factWeek(t time.Time) int64 { return (factDay(t) + 3) / 7 }

// wholeWeek reports whether t is a Monday's midnight in the summaries'
// days.
func wholeWeek(t time.Time) bool {
	return (t.UnixMicro()+zoneOffsetMicros)%dayMicros == 0 && (factDay(t)+3)%7 == 0
}

// period returns the period of bounds (Mondays' midnights) week falls
// in, or -1.
func period(bounds []time.Time, week int64) int {
	for i := 0; i+1 < len(bounds); i++ {
		if week >= factWeek(bounds[i]) && week < factWeek(bounds[i+1]) {
			return i
		}
	}
	return -1
}

// FactSource reads the figures from the summaries the database keeps
// current in the transaction of every change (migration 00043's
// triggers): the Decision 766 sums per unit and week of submission, the
// open dossiers per unit and day of their deadline, the documents per
// unit, week and level, the open alerts per unit and level. A request
// reads a few thousand summary rows instead of every dossier and
// document of the quarter. Tasks and report rounds are a few hundred
// rows a quarter and are counted from their tables as TableSource does.
// Its answers are TableSource's (TestFactsMatchTheTables).
type FactSource struct {
	DB *store.DB
}

// Figures implements Source. Periods that do not start on a Monday's
// midnight in the ministry's zone (never the view's own weeks) are
// counted from the tables instead.
func (s FactSource) Figures(ctx context.Context, bounds []time.Time, now time.Time) (*Figures, error) {
	tables := TableSource(s)
	for _, b := range bounds {
		if !wholeWeek(b) {
			return tables.Figures(ctx, bounds, now)
		}
	}
	f := &Figures{Bounds: bounds}
	steps := []func(context.Context, *Figures, time.Time) error{s.dossiers, s.overdue, s.documents, tables.tasks, tables.reports, s.alerts}
	for _, step := range steps {
		if err := step(ctx, f, now); err != nil {
			return nil, fmt.Errorf("operations: %w", err)
		}
	}
	return f, nil
}

// sumAs is the select list of SUMs of cols, each cast back to an
// integer (PostgreSQL's SUM of a bigint is a numeric).
func sumAs(cols ...string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = "CAST(SUM(" + c + ") AS BIGINT)"
	}
	return strings.Join(out, ", ")
}

// dossiers reads one row per unit and week (the sum of its slots).
func (s FactSource) dossiers(ctx context.Context, f *Figures, _ time.Time) error {
	f.Dossiers = map[int64][]procedures.IndexCounts{}
	return scanRows(ctx, s.DB, `SELECT week, unit_id, `+sumAs("submitted", "online", "synced", "prefilled", "received", "digitised", "finished",
		"on_time", "electronic_results", "processing_us", "paid", "paid_online", "rated", "rating_sum", "satisfied")+`
		FROM analytics_dossier_weeks WHERE week >= ? AND week < ? GROUP BY week, unit_id`, []any{factWeek(f.Bounds[0]), factWeek(f.Bounds[len(f.Bounds)-1])},
		func(scan func(...any) error) error {
			var week, unit int64
			var c procedures.IndexCounts
			if err := scan(&week, &unit, &c.Submitted, &c.Online, &c.Synced, &c.Prefilled, &c.Received, &c.Digitised, &c.Finished, &c.OnTime,
				&c.ElectronicResults, &c.ProcessingMicros, &c.Paid, &c.PaidOnline, &c.Rated, &c.RatingSum, &c.Satisfied); err != nil {
				return err
			}
			p := period(f.Bounds, week)
			if p < 0 || c == (procedures.IndexCounts{}) {
				return nil // a week whose dossiers were all deleted: as if none
			}
			if f.Dossiers[unit] == nil {
				f.Dossiers[unit] = make([]procedures.IndexCounts, len(f.Bounds)-1)
			}
			f.Dossiers[unit][p].Add(c)
			return nil
		}, "read the dossiers' weeks")
}

// overdue counts the open dossiers past their deadline at now without a
// scan: the days before today are whole in analytics_dossier_due (whose
// rows are only the days still holding an open dossier), and today's
// deadlines up to now are counted in dossiers_open for the units that
// have any today. Nothing needs to happen when a deadline passes.
func (s FactSource) overdue(ctx context.Context, f *Figures, now time.Time) error {
	f.Overdue = map[int64]int64{}
	today := factDay(now)
	var dueToday []any
	err := scanRows(ctx, s.DB, `SELECT unit_id, `+sumAs("CASE WHEN day < ? THEN open ELSE 0 END", "CASE WHEN day = ? THEN open ELSE 0 END")+`
		FROM analytics_dossier_due WHERE day <= ? GROUP BY unit_id`, []any{today, today, today},
		func(scan func(...any) error) error {
			var unit, before, on int64
			if err := scan(&unit, &before, &on); err != nil {
				return err
			}
			if before != 0 {
				f.Overdue[unit] = before
			}
			if on != 0 {
				dueToday = append(dueToday, unit)
			}
			return nil
		}, "sum the open dossiers' deadlines")
	if err != nil || len(dueToday) == 0 {
		return err
	}
	midnight := today*dayMicros - zoneOffsetMicros
	args := append([]any{midnight, now.UnixMicro()}, dueToday...)
	return scanRows(ctx, s.DB, `SELECT unit_id, COUNT(*) FROM dossiers
		WHERE open = 1 AND due_us >= ? AND due_us < ? AND finished_us = 0 AND unit_id IN (?`+strings.Repeat(", ?", len(dueToday)-1)+`)
		GROUP BY unit_id`, args, func(scan func(...any) error) error {
		var unit, n int64
		if err := scan(&unit, &n); err != nil {
			return err
		}
		f.Overdue[unit] += n
		return nil
	}, "count today's overdue dossiers")
}

func (s FactSource) documents(ctx context.Context, f *Figures, _ time.Time) error {
	f.Documents = map[int64][]Levels{}
	return scanRows(ctx, s.DB, `SELECT week, unit_id, level, `+sumAs("n")+` FROM analytics_document_weeks WHERE week >= ? AND week < ?
		GROUP BY week, unit_id, level`,
		[]any{factWeek(f.Bounds[0]), factWeek(f.Bounds[len(f.Bounds)-1])}, func(scan func(...any) error) error {
			var week, unit, level, n int64
			if err := scan(&week, &unit, &level, &n); err != nil {
				return err
			}
			p := period(f.Bounds, week)
			if p < 0 || !authz.Level(level).Valid() || n == 0 {
				return nil
			}
			if f.Documents[unit] == nil {
				f.Documents[unit] = make([]Levels, len(f.Bounds)-1)
			}
			f.Documents[unit][p][level] += n
			return nil
		}, "read the documents' weeks")
}

func (s FactSource) alerts(ctx context.Context, f *Figures, _ time.Time) error {
	f.Alerts = map[int64]Levels{}
	return scanRows(ctx, s.DB, `SELECT unit_id, level, open FROM analytics_alert_levels WHERE open <> 0`, nil,
		addLevels(f.Alerts), "read the open security alerts")
}
