package architecture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"chancery/internal/architecture/archimate"
	"chancery/internal/authz"
	"chancery/internal/errs"
)

// The properties through which the exchange format carries what the
// repository keeps beside ArchiMate's own fields, so that a model edited
// in Archi and imported again keeps its lifecycle, owner, cost,
// classification and origin. Reference models are "chancery:BRM" … "chancery:SRM".
const (
	propPrefix    = "chancery:"
	propOrigin    = propPrefix + "origin"
	propOwnerUnit = propPrefix + "owner-unit" // the unit's electronic agency code
	propCost      = propPrefix + "annual-cost"
	propLifecycle = propPrefix + "lifecycle."
)

// ImportResult counts what an import did.
type ImportResult struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	// Kept counts reference and discovered elements the document also
	// holds: the repository keeps its own.
	Kept int `json:"kept"`
}

// Import reads an Open Exchange Format document (archimate.Decode's
// refusals apply: no DTD, bounded size, every relationship allowed by
// Appendix B) and merges it into the repository in one transaction:
// concepts are matched by identifier, created or updated; concepts the
// document lacks are left as they are. Reference and discovered elements
// are the repository's and are never overwritten. Errors wrap
// errs.ErrInvalid (or errs.ErrTooLarge) and say what was wrong.
func (s *Service) Import(ctx context.Context, sub authz.Subject, r io.Reader) (ImportResult, error) {
	if err := allow(sub, authz.Update, authz.KindArchitecture); err != nil {
		return ImportResult{}, err
	}
	m, err := archimate.Decode(r, archimate.Limits{MaxBytes: s.opts.MaxImportBytes})
	if errors.Is(err, archimate.ErrTooLarge) {
		return ImportResult{}, fmt.Errorf("%w: %s", errs.ErrTooLarge, strings.TrimPrefix(err.Error(), archimate.ErrTooLarge.Error()+": "))
	}
	if err != nil {
		return ImportResult{}, fmt.Errorf("%w: %s", errs.ErrInvalid, strings.TrimPrefix(err.Error(), archimate.ErrInvalid.Error()+": "))
	}
	return s.importModel(ctx, m)
}

