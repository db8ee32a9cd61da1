package architecture

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"chancery/internal/architecture/archimate"
	"chancery/internal/authz"
	"chancery/internal/web"
)

func (h *Handler) registerGenerated(rt *web.Router) {
	read := web.Staff(authz.KindArchitecture, authz.Read)
	rt.HandleFunc("GET "+consolePath+"/layers/{layer}", read, h.pageLayerView)
	rt.HandleFunc("GET "+consolePath+"/elements/{id}/neighbourhood", read, h.pageNeighbourhood)
	rt.HandleFunc("GET /api/v1/architecture/layers/{layer}/svg", read, h.layerSVG)
	rt.HandleFunc("GET /api/v1/architecture/elements/{id}/neighbourhood/svg", read, h.neighbourhoodSVG)
}

// depthParam reads ?depth=, 1 when absent.
func depthParam(r *http.Request) int {
	d, err := strconv.Atoi(r.URL.Query().Get("depth"))
	if err != nil {
		return 1
	}
	return d // Neighbourhood refuses what is not 1 or 2
}

func (h *Handler) layerSVG(w http.ResponseWriter, r *http.Request) {
	g, err := h.svc.LayerView(r.Context(), web.SubjectFrom(r.Context()), archimate.Layer(r.PathValue("layer")), string(web.LangFrom(r.Context())))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	writeSVG(w, archimate.RenderView(g.Model, &g.View, string(web.LangFrom(r.Context()))))
}

func (h *Handler) neighbourhoodSVG(w http.ResponseWriter, r *http.Request) {
	g, err := h.svc.Neighbourhood(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"), depthParam(r), string(web.LangFrom(r.Context())))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	writeSVG(w, archimate.RenderView(g.Model, &g.View, string(web.LangFrom(r.Context()))))
}

func (h *Handler) pageLayerView(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "architecture.view.title")
	layer := r.PathValue("layer")
	g, err := h.svc.LayerView(r.Context(), web.SubjectFrom(r.Context()), archimate.Layer(layer), string(p.Lang))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	h.showGenerated(w, r, p, g, "/api/v1/architecture/layers/"+url.PathEscape(layer)+"/svg", nil)
}

func (h *Handler) pageNeighbourhood(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "architecture.view.title")
	id, depth := r.PathValue("id"), depthParam(r)
	g, err := h.svc.Neighbourhood(r.Context(), web.SubjectFrom(r.Context()), id, depth, string(p.Lang))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	base := consolePath + "/elements/" + url.PathEscape(id) + "/neighbourhood?depth="
	depths := []web.Option{{Value: base + "1", Label: p.T("architecture.nbh.depth1"), Selected: depth == 1}, {Value: base + "2", Label: p.T("architecture.nbh.depth2"), Selected: depth == 2}}
	h.showGenerated(w, r, p, g, "/api/v1/architecture/elements/"+url.PathEscape(id)+"/neighbourhood/svg?depth="+strconv.Itoa(depth), depths)
}

func (h *Handler) showGenerated(w http.ResponseWriter, r *http.Request, p web.Page, g Generated, svgHref string, depths []web.Option) {
	p.Title = g.View.Name.In(string(p.Lang))
	d := viewData{ID: g.View.ID, SVGHref: svgHref, Generated: true, Depths: depths, Omitted: g.Omitted > 0}
	// RenderView escapes every text it draws (archimate.RenderView).
	d.SVG = template.HTML(archimate.RenderView(g.Model, &g.View, string(p.Lang))) //nolint:gosec // escaped by RenderView
	h.pages.Render(w, r, http.StatusOK, "view", web.View[viewData]{Page: p, Data: d})
}
