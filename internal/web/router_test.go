package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/authz"
)

// Principals the router and shell tests sign in as.
var (
	anonymous = Principal{}
	clerk     = Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 11, Unit: 3, Roles: authz.RolesOf(authz.Clerk)},
		Username: "clerk", Name: "Nguyễn Văn An", Stage: "full"}
	admin = Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 12, Unit: 1, Roles: authz.RolesOf(authz.Administrator)},
		Username: "admin", Name: "Trần Thị Bình", Stage: "full"}
	enrolling = Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 13, Unit: 1, Roles: authz.RolesOf(authz.Administrator)},
		Username: "new", Name: "Lê Văn Cường", Stage: "enroll_totp"}
	citizen = Principal{Subject: authz.Subject{Kind: authz.Citizen, ID: 21}, Username: "dan@example.vn", Name: "Phạm Thị Dung"}
	// A citizen signed in with a one-time password.
	renewing = Principal{Subject: authz.Subject{Kind: authz.Citizen, ID: 22}, Username: "hoa@example.vn", Name: "Lý Thị Hoa", Stage: "change_password"}
	// An information system whose client token was checked.
	system = Principal{Subject: authz.Subject{Kind: authz.Client, Subsystem: "VN/GOV/000.00.00.G12/procedures"},
		Username: "VN/GOV/000.00.00.G12/procedures", Stage: "full", Bearer: true}
)

// as wraps h so every request arrives signed in as p, as Authenticate
// would leave it.
func as(p Principal, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

func guardedRouter() *Router {
	ok := func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("reached")) }
	rt := NewRouter()
	rt.HandleFunc("GET /{$}", Public, ok)
	rt.HandleFunc("GET /console/{$}", SignedIn, ok)
	rt.HandleFunc("GET /console/users", Staff(authz.KindStaff, authz.Read), ok)
	rt.HandleFunc("POST /console/users", Staff(authz.KindStaff, authz.Create), ok)
	rt.HandleFunc("GET /console/sign-in/enroll-totp", SignInStep, ok)
	rt.HandleFunc("GET /account/{$}", CitizenOnly, ok)
	rt.HandleFunc("GET /api/v1/staff", Staff(authz.KindStaff, authz.Read), ok)
	rt.HandleFunc("POST /api/v1/exchange/messages", Client(authz.KindMessage, authz.Create), ok)
	rt.HandleFunc("POST /console/login", Public, ok)
	return rt
}

