package auth

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/printout"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// webFixture serves the sign-in routes behind the middleware the app
// uses, plus probe routes for each kind of access.
type webFixture struct {
	*fixture
	srv *httptest.Server
}

func newWebFixture(t testing.TB, db *store.DB, opts Options) *webFixture {
	t.Helper()
	return serve(t, newFixture(t, db, opts), nil)
}

// serve puts f's service behind a test server. With newOIDC it offers the
// OIDC sign-in that newOIDC returns for the server's URL.
func serve(t testing.TB, f *fixture, newOIDC func(appURL string) *OIDC) *webFixture {
	t.Helper()
	// The server listens before it starts, so the OIDC redirect URL can
	// name it.
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	var oidc *OIDC
	if newOIDC != nil {
		oidc = newOIDC("http://" + srv.Listener.Addr().String())
	}
	shell := webtest.Shell(t, Texts(), identity.Texts())
	h, err := NewHandler(f.svc, shell, oidc)
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	probe := func(what string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, what) }
	}
	rt.HandleFunc("GET /console/{$}", web.SignedIn, probe("console home"))
	rt.HandleFunc("GET /console/units", web.SignedIn, probe("units"))
	rt.HandleFunc("GET /api/v1/probe", web.SignedIn, probe("staff API"))
	rt.HandleFunc("GET /{$}", web.Public, probe("public site home"))
	srv.Config.Handler = web.Chain(rt, shell.Language, web.Authenticate(f.svc.Principal), audit.RequestOrigin, web.CSRF(SessionCookie))
	srv.Start()
	return &webFixture{fixture: f, srv: srv}
}

// response is a finished response with its body read.
type response struct {
	*http.Response
	body string
}

// browser is a cookie-keeping client that does not follow redirects, so
// tests see each 303.
type browser struct {
	t    testing.TB
	c    *http.Client
	base string
}

func (w *webFixture) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: w.srv.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	req.Header.Set("Accept", "text/html")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{Response: resp, body: string(body)}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

// post submits form to path with the CSRF token of the cookie, unless the
// form carries one.
func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	if !form.Has(web.CSRFField) {
		form.Set(web.CSRFField, b.cookie(web.CSRFCookie))
	}
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// signIn signs in through the console's form and returns the response.
func (b *browser) signIn(path, username, password, code string) response {
	b.t.Helper()
	if b.cookie(web.CSRFCookie) == "" {
		b.get(path) // the form's page sets the anti-forgery cookie
	}
	return b.post(path, url.Values{"username": {username}, "password": {password}, "totp": {code}})
}

// api sends a JSON request with an optional bearer token.
func (w *webFixture) api(t testing.TB, method, path, token, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, w.srv.URL+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Response: resp, body: string(b)}
}

// problem decodes a problem+json body.
func problem(t testing.TB, r response) web.ProblemDetails {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d with %s, not a problem: %s", r.StatusCode, ct, r.body)
	}
	var p web.ProblemDetails
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func loginJSON(username, password, code string) string {
	b, _ := json.Marshal(loginBody{Username: username, Password: password, TOTP: code})
	return string(b)
}

