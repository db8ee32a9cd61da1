package analytics

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves the data repository's console pages and JSON API.
type Handler struct {
	cat   *Catalogue
	facts *Store
	shell *web.Shell
	pages *web.Templates
}

// NewHandler returns the handlers with their templates parsed once.
func NewHandler(shell *web.Shell, cat *Catalogue, facts *Store) (*Handler, error) {
	if cat == nil || facts == nil {
		return nil, errors.New("analytics: NewHandler needs the catalogue and the store")
	}
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("analytics: parse page templates: %w", err)
	}
	return &Handler{cat: cat, facts: facts, shell: shell, pages: pages}, nil
}

// Register adds the routes to rt, each stating who may reach it; the
// catalogue asks authz about each dataset (one above the caller's
// clearance answers 404), and the totals count only the units whose facts
// the caller may read.
func (h *Handler) Register(rt *web.Router) {
	read := web.Staff(authz.KindDataset, authz.Read)
	create := web.Staff(authz.KindDataset, authz.Create)
	update := web.Staff(authz.KindDataset, authz.Update)
	facts := web.Staff(authz.KindUnitFacts, authz.Read)
	h.shell.AddNav(web.Console, web.NavItem{Key: "analytics.nav", Href: "/console/insight/catalogue", Access: read})

	rt.HandleFunc("GET /console/insight/catalogue", read, h.pageCatalogue)
	rt.HandleFunc("GET /console/insight/catalogue/new", create, h.pageNew)
	rt.HandleFunc("POST /console/insight/catalogue/new", create, h.postNew)
	rt.HandleFunc("GET /console/insight/catalogue/{code}", read, h.pageDataset)
	rt.HandleFunc("POST /console/insight/catalogue/{code}/checks", update, h.postChecks)
	rt.HandleFunc("POST /console/insight/catalogue/{code}/refresh", update, h.postRefresh)

	rt.HandleFunc("GET /api/v1/analytics/datasets", read, h.apiList)
	rt.HandleFunc("POST /api/v1/analytics/datasets", create, h.apiRegister)
	rt.HandleFunc("GET /api/v1/analytics/datasets/{code}", read, h.apiGet)
	rt.HandleFunc("POST /api/v1/analytics/datasets/{code}/checks", update, h.apiChecks)
	rt.HandleFunc("POST /api/v1/analytics/datasets/{code}/refresh", update, h.apiRefresh)
	rt.HandleFunc("GET /api/v1/analytics/totals", facts, h.apiTotals)
}

func (h *Handler) explain(r *http.Request) func(error) (web.Refusal, bool) {
	l := h.shell.Localizer(r)
	return func(err error) (web.Refusal, bool) { return web.Explain(l, "analytics.", err) }
}

func answer[T any](w http.ResponseWriter, r *http.Request, status int, v T, err error) {
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, status, v)
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) {
	ds, err := h.cat.List(r.Context(), web.SubjectFrom(r.Context()))
	answer(w, r, http.StatusOK, map[string]any{"items": ds}, err)
}

func (h *Handler) apiRegister(w http.ResponseWriter, r *http.Request) {
	var n NewDataset
	if err := web.DecodeJSON(r, &n); err != nil {
		web.Error(w, r, err)
		return
	}
	d, err := h.cat.Register(r.Context(), web.SubjectFrom(r.Context()), n)
	answer(w, r, http.StatusCreated, d, err)
}

func (h *Handler) apiGet(w http.ResponseWriter, r *http.Request) {
	d, err := h.cat.Get(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("code"))
	answer(w, r, http.StatusOK, d, err)
}

func (h *Handler) apiChecks(w http.ResponseWriter, r *http.Request) {
	d, err := h.cat.RunChecks(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("code"))
	answer(w, r, http.StatusOK, d, err)
}

// refreshBody is the body of a refresh report.
type refreshBody struct {
	RefreshedAt time.Time `json:"refreshed_at"`
}

