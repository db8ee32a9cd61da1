package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/auth"
	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/web"
)

// publicByIntent lists every route anyone may reach, and why. A new
// public route must be added here on purpose.
var publicByIntent = map[string]string{
	"GET /healthz":                  "liveness probe",
	"GET /readyz":                   "readiness probe",
	"GET /metrics":                  "Prometheus scraping (bind to a private network in production)",
	"GET /static/":                  "CSS and htmx",
	"POST /lang":                    "language switch",
	"GET /api/v1/openapi.json":      "API description",
	"GET /{$}":                      "public portal home",
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
	"GET /track":                         "tracking a dossier by its code",
	"GET /api/v1/dossiers/{code}/status": "tracking a dossier by its code",
	"POST /api/v1/results/verify":        "checking an electronic result's signature",
	"GET /dossiers/{code}/receipt":       "the receipt; its handler sends the anonymous to sign in and shows it to the applicant and the unit only",
	"POST /payments/v1/callback":         "the payment gateway's callback; its signature authenticates",

	// The exchange's routes for information systems authenticate their
	// client token themselves (exchange.Node.Client): no staff session.
	"/exchange/v1/{rest...}":                   "exchange gateway for information systems; the client token authenticates",
	"POST /exchange/v1/enrol":                  "mission node enrolment; the one-time token authenticates",
	"POST /api/v1/exchange/messages":           "asynchronous send; the client token authenticates",
	"GET /api/v1/exchange/inbox":               "a system's inbox; the client token authenticates",
	"POST /api/v1/exchange/inbox/ack":          "a system's acknowledgements; the client token authenticates",
	"PUT /api/v1/exchange/webhook":             "a system's webhook; the client token authenticates",
	"DELETE /api/v1/exchange/webhook":          "a system's webhook; the client token authenticates",
	"GET /api/v1/exchange/messages/{id}/proof": "a system's message proofs; the client token authenticates",
}

// publicWithOIDC lists the public routes that exist only when OIDC
// sign-in is configured.
var publicWithOIDC = map[string]string{
	"GET /console/oidc/login":    "OIDC sign-in start",
	"GET /console/oidc/callback": "OIDC sign-in return",
}

// concrete turns a route pattern into a request path.
func concrete(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	for strings.Contains(path, "{") {
		i := strings.Index(path, "{")
		j := strings.Index(path[i:], "}")
		path = path[:i] + "1" + path[i+j+1:]
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

// TestEveryRouteIsPublicByIntentOrChecked enumerates the node's routes:
// each is listed above as public by intent, or its guard is proved —
// an anonymous caller is sent to sign in or refused with 401, a citizen is
// refused a staff route, and a staff member without roles is refused
// every route a role must grant.
func TestEveryRouteIsPublicByIntentOrChecked(t *testing.T) {
	a, srv := MustStart(t, testConfig(t, false))
	ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
	root, err := a.Identity.UnitByCode(ctx, "000.00.00.G12")
	if err != nil {
		t.Fatal(err)
	}
	nobody, err := a.Identity.CreateStaff(ctx, "test", identity.NewStaff{Username: "no.roles", FullName: "Không Vai Trò", UnitID: root.ID})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "a-long-enough-passphrase"
	if err := a.Auth.SetPassword(ctx, authz.Staff, nobody.ID, pw, false); err != nil {
		t.Fatal(err)
	}
	staffToken := mustLogin(t, srv.URL, "no.roles", pw, "")
	routeCitizen, err := a.Identity.CreateCitizen(ctx, identity.NewCitizen{Email: "route.test@example.com", FullName: "Trần Văn Kiểm"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Auth.SetPassword(ctx, authz.Citizen, routeCitizen.ID, pw, false); err != nil {
		t.Fatal(err)
	}
	citizen, err := a.Auth.Login(ctx, auth.LoginRequest{Kind: authz.Citizen, Username: "route.test@example.com", Password: pw})
	if err != nil {
		t.Fatal(err)
	}

	h := a.Handler()
	routes := a.Routes()
	seen := map[string]bool{}
	for _, r := range routes {
		seen[r.Pattern] = true
		method, path := concrete(r.Pattern)
		if r.Access.Who == authz.Anonymous {
			_, public := publicByIntent[r.Pattern]
			if _, oidc := publicWithOIDC[r.Pattern]; !public && !oidc {
				t.Errorf("%s is public but not listed as public by intent", r.Pattern)
			}
			continue
		}
		rec := do(t, h, method, path, "")
		switch {
		case rec.Code == http.StatusUnauthorized:
		case rec.Code == http.StatusSeeOther && strings.Contains(rec.Header().Get("Location"), "/login?next="):
		default:
			t.Errorf("anonymous %s %s = %d, want 401 or a redirect to sign in", method, path, rec.Code)
		}
		if r.Access.Who == authz.Staff && !r.Access.Citizens {
			if rec := do(t, h, method, path, citizen.Token); rec.Code != http.StatusForbidden {
				t.Errorf("citizen %s %s = %d, want 403", method, path, rec.Code)
			}
		}
		// Routes every staff member may use (reading the unit directory)
		// prove nothing here; the rest must refuse a staff member without
		// roles.
		if d, _ := authz.Decide(nobody.Subject(), r.Access.Action, authz.Resource{Kind: r.Access.Kind}); r.Access.Checked && d != authz.Allowed {
			if rec := do(t, h, method, path, staffToken); rec.Code != http.StatusForbidden {
				t.Errorf("staff without roles %s %s = %d, want 403 (%s)", method, path, rec.Code, r.Access)
			}
		}
	}
	for p := range publicByIntent {
		if !seen[p] {
			t.Errorf("publicByIntent lists %s, which is not a route", p)
		}
	}
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
