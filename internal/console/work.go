package console

import (
	"strings"

	"chancery/internal/web"
)

// indicesPath is the procedures' service indices (Decision 766), which
// the console's navigation lists.
const indicesPath = "/console/procedures/indices"

// workTile is a tile of the home's "your work": where a member of staff
// goes to do what their roles give them to do.
type workTile struct {
	ID   string // names the tile's texts: console.work.<ID>.title and .text
	Href string
}

// work are the tiles the home may show, in the order shown: the first a
// member may use is the one their day starts with. when reports whether
// the page's principal has the work (by the grants table, through
// Page.Can); dossiers tiles need a unit that receives dossiers.
var work = []struct {
	tile     workTile
	dossiers bool
	when     func(p web.Page) bool
}{
	{workTile{"queue", "/console/dossiers"}, true, func(p web.Page) bool { return p.Can("dossier_intake", "create") }},
	{workTile{"mine", "/console/dossiers?mine=1"}, true, func(p web.Page) bool {
		return p.Can("dossier_casework", "update") || p.Can("dossier_decision", "approve")
	}},
	{workTile{"audit", "/console/audit"}, false, func(p web.Page) bool { return p.Can("audit_event", "read") }},
	{workTile{"proposals", "/console/user-proposals"}, false, func(p web.Page) bool { return p.Can("staff", "approve") }},
	{workTile{"directory", "/console/users"}, false, func(p web.Page) bool { return p.Can("staff", "administer") }},
	{workTile{"exchange", "/console/exchange/services"}, false, func(p web.Page) bool { return p.Can("service", "administer") }},
	{workTile{"architecture", "/console/architecture"}, false, func(p web.Page) bool { return p.Can("system", "administer") }},
	{workTile{"records", "/console/records"}, false, func(p web.Page) bool { return p.Can("document", "read") }},
	{workTile{"tasks", "/console/insight/tasks"}, false, func(p web.Page) bool { return p.Can("task", "create") }},
	{workTile{"indices", indicesPath}, false, func(p web.Page) bool { return p.Can("unit_comparison", "read") }},
}

// workTiles returns the tiles of p's principal's work. A tile is shown
// only when its page is in the navigation the principal sees, so a
// capability this node does not serve (or a page the route's own access
// rule refuses) never becomes a dead link; dossiers reports whether the
// principal's unit receives dossiers.
func workTiles(p web.Page, dossiers bool) []workTile {
	var out []workTile
	for _, w := range work {
		if (w.dossiers && !dossiers) || !w.when(p) || !inNav(p.Nav, w.tile.Href) {
			continue
		}
		out = append(out, w.tile)
	}
	return out
}

// inNav reports whether href is one of nav's pages or below one.
func inNav(nav []web.NavItem, href string) bool {
	path, _, _ := strings.Cut(href, "?")
	for _, item := range nav {
		if path == item.Href || (item.Href != "/console/" && strings.HasPrefix(path, item.Href+"/")) {
			return true
		}
	}
	return false
}