func (h *Handler) apiRefresh(w http.ResponseWriter, r *http.Request) {
	var b refreshBody
	if err := web.DecodeJSON(r, &b); err != nil {
		web.Error(w, r, err)
		return
	}
	d, err := h.cat.ReportRefresh(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("code"), b.RefreshedAt)
	answer(w, r, http.StatusOK, d, err)
}

// maxPeriodDays bounds a totals query's period.
const maxPeriodDays = 3660

// periodOf reads from and to (YYYY-MM-DD); without them, the last 30
// days in Viet Nam.
func periodOf(q url.Values, now time.Time) (Period, error) {
	p := LastDays(now, web.MinistryZone(), 30)
	var err error
	if s := q.Get("from"); s != "" {
		if p.From, err = calendar.ParseDate(s); err != nil {
			return p, errs.Invalid("from", "give a date as YYYY-MM-DD")
		}
	}
	if s := q.Get("to"); s != "" {
		if p.To, err = calendar.ParseDate(s); err != nil {
			return p, errs.Invalid("to", "give a date as YYYY-MM-DD")
		}
	}
	if err := p.check(); err != nil {
		return p, errs.Invalid("to", "the period must end on or after its first day")
	}
	if p.From.AddDays(maxPeriodDays).String() < p.To.String() {
		return p, errs.Invalid("from", fmt.Sprintf("a period is at most %d days", maxPeriodDays))
	}
	return p, nil
}

// totals is the answer of GET /api/v1/analytics/totals.
type totals struct {
	From   string `json:"from"`
	To     string `json:"to"`
	By     string `json:"by"`
	Total  Totals `json:"total"`
	Groups any    `json:"groups,omitempty"`
}

// apiTotals answers the totals of the units whose facts the caller may
// read, grouped by unit, mission, day, country or procedure.
func (h *Handler) apiTotals(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ctx := r.Context()
	p, err := periodOf(q, time.Now())
	var f Filter
	if err == nil {
		f.Units, err = h.facts.ReadableUnits(ctx, web.SubjectFrom(ctx))
	}
	if err == nil {
		f.Procedure = q.Get("procedure")
		f.Country = q.Get("country")
		if len(f.Procedure) > 64 || len(f.Country) > 2 {
			err = errs.Invalid("procedure", "give a procedure code and a two-letter country code")
		}
	}
	out := totals{From: p.From.String(), To: p.To.String(), By: q.Get("by")}
	if err == nil {
		out.Total, err = h.facts.Total(ctx, p, f)
	}
	if err == nil {
		switch out.By {
		case "":
		case "unit":
			out.Groups, err = h.facts.ByUnit(ctx, p, f)
		case "mission":
			out.Groups, err = h.facts.ByMission(ctx, p, f)
		case "day":
			out.Groups, err = h.facts.ByDay(ctx, p, f)
		case "country":
			out.Groups, err = h.facts.ByCountry(ctx, p, f)
		case "procedure":
			out.Groups, err = h.facts.ByProcedure(ctx, p, f)
		default:
			err = errs.Invalid("by", "choose unit, mission, day, country or procedure")
		}
	}
	answer(w, r, http.StatusOK, out, err)
}

// datasetRow is a dataset as the list shows it.
type datasetRow struct {
	Dataset
	Name, Owner string
	Passed      int
	Failed      int
	NotRun      int
}

type catalogueData struct {
	Rows      []datasetRow
	Totals    []measureRow
	HasTotals bool
	Period    string
}

type measureRow struct {
	Label string
	Value int64
}

func (h *Handler) row(r *http.Request, d Dataset, names *web.Names) datasetRow {
	row := datasetRow{Dataset: d, Name: d.NameVI}
	if web.LangFrom(r.Context()) == i18n.EN {
		row.Name = d.NameEN
	}
	if d.OwnerUnit != 0 {
		row.Owner = names.Unit(d.OwnerUnit)
	}
	for _, c := range d.Checks {
		switch {
		case c.LastRun.IsZero():
			row.NotRun++
		case c.LastOK:
			row.Passed++
		default:
			row.Failed++
		}
	}
	return row
}

