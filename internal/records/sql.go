package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
)

// isForeignKeyViolation reports whether err is a reference to a row that
// does not exist (an unknown unit or member of staff), on either dialect.
func isForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		return coded.SQLState() == "23503"
	}
	return strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// errNoDocument is the one answer for a document that does not exist and
// for one the caller may not know exists: the same words either way.
func errNoDocument(id int64) error {
	return fmt.Errorf("%w: no document %d", errNotFound, id)
}

// takeNumber takes the next number of a register inside tx: the counter
// row is created at 0 on the register's first use, then incremented and
// read in one statement. The row's lock (SQLite's write lock, taken at
// BEGIN; PostgreSQL's row lock, held to commit) makes concurrent
// issuances wait for each other, and a rolled-back transaction gives its
// number back with everything else, so numbers have neither gaps nor
// duplicates.
func takeNumber(ctx context.Context, tx *store.Tx, unitID int64, year int, series Series) (int, error) {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_registers (unit_id, year, series, last) VALUES (?, ?, ?, 0)
		ON CONFLICT (unit_id, year, series) DO NOTHING`), unitID, year, string(series)); err != nil {
		return 0, fmt.Errorf("records: open register: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, tx.Rebind(`UPDATE record_registers SET last = last + 1
		WHERE unit_id = ? AND year = ? AND series = ? RETURNING last`), unitID, year, string(series)).Scan(&n); err != nil {
		return 0, fmt.Errorf("records: take a number: %w", err)
	}
	return n, nil
}

const documentColumns = `id, direction, unit_id, doc_type, number_symbol, register_year, series, register_number, org_symbol, unit_symbol,
	subject, doc_date_us, sender, signer_id, urgency, level, class_reason, class_source, classifier_id, protect_until_us,
	due_us, status, author_id, created_us, updated_us, version`

// row is a document's stored row, with the classification fields the
// Document shows apart.
type row struct {
	Document
	orgSymbol, unitSymbol string
	class                 Classification
	// then, if set, runs in the transaction that creates the row.
	then func(tx *store.Tx, r *row) error
	// channel is how an incoming document arrived, kept apart
	// (record_arrivals, work_sql.go).
	channel Channel
}

func scanDocument(sc interface{ Scan(...any) error }) (*row, error) {
	var r row
	var signer, classifier, author sql.NullInt64
	var date, protect, due, created, updated int64
	var urgency, level int
	err := sc.Scan(&r.ID, &r.Direction, &r.UnitID, &r.Type, &r.Number, &r.RegisterYear, &r.Series, &r.RegisterNumber, &r.orgSymbol, &r.unitSymbol,
		&r.Subject, &date, &r.Sender, &signer, &urgency, &level, &r.class.Reason, &r.class.Source, &classifier, &protect,
		&due, &r.Status, &author, &created, &updated, &r.Version)
	if err != nil {
		return nil, err
	}
	r.Date, r.DueAt, r.CreatedAt, r.UpdatedAt = store.FromMicros(date), store.FromMicros(due), store.FromMicros(created), store.FromMicros(updated)
	r.SignerID, r.AuthorID, r.class.ClassifierID = signer.Int64, author.Int64, classifier.Int64
	r.Urgency, r.Classification = Urgency(urgency), authz.Level(level)
	r.class.Level, r.class.ProtectUntil = r.Classification, store.FromMicros(protect)
	return &r, nil
}

// loadDocument reads a document with the labels an access decision needs
// (distribution, grants in force at now). On PostgreSQL inside a
// transaction that will change it, lock asks for the row's lock.
func loadDocument(ctx context.Context, q store.Queryer, id int64, now time.Time, lock bool) (*row, error) {
	query := `SELECT ` + documentColumns + ` FROM record_documents WHERE id = ?`
	if tx, ok := q.(*store.Tx); ok && lock && tx.Dialect == store.Postgres {
		query += ` FOR UPDATE`
	}
	r, err := scanDocument(q.QueryRowContext(ctx, q.Rebind(query), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoDocument(id)
	}
	if err != nil {
		return nil, fmt.Errorf("records: load document %d: %w", id, err)
	}
	if r.Shared, err = int64s(ctx, q, `SELECT unit_id FROM record_distribution WHERE document_id = ? ORDER BY unit_id`, id); err != nil {
		return nil, err
	}
	if r.readers, err = int64s(ctx, q, `SELECT staff_id FROM record_grants WHERE document_id = ? AND expires_us > ?`, id, store.Micros(now)); err != nil {
		return nil, err
	}
	return r, nil
}

// int64s runs a query of one integer column.
func int64s(ctx context.Context, q store.Queryer, query string, args ...any) ([]int64, error) {
	ids, err := store.Column[int64](ctx, q, query, args...)
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	return ids, nil
}

func insertDocument(ctx context.Context, tx *store.Tx, r *row) error {
	return tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO record_documents (direction, unit_id, doc_type, number_symbol, register_year, series,
		register_number, subject, doc_date_us, sender, urgency, level, class_reason, class_source, classifier_id, protect_until_us,
		due_us, status, author_id, created_us, updated_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		r.Direction, r.UnitID, r.Type, r.Number, r.RegisterYear, string(r.Series), r.RegisterNumber, r.Subject, store.Micros(r.Date), r.Sender,
		int(r.Urgency), int(r.Classification), r.class.Reason, r.class.Source, store.NullID(r.class.ClassifierID), store.Micros(r.class.ProtectUntil),
		store.Micros(r.DueAt), r.Status, store.NullID(r.AuthorID), store.Micros(r.CreatedAt), store.Micros(r.UpdatedAt)).Scan(&r.ID)
}

// updateDocument writes the fields a step may change, bumping the
// version.
func updateDocument(ctx context.Context, tx *store.Tx, r *row) error {
	r.Version++
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_documents SET number_symbol = ?, register_year = ?, series = ?, register_number = ?,
		org_symbol = ?, unit_symbol = ?, doc_date_us = ?, signer_id = ?, level = ?, class_reason = ?, class_source = ?, classifier_id = ?,
		protect_until_us = ?, due_us = ?, status = ?, updated_us = ?, version = ? WHERE id = ?`),
		r.Number, r.RegisterYear, string(r.Series), r.RegisterNumber, r.orgSymbol, r.unitSymbol, store.Micros(r.Date), store.NullID(r.SignerID),
		int(r.Classification), r.class.Reason, r.class.Source, store.NullID(r.class.ClassifierID), store.Micros(r.class.ProtectUntil),
		store.Micros(r.DueAt), r.Status, store.Micros(r.UpdatedAt), r.Version, r.ID)
	return err
}

