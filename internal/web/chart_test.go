package web

import (
	"encoding/xml"
	"io"
	"io/fs"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// node is an element of a parsed SVG.
type node struct {
	name     string
	attrs    map[string]string
	text     string // the element's own character data
	children []*node
}

// parseSVG parses svg as XML, failing the test if it is not well formed.
func parseSVG(t *testing.T, svg string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	d.Strict = true
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if root != nil {
				t.Fatalf("chart has two root elements")
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
	if root == nil || root.name != "svg" {
		t.Fatalf("chart's root is not svg:\n%s", svg)
	}
	return root
}

// all returns every element under n (n included) named name, or every
// element when name is "*".
func (n *node) all(name string) []*node {
	var out []*node
	if n.name == name || name == "*" {
		out = append(out, n)
	}
	for _, c := range n.children {
		out = append(out, c.all(name)...)
	}
	return out
}

// seriesGroup returns the plotted group of the i-th series (1-based
// class), the first g with that class.
func seriesGroup(t *testing.T, root *node, class string) *node {
	t.Helper()
	for _, g := range root.all("g") {
		if g.attrs["class"] == class {
			return g
		}
	}
	t.Fatalf("no group of class %q", class)
	return nil
}

func attrFloat(t *testing.T, n *node, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.attrs[name], 64)
	if err != nil {
		t.Fatalf("%s %s=%q: %v", n.name, name, n.attrs[name], err)
	}
	return v
}

func sampleChart() LineChart {
	return LineChart{
		Title:  "Tỷ lệ đúng hạn",
		Desc:   "Tỷ lệ hồ sơ giải quyết đúng hạn theo tháng",
		Labels: []string{"01/2026", "02/2026", "03/2026", "04/2026"},
		Series: []Series{
			{Name: "Cục Lãnh sự", Values: []float64{80, 90, 85, 100}},
			{Name: "Đại sứ quán tại Nhật Bản", Values: []float64{50, math.NaN(), 70, 75}},
		},
		YMax:  100,
		YUnit: "%",
	}
}

func TestChartIsAnAccessibleImage(t *testing.T) {
	root := parseSVG(t, string(sampleChart().SVG()))
	if root.attrs["role"] != "img" {
		t.Errorf("role = %q, want img", root.attrs["role"])
	}
	if !regexp.MustCompile(`^0 0 \d+(\.\d)? \d+(\.\d)?$`).MatchString(root.attrs["viewBox"]) {
		t.Errorf("viewBox = %q, want a fixed 0 0 w h", root.attrs["viewBox"])
	}
	if _, ok := root.attrs["width"]; ok {
		t.Error("svg has a fixed width; CSS sizes it to its container")
	}
	ids := map[string]string{}
	for _, c := range root.children {
		if c.attrs["id"] != "" {
			ids[c.attrs["id"]] = c.name
		}
	}
	labelled := strings.Fields(root.attrs["aria-labelledby"])
	if len(labelled) != 2 || ids[labelled[0]] != "title" || ids[labelled[1]] != "desc" {
		t.Errorf("aria-labelledby = %q, want the ids of the title and desc (have %v)", root.attrs["aria-labelledby"], ids)
	}
	if got := root.all("title")[0].text; got != "Tỷ lệ đúng hạn" {
		t.Errorf("title = %q", got)
	}
	var texts []string
	for _, n := range root.all("text") {
		texts = append(texts, n.text)
	}
	for _, want := range []string{"0%", "20%", "100%", "01/2026", "04/2026", "Cục Lãnh sự", "Đại sứ quán tại Nhật Bản"} {
		if !strings.Contains("\x00"+strings.Join(texts, "\x00")+"\x00", "\x00"+want+"\x00") {
			t.Errorf("no text %q among the axis labels and legend %q", want, texts)
		}
	}
}

func TestChartEscapesHostileText(t *testing.T) {
	hostile := `</title><script>alert(1)</script>"' onload="x" &amp; ` + "\x00\x1b"
	c := LineChart{
		ID:     `x" onmouseover="alert(1)`,
		Title:  hostile,
		Desc:   hostile,
		Labels: []string{hostile, "b"},
		Series: []Series{{Name: hostile, Values: []float64{1, 2}}},
		YUnit:  `<b>`,
	}
	root := parseSVG(t, string(c.SVG()))
	if n := len(root.all("script")); n != 0 {
		t.Fatalf("hostile text made %d script elements", n)
	}
	// Characters XML cannot carry are replaced; everything else survives
	// as text.
	want := strings.TrimSuffix(hostile, "\x00\x1b") + "\uFFFD\uFFFD"
	if got := root.all("title")[0].text; got != want {
		t.Errorf("title text = %q, want %q", got, want)
	}
	if got := root.all("desc")[0].text; got != want {
		t.Errorf("desc text = %q, want %q", got, want)
	}
	var found bool
	for _, n := range root.all("text") {
		found = found || n.text == want
	}
	if !found {
		t.Error("the hostile label or series name is not shown as text")
	}
	for _, n := range root.all("*") {
		for a := range n.attrs {
			if strings.HasPrefix(a, "on") {
				t.Errorf("hostile text added event attribute %s to %s", a, n.name)
			}
		}
	}
}

func TestChartGapsSplitTheLine(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name    string
		values  []float64
		lines   []int // points per polyline
		markers int
	}{
		{"no gaps", []float64{1, 2, 3, 4, 5}, []int{5}, 5},
		{"one gap", []float64{1, 2, nan, 4, 5}, []int{2, 2}, 4},
		{"lone points have markers only", []float64{nan, 1, nan, 3, nan}, nil, 2},
		{"infinity is no data", []float64{1, math.Inf(1), 3, 4, 5}, []int{3}, 4},
		{"missing values are no data", []float64{1, 2, 3}, []int{3}, 3},
		{"values past the labels are ignored", []float64{1, 2, 3, 4, 5, 6, 7}, []int{5}, 5},
		{"all missing", nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := LineChart{Labels: []string{"a", "b", "c", "d", "e"}, Series: []Series{{Name: "s", Values: tt.values}}}
			g := seriesGroup(t, parseSVG(t, string(c.SVG())), "chart-series-1")
			var lines []int
			for _, p := range g.all("polyline") {
				lines = append(lines, len(strings.Fields(p.attrs["points"])))
			}
			if !slices.Equal(lines, tt.lines) {
				t.Errorf("polylines of %v points, want %v", lines, tt.lines)
			}
			if n := len(g.all("circle")); n != tt.markers {
				t.Errorf("%d markers, want %d", n, tt.markers)
			}
		})
	}
}

