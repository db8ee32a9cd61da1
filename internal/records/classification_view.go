package records

// The classified archive as its keepers see it (the security officers,
// the units' leaders, the archivists: authz's KindClassification Read):
// the classified items they may know of by level, each one's
// classification record, and its explicit need-to-know grants, which may
// be revoked.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// maxArchiveItems bounds the archive's list of one level.
const maxArchiveItems = 200

// ArchiveItem is a classified document as the archive lists it.
type ArchiveItem struct {
	*Document
	ProtectUntil time.Time
	// Pending is a top-secret change awaiting its second person.
	Pending *Pending
}

// Archive returns the classified documents sub may know of, at level l
// (any classified level for authz.Unclassified), highest level first,
// newest first within a level, at most maxArchiveItems.
func (s *Service) Archive(ctx context.Context, sub authz.Subject, l authz.Level) ([]ArchiveItem, error) {
	res := authz.Resource{Kind: authz.KindClassification}
	if dec, why := authz.Decide(sub, authz.Read, res); dec != authz.Allowed {
		return nil, authz.Refuse(dec, why, authz.Read, res, "")
	}
	if !l.Valid() {
		return nil, errs.Invalid("level", "use confidential, secret or top_secret")
	}
	where, args := visibleClause(sub, s.now())
	if l == authz.Unclassified {
		where += ` AND d.level > 0`
	} else {
		where += ` AND d.level = ?`
		args = append(args, int(l))
	}
	rows, err := queryDocuments(ctx, s.db, `SELECT `+prefixed(documentColumns, "d.")+` FROM record_documents d WHERE `+where+
		` ORDER BY d.level DESC, d.id DESC LIMIT `+strconv.Itoa(maxArchiveItems), args)
	if err != nil {
		return nil, err
	}
	out := make([]ArchiveItem, 0, len(rows))
	for _, r := range rows {
		// The query mirrors authz's first checks; the capacity is asked
		// of each item too, so the list shows only what Decide allows.
		if allow(sub, authz.Read, authz.KindClassification, r) != nil {
			continue
		}
		p, err := loadPending(ctx, s.db, r.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, ArchiveItem{Document: &r.Document, ProtectUntil: r.class.ProtectUntil, Pending: p})
	}
	return out, nil
}

// ClassificationView is a document's classification record with its
// history, pending change and grants, as its keepers see it.
type ClassificationView struct {
	*Document
	Record Classification
	Grants []Grant
}

// ClassificationOf returns document id's classification record to those
// who keep the archive (KindClassification Read); to anyone else, and for
// an item above the caller's clearance or of a unit they may not know,
// it answers as a missing document. Each viewing is recorded in the audit
// ledger at the item's level.
func (s *Service) ClassificationOf(ctx context.Context, sub authz.Subject, id int64) (*ClassificationView, error) {
	now := s.now()
	r, err := loadDocument(ctx, s.db, id, now, false)
	if err != nil {
		return nil, err
	}
	if err := allow(sub, authz.Read, authz.KindClassification, r); err != nil {
		return nil, err
	}
	v := &ClassificationView{Document: &r.Document, Record: r.class}
	if v.Record.History, err = listClassificationEvents(ctx, s.db, id); err != nil {
		return nil, err
	}
	if v.Record.Pending, err = loadPending(ctx, s.db, id); err != nil {
		return nil, err
	}
	if v.Grants, err = listGrants(ctx, s.db, id); err != nil {
		return nil, err
	}
	if err := s.recordRead(ctx, "document.classification.read", r); err != nil {
		return nil, err
	}
	return v, nil
}

// RevokeGrant ends an explicit need-to-know grant now, in the capacity
// that grants it (KindDocumentGrant Create); the grant stays in the list,
// expired. A grant already ended is refused with errs.ErrConflict.
func (s *Service) RevokeGrant(ctx context.Context, sub authz.Subject, id, grantID int64) error {
	err := s.archive(ctx, sub, id, authz.KindDocumentGrant, authz.Create, func(tx *store.Tx, o audit.Origin, r *row, now time.Time) (audit.Event, error) {
		g, err := loadGrant(ctx, tx, r.ID, grantID)
		if err != nil {
			return audit.Event{}, err
		}
		if !g.ExpiresAt.After(now) {
			return audit.Event{}, fmt.Errorf("%w: grant %d has already ended", errs.ErrConflict, grantID)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_grants SET expires_us = ? WHERE id = ?`), store.Micros(now), grantID); err != nil {
			return audit.Event{}, fmt.Errorf("records: revoke grant %d: %w", grantID, err)
		}
		return event(o, "document.grant.revoke", r, map[string]string{"staff_id": strconv.FormatInt(g.StaffID, 10),
			"grant": strconv.FormatInt(grantID, 10)}), nil
	})
	return wrapArchive("revoke a grant on", id, err)
}

// listGrants lists a document's explicit grants, newest first, in force
// or not.
func listGrants(ctx context.Context, q store.Queryer, docID int64) ([]Grant, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, staff_id, reason, granted_by, expires_us, created_us FROM record_grants
		WHERE document_id = ? ORDER BY id DESC`), docID)
	if err != nil {
		return nil, fmt.Errorf("records: grants: %w", err)
	}
	defer rows.Close()
	out := []Grant{}
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func loadGrant(ctx context.Context, q store.Queryer, docID, id int64) (Grant, error) {
	g, err := scanGrant(q.QueryRowContext(ctx, q.Rebind(`SELECT id, staff_id, reason, granted_by, expires_us, created_us FROM record_grants
		WHERE id = ? AND document_id = ?`), id, docID))
	if errors.Is(err, sql.ErrNoRows) {
		return Grant{}, fmt.Errorf("%w: document %d has no grant %d", errs.ErrNotFound, docID, id)
	}
	return g, err
}

func scanGrant(sc interface{ Scan(...any) error }) (Grant, error) {
	var g Grant
	var expires, at int64
	if err := sc.Scan(&g.ID, &g.StaffID, &g.Reason, &g.GrantedBy, &expires, &at); err != nil {
		return Grant{}, err
	}
	g.ExpiresAt, g.At = store.FromMicros(expires), store.FromMicros(at)
	return g, nil
}

// grantableStaff lists the active staff cleared for level l, by name with
// their unit's code: whom a grant may name (it gives need-to-know, never
// clearance).
func grantableStaff(ctx context.Context, q store.Queryer, l authz.Level) ([]StaffChoice, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT s.id, s.full_name, u.code FROM staff s JOIN units u ON u.id = s.unit_id
		WHERE s.clearance >= ? AND NOT s.disabled ORDER BY s.full_name, s.id LIMIT 500`), int(l))
	if err != nil {
		return nil, fmt.Errorf("records: staff to grant: %w", err)
	}
	defer rows.Close()
	var out []StaffChoice
	for rows.Next() {
		var c StaffChoice
		var code string
		if err := rows.Scan(&c.ID, &c.Name, &code); err != nil {
			return nil, err
		}
		c.Name += " (" + code + ")"
		out = append(out, c)
	}
	return out, rows.Err()
}
