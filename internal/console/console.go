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
}

// home serves the console's home page.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	page := h.shell.Page(r, web.Console, "console.home.title")
	d := newHomeData(page.Principal)
	d.Unit = h.unitName(r.Context(), page.Lang, page.Principal.Subject.Unit)
	h.pages.Render(w, r, http.StatusOK, "home", web.View[homeData]{Page: page, Data: d})
}

func (h *Handler) unitName(ctx context.Context, lang i18n.Lang, id int64) string {
	u, err := h.units.Unit(ctx, id)
	if err != nil {
		// The home page still serves; the id says which unit it is.
		web.Logger(ctx).Warn("console home: read unit", "unit", id, "err", err)
		return fmt.Sprint(id)
	}
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
