package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"chancery/internal/authz"
)

const testSessionCookie = "chancery_session"

// okHandler answers 200 "ok" and records that it ran.
func okHandler(ran *bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*ran = true
		io.WriteString(w, "ok")
	})
}

func csrfCookieOf(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == CSRFCookie {
			return c
		}
	}
	return nil
}

func TestCSRFGivesASafeRequestAToken(t *testing.T) {
	t.Run("new visitor gets a cookie", func(t *testing.T) {
		var seen string
		h := CSRF(testSessionCookie)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = CSRFToken(r.Context()) }))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/", nil))
		c := csrfCookieOf(t, rec)
		if c == nil {
			t.Fatal("no CSRF cookie set on GET")
		}
		if len(c.Value) < 32 || c.Value != seen {
			t.Errorf("cookie %q, token in the context %q: want the same value of at least 32 characters", c.Value, seen)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
			t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/", c)
		}
	})
	t.Run("returning visitor keeps theirs", func(t *testing.T) {
		token := strings.Repeat("k", 43)
		var seen string
		h := CSRF(testSessionCookie)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = CSRFToken(r.Context()) }))
		r := httptest.NewRequest(http.MethodGet, "/console/", nil)
		r.AddCookie(&http.Cookie{Name: CSRFCookie, Value: token})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if c := csrfCookieOf(t, rec); c != nil {
			t.Errorf("a second cookie %q was set over a good one", c.Value)
		}
		if seen != token {
			t.Errorf("token %q, want the cookie's %q", seen, token)
		}
	})
	t.Run("a short cookie is replaced", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/console/", nil)
		r.AddCookie(&http.Cookie{Name: CSRFCookie, Value: "short"})
		rec := httptest.NewRecorder()
		CSRF(testSessionCookie)(http.NotFoundHandler()).ServeHTTP(rec, r)
		if c := csrfCookieOf(t, rec); c == nil || c.Value == "short" {
			t.Errorf("a guessable short token was kept: %v", c)
		}
	})
}

func TestCSRFGuardsUnsafeRequests(t *testing.T) {
	token := strings.Repeat("t", 43)
	tests := []struct {
		name        string
		contentType string
		body        string
		header      map[string]string
		cookie      bool   // send the CSRF cookie
		session     bool   // send the session cookie
		bearer      bool   // the principal authenticated with a bearer token
		bound       string // the token bound to the principal's session
		path        string // default /console/units
		pass        bool
	}{
		{name: "session-bound token", contentType: "application/x-www-form-urlencoded", body: "csrf_token=" + strings.Repeat("b", 43),
			session: true, bound: strings.Repeat("b", 43), pass: true},
		{name: "the cookie's token, not the session's", contentType: "application/x-www-form-urlencoded", body: "csrf_token=" + token,
			cookie: true, session: true, bound: strings.Repeat("b", 43)},
		{name: "htmx header with another session's token", header: map[string]string{CSRFHeader: token},
			cookie: true, session: true, bound: strings.Repeat("b", 43)},
		{name: "API form without any credential (the guard answers)", contentType: "application/x-www-form-urlencoded", body: "x=1",
			path: "/api/v1/dossiers", pass: true},
		{name: "API form riding a session cookie", contentType: "application/x-www-form-urlencoded", body: "x=1",
			path: "/api/v1/dossiers", cookie: true, session: true},
		{name: "form without token", contentType: "application/x-www-form-urlencoded", body: "name=x", cookie: true, session: true},
		{name: "form with a forged token", contentType: "application/x-www-form-urlencoded", body: "name=x&csrf_token=" + strings.Repeat("f", 43), cookie: true, session: true},
		{name: "form token without cookie", contentType: "application/x-www-form-urlencoded", body: "csrf_token=" + token, session: true},
		{name: "form with the matching token", contentType: "application/x-www-form-urlencoded", body: "name=x&csrf_token=" + token, cookie: true, session: true, pass: true},
		{name: "htmx header with the matching token", header: map[string]string{CSRFHeader: token}, cookie: true, session: true, pass: true},
		{name: "htmx header with a forged token", header: map[string]string{CSRFHeader: "x" + token[1:]}, cookie: true, session: true},
		{name: "bearer client", contentType: "application/json", body: `{}`, bearer: true, pass: true},
		{name: "JSON without session cookie", contentType: "application/json", body: `{"username":"a"}`, pass: true},
		{name: "JSON riding a session cookie", contentType: "application/json", body: `{}`, cookie: true, session: true},
		{name: "cross-site form with the matching token", contentType: "application/x-www-form-urlencoded", body: "csrf_token=" + token,
			header: map[string]string{"Sec-Fetch-Site": "cross-site"}, cookie: true, session: true},
		{name: "cross-site JSON without session", contentType: "application/json", body: `{}`,
			header: map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{name: "foreign Origin", contentType: "application/x-www-form-urlencoded", body: "csrf_token=" + token,
			header: map[string]string{"Origin": "https://evil.example"}, cookie: true, session: true},
		{name: "same-origin fetch metadata with the matching token", contentType: "application/x-www-form-urlencoded", body: "csrf_token=" + token,
			header: map[string]string{"Sec-Fetch-Site": "same-origin"}, cookie: true, session: true, pass: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/console/units"
			}
			r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if tt.cookie {
				r.AddCookie(&http.Cookie{Name: CSRFCookie, Value: token})
			}
			if tt.session {
				r.AddCookie(&http.Cookie{Name: testSessionCookie, Value: "s3ss10n"})
			}
			if tt.bearer {
				r = r.WithContext(WithPrincipal(r.Context(), Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 1}, Bearer: true}))
			}
			if tt.bound != "" {
				r = r.WithContext(WithPrincipal(r.Context(), Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 1}, CSRF: tt.bound}))
			}
			var ran bool
			rec := httptest.NewRecorder()
			CSRF(testSessionCookie)(okHandler(&ran)).ServeHTTP(rec, r)
			if ran != tt.pass {
				t.Fatalf("handler ran: %v, want %v (status %d %s)", ran, tt.pass, rec.Code, rec.Body)
			}
			if tt.pass {
				return
			}
			if rec.Code != http.StatusForbidden {
				t.Fatalf("status %d, want 403", rec.Code)
			}
			if p := problemOf(t, rec); p.Code != "csrf" {
				t.Errorf("problem code %q, want csrf", p.Code)
			}
		})
	}
}

