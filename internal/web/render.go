package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/i18n"
)

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// StaticPrefix is the path under which Static serves.
const StaticPrefix = "/static/"

// Static serves the embedded CSS and scripts under StaticPrefix. A
// directory answers 404: its listing is nobody's business.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix(StaticPrefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.Trim(strings.TrimPrefix(r.URL.Path, StaticPrefix), "/")
		if info, err := fs.Stat(sub, name); name == "" || (err == nil && info.IsDir()) || strings.HasSuffix(r.URL.Path, "/") {
			Error(w, r, errNoRoute)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// Surfaces of the web UI.
const (
	Console    = "console" // the staff console under /console/
	PublicSite = "public"  // the public site at /, for citizens
)

// NavItem is a link in a surface's navigation, shown to those whose
// access allows it.
type NavItem struct {
	Key    string // i18n key of the label
	Href   string
	Access Access
	// Current marks the item of the page being shown.
	Current bool
}

// Shell is the layout every page shares: the base templates, the
// navigation of each surface and the catalogue of strings built at
// wiring, which its pages and their handlers translate with.
type Shell struct {
	base  *template.Template
	nav   map[string][]NavItem
	texts *i18n.Catalogue
	// dir names units and staff for pages (SetDirectory); nil names none.
	dir Directory
}

// NewShell returns a shell with the embedded layout whose pages speak from
// texts (see i18n.New).
func NewShell(texts *i18n.Catalogue) *Shell {
	return &Shell{base: baseTemplates, nav: map[string][]NavItem{}, texts: texts}
}

// Localizer returns the shell's catalogue in r's language, for handlers'
// Go code that translates outside a page (a problem shown in a form, a
// value formatted for a summary).
func (s *Shell) Localizer(r *http.Request) i18n.Localizer {
	return s.texts.In(LangFrom(r.Context()))
}

// AddNav appends an item to a surface's navigation.
func (s *Shell) AddNav(surface string, item NavItem) {
	s.nav[surface] = append(s.nav[surface], item)
}

var funcs = template.FuncMap{
	// datetime shows t in Vietnam's time (the ministry's reference zone).
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(ministryZone).Format("02/01/2006 15:04")
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(ministryZone).Format("02/01/2006")
	},
	"isodate": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(ministryZone).Format("2006-01-02")
	},
}

var baseTemplates = template.Must(template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/form.html", "templates/pager.html"))

var errorTemplate = template.Must(template.Must(baseTemplates.Clone()).ParseFS(templateFS, "templates/error.html"))

// Page is what the layout needs from every page; handlers embed it in
// their typed view models (see View).
type Page struct {
	Lang      i18n.Lang
	Title     string
	Surface   string
	Nav       []NavItem
	Principal Principal
	CSRF      string
	Path      string
	Flash     string
	// texts is the shell's catalogue, which T reads; a Page built
	// without a shell knows no key, and shows the keys themselves.
	texts *i18n.Catalogue
}

// T returns the catalogue text for key in the page's language.
func (p Page) T(key string, args ...any) string { return p.texts.T(p.Lang, key, args...) }

// At reports whether the page is the one at href (its path, whatever
// its query), for a sub-navigation to mark the current item
// (aria-current="page").
func (p Page) At(href string) bool {
	path, _, _ := strings.Cut(p.Path, "?")
	return path == href
}

// Has reports whether the catalogue holds key.
func (p Page) Has(key string) bool { return p.texts.Has(key) }

// Localizer returns the catalogue in the page's language, for Go code that
// translates what the page will show.
func (p Page) Localizer() i18n.Localizer { return p.texts.In(p.Lang) }

// Can reports whether the signed-in subject's roles grant action on kind
// (by name, for templates): .Can "unit" "create".
func (p Page) Can(kind, action string) bool {
	k, ok1 := kindByName[kind]
	a, ok2 := actionByName[action]
	if !ok1 || !ok2 {
		return false
	}
	d, _ := authz.Decide(p.Principal.Subject, a, KindAsAWhole(p.Principal.Subject, k))
	return d == authz.Allowed
}

var kindByName, actionByName = func() (map[string]authz.Kind, map[string]authz.Action) {
	ks, as := map[string]authz.Kind{}, map[string]authz.Action{}
	for k := authz.Kind(0); k.String() != "kind(?)"; k++ {
		ks[k.String()] = k
	}
	for a := authz.Action(0); a.String() != "action(?)"; a++ {
		as[a.String()] = a
	}
	return ks, as
}()

// View is a page's typed view model: the layout's Page and the page's own
// Data.
type View[T any] struct {
	Page
	Data T
}

// Page returns the layout data for r on the given surface, titled with the
// catalogue text of titleKey, with the navigation the principal may use.
func (s *Shell) Page(r *http.Request, surface, titleKey string) Page {
	p := basePage(r, surface, s.texts)
	p.Title = p.T(titleKey)
	for _, item := range s.nav[surface] {
		if !allows(item.Access, p.Principal) {
			continue
		}
		item.Current = r.URL.Path == item.Href || (item.Href != "/" && item.Href != "/console/" && strings.HasPrefix(r.URL.Path, item.Href))
		p.Nav = append(p.Nav, item)
	}
	return p
}

func basePage(r *http.Request, surface string, texts *i18n.Catalogue) Page {
	lang := LangFrom(r.Context())
	return Page{
		Lang:      lang,
		Surface:   surface,
		Principal: PrincipalFrom(r.Context()),
		CSRF:      CSRFToken(r.Context()),
		Path:      r.URL.RequestURI(),
		Flash:     flashText(texts.In(lang), r.URL.Query().Get("flash")),
		texts:     texts,
	}
}

// allows reports whether p may reach a route with access a (without
// running the handler): the same rules as the route guard.
func allows(a Access, p Principal) bool {
	s := p.Subject
	if a.Who == authz.Anonymous {
		return true
	}
	if s.Kind != a.Who {
		return false
	}
	if !a.Checked {
		return true
	}
	d, _ := authz.Decide(s, a.Action, KindAsAWhole(s, a.Kind))
	return d == authz.Allowed
}

// Templates are a capability's page templates, each parsed with the
// layout. Parsing fails at start on any error, so a broken page never
// reaches a user.
type Templates struct {
	pages map[string]*template.Template
}

// Parse parses every file in fsys matching glob as a page named by its
// base name without extension ("unit_list.html" → "unit_list"). A file
// named with a leading underscore is a partial shared by all pages.
func (s *Shell) Parse(fsys fs.FS, glob string) (*Templates, error) {
	files, err := fs.Glob(fsys, glob)
	if err != nil {
		return nil, err
	}
	var partials, pages []string
	for _, f := range files {
		if strings.HasPrefix(path.Base(f), "_") {
			partials = append(partials, f)
		} else {
			pages = append(pages, f)
		}
	}
	t := &Templates{pages: map[string]*template.Template{}}
	for _, f := range pages {
		tt, err := s.base.Clone()
		if err != nil {
			return nil, err
		}
		if len(partials) > 0 {
			if tt, err = tt.ParseFS(fsys, partials...); err != nil {
				return nil, fmt.Errorf("web: parse partials: %w", err)
			}
		}
		if tt, err = tt.ParseFS(fsys, f); err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", f, err)
		}
		if err := s.checkShared(tt); err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", f, err)
		}
		name := strings.TrimSuffix(path.Base(f), path.Ext(f))
		t.pages[name] = tt
	}
	return t, nil
}

