package archimate

import (
	"cmp"
	"slices"
	"strconv"
)

// Sizes of a generated view: boxes of nodeW × nodeH, gapX apart in a row
// and gapY between rows, at most maxCols in a row, so that a view is at
// most 40 + 7×150 + 6×24 = 1,234 px wide and reads at 1366 px without
// scrolling (the page scales it down below that).
const (
	nodeW   = 150
	nodeH   = 56
	gapX    = 24
	gapY    = 64
	margin  = 20
	maxCols = 7
)

// Layout generates view id named name showing elements (identifiers of
// m's elements) and the relationships of m between them, laid out in
// layers: each rank a band of rows, top to bottom, a box never over
// another. The rank of an element is rank(e) when given, else its
// ArchiMate layer's place in the specification's order (business above
// application above technology, as the layered viewpoint draws them).
// Within a band, elements are ordered by the mean position of their
// neighbours in the bands above (the barycentre heuristic, one sweep),
// which keeps lines short and crossings few. Unknown identifiers are
// skipped.
func Layout(m *Model, id string, name Text, elements []string, rank func(*Element) int) View {
	byID := make(map[string]*Element, len(m.Elements))
	for i := range m.Elements {
		byID[m.Elements[i].ID] = &m.Elements[i]
	}
	if rank == nil {
		rank = layerRank
	}
	bands := map[int][]*Element{}
	seen := map[string]bool{}
	for _, eid := range elements {
		e, ok := byID[eid]
		if !ok || seen[eid] {
			continue
		}
		seen[eid] = true
		r := rank(e)
		bands[r] = append(bands[r], e)
	}
	var ranks []int
	for r := range bands {
		ranks = append(ranks, r)
	}
	slices.Sort(ranks)
	// Neighbours, for the barycentre ordering.
	var rels []*Relationship
	nbrs := map[string][]string{}
	for i := range m.Relationships {
		r := &m.Relationships[i]
		if seen[r.Source] && seen[r.Target] && r.Source != r.Target {
			rels = append(rels, r)
			nbrs[r.Source] = append(nbrs[r.Source], r.Target)
			nbrs[r.Target] = append(nbrs[r.Target], r.Source)
		}
	}
	v := View{ID: id, Type: "Diagram", Name: name}
	nodeOf := map[string]string{}
	pos := map[string]float64{} // an element's column, once placed
	y := margin
	for _, r := range ranks {
		band := bands[r]
		// Names first, so that a band without placed neighbours is stable.
		slices.SortStableFunc(band, func(a, b *Element) int { return cmp.Compare(a.Name.In(""), b.Name.In("")) })
		bary := func(e *Element) float64 {
			sum, n := 0.0, 0
			for _, o := range nbrs[e.ID] {
				if p, ok := pos[o]; ok {
					sum, n = sum+p, n+1
				}
			}
			if n == 0 {
				return 1e9 // after those with placed neighbours, in name order
			}
			return sum / float64(n)
		}
		slices.SortStableFunc(band, func(a, b *Element) int { return cmp.Compare(bary(a), bary(b)) })
		for i, e := range band {
			col, row := i%maxCols, i/maxCols
			nid := id + "-n" + strconv.Itoa(len(v.Nodes)+1)
			nodeOf[e.ID] = nid
			pos[e.ID] = float64(col)
			v.Nodes = append(v.Nodes, Node{ID: nid, Type: "Element", ElementRef: e.ID,
				X: margin + col*(nodeW+gapX), Y: y + row*(nodeH+gapY/2), W: nodeW, H: nodeH})
		}
		rows := (len(band) + maxCols - 1) / maxCols
		y += rows*nodeH + (rows-1)*(gapY/2) + gapY
	}
	for _, r := range rels {
		v.Connections = append(v.Connections, Connection{ID: id + "-c" + strconv.Itoa(len(v.Connections)+1), Type: "Relationship",
			RelationshipRef: r.ID, Source: nodeOf[r.Source], Target: nodeOf[r.Target]})
	}
	return v
}

// layerRank is an element's layer's place in the specification's order.
func layerRank(e *Element) int {
	l, _ := LayerOf(string(e.Type))
	return slices.Index(layers, l)
}

// Neighbourhood returns the identifiers of the elements within depth
// relationships of element id (id first, then by distance), following
// relationships either way; relationships to relationships are crossed to
// their other end's element. At most limit elements (0: no limit).
func Neighbourhood(m *Model, id string, depth, limit int) []string {
	adj := map[string][]string{}
	isRel := map[string]*Relationship{}
	for i := range m.Relationships {
		isRel[m.Relationships[i].ID] = &m.Relationships[i]
	}
	end := func(x string) string { // a relationship as an end stands for its source
		for range 4 {
			r, ok := isRel[x]
			if !ok {
				return x
			}
			x = r.Source
		}
		return x
	}
	for _, r := range m.Relationships {
		s, t := end(r.Source), end(r.Target)
		adj[s] = append(adj[s], t)
		adj[t] = append(adj[t], s)
	}
	out := []string{id}
	seen := map[string]bool{id: true}
	frontier := []string{id}
	for d := 0; d < depth && len(frontier) > 0; d++ {
		var next []string
		for _, x := range frontier {
			for _, y := range adj[x] {
				if seen[y] {
					continue
				}
				if limit > 0 && len(out) >= limit {
					return out
				}
				seen[y] = true
				out = append(out, y)
				next = append(next, y)
			}
		}
		frontier = next
	}
	return out
}