func TestObserveGivesEachRequestAnID(t *testing.T) {
	generated := regexp.MustCompile(`^[0-9a-f]{16}$`)
	tests := []struct {
		name, sent string
		keep       bool
	}{
		{name: "none sent", sent: ""},
		{name: "well-formed kept", sent: "lb-7f3a_01.x", keep: true},
		{name: "64 characters kept", sent: strings.Repeat("a", 64), keep: true},
		{name: "65 characters replaced", sent: strings.Repeat("a", 65)},
		{name: "header injection replaced", sent: "abc\r\nSet-Cookie: x=1"},
		{name: "markup replaced", sent: "<script>alert(1)</script>"},
		{name: "space replaced", sent: "a b"},
		{name: "log forging replaced", sent: `x" level=ERROR msg="forged`},
		{name: "non-ASCII replaced", sent: "mã-yêu-cầu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inCtx string
			h := Observe(slog.New(slog.DiscardHandler), nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inCtx = RequestID(r.Context())
			}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.sent != "" {
				r.Header["X-Request-Id"] = []string{tt.sent}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			got := rec.Header().Get("X-Request-Id")
			if got != inCtx {
				t.Errorf("header id %q, context id %q: want the same", got, inCtx)
			}
			if tt.keep && got != tt.sent {
				t.Errorf("id %q, want the client's %q kept", got, tt.sent)
			}
			if !tt.keep && !generated.MatchString(got) {
				t.Errorf("id %q, want a fresh 16-hex-digit id in place of %q", got, tt.sent)
			}
		})
	}
}

func TestObserveTurnsAPanicIntoA500WithoutTheStack(t *testing.T) {
	var logs bytes.Buffer
	h := Observe(slog.New(slog.NewJSONHandler(&logs, nil)), nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("ledger key k-7f3a missing")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/units", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	p := problemOf(t, rec)
	for _, leak := range []string{"goroutine", "k-7f3a", "middleware_test.go", "panic"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Errorf("the response leaks %q: %s", leak, rec.Body)
		}
	}
	if p.RequestID == "" || p.RequestID != rec.Header().Get("X-Request-Id") {
		t.Errorf("problem request_id %q, header %q", p.RequestID, rec.Header().Get("X-Request-Id"))
	}
	if !strings.Contains(logs.String(), "k-7f3a") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("the log lacks the panic and its stack: %s", logs.String())
	}
}

// requestCounts returns chancery_http_requests_total by "route code".
func requestCounts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "chancery_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["route"]+" "+labels["code"]] = m.GetCounter().GetValue()
		}
	}
	return out
}