func TestChartPlacesPointsOnTheScale(t *testing.T) {
	c := LineChart{Labels: []string{"a", "b", "c", "d"}, Series: []Series{{Name: "s", Values: []float64{0, 50, 100, 150}}}, YMax: 100}
	root := parseSVG(t, string(c.SVG()))
	circles := seriesGroup(t, root, "chart-series-1").all("circle")
	if len(circles) != 4 {
		t.Fatalf("%d markers, want 4", len(circles))
	}
	bottom, top := attrFloat(t, circles[0], "cy"), attrFloat(t, circles[2], "cy")
	if !(top < bottom) {
		t.Fatalf("100 drawn at y=%v, not above 0 at y=%v", top, bottom)
	}
	if mid := attrFloat(t, circles[1], "cy"); math.Abs(mid-(top+bottom)/2) > 0.1 {
		t.Errorf("50 of 100 drawn at y=%v, want halfway, %v", mid, (top+bottom)/2)
	}
	if over := attrFloat(t, circles[3], "cy"); over != top {
		t.Errorf("150 over a YMax of 100 drawn at y=%v, want the top edge %v", over, top)
	}
	if got := circles[3].children[0].text; got != "s — d: 150" {
		t.Errorf("tooltip of the clamped point = %q, want its true value", got)
	}
	var xs []float64
	for _, c := range circles {
		xs = append(xs, attrFloat(t, c, "cx"))
	}
	for i := 1; i < len(xs); i++ {
		if !(xs[i] > xs[i-1]) {
			t.Errorf("x positions %v are not increasing", xs)
		}
	}
}

