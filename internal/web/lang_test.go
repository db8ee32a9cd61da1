package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// hostileNext are ?next= values an attacker would use to bounce a user
// who has just signed in (or switched language) to another site.
var hostileNext = []string{
	"",
	"evil.com",
	"//evil.com",
	"//evil.com/console/",
	"///evil.com",
	"/\\evil.com",
	"\\\\evil.com",
	"\\/evil.com",
	"https://evil.com",
	"http:evil.com",
	"javascript:alert(document.domain)",
	"JaVaScRiPt:alert(1)",
	"data:text/html,<script>alert(1)</script>",
	" //evil.com",
	"/\t/evil.com",     // browsers drop tabs inside URLs
	"/\n/evil.com",     // and newlines
	"/x/../\\evil.com", // cleaned by http.Redirect into /\evil.com
	"/x/..\\/evil.com", // likewise
	"/console\r\nSet-Cookie: session=attacker",
	"/console\rLocation: https://evil.com",
}

func TestSafeNextRefusesOffSiteTargets(t *testing.T) {
	for _, next := range hostileNext {
		if got := SafeNext(next, "/fallback"); got != "/fallback" {
			t.Errorf("SafeNext(%q) = %q, want the fallback", next, got)
		}
	}
}

func TestSafeNextKeepsLocalPaths(t *testing.T) {
	for _, next := range []string{
		"/",
		"/console/",
		"/console/units?page=2&q=h%C3%A0+n%E1%BB%99i",
		"/console/units/7#history",
		"/account/dossiers/HN-240101-0007",
		"/tra-cứu",
	} {
		if got := SafeNext(next, "/fallback"); got != next {
			t.Errorf("SafeNext(%q) = %q, want it kept", next, got)
		}
	}
}

// browserTarget resolves a Location header against origin the way a
// browser's URL parser does (WHATWG URL): tabs and newlines are removed,
// surrounding spaces and controls trimmed, and a backslash counts as a
// slash in http(s) URLs.
func browserTarget(t *testing.T, origin *url.URL, location string) *url.URL {
	t.Helper()
	loc := strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, location)
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	u, err := origin.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q does not parse: %v", location, err)
	}
	return u
}

func postLang(form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "https://chancery.example/lang", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	LangHandler().ServeHTTP(rec, r)
	return rec
}

func TestLangHandlerRemembersTheLanguageAndGoesBack(t *testing.T) {
	tests := []struct {
		lang, next, location string
	}{
		{"en", "/console/units?page=2", "/console/units?page=2"},
		{"vi", "/", "/"},
		{"vi", "", "/"},
		{"en", "//evil.com", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.lang+" "+tt.next, func(t *testing.T) {
			rec := postLang(url.Values{"lang": {tt.lang}, "next": {tt.next}})
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != tt.location {
				t.Fatalf("status %d Location %q, want 303 to %q", rec.Code, rec.Header().Get("Location"), tt.location)
			}
			var got *http.Cookie
			for _, c := range rec.Result().Cookies() {
				if c.Name == LangCookie {
					got = c
				}
			}
			if got == nil || got.Value != tt.lang || !got.HttpOnly || !got.Secure || got.MaxAge <= 0 {
				t.Errorf("language cookie %+v, want %q, HttpOnly, Secure (TLS), lasting", got, tt.lang)
			}
		})
	}
}

func TestLangHandlerNeverRedirectsOffSite(t *testing.T) {
	origin, _ := url.Parse("https://chancery.example/lang")
	for _, next := range hostileNext {
		rec := postLang(url.Values{"lang": {"en"}, "next": {next}})
		if rec.Code != http.StatusSeeOther {
			t.Errorf("next=%q: status %d, want 303", next, rec.Code)
			continue
		}
		loc := rec.Header().Get("Location")
		if u := browserTarget(t, origin, loc); u.Scheme != "https" || u.Host != origin.Host {
			t.Errorf("next=%q: Location %q takes the browser to %s", next, loc, u)
		}
		if strings.ContainsAny(loc, "\r\n") {
			t.Errorf("next=%q: Location %q splits the header", next, loc)
		}
	}
}

func TestLangHandlerRefusesAnUnsupportedLanguage(t *testing.T) {
	for _, lang := range []string{"", "fr", "VI", "en-US", "vi;", "<script>"} {
		t.Run(lang, func(t *testing.T) {
			rec := postLang(url.Values{"lang": {lang}, "next": {"/console/"}})
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("lang=%q: status %d, want 400", lang, rec.Code)
			}
			for _, c := range rec.Result().Cookies() {
				if c.Name == LangCookie {
					t.Errorf("lang=%q set the cookie to %q", lang, c.Value)
				}
			}
			if rec.Header().Get("Location") != "" {
				t.Errorf("lang=%q redirected to %q", lang, rec.Header().Get("Location"))
			}
		})
	}
	t.Run("problem for API clients", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/lang", strings.NewReader("lang=fr"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		LangHandler().ServeHTTP(rec, r)
		if p := problemOf(t, rec); p.Status != http.StatusBadRequest || p.Errors["lang"] == "" {
			t.Errorf("problem %+v, want a 400 naming the lang field", p)
		}
	})
}
