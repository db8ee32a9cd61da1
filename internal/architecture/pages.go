package architecture

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"chancery/internal/architecture/archimate"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

const consolePath = "/console/architecture"

// NewHandler returns the handlers, with the page templates parsed once.
func NewHandler(shell *web.Shell, svc *Service) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("architecture: NewHandler needs the service")
	}
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("architecture: parse page templates: %w", err)
	}
	return &Handler{svc: svc, shell: shell, pages: pages}, nil
}

func (h *Handler) registerPages(rt *web.Router) {
	read := web.Staff(authz.KindArchitecture, authz.Read)
	h.shell.AddNav(web.Console, web.NavItem{Key: "architecture.nav", Href: consolePath, Access: read})
	rt.HandleFunc("GET "+consolePath, read, h.pageBrowse)
	rt.HandleFunc("GET "+consolePath+"/elements/{id}", read, h.pageElement)
	rt.HandleFunc("GET "+consolePath+"/new", web.Staff(authz.KindArchitecture, authz.Update), h.pageNew)
	rt.HandleFunc("POST "+consolePath+"/elements", web.Staff(authz.KindArchitecture, authz.Update), h.pagePostElement)
	rt.HandleFunc("POST "+consolePath+"/relationships", web.Staff(authz.KindArchitecture, authz.Update), h.pagePostRelationship)
	rt.HandleFunc("GET "+consolePath+"/views/{id}", read, h.pageView)
	rt.HandleFunc("GET "+consolePath+"/history", read, h.pageHistory)
}

// elementRow is an element in a list.
type elementRow struct {
	ID, Href, Name, Type, Layer, Origin, Phase string
}

type browseData struct {
	Query   string
	Layers  []web.Option
	Origins []web.Option
	Rows    []elementRow
	Views   []ViewInfo
	// LayerViews links each layer's generated view.
	LayerViews []web.Option
	Problem    web.Refusal
}

func (h *Handler) rows(p web.Page, els []Element) []elementRow {
	today := today()
	out := make([]elementRow, 0, len(els))
	for _, e := range els {
		row := elementRow{ID: e.ID, Href: consolePath + "/elements/" + url.PathEscape(e.ID), Name: e.Name.In(string(p.Lang)), Type: e.Type,
			Layer: p.T("architecture.layer." + string(e.Layer())), Origin: p.T("architecture.origin." + string(e.Origin))}
		if ph := e.Lifecycle.PhaseOn(today); ph != "" {
			row.Phase = p.T("architecture.phase." + string(ph))
		}
		out = append(out, row)
	}
	return out
}

func (h *Handler) pageBrowse(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	p := h.shell.Page(r, web.Console, "architecture.title")
	q := r.URL.Query()
	data := browseData{Query: q.Get("q")}
	data.Layers = []web.Option{{Value: "", Label: p.T("architecture.any")}}
	for _, l := range archimate.Layers() {
		data.Layers = append(data.Layers, web.Option{Value: string(l), Label: p.T("architecture.layer." + string(l)), Selected: q.Get("layer") == string(l)})
	}
	data.Origins = []web.Option{{Value: "", Label: p.T("architecture.any")}}
	for _, o := range []Origin{OriginModel, OriginReference, OriginDiscovered} {
		data.Origins = append(data.Origins, web.Option{Value: string(o), Label: p.T("architecture.origin." + string(o)), Selected: q.Get("origin") == string(o)})
	}
	els, err := h.svc.Elements(ctx, sub, Query{Text: q.Get("q"), Layer: archimate.Layer(q.Get("layer")), Origin: Origin(q.Get("origin"))})
	ref, status, ok := web.ListError(w, r, err, func(err error) (web.Refusal, bool) { return web.Explain(p.Localizer(), "architecture.", err) })
	if !ok {
		return
	}
	data.Problem = ref
	data.Rows = h.rows(p, els)
	for _, l := range archimate.Layers() {
		data.LayerViews = append(data.LayerViews, web.Option{Value: consolePath + "/layers/" + string(l), Label: p.T("architecture.layer." + string(l))})
	}
	if data.Views, err = h.svc.Views(ctx, sub); err != nil {
		web.Error(w, r, err)
		return
	}
	h.pages.Render(w, r, status, "browse", web.View[browseData]{Page: p, Data: data})
}

// relRow is a relationship on an element's page, seen from the element.
type relRow struct {
	ID, Type, Direction, OtherHref, OtherName string
}

