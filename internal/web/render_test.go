package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
)

// testPages are a capability's templates as Shell.Parse takes them.
var testPages = fstest.MapFS{
	"templates/_item.html": {Data: []byte(`{{define "item"}}<li class="item">{{.}}</li>{{end}}`)},
	"templates/list.html": {Data: []byte(`{{define "content"}}<h1 id="title">{{.Title}}</h1>` +
		`<p id="greeting">{{.T "nav.signin"}}</p><ul>{{range .Data.Items}}{{template "item" .}}{{end}}</ul>{{end}}`)},
	// broken fails while executing: there is no fifth item.
	"templates/broken.html": {Data: []byte(`{{define "content"}}<p>half a page</p>{{index .Data.Items 5}}{{end}}`)},
}

type listData struct{ Items []string }

// testTexts is the catalogue of the layout's strings and a test area's
// flash message.
func testTexts(t *testing.T) *i18n.Catalogue {
	t.Helper()
	c, err := i18n.New(Texts(), i18n.Texts{"test.flash.done": {"Đã lưu.", "Saved."}, "test.flash.did.approve": {"Đã duyệt «%s».", "«%s» approved."}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testShell(t *testing.T) (*Shell, *Templates) {
	t.Helper()
	shell := NewShell(testTexts(t))
	shell.AddNav(Console, NavItem{Key: "nav.home", Href: "/console/", Access: SignedIn})
	shell.AddNav(Console, NavItem{Key: "nav.account", Href: "/console/users", Access: Staff(authz.KindStaff, authz.Read)})
	shell.AddNav(Console, NavItem{Key: "nav.public", Href: "/", Access: Public})
	pages, err := shell.Parse(testPages, "templates/*.html")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return shell, pages
}

// renderList serves the list page at target through the Language
// middleware, as who.
func renderList(shell *Shell, pages *Templates, who Principal, target string, header http.Header) *httptest.ResponseRecorder {
	h := shell.Language(as(who, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := View[listData]{Page: shell.Page(r, Console, "nav.home"), Data: listData{Items: []string{"Hà Nội", "<b>Huế</b>"}}}
		pages.Render(w, r, http.StatusOK, "list", v)
	})))
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func TestShellFiltersTheNavigationByAccess(t *testing.T) {
	shell, pages := testShell(t)
	tests := []struct {
		name    string
		who     Principal
		shown   []string
		hidden  []string
		current string
	}{
		{name: "anonymous", who: anonymous, shown: []string{`href="/"`}, hidden: []string{`href="/console/"`, `href="/console/users"`}},
		{name: "clerk", who: clerk, shown: []string{`href="/console/"`, `href="/"`}, hidden: []string{`href="/console/users"`}},
		{name: "administrator", who: admin, shown: []string{`href="/console/"`, `href="/console/users"`, `href="/"`}, current: "/console/users"},
		{name: "citizen", who: citizen, shown: []string{`href="/"`}, hidden: []string{`href="/console/"`, `href="/console/users"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := renderList(shell, pages, tt.who, "/console/users/12", nil)
			nav := between(t, rec.Body.String(), `<nav class="topnav"`, `</nav>`)
			for _, s := range tt.shown {
				if !strings.Contains(nav, s) {
					t.Errorf("navigation lacks %s: %s", s, nav)
				}
			}
			for _, s := range tt.hidden {
				if strings.Contains(nav, s) {
					t.Errorf("navigation shows %s: %s", s, nav)
				}
			}
			if tt.current != "" && !strings.Contains(nav, `href="`+tt.current+`" aria-current="page"`) {
				t.Errorf("%s is not marked current: %s", tt.current, nav)
			}
			if strings.Count(nav, `aria-current="page"`) > 1 {
				t.Errorf("more than one item is current: %s", nav)
			}
		})
	}
}

// between returns the part of s from the first start to the following
// end, failing the test when either is missing.
func between(t *testing.T, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	if i < 0 {
		t.Fatalf("%q not found in %s", start, s)
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		t.Fatalf("%q not found after %q", end, start)
	}
	return s[i : i+j+len(end)]
}

func TestShellRendersAPageInBothLanguages(t *testing.T) {
	shell, pages := testShell(t)
	tests := []struct {
		name     string
		target   string
		cookie   string
		lang     i18n.Lang
		setsLang bool // the response remembers the choice
	}{
		{name: "default", target: "/console/", lang: i18n.VI},
		{name: "English by query", target: "/console/?lang=en", lang: i18n.EN, setsLang: true},
		{name: "English by cookie", target: "/console/", cookie: "en", lang: i18n.EN},
		{name: "query beats cookie", target: "/console/?lang=vi", cookie: "en", lang: i18n.VI, setsLang: true},
		{name: "unsupported cookie", target: "/console/", cookie: "fr", lang: i18n.VI},
		{name: "unsupported query", target: "/console/?lang=fr", cookie: "en", lang: i18n.EN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{}
			if tt.cookie != "" {
				header.Set("Cookie", LangCookie+"="+tt.cookie)
			}
			rec := renderList(shell, pages, clerk, tt.target, header)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			body := rec.Body.String()
			for _, want := range []string{
				`<html lang="` + string(tt.lang) + `">`,
				`<h1 id="title">` + texts.T(tt.lang, "nav.home") + `</h1>`,
				`<p id="greeting">` + texts.T(tt.lang, "nav.signin") + `</p>`,
				`<li class="item">Hà Nội</li>`,
				`<li class="item">&lt;b&gt;Huế&lt;/b&gt;</li>`,
				`Nguyễn Văn An`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %s", want)
				}
			}
			set := false
			for _, c := range rec.Result().Cookies() {
				set = set || c.Name == LangCookie && c.Value == string(tt.lang)
			}
			if set != tt.setsLang {
				t.Errorf("language cookie set: %v, want %v", set, tt.setsLang)
			}
		})
	}
}

func TestRenderTurnsATemplateErrorIntoAClean500(t *testing.T) {
	_, pages := testShell(t)
	// The page's own status does not matter: a 503 page that fails to
	// render is as broken as a 200 one.
	for _, status := range []int{http.StatusOK, http.StatusUnprocessableEntity, http.StatusServiceUnavailable} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/console/broken", nil)
			r.Header.Set("Accept", "text/html")
			rec := httptest.NewRecorder()
			pages.Render(rec, r, status, "broken", View[listData]{Data: listData{Items: []string{"only one"}}})
			if rec.Code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500", rec.Code)
			}
			body := rec.Body.String()
			if strings.Contains(body, "half a page") || strings.Contains(body, "index out of range") {
				t.Errorf("the response holds part of the page or the template error: %s", body)
			}
			if !strings.Contains(body, "request id") {
				t.Errorf("the response does not tell the user to quote the request id: %q", body)
			}
		})
	}
}

func TestRenderOfAnUnknownPageIsA500(t *testing.T) {
	_, pages := testShell(t)
	rec := httptest.NewRecorder()
	pages.Render(rec, httptest.NewRequest(http.MethodGet, "/console/", nil), http.StatusOK, "no_such_page", nil)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "no_such_page") {
		t.Fatalf("status %d body %s: want a neutral 500", rec.Code, rec.Body)
	}
}

func TestRenderGivesHtmxOnlyTheContent(t *testing.T) {
	shell, pages := testShell(t)
	tests := []struct {
		name     string
		header   http.Header
		wantFull bool
	}{
		{name: "browser", wantFull: true},
		{name: "htmx swapping main", header: http.Header{"Hx-Request": {"true"}, "Hx-Target": {"main"}}},
		{name: "htmx swapping another element", header: http.Header{"Hx-Request": {"true"}, "Hx-Target": {"row-7"}}, wantFull: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := renderList(shell, pages, clerk, "/console/", tt.header)
			body := rec.Body.String()
			if !strings.Contains(body, `<h1 id="title">`) {
				t.Fatalf("the content is missing: %s", body)
			}
			full := strings.Contains(body, "<!doctype html>") && strings.Contains(body, `<header class="topbar"`)
			if full != tt.wantFull {
				t.Errorf("full layout: %v, want %v: %s", full, tt.wantFull, body)
			}
		})
	}
}

func TestParseFailsOnABrokenTemplate(t *testing.T) {
	broken := fstest.MapFS{"templates/bad.html": {Data: []byte(`{{define "content"}}{{.T "nav.home"}{{end}}`)}}
	if _, err := NewShell(testTexts(t)).Parse(broken, "templates/*.html"); err == nil || !strings.Contains(err.Error(), "bad.html") {
		t.Fatalf("Parse = %v, want an error naming bad.html", err)
	}
}

// A capability's partial that defines "field" again would silently
// replace the layout's, as the sign-in pages' once did.
func TestParseRefusesARedefinedLayoutTemplate(t *testing.T) {
	for _, name := range []string{"field", "fields", "problem", "layout"} {
		pages := fstest.MapFS{
			"templates/_partials.html": {Data: []byte(`{{define "` + name + `"}}mine{{end}}`)},
			"templates/page.html":      {Data: []byte(`{{define "content"}}x{{end}}`)},
		}
		if _, err := NewShell(testTexts(t)).Parse(pages, "templates/*.html"); err == nil || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("Parse with %q redefined = %v, want an error naming it", name, err)
		}
	}
	own := fstest.MapFS{"templates/page.html": {Data: []byte(`{{define "content"}}{{template "field" .}}{{end}}{{define "my-field"}}y{{end}}`)}}
	if _, err := NewShell(testTexts(t)).Parse(own, "templates/*.html"); err != nil {
		t.Fatalf("Parse of a page with its own partial: %v", err)
	}
}

func TestPageCanAnswersByRoleForTemplates(t *testing.T) {
	tests := []struct {
		who          Principal
		kind, action string
		want         bool
	}{
		{clerk, "unit", "read", true},
		{clerk, "staff", "read", false},
		{admin, "staff", "read", true},
		{admin, "unit", "administer", true},
		{anonymous, "unit", "read", false},
		{citizen, "unit", "read", false},
		{admin, "no-such-kind", "read", false},
		{admin, "unit", "no-such-action", false},
	}
	for _, tt := range tests {
		if got := (Page{Principal: tt.who}).Can(tt.kind, tt.action); got != tt.want {
			t.Errorf("%s Can(%q, %q) = %v, want %v", tt.who.Username, tt.kind, tt.action, got, tt.want)
		}
	}
}

func TestFlashShowsOnlyCatalogueFlashKeys(t *testing.T) {
	tests := []struct{ query, want string }{
		{"test.flash.done", "Đã lưu."},
		{"Your+account+is+suspended,+call+012345", ""},
		{"error.404", ""}, // in the catalogue, but not a flash key
		{"x.flash.unknown", ""},
	}
	shell := NewShell(testTexts(t))
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/console/units/1?flash="+tt.query, nil)
		if got := shell.Page(r, Console, "nav.home").Flash; got != tt.want {
			t.Errorf("flash=%s shows %q, want %q", tt.query, got, tt.want)
		}
	}
}

// TestErrorPagesSpeakFromTheCatalogueTheRequestCarries pins that Error,
// which has no shell, draws its page from the catalogue the shell's
// Language middleware lends the request, in the request's language.
func TestErrorPagesSpeakFromTheCatalogueTheRequestCarries(t *testing.T) {
	shell := NewShell(testTexts(t))
	h := shell.Language(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { Error(w, r, errs.ErrNotFound) }))
	for _, tt := range []struct{ target, want string }{{"/missing", "Không tìm thấy"}, {"/missing?lang=en", "Not found"}} {
		r := httptest.NewRequest(http.MethodGet, tt.target, nil)
		r.Header.Set("Accept", "text/html")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "<title>"+tt.want) || strings.Contains(rec.Body.String(), "error.404") {
			t.Errorf("GET %s = %d, want 404 titled %q: %s", tt.target, rec.Code, tt.want, rec.Body)
		}
	}
}

func TestShellLocalizerSpeaksTheRequestsLanguage(t *testing.T) {
	shell := NewShell(testTexts(t))
	var got string
	h := shell.Language(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = shell.Localizer(r).T("test.flash.done")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/?lang=en", nil))
	if got != "Saved." {
		t.Errorf("Localizer(r).T = %q in English, want Saved.", got)
	}
}

// TestConfirmedSaysWhatWasDoneToWhichItem pins the confirmations of
// issue 11: RedirectDone names the action, and the page's flash says it
// of the item the page looked up; a link naming no known action (text of
// an attacker's choosing) leaves the general flash.
func TestConfirmedSaysWhatWasDoneToWhichItem(t *testing.T) {
	shell := NewShell(testTexts(t))
	w := httptest.NewRecorder()
	RedirectDone(w, httptest.NewRequest("POST", "/x", nil), "/x?a=1", "test.flash.done", "approve")
	loc := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther || loc != "/x?a=1&done=approve&flash=test.flash.done" {
		t.Fatalf("RedirectDone: %d %q", w.Code, loc)
	}
	for link, want := range map[string]string{
		loc: "Đã duyệt «Dự thảo A».",
		"/x?flash=test.flash.done&done=%C2%ABxin+ch%C3%A0o%C2%BB": "Đã lưu.",
		"/x?flash=test.flash.done&done=unknown":                   "Đã lưu.",
		"/x?done=approve":                                         "",
	} {
		r := httptest.NewRequest("GET", link, nil)
		if got := shell.Page(r, Console, "test.flash.done").Confirmed(r, "test.flash.did.", "Dự thảo A"); got != want {
			t.Errorf("%s: %q, want %q", link, got, want)
		}
	}
}