// checkShared refuses a page that redefines a template of the layout
// (such as the "field" partial): html/template lets a later definition
// silently replace an earlier one, which would change every form of the
// page behind the layout's back.
func (s *Shell) checkShared(tt *template.Template) error {
	for _, b := range s.base.Templates() {
		if b.Tree == nil {
			continue
		}
		if got := tt.Lookup(b.Name()); got == nil || got.Tree == nil || got.Tree.Root.String() != b.Tree.Root.String() {
			return fmt.Errorf("the layout's template %q is redefined; name the page's own templates differently", b.Name())
		}
	}
	return nil
}

// Render writes page name with data and status. The page is executed into
// a buffer first, so a template error becomes a clean 500, never half a
// page. A request from htmx (HX-Request) with HX-Target gets only the
// "content" block.
func (t *Templates) Render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	tt, ok := t.pages[name]
	if !ok {
		Error(w, r, fmt.Errorf("web: no page template %q", name))
		return
	}
	execute(w, r, status, tt, data)
}

func execute(w http.ResponseWriter, r *http.Request, status int, tt *template.Template, data any) {
	var buf bytes.Buffer
	block := "layout"
	if r.Header.Get("HX-Request") != "" && r.Header.Get("HX-Target") == "main" {
		block = "content"
	}
	if err := tt.ExecuteTemplate(&buf, block, data); err != nil {
		Logger(r.Context()).Error("render page", "err", err)
		Problem(w, r, ProblemDetails{Status: http.StatusInternalServerError, Detail: "The page could not be shown. Quote the request id when you report it."})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}

type textsKey struct{}

// textsFrom returns the catalogue that Shell.Language lent the request,
// or nil (which knows no key).
func textsFrom(ctx context.Context) *i18n.Catalogue {
	t, _ := ctx.Value(textsKey{}).(*i18n.Catalogue)
	return t
}

type errorData struct {
	// Detail says what went wrong in the page's language.
	Detail string
	// Precise is the server's own explanation, in English, shown beside
	// Detail on a page in another language when it says more than Detail
	// (a field's problem, a conflict's reason); empty otherwise.
	Precise   string
	RequestID string
}

type shellKey struct{}

func renderErrorPage(w http.ResponseWriter, r *http.Request, p ProblemDetails) {
	surface := PublicSite
	if strings.HasPrefix(r.URL.Path, "/console") {
		surface = Console
	}
	key := fmt.Sprintf("error.%d", p.Status)
	if !textsFrom(r.Context()).Has(key) {
		key = "error.title"
	}
	// The page keeps the navigation of its surface, so a reader who met a
	// dead end is one click from their work (Language lent the shell).
	var page Page
	if s, ok := r.Context().Value(shellKey{}).(*Shell); ok {
		page = s.Page(r, surface, key)
	} else {
		page = basePage(r, surface, textsFrom(r.Context()))
		page.Title = page.T(key)
	}
	d := errorData{RequestID: RequestID(r.Context())}
	d.Detail, d.Precise = errorDetail(page, p)
	execute(w, r, p.Status, errorTemplate, View[errorData]{Page: page, Data: d})
}

// errorDetail returns what the error page of p says in page's language,
// and the server's precise explanation when it adds to that: a refusal
// with a code the catalogue explains ("error.code.csrf") or a status it
// explains ("error.404.detail") speaks the reader's language; any other
// detail is the server's English, given whole to an English reader and
// beside the catalogue's general text to any other.
func errorDetail(page Page, p ProblemDetails) (detail, precise string) {
	if p.Code != "" && page.Has("error.code."+p.Code) {
		return page.T("error.code." + p.Code), ""
	}
	general := fmt.Sprintf("error.%d.detail", p.Status)
	switch {
	case p.Status == http.StatusNotFound || p.Status >= 500:
		// Error made these neutral: the catalogue's text says all of it.
		if page.Has(general) {
			return page.T(general), ""
		}
		return p.Detail, ""
	case page.Lang == i18n.EN && p.Detail != "":
		return p.Detail, ""
	case page.Has(general):
		return page.T(general), p.Detail
	}
	return page.T("error.detail.general"), p.Detail
}

// RedirectWithFlash answers a successful form with 303 to target, whose
// page then shows the catalogue text flashKey (a key with ".flash." in
// it). Only the key travels in the URL, so a crafted link cannot make a
// page display text of an attacker's choosing.
func RedirectWithFlash(w http.ResponseWriter, r *http.Request, target, flashKey string) {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	http.Redirect(w, r, target+sep+"flash="+url.QueryEscape(flashKey), http.StatusSeeOther)
}

// RedirectDone answers a successful form as RedirectWithFlash does, and
// names the action done (a code such as "approve") for the page, whose
// Confirmed then says what was done to which item.
func RedirectDone(w http.ResponseWriter, r *http.Request, target, flashKey, done string) {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	RedirectWithFlash(w, r, target+sep+"done="+url.QueryEscape(done), flashKey)
}

// Confirmed returns the flash a page shows after RedirectDone: the
// catalogue text prefix+done about args (the item, as the page looked it
// up), so the confirmation says what was done to what; the general flash
// when the link names no action with a text of prefix. Only a code the
// catalogue knows selects the text, never text from the link.
func (p Page) Confirmed(r *http.Request, prefix string, args ...any) string {
	done := r.URL.Query().Get("done")
	if p.Flash == "" || done == "" || strings.ContainsFunc(done, func(c rune) bool { return (c < 'a' || c > 'z') && c != '_' && c != '-' }) || !p.Has(prefix+done) {
		return p.Flash
	}
	return p.T(prefix+done, args...)
}

// flashText returns the text of a flash key, or "" for anything that is
// not a flash key in the catalogue.
func flashText(l i18n.Localizer, key string) string {
	if !strings.Contains(key, ".flash.") || !l.Has(key) {
		return ""
	}
	return l.T(key)
}

type langKey struct{}

// LangCookie remembers the chosen language.
const LangCookie = "chancery_lang"

// LangFrom returns the request's language.
func LangFrom(ctx context.Context) i18n.Lang {
	if l, ok := ctx.Value(langKey{}).(i18n.Lang); ok {
		return l
	}
	return i18n.Default
}

// Language is the middleware that picks the request's language: ?lang=
// (remembered in a cookie), else the cookie, else Vietnamese. It also
// lends the request the shell's catalogue, for the pages Error draws
// without a shell at hand; so it goes before anything that may answer
// with an error page, a panic that Observe catches included (after
// Forwarding, which the cookie's Secure flag relies on).
func (s *Shell) Language(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := i18n.Default
		if c, err := r.Cookie(LangCookie); err == nil {
			lang, _ = i18n.ParseLang(c.Value)
		}
		if q := r.URL.Query().Get("lang"); q != "" {
			if l, ok := i18n.ParseLang(q); ok {
				lang = l
				SetLangCookie(w, r, l)
			}
		}
		ctx := context.WithValue(r.Context(), langKey{}, lang)
		ctx = context.WithValue(ctx, shellKey{}, s)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, textsKey{}, s.texts)))
	})
}

// SetLangCookie remembers lang for a year.
func SetLangCookie(w http.ResponseWriter, r *http.Request, lang i18n.Lang) {
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: string(lang), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: CookieSecure(r), SameSite: http.SameSiteLaxMode})
}

// SafeNext returns next if it is a local path (so a ?next= parameter
// cannot send the user to another site), else fallback. A backslash or a
// control character anywhere refuses next: browsers read a backslash as
// "/" and drop tabs and newlines, and http.Redirect cleans "/a/../\x" into
// "/\x", so either could turn a local-looking path into "//another.site".
func SafeNext(next, fallback string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsFunc(next, unsafeInNext) {
		return fallback
	}
	return next
}

func unsafeInNext(r rune) bool { return r == '\\' || r < ' ' || r == 0x7f }