func TestAPILoginIssuesABearerToken(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		r := w.api(t, "POST", "/api/v1/auth/login", "", loginJSON("lan.nguyen", testPassword, ""))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("login: %d %s", r.StatusCode, r.body)
		}
		var got loginResponse
		if err := json.Unmarshal([]byte(r.body), &got); err != nil || len(got.Token) != tokenLen || got.Stage != StageFull || got.ExpiresAt.IsZero() {
			t.Fatalf("login response %s (%v)", r.body, err)
		}
		for _, c := range r.Cookies() {
			if c.Name == SessionCookie {
				t.Errorf("the API login set a session cookie: %v", c)
			}
		}
		r = w.api(t, "GET", "/api/v1/auth/me", got.Token, "")
		var me meResponse
		if err := json.Unmarshal([]byte(r.body), &me); err != nil || r.StatusCode != http.StatusOK {
			t.Fatalf("me: %d %s", r.StatusCode, r.body)
		}
		want := meResponse{ID: w.plain.ID, Username: "lan.nguyen", Name: w.plain.FullName, UnitID: w.unit.ID,
			Roles: []string{"clerk"}, Clearance: authz.Unclassified, Stage: StageFull}
		if me.ID != want.ID || me.Username != want.Username || me.Name != want.Name || me.UnitID != want.UnitID ||
			strings.Join(me.Roles, ",") != "clerk" || me.Clearance != want.Clearance || me.Stage != want.Stage {
			t.Fatalf("me = %+v; want %+v", me, want)
		}
		if !strings.Contains(r.body, `"clearance":"none"`) {
			t.Errorf("clearance is not given by name: %s", r.body)
		}
		if r := w.api(t, "POST", "/api/v1/auth/logout", got.Token, ""); r.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d %s", r.StatusCode, r.body)
		}
		r = w.api(t, "GET", "/api/v1/auth/me", got.Token, "")
		if p := problem(t, r); r.StatusCode != http.StatusUnauthorized || p.Code != "session_ended" {
			t.Fatalf("me after logout: %d %+v", r.StatusCode, p)
		}
	})
}

func TestAPILoginRefusals(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{SlowAfter: 2})
		secret := w.enroll(t, w.cleared)
		w.staff(t, "to.lock", authz.Unclassified)
		for _, tc := range []struct {
			name, body string
			status     int
			code       string
			field      string
		}{
			{"malformed JSON", `{"username":`, 400, "", ""},
			{"not an object", `[]`, 400, "", ""},
			{"unknown field", `{"username":"a","password":"b","admin":true}`, 400, "", "admin"},
			{"no username", loginJSON("", testPassword, ""), 400, "", "username"},
			{"no password", loginJSON("lan.nguyen", "", ""), 400, "", "password"},
			{"wrong password", loginJSON("lan.nguyen", "wrong password here", ""), 401, "wrong_credentials", ""},
			{"unknown account", loginJSON("nobody", testPassword, ""), 401, "wrong_credentials", ""},
			{"no code for a second factor", loginJSON("minh.tran", testPassword, ""), 401, "totp_required", ""},
			{"wrong code", loginJSON("minh.tran", testPassword, "000000"), 401, "totp_invalid", ""},
			{"first failure towards a wait", loginJSON("to.lock", "wrong password here", ""), 401, "wrong_credentials", ""},
			{"the failure that makes the address wait", loginJSON("to.lock", "wrong password here", ""), 429, "too_many_attempts", ""},
			{"waiting", loginJSON("to.lock", testPassword, ""), 429, "too_many_attempts", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := w.api(t, "POST", "/api/v1/auth/login", "", tc.body)
				p := problem(t, r)
				if r.StatusCode != tc.status || p.Code != tc.code || (tc.field != "" && p.Errors[tc.field] == "") {
					t.Fatalf("%d %+v; want %d code %q on field %q", r.StatusCode, p, tc.status, tc.code, tc.field)
				}
				if tc.code == "too_many_attempts" && r.Header.Get("Retry-After") != "60" {
					t.Errorf("Retry-After %q; want 60 (the first wait lasts a minute)", r.Header.Get("Retry-After"))
				}
			})
		}
		if r := w.api(t, "POST", "/api/v1/auth/login", "", loginJSON("minh.tran", testPassword, w.code(t, secret))); r.StatusCode != http.StatusOK {
			t.Fatalf("with the right code: %d %s", r.StatusCode, r.body)
		}
	})
}

