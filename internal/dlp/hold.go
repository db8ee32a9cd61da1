package dlp

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/web"
)

// Status is where a hold stands.
type Status string

// The statuses: held until a security officer approves or rejects it; an
// approved item is released when its sender sends it again.
const (
	StatusHeld     Status = "held"
	StatusApproved Status = "approved"
	StatusRejected Status = "rejected"
	StatusReleased Status = "released"
)

// Hold is an item held for a security officer's approval: what was
// found in it, by whom it was sent where, never its content.
type Hold struct {
	ID            int64          `json:"id"`
	Way           Way            `json:"way"`
	Actor         audit.Actor    `json:"actor"`
	UnitID        int64          `json:"unit_id,omitempty"`
	Destination   string         `json:"destination"`
	Item          string         `json:"item"`
	Digest        string         `json:"digest"`
	Size          int64          `json:"size"`
	Level         authz.Level    `json:"level"`
	Findings      map[string]int `json:"findings"`
	Reasons       []string       `json:"reasons"`
	PolicyVersion int            `json:"policy_version"`
	Status        Status         `json:"status"`
	CreatedAt     time.Time      `json:"created_at"`
	DecidedAt     time.Time      `json:"decided_at,omitzero"`
	DecidedBy     int64          `json:"decided_by,omitempty"`
	Note          string         `json:"note,omitempty"`
	ReleasedAt    time.Time      `json:"released_at,omitzero"`
}

// The resources of authz that DLP's records are.
var (
	holdResource   = authz.Resource{Kind: authz.KindHeldItem}
	policyResource = authz.Resource{Kind: authz.KindDLPPolicy}
)

func decide(sub authz.Subject, a authz.Action, r authz.Resource, id string) error {
	if d, reason := authz.Decide(sub, a, r); d != authz.Allowed {
		return authz.Refuse(d, reason, a, r, id)
	}
	return nil
}

const holdColumns = `id, way, actor_kind, actor_id, actor_name, unit_id, destination, item, digest, size, level, findings, reasons,
	policy_version, status, created_us, decided_us, decided_by, note, released_us`

func scanHold(row interface{ Scan(...any) error }) (Hold, error) {
	var h Hold
	var findings, reasons string
	var created, decided, released int64
	var by sql.NullInt64
	err := row.Scan(&h.ID, &h.Way, &h.Actor.Kind, &h.Actor.ID, &h.Actor.Name, &h.UnitID, &h.Destination, &h.Item, &h.Digest, &h.Size,
		&h.Level, &findings, &reasons, &h.PolicyVersion, &h.Status, &created, &decided, &by, &h.Note, &released)
	if err != nil {
		return Hold{}, err
	}
	if err := json.Unmarshal([]byte(findings), &h.Findings); err != nil {
		return Hold{}, fmt.Errorf("hold %d's findings: %w", h.ID, err)
	}
	if err := json.Unmarshal([]byte(reasons), &h.Reasons); err != nil {
		return Hold{}, fmt.Errorf("hold %d's reasons: %w", h.ID, err)
	}
	h.CreatedAt, h.DecidedBy = store.FromMicros(created), by.Int64
	if decided != 0 {
		h.DecidedAt = store.FromMicros(decided)
	}
	if released != 0 {
		h.ReleasedAt = store.FromMicros(released)
	}
	return h, nil
}

