package architecture

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"

	"chancery/internal/architecture/archimate"
	"chancery/internal/audit"
	"chancery/internal/errs"
)

// referenceJSON is the national framework's shared platforms and databases
// as reference content: read-only elements the ministry's model links to.
//
//go:embed reference.json
var referenceJSON []byte

type referenceContent struct {
	Elements      []Element      `json:"elements"`
	Relationships []Relationship `json:"relationships"`
}

// Reference returns the shipped reference content, checked.
func Reference() ([]Element, []Relationship, error) {
	var rc referenceContent
	if err := json.Unmarshal(referenceJSON, &rc); err != nil {
		return nil, nil, fmt.Errorf("architecture: reference.json: %w", err)
	}
	types := map[string]string{}
	for i := range rc.Elements {
		e := &rc.Elements[i]
		e.Origin = OriginReference
		if err := e.validate(); err != nil {
			return nil, nil, fmt.Errorf("architecture: reference element %s: %w", e.ID, err)
		}
		types[e.ID] = e.Type
	}
	for i := range rc.Relationships {
		r := &rc.Relationships[i]
		r.Origin = OriginReference
		if err := archimate.CheckRelationship(r.Type, archimate.Endpoint{Type: types[r.Source]}, archimate.Endpoint{Type: types[r.Target]}); err != nil {
			return nil, nil, fmt.Errorf("architecture: reference relationship %s: %w", r.ID, err)
		}
	}
	return rc.Elements, rc.Relationships, nil
}

// SyncReference brings the stored reference content in line with the
// shipped one, as the node itself: what is new is created, what changed
// is updated (a new version in the history); nothing else is touched. It
// runs at start.
func (s *Service) SyncReference(ctx context.Context) error {
	els, rels, err := Reference()
	if err != nil {
		return err
	}
	ctx = audit.WithOrigin(ctx, audit.Origin{Actor: audit.System("architecture")})
	return s.syncOrigin(ctx, "architecture.reference.sync", OriginReference, els, rels)
}

// syncOrigin writes els and rels of origin where they differ from what is
// stored; it refuses to overwrite another origin's concept.
func (s *Service) syncOrigin(ctx context.Context, action string, origin Origin, els []Element, rels []Relationship) error {
	cur, err := currentSnapshot(ctx, s.db)
	if err != nil {
		return err
	}
	have := map[string]Element{}
	for _, e := range cur.Elements {
		have[e.ID] = e
	}
	haveRel := map[string]Relationship{}
	for _, r := range cur.Relationships {
		haveRel[r.ID] = r
	}
	var todoEl []Element
	for _, e := range els {
		old, ok := have[e.ID]
		if ok {
			e.Version, e.UpdatedAt = old.Version, old.UpdatedAt
			if sameJSON(old, e) {
				continue
			}
		}
		todoEl = append(todoEl, e)
	}
	var todoRel []Relationship
	for _, r := range rels {
		old, ok := haveRel[r.ID]
		if ok {
			r.Version, r.UpdatedAt = old.Version, old.UpdatedAt
			if sameJSON(old, r) {
				continue
			}
		}
		todoRel = append(todoRel, r)
	}
	if len(todoEl) == 0 && len(todoRel) == 0 {
		return nil
	}
	return s.edit(ctx, action, string(origin), func(c *change) error {
		for i := range todoEl {
			e := &todoEl[i]
			old, err := getElement(ctx, c.tx, e.ID)
			exists := err == nil
			if err != nil && !errors.Is(err, errs.ErrNotFound) {
				return err
			}
			if exists && old.Origin != origin {
				return fmt.Errorf("%w: element %s is the model's own; %s content cannot take its identifier", errs.ErrConflict, e.ID, origin)
			}
			e.Version = old.Version
			if err := c.putElement(ctx, e, exists); err != nil {
				return err
			}
		}
		for i := range todoRel {
			r := &todoRel[i]
			old, err := getRelationship(ctx, c.tx, r.ID)
			exists := err == nil
			if err != nil && !errors.Is(err, errs.ErrNotFound) {
				return err
			}
			if exists && old.Origin != origin {
				return fmt.Errorf("%w: relationship %s is the model's own; %s content cannot take its identifier", errs.ErrConflict, r.ID, origin)
			}
			r.Version = old.Version
			if err := c.putRelationship(ctx, r, exists); err != nil {
				return err
			}
		}
		return nil
	})
}
