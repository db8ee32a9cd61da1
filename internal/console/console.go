// Package console serves the staff console's own pages: the home page that
// greets a signed-in member of staff, shows what their session carries
// (unit, roles, clearance) and leads to the functions their roles open.
// The functions themselves live in their capabilities.
package console

import (
	"context"
	"embed"
	"fmt"
	"net/http"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/web"
)

//go:embed templates
var templates embed.FS

// Units looks up the signed-in member's unit, to show its name.
type Units interface {
	Unit(ctx context.Context, id int64) (identity.Unit, error)
}

// Handler serves the console's pages.
type Handler struct {
	shell *web.Shell
	pages *web.Templates
	units Units
	// servesDossiers reports whether a unit receives dossiers of the
	// procedures' catalogue; nil: every unit does.
	servesDossiers func(identity.Unit) bool
}

// NewHandler parses the console's templates with shell's layout. It
// returns an error if a template does not parse.
func NewHandler(shell *web.Shell, units Units) (*Handler, error) {
	pages, err := shell.Parse(templates, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Handler{shell: shell, pages: pages, units: units}, nil
}

// ServesDossiers tells the home which units receive dossiers (a unit the
// catalogue names, a mission where procedures are done at missions): a
// clerk of a unit that receives none, such as the Office's records
// office, is sent to the records' work rather than to an empty queue.
func (h *Handler) ServesDossiers(f func(identity.Unit) bool) { h.servesDossiers = f }

// Register adds the console's routes to rt and its home to the console's
// navigation (in the order registered, so call it before the capabilities
// whose items follow it).
func (h *Handler) Register(rt *web.Router) {
	h.shell.AddNav(web.Console, web.NavItem{Key: "nav.home", Href: "/console/", Access: web.SignedIn})
	rt.HandleFunc("GET /console/{$}", web.SignedIn, h.home)
}

// badge is a label shown as a badge: the catalogue key of its text and
// the CSS class that colours it.
type badge struct {
	Key   string
	Class string
}

// homeData is the home page's view model.
type homeData struct {
	Name      string // the display name, or the username when there is none
	Unit      string // the unit's name and code; its id if it cannot be read
	Roles     []badge
	Clearance badge
	// Work are the tiles of the member's own work, the first the one
	// they came for.
	Work []workTile
}

// home serves the console's home page.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	page := h.shell.Page(r, web.Console, "console.home.title")
	d := newHomeData(page.Principal)
	id := page.Principal.Subject.Unit
	u, err := h.units.Unit(r.Context(), id)
	if err != nil {
		// The home page still serves; the id says which unit it is.
		web.Logger(r.Context()).Warn("console home: read unit", "unit", id, "err", err)
		d.Unit = fmt.Sprint(id)
	} else {
		d.Unit = unitLabel(page.Lang, u)
	}
	dossiers := err == nil && (h.servesDossiers == nil || h.servesDossiers(u))
	d.Work = workTiles(page, dossiers)
	h.pages.Render(w, r, http.StatusOK, "home", web.View[homeData]{Page: page, Data: d})
}

// unitLabel is a unit's name in lang with its code.
func unitLabel(lang i18n.Lang, u identity.Unit) string {
	name := u.NameVI
	if lang == i18n.EN {
		name = u.NameEN
	}
	return name + " (" + u.Code + ")"
}

func newHomeData(p web.Principal) homeData {
	d := homeData{Name: p.Name, Clearance: levelBadge(p.Subject.Clearance)}
	if d.Name == "" {
		d.Name = p.Username
	}
	for _, role := range p.Subject.Roles.List() {
		d.Roles = append(d.Roles, roleBadge(role))
	}
	return d
}

func roleBadge(r authz.Role) badge { return badge{Key: "console.role." + r.String(), Class: "role"} }

func levelBadge(l authz.Level) badge {
	return badge{Key: "console.level." + l.String(), Class: "level-" + l.String()}
}
