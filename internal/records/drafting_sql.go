package records

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/store"
)

// The drafting's queries (drafting.go): versions, comments, reviews,
// recipients and replacements (migration 00023), and the names of staff
// and units the drafting pages show.

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// insertVersion records a version of a document's file; sealed is nil
// for the current one (its bytes are in record_contents).
func insertVersion(ctx context.Context, tx *store.Tx, docID int64, v Version, sealed []byte) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_versions (document_id, version_no, filename, media_type, size, sha256, sealed,
		author_id, note, at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		docID, v.No, v.Filename, v.MediaType, v.Size, v.SHA256, sealed, v.AuthorID, v.Note, store.Micros(v.At))
	if err != nil {
		return fmt.Errorf("records: store version %d of document %d: %w", v.No, docID, err)
	}
	return nil
}

// currentVersionNo returns the highest version recorded of a document's
// file, 0 when none is (a draft's first file predates its version rows).
func currentVersionNo(ctx context.Context, q store.Queryer, docID int64) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, q.Rebind(`SELECT COALESCE(MAX(version_no), 0) FROM record_versions WHERE document_id = ?`), docID).Scan(&n); err != nil {
		return 0, fmt.Errorf("records: versions of document %d: %w", docID, err)
	}
	return n, nil
}

// keepVersionBytes moves the current file's sealed bytes to its version
// row, as a new version takes its place.
func keepVersionBytes(ctx context.Context, tx *store.Tx, docID int64, no int, sealed []byte) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_versions SET sealed = ? WHERE document_id = ? AND version_no = ?`), sealed, docID, no)
	return err
}

// replaceContent makes a new version the document's file; the data key
// stays.
func replaceContent(ctx context.Context, tx *store.Tx, docID int64, c ContentInfo, sealed []byte) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_contents SET filename = ?, media_type = ?, size = ?, sha256 = ?, sealed = ?
		WHERE document_id = ?`), c.Filename, c.MediaType, c.Size, c.SHA256, sealed, docID)
	if err != nil {
		return fmt.Errorf("records: store the new version of document %d: %w", docID, err)
	}
	return nil
}

// listVersions lists a document's versions, oldest first; a file without
// version rows (the draft's first) is version 1, by the document's author.
func listVersions(ctx context.Context, q store.Queryer, r *row) ([]Version, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT version_no, filename, media_type, size, sha256, author_id, note, at_us
		FROM record_versions WHERE document_id = ? ORDER BY version_no`), r.ID)
	if err != nil {
		return nil, fmt.Errorf("records: versions: %w", err)
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		var v Version
		var at int64
		if err := rows.Scan(&v.No, &v.Filename, &v.MediaType, &v.Size, &v.SHA256, &v.AuthorID, &v.Note, &at); err != nil {
			return nil, err
		}
		v.At = store.FromMicros(at)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		c, ok, err := loadContent(ctx, q, r.ID)
		if err != nil || !ok {
			return out, err
		}
		out = append(out, Version{No: 1, Filename: c.Filename, MediaType: c.MediaType, Size: c.Size, SHA256: c.SHA256, AuthorID: r.AuthorID, At: r.CreatedAt})
	}
	out[len(out)-1].Current = true
	return out, nil
}

// loadVersion returns version no of a document's file, with its sealed
// bytes when it is an older one (nil: the current file).
func loadVersion(ctx context.Context, q store.Queryer, docID int64, no int) (Version, []byte, error) {
	var v Version
	var sealed []byte
	var at int64
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT version_no, filename, media_type, size, sha256, sealed, author_id, note, at_us
		FROM record_versions WHERE document_id = ? AND version_no = ?`), docID, no).
		Scan(&v.No, &v.Filename, &v.MediaType, &v.Size, &v.SHA256, &sealed, &v.AuthorID, &v.Note, &at)
	if errors.Is(err, sql.ErrNoRows) {
		if cur, err := currentVersionNo(ctx, q, docID); err == nil && cur == 0 && no == 1 {
			return Version{No: 1}, nil, nil // the first file, never revised
		}
		return Version{}, nil, fmt.Errorf("%w: document %d has no version %d", errs.ErrNotFound, docID, no)
	}
	if err != nil {
		return Version{}, nil, fmt.Errorf("records: version %d of document %d: %w", no, docID, err)
	}
	v.At = store.FromMicros(at)
	return v, sealed, nil
}

func insertComment(ctx context.Context, tx *store.Tx, docID int64, c *Comment) error {
	return tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO record_comments (document_id, version_no, reply_to, author_id, body, at_us)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), docID, c.VersionNo, store.NullID(c.ReplyTo), c.AuthorID, c.Body, store.Micros(c.At)).Scan(&c.ID)
}

