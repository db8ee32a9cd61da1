// Package webtest holds what tests of pages share: reading a page as a
// signed-in person, and checking what it shows.
package webtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/i18n"
	"chancery/internal/web"
)

// Get requests target from h as p (nobody, for the zero Principal), as a
// browser asks for a page, through the shell's language middleware every
// page relies on.
func Get(shell *web.Shell, h http.Handler, p web.Principal, target string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Accept", "text/html")
	return Serve(shell, h, p, r)
}

// GetIn is Get in language lang, chosen as a visitor does, by the
// language cookie.
func GetIn(shell *web.Shell, h http.Handler, p web.Principal, lang i18n.Lang, target string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Accept", "text/html")
	r.AddCookie(&http.Cookie{Name: web.LangCookie, Value: string(lang)})
	return Serve(shell, h, p, r)
}

// Request returns a request for target with body, of contentType unless
// that is empty.
func Request(method, target, contentType, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// Serve serves r by h as p (nobody, for the zero Principal), through the
// language middleware every page relies on. A request for a console page
// that names no Accept asks for HTML, as a browser does.
func Serve(shell *web.Shell, h http.Handler, p web.Principal, r *http.Request) *httptest.ResponseRecorder {
	if strings.HasPrefix(r.URL.Path, "/console") && r.Header.Get("Accept") == "" {
		r.Header.Set("Accept", "text/html")
	}
	if p.Subject.Authenticated() {
		r = r.WithContext(web.WithPrincipal(r.Context(), p))
	}
	w := httptest.NewRecorder()
	shell.Language(h).ServeHTTP(w, r)
	return w
}

// PageHas fails the test unless the page answered status and holds every
// one of want.
func PageHas(tb testing.TB, w *httptest.ResponseRecorder, status int, want ...string) {
	tb.Helper()
	if w.Code != status {
		tb.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	for _, s := range want {
		if !strings.Contains(w.Body.String(), s) {
			tb.Errorf("page lacks %q", s)
		}
	}
}

// Shell returns a shell whose catalogue holds the layout's strings (web's
// table) and the given capabilities' tables, as the composition root
// builds it.
func Shell(tb testing.TB, tables ...i18n.Texts) *web.Shell {
	tb.Helper()
	texts, err := i18n.New(append([]i18n.Texts{web.Texts()}, tables...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return web.NewShell(texts)
}

// Problem decodes w's application/problem+json answer, failing tb unless
// w answered status with one.
func Problem(tb testing.TB, w *httptest.ResponseRecorder, status int) web.ProblemDetails {
	tb.Helper()
	if w.Code != status {
		tb.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type %q, want application/problem+json: %s", ct, w.Body)
	}
	var p web.ProblemDetails
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		tb.Fatalf("decode the problem %s: %v", w.Body, err)
	}
	return p
}