type elementData struct {
	E         Element
	Name      string
	Doc       string
	Layer     string
	Origin    string
	Phase     string
	Owner     string
	Framework []web.Option // reference model → category, as label/value
	Props     []web.Option
	Rels      []relRow
	History   []Change
	Editable  bool
	// Neighbourhood links the generated view of what lies around it.
	Neighbourhood string
	Form          []web.Field
	RelForm       []web.Field
	Problem       web.Refusal
	RelProb       web.Refusal
}

func (h *Handler) pageElement(w http.ResponseWriter, r *http.Request) {
	h.showElement(w, r, http.StatusOK, r.PathValue("id"), web.SentBack{})
}

// elementValues are an element's fields as its edit form holds them.
func elementValues(e Element) url.Values {
	v := url.Values{}
	v.Set("id", e.ID)
	v.Set("type", e.Type)
	v.Set("version", strconv.FormatInt(e.Version, 10))
	for _, s := range e.Name {
		if s.Lang == "en" {
			v.Set("name_en", s.Text)
		} else if v.Get("name_vi") == "" {
			v.Set("name_vi", s.Text)
		}
	}
	v.Set("documentation", e.Documentation.In("vi"))
	v.Set("plan", e.Lifecycle.Plan)
	v.Set("build", e.Lifecycle.Build)
	v.Set("run", e.Lifecycle.Run)
	v.Set("retire", e.Lifecycle.Retire)
	if e.AnnualCost != 0 {
		v.Set("annual_cost", strconv.FormatInt(e.AnnualCost, 10))
	}
	for _, m := range ReferenceModels() {
		v.Set(strings.ToLower(string(m)), e.Framework[m])
	}
	return v
}

func (h *Handler) elementForm(p web.Page, f *web.Form, isNew bool) []web.Field {
	var types []web.Option
	for _, l := range archimate.Layers() {
		for _, t := range archimate.ElementTypes(l) {
			types = append(types, web.Option{Value: t, Label: p.T("architecture.layer."+string(l)) + " — " + t})
		}
	}
	fields := []web.Field{f.Field("version", "hidden", "architecture.field.version", false)}
	if isNew {
		fields = append(fields, f.Field("id", "text", "architecture.field.id", true))
	} else {
		fields = append(fields, f.Field("id", "hidden", "architecture.field.id", true))
	}
	fields = append(fields,
		f.Choice("type", "select", "architecture.field.type", true, types),
		f.Field("name_vi", "text", "architecture.field.name_vi", true),
		f.Field("name_en", "text", "architecture.field.name_en", false),
		f.Field("documentation", "textarea", "architecture.field.documentation", false),
		f.Field("owner", "text", "architecture.field.owner", false),
		f.Field("plan", "date", "architecture.phase.plan", false),
		f.Field("build", "date", "architecture.phase.build", false),
		f.Field("run", "date", "architecture.phase.run", false),
		f.Field("retire", "date", "architecture.phase.retire", false),
		f.Field("annual_cost", "number", "architecture.field.annual_cost", false))
	for _, m := range ReferenceModels() {
		fields = append(fields, f.Field(strings.ToLower(string(m)), "text", "architecture.rm."+strings.ToLower(string(m)), false))
	}
	return fields
}

