package forecast

import (
	"embed"
	"errors"
	"fmt"
	"html"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// PagePath is the forecast page in the console.
const PagePath = "/console/insight/forecast"

// Handler serves the forecast page.
type Handler struct {
	svc   *Service
	pages *web.Templates
	shell *web.Shell
}

// NewHandler returns the handler, with its template parsed once.
func NewHandler(shell *web.Shell, svc *Service) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("forecast: NewHandler needs the service")
	}
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("forecast: parse page templates: %w", err)
	}
	return &Handler{svc: svc, pages: pages, shell: shell}, nil
}

// Register adds the page to rt and the console's navigation: a unit's
// heads read its forecast (authz's grants table); the service decides
// for each unit again.
func (h *Handler) Register(rt *web.Router) {
	read := web.Staff(authz.KindForecast, authz.Read)
	h.shell.AddNav(web.Console, web.NavItem{Key: "forecast.nav", Href: PagePath, Access: read})
	rt.HandleFunc("GET "+PagePath, read, h.page)
}

// unitLink is a unit the reader may choose.
type unitLink struct {
	Name, Href string
	Current    bool
}

// card is one procedure's forecast as the page shows it.
type card struct {
	ID, Name, Code string
	Chart          template.HTML
	Problem        string
	Model          string
	Backtest       *Result
	MASE, Baseline string
	Cov80, Cov95   string
	Better         bool
	Minutes        string
	Rows           []weekRow
}

type weekRow struct {
	Week, Mean, Range, Hours, HoursRange string
	Holiday                              bool
}

type pageData struct {
	Units   []unitLink
	Unit    string
	Cards   []card
	Horizon int
	Holdout int
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	p := h.shell.Page(r, web.Console, "forecast.title")
	units, err := h.svc.Units(ctx, sub)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	d := pageData{Horizon: Horizon, Holdout: Holdout}
	var chosen int64
	if v := r.URL.Query().Get("unit"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			web.Error(w, r, errs.Invalid("unit", "must be a unit's number from the list"))
			return
		}
		chosen = id
	} else if len(units) > 0 {
		chosen = units[0].ID
		for _, u := range units {
			if u.ID == sub.Unit {
				chosen = u.ID // one's own unit first
			}
		}
	}
	for _, u := range units {
		d.Units = append(d.Units, unitLink{Name: unitName(p.Lang, u), Href: PagePath + "?unit=" + strconv.FormatInt(u.ID, 10), Current: u.ID == chosen})
	}
	if chosen != 0 {
		unit, outlooks, err := h.svc.Unit(ctx, sub, chosen)
		if err != nil {
			web.Error(w, r, err) // another unit's, or none: 404 alike
			return
		}
		d.Unit = unitName(p.Lang, unit)
		for _, o := range outlooks {
			d.Cards = append(d.Cards, h.card(p, o))
		}
	}
	h.pages.Render(w, r, http.StatusOK, "forecast", web.View[pageData]{Page: p, Data: d})
}

func unitName(lang i18n.Lang, u identity.Unit) string {
	if lang == i18n.EN {
		return u.NameEN
	}
	return u.NameVI
}

func dmy(d calendar.Date) string { return fmt.Sprintf("%02d/%02d/%04d", d.Day, int(d.Month), d.Year) }

func (h *Handler) card(p web.Page, o *Outlook) card {
	num := func(x float64, dec int) string { return p.Lang.FormatNumber(x, dec) }
	c := card{ID: "p-" + strings.ReplaceAll(o.Procedure.Code, ".", "-"), Code: o.Procedure.Code, Problem: o.Problem, Model: o.Model,
		Minutes: num(o.Minutes, 0)}
	c.Name = o.Procedure.NameVI
	if p.Lang == i18n.EN {
		c.Name = o.Procedure.NameEN
	}
	if o.Problem != "" {
		c.Problem = p.T("forecast.short", len(o.History.Values), MinWeeks)
	}
	if b := o.Backtest; b != nil {
		c.Backtest = b
		c.MASE, c.Baseline = num(b.MASE, 2), num(b.BaselineMASE, 2)
		c.Cov80, c.Cov95 = num(100*b.Coverage80, 0), num(100*b.Coverage95, 0)
		c.Better = b.MASE < b.BaselineMASE
	}
	for i, f := range o.Forecast {
		mean, lo, hi := o.WorkloadHours(i)
		c.Rows = append(c.Rows, weekRow{Week: dmy(f.Week), Mean: num(f.Mean, 0), Range: num(f.Lo80, 0) + "–" + num(f.Hi80, 0),
			Hours: num(mean, 1), HoursRange: num(lo, 1) + "–" + num(hi, 1), Holiday: f.Holiday})
	}
	c.Chart = chart(p, o, c.Name)
	return c
}

// chartWeeks is how much history the chart shows: two years.
const chartWeeks = 104

