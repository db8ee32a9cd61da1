package procedures

import (
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

// consoleReconciliationPath is the reconciliation page.
const consoleReconciliationPath = "/console/procedures/reconciliation"

// consoleUnsyncedRow is a dossier whose national portal status lags.
type consoleUnsyncedRow struct {
	Code                    string
	Href                    string
	StatusKey               string
	NationalPortalStatusKey string // "" when nothing was sent yet
	Updated                 when
	Pending                 int
	Attempts                int
	LastError               string
}

// consoleReconciliationData is the reconciliation page.
type consoleReconciliationData struct {
	Rows    []consoleUnsyncedRow
	Problem web.Refusal
}

func (h *Handler) consoleReconciliation(w http.ResponseWriter, r *http.Request) {
	h.showConsoleReconciliation(w, r, http.StatusOK, web.Refusal{})
}

// showConsoleReconciliation draws the reconciliation page with a refused
// resend, if any.
func (h *Handler) showConsoleReconciliation(w http.ResponseWriter, r *http.Request, status int, ref web.Refusal) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	lag, err := h.svc.Reconciliation(ctx, sub, 0)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	z, err := h.zoneOf(ctx, sub.Unit)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "procedures.console.reconciliation.title")
	data := consoleReconciliationData{Problem: ref}
	for _, u := range lag {
		row := consoleUnsyncedRow{Code: u.Code, Href: consoleDossierPath(u.Code), StatusKey: u.Status.Key(), Updated: z.at(u.UpdatedAt),
			Pending: u.Pending, Attempts: u.Attempts, LastError: u.LastError}
		if u.NationalPortalStatus.Valid() {
			row.NationalPortalStatusKey = u.NationalPortalStatus.Key()
		}
		data.Rows = append(data.Rows, row)
	}
	h.pages.Render(w, r, status, "console_reconciliation", web.View[consoleReconciliationData]{Page: p, Data: data})
}

func (h *Handler) consolePostResend(w http.ResponseWriter, r *http.Request) {
	if err := formValues(r); err != nil {
		web.Error(w, r, err)
		return
	}
	if err := h.svc.Resend(r.Context(), web.SubjectFrom(r.Context()), r.PostFormValue("code")); err != nil {
		h.consoleFormError(w, r, err, func(ref web.Refusal) { h.showConsoleReconciliation(w, r, ref.Status, ref) })
		return
	}
	web.RedirectWithFlash(w, r, consoleReconciliationPath, "procedures.console.flash.resent")
}

// consoleIndicator is an indicator of the dashboard.
type consoleIndicator struct {
	Name   string
	Rate   string
	Points string
	Weight string
	Num    int64
	Den    int64
	NoData bool
}

// consoleGroup is a group of the dashboard.
type consoleGroup struct {
	Name       string
	Points     string
	Weight     string
	NoData     bool
	Indicators []consoleIndicator
}

// consoleTrendRow is a month of the trend, for the table beside the chart.
type consoleTrendRow struct {
	Month  string
	Total  string
	OnTime string
}

// consoleIndicesData is the Decision 766 dashboard.
type consoleIndicesData struct {
	Filter  []web.Field
	Problem web.Refusal
	// Shown reports whether a reading is shown (the filter was accepted).
	Shown     bool
	Scope     string
	From, To  when
	Submitted int64
	NoData    bool
	Total     string
	// Partial reports whether some groups had no data, so the total rests
	// on Coverage points of the 100.
	Partial   bool
	Coverage  string
	AvgDays   string
	AvgRating string
	Groups    []consoleGroup
	Chart     template.HTML
	Trend     []consoleTrendRow
}

