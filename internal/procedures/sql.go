package procedures

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Times are stored as microseconds since the epoch, 0 for "not yet".
func us(t time.Time) int64 { return store.Micros(t) }

func fromUS(v int64) time.Time { return store.FromMicros(v) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullID(id int64) any { return store.NullID(id) }

func insertDraft(ctx context.Context, tx *store.Tx, d Draft, sealed []byte) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO procedure_drafts
		(id, procedure_code, unit_id, citizen_id, form, prefilled, fee_amount, fee_currency, created_us, expires_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		d.ID, d.Procedure, d.UnitID, nullID(d.CitizenID), sealed, b2i(d.Prefilled), d.FeeAmount, d.FeeCurrency, us(d.CreatedAt), us(d.ExpiresAt))
	return err
}

func loadDraft(ctx context.Context, q store.Queryer, id string) (Draft, []byte, error) {
	var d Draft
	var sealed []byte
	var citizen sql.NullInt64
	var prefilled int
	var paid, created, expires int64
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT id, procedure_code, unit_id, citizen_id, form, prefilled, fee_amount, fee_currency,
		paid_us, created_us, expires_us FROM procedure_drafts WHERE id = ?`), id).
		Scan(&d.ID, &d.Procedure, &d.UnitID, &citizen, &sealed, &prefilled, &d.FeeAmount, &d.FeeCurrency, &paid, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Draft{}, nil, errDraftNotFound
	}
	if err != nil {
		return Draft{}, nil, fmt.Errorf("procedures: load application: %w", err)
	}
	d.CitizenID, d.Prefilled = citizen.Int64, prefilled != 0
	d.PaidAt, d.CreatedAt, d.ExpiresAt = fromUS(paid), fromUS(created), fromUS(expires)
	return d, sealed, nil
}

// deleteExpiredDrafts discards abandoned applications with their files'
// rows, and returns the files' blob keys, for the caller to delete once
// the transaction has committed.
func deleteExpiredDrafts(ctx context.Context, tx *store.Tx, now time.Time) ([]string, error) {
	rows, err := tx.QueryContext(ctx, tx.Rebind(`SELECT a.blob_key FROM dossier_attachments a
		JOIN procedure_drafts d ON d.id = a.draft_id WHERE d.expires_us < ?`), us(now))
	if err != nil {
		return nil, err
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM dossier_attachments WHERE draft_id IN
		(SELECT id FROM procedure_drafts WHERE expires_us < ?)`), us(now)); err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`DELETE FROM procedure_drafts WHERE expires_us < ?`), us(now))
	return keys, err
}

// lockedDraftFiles lists a draft's files inside tx, having locked the
// draft's row on PostgreSQL (SQLite's transactions take the write lock at
// their start), so that concurrent uploads to one draft count each
// other's files. A draft no longer there (submitted, or expired and
// discarded) is errDraftNotFound.
func lockedDraftFiles(ctx context.Context, tx *store.Tx, draftID string) ([]Attachment, error) {
	q := `SELECT id FROM procedure_drafts WHERE id = ?`
	if tx.Dialect == store.Postgres {
		q += ` FOR UPDATE`
	}
	var id string
	err := tx.QueryRowContext(ctx, tx.Rebind(q), draftID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errDraftNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("procedures: lock application: %w", err)
	}
	return listAttachments(ctx, tx, "draft_id", draftID)
}

// claimDraft deletes a draft being submitted, and reports whether this
// transaction removed it: the delete is the submission's claim, so that of
// concurrent submissions of one draft exactly one finds the row.
func claimDraft(ctx context.Context, tx *store.Tx, id string) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM procedure_drafts WHERE id = ?`), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// markDraftPaid records a payment on a draft; it reports false when the
// draft is unknown or already paid.
func markDraftPaid(ctx context.Context, tx *store.Tx, id, ref string, at time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE procedure_drafts SET paid_us = ?, payment_ref = ? WHERE id = ? AND paid_us = 0`), us(at), ref, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func insertAttachment(ctx context.Context, tx *store.Tx, a *Attachment, ownerColumn string, owner any) error {
	return tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO dossier_attachments
		(`+ownerColumn+`, document_key, filename, media_type, size, sha256, blob_key, created_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		owner, a.DocumentKey, a.Filename, a.MediaType, a.Size, a.SHA256, a.blobKey, us(a.CreatedAt)).Scan(&a.ID)
}