func insertHold(ctx context.Context, tx *store.Tx, h Hold) (int64, error) {
	findings, err := json.Marshal(h.Findings)
	if err != nil {
		return 0, err
	}
	reasons, err := json.Marshal(h.Reasons)
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO dlp_holds (way, actor_kind, actor_id, actor_name, unit_id, destination, item,
		digest, size, level, findings, reasons, policy_version, status, created_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		h.Way, h.Actor.Kind, h.Actor.ID, h.Actor.Name, h.UnitID, h.Destination, h.Item, h.Digest, h.Size, h.Level, string(findings),
		string(reasons), h.PolicyVersion, h.Status, store.Micros(h.CreatedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store a hold: %w", err)
	}
	return id, nil
}

// priorHold returns the latest hold of the same content sent by the same
// actor the same way to the same place that is not yet released, or nil.
func priorHold(ctx context.Context, tx *store.Tx, h Hold) (*Hold, error) {
	row := tx.QueryRowContext(ctx, tx.Rebind(`SELECT `+holdColumns+` FROM dlp_holds WHERE way = ? AND actor_kind = ? AND actor_id = ?
		AND destination = ? AND digest = ? AND status <> 'released' ORDER BY id DESC LIMIT 1`),
		h.Way, h.Actor.Kind, h.Actor.ID, h.Destination, h.Digest)
	p, err := scanHold(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look for a prior hold: %w", err)
	}
	return &p, nil
}

// releaseHold marks an approved hold released; it fails if another
// sending released it first, so an approval lets the item go once.
func releaseHold(ctx context.Context, tx *store.Tx, id int64, now time.Time) error {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE dlp_holds SET status = 'released', released_us = ? WHERE id = ? AND status = 'approved'`),
		store.Micros(now), id)
	if err != nil {
		return fmt.Errorf("release hold %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%w: hold %d was released by another sending at the same moment; send it again", errs.ErrConflict, id)
	}
	return nil
}

// errNoHold is a hold that does not exist (or that the caller may not
// see: the route already refuses whoever may not read holds).
func errNoHold(id int64) error { return fmt.Errorf("%w: no hold %d", errs.ErrNotFound, id) }

// HoldFilter selects holds to list.
type HoldFilter struct {
	// Status is the holds' status; empty for every status.
	Status Status
	// After is the cursor: holds with a smaller id than it (newest first).
	After int64
	// Limit bounds the page; 0 or more than MaxLimit means MaxLimit.
	Limit int
}

// MaxLimit bounds a page of holds.
const MaxLimit = 100

// Holds returns a page of holds, newest first, and the cursor of the
// next page (0 at the end), to whoever may read held items.
func (s *Service) Holds(ctx context.Context, sub authz.Subject, f HoldFilter) ([]Hold, int64, error) {
	if err := decide(sub, authz.Read, holdResource, ""); err != nil {
		return nil, 0, err
	}
	if f.Status != "" && !slices.Contains([]Status{StatusHeld, StatusApproved, StatusRejected, StatusReleased}, f.Status) {
		return nil, 0, errs.Invalid("status", fmt.Sprintf("must be held, approved, rejected or released, not %q", web.Clip(string(f.Status))))
	}
	if f.Limit <= 0 || f.Limit > MaxLimit {
		f.Limit = MaxLimit
	}
	q, args := `SELECT `+holdColumns+` FROM dlp_holds WHERE 1 = 1`, []any{}
	if f.Status != "" {
		q, args = q+` AND status = ?`, append(args, f.Status)
	}
	if f.After > 0 {
		q, args = q+` AND id < ?`, append(args, f.After)
	}
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(q+` ORDER BY id DESC LIMIT ?`), append(args, f.Limit+1)...)
	if err != nil {
		return nil, 0, fmt.Errorf("dlp: list holds: %w", err)
	}
	defer rows.Close()
	out := []Hold{}
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("dlp: list holds: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("dlp: list holds: %w", err)
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// CountHeld returns how many items wait for a decision.
func (s *Service) CountHeld(ctx context.Context, sub authz.Subject) (int, error) {
	if err := decide(sub, authz.Read, holdResource, ""); err != nil {
		return 0, err
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dlp_holds WHERE status = 'held'`).Scan(&n)
	return n, err
}

// Hold returns hold id to whoever may read held items.
func (s *Service) Hold(ctx context.Context, sub authz.Subject, id int64) (Hold, error) {
	if err := decide(sub, authz.Read, holdResource, strconv.FormatInt(id, 10)); err != nil {
		return Hold{}, err
	}
	h, err := scanHold(s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT `+holdColumns+` FROM dlp_holds WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Hold{}, errNoHold(id)
	}
	if err != nil {
		return Hold{}, fmt.Errorf("dlp: hold %d: %w", id, err)
	}
	return h, nil
}

// MaxNote bounds a decision's note.
const MaxNote = 1000

// Decide approves (approve true) or rejects hold id as sub, with a note
// (required to reject: the sender's security officer reads it). Only a
// held item is decided, once: of two decisions at the same moment one
// wins and the other is errs.ErrConflict. Nobody decides on what they
// sent themselves (errs.ErrForbidden).
func (s *Service) Decide(ctx context.Context, sub authz.Subject, id int64, approve bool, note string) (Hold, error) {
	if err := decide(sub, authz.Approve, holdResource, strconv.FormatInt(id, 10)); err != nil {
		return Hold{}, err
	}
	note = strings.TrimSpace(note)
	if err := web.CheckText("note", note); err != nil {
		return Hold{}, err
	}
	switch {
	case len(note) > MaxNote:
		return Hold{}, errs.Invalid("note", fmt.Sprintf("is %d bytes; at most %d", len(note), MaxNote))
	case !approve && note == "":
		return Hold{}, errs.Invalid("note", "say why it is rejected")
	}
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Hold{}, err
	}
	status, action := StatusRejected, "dlp.reject"
	if approve {
		status, action = StatusApproved, "dlp.approve"
	}
	var out Hold
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		h, err := scanHold(tx.QueryRowContext(ctx, tx.Rebind(`SELECT `+holdColumns+` FROM dlp_holds WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return errNoHold(id)
		}
		if err != nil {
			return err
		}
		if h.Actor.Kind == audit.ActorStaff && h.Actor.ID == strconv.FormatInt(sub.ID, 10) {
			return fmt.Errorf("%w: you sent this item; another security officer decides on it", errs.ErrForbidden)
		}
		now := s.now()
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE dlp_holds SET status = ?, decided_us = ?, decided_by = ?, note = ?
			WHERE id = ? AND status = 'held'`), status, store.Micros(now), sub.ID, note, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("%w: hold %d is no longer waiting (it is %s); reload the queue", errs.ErrConflict, id, h.Status)
		}
		h.Status, h.DecidedAt, h.DecidedBy, h.Note = status, now, sub.ID, note
		e := o.Event(action)
		e.ResourceType, e.ResourceID, e.Level = "dlp_hold", strconv.FormatInt(id, 10), h.Level
		e.Attrs = map[string]string{"way": string(h.Way), "found": foundAttr(h.Findings), "sender": h.Actor.ID}
		if note != "" {
			e.Attrs["note"] = audit.AttrValue(note)
		}
		out = h
		return s.rec.Record(ctx, tx, e)
	})
	if err != nil {
		return Hold{}, fmt.Errorf("dlp: decide hold %d: %w", id, err)
	}
	return out, nil
}
