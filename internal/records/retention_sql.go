package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
)

func insertSchedule(ctx context.Context, tx *store.Tx, sc *Schedule) error {
	return tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO record_retention_schedules (unit_id, series, title, retention_years, source, created_us)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), sc.UnitID, sc.Series, sc.Title, int(sc.RetentionYears), sc.Source, store.Micros(sc.CreatedAt)).Scan(&sc.ID)
}

func listSchedules(ctx context.Context, q store.Queryer, unit int64) ([]Schedule, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, unit_id, series, title, retention_years, source, created_us
		FROM record_retention_schedules WHERE unit_id = ? ORDER BY series`), unit)
	if err != nil {
		return nil, fmt.Errorf("records: retention schedule: %w", err)
	}
	defer rows.Close()
	out := []Schedule{}
	for rows.Next() {
		var sc Schedule
		var years int
		var at int64
		if err := rows.Scan(&sc.ID, &sc.UnitID, &sc.Series, &sc.Title, &years, &sc.Source, &at); err != nil {
			return nil, err
		}
		sc.RetentionYears, sc.CreatedAt = Retention(years), store.FromMicros(at)
		out = append(out, sc)
	}
	return out, rows.Err()
}

// listClosedCaseFiles returns a unit's closed case files not yet disposed
// of, oldest closed first.
func listClosedCaseFiles(ctx context.Context, q store.Queryer, unit int64) ([]*CaseFile, error) {
	out, err := queryCaseFiles(ctx, q, "closed case files", `unit_id = ? AND closed_us > 0 AND disposition = '' ORDER BY closed_us, id`, unit)
	for _, cf := range out {
		cf.Documents = []int64{}
	}
	return out, err
}

// caseFileDisposition returns what became of a case file: "", or
// transferred or destroyed.
func caseFileDisposition(ctx context.Context, q store.Queryer, id int64) (string, error) {
	var d string
	if err := q.QueryRowContext(ctx, q.Rebind(`SELECT disposition FROM record_case_files WHERE id = ?`), id).Scan(&d); err != nil {
		return "", fmt.Errorf("records: disposition of case file %d: %w", id, err)
	}
	return d, nil
}

func setDisposition(ctx context.Context, tx *store.Tx, id int64, disposition string, at time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_case_files SET disposition = ?, disposed_us = ? WHERE id = ?`), disposition, store.Micros(at), id)
	if err != nil {
		return fmt.Errorf("records: mark case file %d %s: %w", id, disposition, err)
	}
	return nil
}

// holdScope says where the holds on one kind of item are kept: a case
// file's, a single document's.
type holdScope struct{ table, column string }

var (
	caseFileHolds = holdScope{"record_holds", "case_file_id"}
	documentHolds = holdScope{"record_document_holds", "document_id"}
)

// insertHold stores h, a hold on the item of sc's kind.
func insertHold(ctx context.Context, tx *store.Tx, sc holdScope, item int64, h *Hold) error {
	return tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO `+sc.table+` (`+sc.column+`, reason, placed_by, placed_us) VALUES (?, ?, ?, ?) RETURNING id`),
		item, h.Reason, h.PlacedBy, store.Micros(h.PlacedAt)).Scan(&h.ID)
}

// liftHold lifts a hold in force on an item and returns how many rows it
// changed.
func liftHold(ctx context.Context, tx *store.Tx, sc holdScope, item, holdID, by int64, reason string, at time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE `+sc.table+` SET lift_reason = ?, lifted_by = ?, lifted_us = ?
		WHERE id = ? AND `+sc.column+` = ? AND lifted_us = 0`), reason, by, store.Micros(at), holdID, item)
	if err != nil {
		return 0, fmt.Errorf("records: lift hold %d: %w", holdID, err)
	}
	return res.RowsAffected()
}

// listHolds returns an item's holds (those in force only, when inForce).
func listHolds(ctx context.Context, q store.Queryer, sc holdScope, item int64, inForce bool) ([]Hold, error) {
	query := `SELECT id, ` + sc.column + `, reason, placed_by, placed_us, lift_reason, lifted_by, lifted_us FROM ` + sc.table + ` WHERE ` + sc.column + ` = ?`
	if inForce {
		query += ` AND lifted_us = 0`
	}
	rows, err := q.QueryContext(ctx, q.Rebind(query+` ORDER BY id`), item)
	if err != nil {
		return nil, fmt.Errorf("records: holds: %w", err)
	}
	defer rows.Close()
	out := []Hold{}
	for rows.Next() {
		var h Hold
		var lifter sql.NullInt64
		var on, placed, lifted int64
		if err := rows.Scan(&h.ID, &on, &h.Reason, &h.PlacedBy, &placed, &h.LiftReason, &lifter, &lifted); err != nil {
			return nil, err
		}
		if sc == documentHolds {
			h.DocumentID = on
		} else {
			h.CaseFileID = on
		}
		h.PlacedAt, h.LiftedAt, h.LiftedBy = store.FromMicros(placed), store.FromMicros(lifted), lifter.Int64
		out = append(out, h)
	}
	return out, rows.Err()
}

