package operations

import (
	"bytes"
	"embed"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// PagePath is the operations view in the console.
const PagePath = "/console/insight/operations"

// Handler serves the operations view.
type Handler struct{ web.Capability[Service] }

// NewHandler returns the handler, with its templates parsed once.
func NewHandler(shell *web.Shell, svc *Service) (*Handler, error) {
	h := &Handler{}
	if err := h.Init("operations", shell, svc, templateFS); err != nil {
		return nil, err
	}
	return h, nil
}

// Register adds the view's pages to rt and the console's navigation: who
// reads any unit's figures reaches the routes (authz's grants table);
// the service decides for each unit and level again, and another unit's
// page answers 404.
func (h *Handler) Register(rt *web.Router) {
	read := web.Staff(authz.KindOperations, authz.Read)
	export := web.Staff(authz.KindOperations, authz.Export)
	h.Shell.AddNav(web.Console, web.NavItem{Key: "operations.nav", Href: PagePath, Access: read})
	rt.HandleFunc("GET "+PagePath, read, h.overview)
	rt.HandleFunc("GET "+PagePath+"/units/{unit}", read, h.unit)
	rt.HandleFunc("GET "+PagePath+"/units/{unit}/brief.pdf", export, h.brief)
}

// row is a unit's line in a table.
type row struct {
	Name, Href, Status, StatusText string
	Received, Resolved, Late       int64
	Overdue                        int64
	Index                          string
	TasksOpen, TasksOverdue        int64
	Reports, ReportsLate           int64
	Alerts                         int64
	Link, LinkSince                string
	Backlog                        int64
	HasLink                        bool
	Exchange                       int64
	Reasons                        []string
}

// table is a table of units' rows; P is the page, for its words.
type table struct {
	ID    string
	P     web.Page
	Links bool
	Rows  []row
}

type overviewData struct {
	Weeks       int
	At          string
	Ministry    *row
	Missions    *row
	Departments []row
	MissionRows []row
	// The tables: the ministry's (with the missions' total), the
	// missions' and the departments'.
	MinistryTable, MissionTable, DepartmentTable table
	Map                                          template.HTML
	Trend                                        template.HTML
	Empty                                        bool
}

type unitData struct {
	Weeks     int
	At        string
	Row       row
	Unit      identity.Unit
	Trend     template.HTML
	Documents template.HTML
	WeekRows  []weekRow
	BriefHref string
	Brief     bool
	Mission   bool
}

type weekRow struct {
	Week                          string
	Received, Resolved, Late, Doc int64
	Exchange                      int64
}

func unitName(lang i18n.Lang, u identity.Unit) string {
	if lang == i18n.EN {
		return u.NameEN
	}
	return u.NameVI
}

// unitHref is the unit's page.
func unitHref(id int64) string { return PagePath + "/units/" + strconv.FormatInt(id, 10) }

// rowOf writes a summary as a table's row.
func rowOf(p web.Page, s *Summary, name string) row {
	r := row{Name: name, Href: unitHref(s.Unit.ID), Status: string(s.Status), Received: s.Received(), Resolved: s.Resolved(),
		Late: s.Late(), Overdue: s.Overdue, TasksOpen: s.TasksOpen, TasksOverdue: s.TasksOverdue,
		Reports: s.ReportsOutstanding, ReportsLate: s.ReportsLate, Alerts: s.Alerts, Exchange: sum(s.Exchange)}
	if s.Status != "" {
		r.StatusText = p.T("operations.status." + string(s.Status))
	}
	r.Index = p.T("operations.index_nodata")
	if !s.Indices.NoData {
		r.Index = p.Lang.FormatNumber(s.Indices.Total, 1)
	}
	if l := s.Link; l != nil {
		r.HasLink, r.Link, r.Backlog = true, p.T("operations.link."+l.State), l.Backlog
		if !l.Since.IsZero() {
			r.LinkSince = p.T("operations.link.since", web.ShowTime(l.Since))
		}
	}
	for _, rs := range s.Reasons {
		r.Reasons = append(r.Reasons, p.T(rs.Key, rs.N))
	}
	return r
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	p := h.Shell.Page(r, web.Console, "operations.title")
	o, err := h.Svc.Overview(r.Context(), p.Principal.Subject)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	d := overviewData{Weeks: Weeks, At: web.ShowTime(o.At)}
	if o.Ministry != nil {
		m := rowOf(p, o.Ministry, p.T("operations.ministry"))
		d.Ministry = &m
		t := rowOf(p, o.Missions, p.T("operations.missions_total"))
		t.Href = ""
		d.Missions = &t
		d.Trend = trendChart(p, "ops-trend-ministry", o.Ministry)
	}
	for _, s := range o.Departments {
		d.Departments = append(d.Departments, rowOf(p, s, unitName(p.Lang, s.Unit)))
	}
	var pins []Pin
	count := map[Status]int{}
	for _, s := range o.MissionList {
		rw := rowOf(p, s, unitName(p.Lang, s.Unit))
		d.MissionRows = append(d.MissionRows, rw)
		pins = append(pins, Pin{Country: s.Unit.Country, Label: shortName(s.Unit), Href: rw.Href, Status: s.Status,
			Name: p.T("operations.map.pin", rw.Name, rw.StatusText)})
		count[s.Status]++
	}
	if len(pins) > 0 {
		d.Map = WorldMap(pins, MapText{Title: p.T("operations.map.title"),
			Desc: p.T("operations.map.desc", len(pins), count[StatusOK], count[StatusAttention], count[StatusCritical]),
			Land: p.T("operations.map.land"),
			Legend: map[Status]string{StatusOK: p.T("operations.status.ok"), StatusAttention: p.T("operations.status.attention"),
				StatusCritical: p.T("operations.status.critical")}})
	}
	d.MinistryTable = table{ID: "ops-ministry", P: p}
	if d.Ministry != nil {
		d.MinistryTable.Rows = []row{*d.Ministry, *d.Missions}
	}
	d.MissionTable = table{ID: "ops-missions", P: p, Links: true, Rows: d.MissionRows}
	d.DepartmentTable = table{ID: "ops-departments", P: p, Rows: d.Departments}
	d.Empty = d.Ministry == nil && len(d.Departments) == 0 && len(d.MissionRows) == 0
	h.Pages.Render(w, r, http.StatusOK, "overview", web.View[overviewData]{Page: p, Data: d})
}

// shortName is what the map writes beside a mission: its city, from
// the English name ("… (Paris)", "… in San Francisco").
func shortName(u identity.Unit) string {
	n := u.NameEN
	if i := strings.LastIndex(n, "("); i >= 0 && strings.HasSuffix(n, ")") {
		return n[i+1 : len(n)-1]
	}
	if i := strings.LastIndex(n, " in "); i >= 0 {
		return n[i+4:]
	}
	return u.Code
}

func (h *Handler) unitID(r *http.Request) (int64, error) {
	return web.ParseID("unit", r.PathValue("unit"))
}

func (h *Handler) unit(w http.ResponseWriter, r *http.Request) {
	p := h.Shell.Page(r, web.Console, "operations.title")
	sub := p.Principal.Subject
	id, err := h.unitID(r)
	var s *Summary
	if err == nil {
		s, err = h.Svc.Unit(r.Context(), sub, id)
	}
	if err != nil {
		web.Error(w, r, err) // another unit's answers 404, as a missing one
		return
	}
	name := unitName(p.Lang, s.Unit)
	if s.Unit.Kind == identity.KindMinistry {
		name = p.T("operations.ministry")
	}
	p.Title = name
	d := unitData{Weeks: Weeks, At: web.ShowTime(h.Svc.opts.Now()), Row: rowOf(p, s, name), Unit: s.Unit, Mission: s.Unit.Kind.Mission(),
		BriefHref: unitHref(s.Unit.ID) + "/brief.pdf", Brief: allowed(sub, authz.Export, resource(s.Unit.ID, 0))}
	d.Trend = trendChart(p, "ops-trend", s)
	d.Documents = web.LineChart{ID: "ops-docs", Title: p.T("operations.documents"), Desc: p.T("operations.trend.documents", Weeks),
		Labels: weekLabels(s.Weeks), Series: []web.Series{{Name: p.T("operations.documents"), Values: floats(s.Documents)},
			{Name: p.T("operations.exchange"), Values: floats(s.Exchange)}},
		Format: func(v float64) string { return p.Lang.FormatNumber(v, 0) }}.SVG()
	for i, wk := range s.Weeks {
		c := s.Counts[i]
		d.WeekRows = append(d.WeekRows, weekRow{Week: wk.Format("02/01/2006"), Received: c.Received, Resolved: c.Finished, Late: c.Finished - c.OnTime, Doc: s.Documents[i], Exchange: s.Exchange[i]})
	}
	h.Pages.Render(w, r, http.StatusOK, "unit", web.View[unitData]{Page: p, Data: d})
}

// trendChart draws a summary's weekly dossiers with web's line chart.
func trendChart(p web.Page, id string, s *Summary) template.HTML {
	var rec, res, late []float64
	for _, c := range s.Counts {
		rec, res, late = append(rec, float64(c.Received)), append(res, float64(c.Finished)), append(late, float64(c.Finished-c.OnTime))
	}
	return web.LineChart{ID: id, Title: p.T("operations.trend"), Desc: p.T("operations.trend.desc", Weeks), Labels: weekLabels(s.Weeks),
		Series: []web.Series{{Name: p.T("operations.received"), Values: rec}, {Name: p.T("operations.resolved"), Values: res},
			{Name: p.T("operations.late"), Values: late}},
		Format: func(v float64) string { return p.Lang.FormatNumber(v, 0) }}.SVG()
}

func weekLabels(weeks []time.Time) []string {
	out := make([]string, len(weeks))
	for i, w := range weeks {
		out[i] = w.Format("02/01")
	}
	return out
}

func floats(xs []int64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// percent writes a rate as a whole percentage, or a dash without data.
func percent(num, den int64) string {
	if den == 0 {
		return "—"
	}
	return strconv.Itoa(int(math.Round(100*float64(num)/float64(den)))) + "%"
}

func (h *Handler) brief(w http.ResponseWriter, r *http.Request) {
	p := h.Shell.Page(r, web.Console, "operations.brief.title")
	id, err := h.unitID(r)
	var b bytes.Buffer
	if err == nil {
		err = h.Svc.Brief(r.Context(), p.Principal.Subject, id, p, &b)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="brief-`+strconv.FormatInt(id, 10)+`.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}