// chart draws the history, the forecast and its 80 % and 95 % bands, and
// marks the weeks of Tết and of closed days, as an SVG the server writes
// (numbers and escaped text only). Its description says in words what
// it shows, for readers who cannot see it.
func chart(p web.Page, o *Outlook, name string) template.HTML {
	const w, ht, left, right, top, bottom = 720.0, 260.0, 44.0, 8.0, 10.0, 26.0
	hist := o.History.Values
	from := max(0, len(hist)-chartWeeks)
	hist = hist[from:]
	n := len(hist) + len(o.Forecast)
	if n < 2 {
		return ""
	}
	ymax := 1.0
	for _, v := range hist {
		ymax = math.Max(ymax, v)
	}
	for _, f := range o.Forecast {
		ymax = math.Max(ymax, f.Hi95)
	}
	ymax = niceCeil(ymax)
	x := func(i int) float64 { return left + (w-left-right)*float64(i)/float64(n-1) }
	y := func(v float64) float64 { return top + (ht-top-bottom)*(1-v/ymax) }
	var b strings.Builder
	id := "c-" + strings.ReplaceAll(o.Procedure.Code, ".", "-")
	start := o.History.Week(from)
	fmt.Fprintf(&b, `<svg class="forecast-chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-t %s-d" preserveAspectRatio="xMidYMid meet">`, w, ht, id, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title>`, id, html.EscapeString(p.T("forecast.chart.title", name)))
	desc := p.T("forecast.chart.desc", len(hist), dmy(start), len(o.Forecast))
	if len(o.Forecast) > 0 {
		f := o.Forecast[0]
		desc += " " + p.T("forecast.chart.next", dmy(f.Week), p.Lang.FormatNumber(f.Mean, 0), p.Lang.FormatNumber(f.Lo80, 0), p.Lang.FormatNumber(f.Hi80, 0))
	}
	fmt.Fprintf(&b, `<desc id="%s-d">%s</desc>`, id, html.EscapeString(desc))
	// Grid and the y axis: 0, half, top.
	for _, v := range []float64{0, ymax / 2, ymax} {
		fmt.Fprintf(&b, `<line class="fc-grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, left, w-right, y(v), y(v))
		fmt.Fprintf(&b, `<text class="fc-label" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, left-4, y(v)+4, p.Lang.FormatNumber(v, 0))
	}
	// Holidays: Tết's week and weeks with closed days, in history and forecast.
	rows := features(start, n, nil)
	for i := range n {
		if rows[i][2*harmonics+tetBefore] == 1 {
			fmt.Fprintf(&b, `<rect class="fc-tet" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
				x(i)-2, top, 4.0, ht-top-bottom, html.EscapeString(p.T("forecast.chart.tet", dmy(start.AddDays(7*i)))))
		}
	}
	for _, f := range o.Forecast {
		if f.Holiday {
			i := len(hist) + daysBetween(o.History.Week(len(o.History.Values)), f.Week)/7
			fmt.Fprintf(&b, `<circle class="fc-holiday" cx="%.1f" cy="%.1f" r="3"/>`, x(i), ht-bottom+6)
		}
	}
	// Year labels at each year's first week.
	for i := range n {
		d := start.AddDays(7 * i)
		if d.Month == 1 && d.Day <= 7 {
			fmt.Fprintf(&b, `<line class="fc-grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><text class="fc-label" x="%.1f" y="%.1f">%d</text>`,
				x(i), x(i), top, ht-bottom, x(i)+3, ht-6, d.Year)
		}
	}
	// Bands: 95 % then 80 %, from the last week of history.
	band := func(class string, lo, hi func(Forecast) float64) {
		var pts []string
		last := len(hist) - 1
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(last), y(hist[last])))
		for i, f := range o.Forecast {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(len(hist)+i), y(hi(f))))
		}
		for i := len(o.Forecast) - 1; i >= 0; i-- {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(len(hist)+i), y(lo(o.Forecast[i]))))
		}
		fmt.Fprintf(&b, `<polygon class="%s" points="%s"/>`, class, strings.Join(pts, " "))
	}
	if len(o.Forecast) > 0 {
		band("fc-band95", func(f Forecast) float64 { return f.Lo95 }, func(f Forecast) float64 { return f.Hi95 })
		band("fc-band80", func(f Forecast) float64 { return f.Lo80 }, func(f Forecast) float64 { return f.Hi80 })
	}
	var pts []string
	for i, v := range hist {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
	}
	fmt.Fprintf(&b, `<polyline class="fc-history" points="%s"/>`, strings.Join(pts, " "))
	if len(o.Forecast) > 0 {
		last := len(hist) - 1
		pts = []string{fmt.Sprintf("%.1f,%.1f", x(last), y(hist[last]))}
		for i, f := range o.Forecast {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(len(hist)+i), y(f.Mean)))
		}
		fmt.Fprintf(&b, `<polyline class="fc-forecast" points="%s"/>`, strings.Join(pts, " "))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // numbers and escaped text only
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