func deleteAttachment(ctx context.Context, tx *store.Tx, id int64) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM dossier_attachments WHERE id = ?`), id)
	return err
}

func moveAttachments(ctx context.Context, tx *store.Tx, draftID string, dossierID int64) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE dossier_attachments SET dossier_id = ?, draft_id = NULL WHERE draft_id = ?`), dossierID, draftID)
	return err
}

// listAttachments lists the files of a draft or a dossier, by ownerColumn
// (draft_id or dossier_id), in upload order.
func listAttachments(ctx context.Context, q store.Queryer, ownerColumn string, owner any) ([]Attachment, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, document_key, filename, media_type, size, sha256, blob_key, created_us
		FROM dossier_attachments WHERE `+ownerColumn+` = ? ORDER BY id`), owner)
	if err != nil {
		return nil, fmt.Errorf("procedures: list attachments: %w", err)
	}
	defer rows.Close()
	out := []Attachment{}
	for rows.Next() {
		var a Attachment
		var created int64
		if err := rows.Scan(&a.ID, &a.DocumentKey, &a.Filename, &a.MediaType, &a.Size, &a.SHA256, &a.blobKey, &created); err != nil {
			return nil, err
		}
		a.CreatedAt = fromUS(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// nextSeq takes the next number of a unit's dossier codes of a day.
func nextSeq(ctx context.Context, tx *store.Tx, agency string, day calendar.Date) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO dossier_sequences (agency_code, day, next) VALUES (?, ?, 1)
		ON CONFLICT (agency_code, day) DO UPDATE SET next = dossier_sequences.next + 1 RETURNING next`),
		agency, fmt.Sprintf("%02d%02d%02d", day.Year%100, int(day.Month), day.Day)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("procedures: number the dossier: %w", err)
	}
	return n, nil
}

// open reports whether a dossier in st is still in someone's queue.
func open(st Status) bool { return !st.Final() }

func insertDossier(ctx context.Context, tx *store.Tx, d *Dossier, sealed []byte) error {
	lc, err := json.Marshal(d.Lifecycle)
	if err != nil {
		return err
	}
	err = tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO dossiers
		(code, procedure_code, unit_id, channel, status, open, lifecycle, applicant_name, applicant_email, citizen_id, form,
		 prefilled, digitised, fee_amount, fee_currency, paid, paid_online, submitted_us, appointment_us, updated_us, version, tracking_pin)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		d.Code, d.Procedure, d.UnitID, int(d.Channel), int(d.Status), b2i(open(d.Status)), string(lc), d.ApplicantName, d.ApplicantEmail,
		nullID(d.CitizenID), sealed, b2i(d.Prefilled), b2i(d.Digitised), d.FeeAmount, d.FeeCurrency, b2i(d.Paid), b2i(d.PaidOnline),
		us(d.SubmittedAt), us(d.AppointmentAt), us(d.UpdatedAt), d.Version, d.sealedPIN).Scan(&d.ID)
	if err != nil {
		return fmt.Errorf("procedures: insert dossier %s: %w", d.Code, err)
	}
	d.sealedForm = sealed
	return nil
}

