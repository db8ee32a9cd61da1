package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestStaticServesTheAssets(t *testing.T) {
	tests := []struct{ path, contentType string }{
		{"/static/app.css", "text/css"},
		{"/static/htmx.min.js", "text/javascript"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		Static().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.contentType) {
			t.Errorf("GET %s = %d %q, want 200 %s", tt.path, rec.Code, rec.Header().Get("Content-Type"), tt.contentType)
		}
		if rec.Header().Get("Cache-Control") == "" {
			t.Errorf("GET %s has no Cache-Control", tt.path)
		}
	}
}

// The CSP allows styles, fonts and images from 'self' only, and the
// ministry's pages must not call out to other hosts: the stylesheet may
// load nothing from elsewhere.
func TestStylesheetLoadsNothingFromElsewhere(t *testing.T) {
	css, err := fs.ReadFile(staticFS, "static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, banned := range []*regexp.Regexp{
		regexp.MustCompile(`@import`),
		regexp.MustCompile(`@font-face`),
		regexp.MustCompile(`url\(\s*['"]?(https?:)?//`),
		regexp.MustCompile(`expression\(`),
	} {
		if loc := banned.FindIndex(css); loc != nil {
			t.Errorf("app.css has %q", css[loc[0]:loc[1]])
		}
	}
}

// classAttr matches a class attribute's static part (template actions
// inside are skipped by splitting on spaces and dropping "{{…}}" words).
var classAttr = regexp.MustCompile(`class="([^"]*)"`)

func TestEveryLayoutClassIsStyled(t *testing.T) {
	css, err := fs.ReadFile(staticFS, "static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no layout templates: %v", err)
	}
	for _, page := range pages {
		b, err := fs.ReadFile(templateFS, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range classAttr.FindAllStringSubmatch(string(b), -1) {
			for _, class := range strings.Fields(m[1]) {
				if strings.ContainsAny(class, "{}") {
					continue
				}
				if !regexp.MustCompile(`\.` + regexp.QuoteMeta(class) + `\b`).Match(css) {
					t.Errorf("%s uses class %q, which app.css does not style", page, class)
				}
			}
		}
	}
}

// A directory under /static/ is not listed: 404, as for a missing file.
func TestStaticAnswers404ForDirectories(t *testing.T) {
	for _, path := range []string{"/static/", "/static", "/static/app.css/"} {
		rec := httptest.NewRecorder()
		Static().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "htmx.min.js") {
			t.Errorf("GET %s = %d %.80q, want 404 without a listing", path, rec.Code, rec.Body)
		}
	}
}
