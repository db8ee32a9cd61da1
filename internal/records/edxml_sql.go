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

// The storage of edXML packages (migration 00019): record_packages,
// their events, and the outbox to the exchange.

const packageColumns = `id, direction, package_id, sender, sender_name, recipient, recipient_name, unit_id, document_id, level,
	number_symbol, subject, status, reason, sealed, key_purpose, msg_id, created_us, updated_us`

func scanPackage(sc interface{ Scan(...any) error }) (*PackageRow, error) {
	var p PackageRow
	var doc sql.NullInt64
	var level int
	var created, updated int64
	err := sc.Scan(&p.ID, &p.Direction, &p.PackageID, &p.From.ID, &p.From.Name, &p.To.ID, &p.To.Name, &p.UnitID, &doc, &level,
		&p.Number, &p.Subject, &p.Status, &p.Reason, &p.sealed, &p.purpose, &p.MessageID, &created, &updated)
	if err != nil {
		return nil, err
	}
	p.DocumentID, p.Level, p.CreatedAt, p.UpdatedAt = doc.Int64, authz.Level(level), store.FromMicros(created), store.FromMicros(updated)
	return &p, nil
}

func queryPackages(ctx context.Context, q store.Queryer, where string, args ...any) ([]*PackageRow, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT `+packageColumns+` FROM record_packages WHERE `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("records: query packages: %w", err)
	}
	defer rows.Close()
	var out []*PackageRow
	for rows.Next() {
		p, err := scanPackage(rows)
		if err != nil {
			return nil, fmt.Errorf("records: read package: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// loadPackage reads one package row by where, locking it on PostgreSQL
// inside a transaction; nil when there is none.
func loadPackage(ctx context.Context, q store.Queryer, where string, args ...any) (*PackageRow, error) {
	if tx, ok := q.(*store.Tx); ok && tx.Dialect == store.Postgres {
		where += ` FOR UPDATE`
	}
	p, err := scanPackage(q.QueryRowContext(ctx, q.Rebind(`SELECT `+packageColumns+` FROM record_packages WHERE `+where), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // none is an answer, which callers turn into theirs
	}
	if err != nil {
		return nil, fmt.Errorf("records: load package: %w", err)
	}
	return p, nil
}

func insertPackage(ctx context.Context, tx *store.Tx, p *PackageRow) error {
	return tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO record_packages (direction, package_id, sender, sender_name, recipient, recipient_name,
		unit_id, document_id, level, number_symbol, subject, status, reason, sealed, key_purpose, msg_id, created_us, updated_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		p.Direction, p.PackageID, p.From.ID, p.From.Name, p.To.ID, p.To.Name, p.UnitID, store.NullID(p.DocumentID), int(p.Level),
		p.Number, p.Subject, string(p.Status), p.Reason, p.sealed, p.purpose, p.MessageID, store.Micros(p.CreatedAt), store.Micros(p.UpdatedAt)).Scan(&p.ID)
}

// setPackageStatus moves a package row to status (with a reason, and the
// registered document when docID is not 0).
func setPackageStatus(ctx context.Context, tx *store.Tx, id int64, status DeliveryStatus, reason string, docID int64, at time.Time) error {
	q := `UPDATE record_packages SET status = ?, reason = ?, updated_us = ? WHERE id = ?`
	args := []any{string(status), reason, store.Micros(at), id}
	if docID != 0 {
		q = `UPDATE record_packages SET status = ?, reason = ?, updated_us = ?, document_id = ? WHERE id = ?`
		args = []any{string(status), reason, store.Micros(at), docID, id}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("records: update package %d: %w", id, err)
	}
	return nil
}

// insertPackageEvent records a status of a package once, and reports
// whether it was new (a status message delivered again is not).
func insertPackageEvent(ctx context.Context, tx *store.Tx, row int64, uid string, e PackageEvent) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_package_events (package_row, uid, status, note, at_us) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (package_row, uid) DO NOTHING`), row, uid, string(e.Status), e.Note, store.Micros(e.At))
	if err != nil {
		return false, fmt.Errorf("records: record a status of package %d: %w", row, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func listPackageEvents(ctx context.Context, q store.Queryer, row int64) ([]PackageEvent, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT status, note, at_us FROM record_package_events WHERE package_row = ? ORDER BY id`), row)
	if err != nil {
		return nil, fmt.Errorf("records: statuses of package %d: %w", row, err)
	}
	defer rows.Close()
	out := []PackageEvent{}
	for rows.Next() {
		var e PackageEvent
		var at int64
		if err := rows.Scan(&e.Status, &e.Note, &at); err != nil {
			return nil, err
		}
		e.At = store.FromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// outboxItem is a payload waiting to be handed to the exchange.
type outboxItem struct {
	ID         int64
	PackageRow int64
	UID        string
	Parcel     Parcel
	sealed     []byte
	purpose    string
}

func insertOutbox(ctx context.Context, tx *store.Tx, o *outboxItem, at time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_edxml_outbox (package_row, uid, sender, recipient, level, sealed, key_purpose, created_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), o.PackageRow, o.UID, o.Parcel.From, o.Parcel.To, int(o.Parcel.Level), o.sealed, o.purpose, store.Micros(at))
	if err != nil {
		return fmt.Errorf("records: queue a package for the exchange: %w", err)
	}
	return nil
}

// pendingOutbox returns the oldest items not yet handed over.
func pendingOutbox(ctx context.Context, q store.Queryer, limit int) ([]outboxItem, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, package_row, uid, sender, recipient, level, sealed, key_purpose
		FROM record_edxml_outbox WHERE sent_us = 0 ORDER BY id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("records: read the outbox: %w", err)
	}
	defer rows.Close()
	var out []outboxItem
	for rows.Next() {
		var o outboxItem
		var level int
		if err := rows.Scan(&o.ID, &o.PackageRow, &o.UID, &o.Parcel.From, &o.Parcel.To, &level, &o.sealed, &o.purpose); err != nil {
			return nil, err
		}
		o.Parcel.Level = authz.Level(level)
		out = append(out, o)
	}
	return out, rows.Err()
}

// markOutbox records an item handed over (msgID) or refused for good
// (failure), and drops its sealed payload, no longer needed.
func markOutbox(ctx context.Context, tx *store.Tx, id int64, msgID, failure string, at time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_edxml_outbox SET msg_id = ?, error = ?, sent_us = ?, sealed = ? WHERE id = ?`),
		msgID, failure, store.Micros(at), []byte{}, id)
	if err != nil {
		return fmt.Errorf("records: mark outbox item %d: %w", id, err)
	}
	return nil
}
