package architecture

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"chancery/internal/architecture/archimate"
	"chancery/internal/audit"
	"chancery/internal/authz"
)

// Discovered is what the running node finds it is made of: its
// capabilities, the exchange's members, subsystems, services and rights
// (from the exchange configuration it holds), its data stores and the
// mission nodes. The composition root gathers it; Register records it.
type Discovered struct {
	Capabilities []Component
	Members      []Component // an exchange member: another agency or a unit
	Subsystems   []Subsystem
	Services     []ExchangeService
	// Rights lists who may call what: client subsystem ids by service id.
	Rights     map[string][]string
	DataStores []Component
	Nodes      []Component // the exchange's nodes: headquarters and missions
}

// Component is a discovered part: a stable key (such as "procedures" or
// a member code) and a name.
type Component struct {
	Key, Name string
	Props     map[string]string
}

// Subsystem is an exchange subsystem of a member.
type Subsystem struct {
	Key, Name, Member string
}

// ExchangeService is a service a subsystem offers.
type ExchangeService struct {
	Key, Name, Subsystem string
}

// PropComponent is the property by which a model element declares the
// running component it is: its value is a discovered element's identifier.
const PropComponent = "component"

var notNCName = regexp.MustCompile(`[^A-Za-z0-9_.\-]+`)

// discoveredID returns the identifier a discovered component is stored
// under: stable across starts, so that the history follows it.
func discoveredID(kind, key string) string {
	id := "disc-" + kind + "-" + strings.Trim(notNCName.ReplaceAllString(key, "-"), "-")
	if len(id) > 128 {
		id = id[:128]
	}
	return id
}

func text(s string) archimate.Text { return archimate.Text{{Text: s}} }

// elements returns the discovered concepts as the repository stores them.
func (d Discovered) elements() ([]Element, []Relationship) {
	var els []Element
	var rels []Relationship
	add := func(kind, typ string, c Component) string {
		id := discoveredID(kind, c.Key)
		e := Element{ID: id, Type: typ, Name: text(c.Name), Origin: OriginDiscovered}
		keys := make([]string, 0, len(c.Props))
		for k := range c.Props {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			e.Properties = append(e.Properties, Property{Name: k, Value: text(c.Props[k])})
		}
		els = append(els, e)
		return id
	}
	rel := func(typ, src, tgt string) {
		rels = append(rels, Relationship{ID: "disc-r-" + typ + "-" + strings.TrimPrefix(src, "disc-") + "-" + strings.TrimPrefix(tgt, "disc-"), Type: typ, Source: src, Target: tgt, Origin: OriginDiscovered})
	}
	for _, c := range d.Capabilities {
		add("cap", "ApplicationComponent", c)
	}
	for _, c := range d.Members {
		add("member", "BusinessActor", c)
	}
	for _, s := range d.Subsystems {
		id := add("subsystem", "ApplicationComponent", Component{Key: s.Key, Name: s.Name})
		rel("Association", discoveredID("member", s.Member), id)
	}
	for _, s := range d.Services {
		id := add("service", "ApplicationService", Component{Key: s.Key, Name: s.Name})
		rel("Realization", discoveredID("subsystem", s.Subsystem), id)
		for _, client := range d.Rights[s.Key] {
			rel("Serving", id, discoveredID("subsystem", client))
		}
	}
	for _, c := range d.DataStores {
		add("store", "SystemSoftware", c)
	}
	for _, c := range d.Nodes {
		add("node", "Node", c)
	}
	// Relationship ids can grow long; keep them identifiers.
	for i := range rels {
		if len(rels[i].ID) > 128 {
			rels[i].ID = rels[i].ID[:128]
		}
	}
	return els, rels
}

// Register records what the node discovered as discovered elements (new
// ones created, changed ones updated, each with its history), and marks
// those no longer found as absent. It acts as the node itself.
func (s *Service) Register(ctx context.Context, d Discovered) error {
	els, rels := d.elements()
	known := map[string]string{}
	for _, e := range els {
		if err := e.validate(); err != nil {
			return fmt.Errorf("architecture: discovered %s: %w", e.ID, err)
		}
		known[e.ID] = e.Type
	}
	var kept []Relationship
	for _, r := range rels {
		src, ok1 := known[r.Source]
		tgt, ok2 := known[r.Target]
		if !ok1 || !ok2 {
			continue // a subsystem of a member, or a client, the configuration does not hold
		}
		if err := archimate.CheckRelationship(r.Type, archimate.Endpoint{Type: src}, archimate.Endpoint{Type: tgt}); err != nil {
			return fmt.Errorf("architecture: discovered %s: %w", r.ID, err)
		}
		kept = append(kept, r)
	}
	cur, err := currentSnapshot(ctx, s.db)
	if err != nil {
		return err
	}
	for _, e := range cur.Elements {
		if e.Origin == OriginDiscovered && known[e.ID] == "" {
			if e.Prop("discovered", "") != "absent" {
				e.Properties = append(slices.DeleteFunc(slices.Clone(e.Properties), func(p Property) bool { return p.Name == "discovered" }), Property{Name: "discovered", Value: text("absent")})
			}
			els = append(els, e)
		}
	}
	ctx = audit.WithOrigin(ctx, audit.Origin{Actor: audit.System("architecture")})
	return s.syncOrigin(ctx, "architecture.discovery.sync", OriginDiscovered, els, kept)
}

// Drift is a difference between the declared model and what runs.
type Drift struct {
	// Kind is "undeclared" (running, no model element declares it),
	// "not_running" (declared, not found running) or "retired_running"
	// (declared retired, still running).
	Kind       string `json:"kind"`
	Element    string `json:"element,omitempty"`    // the model element, if any
	Discovered string `json:"discovered,omitempty"` // the discovered element, if any
	Name       string `json:"name"`
}

// Drift compares the model's elements that declare a running component
// (PropComponent) with the discovered ones. Only capabilities, data stores
// and nodes are expected to be declared; exchange members, subsystems and
// services belong to the exchange's own registry.
func (s *Service) Drift(ctx context.Context, sub authz.Subject) ([]Drift, error) {
	if err := allow(sub, authz.Read, authz.KindArchitecture); err != nil {
		return nil, err
	}
	snap, err := s.snapshot(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	return drift(snap, today()), nil
}

func drift(snap *Snapshot, day string) []Drift {
	disc := map[string]Element{}
	for _, e := range snap.Elements {
		if e.Origin == OriginDiscovered {
			disc[e.ID] = e
		}
	}
	declared := map[string]bool{}
	var out []Drift
	for _, e := range snap.Elements {
		c := e.Prop(PropComponent, "")
		if e.Origin != OriginModel || c == "" {
			continue
		}
		declared[c] = true
		d, ok := disc[c]
		running := ok && d.Prop("discovered", "") != "absent"
		switch {
		case !running:
			out = append(out, Drift{Kind: "not_running", Element: e.ID, Discovered: c, Name: e.Name.In("")})
		case e.Lifecycle.PhaseOn(day) == PhaseRetire:
			out = append(out, Drift{Kind: "retired_running", Element: e.ID, Discovered: c, Name: e.Name.In("")})
		}
	}
	for _, e := range snap.Elements {
		if e.Origin != OriginDiscovered || declared[e.ID] || e.Prop("discovered", "") == "absent" {
			continue
		}
		if strings.HasPrefix(e.ID, "disc-cap-") || strings.HasPrefix(e.ID, "disc-store-") || strings.HasPrefix(e.ID, "disc-node-") {
			out = append(out, Drift{Kind: "undeclared", Discovered: e.ID, Name: e.Name.In("")})
		}
	}
	return out
}
