package web

import (
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// LineChart is a line chart drawn on the server as inline SVG: one line
// per series over categories along the x axis (months, days), the y axis
// from zero up. It needs no script, and it is coloured only through the
// chart-* classes of app.css, as the Content-Security-Policy forbids
// inline styles.
//
// The SVG is an image with an accessible name (Title) and description
// (Desc); a page should still give the figures in a table beside it, for
// readers who cannot see it.
type LineChart struct {
	// ID prefixes the ids of the chart's title and description, which the
	// svg element names in aria-labelledby; it must be unique in the page.
	// If empty, one is derived from a hash of the chart, so the same chart
	// always gets the same id.
	ID string
	// Title is the chart's accessible name, shown by browsers as a tooltip.
	Title string
	// Desc says what the chart shows, for screen readers.
	Desc string
	// Labels name the categories along the x axis, in order. When there are
	// too many to fit, only every k-th is written.
	Labels []string
	// Series are the lines, drawn in order; the n-th has the class
	// chart-series-n (1 to 6, then again from 1).
	Series []Series
	// YMax is the top of the y axis. If zero or less, it is the smallest
	// round number (1, 2, 2.5 or 5 times a power of ten) at or above the
	// largest value. Values above it are drawn at the top edge and values
	// below zero at the bottom; their tooltips show the true value.
	YMax float64
	// YUnit is written after every value: "%", " ngày".
	YUnit string
	// Format writes a value without its unit. If nil, values are written
	// with a decimal point and at most two decimals.
	Format func(float64) string
}

// Series is one line of a LineChart.
type Series struct {
	// Name is shown in the legend and the points' tooltips.
	Name string
	// Values are the points, one per label; NaN (or an infinity) means no
	// data, which breaks the line. Values past the last label are ignored
	// and missing ones count as no data.
	Values []float64
}

// The chart's fixed geometry, in viewBox units; CSS scales the whole to
// the width of its container.
const (
	chartWidth       = 720.0
	chartLeft        = 64.0 // room for the y tick labels
	chartRight       = 20.0
	chartTop         = 16.0
	chartPlotHeight  = 240.0
	chartXLabelSpace = 36.0
	chartLegendRow   = 22.0
	chartLegendCols  = 3
	chartYTicks      = 5
	chartLabelWidth  = 64.0 // the least room an x label gets before labels are thinned
	chartSeriesCount = 6    // the chart-series-n classes app.css defines
)

// SVG returns the chart as an svg element to place in a page. All text
// is escaped; the output is well-formed XML and depends only on the chart.
func (c LineChart) SVG() template.HTML {
	legendRows := (len(c.Series) + chartLegendCols - 1) / chartLegendCols
	height := chartTop + chartPlotHeight + chartXLabelSpace + float64(legendRows)*chartLegendRow + 8
	plotW := chartWidth - chartLeft - chartRight
	bottom := chartTop + chartPlotHeight
	ymax := c.YMax
	if !(ymax > 0) || math.IsInf(ymax, 1) {
		ymax = niceCeil(c.maxValue())
	}
	step := plotW / float64(max(len(c.Labels), 1))
	x := func(i int) float64 { return chartLeft + step*(float64(i)+0.5) }
	y := func(v float64) float64 {
		v = min(max(v, 0), ymax)
		return bottom - v/ymax*chartPlotHeight
	}
	id := c.ID
	if id == "" {
		id = c.hashID()
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %s %s" role="img" aria-labelledby="%s-title %s-desc">`,
		num(chartWidth), num(height), escapeXML(id), escapeXML(id))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`, escapeXML(id), escapeXML(c.Title))
	fmt.Fprintf(&b, `<desc id="%s-desc">%s</desc>`, escapeXML(id), escapeXML(c.Desc))

	// Gridlines and y tick labels, then the axes over them.
	for i := 0; i <= chartYTicks; i++ {
		v := ymax * float64(i) / chartYTicks
		ty := y(v)
		if i > 0 {
			fmt.Fprintf(&b, `<line class="chart-grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(chartLeft), num(ty), num(chartLeft+plotW), num(ty))
		}
		fmt.Fprintf(&b, `<text class="chart-label" x="%s" y="%s" dy="0.35em" text-anchor="end">%s</text>`,
			num(chartLeft-8), num(ty), escapeXML(c.value(v)))
	}
	fmt.Fprintf(&b, `<line class="chart-axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(chartLeft), num(chartTop), num(chartLeft), num(bottom))
	fmt.Fprintf(&b, `<line class="chart-axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(chartLeft), num(bottom), num(chartLeft+plotW), num(bottom))

	every := max(1, int(math.Ceil(float64(len(c.Labels))/math.Floor(plotW/chartLabelWidth))))
	for i, l := range c.Labels {
		if i%every == 0 {
			fmt.Fprintf(&b, `<text class="chart-label" x="%s" y="%s" text-anchor="middle">%s</text>`, num(x(i)), num(bottom+22), escapeXML(l))
		}
	}

	for si, s := range c.Series {
		fmt.Fprintf(&b, `<g class="chart-series-%d">`, si%chartSeriesCount+1)
		for _, run := range c.runs(s) {
			if len(run) < 2 {
				continue // a lone point has its marker only
			}
			b.WriteString(`<polyline class="chart-line" points="`)
			for j, i := range run {
				if j > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(num(x(i)) + "," + num(y(s.Values[i])))
			}
			b.WriteString(`"/>`)
		}
		for i, l := range c.Labels {
			if v, ok := s.at(i); ok {
				fmt.Fprintf(&b, `<circle class="chart-point" cx="%s" cy="%s" r="3.5"><title>%s</title></circle>`,
					num(x(i)), num(y(v)), escapeXML(s.Name+" — "+l+": "+c.value(v)))
			}
		}
		b.WriteString(`</g>`)
	}

	colW := (chartWidth - chartLeft) / chartLegendCols
	for si, s := range c.Series {
		lx := chartLeft + colW*float64(si%chartLegendCols)
		ly := bottom + chartXLabelSpace + chartLegendRow*float64(si/chartLegendCols) + chartLegendRow/2
		fmt.Fprintf(&b, `<g class="chart-series-%d"><line class="chart-line" x1="%s" y1="%s" x2="%s" y2="%s"/>`,
			si%chartSeriesCount+1, num(lx), num(ly), num(lx+24), num(ly))
		fmt.Fprintf(&b, `<text class="chart-label" x="%s" y="%s" dy="0.35em">%s</text></g>`, num(lx+30), num(ly), escapeXML(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every piece of text in it went through escapeXML
}

// at returns the series' value at label i, and whether there is one.
func (s Series) at(i int) (float64, bool) {
	if i >= len(s.Values) || math.IsNaN(s.Values[i]) || math.IsInf(s.Values[i], 0) {
		return 0, false
	}
	return s.Values[i], true
}

// runs splits the label indexes at which s has data into maximal runs of
// neighbours: each is drawn as one line, so a month without data is a gap
// rather than a line drawn across it.
func (c LineChart) runs(s Series) [][]int {
	var out [][]int
	var cur []int
	for i := range c.Labels {
		if _, ok := s.at(i); ok {
			cur = append(cur, i)
			continue
		}
		if cur != nil {
			out = append(out, cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

// maxValue returns the largest value drawn, or 0 if there is none.
func (c LineChart) maxValue() float64 {
	m := 0.0
	for _, s := range c.Series {
		for i := range c.Labels {
			if v, ok := s.at(i); ok {
				m = max(m, v)
			}
		}
	}
	return m
}

// value writes v with the chart's unit.
func (c LineChart) value(v float64) string {
	if c.Format != nil {
		return c.Format(v) + c.YUnit
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) + c.YUnit
}

// hashID derives an id from everything the chart shows.
func (c LineChart) hashID() string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%q %q %q %g %q", c.Title, c.Desc, c.Labels, c.YMax, c.YUnit)
	for _, s := range c.Series {
		fmt.Fprintf(h, " %q %v", s.Name, s.Values)
	}
	return fmt.Sprintf("chart-%016x", h.Sum64())
}

// niceCeil returns the smallest of 1, 2, 2.5, 5 and 10 times a power of
// ten that is at least v, so that the y ticks fall on round numbers; 1
// when v is not positive.
func niceCeil(v float64) float64 {
	if !(v > 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		// The tolerance keeps a value that is already round, such as
		// 100, from being pushed to the next step by rounding error.
		if m*p >= v*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// num writes a coordinate to a tenth of a unit, which is finer than any
// screen shows at the chart's size.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// escapeXML escapes s for XML text and attribute values; characters XML
// cannot carry (control characters, invalid UTF-8) become U+FFFD.
func escapeXML(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}