// updateDossier writes d's changeable columns if the stored version is
// still based, and fails with errs.ErrConflict otherwise.
func updateDossier(ctx context.Context, tx *store.Tx, d *Dossier, based int) error {
	lc, err := json.Marshal(d.Lifecycle)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE dossiers SET unit_id = ?, status = ?, open = ?, lifecycle = ?, assignee_id = ?,
		digitised = ?, paid = ?, paid_online = ?, received_us = ?, due_us = ?, appointment_us = ?, finished_us = ?, returned_us = ?, late = ?,
		outcome = ?, result_blob = ?, result_sig = ?, rating = ?, updated_us = ?, version = ?
		WHERE id = ? AND version = ?`),
		d.UnitID, int(d.Status), b2i(open(d.Status)), string(lc), nullID(d.AssigneeID),
		b2i(d.Digitised), b2i(d.Paid), b2i(d.PaidOnline), us(d.Clock.ReceivedAt), us(d.DueAt), us(d.AppointmentAt), us(d.Clock.FinishedAt), us(d.ReturnedAt), b2i(d.Late),
		string(d.Outcome), d.resultBlob, d.resultSig, d.Rating, us(d.UpdatedAt), d.Version, d.ID, based)
	if err != nil {
		return fmt.Errorf("procedures: update dossier %s: %w", d.Code, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%w: dossier %s was changed by someone else at the same time; reload it and try again", errs.ErrConflict, d.Code)
	}
	return nil
}

const dossierColumns = `d.id, d.code, d.procedure_code, d.unit_id, u.code, d.channel, d.lifecycle, d.applicant_name, d.applicant_email,
	d.citizen_id, d.form, d.prefilled, d.digitised, d.assignee_id, d.fee_amount, d.fee_currency, d.paid, d.paid_online,
	d.submitted_us, d.appointment_us, d.due_us, d.returned_us, d.late, d.result_blob, d.result_sig, d.rating, d.national_portal_status,
	d.updated_us, d.version, d.tracking_pin`

func loadDossier(ctx context.Context, q store.Queryer, code string) (*Dossier, error) {
	var d Dossier
	var lc string
	var citizen, assignee sql.NullInt64
	var prefilled, digitised, paid, paidOnline, late, portal int
	var submitted, appointment, due, returned, updated int64
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT `+dossierColumns+` FROM dossiers d JOIN units u ON u.id = d.unit_id WHERE d.code = ?`), code).
		Scan(&d.ID, &d.Code, &d.Procedure, &d.UnitID, &d.UnitCode, &d.Channel, &lc, &d.ApplicantName, &d.ApplicantEmail,
			&citizen, &d.sealedForm, &prefilled, &digitised, &assignee, &d.FeeAmount, &d.FeeCurrency, &paid, &paidOnline,
			&submitted, &appointment, &due, &returned, &late, &d.resultBlob, &d.resultSig, &d.Rating, &portal, &updated, &d.Version, &d.sealedPIN)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no dossier has code %s", errs.ErrNotFound, code)
	}
	if err != nil {
		return nil, fmt.Errorf("procedures: load dossier %s: %w", code, err)
	}
	if err := json.Unmarshal([]byte(lc), &d.Lifecycle); err != nil {
		return nil, fmt.Errorf("procedures: decode the lifecycle of %s: %w", code, err)
	}
	d.CitizenID, d.AssigneeID = citizen.Int64, assignee.Int64
	d.Prefilled, d.Digitised, d.Paid, d.PaidOnline, d.Late = prefilled != 0, digitised != 0, paid != 0, paidOnline != 0, late != 0
	d.SubmittedAt, d.AppointmentAt, d.DueAt, d.ReturnedAt, d.UpdatedAt = fromUS(submitted), fromUS(appointment), fromUS(due), fromUS(returned), fromUS(updated)
	d.HasResult, d.NationalPortalStatus = d.resultBlob != "", Status(portal)
	return &d, nil
}

func insertEntry(ctx context.Context, tx *store.Tx, dossierID int64, e Entry) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO dossier_events
		(dossier_id, action, from_status, to_status, actor_kind, actor_id, actor_name, unit_id, reason, at_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		dossierID, e.Action, int(e.From), int(e.To), e.ActorKind, e.ActorID, e.ActorName, e.UnitID, e.Reason, us(e.At))
	if err != nil {
		return fmt.Errorf("procedures: record the dossier's history: %w", err)
	}
	return nil
}

func listEntries(ctx context.Context, q store.Queryer, dossierID int64) ([]Entry, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT action, from_status, to_status, actor_kind, actor_id, actor_name, unit_id, reason, at_us
		FROM dossier_events WHERE dossier_id = ? ORDER BY at_us, id`), dossierID)
	if err != nil {
		return nil, fmt.Errorf("procedures: read the dossier's history: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&e.Action, &e.From, &e.To, &e.ActorKind, &e.ActorID, &e.ActorName, &e.UnitID, &e.Reason, &at); err != nil {
			return nil, err
		}
		e.At = fromUS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// staffInfo returns a staff member's unit, roles and whether disabled.
func staffInfo(ctx context.Context, q store.Queryer, id int64) (int64, string, bool, error) {
	var unit int64
	var roleList string
	var disabled bool
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT unit_id, roles, disabled FROM staff WHERE id = ?`), id).Scan(&unit, &roleList, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", false, errs.Invalid("assignee", fmt.Sprintf("no staff member has id %d", id))
	}
	return unit, roleList, disabled, err
}