func (h *Handler) showElement(w http.ResponseWriter, r *http.Request, status int, id string, back web.SentBack) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	e, rels, err := h.svc.Element(ctx, sub, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "architecture.element.title")
	lang := string(p.Lang)
	d := elementData{E: e, Name: e.Name.In(lang), Doc: e.Documentation.In(lang), Layer: p.T("architecture.layer." + string(e.Layer())), Origin: p.T("architecture.origin." + string(e.Origin))}
	p.Flash = p.Confirmed(r, "architecture.flash.did.", d.Name)
	if ph := e.Lifecycle.PhaseOn(today()); ph != "" {
		d.Phase = p.T("architecture.phase." + string(ph))
	}
	if e.OwnerUnit != 0 {
		if u, err := h.svc.opts.Directory.Unit(ctx, e.OwnerUnit); err == nil {
			d.Owner = u.NameVI
			if p.Lang == "en" {
				d.Owner = u.NameEN
			}
		}
	}
	for _, m := range ReferenceModels() {
		if v := e.Framework[m]; v != "" {
			d.Framework = append(d.Framework, web.Option{Label: p.T("architecture.rm." + strings.ToLower(string(m))), Value: v})
		}
	}
	for _, pr := range e.Properties {
		d.Props = append(d.Props, web.Option{Label: pr.Name, Value: pr.Value.In(lang)})
	}
	for _, rel := range rels {
		row := relRow{ID: rel.ID, Type: rel.Type, Direction: "→"}
		other := rel.Target
		if rel.Target == e.ID {
			other, row.Direction = rel.Source, "←"
		}
		row.OtherHref = consolePath + "/elements/" + url.PathEscape(other)
		row.OtherName = other
		if o, _, err := h.svc.Element(ctx, sub, other); err == nil {
			row.OtherName = o.Name.In(lang)
		}
		d.Rels = append(d.Rels, row)
	}
	if d.History, err = h.svc.History(ctx, sub, "element", e.ID, 0, 20); err != nil {
		web.Error(w, r, err)
		return
	}
	dec, _ := authz.Decide(sub, authz.Update, authz.Resource{Kind: authz.KindArchitecture})
	d.Editable = dec == authz.Allowed && e.Origin == OriginModel
	d.Neighbourhood = consolePath + "/elements/" + url.PathEscape(e.ID) + "/neighbourhood"
	if d.Editable {
		stored := elementValues(e)
		if e.OwnerUnit != 0 {
			if u, err := h.svc.opts.Directory.Unit(ctx, e.OwnerUnit); err == nil {
				stored.Set("owner", u.Code)
			}
		}
		f := back.NewForm(p, "el-", stored)
		d.Form = h.elementForm(p, f, false)
		d.Problem = f.Message()
		rf := back.NewForm(p, "rel-", url.Values{"source": {e.ID}})
		var relTypes []web.Option
		for _, t := range archimate.RelationshipTypes() {
			relTypes = append(relTypes, web.Option{Value: t, Label: t})
		}
		d.RelForm = []web.Field{rf.Field("source", "hidden", "architecture.field.source", true), rf.Choice("type", "select", "architecture.field.rel_type", true, relTypes),
			rf.Field("target", "text", "architecture.field.target", true), rf.Field("id", "text", "architecture.field.id", true)}
		d.RelProb = rf.Message()
	}
	p.Title = d.Name
	h.pages.Render(w, r, status, "element", web.View[elementData]{Page: p, Data: d})
}

type newData struct {
	Form    []web.Field
	Problem web.Refusal
}

func (h *Handler) pageNew(w http.ResponseWriter, r *http.Request) {
	h.showNew(w, r, http.StatusOK, web.SentBack{})
}

func (h *Handler) showNew(w http.ResponseWriter, r *http.Request, status int, back web.SentBack) {
	p := h.shell.Page(r, web.Console, "architecture.new.title")
	f := back.NewForm(p, "el-", url.Values{"type": {"ApplicationComponent"}, "version": {"0"}})
	d := newData{Form: h.elementForm(p, f, true)}
	d.Problem = f.Message()
	h.pages.Render(w, r, status, "new", web.View[newData]{Page: p, Data: d})
}

// today is the date in the ministry's zone, for lifecycle phases.
func today() string { return time.Now().In(ministryZone()).Format(time.DateOnly) }

func ministryZone() *time.Location { return web.MinistryZone() }

func formValues(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("%w: the form could not be read: %v", errs.ErrInvalid, err)
	}
	return nil
}

// elementFromForm reads the edit form; the owner is an agency code.
func (h *Handler) elementFromForm(r *http.Request) (Element, error) {
	f := r.PostForm
	version, err := strconv.ParseInt(f.Get("version"), 10, 64)
	if err != nil || version < 0 {
		return Element{}, errs.Invalid("version", "is not a version number")
	}
	e := Element{ID: strings.TrimSpace(f.Get("id")), Type: f.Get("type"), Version: version,
		Lifecycle: Lifecycle{Plan: f.Get("plan"), Build: f.Get("build"), Run: f.Get("run"), Retire: f.Get("retire")}}
	if s := strings.TrimSpace(f.Get("name_vi")); s != "" {
		e.Name = append(e.Name, archimate.LangString{Lang: "vi", Text: s})
	}
	if s := strings.TrimSpace(f.Get("name_en")); s != "" {
		e.Name = append(e.Name, archimate.LangString{Lang: "en", Text: s})
	}
	if s := strings.TrimSpace(f.Get("documentation")); s != "" {
		e.Documentation = archimate.Text{{Lang: "vi", Text: s}}
	}
	if s := strings.TrimSpace(f.Get("annual_cost")); s != "" {
		if e.AnnualCost, err = strconv.ParseInt(s, 10, 64); err != nil {
			return Element{}, errs.Invalid("annual_cost", "is not a whole number of đồng")
		}
	}
	for _, m := range ReferenceModels() {
		if s := strings.TrimSpace(f.Get(strings.ToLower(string(m)))); s != "" {
			if e.Framework == nil {
				e.Framework = Classification{}
			}
			e.Framework[m] = s
		}
	}
	if code := strings.TrimSpace(f.Get("owner")); code != "" {
		u, err := h.svc.opts.Directory.UnitByCode(r.Context(), code)
		if errors.Is(err, errs.ErrNotFound) {
			return Element{}, errs.Invalid("owner", fmt.Sprintf("no unit has the agency code %q", web.Clip(code)))
		} else if err != nil {
			return Element{}, err
		}
		e.OwnerUnit = u.ID
	}
	// Properties and English documentation are kept as they were: the form
	// edits the fields it shows.
	if version > 0 {
		old, _, err := h.svc.Element(r.Context(), web.SubjectFrom(r.Context()), e.ID)
		if err != nil {
			return Element{}, err
		}
		e.Properties = old.Properties
		for _, s := range old.Documentation {
			if s.Lang != "vi" && s.Lang != "" {
				e.Documentation = append(e.Documentation, s)
			}
		}
	}
	return e, nil
}