func (s *Service) importModel(ctx context.Context, m *archimate.Model) (ImportResult, error) {
	info, elements, rels, err := s.fromExchange(ctx, m)
	if err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	err = s.edit(ctx, "architecture.import", m.ID, func(c *change) error {
		oldInfo, err := getInfo(ctx, c.tx)
		if err != nil {
			return err
		}
		if !sameJSON(oldInfo, info) {
			if err := c.putInfo(ctx, info); err != nil {
				return err
			}
		}
		cur, err := currentSnapshot(ctx, c.tx)
		if err != nil {
			return err
		}
		oldEl := make(map[string]Element, len(cur.Elements))
		for _, e := range cur.Elements {
			oldEl[e.ID] = e
		}
		oldRel := make(map[string]Relationship, len(cur.Relationships))
		for _, r := range cur.Relationships {
			oldRel[r.ID] = r
		}
		oldView := make(map[string]archimate.View, len(cur.Views))
		for _, v := range cur.Views {
			oldView[v.ID] = v
		}
		for i := range elements {
			e := &elements[i]
			old, exists := oldEl[e.ID]
			if _, clash := oldRel[e.ID]; clash {
				return fmt.Errorf("%w: identifier %s is a relationship's in the repository and an element's in the document", errs.ErrInvalid, e.ID)
			}
			switch {
			case exists && old.Origin != OriginModel:
				if old.Type != e.Type {
					return fmt.Errorf("%w: element %s is the repository's %s %s, not a %s", errs.ErrInvalid, e.ID, old.Origin, old.Type, e.Type)
				}
				res.Kept++
				continue
			case exists:
				e.Version, e.UpdatedAt = old.Version, old.UpdatedAt
				if sameJSON(old, *e) {
					res.Unchanged++
					continue
				}
				res.Updated++
			default:
				res.Created++
			}
			e.Origin = OriginModel
			if err := c.putElement(ctx, e, exists); err != nil {
				return err
			}
		}
		for i := range rels {
			r := &rels[i]
			old, exists := oldRel[r.ID]
			if _, clash := oldEl[r.ID]; clash {
				return fmt.Errorf("%w: identifier %s is an element's in the repository and a relationship's in the document", errs.ErrInvalid, r.ID)
			}
			switch {
			case exists && old.Origin != OriginModel:
				res.Kept++
				continue
			case exists:
				r.Version, r.UpdatedAt = old.Version, old.UpdatedAt
				if sameJSON(old, *r) {
					res.Unchanged++
					continue
				}
				res.Updated++
			default:
				res.Created++
			}
			r.Origin = OriginModel
			if err := c.putRelationship(ctx, r, exists); err != nil {
				return err
			}
		}
		for i := range m.Views {
			v := &m.Views[i]
			old, exists := oldView[v.ID]
			if exists && sameJSON(old, *v) {
				res.Unchanged++
				continue
			}
			if exists {
				res.Updated++
			} else {
				res.Created++
			}
			if err := c.putView(ctx, v, exists); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// fromExchange maps a decoded document to the repository's concepts.
func (s *Service) fromExchange(ctx context.Context, m *archimate.Model) (ModelInfo, []Element, []Relationship, error) {
	defName := map[string]string{}
	for _, d := range m.PropertyDefs {
		defName[d.ID] = d.Name.In("")
		if defName[d.ID] == "" {
			defName[d.ID] = d.ID
		}
	}
	props := func(ps []archimate.Property) []Property {
		out := make([]Property, 0, len(ps))
		for _, p := range ps {
			out = append(out, Property{Name: defName[p.Ref], Value: p.Value})
		}
		return out
	}
	info := ModelInfo{ID: m.ID, Name: m.Name, Documentation: m.Documentation, Properties: props(m.Properties), Organizations: m.Organizations, PropertyDefs: m.PropertyDefs}
	units := map[string]int64{}
	elements := make([]Element, 0, len(m.Elements))
	for _, x := range m.Elements {
		e := Element{ID: x.ID, Type: string(x.Type), Name: x.Name, Documentation: x.Documentation, Origin: OriginModel}
		for _, p := range props(x.Properties) {
			v := p.Value.In("")
			switch {
			case p.Name == propOrigin:
				e.Origin = Origin(v)
			case p.Name == propOwnerUnit:
				id, ok := units[v]
				if !ok {
					u, err := s.opts.Directory.UnitByCode(ctx, v)
					if errors.Is(err, errs.ErrNotFound) {
						return ModelInfo{}, nil, nil, errs.Invalid("owner_unit", fmt.Sprintf("element %s: no unit has the agency code %q", e.ID, clip(v)))
					} else if err != nil {
						return ModelInfo{}, nil, nil, err
					}
					id, units[v] = u.ID, u.ID
				}
				e.OwnerUnit = id
			case p.Name == propCost:
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return ModelInfo{}, nil, nil, errs.Invalid("annual_cost", fmt.Sprintf("element %s: %q is not a whole number of đồng", e.ID, clip(v)))
				}
				e.AnnualCost = n
			case strings.HasPrefix(p.Name, propLifecycle):
				switch Phase(strings.TrimPrefix(p.Name, propLifecycle)) {
				case PhasePlan:
					e.Lifecycle.Plan = v
				case PhaseBuild:
					e.Lifecycle.Build = v
				case PhaseRun:
					e.Lifecycle.Run = v
				case PhaseRetire:
					e.Lifecycle.Retire = v
				default:
					e.Properties = append(e.Properties, p)
				}
			case strings.HasPrefix(p.Name, propPrefix) && slices.Contains(ReferenceModels(), ReferenceModel(strings.TrimPrefix(p.Name, propPrefix))):
				if e.Framework == nil {
					e.Framework = Classification{}
				}
				e.Framework[ReferenceModel(strings.TrimPrefix(p.Name, propPrefix))] = v
			default:
				e.Properties = append(e.Properties, p)
			}
		}
		if len(e.Properties) == 0 {
			e.Properties = nil
		}
		if err := e.validate(); err != nil {
			return ModelInfo{}, nil, nil, fmt.Errorf("element %s: %w", x.ID, err)
		}
		elements = append(elements, e)
	}
	rels := make([]Relationship, 0, len(m.Relationships))
	for _, x := range m.Relationships {
		r := Relationship{ID: x.ID, Type: string(x.Type), Source: x.Source, Target: x.Target, Name: x.Name, Documentation: x.Documentation,
			AccessType: x.AccessType, IsDirected: x.IsDirected, Modifier: x.Modifier, Origin: OriginModel, Properties: props(x.Properties)}
		if len(r.Properties) == 0 {
			r.Properties = nil
		}
		if err := checkProps(r.Properties); err != nil {
			return ModelInfo{}, nil, nil, fmt.Errorf("relationship %s: %w", x.ID, err)
		}
		rels = append(rels, r)
	}
	return info, elements, rels, nil
}

// Export returns the repository (as it stood at asOf, if not zero) as an
// Open Exchange Format model: every element and relationship, reference
// and discovered ones marked by their chancery:origin property, the
// views, organisations and property definitions.
func (s *Service) Export(ctx context.Context, sub authz.Subject, asOf time.Time) (*archimate.Model, error) {
	if err := allow(sub, authz.Export, authz.KindArchitecture); err != nil {
		return nil, err
	}
	snap, err := s.snapshot(ctx, asOf)
	if err != nil {
		return nil, err
	}
	return s.toExchange(ctx, snap)
}

var notIDChar = regexp.MustCompile(`[^A-Za-z0-9_.\-]+`)

func (s *Service) toExchange(ctx context.Context, snap *Snapshot) (*archimate.Model, error) {
	info := snap.Info
	m := &archimate.Model{ID: info.ID, Name: info.Name, Documentation: info.Documentation, Organizations: info.Organizations, PropertyDefs: slices.Clone(info.PropertyDefs)}
	defID := map[string]string{}
	used := map[string]bool{}
	for _, d := range m.PropertyDefs {
		used[d.ID] = true
		if n := d.Name.In(""); n != "" {
			if _, ok := defID[n]; !ok {
				defID[n] = d.ID
			}
		} else {
			defID[d.ID] = d.ID
		}
	}
	ref := func(name string) string {
		if id, ok := defID[name]; ok {
			return id
		}
		base := "pd-" + strings.Trim(notIDChar.ReplaceAllString(name, "-"), "-")
		id := base
		for n := 2; used[id]; n++ {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		used[id], defID[name] = true, id
		m.PropertyDefs = append(m.PropertyDefs, archimate.PropertyDef{ID: id, Type: "string", Name: archimate.Text{{Text: name}}})
		return id
	}
	props := func(ps []Property) []archimate.Property {
		var out []archimate.Property
		for _, p := range ps {
			out = append(out, archimate.Property{Ref: ref(p.Name), Value: p.Value})
		}
		return out
	}
	m.Properties = props(info.Properties)
	codes := map[int64]string{}
	for _, e := range snap.Elements {
		ps := slices.Clone(e.Properties)
		add := func(name, v string) {
			if v != "" {
				ps = append(ps, Property{Name: name, Value: archimate.Text{{Text: v}}})
			}
		}
		if e.Origin != OriginModel {
			add(propOrigin, string(e.Origin))
		}
		if e.OwnerUnit != 0 {
			code, ok := codes[e.OwnerUnit]
			if !ok {
				u, err := s.opts.Directory.Unit(ctx, e.OwnerUnit)
				if err != nil {
					return nil, fmt.Errorf("export element %s's owner unit: %w", e.ID, err)
				}
				code, codes[e.OwnerUnit] = u.Code, u.Code
			}
			add(propOwnerUnit, code)
		}
		if e.AnnualCost != 0 {
			add(propCost, strconv.FormatInt(e.AnnualCost, 10))
		}
		add(propLifecycle+string(PhasePlan), e.Lifecycle.Plan)
		add(propLifecycle+string(PhaseBuild), e.Lifecycle.Build)
		add(propLifecycle+string(PhaseRun), e.Lifecycle.Run)
		add(propLifecycle+string(PhaseRetire), e.Lifecycle.Retire)
		for _, rm := range ReferenceModels() {
			add(propPrefix+string(rm), e.Framework[rm])
		}
		m.Elements = append(m.Elements, archimate.Element{ID: e.ID, Type: archimate.Type(e.Type), Name: e.Name, Documentation: e.Documentation, Properties: props(ps)})
	}
	for _, r := range snap.Relationships {
		m.Relationships = append(m.Relationships, archimate.Relationship{ID: r.ID, Type: archimate.Type(r.Type), Source: r.Source, Target: r.Target,
			AccessType: r.AccessType, IsDirected: r.IsDirected, Modifier: r.Modifier, Name: r.Name, Documentation: r.Documentation, Properties: props(r.Properties)})
	}
	m.Views = snap.Views
	// The organisations name what the last import held; what was deleted
	// since is left out, so the export stays a valid document.
	present := make(map[string]bool, len(snap.Elements)+len(snap.Relationships)+len(snap.Views))
	for _, e := range snap.Elements {
		present[e.ID] = true
	}
	for _, r := range snap.Relationships {
		present[r.ID] = true
	}
	for _, v := range snap.Views {
		present[v.ID] = true
	}
	m.Organizations = pruneItems(m.Organizations, present)
	return m, nil
}

func pruneItems(items []archimate.Item, present map[string]bool) []archimate.Item {
	var out []archimate.Item
	for _, it := range items {
		if it.IdentifierRef != "" && !present[it.IdentifierRef] {
			continue
		}
		it.Items = pruneItems(it.Items, present)
		out = append(out, it)
	}
	return out
}