// commentOn reports whether comment id is on document docID.
func commentOn(ctx context.Context, q store.Queryer, docID, id int64) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT COUNT(*) FROM record_comments WHERE id = ? AND document_id = ?`), id, docID).Scan(&n)
	return n == 1, err
}

func listComments(ctx context.Context, q store.Queryer, docID int64) ([]Comment, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, version_no, reply_to, author_id, body, at_us FROM record_comments
		WHERE document_id = ? ORDER BY id`), docID)
	if err != nil {
		return nil, fmt.Errorf("records: comments: %w", err)
	}
	defer rows.Close()
	out := []Comment{}
	for rows.Next() {
		var c Comment
		var reply sql.NullInt64
		var at int64
		if err := rows.Scan(&c.ID, &c.VersionNo, &reply, &c.AuthorID, &c.Body, &at); err != nil {
			return nil, err
		}
		c.ReplyTo, c.At = reply.Int64, store.FromMicros(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

func insertReview(ctx context.Context, tx *store.Tx, docID int64, rv Review) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_reviews (document_id, round, reviewer_id, requested_by, requested_us)
		VALUES (?, ?, ?, ?, ?)`), docID, rv.Round, rv.ReviewerID, rv.RequestedBy, store.Micros(rv.RequestedAt))
	if isForeignKeyViolation(err) {
		return errs.Invalid("reviewers", fmt.Sprintf("no member of staff has id %d", rv.ReviewerID))
	}
	return err
}

// lastRound returns the review chain's latest round, 0 before any.
func lastRound(ctx context.Context, q store.Queryer, docID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT COALESCE(MAX(round), 0) FROM record_reviews WHERE document_id = ?`), docID).Scan(&n)
	return n, err
}

// decidePending sets the decision of the round's pending reviews (of
// every reviewer when reviewer is 0) and returns how many it set.
func decidePending(ctx context.Context, tx *store.Tx, docID int64, round int, reviewer int64, decision, reason string, at time.Time) error {
	_, err := decideReviews(ctx, tx, docID, round, reviewer, decision, reason, at)
	return err
}

// decideMine sets the caller's pending review of the round and reports
// whether there was one.
func decideMine(ctx context.Context, tx *store.Tx, docID int64, round int, reviewer int64, decision, reason string, at time.Time) (bool, error) {
	n, err := decideReviews(ctx, tx, docID, round, reviewer, decision, reason, at)
	return n == 1, err
}

func decideReviews(ctx context.Context, tx *store.Tx, docID int64, round int, reviewer int64, decision, reason string, at time.Time) (int64, error) {
	q := `UPDATE record_reviews SET decision = ?, reason = ?, decided_us = ? WHERE document_id = ? AND round = ? AND decision = ''`
	args := []any{decision, reason, store.Micros(at), docID, round}
	if reviewer != 0 {
		q += ` AND reviewer_id = ?`
		args = append(args, reviewer)
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
	if err != nil {
		return 0, fmt.Errorf("records: record the review: %w", err)
	}
	return res.RowsAffected()
}

func pendingInRound(ctx context.Context, q store.Queryer, docID int64, round int) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT COUNT(*) FROM record_reviews WHERE document_id = ? AND round = ? AND decision = ''`),
		docID, round).Scan(&n)
	return n, err
}

func listReviews(ctx context.Context, q store.Queryer, docID int64) ([]Review, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, round, reviewer_id, requested_by, requested_us, decision, reason, decided_us
		FROM record_reviews WHERE document_id = ? ORDER BY round, id`), docID)
	if err != nil {
		return nil, fmt.Errorf("records: reviews: %w", err)
	}
	defer rows.Close()
	out := []Review{}
	for rows.Next() {
		var rv Review
		var req, dec int64
		if err := rows.Scan(&rv.ID, &rv.Round, &rv.ReviewerID, &rv.RequestedBy, &req, &rv.Decision, &rv.Reason, &dec); err != nil {
			return nil, err
		}
		rv.RequestedAt, rv.DecidedAt = store.FromMicros(req), store.FromMicros(dec)
		out = append(out, rv)
	}
	return out, rows.Err()
}

// pendingReviewsOf lists the documents whose review awaits staffID.
func pendingReviewsOf(ctx context.Context, q store.Queryer, staffID int64) ([]int64, error) {
	return int64s(ctx, q, `SELECT document_id FROM record_reviews WHERE reviewer_id = ? AND decision = '' ORDER BY document_id`, staffID)
}

// staffSubject returns the access subject of an active member of staff
// (their unit, roles and clearance), and whether there is one.
func staffSubject(ctx context.Context, q store.Queryer, id int64) (authz.Subject, bool, error) {
	var unit int64
	var roles string
	var clearance, disabled int
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT unit_id, roles, clearance, CASE WHEN disabled THEN 1 ELSE 0 END FROM staff WHERE id = ?`), id).
		Scan(&unit, &roles, &clearance, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return authz.Subject{}, false, nil
	}
	if err != nil {
		return authz.Subject{}, false, fmt.Errorf("records: staff %d: %w", id, err)
	}
	rs, err := parseRoles(roles)
	if err != nil || disabled != 0 {
		return authz.Subject{}, false, nil
	}
	return authz.Subject{Kind: authz.Staff, ID: id, Unit: unit, Roles: rs, Clearance: authz.Level(clearance)}, true, nil
}

func parseRoles(s string) (authz.Roles, error) {
	if s == "" {
		return 0, nil
	}
	return authz.ParseRoles(strings.Split(s, ","))
}

// unitName returns a unit's name (Vietnamese) and kind, and whether it
// exists.
func unitName(ctx context.Context, q store.Queryer, id int64) (name, kind string, ok bool, err error) {
	err = q.QueryRowContext(ctx, q.Rebind(`SELECT name_vi, kind FROM units WHERE id = ?`), id).Scan(&name, &kind)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	return name, kind, err == nil, err
}

func insertRecipient(ctx context.Context, tx *store.Tx, docID int64, rc Recipient) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_recipients (document_id, kind, unit_id, name, code) VALUES (?, ?, ?, ?, ?)`),
		docID, string(rc.Kind), store.NullID(rc.UnitID), rc.Name, rc.Code)
	return err
}

