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

// TableSource reads the figures straight from the capabilities' tables:
// dossiers (through procedures' index counts), Records' documents,
// insight's tasks and rounds, Sentinel's alerts. Every query counts
// every unit at once, so the view costs a handful of queries whatever
// the number of units, but those over dossiers and documents scan every
// row of the quarter (seconds over a million dossiers): the view reads
// FactSource's summaries, and TableSource is their reference in tests
// and the raw-SQL baseline of BenchmarkOperationsView.
type TableSource struct {
	DB *store.DB
}

// Figures implements Source.
func (s TableSource) Figures(ctx context.Context, bounds []time.Time, now time.Time) (*Figures, error) {
	f := &Figures{Bounds: bounds}
	var err error
	if f.Dossiers, err = procedures.LoadIndexCountsByUnitAndPeriod(ctx, s.DB, nil, bounds); err != nil {
		return nil, fmt.Errorf("operations: %w", err)
	}
	steps := []func(context.Context, *Figures, time.Time) error{s.overdue, s.documents, s.tasks, s.reports, s.alerts}
	for _, step := range steps {
		if err := step(ctx, f, now); err != nil {
			return nil, fmt.Errorf("operations: %w", err)
		}
	}
	return f, nil
}

// overdue counts the dossiers received or waiting, not decided, past
// their deadline. dossiers_open (unit_id, open, due_us) serves it.
func (s TableSource) overdue(ctx context.Context, f *Figures, now time.Time) error {
	f.Overdue = map[int64]int64{}
	return scanRows(ctx, s.DB, `SELECT unit_id, COUNT(*) FROM dossiers
		WHERE open = 1 AND due_us > 0 AND due_us < ? AND finished_us = 0 GROUP BY unit_id`,
		[]any{now.UnixMicro()}, func(scan func(...any) error) error {
			var unit, n int64
			if err := scan(&unit, &n); err != nil {
				return err
			}
			f.Overdue[unit] = n
			return nil
		}, "count the overdue dossiers")
}

// weekCase is an SQL CASE putting col in its week of bounds (0-based),
// with its arguments: each bound as at gives it in col's unit.
func weekCase(col string, bounds []time.Time, at func(time.Time) int64) (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("CASE")
	for i, t := range bounds[1 : len(bounds)-1] {
		fmt.Fprintf(&b, " WHEN %s < ? THEN %d", col, i)
		args = append(args, at(t))
	}
	fmt.Fprintf(&b, " ELSE %d END", len(bounds)-2)
	return b.String(), args
}

func (s TableSource) documents(ctx context.Context, f *Figures, _ time.Time) error {
	f.Documents = map[int64][]Levels{}
	week, args := weekCase("created_us", f.Bounds, time.Time.UnixMicro)
	args = append(args, f.Bounds[0].UnixMicro(), f.Bounds[len(f.Bounds)-1].UnixMicro())
	return scanRows(ctx, s.DB, `SELECT unit_id, `+week+` AS week, level, COUNT(*) FROM record_documents
		WHERE created_us >= ? AND created_us < ? GROUP BY unit_id, week, level`, args,
		func(scan func(...any) error) error {
			var unit, w, level, n int64
			if err := scan(&unit, &w, &level, &n); err != nil {
				return err
			}
			if w < 0 || int(w) >= len(f.Bounds)-1 || !authz.Level(level).Valid() {
				return nil
			}
			if f.Documents[unit] == nil {
				f.Documents[unit] = make([]Levels, len(f.Bounds)-1)
			}
			f.Documents[unit][w][level] += n
			return nil
		}, "count the documents")
}

func (s TableSource) tasks(ctx context.Context, f *Figures, now time.Time) error {
	f.TasksOpen, f.TasksOverdue = map[int64]Levels{}, map[int64]Levels{}
	return scanRows(ctx, s.DB, `SELECT lead_unit, level, COUNT(*), COALESCE(SUM(CASE WHEN due_us < ? THEN 1 ELSE 0 END), 0)
		FROM insight_tasks WHERE status <> 'done' GROUP BY lead_unit, level`, []any{now.UnixMicro()},
		func(scan func(...any) error) error {
			var unit, level, open, late int64
			if err := scan(&unit, &level, &open, &late); err != nil {
				return err
			}
			if !authz.Level(level).Valid() {
				return nil
			}
			o, l := f.TasksOpen[unit], f.TasksOverdue[unit]
			o[level] += open - late
			l[level] += late
			f.TasksOpen[unit], f.TasksOverdue[unit] = o, l
			return nil
		}, "count the leadership tasks")
}

func (s TableSource) reports(ctx context.Context, f *Figures, now time.Time) error {
	f.ReportsOutstanding, f.ReportsLate = map[int64]int64{}, map[int64]int64{}
	return scanRows(ctx, s.DB, `SELECT ru.unit_id, COUNT(*), COALESCE(SUM(CASE WHEN r.due_us < ? THEN 1 ELSE 0 END), 0)
		FROM insight_round_units ru JOIN insight_rounds r ON r.id = ru.round_id
		WHERE NOT EXISTS (SELECT 1 FROM insight_submissions s WHERE s.round_id = ru.round_id AND s.unit_id = ru.unit_id AND s.status <> 'returned')
		GROUP BY ru.unit_id`, []any{now.UnixMicro()},
		func(scan func(...any) error) error {
			var unit, n, late int64
			if err := scan(&unit, &n, &late); err != nil {
				return err
			}
			f.ReportsOutstanding[unit], f.ReportsLate[unit] = n, late
			return nil
		}, "count the reports outstanding")
}

func (s TableSource) alerts(ctx context.Context, f *Figures, _ time.Time) error {
	f.Alerts = map[int64]Levels{}
	return scanRows(ctx, s.DB, `SELECT unit_id, level, COUNT(*) FROM sentinel_alerts
		WHERE status IN ('new', 'investigating') AND unit_id <> 0 GROUP BY unit_id, level`, nil,
		addLevels(f.Alerts), "count the security alerts")
}

// addLevels returns a row reader adding rows of (unit, level, count) to
// m; counts of an unknown level are left out.
func addLevels(m map[int64]Levels) func(scan func(...any) error) error {
	return func(scan func(...any) error) error {
		var unit, level, n int64
		if err := scan(&unit, &level, &n); err != nil {
			return err
		}
		if !authz.Level(level).Valid() {
			return nil
		}
		a := m[unit]
		a[level] += n
		m[unit] = a
		return nil
	}
}

// scanRows runs query and hands each row to row; what names the query
// in errors.
func scanRows(ctx context.Context, db *store.DB, query string, args []any, row func(scan func(...any) error) error, what string) error {
	rows, err := db.QueryContext(ctx, db.Rebind(query), args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