func TestObserveCountsRequestsByRoutePattern(t *testing.T) {
	reg := prometheus.NewRegistry()
	rt := NewRouter()
	rt.HandleFunc("GET /api/v1/units/{id}", Public, func(w http.ResponseWriter, r *http.Request) {})
	rt.HandleFunc("GET /api/v1/staff/{id}", SignedIn, func(w http.ResponseWriter, r *http.Request) {})
	// Language stands for the middleware between Observe and the router
	// that, as in the app, hands the next handler a copy of the request.
	h := Chain(rt, Observe(slog.New(slog.DiscardHandler), NewMetrics(reg)), NewShell(testTexts(t)).Language)
	for _, path := range []string{"/api/v1/units/1", "/api/v1/units/2", "/api/v1/units/3", "/api/v1/staff/9", "/nowhere"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	got := requestCounts(t, reg)
	want := map[string]float64{
		"GET /api/v1/units/{id} 200": 3, // one series for every id: the pattern, never the path
		"GET /api/v1/staff/{id} 401": 1,
		"unmatched 404":              1,
	}
	for series, n := range want {
		if got[series] != n {
			t.Errorf("%s = %v, want %v (all: %v)", series, got[series], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want exactly %v", got, want)
	}
}

func TestSecureHeaders(t *testing.T) {
	for _, target := range []string{"http://example.com/console/", "https://example.com/console/"} {
		t.Run(target, func(t *testing.T) {
			rec := httptest.NewRecorder()
			SecureHeaders(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
			h := rec.Header()
			csp := h.Get("Content-Security-Policy")
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP allows inline code: %q", csp)
			}
			for _, directive := range []string{"frame-ancestors 'none'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "default-src 'self'"} {
				if !strings.Contains(csp, directive) {
					t.Errorf("CSP %q lacks %q", csp, directive)
				}
			}
			if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("X-Frame-Options %q, X-Content-Type-Options %q", h.Get("X-Frame-Options"), h.Get("X-Content-Type-Options"))
			}
			u, _ := url.Parse(target)
			hsts := h.Get("Strict-Transport-Security")
			if (u.Scheme == "https") != (hsts != "") {
				t.Errorf("over %s, HSTS %q: want it only under TLS", u.Scheme, hsts)
			}
		})
	}
}

func TestLimitBodyRefusesAnOversizeBodyWith413(t *testing.T) {
	const limit = 64
	decodeOrFail := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := DecodeJSON(r, &decodeTarget{}); err != nil {
			Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	big := `{"name": "` + strings.Repeat("a", 2*limit) + `"}`
	tests := []struct {
		name, body string
		chunked    bool // no Content-Length: the cap must hold while reading
		want       int
	}{
		{name: "declared length over the limit", body: big, want: http.StatusRequestEntityTooLarge},
		{name: "streamed body over the limit", body: big, chunked: true, want: http.StatusRequestEntityTooLarge},
		{name: "within the limit", body: `{"name": "a"}`, want: http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length from NewRequest
			}
			r := httptest.NewRequest(http.MethodPost, "/api/v1/units", body)
			r.Header.Set("Content-Type", "application/json")
			if tt.chunked && r.ContentLength != -1 {
				r.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			LimitBody(limit)(decodeOrFail).ServeHTTP(rec, r)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want == http.StatusRequestEntityTooLarge {
				problemOf(t, rec)
			}
		})
	}
}

func TestAuthenticateSkipsStaticAssets(t *testing.T) {
	calls := 0
	authn := func(*http.Request) (Principal, error) { calls++; return Principal{}, nil }
	h := Authenticate(authn)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, path := range []string{"/static/app.css", "/static/htmx.min.js", "/console/", "/api/v1/units"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	if calls != 2 {
		t.Fatalf("authn ran %d times for two pages and two assets, want 2", calls)
	}
}

func TestRequestLogsNameTheRouteNeverThePathOrQuery(t *testing.T) {
	var buf bytes.Buffer
	rt := NewRouter()
	rt.HandleFunc("GET /exchange/v1/{rest...}", Public, func(w http.ResponseWriter, r *http.Request) {})
	h := Chain(rt, Observe(slog.New(slog.NewJSONHandler(&buf, nil)), nil), NewShell(testTexts(t)).Language)
	for _, target := range []string{"/exchange/v1/VN/GOV/000.00.00.H41/population/v1/citizens/001188004215?purpose=036079001187",
		"/nowhere/001188004215?id=036079001187"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, target, nil))
	}
	log := buf.String()
	for _, leak := range []string{"001188004215", "036079001187", "citizens", "nowhere"} {
		if strings.Contains(log, leak) {
			t.Errorf("the request log holds %q:\n%s", leak, log)
		}
	}
	for _, want := range []string{`"route":"GET /exchange/v1/{rest...}"`, `"route":"unmatched"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the request log lacks %s:\n%s", want, log)
		}
	}
}
