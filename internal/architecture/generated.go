package architecture

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"chancery/internal/architecture/archimate"
	"chancery/internal/authz"
	"chancery/internal/errs"
)

// Generated views: the repository draws a view of each layer and of each
// element's neighbourhood itself (archimate.Layout), so that what nobody
// drew in a modelling tool is still seen.
const (
	// maxGeneratedNodes bounds a generated view: ten rows of seven boxes
	// stay readable at 1366 px; past it the view shows the first ones (by
	// name for a layer, nearest first for a neighbourhood) and says so.
	maxGeneratedNodes = 70
	// generatedPrefix starts a generated view's identifier.
	generatedPrefix = "gen-"
)

// Generated is a generated view, the model it draws from, and how many
// elements it left out past maxGeneratedNodes.
type Generated struct {
	View    archimate.View
	Model   *archimate.Model
	Omitted int
}

// aspectRank places an element type within its layer, top to bottom as
// the layered viewpoint reads: services (what the layer offers), then
// behaviour, then active structure, then passive structure and the rest.
func aspectRank(e *archimate.Element) int {
	t := string(e.Type)
	switch {
	case strings.HasSuffix(t, "Service"):
		return 0
	case strings.HasSuffix(t, "Process") || strings.HasSuffix(t, "Function") || strings.HasSuffix(t, "Interaction") || strings.HasSuffix(t, "Event"):
		return 1
	case t == "DataObject" || t == "BusinessObject" || t == "Artifact" || t == "Contract" || t == "Representation" || t == "Material":
		return 3
	case strings.HasSuffix(t, "Component") || strings.HasSuffix(t, "Actor") || strings.HasSuffix(t, "Role") || strings.HasSuffix(t, "Collaboration") ||
		strings.HasSuffix(t, "Interface") || t == "Node" || t == "Device" || t == "SystemSoftware" || t == "Path" || strings.HasSuffix(t, "Network") ||
		t == "Equipment" || t == "Facility":
		return 2
	}
	return 4
}

// LayerViewID is the identifier of layer l's generated view.
func LayerViewID(l archimate.Layer) string { return generatedPrefix + "layer-" + string(l) }

// LayerView generates the view of layer l: its elements, banded by aspect.
// Returns errs.ErrNotFound for a name that is not a layer.
func (s *Service) LayerView(ctx context.Context, sub authz.Subject, l archimate.Layer, lang string) (Generated, error) {
	if err := allow(sub, authz.Read, authz.KindArchitecture); err != nil {
		return Generated{}, err
	}
	if !slices.Contains(archimate.Layers(), l) {
		return Generated{}, fmt.Errorf("%w: no layer %q", errs.ErrNotFound, clip(string(l)))
	}
	m, err := s.exchangeNow(ctx)
	if err != nil {
		return Generated{}, err
	}
	return layerView(m, l, lang), nil
}

func layerView(m *archimate.Model, l archimate.Layer, lang string) Generated {
	var ids []string
	for _, e := range m.Elements {
		if el, _ := archimate.LayerOf(string(e.Type)); el == l {
			ids = append(ids, e.ID)
		}
	}
	g := Generated{Model: m}
	if len(ids) > maxGeneratedNodes {
		name := map[string]string{}
		for _, e := range m.Elements {
			name[e.ID] = e.Name.In(lang)
		}
		slices.SortFunc(ids, func(a, b string) int { return strings.Compare(name[a], name[b]) })
		g.Omitted, ids = len(ids)-maxGeneratedNodes, ids[:maxGeneratedNodes]
	}
	title := archimate.Text{{Lang: "vi", Text: "Tầng " + layerNames[l][0]}, {Lang: "en", Text: layerNames[l][1] + " layer"}}
	g.View = archimate.Layout(m, LayerViewID(l), title, ids, aspectRank)
	g.View.Viewpoint = "Layered"
	return g
}

// layerNames names the layers in generated views' titles (Vietnamese,
// English), as the console's texts do.
var layerNames = map[archimate.Layer][2]string{
	archimate.Strategy: {"chiến lược", "Strategy"}, archimate.Business: {"nghiệp vụ", "Business"},
	archimate.Application: {"ứng dụng", "Application"}, archimate.Technology: {"công nghệ", "Technology"},
	archimate.Physical: {"vật lý", "Physical"}, archimate.Motivation: {"động lực", "Motivation"},
	archimate.Implementation: {"triển khai và chuyển đổi", "Implementation and migration"}, archimate.Other: {"khác", "Other"},
}

// Neighbourhood generates the view of element id and what lies within
// depth (1 or 2) relationships of it, banded by layer.
func (s *Service) Neighbourhood(ctx context.Context, sub authz.Subject, id string, depth int, lang string) (Generated, error) {
	if err := allow(sub, authz.Read, authz.KindArchitecture); err != nil {
		return Generated{}, err
	}
	if depth < 1 || depth > 2 {
		return Generated{}, errs.Invalid("depth", "is 1 or 2")
	}
	e, _, err := s.Element(ctx, sub, id)
	if err != nil {
		return Generated{}, err
	}
	m, err := s.exchangeNow(ctx)
	if err != nil {
		return Generated{}, err
	}
	ids := archimate.Neighbourhood(m, e.ID, depth, maxGeneratedNodes+1)
	g := Generated{Model: m}
	if len(ids) > maxGeneratedNodes {
		g.Omitted, ids = 1, ids[:maxGeneratedNodes] // at least one more; how many is not counted
	}
	title := archimate.Text{{Lang: "vi", Text: fmt.Sprintf("Lân cận của %s (%d bước)", e.Name.In("vi"), depth)}, {Lang: "en", Text: fmt.Sprintf("Neighbourhood of %s (%d steps)", e.Name.In("en"), depth)}}
	g.View = archimate.Layout(m, generatedPrefix+"nbh-"+e.ID, title, ids, nil)
	return g, nil
}

// exchangeNow is the current model in the exchange format's terms.
func (s *Service) exchangeNow(ctx context.Context) (*archimate.Model, error) {
	snap, err := s.snapshot(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	return s.toExchange(ctx, snap)
}

// addLayerViews adds to m a generated view of each layer that has
// elements, unless a stored view already has its identifier (a model
// exported with them and imported again keeps its own).
func addLayerViews(m *archimate.Model) {
	have := map[string]bool{}
	for _, v := range m.Views {
		have[v.ID] = true
	}
	present := map[archimate.Layer]bool{}
	for _, e := range m.Elements {
		l, _ := archimate.LayerOf(string(e.Type))
		present[l] = true
	}
	for _, l := range archimate.Layers() {
		if present[l] && !have[LayerViewID(l)] {
			m.Views = append(m.Views, layerView(m, l, "").View)
		}
	}
}
