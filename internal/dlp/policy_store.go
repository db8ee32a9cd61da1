package dlp

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/web"
)

// PolicyVersion is a saved version of the policy.
type PolicyVersion struct {
	Policy    Policy    `json:"policy"`
	Note      string    `json:"note,omitempty"`
	AuthorID  int64     `json:"author_id,omitempty"` // 0: the built-in first version
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// latestPolicy returns the policy in force: the latest saved, or the
// built-in first version while none is.
func latestPolicy(ctx context.Context, q store.Queryer) (Policy, error) {
	v, err := loadVersion(q.QueryRowContext(ctx, `SELECT version, body, note, author_id, created_us FROM dlp_policies ORDER BY version DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		p := DefaultPolicy()
		p.Version = 1
		return p, nil
	}
	return v.Policy, err
}

func loadVersion(row interface{ Scan(...any) error }) (PolicyVersion, error) {
	var v PolicyVersion
	var body string
	var author sql.NullInt64
	var created int64
	if err := row.Scan(&v.Policy.Version, &body, &v.Note, &author, &created); err != nil {
		return PolicyVersion{}, err
	}
	version := v.Policy.Version
	if err := json.Unmarshal([]byte(body), &v.Policy); err != nil {
		return PolicyVersion{}, fmt.Errorf("policy version %d: %w", version, err)
	}
	v.Policy.Version, v.AuthorID, v.CreatedAt = version, author.Int64, store.FromMicros(created)
	return v, nil
}

// Policy returns the policy in force to whoever may read it.
func (s *Service) Policy(ctx context.Context, sub authz.Subject) (Policy, error) {
	if err := decide(sub, authz.Read, policyResource, ""); err != nil {
		return Policy{}, err
	}
	return latestPolicy(ctx, s.db)
}

// PolicyVersions returns every saved version of the policy, newest first
// (the built-in first version last), to whoever may read it.
func (s *Service) PolicyVersions(ctx context.Context, sub authz.Subject) ([]PolicyVersion, error) {
	if err := decide(sub, authz.Read, policyResource, ""); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT version, body, note, author_id, created_us FROM dlp_policies ORDER BY version DESC LIMIT 100`)
	if err != nil {
		return nil, fmt.Errorf("dlp: list policy versions: %w", err)
	}
	defer rows.Close()
	var out []PolicyVersion
	for rows.Next() {
		v, err := loadVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("dlp: list policy versions: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dlp: list policy versions: %w", err)
	}
	if len(out) == 0 {
		p := DefaultPolicy()
		p.Version = 1
		out = append(out, PolicyVersion{Policy: p, Note: "built in"})
	}
	return out, nil
}

// SavePolicy saves p as the next version of the policy, as sub, if the
// version in force is still base (else errs.ErrConflict: another officer
// saved one since), and returns it as saved. The first save keeps the
// built-in policy as version 1 before it.
func (s *Service) SavePolicy(ctx context.Context, sub authz.Subject, base int, p Policy, note string) (Policy, error) {
	if err := decide(sub, authz.Update, policyResource, ""); err != nil {
		return Policy{}, err
	}
	if err := p.Check(); err != nil {
		return Policy{}, err
	}
	note = strings.TrimSpace(note)
	if err := web.CheckText("note", note); err != nil {
		return Policy{}, err
	}
	if len(note) > MaxNote {
		return Policy{}, errs.Invalid("note", fmt.Sprintf("is %d bytes; at most %d", len(note), MaxNote))
	}
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Policy{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		cur, err := latestPolicy(ctx, tx)
		if err != nil {
			return err
		}
		if cur.Version != base {
			return fmt.Errorf("%w: the policy changed since you opened it (version %d, not %d); reload it and make your change again", errs.ErrConflict, cur.Version, base)
		}
		now := s.now()
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM dlp_policies`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if err := insertPolicy(ctx, tx, cur, "built in", 0, now); err != nil {
				return err
			}
		}
		p.Version = cur.Version + 1
		if err := insertPolicy(ctx, tx, p, note, sub.ID, now); err != nil {
			return err
		}
		e := o.Event("dlp.save_policy")
		e.ResourceType, e.ResourceID = "dlp_policy", strconv.Itoa(p.Version)
		e.Attrs = map[string]string{"rules": strconv.Itoa(len(p.Rules))}
		if note != "" {
			e.Attrs["note"] = audit.AttrValue(note)
		}
		return s.rec.Record(ctx, tx, e)
	})
	if err != nil {
		return Policy{}, fmt.Errorf("dlp: save the policy: %w", err)
	}
	s.mu.Lock()
	s.policy, s.loadedAt = p, s.opts.Now()
	s.mu.Unlock()
	return p, nil
}

func insertPolicy(ctx context.Context, tx *store.Tx, p Policy, note string, author int64, now time.Time) error {
	v := p.Version
	p.Version = 0 // the row's key says it
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO dlp_policies (version, body, note, author_id, created_us) VALUES (?, ?, ?, ?, ?)`),
		v, string(body), note, store.NullID(author), store.Micros(now))
	if err != nil {
		return fmt.Errorf("store policy version %d: %w", v, err)
	}
	return nil
}