func TestRouterGuardEnforcesEachRoutesAccess(t *testing.T) {
	tests := []struct {
		name      string
		who       Principal
		method    string
		target    string
		status    int
		location  string // for redirects
		code      string // the problem's code, for refusals
		challenge bool   // WWW-Authenticate expected
	}{
		{name: "anyone on a public page", who: anonymous, method: "GET", target: "/", status: 200},
		{name: "anonymous on a console page is sent to sign in", who: anonymous, method: "GET", target: "/console/users?unit=3&q=an",
			status: 303, location: "/console/login?next=%2Fconsole%2Fusers%3Funit%3D3%26q%3Dan"},
		{name: "anonymous on a citizen page is sent to the public site's sign-in", who: anonymous, method: "GET", target: "/account/",
			status: 303, location: "/account/login?next=%2Faccount%2F"},
		{name: "anonymous on the API", who: anonymous, method: "GET", target: "/api/v1/staff", status: 401, code: "unauthenticated", challenge: true},
		{name: "anonymous form post is refused, not redirected", who: anonymous, method: "POST", target: "/console/users", status: 401, code: "unauthenticated", challenge: true},
		{name: "citizen on a staff route", who: citizen, method: "GET", target: "/console/", status: 403, code: "wrong_account_kind"},
		{name: "citizen on a staff API", who: citizen, method: "GET", target: "/api/v1/staff", status: 403, code: "wrong_account_kind"},
		{name: "staff on a citizen route", who: clerk, method: "GET", target: "/account/", status: 403, code: "wrong_account_kind"},
		{name: "staff lacking the role", who: clerk, method: "GET", target: "/console/users", status: 403, code: "no_role"},
		{name: "staff lacking the role on the API", who: clerk, method: "GET", target: "/api/v1/staff", status: 403, code: "no_role"},
		{name: "staff with the role", who: admin, method: "GET", target: "/console/users", status: 200},
		{name: "staff with the role posts", who: admin, method: "POST", target: "/console/users", status: 200},
		{name: "any staff on a signed-in page", who: clerk, method: "GET", target: "/console/", status: 200},
		{name: "citizen on a citizen page", who: citizen, method: "GET", target: "/account/", status: 200},
		{name: "sign-in-stage session is sent to finish signing in", who: enrolling, method: "GET", target: "/console/users",
			status: 303, location: "/console/sign-in/enroll-totp"},
		{name: "sign-in-stage session on the API", who: enrolling, method: "GET", target: "/api/v1/staff", status: 403, code: "sign_in_incomplete"},
		{name: "a citizen mid-sign-in is sent to change their password", who: renewing, method: "GET", target: "/account/",
			status: 303, location: "/account/password"},
		{name: "sign-in-stage session on its step", who: enrolling, method: "GET", target: "/console/sign-in/enroll-totp", status: 200},
		{name: "an information system on its route", who: system, method: "POST", target: "/api/v1/exchange/messages", status: 200},
		{name: "anonymous on a client route", who: anonymous, method: "POST", target: "/api/v1/exchange/messages", status: 401, code: "unauthenticated", challenge: true},
		{name: "staff on a client route", who: clerk, method: "POST", target: "/api/v1/exchange/messages", status: 403, code: "wrong_account_kind"},
		{name: "an information system on a staff route", who: system, method: "GET", target: "/api/v1/staff", status: 403, code: "wrong_account_kind"},
		{name: "an information system on a public route", who: system, method: "POST", target: "/console/login", status: 403, code: "wrong_account_kind"},
		{name: "anyone else on that public route", who: anonymous, method: "POST", target: "/console/login", status: 200},
	}
	rt := guardedRouter()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			rec := httptest.NewRecorder()
			as(tt.who, rt).ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Fatalf("%s %s as %q: status %d, want %d: %s", tt.method, tt.target, tt.who.Username, rec.Code, tt.status, rec.Body)
			}
			reached := rec.Body.String() == "reached"
			if reached != (tt.status == 200) {
				t.Errorf("handler reached: %v with status %d", reached, rec.Code)
			}
			if loc := rec.Header().Get("Location"); loc != tt.location {
				t.Errorf("Location %q, want %q", loc, tt.location)
			}
			if tt.code != "" {
				if p := problemOf(t, rec); p.Code != tt.code {
					t.Errorf("problem code %q, want %q", p.Code, tt.code)
				}
			}
			if got := rec.Header().Get("WWW-Authenticate") != ""; got != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want one: %v", rec.Header().Get("WWW-Authenticate"), tt.challenge)
			}
		})
	}
}

func TestRouterAnswersUnmatchedRequestsWithProblems(t *testing.T) {
	rt := guardedRouter()
	t.Run("no such route", func(t *testing.T) {
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/secret-plans", nil))
		if rec.Code != http.StatusNotFound {
			t.Fatalf("status %d, want 404", rec.Code)
		}
		if p := problemOf(t, rec); strings.Contains(p.Detail, "secret-plans") {
			t.Errorf("the 404 echoes the path: %q", p.Detail)
		}
	})
	t.Run("wrong method", func(t *testing.T) {
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/api/v1/staff", nil))
		if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Header().Get("Allow"), "GET") {
			t.Fatalf("status %d Allow %q, want 405 allowing GET", rec.Code, rec.Header().Get("Allow"))
		}
		problemOf(t, rec)
	})
}