func TestBearerAndCookieAuthentication(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		sess, err := w.login("lan.nguyen", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"Basic bGFuOnB3", "Bearer", "Bearer ", "Bearer a b", "token " + sess.Token} {
			req, _ := http.NewRequest("GET", w.srv.URL+"/", nil)
			req.Header.Set("Authorization", h)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if p := problem(t, response{resp, string(b)}); resp.StatusCode != 401 || p.Code != "bad_authorization" {
				t.Errorf("Authorization %q on a public page: %d %+v; want 401 bad_authorization", h, resp.StatusCode, p)
			}
		}
		if r := w.api(t, "GET", "/", strings.Repeat("x", tokenLen), ""); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("an unknown bearer token on a public page: %d; want 401", r.StatusCode)
		}

		// The same token in the session cookie: a browser session.
		b := w.browser(t)
		u, _ := url.Parse(w.srv.URL)
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: SessionCookie, Value: sess.Token}})
		if r := b.get("/api/v1/probe"); r.StatusCode != http.StatusOK {
			t.Fatalf("cookie session on a staff route: %d", r.StatusCode)
		}
		b.get("/") // gets the anti-forgery cookie
		req, _ := http.NewRequest("POST", w.srv.URL+"/api/v1/auth/logout", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		if r := b.do(req); r.StatusCode != http.StatusForbidden {
			t.Fatalf("cookie-authenticated POST without the anti-forgery token: %d; want 403", r.StatusCode)
		}
		// A bearer token carries no ambient authority: no token needed.
		if r := w.api(t, "POST", "/api/v1/auth/logout", sess.Token, ""); r.StatusCode != http.StatusNoContent {
			t.Fatalf("bearer logout: %d %s", r.StatusCode, r.body)
		}
		// An ended session's cookie is no error: the browser is anonymous.
		if r := b.get("/"); r.StatusCode != http.StatusOK || r.body != "public site home" {
			t.Fatalf("public page with a stale cookie: %d %q", r.StatusCode, r.body)
		}
		if r := b.get("/console/units"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/login?next=%2Fconsole%2Funits" {
			t.Fatalf("staff page with a stale cookie: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
	})
}

var (
	csrfFieldRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	secretRE    = regexp.MustCompile(`id="totp-secret"[^>]*>([A-Z2-7 ]+)<`)
)