func TestChartYAxisEndsOnARoundNumber(t *testing.T) {
	tests := []struct {
		max, want float64
	}{
		{0, 1}, {-5, 1}, {0.3, 0.5}, {1, 1}, {1.2, 2}, {2.1, 2.5}, {3, 5}, {7, 10}, {10, 10}, {87, 100}, {100, 100}, {101, 200}, {12.5, 20},
	}
	for _, tt := range tests {
		if got := niceCeil(tt.max); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("niceCeil(%v) = %v, want %v", tt.max, got, tt.want)
		}
	}
	c := LineChart{Labels: []string{"a", "b"}, Series: []Series{{Name: "s", Values: []float64{0.2, 0.3}}}}
	root := parseSVG(t, string(c.SVG()))
	var ticks []string
	for _, n := range root.all("text") {
		if n.attrs["text-anchor"] == "end" {
			ticks = append(ticks, n.text)
		}
	}
	if got := strings.Join(ticks, " "); got != "0 0.1 0.2 0.3 0.4 0.5" {
		t.Errorf("y ticks = %q, want 0 to 0.5 by 0.1", got)
	}
}

func TestChartThinsCrowdedLabels(t *testing.T) {
	var labels []string
	for i := range 36 {
		labels = append(labels, strconv.Itoa(i))
	}
	root := parseSVG(t, string(LineChart{Labels: labels}.SVG()))
	var shown []string
	for _, n := range root.all("text") {
		if n.attrs["text-anchor"] == "middle" {
			shown = append(shown, n.text)
		}
	}
	if len(shown) == 0 || len(shown) >= len(labels) || shown[0] != "0" {
		t.Errorf("of 36 labels, shown %q: want a thinned subset starting with the first", shown)
	}
}

func TestChartOutputIsDeterministic(t *testing.T) {
	a, b := sampleChart().SVG(), sampleChart().SVG()
	if a != b {
		t.Fatal("the same chart rendered twice differs")
	}
	other := sampleChart()
	other.Series[0].Values = []float64{80, 90, 85, 99}
	idOf := func(c LineChart) string { return parseSVG(t, string(c.SVG())).all("title")[0].attrs["id"] }
	if idOf(sampleChart()) == idOf(other) {
		t.Error("two different charts got the same derived id")
	}
	named := sampleChart()
	named.ID = "trend"
	if got := idOf(named); got != "trend-title" {
		t.Errorf("title id = %q, want trend-title from the chart's ID", got)
	}
}

// The CSP forbids inline styles, so a chart must carry none, and every
// class it uses must be one app.css styles.
func TestChartHasNoInlineStyleAndOnlyStyledClasses(t *testing.T) {
	css, err := fs.ReadFile(staticFS, "static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	c := sampleChart()
	for i := range 7 { // more series than colours: the classes wrap round
		c.Series = append(c.Series, Series{Name: strconv.Itoa(i), Values: []float64{1, 2, 3, 4}})
	}
	svg := string(c.SVG())
	root := parseSVG(t, svg)
	if len(root.all("style")) > 0 {
		t.Error("chart has a style element")
	}
	classes := map[string]bool{}
	for _, n := range root.all("*") {
		if _, ok := n.attrs["style"]; ok {
			t.Errorf("%s has a style attribute", n.name)
		}
		for _, cl := range strings.Fields(n.attrs["class"]) {
			classes[cl] = true
		}
	}
	if classes["chart-series-7"] {
		t.Error("the 7th series got class chart-series-7; app.css defines six")
	}
	for cl := range classes {
		if !regexp.MustCompile(`\.` + regexp.QuoteMeta(cl) + `\b`).Match(css) {
			t.Errorf("chart uses class %q, which app.css does not style", cl)
		}
	}
	for _, want := range []string{"chart-axis", "chart-grid", "chart-label", "chart-line", "chart-point", "chart-series-6"} {
		if !classes[want] {
			t.Errorf("chart does not use class %q", want)
		}
	}
}