// decimal writes v with prec decimals, with the page language's decimal
// mark.
func decimal(lang i18n.Lang, v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if lang != i18n.EN {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// indexFilter reads the dashboard's filter: the scope, and the period as
// dates, inclusive, in loc; by default the caller's unit this year so far.
func indexFilter(q url.Values, now time.Time, loc *time.Location) (IndexScope, calendar.Date, calendar.Date, error) {
	scope := IndexScope{Kind: IndexScopeKind(q.Get("scope")), UnitCode: strings.TrimSpace(q.Get("unit"))}
	if scope.Kind == "" {
		scope.Kind = ScopeUnit
	}
	today := calendar.DateOf(now.In(loc))
	from, to := calendar.Date{Year: today.Year, Month: time.January, Day: 1}, today
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = calendar.ParseDate(v); err != nil {
			return scope, from, to, errs.Invalid("from", "write the start of the period as a date, YYYY-MM-DD")
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = calendar.ParseDate(v); err != nil {
			return scope, from, to, errs.Invalid("to", "write the end of the period as a date, YYYY-MM-DD")
		}
	}
	if to.Before(from) {
		return scope, from, to, errs.Invalid("to", "the end of the period is before its start")
	}
	return scope, from, to, nil
}

func (h *Handler) consoleIndices(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	p := h.shell.Page(r, web.Console, "procedures.console.indices.title")
	z, err := h.zoneOf(ctx, sub.Unit)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	scope, from, to, err := indexFilter(q, h.svc.now(), z.cal.Location())
	var rep IndexReport
	if err == nil {
		loc := z.cal.Location()
		rep, err = h.svc.Indices(ctx, sub, scope, from.Time(loc), to.AddDays(1).Time(loc))
	}
	data := consoleIndicesData{}
	status := http.StatusOK
	var ref web.Refusal
	if err != nil {
		var ok bool
		if ref, ok = consoleExplain(p.Localizer(), err); !ok {
			web.Error(w, r, err)
			return
		}
		status = ref.Status
	} else {
		fillIndices(p, z, rep, &data)
	}
	values := url.Values{"scope": {string(scope.Kind)}, "unit": {scope.UnitCode}, "from": {from.String()}, "to": {to.String()}}
	fm := web.NewForm(p, "filter-", values, ref)
	// A unit picker, not a typed agency code: its options are the active
	// units by name, valued by their codes, as the scope reads them.
	units, err := h.shell.UnitPicker(r, p.T("procedures.console.indices.unit.own"), func(u web.UnitChoice) bool { return u.Active }, web.UnitCode)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data.Filter = []web.Field{
		fm.Choice("scope", "select", "procedures.console.indices.scope", true, []web.Option{
			{Value: string(ScopeUnit), Label: p.T("procedures.console.indices.scope.unit")},
			{Value: string(ScopeMissions), Label: p.T("procedures.console.indices.scope.missions")},
			{Value: string(ScopeMinistry), Label: p.T("procedures.indices.scope.ministry")},
		}),
		fm.Choice("unit", "select", "procedures.console.indices.unit", false, units),
		fm.Field("from", "date", "procedures.console.indices.from", true),
		fm.Field("to", "date", "procedures.console.indices.to", true),
	}
	data.Problem = fm.Message()
	h.pages.Render(w, r, status, "console_indices", web.View[consoleIndicesData]{Page: p, Data: data})
}

// fillIndices fills the dashboard with a reading.
func fillIndices(p web.Page, z zoned, rep IndexReport, data *consoleIndicesData) {
	ix := rep.Indices
	data.Shown, data.Submitted, data.NoData = true, rep.Counts.Submitted, ix.NoData
	switch rep.Scope.Kind {
	case ScopeUnit:
		data.Scope = publicUnitName(p.Lang, rep.Unit) + " (" + rep.Unit.Code + ")"
	case ScopeMissions:
		data.Scope = p.T("procedures.console.indices.scope.missions")
	default:
		data.Scope = p.T("procedures.indices.scope.ministry")
	}
	data.From, data.To = z.day(rep.From), z.day(rep.To.Add(-time.Microsecond))
	data.Total = decimal(p.Lang, ix.Total, 1)
	data.Partial, data.Coverage = !ix.NoData && ix.Coverage < 100, decimal(p.Lang, ix.Coverage, 0)
	data.AvgDays, data.AvgRating = p.T("procedures.indices.no_data"), p.T("procedures.indices.no_data")
	if !ix.AvgProcessingDays.NoData {
		data.AvgDays = decimal(p.Lang, ix.AvgProcessingDays.Value, 1)
	}
	if !ix.AvgRating.NoData {
		data.AvgRating = decimal(p.Lang, ix.AvgRating.Value, 2)
	}
	for _, g := range ix.Groups {
		name := p.T(g.Group.Key())
		if g.Group == GroupOnlineService || g.Group == GroupOnlinePayment {
			// Together they are the Decision's "online provision" group.
			name = p.T("procedures.indices.online_provision") + ": " + name
		}
		cg := consoleGroup{Name: name, Points: decimal(p.Lang, g.Points, 1), Weight: decimal(p.Lang, g.Weight, 0), NoData: g.NoData}
		for _, is := range g.Indicators {
			cg.Indicators = append(cg.Indicators, consoleIndicator{Name: p.T(is.Indicator.Key()), Rate: decimal(p.Lang, 100*is.Rate, 1) + "%",
				Points: decimal(p.Lang, is.Points, 1), Weight: decimal(p.Lang, is.Weight, 0), Num: is.Num, Den: is.Den, NoData: is.NoData})
		}
		data.Groups = append(data.Groups, cg)
	}

	chart := web.LineChart{ID: "indices-trend", Title: p.T("procedures.indices.trend"), Desc: p.T("procedures.console.indices.chart_desc"), YMax: 100,
		Series: []web.Series{{Name: p.T("procedures.indices.total")}, {Name: p.T("procedures.console.indices.on_time_rate")}}}
	noData := p.T("procedures.indices.no_data")
	for _, m := range rep.Trend {
		month := m.Month.In(rep.Location).Format("01/2006")
		total, onTime := math.NaN(), math.NaN()
		row := consoleTrendRow{Month: month, Total: noData, OnTime: noData}
		if !m.Indices.NoData {
			total = m.Indices.Total
			row.Total = decimal(p.Lang, total, 1)
		}
		if is, ok := indicatorOf(m.Indices, IndicatorOnTime); ok && !is.NoData {
			onTime = 100 * is.Rate
			row.OnTime = decimal(p.Lang, onTime, 1) + "%"
		}
		chart.Labels = append(chart.Labels, month)
		chart.Series[0].Values = append(chart.Series[0].Values, total)
		chart.Series[1].Values = append(chart.Series[1].Values, onTime)
		data.Trend = append(data.Trend, row)
	}
	data.Chart = chart.SVG()
}

// indicatorOf returns an indicator's score among ix's groups.
func indicatorOf(ix Indices, which Indicator) (IndicatorScore, bool) {
	for _, g := range ix.Groups {
		for _, is := range g.Indicators {
			if is.Indicator == which {
				return is, true
			}
		}
	}
	return IndicatorScore{}, false
}