func insertDistribution(ctx context.Context, tx *store.Tx, docID int64, units []int64) error {
	for _, u := range units {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_distribution (document_id, unit_id) VALUES (?, ?)
			ON CONFLICT (document_id, unit_id) DO NOTHING`), docID, u); err != nil {
			return fmt.Errorf("records: distribute document %d to unit %d: %w", docID, u, err)
		}
	}
	return nil
}

func insertClassificationEvent(ctx context.Context, tx *store.Tx, docID int64, e ClassificationEvent) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_classifications
		(document_id, kind, from_level, to_level, reason, source, actor_id, second_id, protect_until_us, at_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		docID, string(e.Kind), int(e.From), int(e.To), e.Reason, e.Source, e.ActorID, store.NullID(e.SecondID), store.Micros(e.ProtectUntil), store.Micros(e.At))
	return err
}

func listClassificationEvents(ctx context.Context, q store.Queryer, docID int64) ([]ClassificationEvent, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT kind, from_level, to_level, reason, source, actor_id, second_id, protect_until_us, at_us
		FROM record_classifications WHERE document_id = ? ORDER BY id`), docID)
	if err != nil {
		return nil, fmt.Errorf("records: classification history: %w", err)
	}
	defer rows.Close()
	out := []ClassificationEvent{}
	for rows.Next() {
		var e ClassificationEvent
		var from, to int
		var second sql.NullInt64
		var until, at int64
		if err := rows.Scan(&e.Kind, &from, &to, &e.Reason, &e.Source, &e.ActorID, &second, &until, &at); err != nil {
			return nil, err
		}
		e.From, e.To, e.SecondID, e.ProtectUntil, e.At = authz.Level(from), authz.Level(to), second.Int64, store.FromMicros(until), store.FromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// loadPending returns the two-person change awaiting its second person
// on a document, or nil when none is.
func loadPending(ctx context.Context, q store.Queryer, docID int64) (*Pending, error) {
	var p Pending
	var at int64
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT action, reason, proposer_id, at_us FROM record_pending WHERE document_id = ?`), docID).
		Scan(&p.Action, &p.Reason, &p.ProposerID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // none pending is a state, not a missing item
	}
	if err != nil {
		return nil, fmt.Errorf("records: pending change of document %d: %w", docID, err)
	}
	p.At = store.FromMicros(at)
	return &p, nil
}

func insertPending(ctx context.Context, tx *store.Tx, docID int64, p Pending) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_pending (document_id, action, reason, proposer_id, at_us) VALUES (?, ?, ?, ?, ?)`),
		docID, p.Action, p.Reason, p.ProposerID, store.Micros(p.At))
	return err
}

