package operations

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// capitals are the coordinates (latitude, longitude in degrees) of the
// capitals of the countries where Viet Nam keeps missions, by ISO 3166-1
// alpha-2 code: a mission is drawn at its country's capital, and missions
// sharing a country are fanned out around it.
var capitals = map[string][2]float64{
	"VN": {21.03, 105.85}, "US": {38.90, -77.04}, "FR": {48.86, 2.35}, "JP": {35.68, 139.69}, "AU": {-35.28, 149.13},
	"ZA": {-25.75, 28.19}, "BR": {-15.79, -47.88}, "RU": {55.76, 37.62}, "CN": {39.90, 116.41}, "EG": {30.04, 31.24},
	"CH": {46.95, 7.45}, "GB": {51.51, -0.13}, "DE": {52.52, 13.40}, "IT": {41.90, 12.50}, "ES": {40.42, -3.70},
	"IN": {28.61, 77.21}, "KR": {37.57, 126.98}, "KP": {39.04, 125.76}, "TH": {13.76, 100.50}, "LA": {17.97, 102.63},
	"KH": {11.56, 104.92}, "SG": {1.35, 103.82}, "MY": {3.14, 101.69}, "ID": {-6.21, 106.85}, "PH": {14.60, 120.98},
	"MM": {19.76, 96.08}, "BN": {4.90, 114.94}, "CA": {45.42, -75.70}, "MX": {19.43, -99.13}, "CU": {23.11, -82.37},
	"AR": {-34.60, -58.38}, "CL": {-33.45, -70.67}, "VE": {10.48, -66.90}, "NG": {9.08, 7.40}, "KE": {-1.29, 36.82},
	"DZ": {36.75, 3.06}, "MA": {34.02, -6.84}, "SA": {24.71, 46.68}, "AE": {24.45, 54.38}, "TR": {39.93, 32.86},
	"IL": {31.77, 35.21}, "IR": {35.69, 51.39}, "PK": {33.68, 73.05}, "BD": {23.81, 90.41}, "NZ": {-41.29, 174.78},
	"MN": {47.89, 106.91}, "UA": {50.45, 30.52}, "PL": {52.23, 21.01}, "CZ": {50.08, 14.44}, "HU": {47.50, 19.04},
	"SE": {59.33, 18.07}, "NL": {52.37, 4.90}, "BE": {50.85, 4.35}, "AT": {48.21, 16.37}, "KZ": {51.17, 71.45},
}

// land is a coarse outline of the continents, (longitude, latitude)
// pairs: enough to place the missions, small enough to send with every
// page (a few hundred bytes of path).
var land = [][]float64{
	// North America.
	{-168, 66, -156, 71, -125, 70, -95, 72, -80, 70, -62, 60, -55, 50, -67, 44, -76, 35, -80, 26, -82, 30, -90, 29, -97, 27, -97, 20,
		-90, 21, -87, 15, -83, 10, -77, 8, -86, 12, -95, 16, -105, 20, -110, 24, -115, 30, -118, 34, -124, 40, -124, 48, -132, 55, -140, 60, -152, 59, -165, 62},
	// Greenland.
	{-55, 60, -45, 60, -20, 70, -20, 82, -60, 82, -70, 77, -55, 70},
	// South America.
	{-77, 8, -60, 10, -50, 0, -35, -5, -39, -15, -48, -26, -58, -35, -65, -42, -68, -52, -72, -50, -74, -40, -71, -30, -70, -18, -76, -12, -81, -5, -80, 1},
	// Eurasia.
	{-10, 36, -9, 43, -2, 44, -5, 48, 2, 51, 8, 54, 10, 58, 5, 62, 15, 69, 28, 71, 40, 67, 60, 69, 80, 73, 105, 78, 140, 72, 170, 70, 180, 66,
		170, 60, 160, 55, 142, 50, 135, 43, 128, 38, 126, 35, 121, 31, 120, 23, 110, 21, 106, 17, 109, 12, 105, 9, 100, 13, 101, 3, 104, 1,
		98, 8, 97, 17, 92, 22, 88, 22, 80, 15, 77, 8, 73, 20, 67, 25, 58, 23, 59, 22, 55, 17, 44, 12, 43, 16, 35, 28, 36, 36, 27, 37, 26, 40,
		23, 36, 19, 42, 13, 45, 16, 41, 12, 38, 8, 44, 3, 43, -1, 37, -6, 36},
	// Africa.
	{-17, 21, -17, 15, -12, 7, -8, 4, 0, 5, 9, 4, 10, -2, 13, -6, 12, -17, 15, -27, 18, -34, 26, -34, 33, -26, 40, -15, 40, -5, 51, 11,
		43, 12, 38, 18, 33, 28, 32, 31, 20, 32, 10, 37, -2, 35, -10, 30},
	// Australia.
	{114, -22, 114, -34, 124, -34, 132, -32, 140, -38, 150, -38, 153, -28, 146, -19, 142, -11, 136, -12, 130, -12, 122, -17},
	// Great Britain and Japan.
	{-5, 50, 1, 51, 0, 53, -2, 56, -5, 58, -6, 55, -3, 54, -5, 52},
	{130, 31, 135, 34, 140, 35, 142, 40, 141, 45, 145, 44, 141, 41, 139, 38, 136, 36, 132, 34},
}