// pageCatalogue serves /console/insight/catalogue: the datasets the
// reader may see, with their checks' state, and the analytics store's
// totals over the last 30 days for the units whose facts they may read.
func (h *Handler) pageCatalogue(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "analytics.catalogue.title")
	ctx := r.Context()
	sub := p.Principal.Subject
	ds, err := h.cat.List(ctx, sub)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	names := h.shell.Names(r)
	data := catalogueData{}
	for _, d := range ds {
		data.Rows = append(data.Rows, h.row(r, d, names))
	}
	if p.Can("unit_facts", "read") {
		period := LastDays(time.Now(), web.MinistryZone(), 30)
		units, err := h.facts.ReadableUnits(ctx, sub)
		var t Totals
		if err == nil {
			t, err = h.facts.Total(ctx, period, Filter{Units: units})
		}
		if err != nil {
			web.Error(w, r, err)
			return
		}
		data.HasTotals, data.Period = true, p.T("analytics.totals.period", period.From.String(), period.To.String())
		for _, m := range Measures {
			data.Totals = append(data.Totals, measureRow{Label: p.T("analytics.measure." + string(m)), Value: t.Get(m)})
		}
	}
	h.pages.Render(w, r, http.StatusOK, "catalogue", web.View[catalogueData]{Page: p, Data: data})
}

type datasetData struct {
	Row       datasetRow
	Level     string
	Refresh   string
	Refreshed string
	Checks    []checkRow
	CanUpdate bool
}

type checkRow struct {
	Check
	Kind, Run, Value string
}

