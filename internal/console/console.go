// Package console serves the staff console's own pages: the home page that
// greets a signed-in member of staff, shows what their session carries
// (unit, roles, clearance) and leads to the functions their roles open.
// The functions themselves live in their capabilities.
package console

import (
	"embed"
	"net/http"

	"chancery/internal/authz"
	"chancery/internal/web"
)

//go:embed templates
var templates embed.FS

// Handler serves the console's pages.
type Handler struct {
	shell *web.Shell
	pages *web.Templates
}

// NewHandler parses the console's templates with shell's layout. It
// returns an error if a template does not parse.
func NewHandler(shell *web.Shell) (*Handler, error) {
	pages, err := shell.Parse(templates, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Handler{shell: shell, pages: pages}, nil
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
	Roles     []badge
	Clearance badge
}

// home serves the console's home page.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	page := h.shell.Page(r, web.Console, "console.home.title")
	h.pages.Render(w, r, http.StatusOK, "home", web.View[homeData]{Page: page, Data: newHomeData(page.Principal)})
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
