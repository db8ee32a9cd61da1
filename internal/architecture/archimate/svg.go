package archimate

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// layerFill is each layer's customary fill colour (the colours ArchiMate
// tools use by convention; the specification leaves colour free).
var layerFill = map[Layer]string{
	Strategy: "#f5deaa", Business: "#ffffb5", Application: "#b5ffff", Technology: "#c9e7b7",
	Physical: "#c9e7b7", Motivation: "#ccccff", Implementation: "#ffe0e0", Other: "#ffffff",
}

// dashed are the relationship types drawn with a dashed line.
var dashed = map[string]bool{"Access": true, "Influence": true, "Flow": true, "Realization": true}

// RenderView draws view v of m as laid out: each node a box with its
// element's name (or its label) in lang, each connection a line through its
// bendpoints. Every text is escaped; the result is a standalone SVG
// document, printable as it is.
func RenderView(m *Model, v *View, lang string) []byte {
	elements := make(map[string]*Element, len(m.Elements))
	for i := range m.Elements {
		elements[m.Elements[i].ID] = &m.Elements[i]
	}
	rels := make(map[string]*Relationship, len(m.Relationships))
	for i := range m.Relationships {
		rels[m.Relationships[i].ID] = &m.Relationships[i]
	}
	centres := map[string]Point{}
	maxX, maxY := 100, 100
	var grow func([]Node)
	grow = func(ns []Node) {
		for _, n := range ns {
			centres[n.ID] = Point{n.X + n.W/2, n.Y + n.H/2}
			maxX, maxY = max(maxX, n.X+n.W), max(maxY, n.Y+n.H)
			grow(n.Nodes)
		}
	}
	grow(v.Nodes)
	for _, c := range v.Connections {
		for _, p := range c.Bendpoints {
			maxX, maxY = max(maxX, p.X), max(maxY, p.Y)
		}
		for _, p := range []*Point{c.SourceAttachment, c.TargetAttachment} {
			if p != nil {
				maxX, maxY = max(maxX, p.X), max(maxY, p.Y)
			}
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 %d %d" width="%d" height="%d" font-family="sans-serif" font-size="11">`, maxX+20, maxY+20, maxX+20, maxY+20)
	b.WriteString(`<title>`)
	esc(&b, v.Name.In(lang))
	b.WriteString(`</title><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>`)
	var draw func([]Node)
	draw = func(ns []Node) {
		for _, n := range ns {
			fill, text, typ := "#ffffff", n.Label.In(lang), ""
			if e, ok := elements[n.ElementRef]; ok {
				l, _ := LayerOf(string(e.Type))
				fill, text, typ = layerFill[l], e.Name.In(lang), string(e.Type)
			}
			if n.Style != nil && n.Style.FillColor != nil {
				c := n.Style.FillColor
				fill = fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
			}
			fmt.Fprintf(&b, `<g><rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#5c5c5c"`, n.X, n.Y, n.W, n.H, fill)
			if n.Type == "Container" || n.Type == "Label" && n.Style == nil {
				b.WriteString(` fill-opacity="0.4"`)
			}
			b.WriteString(`/>`)
			if typ != "" {
				fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="8" fill="#444" text-anchor="end">`, n.X+n.W-3, n.Y+10)
				esc(&b, typ)
				b.WriteString(`</text>`)
			}
			for i, line := range wrap(text, max(4, n.W/7), 4) {
				fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">`, n.X+n.W/2, n.Y+22+13*i)
				esc(&b, line)
				b.WriteString(`</text>`)
			}
			b.WriteString(`</g>`)
			draw(n.Nodes)
		}
	}
	draw(v.Nodes)
	for _, c := range v.Connections {
		from, ok1 := centres[c.Source]
		to, ok2 := centres[c.Target]
		if !ok1 || !ok2 {
			continue
		}
		// Where the tool fixed the line's ends on its nodes, draw them there.
		if c.SourceAttachment != nil {
			from = *c.SourceAttachment
		}
		if c.TargetAttachment != nil {
			to = *c.TargetAttachment
		}
		pts := append(append([]Point{from}, c.Bendpoints...), to)
		var path strings.Builder
		for _, p := range pts {
			fmt.Fprintf(&path, "%d,%d ", p.X, p.Y)
		}
		style, label := "", c.Label.In(lang)
		if r, ok := rels[c.RelationshipRef]; ok {
			if dashed[string(r.Type)] {
				style = ` stroke-dasharray="5,3"`
			}
			if label == "" {
				label = r.Name.In(lang)
			}
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#333"%s marker-end="url(#arrow)"/>`, strings.TrimSpace(path.String()), style)
		if label != "" {
			mid := pts[len(pts)/2]
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="9">`, mid.X+3, mid.Y-3)
			esc(&b, label)
			b.WriteString(`</text>`)
		}
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// esc writes s as XML character data; invalid characters become U+FFFD.
func esc(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }

// wrap splits s into at most lines lines of about width runes, on spaces.
func wrap(s string, width, lines int) []string {
	var out []string
	var cur []rune
	for _, w := range strings.Fields(s) {
		r := []rune(w)
		if len(cur) > 0 && len(cur)+1+len(r) > width {
			out = append(out, string(cur))
			cur = nil
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		cur = append(cur, r...)
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	if len(out) > lines {
		out = append(out[:lines-1], out[lines-1]+"…")
	}
	return out
}
