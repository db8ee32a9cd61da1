package forecast

import (
	"context"
	"fmt"

	"chancery/internal/calendar"
	"chancery/internal/store"
)

// Key names one series: a unit's demand for one procedure.
type Key struct {
	Unit      int64
	Procedure string
}

// epochMonday is the Monday of the week that holds 1 January 1970 (a
// Thursday): week k of the dossiers query begins k weeks after it.
var epochMonday = calendar.Date{Year: 1969, Month: 12, Day: 29}

// weeklyDossiers counts each unit's dossiers per procedure and week of
// submission, Viet Nam time (UTC+7), the week beginning on Monday: the
// week index is (µs since the epoch + 7 h + 3 days) / one week, computed
// by the database so that a million dossiers come back as a few thousand
// rows. Integer division truncates alike in SQLite and PostgreSQL, and
// submitted_us is never negative.
const weeklyDossiers = `SELECT unit_id, procedure_code, (submitted_us + 284400000000) / 604800000000 AS wk, COUNT(*)
FROM dossiers GROUP BY 1, 2, 3`

// history is the weekly counts from before Chancery.
const history = `SELECT unit_id, procedure_code, week, dossiers FROM forecast_history`

// weekly reads every unit's weekly series per procedure, up to and
// including the week that begins on last: the counts of forecast_history
// for the weeks before the unit's first dossier in Chancery, then the
// dossiers' (0 for a week without one). Each series runs from its first
// week with data.
func weekly(ctx context.Context, db *store.DB, last calendar.Date) (map[Key]Series, error) {
	counts := map[Key]map[calendar.Date]float64{}
	firstDossier := map[int64]calendar.Date{} // the unit's first week in Chancery
	add := func(k Key, week calendar.Date, n float64) {
		if week.After(last) {
			return
		}
		if counts[k] == nil {
			counts[k] = map[calendar.Date]float64{}
		}
		counts[k][week] += n
	}
	rows, err := db.QueryContext(ctx, weeklyDossiers)
	if err != nil {
		return nil, fmt.Errorf("forecast: count the dossiers per week: %w", err)
	}
	for rows.Next() {
		var k Key
		var wk, n int64
		if err := rows.Scan(&k.Unit, &k.Procedure, &wk, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("forecast: read the weekly dossier counts: %w", err)
		}
		week := epochMonday.AddDays(7 * int(wk))
		if f, ok := firstDossier[k.Unit]; !ok || week.Before(f) {
			firstDossier[k.Unit] = week
		}
		add(k, week, float64(n))
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("forecast: read the weekly dossier counts: %w", err)
	}
	rows, err = db.QueryContext(ctx, history)
	if err != nil {
		return nil, fmt.Errorf("forecast: read the weekly history: %w", err)
	}
	for rows.Next() {
		var k Key
		var week string
		var n int64
		if err := rows.Scan(&k.Unit, &k.Procedure, &week, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("forecast: read the weekly history: %w", err)
		}
		d, err := calendar.ParseDate(week)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("forecast: the weekly history of unit %d, procedure %s has a bad week %q", k.Unit, k.Procedure, week)
		}
		if f, ok := firstDossier[k.Unit]; ok && !d.Before(f) {
			continue // Chancery's own dossiers count from this week on
		}
		add(k, d, float64(n))
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("forecast: read the weekly history: %w", err)
	}
	out := make(map[Key]Series, len(counts))
	for k, byWeek := range counts {
		first := last
		for w := range byWeek {
			if w.Before(first) {
				first = w
			}
		}
		s := Series{Start: first}
		for w := first; !w.After(last); w = w.AddDays(7) {
			s.Values = append(s.Values, byWeek[w])
		}
		out[k] = s
	}
	return out, nil
}

type rowsCloser interface {
	Err() error
	Close() error
}

func closeRows(r rowsCloser) error {
	err := r.Err()
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	return err
}

// SaveHistory stores s as the weekly history of unit's procedure from
// before Chancery, replacing what was stored for those weeks; source
// says where the counts come from. One transaction: all weeks or none.
func SaveHistory(ctx context.Context, db *store.DB, unit int64, procedure string, s Series, source string) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		del := tx.Rebind(`DELETE FROM forecast_history WHERE unit_id = ? AND procedure_code = ? AND week = ?`)
		ins := tx.Rebind(`INSERT INTO forecast_history (unit_id, procedure_code, week, dossiers, source) VALUES (?, ?, ?, ?, ?)`)
		for i, v := range s.Values {
			week := s.Week(i).String()
			if _, err := tx.ExecContext(ctx, del, unit, procedure, week); err != nil {
				return fmt.Errorf("forecast: replace the history of week %s: %w", week, err)
			}
			if _, err := tx.ExecContext(ctx, ins, unit, procedure, week, int64(v), source); err != nil {
				return fmt.Errorf("forecast: store the history of week %s: %w", week, err)
			}
		}
		return nil
	})
}

// mondayOf returns the Monday of d's week.
func mondayOf(d calendar.Date) calendar.Date {
	return d.AddDays(-((int(d.Weekday()) + 6) % 7))
}
