package architecture

import (
	"context"
	"errors"
	"fmt"
	"time"

	"chancery/internal/architecture/archimate"
	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// Directory is what the repository needs of the identity directory: the
// units that own components.
type Directory interface {
	Unit(ctx context.Context, id int64) (identity.Unit, error)
	UnitByCode(ctx context.Context, code string) (identity.Unit, error)
}

// Options configure a Service. DB, Recorder and Directory are required.
type Options struct {
	DB        *store.DB
	Recorder  audit.Recorder
	Directory Directory
	// Now is the clock; if nil, store.Now.
	Now func() time.Time
	// MaxImportBytes bounds an exchange-format document. If zero, 64 MiB.
	MaxImportBytes int64
}

// Service is the architecture repository. Every change runs in one
// transaction with its history rows and its audit event. It is safe for
// concurrent use.
type Service struct {
	opts Options
	db   *store.DB
	rec  audit.Writer
	prep prepared // the conformance rules, compiled
}

// NewService returns the service; it fails when a required option is missing.
func NewService(opts Options) (*Service, error) {
	if opts.DB == nil || opts.Recorder == nil || opts.Directory == nil {
		return nil, errors.New("architecture: NewService needs DB, Recorder and Directory")
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	return &Service{opts: opts, db: opts.DB, rec: audit.NewWriter("architecture", opts.Recorder)}, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// allow returns nil when sub may do a to the repository's kind, else an
// error of the kind Decide's refusal maps to.
func allow(sub authz.Subject, a authz.Action, kind authz.Kind) error {
	dec, why := authz.Decide(sub, a, authz.Resource{Kind: kind})
	switch dec {
	case authz.Allowed:
		return nil
	case authz.Concealed:
		return fmt.Errorf("%w: %s", errs.ErrNotFound, why)
	}
	if !sub.Authenticated() {
		return fmt.Errorf("%w: sign in first", errs.ErrUnauthenticated)
	}
	return fmt.Errorf("%w: %s %s: %s", errs.ErrForbidden, a, kind, why)
}

// change is what one edit writes: the history rows, and one audit event.
type change struct {
	s      *Service
	tx     *store.Tx
	at     time.Time
	actor  string
	counts map[string]int
}

// edit runs fn in a transaction recording its changes as actor, then
// appends one audit event of action with the counts of what changed.
func (s *Service) edit(ctx context.Context, action, resource string, fn func(c *change) error) error {
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return err
	}
	actor := string(o.Actor.Kind) + ":" + o.Actor.ID
	if o.Actor.Name != "" {
		actor += ":" + o.Actor.Name
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		c := &change{s: s, tx: tx, at: s.now(), actor: actor, counts: map[string]int{}}
		if err := fn(c); err != nil {
			return err
		}
		e := o.Event(action)
		e.Time = c.at
		e.ResourceType = "architecture"
		e.ResourceID = audit.AttrValue(resource)
		e.Attrs = map[string]string{}
		for k, n := range c.counts {
			e.Attrs[k] = fmt.Sprint(n)
		}
		return s.rec.Record(ctx, tx, e)
	})
}

// Element returns the element with id and the relationships from and to it.
// Returns an error wrapping errs.ErrNotFound if there is none.
func (s *Service) Element(ctx context.Context, sub authz.Subject, id string) (Element, []Relationship, error) {
	if err := allow(sub, authz.Read, authz.KindArchitecture); err != nil {
		return Element{}, nil, err
	}
	e, err := getElement(ctx, s.db, id)
	if err != nil {
		return Element{}, nil, err
	}
	rels, err := relationshipsOf(ctx, s.db, id)
	return e, rels, err
}

// Query filters Elements. Zero fields match everything.
type Query struct {
	Text   string // in the names, folded
	Type   string
	Layer  archimate.Layer
	Origin Origin
	Limit  int // if zero, 200; at most 1,000
}

// Elements lists the elements matching q, by name.
func (s *Service) Elements(ctx context.Context, sub authz.Subject, q Query) ([]Element, error) {
	if err := allow(sub, authz.Read, authz.KindArchitecture); err != nil {
		return nil, err
	}
	if err := checkText("q", q.Text, maxName); err != nil {
		return nil, err
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 200
	}
	return listElements(ctx, s.db, q)
}

// SaveElement creates e (when no element has its id) or updates it (when
// e.Version is the stored version; else errs.ErrConflict). Only the
// model's own elements are edited: reference content and discovered
// components refuse with errs.ErrConflict. The owner unit must exist.
func (s *Service) SaveElement(ctx context.Context, sub authz.Subject, e Element) (Element, error) {
	if err := allow(sub, authz.Update, authz.KindArchitecture); err != nil {
		return Element{}, err
	}
	e.Origin = OriginModel
	if err := e.validate(); err != nil {
		return Element{}, err
	}
	if e.OwnerUnit != 0 {
		if _, err := s.opts.Directory.Unit(ctx, e.OwnerUnit); errors.Is(err, errs.ErrNotFound) {
			return Element{}, errs.Invalid("owner_unit", fmt.Sprintf("no unit has id %d", e.OwnerUnit))
		} else if err != nil {
			return Element{}, err
		}
	}
	err := s.edit(ctx, "architecture.save_element", e.ID, func(c *change) error {
		old, err := getElement(ctx, c.tx, e.ID)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			if e.Version != 0 {
				return fmt.Errorf("%w: element %s does not exist; create it with version 0", errs.ErrNotFound, e.ID)
			}
		case err != nil:
			return err
		case old.Origin != OriginModel:
			return fmt.Errorf("%w: element %s is %s content, which is read-only", errs.ErrConflict, e.ID, old.Origin)
		case old.Version != e.Version:
			return fmt.Errorf("%w: element %s is at version %d, not %d: someone changed it; reload and edit again", errs.ErrConflict, e.ID, old.Version, e.Version)
		}
		if old.Type != "" && old.Type != e.Type {
			if n, err := countRelationshipsOf(ctx, c.tx, e.ID); err != nil {
				return err
			} else if n > 0 {
				return fmt.Errorf("%w: element %s has %d relationships; its type changes only without them", errs.ErrConflict, e.ID, n)
			}
		}
		return c.putElement(ctx, &e, err == nil)
	})
	return e, err
}