func deletePending(ctx context.Context, tx *store.Tx, docID int64) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM record_pending WHERE document_id = ?`), docID)
	return err
}

// sealedContent is a document's content as stored.
type sealedContent struct {
	ContentInfo
	sealed, wrapped []byte
	purpose         string
}

func insertContent(ctx context.Context, tx *store.Tx, docID int64, c sealedContent) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_contents (document_id, filename, media_type, size, sha256, sealed, key_purpose, wrapped_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), docID, c.Filename, c.MediaType, c.Size, c.SHA256, c.sealed, c.purpose, c.wrapped)
	return err
}

// loadContent reads a document's stored content, and reports whether the
// document has a file.
func loadContent(ctx context.Context, q store.Queryer, docID int64) (sealedContent, bool, error) {
	var c sealedContent
	var shredded int64
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT filename, media_type, size, sha256, sealed, key_purpose, wrapped_key, shredded_us
		FROM record_contents WHERE document_id = ?`), docID).
		Scan(&c.Filename, &c.MediaType, &c.Size, &c.SHA256, &c.sealed, &c.purpose, &c.wrapped, &shredded)
	if errors.Is(err, sql.ErrNoRows) {
		return sealedContent{}, false, nil
	}
	if err != nil {
		return sealedContent{}, false, fmt.Errorf("records: load content of document %d: %w", docID, err)
	}
	c.Shredded = store.FromMicros(shredded)
	return c, true, nil
}

