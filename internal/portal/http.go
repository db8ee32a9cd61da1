package portal

import (
	"embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// ProtectionProcedure is the code of the procedure a citizen in
// difficulty abroad asks the ministry's protection with (its catalogue
// entry lives in internal/procedures).
const ProtectionProcedure = "1.900014"

// HandlerOptions configure the portal's handlers.
type HandlerOptions struct {
	// Service is the portal. Required.
	Service *Service
	// ServicePaths returns the public pages of the online services (the
	// procedures' catalogue), which the sitemap lists beside the
	// portal's own. If nil, the sitemap lists only the fixed ones.
	ServicePaths func() []string
	// BaseURL is the portal's public address (https://host), for the
	// feed's and the sitemap's absolute links. If empty, the request's
	// own host is used.
	BaseURL string
}

// Handler serves the portal's public pages, its console pages and its
// JSON API.
type Handler struct {
	opts  HandlerOptions
	svc   *Service
	shell *web.Shell
	pages *web.Templates
}

// NewHandler returns the handlers with their templates parsed once; a
// broken template fails here, at start.
func NewHandler(shell *web.Shell, opts HandlerOptions) (*Handler, error) {
	if opts.Service == nil {
		return nil, errors.New("portal: HandlerOptions.Service is required")
	}
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("portal: parse page templates: %w", err)
	}
	return &Handler{opts: opts, svc: opts.Service, shell: shell, pages: pages}, nil
}

// Register adds the portal's routes to rt, each stating who may reach
// it, and its items to the public site's and the console's navigation.
func (h *Handler) Register(rt *web.Router) {
	h.shell.AddNav(web.PublicSite, web.NavItem{Key: "portal.nav.news", Href: "/news", Access: web.Public})
	h.shell.AddNav(web.PublicSite, web.NavItem{Key: "portal.nav.protection", Href: "/protection", Access: web.Public})
	read := web.Staff(authz.KindPublication, authz.Read)
	h.shell.AddNav(web.Console, web.NavItem{Key: "portal.nav.console", Href: "/console/portal/", Access: read})

	// The public site: foreign information, citizen protection, the
	// missions, and the portal's own pages. Everything here is public
	// information; a publication not yet published answers 404.
	rt.HandleFunc("GET /news", web.Public, h.pageNews)
	rt.HandleFunc("GET /news/tags/{tag}", web.Public, h.pageNews)
	rt.HandleFunc("GET /news/feed.atom", web.Public, h.feed)
	rt.HandleFunc("GET /news/{slug}", web.Public, h.pageItem)
	rt.HandleFunc("GET /protection", web.Public, h.pageProtection)
	rt.HandleFunc("GET /missions", web.Public, h.pageMissions)
	rt.HandleFunc("GET /missions/{code}", web.Public, h.pageMission)
	rt.HandleFunc("GET /privacy", web.Public, h.pageStatic("privacy"))
	rt.HandleFunc("GET /accessibility", web.Public, h.pageStatic("accessibility"))
	rt.HandleFunc("GET /sitemap.xml", web.Public, h.sitemap)
	rt.HandleFunc("GET /robots.txt", web.Public, h.robots)
	rt.HandleFunc("GET /favicon.ico", web.Public, favicon)

	// The console: press officers draft and edit (Create, Update), the
	// spokesperson approves (Approve); the steps' route admits both, and
	// the service asks authz about the step taken.
	rt.HandleFunc("GET /console/portal/{$}", read, h.consoleList)
	rt.HandleFunc("GET /console/portal/items/new", web.Staff(authz.KindPublication, authz.Create), h.consoleNew)
	rt.HandleFunc("POST /console/portal/items/new", web.Staff(authz.KindPublication, authz.Create), h.consolePostNew)
	rt.HandleFunc("GET /console/portal/items/{id}", read, h.consoleItem)
	rt.HandleFunc("POST /console/portal/items/{id}", web.Staff(authz.KindPublication, authz.Update), h.consolePostEdit)
	rt.HandleFunc("POST /console/portal/items/{id}/steps", read, h.consolePostStep)
	missions := web.Staff(authz.KindMissionPage, authz.Update)
	rt.HandleFunc("GET /console/portal/missions", missions, h.consoleMissions)
	rt.HandleFunc("GET /console/portal/missions/{code}", missions, h.consoleMission)
	rt.HandleFunc("POST /console/portal/missions/{code}", missions, h.consolePostMission)

	// The API.
	rt.HandleFunc("GET /api/v1/portal/news", web.Public, h.apiNews)
	rt.HandleFunc("GET /api/v1/portal/news/{slug}", web.Public, h.apiNewsItem)
	rt.HandleFunc("GET /api/v1/portal/missions", web.Public, h.apiMissions)
	rt.HandleFunc("PUT /api/v1/portal/missions/{code}", missions, h.apiUpdateMission)
	rt.HandleFunc("GET /api/v1/portal/items", read, h.apiItems)
	rt.HandleFunc("POST /api/v1/portal/items", web.Staff(authz.KindPublication, authz.Create), h.apiCreate)
	rt.HandleFunc("GET /api/v1/portal/items/{id}", read, h.apiItem)
	rt.HandleFunc("PUT /api/v1/portal/items/{id}", web.Staff(authz.KindPublication, authz.Update), h.apiEdit)
	rt.HandleFunc("POST /api/v1/portal/items/{id}/steps", read, h.apiStep)
}

// itemID parses the {id} of a publication's route.
func itemID(r *http.Request) (int64, error) { return web.ParseID("id", r.PathValue("id")) }

// filterOf reads a list's filter from the query: q, tag, kind, status,
// page.
func filterOf(q url.Values) (Filter, error) {
	f := Filter{Query: q.Get("q"), Tag: q.Get("tag"), Status: Status(q.Get("status"))}
	for _, k := range q["kind"] {
		if k != "" {
			f.Kinds = append(f.Kinds, Kind(k))
		}
	}
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return f, errs.Invalid("page", "must be a page number from 1")
		}
		f.Page = n
	}
	if p := q.Get("per_page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return f, errs.Invalid("per_page", fmt.Sprintf("must be a number from 1 to %d", MaxPerPage))
		}
		f.PerPage = n
	}
	return f, nil
}

// The refusals of a form's or a query's values that the service never
// sees.
var (
	errInvalidKind    = errs.Invalid("kind", "choose one kind: news, press_release or statement")
	errInvalidLevel   = errs.Invalid("level", "an advisory's level is a number from 1 to 4")
	errInvalidVersion = errs.Invalid("version", "the form lacks the version it was opened at; reload the page and try again")
)