// heldDocuments returns which of a case file's documents are under a
// legal hold in force.
func heldDocuments(ctx context.Context, q store.Queryer, caseFile int64) ([]int64, error) {
	return int64s(ctx, q, `SELECT DISTINCT h.document_id FROM record_document_holds h JOIN record_filings f ON f.document_id = h.document_id
		WHERE f.case_file_id = ? AND h.lifted_us = 0 ORDER BY h.document_id`, caseFile)
}

// openDisposalOf returns the disposal not yet carried out that lists a
// case file, 0 if none.
func openDisposalOf(ctx context.Context, q store.Queryer, caseFileID int64) (int64, error) {
	ids, err := int64s(ctx, q, `SELECT d.id FROM record_disposal_items i JOIN record_disposals d ON d.id = i.disposal_id
		WHERE i.case_file_id = ? AND d.status <> 'done' ORDER BY d.id LIMIT 1`, caseFileID)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

func insertDisposal(ctx context.Context, tx *store.Tx, d *Disposal, caseFiles []int64) error {
	if err := tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO record_disposals (unit_id, status, prepared_by, prepared_us) VALUES (?, ?, ?, ?) RETURNING id`),
		d.UnitID, d.Status, store.NullID(d.PreparedBy), store.Micros(d.PreparedAt)).Scan(&d.ID); err != nil {
		return fmt.Errorf("records: store disposal: %w", err)
	}
	for _, id := range caseFiles {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_disposal_items (disposal_id, case_file_id) VALUES (?, ?)`), d.ID, id); err != nil {
			return fmt.Errorf("records: list case file %d: %w", id, err)
		}
	}
	return nil
}

// holdsTopSecret reports whether any of the case files holds a top-secret
// document.
func holdsTopSecret(ctx context.Context, q store.Queryer, caseFiles []int64) (bool, error) {
	for _, id := range caseFiles {
		n, err := int64s(ctx, q, `SELECT COUNT(*) FROM record_filings f JOIN record_documents d ON d.id = f.document_id
			WHERE f.case_file_id = ? AND d.level >= ?`, id, int(authz.TopSecret))
		if err != nil {
			return false, err
		}
		if n[0] > 0 {
			return true, nil
		}
	}
	return false, nil
}

const disposalColumns = `id, unit_id, status, prepared_by, prepared_us, decision_no, decision_us, decided_by, second_by, executed_by, executed_us, minutes`

func scanDisposal(sc interface{ Scan(...any) error }) (*Disposal, error) {
	var d Disposal
	var prepared, decided, second, executed sql.NullInt64
	var preparedAt, decisionAt, executedAt int64
	if err := sc.Scan(&d.ID, &d.UnitID, &d.Status, &prepared, &preparedAt, &d.DecisionNo, &decisionAt, &decided, &second, &executed, &executedAt, &d.Minutes); err != nil {
		return nil, err
	}
	d.PreparedBy, d.DecidedBy, d.SecondBy, d.ExecutedBy = prepared.Int64, decided.Int64, second.Int64, executed.Int64
	d.PreparedAt, d.DecisionDate, d.ExecutedAt = store.FromMicros(preparedAt), store.FromMicros(decisionAt), store.FromMicros(executedAt)
	return &d, nil
}

// fillDisposal loads a disposal's case files and whether one holds a
// top-secret document.
func fillDisposal(ctx context.Context, q store.Queryer, d *Disposal) error {
	var err error
	if d.CaseFiles, err = int64s(ctx, q, `SELECT case_file_id FROM record_disposal_items WHERE disposal_id = ? ORDER BY case_file_id`, d.ID); err != nil {
		return err
	}
	if d.CaseFiles == nil {
		d.CaseFiles = []int64{}
	}
	d.TopSecret, err = holdsTopSecret(ctx, q, d.CaseFiles)
	return err
}