func openDossierCodes(ctx context.Context, q store.Queryer, unitID int64) ([]string, error) {
	return store.Column[string](ctx, q, `SELECT code FROM dossiers WHERE unit_id = ? AND open = 1 ORDER BY id`, unitID)
}

const queueColumns = `d.id, d.code, d.procedure_code, d.applicant_name, d.channel, d.status, d.assignee_id, d.submitted_us, d.due_us, d.appointment_us`

func scanQueue(rows *sql.Rows) ([]queueRow, error) {
	defer rows.Close()
	var out []queueRow
	for rows.Next() {
		var r queueRow
		var assignee sql.NullInt64
		var submitted, appointment int64
		if err := rows.Scan(&r.id, &r.item.Code, &r.item.Procedure, &r.item.ApplicantName, &r.item.Channel, &r.item.Status,
			&assignee, &submitted, &r.due, &appointment); err != nil {
			return nil, err
		}
		r.item.AssigneeID = assignee.Int64
		r.item.SubmittedAt, r.item.DueAt, r.item.AppointmentAt = fromUS(submitted), fromUS(r.due), fromUS(appointment)
		out = append(out, r)
	}
	return out, rows.Err()
}

// queueRows reads a unit's queue in (due, id) order after the cursor.
func queueRows(ctx context.Context, q store.Queryer, unit int64, statuses []Status, assignee int64, after cursor, limit int) ([]queueRow, error) {
	query, args := queueQuery(unit, statuses, assignee, after, limit)
	rows, err := q.QueryContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("procedures: read the work queue: %w", err)
	}
	return scanQueue(rows)
}

// queueQuery is the query of a queue page. Each status is read through
// the index on (unit, status, due, id), and all open ones through the one
// on (unit, open, due, id), so a page costs the same with a million
// dossiers as with a hundred.
func queueQuery(unit int64, statuses []Status, assignee int64, after cursor, limit int) (string, []any) {
	where := []string{"d.unit_id = ?"}
	args := []any{unit}
	if len(statuses) == 0 {
		where = append(where, "d.open = 1")
	} else {
		marks := make([]string, len(statuses))
		for i, st := range statuses {
			marks[i], args = "?", append(args, int(st))
		}
		where = append(where, "d.status IN ("+strings.Join(marks, ", ")+")")
	}
	if assignee != 0 {
		where, args = append(where, "d.assignee_id = ?"), append(args, assignee)
	}
	if after.due >= 0 {
		// A row-value comparison lets both engines seek the index to the
		// cursor instead of filtering every entry before it.
		where, args = append(where, "(d.due_us, d.id) > (?, ?)"), append(args, after.due, after.id)
	}
	return `SELECT ` + queueColumns + ` FROM dossiers d WHERE ` + strings.Join(where, " AND ") + ` ORDER BY d.due_us, d.id LIMIT ?`, append(args, limit)
}

func citizenRows(ctx context.Context, q store.Queryer, citizen int64) ([]QueueItem, error) {
	return citizenPageRows(ctx, q, citizen, citizenFilter{}, 0, 500)
}

// report is a queued status report.
type report struct {
	id, dossierID int64
	status        Status
	payload       []byte
}