// rewrapContent stores a data key wrapped anew (a level changed), or
// none and the time of destruction (crypto-shredding: the sealed bytes
// stay, and nobody can open them again).
func rewrapContent(ctx context.Context, tx *store.Tx, docID int64, purpose string, wrapped []byte, shredded time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_contents SET key_purpose = ?, wrapped_key = ?, shredded_us = ? WHERE document_id = ?`),
		purpose, wrapped, store.Micros(shredded), docID)
	return err
}

// indexDocument replaces a document's row in the full-text index with
// text (already folded), inside the document's transaction. On SQLite
// the FTS5 row's rowid is the document's id.
func indexDocument(ctx context.Context, tx *store.Tx, docID int64, text string) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(searchDelete(tx.Dialect)), docID); err != nil {
		return fmt.Errorf("records: unindex document %d: %w", docID, err)
	}
	q := `INSERT INTO record_search (document_id, body) VALUES (?, ?)`
	args := []any{docID, text}
	if tx.Dialect == store.SQLite {
		q = `INSERT INTO record_search (rowid, document_id, body) VALUES (?, ?, ?)`
		args = []any{docID, docID, text}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("records: index document %d: %w", docID, err)
	}
	return nil
}

func searchDelete(d store.Dialect) string {
	if d == store.SQLite {
		return `DELETE FROM record_search WHERE rowid = ?`
	}
	return `DELETE FROM record_search WHERE document_id = ?`
}

// visibleClause returns the condition, and its arguments, that keeps only
// the documents sub may know of: no read up (level ≤ clearance) and
// need-to-know (the owning unit, the distribution list, or an explicit
// grant in force). It mirrors the first two checks of authz.Decide inside
// the query, so that hits, counts and pages never include a concealed
// item; TestSearchAgreesWithDecide holds the two together.
func visibleClause(sub authz.Subject, now time.Time) (string, []any) {
	return `d.level <= ? AND (d.unit_id = ?
		OR EXISTS (SELECT 1 FROM record_distribution x WHERE x.document_id = d.id AND x.unit_id = ?)
		OR EXISTS (SELECT 1 FROM record_grants g WHERE g.document_id = d.id AND g.staff_id = ? AND g.expires_us > ?))`,
		[]any{int(sub.Clearance), sub.Unit, sub.Unit, sub.ID, store.Micros(now)}
}

// queryDocuments runs a query of documentColumns.
func queryDocuments(ctx context.Context, q store.Queryer, query string, args []any) ([]*row, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("records: query documents: %w", err)
	}
	defer rows.Close()
	var out []*row
	for rows.Next() {
		r, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// prefixed qualifies a comma-separated column list with a table alias.
func prefixed(cols, alias string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

func insertGrant(ctx context.Context, tx *store.Tx, docID int64, g *Grant) error {
	return tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO record_grants (document_id, staff_id, reason, granted_by, expires_us, created_us)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), docID, g.StaffID, g.Reason, g.GrantedBy, store.Micros(g.ExpiresAt), store.Micros(g.At)).Scan(&g.ID)
}

func insertStep(ctx context.Context, tx *store.Tx, docID int64, st Step) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_steps (document_id, action, actor_id, note, at_us) VALUES (?, ?, ?, ?, ?)`),
		docID, st.Action, st.ActorID, st.Note, store.Micros(st.At))
	return err
}

func listSteps(ctx context.Context, q store.Queryer, docID int64) ([]Step, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT action, actor_id, note, at_us FROM record_steps WHERE document_id = ? ORDER BY id`), docID)
	if err != nil {
		return nil, fmt.Errorf("records: steps: %w", err)
	}
	defer rows.Close()
	out := []Step{}
	for rows.Next() {
		var st Step
		var at int64
		if err := rows.Scan(&st.Action, &st.ActorID, &st.Note, &at); err != nil {
			return nil, err
		}
		st.At = store.FromMicros(at)
		out = append(out, st)
	}
	return out, rows.Err()
}

func insertAssignment(ctx context.Context, tx *store.Tx, docID int64, a *Assignment) error {
	return tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO record_assignments
		(document_id, role, unit_id, staff_id, deadline_us, instruction, assigned_by, at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		docID, a.Role, a.UnitID, store.NullID(a.StaffID), store.Micros(a.Deadline), a.Instruction, a.AssignedBy, store.Micros(a.At)).Scan(&a.ID)
}

func listAssignments(ctx context.Context, q store.Queryer, docID int64) ([]Assignment, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, role, unit_id, staff_id, deadline_us, instruction, assigned_by, at_us
		FROM record_assignments WHERE document_id = ? ORDER BY id`), docID)
	if err != nil {
		return nil, fmt.Errorf("records: assignments: %w", err)
	}
	defer rows.Close()
	out := []Assignment{}
	for rows.Next() {
		var a Assignment
		var staff sql.NullInt64
		var deadline, at int64
		if err := rows.Scan(&a.ID, &a.Role, &a.UnitID, &staff, &deadline, &a.Instruction, &a.AssignedBy, &at); err != nil {
			return nil, err
		}
		a.StaffID, a.Deadline, a.At = staff.Int64, store.FromMicros(deadline), store.FromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// markRead records sub's first reading of a document and reports whether
// it was the first.
func markRead(ctx context.Context, q store.Queryer, docID, staffID int64, at time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO record_reads (document_id, staff_id, first_us) VALUES (?, ?, ?)
		ON CONFLICT (document_id, staff_id) DO NOTHING`), docID, staffID, store.Micros(at))
	if err != nil {
		return false, fmt.Errorf("records: read receipt: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func listReceipts(ctx context.Context, q store.Queryer, docID int64) ([]Receipt, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT staff_id, first_us FROM record_reads WHERE document_id = ? ORDER BY first_us, staff_id`), docID)
	if err != nil {
		return nil, fmt.Errorf("records: read receipts: %w", err)
	}
	defer rows.Close()
	out := []Receipt{}
	for rows.Next() {
		var r Receipt
		var at int64
		if err := rows.Scan(&r.StaffID, &at); err != nil {
			return nil, err
		}
		r.At = store.FromMicros(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

func insertCaseFile(ctx context.Context, tx *store.Tx, cf *CaseFile) error {
	return tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO record_case_files (unit_id, year, code, title, retention_years, created_us)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), cf.UnitID, cf.Year, cf.Code, cf.Title, int(cf.RetentionYears), store.Micros(cf.CreatedAt)).Scan(&cf.ID)
}