func (h *Handler) pagePostElement(w http.ResponseWriter, r *http.Request) {
	if err := formValues(r); err != nil {
		web.Error(w, r, err)
		return
	}
	e, err := h.elementFromForm(r)
	if err == nil {
		e, err = h.svc.SaveElement(r.Context(), web.SubjectFrom(r.Context()), e)
	}
	if err != nil {
		p := h.shell.Page(r, web.Console, "architecture.title")
		web.FormError(w, r, err, func(err error) (web.Refusal, bool) { return web.Explain(p.Localizer(), "architecture.", err) }, func(ref web.Refusal) {
			back := web.SentBack{Form: "el-", Values: r.PostForm, Refusal: ref}
			if r.PostForm.Get("version") == "0" {
				h.showNew(w, r, ref.Status, back)
			} else {
				h.showElement(w, r, ref.Status, r.PostForm.Get("id"), back)
			}
		})
		return
	}
	web.RedirectDone(w, r, consolePath+"/elements/"+url.PathEscape(e.ID), "architecture.flash.saved", "element")
}

func (h *Handler) pagePostRelationship(w http.ResponseWriter, r *http.Request) {
	if err := formValues(r); err != nil {
		web.Error(w, r, err)
		return
	}
	f := r.PostForm
	rel := Relationship{ID: strings.TrimSpace(f.Get("id")), Type: f.Get("type"), Source: f.Get("source"), Target: strings.TrimSpace(f.Get("target"))}
	if _, err := h.svc.SaveRelationship(r.Context(), web.SubjectFrom(r.Context()), rel); err != nil {
		p := h.shell.Page(r, web.Console, "architecture.title")
		web.FormError(w, r, err, func(err error) (web.Refusal, bool) { return web.Explain(p.Localizer(), "architecture.", err) }, func(ref web.Refusal) {
			h.showElement(w, r, ref.Status, rel.Source, web.SentBack{Form: "rel-", Values: r.PostForm, Refusal: ref})
		})
		return
	}
	web.RedirectDone(w, r, consolePath+"/elements/"+url.PathEscape(rel.Source), "architecture.flash.saved", "relationship")
}

type viewData struct {
	ID      string
	SVG     template.HTML
	SVGHref string
	// Generated marks a view the repository laid out itself; Depths
	// offers a neighbourhood's other depths; Omitted says the view shows
	// only the first elements.
	Generated bool
	Depths    []web.Option
	Omitted   bool
}

func (h *Handler) pageView(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	p := h.shell.Page(r, web.Console, "architecture.view.title")
	v, err := h.svc.View(ctx, sub, r.PathValue("id"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	svg, err := h.svc.RenderView(ctx, sub, v.ID, string(p.Lang))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p.Title = v.Name.In(string(p.Lang))
	// RenderView escapes every text it draws (archimate.RenderView).
	h.pages.Render(w, r, http.StatusOK, "view", web.View[viewData]{Page: p, Data: viewData{ID: v.ID, SVG: template.HTML(svg), SVGHref: "/api/v1/architecture/views/" + url.PathEscape(v.ID) + "/svg"}}) //nolint:gosec // escaped by RenderView
}

type historyRow struct {
	Change
	Href, When string
}

func (h *Handler) pageHistory(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	before, err := web.OptionalID("before", r.URL.Query().Get("before"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	hs, err := h.svc.History(ctx, web.SubjectFrom(ctx), "", "", before, 100)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "architecture.history.title")
	rows := make([]historyRow, 0, len(hs))
	for _, c := range hs {
		row := historyRow{Change: c, When: web.ShowTime(c.At)}
		if c.Kind == "element" && c.Op != "delete" {
			row.Href = consolePath + "/elements/" + url.PathEscape(c.ItemID)
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b historyRow) int { return int(b.Seq - a.Seq) })
	h.pages.Render(w, r, http.StatusOK, "history", web.View[[]historyRow]{Page: p, Data: rows})
}