func insertReport(ctx context.Context, tx *store.Tx, dossierID int64, st Status, payload []byte, at time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO national_portal_outbox (dossier_id, status, payload, created_us) VALUES (?, ?, ?, ?)`),
		dossierID, int(st), payload, us(at))
	if err != nil {
		return fmt.Errorf("procedures: queue the national portal report: %w", err)
	}
	return nil
}

func pendingReports(ctx context.Context, q store.Queryer, limit int) ([]report, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, dossier_id, status, payload FROM national_portal_outbox WHERE sent_us = 0 ORDER BY id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("procedures: read the national portal outbox: %w", err)
	}
	defer rows.Close()
	var out []report
	for rows.Next() {
		var r report
		if err := rows.Scan(&r.id, &r.dossierID, &r.status, &r.payload); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// sentReport is a report the exchange took, with its message id.
type sentReport struct {
	report
	messageID string
}

// markReportsSent records reports as taken by the exchange, and each
// dossier's national portal status as its latest report's, in one transaction.
func markReportsSent(ctx context.Context, db *store.DB, sent []sentReport, at time.Time) error {
	if len(sent) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx) // what was sent must be recorded
	return db.InTx(ctx, func(tx *store.Tx) error {
		for _, r := range sent {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE national_portal_outbox SET sent_us = ?, message_id = ?, attempts = attempts + 1, last_error = '' WHERE id = ?`),
				us(at), r.messageID, r.id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE dossiers SET national_portal_status = ? WHERE id = ?`), int(r.status), r.dossierID); err != nil {
				return err
			}
		}
		return nil
	})
}

func failReport(ctx context.Context, db *store.DB, id int64, msg string) error {
	if len(msg) > 500 {
		msg = msg[:500]
	}
	_, err := db.ExecContext(context.WithoutCancel(ctx), db.Rebind(`UPDATE national_portal_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?`), msg, id)
	return err
}

// dropPendingReports removes a dossier's unsent reports before a resend
// queues its current status afresh.
func dropPendingReports(ctx context.Context, tx *store.Tx, dossierID int64) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM national_portal_outbox WHERE dossier_id = ? AND sent_us = 0`), dossierID)
	return err
}

func listUnsynced(ctx context.Context, q store.Queryer, unit int64, limit int) ([]Unsynced, error) {
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	where, args := "d.national_portal_status <> d.status", []any{}
	if unit != 0 {
		where, args = where+" AND d.unit_id = ?", append(args, unit)
	}
	args = append(args, limit)
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT d.code, d.status, d.national_portal_status, d.updated_us,
		(SELECT COUNT(*) FROM national_portal_outbox o WHERE o.dossier_id = d.id AND o.sent_us = 0),
		COALESCE((SELECT o.attempts FROM national_portal_outbox o WHERE o.dossier_id = d.id AND o.sent_us = 0 ORDER BY o.id LIMIT 1), 0),
		COALESCE((SELECT o.last_error FROM national_portal_outbox o WHERE o.dossier_id = d.id AND o.sent_us = 0 ORDER BY o.id LIMIT 1), '')
		FROM dossiers d WHERE `+where+` ORDER BY d.updated_us LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("procedures: list unsynced dossiers: %w", err)
	}
	defer rows.Close()
	var out []Unsynced
	for rows.Next() {
		var u Unsynced
		var updated int64
		if err := rows.Scan(&u.Code, &u.Status, &u.NationalPortalStatus, &updated, &u.Pending, &u.Attempts, &u.LastError); err != nil {
			return nil, err
		}
		u.UpdatedAt = fromUS(updated)
		out = append(out, u)
	}
	return out, rows.Err()
}

// paymentRow is a row of procedure_payments.
type paymentRow struct {
	TransactionID, DraftID, DossierCode string
	Amount                              int64
	Currency, Method                    string
	RecordedBy                          int64 // the clerk of a counter payment
	PaidAt, ReceivedAt                  time.Time
}

// insertPayment records a payment; a transaction id (a gateway's, or a
// unit's receipt number) already recorded is errs.ErrConflict.
func insertPayment(ctx context.Context, tx *store.Tx, p paymentRow) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO procedure_payments
		(transaction_id, draft_id, dossier_code, amount, currency, method, recorded_by, paid_us, received_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		p.TransactionID, p.DraftID, p.DossierCode, p.Amount, p.Currency, p.Method, p.RecordedBy, us(p.PaidAt), us(p.ReceivedAt))
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("%w: payment %s was already recorded; a payment is recorded once", errs.ErrConflict, p.TransactionID)
	}
	if err != nil {
		return fmt.Errorf("procedures: record payment %s: %w", p.TransactionID, err)
	}
	return nil
}