// loadCaseFile reads a case file (without its documents), locking its
// row on PostgreSQL when lock is set inside a transaction.
func loadCaseFile(ctx context.Context, q store.Queryer, id int64, lock bool) (*CaseFile, error) {
	query := `SELECT id, unit_id, year, code, title, retention_years, closed_us, created_us FROM record_case_files WHERE id = ?`
	if tx, ok := q.(*store.Tx); ok && lock && tx.Dialect == store.Postgres {
		query += ` FOR UPDATE`
	}
	var cf CaseFile
	var retention int
	var closed, created int64
	err := q.QueryRowContext(ctx, q.Rebind(query), id).Scan(&cf.ID, &cf.UnitID, &cf.Year, &cf.Code, &cf.Title, &retention, &closed, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoCaseFile(id)
	}
	if err != nil {
		return nil, fmt.Errorf("records: load case file %d: %w", id, err)
	}
	cf.RetentionYears, cf.ClosedAt, cf.CreatedAt = Retention(retention), store.FromMicros(closed), store.FromMicros(created)
	return &cf, nil
}

func errNoCaseFile(id int64) error { return fmt.Errorf("%w: no case file %d", errNotFound, id) }

func closeCaseFile(ctx context.Context, tx *store.Tx, id int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_case_files SET closed_us = ? WHERE id = ?`), store.Micros(at), id)
	return err
}

// fileDocument files a document into a case file and reports whether it
// was not filed there already.
func fileDocument(ctx context.Context, tx *store.Tx, caseFileID, docID, by int64, at time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_filings (case_file_id, document_id, filed_by, filed_us) VALUES (?, ?, ?, ?)
		ON CONFLICT (case_file_id, document_id) DO NOTHING`), caseFileID, docID, by, store.Micros(at))
	if err != nil {
		return false, fmt.Errorf("records: file document %d: %w", docID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// listFiledVisible lists the ids of the documents in a case file that sub
// may know of.
func listFiledVisible(ctx context.Context, q store.Queryer, caseFileID int64, sub authz.Subject, now time.Time) ([]int64, error) {
	where, args := visibleClause(sub, now)
	return int64s(ctx, q, `SELECT d.id FROM record_filings f JOIN record_documents d ON d.id = f.document_id
		WHERE f.case_file_id = ? AND `+where+` ORDER BY d.id`, append([]any{caseFileID}, args...)...)
}

// registerPage returns the documents matching where, in register number
// order.
func registerPage(ctx context.Context, q store.Queryer, where string, args []any, limit int) ([]*Document, error) {
	rows, err := queryDocuments(ctx, q, `SELECT `+prefixed(documentColumns, "d.")+` FROM record_documents d WHERE `+where+
		` ORDER BY d.register_number LIMIT `+strconv.Itoa(limit), args)
	out := make([]*Document, len(rows))
	for i, r := range rows {
		out[i] = &r.Document
	}
	return out, err
}