func (h *Handler) pageDataset(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	d, err := h.cat.Get(ctx, sub, r.PathValue("code"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "analytics.catalogue.title")
	p.Title = h.row(r, d, h.shell.Names(r)).Name
	zone := web.MinistryZone()
	data := datasetData{Row: h.row(r, d, h.shell.Names(r)), Level: p.T("identity.level." + d.Level.String()),
		Refresh: p.T("analytics.refresh." + string(d.Refresh))}
	if dec, _ := authz.Decide(sub, authz.Update, d.resource(authz.Update)); dec == authz.Allowed {
		data.CanUpdate = true
	}
	if !d.RefreshedAt.IsZero() {
		data.Refreshed = d.RefreshedAt.In(zone).Format("2006-01-02 15:04")
	}
	for _, c := range d.Checks {
		row := checkRow{Check: c, Kind: p.T("analytics.check."+string(c.Kind), c.Threshold), Run: "—", Value: "—"}
		if !c.LastRun.IsZero() {
			row.Run = c.LastRun.In(zone).Format("2006-01-02 15:04")
			row.Value = strconv.FormatFloat(c.LastValue, 'g', 6, 64)
		}
		data.Checks = append(data.Checks, row)
	}
	h.pages.Render(w, r, http.StatusOK, "dataset", web.View[datasetData]{Page: p, Data: data})
}

func (h *Handler) postChecks(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if _, err := h.cat.RunChecks(r.Context(), web.SubjectFrom(r.Context()), code); err != nil {
		web.Error(w, r, err)
		return
	}
	web.RedirectWithFlash(w, r, "/console/insight/catalogue/"+url.PathEscape(code), "analytics.flash.checked")
}

func (h *Handler) postRefresh(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if _, err := h.cat.ReportRefresh(r.Context(), web.SubjectFrom(r.Context()), code, time.Now()); err != nil {
		web.Error(w, r, err)
		return
	}
	web.RedirectWithFlash(w, r, "/console/insight/catalogue/"+url.PathEscape(code), "analytics.flash.refreshed")
}

type newData struct {
	Fields  []web.Field
	Problem web.Refusal
}

func (h *Handler) pageNew(w http.ResponseWriter, r *http.Request) {
	sub := web.SubjectFrom(r.Context())
	h.drawNew(w, r, http.StatusOK, url.Values{"refresh": {string(RefreshMonthly)}, "owner_unit": {strconv.FormatInt(sub.Unit, 10)},
		"classification": {authz.Unclassified.String()}}, web.Refusal{})
}

func (h *Handler) drawNew(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal) {
	p := h.shell.Page(r, web.Console, "analytics.new.title")
	units, err := h.shell.UnitPicker(r, p.T("analytics.field.choose_unit"), func(u web.UnitChoice) bool { return u.Active }, web.UnitID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var refreshes []web.Option
	for _, rf := range Refreshes {
		refreshes = append(refreshes, web.Option{Value: string(rf), Label: p.T("analytics.refresh." + string(rf))})
	}
	f := web.NewForm(p, "dataset-", values, ref)
	fields := []web.Field{
		f.Field("code", "text", "analytics.field.code", true),
		f.Field("name_vi", "text", "analytics.field.name_vi", true),
		f.Field("name_en", "text", "analytics.field.name_en", true),
		f.Field("description", "textarea", "analytics.field.description", false),
		f.Choice("owner_unit", "select", "analytics.field.owner_unit", true, units),
		f.Choice("classification", "select", "analytics.field.classification", true, web.LevelOptions(p, "identity.level.")),
		f.Checkbox("personal_data", "analytics.field.personal_data"),
		f.Field("source_system", "text", "analytics.field.source_system", true),
		f.Choice("refresh", "select", "analytics.field.refresh", true, refreshes),
		f.Field("users", "textarea", "analytics.field.users", false),
		f.Field("freshness_hours", "number", "analytics.field.freshness_hours", false),
	}
	h.pages.Render(w, r, status, "dataset_new", web.View[newData]{Page: p, Data: newData{Fields: fields, Problem: f.Message()}})
}

func (h *Handler) postNew(w http.ResponseWriter, r *http.Request) {
	n := NewDataset{Code: r.PostFormValue("code"), NameVI: r.PostFormValue("name_vi"), NameEN: r.PostFormValue("name_en"),
		Description: r.PostFormValue("description"), SourceSystem: r.PostFormValue("source_system"),
		Refresh: Refresh(r.PostFormValue("refresh")), Users: r.PostFormValue("users"), PersonalData: r.PostFormValue("personal_data") != ""}
	err := func() error {
		var err error
		if n.OwnerUnit, err = strconv.ParseInt(r.PostFormValue("owner_unit"), 10, 64); err != nil {
			return errs.Invalid("owner_unit", "choose the unit that owns the data")
		}
		if n.Level, err = authz.ParseLevel(r.PostFormValue("classification")); err != nil {
			return errs.Invalid("classification", "choose none, confidential, secret or top_secret")
		}
		if s := strings.TrimSpace(r.PostFormValue("freshness_hours")); s != "" {
			if n.FreshnessHours, err = strconv.ParseFloat(s, 64); err != nil {
				return errs.Invalid("freshness_hours", "give a number of hours")
			}
		}
		_, err = h.cat.Register(r.Context(), web.SubjectFrom(r.Context()), n)
		return err
	}()
	if err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.drawNew(w, r, ref.Status, r.PostForm, ref) })
		return
	}
	web.RedirectWithFlash(w, r, "/console/insight/catalogue/"+url.PathEscape(n.Code), "analytics.flash.registered")
}

// ReadableUnits returns the units (with 0, facts of no unit) whose facts
// sub may read (authz.KindUnitFacts): the Filter.Units of its queries.
func (s *Store) ReadableUnits(ctx context.Context, sub authz.Subject) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id FROM units ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("analytics: read units: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	ids := []int64{0}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("analytics: read units: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: read units: %w", err)
	}
	for _, id := range ids {
		if d, _ := authz.Decide(sub, authz.Read, authz.Resource{Kind: authz.KindUnitFacts, Unit: id}); d == authz.Allowed {
			out = append(out, id)
		}
	}
	return out, nil
}