// DeleteElement deletes a model element that no relationship joins and no
// view shows; else errs.ErrConflict says what holds it.
func (s *Service) DeleteElement(ctx context.Context, sub authz.Subject, id string, version int64) error {
	if err := allow(sub, authz.Delete, authz.KindArchitecture); err != nil {
		return err
	}
	return s.edit(ctx, "architecture.delete_element", id, func(c *change) error {
		old, err := getElement(ctx, c.tx, id)
		if err != nil {
			return err
		}
		if old.Origin != OriginModel {
			return fmt.Errorf("%w: element %s is %s content, which is read-only", errs.ErrConflict, id, old.Origin)
		}
		if old.Version != version {
			return fmt.Errorf("%w: element %s is at version %d, not %d", errs.ErrConflict, id, old.Version, version)
		}
		if n, err := countRelationshipsOf(ctx, c.tx, id); err != nil {
			return err
		} else if n > 0 {
			return fmt.Errorf("%w: element %s has %d relationships; delete them first", errs.ErrConflict, id, n)
		}
		if v, err := viewShowing(ctx, c.tx, id); err != nil {
			return err
		} else if v != "" {
			return fmt.Errorf("%w: view %s shows element %s; remove it from the view first", errs.ErrConflict, v, id)
		}
		return c.delete(ctx, "element", id)
	})
}

// SaveRelationship creates or updates (by version, as SaveElement) a
// relationship of the model; ArchiMate 3.2's Appendix B decides whether
// its type is allowed between its source's and target's types.
func (s *Service) SaveRelationship(ctx context.Context, sub authz.Subject, r Relationship) (Relationship, error) {
	if err := allow(sub, authz.Update, authz.KindArchitecture); err != nil {
		return Relationship{}, err
	}
	r.Origin = OriginModel
	if err := checkID(r.ID); err != nil {
		return Relationship{}, err
	}
	if err := checkLangText("name", r.Name, maxName); err != nil {
		return Relationship{}, err
	}
	if err := checkLangText("documentation", r.Documentation, maxDoc); err != nil {
		return Relationship{}, err
	}
	if err := checkProps(r.Properties); err != nil {
		return Relationship{}, err
	}
	if r.AccessType != "" && (r.Type != "Access" || !archimate.IsAccessType(r.AccessType)) {
		return Relationship{}, errs.Invalid("access_type", "only an Access relationship has one: Access, Read, Write or ReadWrite")
	}
	err := s.edit(ctx, "architecture.relationship.save", r.ID, func(c *change) error {
		src, err := endpointOf(ctx, c.tx, r.Source)
		if err != nil {
			return errs.Invalid("source", err.Error())
		}
		tgt, err := endpointOf(ctx, c.tx, r.Target)
		if err != nil {
			return errs.Invalid("target", err.Error())
		}
		if err := archimate.CheckRelationship(r.Type, src, tgt); err != nil {
			return errs.Invalid("type", err.Error())
		}
		old, err := getRelationship(ctx, c.tx, r.ID)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			if r.Version != 0 {
				return fmt.Errorf("%w: relationship %s does not exist; create it with version 0", errs.ErrNotFound, r.ID)
			}
			if _, e2 := getElement(ctx, c.tx, r.ID); e2 == nil {
				return fmt.Errorf("%w: identifier %s is an element's", errs.ErrConflict, r.ID)
			}
		case err != nil:
			return err
		case old.Origin != OriginModel:
			return fmt.Errorf("%w: relationship %s is %s content, which is read-only", errs.ErrConflict, r.ID, old.Origin)
		case old.Version != r.Version:
			return fmt.Errorf("%w: relationship %s is at version %d, not %d: someone changed it; reload and edit again", errs.ErrConflict, r.ID, old.Version, r.Version)
		}
		return c.putRelationship(ctx, &r, err == nil)
	})
	return r, err
}

