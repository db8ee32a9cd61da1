package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"chancery/internal/audit"
	"chancery/internal/store"
)

// Restructuring: when unit A merges into unit B (identity's MergeUnits),
// MergeUnitTx runs in the merger's transaction and moves what A held in
// the records:
//
//   - Registers. Decree 30/2020 numbers documents per issuing agency, one
//     series a year, unique in the year, from 01 on 1 January to 31
//     December (Appendix I, as rules.go cites it). What it says of a
//     merger was not found (the search found no such provision); a
//     number once given never changes.
//     So A's registers are closed as they stand, their entries keep their
//     numbers and A's unit, and B keeps them: B's staff read A's
//     documents (B joins each one's distribution) and B's records office
//     and security officers keep A's registers (keeperOf). B's own series
//     go on; A issues nothing more.
//   - Open work: A's drafts (no number yet) become B's; instructions
//     assigning A on documents still being handled now assign B; A's
//     open case files, retention schedules and unfinished disposals move
//     to B (a case file whose code B already uses that year gets A's code
//     after it, so neither list changes meaning).
//   - History: nothing is deleted; the move is one event in the ledger
//     with its counts.

// MergeUnitTx moves unit from's records to unit into inside tx (see
// above). fromCode names from in a renamed case file's code.
func (s *Service) MergeUnitTx(ctx context.Context, tx *store.Tx, from, into int64, fromCode string) error {
	o, err := actorOf(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	exec := func(what, q string, args ...any) (int64, error) {
		res, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
		if err != nil {
			return 0, fmt.Errorf("records: merge unit %d into %d: %s: %w", from, into, what, err)
		}
		return res.RowsAffected()
	}
	counts := map[string]string{"into": strconv.FormatInt(into, 10)}
	steps := []struct {
		name, query string
		args        []any
	}{
		{"keeper", `INSERT INTO record_unit_moves (from_unit, into_unit, at_us) VALUES (?, ?, ?)`, []any{from, into, store.Micros(now)}},
		// Units merged into from earlier are kept by into now.
		{"earlier", `UPDATE record_unit_moves SET into_unit = ? WHERE into_unit = ?`, []any{into, from}},
		{"shared", `INSERT INTO record_distribution (document_id, unit_id) SELECT id, ? FROM record_documents WHERE unit_id = ?
			ON CONFLICT (document_id, unit_id) DO NOTHING`, []any{into, from}},
		{"drafts", `UPDATE record_documents SET unit_id = ? WHERE unit_id = ? AND register_number = 0`, []any{into, from}},
		{"handling", `UPDATE record_assignments SET unit_id = ? WHERE unit_id = ? AND document_id IN
			(SELECT id FROM record_documents WHERE status IN ('registered', 'in_progress'))`, []any{into, from}},
		{"schedules", `INSERT INTO record_retention_schedules (unit_id, series, title, retention_years, source, created_us)
			SELECT ?, series, title, retention_years, source, created_us FROM record_retention_schedules WHERE unit_id = ?
			ON CONFLICT (unit_id, series) DO NOTHING`, []any{into, from}},
		{"disposals", `UPDATE record_disposals SET unit_id = ? WHERE unit_id = ? AND status <> 'done'`, []any{into, from}},
	}
	for _, st := range steps {
		n, err := exec(st.name, st.query, st.args...)
		if err != nil {
			return err
		}
		counts[st.name] = strconv.FormatInt(n, 10)
	}
	moved, err := s.moveCaseFiles(ctx, tx, from, into, fromCode)
	if err != nil {
		return err
	}
	// The index rows carry the units that may know each document
	// (visibility tokens, search_sql.go): from's documents are indexed
	// anew so that into's staff find them by their words.
	if err := reindexUnit(ctx, tx, from, into, now); err != nil {
		return err
	}
	counts["case_files"] = strconv.Itoa(moved)
	e := o.Event("records.unit_merge")
	e.ResourceType, e.ResourceID, e.Attrs = "unit", strconv.FormatInt(from, 10), counts
	return s.opts.Recorder.AppendTx(ctx, tx, e)
}

// moveCaseFiles gives from's case files not yet disposed of to into,
// renaming a code into already uses in that year's list.
func (s *Service) moveCaseFiles(ctx context.Context, tx *store.Tx, from, into int64, fromCode string) (int, error) {
	rows, err := tx.QueryContext(ctx, tx.Rebind(`SELECT id, year, code FROM record_case_files WHERE unit_id = ? AND disposition = '' ORDER BY id`), from)
	if err != nil {
		return 0, fmt.Errorf("records: case files of unit %d: %w", from, err)
	}
	type cf struct {
		id   int64
		year int
		code string
	}
	var all []cf
	for rows.Next() {
		var c cf
		if err := rows.Scan(&c.id, &c.year, &c.code); err != nil {
			rows.Close()
			return 0, err
		}
		all = append(all, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, c := range all {
		code := c.code
		var taken int64
		err := tx.QueryRowContext(ctx, tx.Rebind(`SELECT id FROM record_case_files WHERE unit_id = ? AND year = ? AND code = ?`), into, c.year, code).Scan(&taken)
		switch {
		case err == nil:
			code = c.code + "/" + fromCode
		case !errors.Is(err, sql.ErrNoRows):
			return 0, fmt.Errorf("records: case file %d: %w", c.id, err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_case_files SET unit_id = ?, code = ? WHERE id = ?`), into, code, c.id); err != nil {
			return 0, fmt.Errorf("records: move case file %d: %w", c.id, err)
		}
	}
	return len(all), nil
}

// keeperOf returns the unit that keeps unit's registers: unit itself,
// or the unit it was merged into.
func keeperOf(ctx context.Context, q store.Queryer, unit int64) (int64, error) {
	var into int64
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT into_unit FROM record_unit_moves WHERE from_unit = ?`), unit).Scan(&into)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return unit, nil
	case err != nil:
		return 0, fmt.Errorf("records: keeper of unit %d: %w", unit, err)
	}
	return into, nil
}

// actorOrNone returns the origin of a signed-in actor on ctx, and
// reports whether there is one.
func actorOrNone(ctx context.Context) (audit.Origin, bool) {
	o, ok := audit.OriginFrom(ctx)
	return o, ok && !o.Anonymous()
}

// reindexUnit indexes anew the documents from kept and those it handed
// to into (its drafts), after a merger.
func reindexUnit(ctx context.Context, tx *store.Tx, from, into int64, now time.Time) error {
	ids, err := store.Column[int64](ctx, tx, `SELECT id FROM record_documents WHERE unit_id = ?
		OR (unit_id = ? AND id IN (SELECT document_id FROM record_distribution WHERE unit_id = ?)) ORDER BY id`, from, into, into)
	if err != nil {
		return fmt.Errorf("records: merge unit %d into %d: list documents to index: %w", from, into, err)
	}
	for _, id := range ids {
		r, err := loadDocument(ctx, tx, id, now, false)
		if err != nil {
			return err
		}
		if err := indexWithText(ctx, tx, r); err != nil {
			return err
		}
	}
	return nil
}
