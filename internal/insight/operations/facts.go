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
// 1975: day = (t_us + zoneOffset) / dayMicros. TestFactDaysAreHanoiDays
// pins that the zone still is what the migration's triggers assume.
const (
	zoneOffsetMicros = int64(7 * time.Hour / time.Microsecond)
	dayMicros        = int64(24 * time.Hour / time.Microsecond)
)

// factDay is the summaries' day of t.
func factDay(t time.Time) int64 { return (t.UnixMicro() + zoneOffsetMicros) / dayMicros }

// wholeDay reports whether t is a midnight in the summaries' days.
func wholeDay(t time.Time) bool { return (t.UnixMicro()+zoneOffsetMicros)%dayMicros == 0 }

// FactSource reads the figures from the summaries the database keeps
// current in the transaction of every change (migration 00043's
// triggers): the Decision 766 sums per unit and day of submission, the
// open dossiers per unit and day of their deadline, the documents per
// unit, day and level, the open alerts per unit and level. A request
// reads a few thousand summary rows instead of every dossier and
// document of the quarter. Tasks and report rounds are a few hundred
// rows a quarter and are counted from their tables as TableSource does.
// Its answers are TableSource's (TestFactsMatchTheTables).
type FactSource struct {
	DB *store.DB
}

// Figures implements Source. Weeks that do not start at a midnight of
// the summaries' days (never the view's own) are counted from the
// tables instead.
func (s FactSource) Figures(ctx context.Context, bounds []time.Time, now time.Time) (*Figures, error) {
	tables := TableSource(s)
	for _, b := range bounds {
		if !wholeDay(b) {
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

// dossiers sums the days into weeks in the database, so a request reads
// one row per unit and week.
func (s FactSource) dossiers(ctx context.Context, f *Figures, _ time.Time) error {
	f.Dossiers = map[int64][]procedures.IndexCounts{}
	week, args := weekCase("day", f.Bounds, factDay)
	args = append(args, factDay(f.Bounds[0]), factDay(f.Bounds[len(f.Bounds)-1]))
	return scanRows(ctx, s.DB, `SELECT unit_id, `+week+` AS week, `+sumAs("submitted", "online", "synced", "prefilled", "received", "digitised",
		"finished", "on_time", "electronic_results", "processing_us", "paid", "paid_online", "rated", "rating_sum", "satisfied")+`
		FROM analytics_dossier_days WHERE day >= ? AND day < ? GROUP BY unit_id, week`, args,
		func(scan func(...any) error) error {
			var unit, w int64
			var c procedures.IndexCounts
			if err := scan(&unit, &w, &c.Submitted, &c.Online, &c.Synced, &c.Prefilled, &c.Received, &c.Digitised, &c.Finished, &c.OnTime,
				&c.ElectronicResults, &c.ProcessingMicros, &c.Paid, &c.PaidOnline, &c.Rated, &c.RatingSum, &c.Satisfied); err != nil {
				return err
			}
			if w < 0 || int(w) >= len(f.Bounds)-1 || c == (procedures.IndexCounts{}) {
				return nil // a week whose dossiers were all deleted: as if none
			}
			if f.Dossiers[unit] == nil {
				f.Dossiers[unit] = make([]procedures.IndexCounts, len(f.Bounds)-1)
			}
			f.Dossiers[unit][w] = c
			return nil
		}, "sum the dossiers' days")
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
	week, args := weekCase("day", f.Bounds, factDay)
	args = append(args, factDay(f.Bounds[0]), factDay(f.Bounds[len(f.Bounds)-1]))
	return scanRows(ctx, s.DB, `SELECT unit_id, `+week+` AS week, level, `+sumAs("n")+`
		FROM analytics_document_days WHERE day >= ? AND day < ? GROUP BY unit_id, week, level`, args,
		func(scan func(...any) error) error {
			var unit, w, level, n int64
			if err := scan(&unit, &w, &level, &n); err != nil {
				return err
			}
			if w < 0 || int(w) >= len(f.Bounds)-1 || !authz.Level(level).Valid() || n == 0 {
				return nil
			}
			if f.Documents[unit] == nil {
				f.Documents[unit] = make([]Levels, len(f.Bounds)-1)
			}
			f.Documents[unit][w][level] += n
			return nil
		}, "sum the documents' days")
}

func (s FactSource) alerts(ctx context.Context, f *Figures, _ time.Time) error {
	f.Alerts = map[int64]Levels{}
	return scanRows(ctx, s.DB, `SELECT unit_id, level, open FROM analytics_alert_levels WHERE open <> 0`, nil,
		func(scan func(...any) error) error {
			var unit, level, n int64
			if err := scan(&unit, &level, &n); err != nil {
				return err
			}
			if !authz.Level(level).Valid() {
				return nil
			}
			a := f.Alerts[unit]
			a[level] += n
			f.Alerts[unit] = a
			return nil
		}, "sum the open security alerts")
}
