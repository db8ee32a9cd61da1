package sentinel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Options configure a Service. DB and Recorder are required.
type Options struct {
	DB       *store.DB
	Recorder audit.Recorder
	// Now is the clock; if nil, store.Now.
	Now func() time.Time
}

// Service keeps the alerts and their triage. Every change runs in one
// transaction with its audit event. It is safe for concurrent use.
type Service struct {
	db  *store.DB
	rec audit.Writer
	now func() time.Time
}

// NewService returns the service, or an error naming a missing option.
func NewService(opts Options) (*Service, error) {
	if opts.DB == nil || opts.Recorder == nil {
		return nil, errors.New("sentinel: NewService needs DB and Recorder")
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	return &Service{db: opts.DB, rec: audit.NewWriter("sentinel", opts.Recorder), now: opts.Now}, nil
}

// alertResource is every alert, to Decide: the ministry's security
// monitoring, of no unit. An alert's evidence is the ledger's, which
// security officers and auditors read whole.
var alertResource = authz.Resource{Kind: authz.KindSentinelAlert}

func decide(sub authz.Subject, a authz.Action, id int64) error {
	if d, reason := authz.Decide(sub, a, alertResource); d != authz.Allowed {
		ref := ""
		if id != 0 {
			ref = strconv.FormatInt(id, 10)
		}
		return authz.Refuse(d, reason, a, alertResource, ref)
	}
	return nil
}

// List returns a page of alerts: new first, then investigating, then
// closed; by risk within each.
func (s *Service) List(ctx context.Context, sub authz.Subject, f Filter) (AlertPage, error) {
	if err := decide(sub, authz.Read, 0); err != nil {
		return AlertPage{}, err
	}
	f, err := f.clean()
	if err != nil {
		return AlertPage{}, err
	}
	return listAlerts(ctx, s.db, f)
}

// Alert returns alert id with its history.
func (s *Service) Alert(ctx context.Context, sub authz.Subject, id int64) (Alert, error) {
	if err := decide(sub, authz.Read, id); err != nil {
		return Alert{}, err
	}
	a, err := loadAlert(ctx, s.db, s.db.Dialect, id, false)
	if err != nil {
		return Alert{}, err
	}
	if a.History, err = history(ctx, s.db, id); err != nil {
		return Alert{}, err
	}
	return a, nil
}

// Risk returns user's risk over time: the risk at each of their alerts.
func (s *Service) Risk(ctx context.Context, sub authz.Subject, user string) ([]RiskPoint, error) {
	if err := decide(sub, authz.Read, 0); err != nil {
		return nil, err
	}
	return riskHistory(ctx, s.db, user)
}

// Update changes alert id's triage as sub. A stale version, or a move
// back to new, is errs.ErrConflict; bad text is an *errs.FieldError.
// Closing an alert of this node's tells the scorer its verdict (the
// watcher reads it in its next save).
func (s *Service) Update(ctx context.Context, sub authz.Subject, id int64, p Patch) (Alert, error) {
	if err := decide(sub, authz.Update, id); err != nil {
		return Alert{}, err
	}
	p, err := p.clean()
	if err != nil {
		return Alert{}, err
	}
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Alert{}, err
	}
	actor := o.Actor.Name
	if actor == "" {
		actor = o.Actor.ID
	}
	var out Alert
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		a, err := loadAlert(ctx, tx, tx.Dialect, id, true)
		if err != nil {
			return err
		}
		if a.Version != p.Version {
			return fmt.Errorf("%w: the alert changed since you read it (version %d, not %d); reload it and try again", errs.ErrConflict, a.Version, p.Version)
		}
		c := Change{At: s.now().UTC().Truncate(time.Microsecond), Actor: actor, From: a.Status, To: a.Status}
		if p.Status != nil {
			if *p.Status == StatusNew && a.Status != StatusNew {
				return fmt.Errorf("%w: an alert in triage does not go back to new; set it to investigating instead", errs.ErrConflict)
			}
			c.To = *p.Status
		}
		if p.Notes != nil && *p.Notes != a.Notes {
			c.Note = *p.Notes
			a.Notes = *p.Notes
		}
		if p.Assignee != nil {
			a.Assignee = *p.Assignee
		}
		c.Assignee = a.Assignee
		a.Status, a.Version, a.UpdatedAt = c.To, a.Version+1, c.At
		if err := updateTriage(ctx, tx, a, c); err != nil {
			return err
		}
		e := o.Event("sentinel.update_alert")
		e.ResourceType, e.ResourceID, e.Level = "sentinel_alert", strconv.FormatInt(a.ID, 10), authz.Unclassified
		e.Attrs = map[string]string{"rule": a.Rule, "from": string(c.From), "to": string(c.To), "version": strconv.Itoa(a.Version)}
		if a.User != "" {
			e.Attrs["user"] = audit.AttrValue(a.User)
		}
		if p.Notes != nil {
			e.Attrs["notes_changed"] = "true"
		}
		if a.Assignee != "" {
			e.Attrs["assignee"] = audit.AttrValue(a.Assignee)
		}
		if err := s.rec.Record(ctx, tx, e); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return Alert{}, fmt.Errorf("sentinel: update alert %d: %w", id, err)
	}
	out.History, err = history(ctx, s.db, id)
	return out, err
}