// listRecipients lists an issued document's distribution list in the
// order it was given.
func listRecipients(ctx context.Context, q store.Queryer, docID int64) ([]Recipient, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT kind, unit_id, name, code FROM record_recipients WHERE document_id = ? ORDER BY id`), docID)
	if err != nil {
		return nil, fmt.Errorf("records: recipients: %w", err)
	}
	defer rows.Close()
	out := []Recipient{}
	for rows.Next() {
		var rc Recipient
		var unit sql.NullInt64
		if err := rows.Scan(&rc.Kind, &unit, &rc.Name, &rc.Code); err != nil {
			return nil, err
		}
		rc.UnitID = unit.Int64
		out = append(out, rc)
	}
	return out, rows.Err()
}

// Recipients returns an issued document's distribution list, for the
// exchange's code that sends it to missions and agencies. It reads as the
// node itself: the caller decides what it may send.
func (s *Service) Recipients(ctx context.Context, docID int64) ([]Recipient, error) {
	return listRecipients(ctx, s.db, docID)
}

func insertReplacement(ctx context.Context, tx *store.Tx, docID, replaces int64) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_replacements (document_id, replaces_id) VALUES (?, ?)`), docID, replaces)
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("%w: document %d is already replaced", errs.ErrConflict, replaces)
	}
	return err
}

// loadReplacement returns the document docID replaces and the one
// replacing it (0: none).
func loadReplacement(ctx context.Context, q store.Queryer, docID int64) (replaces, replacedBy int64, err error) {
	for _, l := range []struct {
		query string
		dst   *int64
	}{
		{`SELECT replaces_id FROM record_replacements WHERE document_id = ?`, &replaces},
		{`SELECT document_id FROM record_replacements WHERE replaces_id = ?`, &replacedBy},
	} {
		if err := q.QueryRowContext(ctx, q.Rebind(l.query), docID).Scan(l.dst); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, 0, fmt.Errorf("records: replacement of document %d: %w", docID, err)
		}
	}
	return replaces, replacedBy, nil
}

// staffNames returns the full names of the staff with ids, for the pages.
func staffNames(ctx context.Context, q store.Queryer, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, full_name FROM staff WHERE id IN (`+marks+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("records: staff names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// StaffChoice is a member of staff a page offers to choose.
type StaffChoice struct {
	ID   int64
	Name string
}

// reviewerChoices lists the active staff of a unit who could approve a
// document of the unit at level l: authz decides on each one's roles and
// clearance.
func reviewerChoices(ctx context.Context, q store.Queryer, r *row) ([]StaffChoice, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, full_name, roles, clearance FROM staff
		WHERE unit_id = ? AND NOT disabled ORDER BY full_name, id`), r.UnitID)
	if err != nil {
		return nil, fmt.Errorf("records: reviewers: %w", err)
	}
	defer rows.Close()
	var out []StaffChoice
	for rows.Next() {
		var c StaffChoice
		var roles string
		var clearance int
		if err := rows.Scan(&c.ID, &c.Name, &roles, &clearance); err != nil {
			return nil, err
		}
		rs, err := parseRoles(roles)
		if err != nil {
			continue
		}
		who := authz.Subject{Kind: authz.Staff, ID: c.ID, Unit: r.UnitID, Roles: rs, Clearance: authz.Level(clearance)}
		if allow(who, authz.Approve, authz.KindDocument, r) == nil {
			out = append(out, c)
		}
	}
	return out, rows.Err()
}

// UnitChoice is a unit a page offers to choose, with its kind.
type UnitChoice struct {
	ID   int64
	Name string
	Kind string
}

// unitChoices lists the units of the directory by name in lang, missions
// apart (Kind "mission").
func unitChoices(ctx context.Context, q store.Queryer, lang i18n.Lang) ([]UnitChoice, error) {
	col := "name_vi"
	if lang == i18n.EN {
		col = "name_en"
	}
	rows, err := q.QueryContext(ctx, `SELECT id, `+col+`, kind FROM units ORDER BY kind, `+col+`, id`)
	if err != nil {
		return nil, fmt.Errorf("records: units: %w", err)
	}
	defer rows.Close()
	var out []UnitChoice
	for rows.Next() {
		var c UnitChoice
		if err := rows.Scan(&c.ID, &c.Name, &c.Kind); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
