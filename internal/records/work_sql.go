package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/store"
)

// assignedRoles returns, for each of rows, the role (lead before
// support) of the assignment that gives it to sub or sub's unit.
func assignedRoles(ctx context.Context, q store.Queryer, rows []*row, sub authz.Subject) (map[int64]string, error) {
	out := map[int64]string{}
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = fmt.Sprint(r.ID)
	}
	rs, err := q.QueryContext(ctx, q.Rebind(`SELECT document_id, role FROM record_assignments
		WHERE document_id IN (`+strings.Join(ids, ", ")+`) AND (staff_id = ? OR (staff_id IS NULL AND unit_id = ?))`), sub.ID, sub.Unit)
	if err != nil {
		return nil, fmt.Errorf("records: assigned roles: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var id int64
		var role string
		if err := rs.Scan(&id, &role); err != nil {
			return nil, err
		}
		if out[id] != "lead" {
			out[id] = role
		}
	}
	return out, rs.Err()
}

// countDocuments counts the documents d matching where.
func countDocuments(ctx context.Context, q store.Queryer, where string, args []any) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, q.Rebind(`SELECT COUNT(*) FROM record_documents d WHERE `+where), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("records: count documents: %w", err)
	}
	return n, nil
}

// listFilings returns the case files a document is filed in, in filing
// order.
func listFilings(ctx context.Context, q store.Queryer, docID int64) ([]Filing, error) {
	rs, err := q.QueryContext(ctx, q.Rebind(`SELECT c.id, c.unit_id, c.year, c.code, c.title, c.retention_years, c.closed_us, c.created_us,
		f.filed_by, f.filed_us FROM record_filings f JOIN record_case_files c ON c.id = f.case_file_id
		WHERE f.document_id = ? ORDER BY f.filed_us, c.id`), docID)
	if err != nil {
		return nil, fmt.Errorf("records: filings of document %d: %w", docID, err)
	}
	defer rs.Close()
	var out []Filing
	for rs.Next() {
		var f Filing
		var retention int
		var closed, created, at int64
		if err := rs.Scan(&f.CaseFile.ID, &f.CaseFile.UnitID, &f.CaseFile.Year, &f.CaseFile.Code, &f.CaseFile.Title, &retention,
			&closed, &created, &f.FiledBy, &at); err != nil {
			return nil, err
		}
		f.CaseFile.RetentionYears, f.CaseFile.ClosedAt, f.CaseFile.CreatedAt, f.At = Retention(retention), store.FromMicros(closed),
			store.FromMicros(created), store.FromMicros(at)
		out = append(out, f)
	}
	return out, rs.Err()
}

// insertArrival records how an incoming document arrived, if that is
// known, in the transaction registering it.
func insertArrival(ctx context.Context, tx *store.Tx, r *row) error {
	if r.channel == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_arrivals (document_id, channel) VALUES (?, ?)`), r.ID, string(r.channel)); err != nil {
		return fmt.Errorf("records: record how document %d arrived: %w", r.ID, err)
	}
	return nil
}

func loadChannel(ctx context.Context, q store.Queryer, docID int64) (Channel, error) {
	var c string
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT channel FROM record_arrivals WHERE document_id = ?`), docID).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil // registered without saying how it came
	}
	if err != nil {
		return "", fmt.Errorf("records: how document %d arrived: %w", docID, err)
	}
	return Channel(c), nil
}