func TestRouterListsEveryRouteWithItsAccess(t *testing.T) {
	routes := guardedRouter().Routes()
	want := map[string]string{
		"GET /{$}":                         "public",
		"GET /console/{$}":                 "staff",
		"GET /console/users":               "staff:staff:read",
		"POST /console/users":              "staff:staff:create",
		"GET /console/sign-in/enroll-totp": "staff:sign-in-step",
		"GET /account/{$}":                 "citizen",
		"GET /api/v1/staff":                "staff:staff:read",
		"POST /api/v1/exchange/messages":   "client:message:create",
		"POST /console/login":              "public",
	}
	if len(routes) != len(want) {
		t.Fatalf("%d routes, want %d: %v", len(routes), len(want), routes)
	}
	for i, r := range routes {
		if want[r.Pattern] != r.Access.String() {
			t.Errorf("%s: access %q, want %q", r.Pattern, r.Access, want[r.Pattern])
		}
		if i > 0 && routes[i-1].Pattern > r.Pattern {
			t.Errorf("routes not sorted: %q before %q", routes[i-1].Pattern, r.Pattern)
		}
	}
}

// Paths, queries and url-encoded forms are checked before dispatch, so
// that no handler passes a NUL in a path value to PostgreSQL (a 500 there,
// a 404 on SQLite) and every route refuses the same text the same way.
func TestRouterRefusesHostileTextBeforeDispatch(t *testing.T) {
	reached := false
	rt := NewRouter()
	rt.HandleFunc("GET /api/v1/drafts/{id}", Public, func(w http.ResponseWriter, r *http.Request) { reached = true })
	rt.HandleFunc("POST /api/v1/notes", Public, func(w http.ResponseWriter, r *http.Request) { reached = true })
	form := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/notes", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"plain path", httptest.NewRequest(http.MethodGet, "/api/v1/drafts/abcd", nil), http.StatusOK},
		{"NUL in path", httptest.NewRequest(http.MethodGet, "/api/v1/drafts/ab%00cd", nil), http.StatusBadRequest},
		{"CR LF in path", httptest.NewRequest(http.MethodGet, "/api/v1/drafts/ab%0D%0Acd", nil), http.StatusBadRequest},
		{"escape in path", httptest.NewRequest(http.MethodGet, "/api/v1/drafts/ab%1Bcd", nil), http.StatusBadRequest},
		{"bidi override in path", httptest.NewRequest(http.MethodGet, "/api/v1/drafts/ab%E2%80%AEcd", nil), http.StatusBadRequest},
		{"invalid UTF-8 in path", httptest.NewRequest(http.MethodGet, "/api/v1/drafts/ab%FFcd", nil), http.StatusBadRequest},
		{"NUL in query", httptest.NewRequest(http.MethodGet, "/api/v1/drafts/abcd?q=a%00", nil), http.StatusBadRequest},
		{"plain form", form("note=line+one%0D%0Aline+two%09tabbed"), http.StatusOK},
		{"NUL in form", form("note=a%00b"), http.StatusBadRequest},
		{"zero-width in form", form("note=ad%E2%80%8Bmin"), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reached = false
			rec := httptest.NewRecorder()
			rt.ServeHTTP(rec, tt.req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want != http.StatusOK {
				problemOf(t, rec)
				if reached {
					t.Error("the handler was reached")
				}
			}
		})
	}
}

// TestRouteCheckLetsAClearedSessionWriteAClassifiedKind: a route's check
// asks about the kind at the session's working level, so an officer
// whose session works at their clearance starts documents (the service
// classifies each one at least at that level), while roles still decide.
func TestRouteCheckLetsAClearedSessionWriteAClassifiedKind(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("reached")) }
	rt := NewRouter()
	rt.HandleFunc("POST /console/documents", Staff(authz.KindDocument, authz.Create), ok)
	for _, tc := range []struct {
		name   string
		roles  authz.Roles
		status int
	}{
		{"an officer working at secret", authz.RolesOf(authz.Officer), http.StatusOK},
		{"an auditor working at secret", authz.RolesOf(authz.Auditor), http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 31, Unit: 3, Roles: tc.roles, Clearance: authz.Secret, Session: authz.Secret},
				Username: "officer", Stage: "full"}
			rec := httptest.NewRecorder()
			as(p, rt).ServeHTTP(rec, httptest.NewRequest("POST", "/console/documents", nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
		})
	}
}
