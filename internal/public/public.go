// Package public serves the public site's own pages: the home page that
// welcomes citizens and points them to the ministry's services. The
// services themselves live in their capabilities. (The "national portal"
// is another thing: the government's National Public Service Portal, to
// which the procedures report dossier statuses.)
package public

import (
	"embed"
	"net/http"

	"chancery/internal/authz"
	"chancery/internal/web"
)

//go:embed templates
var templates embed.FS

// Handler serves the public site's pages.
type Handler struct {
	shell *web.Shell
	pages *web.Templates
}

// NewHandler parses the public site's templates with shell's layout. It
// returns an error if a template does not parse.
func NewHandler(shell *web.Shell) (*Handler, error) {
	pages, err := shell.Parse(templates, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Handler{shell: shell, pages: pages}, nil
}

// Register adds the public site's routes to rt and its items to the
// public site's navigation (in the order registered, so call it first).
func (h *Handler) Register(rt *web.Router) {
	h.shell.AddNav(web.PublicSite, web.NavItem{Key: "nav.home", Href: "/", Access: web.Public})
	h.shell.AddNav(web.PublicSite, web.NavItem{Key: "nav.account", Href: "/account/", Access: web.CitizenOnly})
	rt.HandleFunc("GET /{$}", web.Public, h.home)
}

// homeData is the home page's view model.
type homeData struct {
	// Citizen reports whether a citizen is signed in: the page then leads
	// to their account rather than to signing in or registering.
	Citizen bool
}

// home serves the public site's home page.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	page := h.shell.Page(r, web.PublicSite, "public.home.title")
	data := homeData{Citizen: page.Principal.Subject.Kind == authz.Citizen}
	h.pages.Render(w, r, http.StatusOK, "home", web.View[homeData]{Page: page, Data: data})
}