func TestConsoleSignInPage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		b := w.browser(t)
		r := b.get("/console/login?next=/console/units")
		m := csrfFieldRE.FindStringSubmatch(r.body)
		if r.StatusCode != 200 || m == nil || m[1] != b.cookie(web.CSRFCookie) {
			t.Fatalf("sign-in page: %d, token field %v, cookie %q", r.StatusCode, m, b.cookie(web.CSRFCookie))
		}
		for _, want := range []string{`<label for="username">Tên đăng nhập</label>`, `<label for="password">Mật khẩu</label>`,
			`<label for="totp">Mã xác thực</label>`, `name="next" value="/console/units"`, `autocomplete="current-password"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("sign-in page lacks %s", want)
			}
		}

		r = b.post("/console/login", url.Values{"username": {"lan.nguyen"}, "password": {"wrong password here"}, "next": {"/console/units"}})
		if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.body, `value="lan.nguyen"`) ||
			!strings.Contains(r.body, "Tên đăng nhập hoặc mật khẩu không đúng.") ||
			!strings.Contains(r.body, `aria-describedby="password-error"`) || strings.Contains(r.body, "wrong password here") {
			t.Fatalf("wrong password: %d\n%s", r.StatusCode, r.body)
		}

		oldCSRF := b.cookie(web.CSRFCookie)
		r = b.post("/console/login", url.Values{"username": {"lan.nguyen"}, "password": {testPassword}, "next": {"/console/units"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/units" {
			t.Fatalf("sign-in: %d to %q", r.StatusCode, r.Header.Get("Location"))
		}
		var session *http.Cookie
		for _, c := range r.Cookies() {
			if c.Name == SessionCookie {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Secure {
			t.Fatalf("session cookie %+v; want HttpOnly, SameSite=Lax, Path=/, not Secure over plain HTTP", session)
		}
		if b.cookie(web.CSRFCookie) == oldCSRF {
			t.Error("the anti-forgery token survived sign-in")
		}
		if r := b.get("/console/units"); r.StatusCode != 200 || r.body != "units" {
			t.Fatalf("after sign-in: %d %q", r.StatusCode, r.body)
		}
		if r := b.get("/console/login?next=/console/units"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/units" {
			t.Fatalf("the sign-in page when signed in: %d to %q", r.StatusCode, r.Header.Get("Location"))
		}

		r = b.post("/console/logout", url.Values{})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/login" || b.cookie(SessionCookie) != "" {
			t.Fatalf("sign-out: %d to %q, cookie %q", r.StatusCode, r.Header.Get("Location"), b.cookie(SessionCookie))
		}
		if _, err := w.svc.Authenticate(testCtx, session.Value); err == nil {
			t.Fatal("the session survived signing out")
		}
	})
}

func TestSignInPageRefusesForgedFormsAndForeignNext(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		b := w.browser(t)
		b.get("/console/login")
		r := b.post("/console/login", url.Values{"username": {"lan.nguyen"}, "password": {testPassword}, web.CSRFField: {"forged-token-forged-token-forged-token"}})
		if r.StatusCode != http.StatusForbidden || b.cookie(SessionCookie) != "" {
			t.Fatalf("forged anti-forgery token: %d, session %q; want 403 and no session", r.StatusCode, b.cookie(SessionCookie))
		}
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
			r := b.post("/console/login", url.Values{"username": {"lan.nguyen"}, "password": {testPassword}, "next": {next}})
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/" {
				t.Errorf("next %q: %d to %q; want /console/", next, r.StatusCode, r.Header.Get("Location"))
			}
		}
	})
}

func TestSignInPageShowsTheWaits(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{SlowAfter: 1, AddressLimit: 2})
		b := w.browser(t)
		r := b.signIn("/console/login", "lan.nguyen", "wrong password here", "")
		if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "60" ||
			!strings.Contains(r.body, "vào tài khoản này từ địa chỉ của bạn; hãy thử lại sau 15:01 02/03/2026") || !strings.Contains(r.body, `role="alert"`) {
			t.Fatalf("the failure that slows: %d Retry-After %q\n%s", r.StatusCode, r.Header.Get("Retry-After"), r.body)
		}
		b.signIn("/console/login", "nobody.here", "wrong password here", "")
		r = b.signIn("/console/login", "minh.tran", testPassword, "")
		if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.body, "Có quá nhiều lần đăng nhập sai từ địa chỉ của bạn") {
			t.Fatalf("throttled address: %d\n%s", r.StatusCode, r.body)
		}
	})
}

func TestStaffAndCitizenSessionsStayOnTheirSide(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		citizen := w.browser(t)
		r := citizen.signIn("/account/login", "hoa.le@example.com", testPassword, "")
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account/" {
			t.Fatalf("citizen sign-in: %d to %q\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
		}
		if r := citizen.get("/account/"); r.StatusCode != 200 || !strings.Contains(r.body, "hoa.le@example.com") || !strings.Contains(r.body, "Lê Thị Hoa") {
			t.Fatalf("citizen account page: %d\n%s", r.StatusCode, r.body)
		}
		for _, path := range []string{"/console/", "/console/account", "/api/v1/probe", "/api/v1/auth/me"} {
			if r := citizen.get(path); r.StatusCode != http.StatusForbidden {
				t.Errorf("citizen at staff route %s: %d; want 403", path, r.StatusCode)
			}
		}

		staff := w.browser(t)
		if r := staff.signIn("/console/login", "lan.nguyen", testPassword, ""); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("staff sign-in: %d", r.StatusCode)
		}
		if r := staff.get("/account/"); r.StatusCode != http.StatusForbidden {
			t.Errorf("staff at the citizen's account page: %d; want 403", r.StatusCode)
		}
		// Signing in at the wrong door is the ordinary wrong answer.
		if r := w.browser(t).signIn("/account/login", "lan.nguyen", testPassword, ""); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("staff username at the public site: %d; want 401", r.StatusCode)
		}
		if r := w.browser(t).signIn("/console/login", "hoa.le@example.com", testPassword, ""); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("citizen address at the console: %d; want 401", r.StatusCode)
		}
		if r := staff.get("/console/account"); r.StatusCode != 200 || !strings.Contains(r.body, "lan.nguyen") || !strings.Contains(r.body, "Văn thư") ||
			!strings.Contains(r.body, "Chưa bật") || !strings.Contains(r.body, ">Bộ Ngoại giao</a>") {
			t.Fatalf("staff account page: %d\n%s", r.StatusCode, r.body)
		}
	})
}

func TestPublicSiteRegistration(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := serve(t, withMail(newFixture(t, db, Options{})), nil)
		b := w.browser(t)
		if r := b.get("/account/register"); r.StatusCode != 200 || !strings.Contains(r.body, `<label for="full_name">Họ và tên</label>`) {
			t.Fatalf("registration page: %d", r.StatusCode)
		}
		form := func(email, password, confirm string) url.Values {
			return url.Values{"email": {email}, "full_name": {"Phạm Văn An"}, "phone": {"+84 912 345 678"},
				"password": {password}, "confirm_password": {confirm}}
		}
		for _, tc := range []struct {
			name   string
			form   url.Values
			status int
			field  string
			key    string // the message shown
		}{
			{"passwords differ", form("an.pham@example.com", "a fine passphrase", "a fine passphrase!"), 400, "confirm_password", "auth.error.confirm"},
			{"password too short", form("an.pham@example.com", "short", "short"), 400, "password", "auth.password.short"},
			{"address malformed", form("an.pham", "a fine passphrase", "a fine passphrase"), 400, "email", "auth.invalid.email"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := b.post("/account/register", tc.form)
				if r.StatusCode != tc.status || !strings.Contains(r.body, `id="`+tc.field+`-error">`+i18nVI(tc.key)+`<`) ||
					!strings.Contains(r.body, `value="Phạm Văn An"`) {
					t.Fatalf("%d (want %d, %s on %s)\n%s", r.StatusCode, tc.status, tc.key, tc.field, r.body)
				}
				if b.cookie(SessionCookie) != "" {
					t.Fatal("a refused registration signed in")
				}
			})
		}
		if r := b.signIn("/account/login", "hoa.le@example.com", testPassword, ""); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("citizen sign-in: %d", r.StatusCode)
		}
		if r := b.get("/account/register"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("registration page when signed in: %d; want a redirect to the account", r.StatusCode)
		}
	})
}

func TestTOTPEnrolmentPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		b := w.browser(t)
		b.get("/console/login")
		r := b.post("/console/login", url.Values{"username": {"minh.tran"}, "password": {testPassword}, "next": {"/console/units"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/sign-in/enroll-totp?next=%2Fconsole%2Funits" {
			t.Fatalf("cleared staff sign-in: %d to %q", r.StatusCode, r.Header.Get("Location"))
		}
		pending := b.cookie(SessionCookie)
		if r := b.get("/console/units"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/sign-in/enroll-totp" {
			t.Fatalf("an enroll_totp session reached a staff page: %d to %q", r.StatusCode, r.Header.Get("Location"))
		}
		// The password alone shows no secret: the page asks for the
		// enrolment code an administrator handed over.
		r = b.get("/console/sign-in/enroll-totp?next=/console/units")
		if r.StatusCode != 200 || secretRE.MatchString(r.body) || !strings.Contains(r.body, `name="enrolment_code"`) {
			t.Fatalf("enrolment page before a code: %d\n%s", r.StatusCode, r.body)
		}
		r = b.post("/console/sign-in/enroll-totp", url.Values{"enrolment_code": {"guessedguessed23"}, "next": {"/console/units"}})
		if r.StatusCode != http.StatusBadRequest || secretRE.MatchString(r.body) || !strings.Contains(r.body, `id="enrolment_code-error"`) {
			t.Fatalf("a wrong enrolment code: %d\n%s", r.StatusCode, r.body)
		}
		enrolCode, _, err := w.svc.IssueEnrolmentCode(testCtx, authz.Staff, w.cleared.ID)
		if err != nil {
			t.Fatal(err)
		}
		r = b.post("/console/sign-in/enroll-totp", url.Values{"enrolment_code": {enrolCode}, "next": {"/console/units"}})
		m := secretRE.FindStringSubmatch(r.body)
		if r.StatusCode != 200 || m == nil || !strings.Contains(html.UnescapeString(r.body), "otpauth://totp/Chancery:minh.tran?secret=") {
			t.Fatalf("enrolment page after the code: %d\n%s", r.StatusCode, r.body)
		}
		secret := strings.ReplaceAll(m[1], " ", "")
		// A phone scans the same URI from the screen.
		uri := regexp.MustCompile(`href="(otpauth://[^"]+)"`).FindStringSubmatch(r.body)
		if uri == nil {
			t.Fatalf("no otpauth link on the enrolment page\n%s", r.body)
		}
		qr, err := printout.QRSVG(html.UnescapeString(uri[1]), texts.T(i18n.VI, "auth.enroll.qr"))
		if err != nil || !strings.Contains(r.body, `<div class="qr">`+string(qr)+`</div>`) {
			t.Errorf("the enrolment page shows no QR code of its otpauth URI (%v)", err)
		}
		// The pending secret is never shown again: not on a reload, not
		// for the used code.
		if r := b.get("/console/sign-in/enroll-totp"); secretRE.MatchString(r.body) {
			t.Fatalf("the pending secret was shown again\n%s", r.body)
		}
		r = b.post("/console/sign-in/enroll-totp", url.Values{"enrolment_code": {enrolCode}, "next": {"/console/units"}})
		if r.StatusCode != http.StatusBadRequest || secretRE.MatchString(r.body) {
			t.Fatalf("the used code again: %d\n%s", r.StatusCode, r.body)
		}
		r = b.post("/console/sign-in/enroll-totp", url.Values{"totp": {"000000"}, "next": {"/console/units"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, `id="totp-error"`) || secretRE.MatchString(r.body) {
			t.Fatalf("wrong code: %d\n%s", r.StatusCode, r.body)
		}
		r = b.post("/console/sign-in/enroll-totp", url.Values{"totp": {w.code(t, secret)}, "next": {"/console/units"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/units" {
			t.Fatalf("right code: %d to %q\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
		}
		if b.cookie(SessionCookie) == pending {
			t.Fatal("the session was not renewed when the second factor was enrolled")
		}
		if _, err := w.svc.Authenticate(testCtx, pending); err == nil {
			t.Fatal("the pre-enrolment session still authenticates")
		}
		if r := b.get("/console/units"); r.StatusCode != 200 {
			t.Fatalf("after enrolling: %d", r.StatusCode)
		}
		if r := b.get("/console/sign-in/enroll-totp"); r.StatusCode != 200 || secretRE.MatchString(r.body) || !strings.Contains(r.body, "đã được bật") {
			t.Fatalf("enrolment page once enrolled: %d\n%s", r.StatusCode, r.body)
		}
	})
}

func TestForcedPasswordChangePages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		otp, err := w.svc.IssueOneTimePassword(testCtx, authz.Staff, w.plain.ID)
		if err != nil {
			t.Fatal(err)
		}
		b := w.browser(t)
		r := b.signIn("/console/login", "lan.nguyen", otp, "")
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/sign-in/change-password" {
			t.Fatalf("sign-in with a one-time password: %d to %q", r.StatusCode, r.Header.Get("Location"))
		}
		if r := b.get("/console/"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/sign-in/change-password" {
			t.Fatalf("change_password session at a staff page: %d to %q", r.StatusCode, r.Header.Get("Location"))
		}
		if r := b.get("/console/sign-in/change-password"); r.StatusCode != 200 || !strings.Contains(r.body, "mật khẩu tạm thời") {
			t.Fatalf("change page: %d\n%s", r.StatusCode, r.body)
		}
		for _, tc := range []struct {
			name                   string
			current, next, confirm string
			status                 int
			field                  string
		}{
			{"repeated wrongly", otp, "a brand new passphrase", "a brand new passphrase?", 400, "confirm_password"},
			{"wrong current password", "not the password", "a brand new passphrase", "a brand new passphrase", 400, "current_password"},
			{"too common", otp, "password123456", "password123456", 400, "password"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := b.post("/console/sign-in/change-password", url.Values{"current_password": {tc.current}, "password": {tc.next}, "confirm_password": {tc.confirm}})
				if r.StatusCode != tc.status || !strings.Contains(r.body, `id="`+tc.field+`-error"`) {
					t.Fatalf("%d\n%s", r.StatusCode, r.body)
				}
			})
		}
		r = b.post("/console/sign-in/change-password", url.Values{"current_password": {otp}, "password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/" {
			t.Fatalf("password change: %d to %q\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
		}
		if r := b.get("/console/"); r.StatusCode != 200 {
			t.Fatalf("after the change: %d", r.StatusCode)
		}
	})
}

func TestPublicSiteForcedPasswordChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		otp, err := w.svc.IssueOneTimePassword(testCtx, authz.Citizen, w.citizen.ID)
		if err != nil {
			t.Fatal(err)
		}
		b := w.browser(t)
		r := b.signIn("/account/login", "hoa.le@example.com", otp, "")
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account/password" {
			t.Fatalf("citizen sign-in with a one-time password: %d to %q", r.StatusCode, r.Header.Get("Location"))
		}
		r = b.post("/account/password", url.Values{"current_password": {otp}, "password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account/" {
			t.Fatalf("citizen password change: %d to %q\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
		}
		if r := b.get("/account/"); r.StatusCode != 200 {
			t.Fatalf("citizen account after the change: %d", r.StatusCode)
		}
	})
}

// FuzzLoginJSON feeds arbitrary bodies to POST /api/v1/auth/login: the
// answer is never a server error, and a token only for a right username
// and password (minh.tran, cleared but not enrolled, gets one limited to
// enrolment).
func FuzzLoginJSON(f *testing.F) {
	w := newWebFixture(f, storetest.MustOpen(f, store.SQLite), Options{AddressLimit: 1 << 30, SlowAfter: 1 << 30})
	for _, seed := range []string{
		loginJSON("lan.nguyen", testPassword, ""),
		loginJSON("lan.nguyen", "wrong password here", ""),
		loginJSON("minh.tran", testPassword, "123456"),
		`{"username":"lan.nguyen","password":"` + testPassword + `","extra":1}`,
		`{"username":1,"password":2}`,
		`{"username":"lan.nguyen","password":"` + testPassword + `"} {}`,
		`{"username":"\u0000","password":"\ud800"}`,
		"\xff\xfe", "", "null", "[]", `"x"`, `{`,
	} {
		f.Add(seed)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, body string) {
		resp, err := client.Post(w.srv.URL+"/api/v1/auth/login", "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("body %q: %d %s", body, resp.StatusCode, out)
		}
		var sent loginBody
		dec := json.NewDecoder(strings.NewReader(body))
		dec.DisallowUnknownFields()
		right := utf8.ValidString(body) && dec.Decode(&sent) == nil && !dec.More() &&
			(sent.Username == "lan.nguyen" || sent.Username == "minh.tran") && sent.Password == testPassword
		if got := strings.Contains(string(out), `"token"`); resp.StatusCode == http.StatusOK != right || got != right {
			t.Fatalf("body %q: %d %s; a token is due only for the right credentials", body, resp.StatusCode, out)
		}
	})
}
