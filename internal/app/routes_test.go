package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"chancery/internal/web"
)

// publicByIntent lists every route anyone may reach, and why. A new
// public route must be added here on purpose.
var publicByIntent = map[string]string{
	"GET /healthz":                  "liveness probe",
	"GET /readyz":                   "readiness probe",
	"GET /static/":                  "CSS and htmx",
	"POST /lang":                    "language switch",
	"GET /api/v1/openapi.json":      "API description",
	"GET /{$}":                      "public site home",
	"POST /api/v1/auth/login":       "staff sign-in",
	"GET /console/login":            "staff sign-in page",
	"POST /console/login":           "staff sign-in form",
	"GET /account/login":            "citizen sign-in page",
	"POST /account/login":           "citizen sign-in form",
	"GET /account/register":         "citizen registration page",
	"POST /account/register":        "citizen registration form",
	"GET /account/verify":           "a registration's mailed link; its token authenticates",
	"POST /account/verify":          "a registration's mailed link; its token authenticates",
	"GET /account/reset":            "a forgotten password's reset form",
	"POST /account/reset":           "a forgotten password's reset form; answers alike for every address",
	"GET /account/reset/confirm":    "a password reset's mailed link; its token authenticates",
	"POST /account/reset/confirm":   "a password reset's mailed link; its token authenticates",
	"POST /console/logout":          "signing out works even with an expired session",
	"POST /account/logout":          "signing out works even with an expired session",
	"GET /api/v1/calendar/holidays": "public holidays are public information",

	// Administrative procedures: the catalogue is public information, as
	// on the national portal anyone holding a dossier's code follows it,
	// and anyone may check an electronic result's signature.
	"GET /procedures":                    "the catalogue of procedures",
	"GET /procedures/{code}":             "a procedure's public page",
	"GET /api/v1/procedures":             "the catalogue of procedures",
	"GET /api/v1/procedures/{code}":      "a procedure's public description",
	"GET /track":                         "the tracking form",
	"GET /services":                      "the procedures' catalogue (the home page's online services)",
	"GET /services/{code}":               "a procedure's page",
	"GET /services/track":                "the home page's old tracking address, redirected to /track",
	"GET /verify/{code}/{token}":         "a printed result's verification page; the token from its QR code, derived from the signature",
	"POST /track":                        "tracking a dossier by its code and tracking PIN, rate-limited per address",
	"GET /api/v1/dossiers/{code}/status": "tracking a dossier by its code and tracking PIN, rate-limited per address",
	"POST /api/v1/results/verify":        "checking an electronic result's signature",
	"GET /dossiers/{code}/receipt":       "the receipt; its handler sends the anonymous to sign in and shows it to the applicant and the unit only",
	"POST /payments/v1/callback":         "the payment gateway's callback; its signature authenticates",

	// The electronic portal (internal/portal): foreign information,
	// citizen protection and the missions are public information; a
	// publication is public only once the spokesperson approved it.
	"GET /news":                      "published news, press releases and statements",
	"GET /news/tags/{tag}":           "published items with a tag",
	"GET /news/feed.atom":            "the Atom feed of published items",
	"GET /news/{slug}":               "a published item; anything unpublished answers 404",
	"GET /protection":                "citizen protection: hotlines and travel advisories",
	"GET /missions":                  "the missions abroad",
	"GET /missions/{code}":           "a mission's public page",
	"GET /privacy":                   "the privacy notice",
	"GET /accessibility":             "the accessibility statement",
	"GET /sitemap.xml":               "the public pages, for search engines",
	"GET /robots.txt":                "what search engines may index",
	"GET /favicon.ico":               "the site's icon",
	"GET /api/v1/portal/news":        "published news, press releases and statements",
	"GET /api/v1/portal/news/{slug}": "a published item; anything unpublished answers 404",
	"GET /api/v1/portal/missions":    "the missions abroad",

	// Mission node enrolment: the one-time token authenticates. The
	// exchange's routes for information systems are web.Client routes.
	"POST /exchange/v1/enrol": "mission node enrolment; the one-time token authenticates",

	// c2sp.org/tlog-witness: the caller is known by the key that signed the
	// checkpoint it presents (authz.Node, nodeGrants), not by a session.
	"POST /api/v1/audit/witness/add-checkpoint": "a peer node presents its signed checkpoint to the witness",
}

// publicWithOIDC lists the public routes that exist only when OIDC
// sign-in is configured.
var publicWithOIDC = map[string]string{
	"GET /console/oidc/login":    "OIDC sign-in start",
	"GET /console/oidc/callback": "OIDC sign-in return",
}

// concreteWith turns a route pattern into a request path, with id for
// every wildcard. A pattern without a method (a route for every method,
// such as the exchange's gateway) is tried with GET.
func concreteWith(pattern, id string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = http.MethodGet, pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	for strings.Contains(path, "{") {
		i := strings.Index(path, "{")
		j := strings.Index(path[i:], "}")
		path = path[:i] + id + path[i+j+1:]
	}
	if strings.HasSuffix(path, "/") && path != "/" && !strings.HasSuffix(pattern, "{$}") {
		path += "x"
	}
	return method, path
}

// do sends a request with a valid CSRF cookie and token, so that what
// answers is the route's own access check.
func do(t *testing.T, h http.Handler, method, path, bearer string) *httptest.ResponseRecorder {
	t.Helper()
	const csrf = "0123456789abcdef0123456789abcdef0123456789"
	form := url.Values{web.CSRFField: {csrf}}
	req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: web.CSRFCookie, Value: csrf})
	// A DELETE's body is not parsed as a form, so the token also goes in
	// the header, as htmx sends it.
	req.Header.Set(web.CSRFHeader, csrf)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestOpenAPIDescribesEveryRoute fails when an API route is missing from
// openapi.json, or the document describes a route that does not exist.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	a, srv := MustStart(t, testConfig(t, false))
	resp, err := http.Get(srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	var missing []string
	routed := map[string]bool{}
	for _, r := range a.Routes() {
		method, path, _ := strings.Cut(r.Pattern, " ")
		if !strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/exchange/") {
			continue
		}
		key := method + " " + path
		routed[key] = true
		if !documented[key] {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("openapi.json does not describe %s", m)
	}
	for d := range documented {
		if !routed[d] {
			t.Errorf("openapi.json describes %s, which is not a route", d)
		}
	}
}