// The map's geometry: an equirectangular projection of longitudes −180
// to 180 and latitudes 85 to −60 (no mission lies nearer the poles).
const (
	mapWidth  = 720.0
	mapNorth  = 85.0
	mapSouth  = -60.0
	mapHeight = mapWidth * (mapNorth - mapSouth) / 360
)

func project(lat, lon float64) (x, y float64) {
	return (lon + 180) / 360 * mapWidth, (mapNorth - lat) / (mapNorth - mapSouth) * mapHeight
}

// Pin is a mission on the map.
type Pin struct {
	Country string
	Label   string // the short name written beside the marker
	Name    string // the accessible name of the link: the mission and its status
	Href    string
	Status  Status
}

// MapText is the map's words, in the reader's language.
type MapText struct {
	Title, Desc, Land string
	// Legend names each status.
	Legend map[Status]string
}

// WorldMap draws the missions on a world map as an SVG the server writes
// (no script, no tiles from elsewhere): a graticule and a coarse outline
// of the land, and each mission a link at its country's capital, its
// status shown by colour and by shape (ok a circle, attention a
// triangle, critical a square with a cross), with a legend. The SVG is a
// group named by its title, its land a labelled image, and each link
// named by its text and an aria-label, so the links stay reachable by
// keyboard and screen readers (an svg role="img" would hide them). Pins
// of countries without coordinates are left out; the page lists every
// mission in a table besides. Every piece of text is escaped.
func WorldMap(pins []Pin, t MapText) template.HTML {
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="ops-map" viewBox="0 0 %s %s" role="group" aria-labelledby="ops-map-title ops-map-desc">`,
		num(mapWidth), num(mapHeight+28))
	fmt.Fprintf(&b, `<title id="ops-map-title">%s</title><desc id="ops-map-desc">%s</desc>`, esc(t.Title), esc(t.Desc))
	fmt.Fprintf(&b, `<g role="img" aria-label="%s"><rect class="ops-sea" width="%s" height="%s"/>`, esc(t.Land), num(mapWidth), num(mapHeight))
	for lon := -150.0; lon <= 150; lon += 30 {
		x, _ := project(0, lon)
		fmt.Fprintf(&b, `<line class="ops-grid" x1="%s" y1="0" x2="%s" y2="%s"/>`, num(x), num(x), num(mapHeight))
	}
	for lat := -30.0; lat <= 60; lat += 30 {
		_, y := project(lat, 0)
		fmt.Fprintf(&b, `<line class="ops-grid" x1="0" y1="%s" x2="%s" y2="%s"/>`, num(y), num(mapWidth), num(y))
	}
	b.WriteString(`<path class="ops-land" d="`)
	for _, poly := range land {
		for i := 0; i+1 < len(poly); i += 2 {
			x, y := project(poly[i+1], poly[i])
			if i == 0 {
				b.WriteString("M")
			} else {
				b.WriteString("L")
			}
			b.WriteString(num(x) + " " + num(y))
		}
		b.WriteString("Z")
	}
	b.WriteString(`"/></g>`)

	// Missions sharing a country are fanned out on a small circle.
	byCountry := map[string]int{}
	for _, p := range pins {
		byCountry[p.Country]++
	}
	placed := map[string]int{}
	for _, p := range pins {
		c, ok := capitals[p.Country]
		if !ok {
			continue
		}
		x, y := project(c[0], c[1])
		if n := byCountry[p.Country]; n > 1 {
			a := 2 * math.Pi * float64(placed[p.Country]) / float64(n)
			x, y = x+9*math.Cos(a), y+9*math.Sin(a)
		}
		placed[p.Country]++
		fmt.Fprintf(&b, `<a href="%s" aria-label="%s" class="ops-pin ops-%s">%s<text x="%s" y="%s">%s</text></a>`,
			esc(p.Href), esc(p.Name), esc(string(p.Status)), marker(p.Status, x, y), num(x+7), num(y+4), esc(p.Label))
	}
	// The legend, under the map.
	lx := 8.0
	for _, st := range []Status{StatusOK, StatusAttention, StatusCritical} {
		fmt.Fprintf(&b, `<g class="ops-%s">%s<text class="ops-legend" x="%s" y="%s">%s</text></g>`,
			st, marker(st, lx+6, mapHeight+14), num(lx+16), num(mapHeight+18), esc(t.Legend[st]))
		lx += 200
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and escaped text only
}

// marker draws a status's shape centred at x, y.
func marker(st Status, x, y float64) string {
	switch st {
	case StatusCritical:
		return fmt.Sprintf(`<rect class="ops-mark" x="%s" y="%s" width="10" height="10"/><path class="ops-cross" d="M%s %sl8 8M%s %sl-8 8"/>`,
			num(x-5), num(y-5), num(x-4), num(y-4), num(x+4), num(y-4))
	case StatusAttention:
		return fmt.Sprintf(`<path class="ops-mark" d="M%s %sl6 11h-12z"/>`, num(x), num(y-6))
	}
	return fmt.Sprintf(`<circle class="ops-mark" cx="%s" cy="%s" r="5"/>`, num(x), num(y))
}

func num(v float64) string { return fmt.Sprintf("%.1f", v) }
