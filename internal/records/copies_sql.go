package records

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
)

func insertCopyPermit(ctx context.Context, tx *store.Tx, p *CopyPermit) error {
	return tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO record_copy_permits
		(document_id, staff_id, kind, copies, used, reason, granted_by, expires_us, created_us) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?) RETURNING id`),
		p.DocumentID, p.StaffID, p.Kind, p.Copies, p.Reason, p.GrantedBy, store.Micros(p.ExpiresAt), store.Micros(p.At)).Scan(&p.ID)
}

// usePermit spends one copy of the staff member's permission in force
// (the one expiring first) and returns its id, or 0 when none is.
func usePermit(ctx context.Context, tx *store.Tx, docID, staffID int64, kind string, now time.Time) (int64, error) {
	ids, err := int64s(ctx, tx, `SELECT id FROM record_copy_permits WHERE document_id = ? AND staff_id = ? AND kind = ?
		AND used < copies AND expires_us > ? ORDER BY expires_us, id LIMIT 1`, docID, staffID, kind, store.Micros(now))
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_copy_permits SET used = used + 1 WHERE id = ?`), ids[0]); err != nil {
		return 0, fmt.Errorf("records: use the permission: %w", err)
	}
	return ids[0], nil
}

// insertCopy stores c with the document's next copy number. The caller
// holds the document's row lock (PostgreSQL) or the database's write lock
// (SQLite), so two copies made at once take consecutive numbers; the key
// (document, number) refuses a duplicate whatever happens above.
func insertCopy(ctx context.Context, tx *store.Tx, c *Copy) error {
	if err := tx.QueryRowContext(ctx, tx.Rebind(`SELECT COALESCE(MAX(number), 0) + 1 FROM record_copies WHERE document_id = ?`),
		c.DocumentID).Scan(&c.Number); err != nil {
		return fmt.Errorf("records: number the copy: %w", err)
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_copies
		(document_id, number, kind, holder_id, holder_name, holder_unit, permit_id, level, made_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		c.DocumentID, c.Number, c.Kind, c.HolderID, c.HolderName, c.HolderUnit, c.PermitID, int(c.Level), store.Micros(c.MadeAt))
	if err != nil {
		return fmt.Errorf("records: store copy %d: %w", c.Number, err)
	}
	return nil
}

// listCopies returns the copies matching where (over alias c), in
// document and number order; holder, if not 0, keeps only that holder's.
func listCopies(ctx context.Context, q store.Queryer, where string, args []any, holder int64) ([]Copy, error) {
	if holder != 0 {
		where += ` AND c.holder_id = ?`
		args = append(args, holder)
	}
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT c.document_id, c.number, c.kind, c.holder_id, c.holder_name, c.holder_unit, c.permit_id,
		c.level, c.made_us FROM record_copies c WHERE `+where+` ORDER BY c.document_id, c.number`), args...)
	if err != nil {
		return nil, fmt.Errorf("records: copies: %w", err)
	}
	defer rows.Close()
	out := []Copy{}
	for rows.Next() {
		var c Copy
		var level int
		var made int64
		if err := rows.Scan(&c.DocumentID, &c.Number, &c.Kind, &c.HolderID, &c.HolderName, &c.HolderUnit, &c.PermitID, &level, &made); err != nil {
			return nil, err
		}
		c.Level, c.MadeAt = authz.Level(level), store.FromMicros(made)
		out = append(out, c)
	}
	return out, rows.Err()
}

func listCopyPermits(ctx context.Context, q store.Queryer, docID, staff int64) ([]CopyPermit, error) {
	where, args := `document_id = ?`, []any{docID}
	if staff != 0 {
		where += ` AND staff_id = ?`
		args = append(args, staff)
	}
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, document_id, staff_id, kind, copies, used, reason, granted_by, expires_us, created_us
		FROM record_copy_permits WHERE `+where+` ORDER BY id`), args...)
	if err != nil {
		return nil, fmt.Errorf("records: copy permissions: %w", err)
	}
	defer rows.Close()
	out := []CopyPermit{}
	for rows.Next() {
		var p CopyPermit
		var exp, at int64
		if err := rows.Scan(&p.ID, &p.DocumentID, &p.StaffID, &p.Kind, &p.Copies, &p.Used, &p.Reason, &p.GrantedBy, &exp, &at); err != nil {
			return nil, err
		}
		p.ExpiresAt, p.At = store.FromMicros(exp), store.FromMicros(at)
		out = append(out, p)
	}
	return out, rows.Err()
}