func loadDisposal(ctx context.Context, q store.Queryer, id int64, lock bool) (*Disposal, error) {
	query := `SELECT ` + disposalColumns + ` FROM record_disposals WHERE id = ?`
	if tx, ok := q.(*store.Tx); ok && lock && tx.Dialect == store.Postgres {
		query += ` FOR UPDATE`
	}
	d, err := scanDisposal(q.QueryRowContext(ctx, q.Rebind(query), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoDisposal(id)
	}
	if err != nil {
		return nil, fmt.Errorf("records: load disposal %d: %w", id, err)
	}
	return d, fillDisposal(ctx, q, d)
}

func listDisposals(ctx context.Context, q store.Queryer, unit int64) ([]*Disposal, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT `+disposalColumns+` FROM record_disposals WHERE unit_id = ? ORDER BY id DESC LIMIT 500`), unit)
	if err != nil {
		return nil, fmt.Errorf("records: disposals: %w", err)
	}
	var out []*Disposal
	for rows.Next() {
		d, err := scanDisposal(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, d := range out {
		if err := fillDisposal(ctx, q, d); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func updateDisposal(ctx context.Context, tx *store.Tx, d *Disposal) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_disposals SET status = ?, decision_no = ?, decision_us = ?, decided_by = ?, second_by = ?,
		executed_by = ?, executed_us = ?, minutes = ? WHERE id = ?`), d.Status, d.DecisionNo, store.Micros(d.DecisionDate), store.NullID(d.DecidedBy),
		store.NullID(d.SecondBy), store.NullID(d.ExecutedBy), store.Micros(d.ExecutedAt), d.Minutes, d.ID)
	if err != nil {
		return fmt.Errorf("records: update disposal %d: %w", d.ID, err)
	}
	return nil
}

// disposableDocuments returns the documents filed in case file cf that
// may be destroyed with it (filed in no other case file, or only in ones
// destroyed or being destroyed with it), and those kept for another.
func disposableDocuments(ctx context.Context, q store.Queryer, cf int64, with []int64) (destroy, keep []int64, err error) {
	docs, err := int64s(ctx, q, `SELECT document_id FROM record_filings WHERE case_file_id = ? ORDER BY document_id`, cf)
	if err != nil {
		return nil, nil, err
	}
	for _, doc := range docs {
		others, err := int64s(ctx, q, `SELECT f.case_file_id FROM record_filings f JOIN record_case_files c ON c.id = f.case_file_id
			WHERE f.document_id = ? AND f.case_file_id <> ? AND c.disposition <> 'destroyed'`, doc, cf)
		if err != nil {
			return nil, nil, err
		}
		kept := false
		for _, o := range others {
			found := false
			for _, w := range with {
				found = found || w == o
			}
			kept = kept || !found
		}
		if !kept {
			// A document under a legal hold of its own is kept too
			// (its disposition is suspended, not its case file's).
			holds, err := listHolds(ctx, q, documentHolds, doc, true)
			if err != nil {
				return nil, nil, err
			}
			kept = len(holds) > 0
		}
		if kept {
			keep = append(keep, doc)
		} else {
			destroy = append(destroy, doc)
		}
	}
	return destroy, keep, nil
}

func insertTransfer(ctx context.Context, tx *store.Tx, t *Transfer, sum, data []byte) error {
	return tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO record_transfers (unit_id, created_by, created_us, case_files, sha256, package)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), t.UnitID, store.NullID(t.CreatedBy), store.Micros(t.CreatedAt), t.CaseFiles, sum, data).Scan(&t.ID)
}

func listTransfers(ctx context.Context, q store.Queryer, unit int64) ([]Transfer, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, unit_id, created_by, created_us, case_files, sha256, LENGTH(package)
		FROM record_transfers WHERE unit_id = ? ORDER BY id DESC LIMIT 500`), unit)
	if err != nil {
		return nil, fmt.Errorf("records: transfers: %w", err)
	}
	defer rows.Close()
	out := []Transfer{}
	for rows.Next() {
		var t Transfer
		var by sql.NullInt64
		var at int64
		var sum []byte
		if err := rows.Scan(&t.ID, &t.UnitID, &by, &at, &t.CaseFiles, &sum, &t.Size); err != nil {
			return nil, err
		}
		t.CreatedBy, t.CreatedAt, t.SHA256 = by.Int64, store.FromMicros(at), fmt.Sprintf("%x", sum)
		out = append(out, t)
	}
	return out, rows.Err()
}

func loadTransferPackage(ctx context.Context, q store.Queryer, id int64) (int64, []byte, error) {
	var unit int64
	var data []byte
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT unit_id, package FROM record_transfers WHERE id = ?`), id).Scan(&unit, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, errNoTransfer(id)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("records: load transfer %d: %w", id, err)
	}
	return unit, data, nil
}