// DeleteRelationship deletes a model relationship at version.
func (s *Service) DeleteRelationship(ctx context.Context, sub authz.Subject, id string, version int64) error {
	if err := allow(sub, authz.Delete, authz.KindArchitecture); err != nil {
		return err
	}
	return s.edit(ctx, "architecture.relationship.delete", id, func(c *change) error {
		old, err := getRelationship(ctx, c.tx, id)
		if err != nil {
			return err
		}
		if old.Origin != OriginModel {
			return fmt.Errorf("%w: relationship %s is %s content, which is read-only", errs.ErrConflict, id, old.Origin)
		}
		if old.Version != version {
			return fmt.Errorf("%w: relationship %s is at version %d, not %d", errs.ErrConflict, id, old.Version, version)
		}
		if n, err := countRelationshipsOf(ctx, c.tx, id); err != nil {
			return err
		} else if n > 0 {
			return fmt.Errorf("%w: relationship %s is itself joined by %d relationships; delete them first", errs.ErrConflict, id, n)
		}
		return c.delete(ctx, "relationship", id)
	})
}

// History lists the changes of one item (kind and id), or of the whole
// repository when id is empty, newest first, before seq (0: from the newest).
func (s *Service) History(ctx context.Context, sub authz.Subject, kind, id string, before int64, limit int) ([]Change, error) {
	if err := allow(sub, authz.Read, authz.KindArchitecture); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return history(ctx, s.db, kind, id, before, limit)
}

// Snapshot is the whole repository at one moment.
type Snapshot struct {
	Info          ModelInfo
	Elements      []Element
	Relationships []Relationship
	Views         []archimate.View
}

// ModelInfo is the model's own name, documentation, properties,
// organisations and property definitions, as the last import gave them.
type ModelInfo struct {
	ID            string                  `json:"id"`
	Name          archimate.Text          `json:"name"`
	Documentation archimate.Text          `json:"documentation,omitempty"`
	Properties    []Property              `json:"properties,omitempty"`
	Organizations []archimate.Item        `json:"organizations,omitempty"`
	PropertyDefs  []archimate.PropertyDef `json:"property_definitions,omitempty"`
}

// Snapshot returns the repository as it is now, or as it stood at asOf
// (the last change at or before it of every concept) when asOf is not zero.
func (s *Service) Snapshot(ctx context.Context, sub authz.Subject, asOf time.Time) (*Snapshot, error) {
	if err := allow(sub, authz.Read, authz.KindArchitecture); err != nil {
		return nil, err
	}
	return s.snapshot(ctx, asOf)
}

func (s *Service) snapshot(ctx context.Context, asOf time.Time) (*Snapshot, error) {
	if asOf.IsZero() {
		return currentSnapshot(ctx, s.db)
	}
	return snapshotAsOf(ctx, s.db, asOf)
}

// View returns the view with id. Returns errs.ErrNotFound if there is none.
func (s *Service) View(ctx context.Context, sub authz.Subject, id string) (archimate.View, error) {
	if err := allow(sub, authz.Read, authz.KindArchitecture); err != nil {
		return archimate.View{}, err
	}
	return getView(ctx, s.db, id)
}

// Views lists the views' identifiers and names, by name.
func (s *Service) Views(ctx context.Context, sub authz.Subject) ([]ViewInfo, error) {
	if err := allow(sub, authz.Read, authz.KindArchitecture); err != nil {
		return nil, err
	}
	return listViews(ctx, s.db)
}

// ViewInfo names a view.
type ViewInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}
