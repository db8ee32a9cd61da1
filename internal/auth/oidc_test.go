package auth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// identityProvider simulates the ministry's OpenID Connect provider: a
// discovery document, a JWKS with an RSA key made for the test, an
// authorization endpoint that approves at once whoever Next names, and a
// token endpoint that checks the code, the client and the PKCE verifier
// and issues a signed ID token.
type identityProvider struct {
	t        testing.TB
	srv      *httptest.Server
	key      *rsa.PrivateKey
	clientID string
	secret   string

	mu sync.Mutex
	// Next is whom the provider vouches for at the next authorization.
	next   claims
	grants map[string]grant // by code
	// forgeNonce, when set, replaces the nonce in issued ID tokens.
	forgeNonce string
}

// claims are the ID token's claims about the person.
type claims struct {
	Subject           string   `json:"sub"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Email             string   `json:"email,omitempty"`
	EmailVerified     bool     `json:"email_verified,omitempty"`
	AMR               []string `json:"amr,omitempty"`
}

// grant is an authorization waiting for its code to be exchanged.
type grant struct {
	who         claims
	nonce       string
	challenge   string
	redirectURI string
}

func newIdentityProvider(t testing.TB) *identityProvider {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &identityProvider{t: t, key: key, clientID: "chancery", secret: "s3cret", grants: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// vouch sets whom the provider approves next.
func (p *identityProvider) vouch(c claims) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next = c
}

func (p *identityProvider) writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (p *identityProvider) discovery(w http.ResponseWriter, r *http.Request) {
	u := p.srv.URL
	p.writeJSON(w, map[string]any{
		"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token", "jwks_uri": u + "/jwks",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
	})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (p *identityProvider) jwks(w http.ResponseWriter, r *http.Request) {
	pub := p.key.PublicKey
	p.writeJSON(w, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "test-key", "use": "sig", "alg": "RS256",
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func (p *identityProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != p.clientID || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "openid") {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	code := rand.Text()
	p.mu.Lock()
	p.grants[code] = grant{who: p.next, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri")}
	p.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *identityProvider) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	p.mu.Lock()
	g, found := p.grants[r.PostFormValue("code")]
	delete(p.grants, r.PostFormValue("code")) // codes are single-use
	forged := p.forgeNonce
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case id != p.clientID || secret != p.secret:
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	case !found || r.PostFormValue("grant_type") != "authorization_code" || r.PostFormValue("redirect_uri") != g.redirectURI ||
		b64(sum[:]) != g.challenge:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	nonce := g.nonce
	if forged != "" {
		nonce = forged
	}
	now := time.Now()
	payload := map[string]any{"iss": p.srv.URL, "aud": p.clientID, "sub": g.who.Subject, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	if g.who.PreferredUsername != "" {
		payload["preferred_username"] = g.who.PreferredUsername
	}
	if g.who.Email != "" {
		payload["email"], payload["email_verified"] = g.who.Email, g.who.EmailVerified
	}
	if g.who.AMR != nil {
		payload["amr"] = g.who.AMR
	}
	p.writeJSON(w, map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": p.sign(payload)})
}

// sign returns payload as a JWT signed with RS256.
func (p *identityProvider) sign(payload map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "test-key"})
	body, _ := json.Marshal(payload)
	signing := b64(header) + "." + b64(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	if err != nil {
		p.t.Fatal(err)
	}
	return signing + "." + b64(sig)
}

// oidcFixture is a web fixture that offers sign-in through the simulated
// provider.
type oidcFixture struct {
	*webFixture
	idp *identityProvider
}

// newOIDCFixture serves the fixture with sign-in through a new simulated
// provider, configured as MFA-capable or not and admitting e-mail
// addresses in domains (none: any, e-mail unused).
func newOIDCFixture(t *testing.T, db *store.DB, mfa bool, domains ...string) *oidcFixture {
	idp := newIdentityProvider(t)
	f := newFixture(t, db, Options{})
	w := serve(t, f, func(appURL string) *OIDC {
		o, err := NewOIDC(testCtx, OIDCConfig{Issuer: idp.srv.URL, ClientID: idp.clientID, ClientSecret: idp.secret,
			RedirectURL: appURL + "/console/oidc/callback", MFA: mfa, EmailDomains: domains}, f.svc)
		if err != nil {
			t.Fatal(err)
		}
		return o
	})
	return &oidcFixture{webFixture: w, idp: idp}
}

// oidcBrowser follows redirects through the sign-in, to the provider and
// back, and stops at the first one out of it.
func (w *oidcFixture) oidcBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: w.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.Path, "/console/oidc/") || req.URL.Path == "/authorize" {
			return nil
		}
		return http.ErrUseLastResponse
	}}}
}

// oidcCase is one sign-in through the provider and how it must end.
type oidcCase struct {
	name     string
	who      claims
	status   int
	location string // for a 303
	as       int64  // the staff member signed in; 0: none
	stage    string
	code     string // the refusal's message key
}

// run signs in through the provider as tc.who and checks the outcome.
func (w *oidcFixture) run(t *testing.T, tc oidcCase) {
	t.Helper()
	w.idp.vouch(tc.who)
	b := w.oidcBrowser(t)
	r := b.get("/console/oidc/login?next=/console/units")
	if r.StatusCode != tc.status || r.Header.Get("Location") != tc.location {
		t.Fatalf("%d to %q; want %d to %q\n%s", r.StatusCode, r.Header.Get("Location"), tc.status, tc.location, r.body)
	}
	token := b.cookie(SessionCookie)
	if tc.as == 0 {
		if token != "" || !strings.Contains(r.body, i18nVI(tc.code)) {
			t.Fatalf("refused, yet a session %q, or the page lacks %q\n%s", token, i18nVI(tc.code), r.body)
		}
		return
	}
	p, err := w.svc.Authenticate(testCtx, token)
	if err != nil || p.Subject.ID != tc.as || p.Stage != tc.stage {
		t.Fatalf("signed in as %+v (%v); want staff %d at %s", p, err, tc.as, tc.stage)
	}
}

// link links m to sub at the fixture's provider, as an administrator does.
func (w *oidcFixture) link(t testing.TB, m identity.StaffMember, sub string) {
	t.Helper()
	if err := w.dir.LinkOIDCSubject(testCtx, m.ID, w.idp.srv.URL, sub); err != nil {
		t.Fatal(err)
	}
}

func TestOIDCSignIn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newOIDCFixture(t, db, true)
		ctx := testCtx
		disabled := w.staff(t, "gone.away", authz.Unclassified)
		yes := true
		if _, err := w.dir.UpdateStaff(ctx, "test", disabled.ID, identity.StaffPatch{Disabled: &yes, Version: disabled.Version}); err != nil {
			t.Fatal(err)
		}
		enrolled := w.staff(t, "thu.ha", authz.TopSecret)
		secret := w.enroll(t, enrolled)
		w.link(t, w.plain, "sub-lan")
		w.link(t, w.cleared, "sub-minh")
		w.link(t, enrolled, "sub-ha")
		w.link(t, disabled, "sub-gone")

		for _, tc := range []oidcCase{
			{"the linked subject signs in", claims{Subject: "sub-lan", PreferredUsername: "lan.nguyen"},
				303, "/console/units", w.plain.ID, StageFull, ""},
			{"the linked subject is who counts, not the name", claims{Subject: "sub-lan", PreferredUsername: "renamed"},
				303, "/console/units", w.plain.ID, StageFull, ""},
			{"no such staff member", claims{Subject: "sub-new", PreferredUsername: "new.comer"},
				401, "", 0, "", "auth.error.oidc_account"},
			{"an MFA-capable provider's second factor counts", claims{Subject: "sub-minh", AMR: []string{"pwd", "otp"}},
				303, "/console/units", w.cleared.ID, StageFull, ""},
			{"cleared without the provider's MFA must enrol", claims{Subject: "sub-minh", AMR: []string{"pwd"}},
				303, "/console/sign-in/enroll-totp?next=%2Fconsole%2Funits", w.cleared.ID, StageEnrollTOTP, ""},
			{"enrolled without the provider's MFA gives a code", claims{Subject: "sub-ha", PreferredUsername: "thu.ha"},
				303, "/console/sign-in/verify-totp?next=%2Fconsole%2Funits", enrolled.ID, StageVerifyTOTP, ""},
			{"a hardware key counts as MFA", claims{Subject: "sub-ha", AMR: []string{"hwk"}},
				303, "/console/units", enrolled.ID, StageFull, ""},
			{"a disabled account", claims{Subject: "sub-gone", PreferredUsername: "gone.away"},
				403, "", 0, "", "auth.error.disabled"},
		} {
			t.Run(tc.name, func(t *testing.T) { w.run(t, tc) })
		}
		if _, err := w.dir.StaffByUsername(ctx, "new.comer"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("an account was provisioned: %v", err)
		}

		// The ledger: each sign-in by its staff member, each refusal by
		// the system with what was tried.
		var ok, refused []audit.Event
		for _, e := range w.events(t, "login") {
			if e.Attrs["method"] == "password" {
				continue // the fixture's own sign-ins
			}
			if e.Outcome == audit.OK {
				ok = append(ok, e)
			} else {
				refused = append(refused, e)
			}
		}
		if len(ok) != 6 || len(refused) != 2 {
			t.Fatalf("%d sign-ins and %d refusals recorded; want 6 and 2", len(ok), len(refused))
		}
		wantRecord(t, ok[0], audit.Event{Actor: audit.Staff(w.plain.ID, "lan.nguyen"), UnitID: w.unit.ID, Action: "login", ResourceType: "staff",
			ResourceID: staffRes(w.plain), Outcome: audit.OK, Attrs: map[string]string{"method": "oidc", "stage": "full", "address": "127.0.0.1"}})
		wantRecord(t, refused[0], audit.Event{Actor: audit.System("auth"), Action: "login", Outcome: audit.Failed, Reason: "no_account",
			Attrs: map[string]string{"method": "oidc", "address": "127.0.0.1", "username": "new.comer"}})
		wantRecord(t, refused[1], audit.Event{Actor: audit.System("auth"), Action: "login", ResourceType: "staff", ResourceID: staffRes(disabled),
			Outcome: audit.Failed, Reason: "account_disabled", Attrs: map[string]string{"method": "oidc", "address": "127.0.0.1"}})

		// The code step after the provider: wrong, then right.
		w.idp.vouch(claims{Subject: "sub-ha"})
		b := w.oidcBrowser(t)
		b.get("/console/oidc/login")
		r := b.post("/console/sign-in/verify-totp", url.Values{"totp": {"000000"}})
		if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.body, `id="totp-error"`) {
			t.Fatalf("wrong code after the provider: %d\n%s", r.StatusCode, r.body)
		}
		if r := b.get("/console/units"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("a verify_totp session reached a staff page: %d", r.StatusCode)
		}
		w.clock.Advance(totpPeriod * time.Second)
		r = b.post("/console/sign-in/verify-totp", url.Values{"totp": {w.code(t, secret)}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/" {
			t.Fatalf("right code after the provider: %d to %q\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
		}
		if r := b.get("/console/units"); r.StatusCode != http.StatusOK {
			t.Fatalf("after the code: %d", r.StatusCode)
		}
		steps := w.events(t, "login")
		steps = steps[len(steps)-2:]
		wantRecord(t, steps[0], audit.Event{Actor: audit.System("auth"), Action: "login", ResourceType: "staff", ResourceID: staffRes(enrolled),
			Outcome: audit.Failed, Reason: "totp_invalid", Attrs: map[string]string{"method": "totp", "address": "127.0.0.1"}})
		wantRecord(t, steps[1], audit.Event{Actor: audit.Staff(enrolled.ID, "thu.ha"), UnitID: w.unit.ID, Action: "login", ResourceType: "staff",
			ResourceID: staffRes(enrolled), Outcome: audit.OK, Attrs: map[string]string{"method": "totp", "stage": "full", "address": "127.0.0.1"}})
	})
}

// TestOIDCTakeoverAttemptsAreRefused pins issue 10's item 2: the provider
// vouching for a name, an e-mail address or a second factor takes over no
// staff account that an administrator did not link to that very
// provider account, and a provider not configured as MFA-capable does
// not stand in for Chancery's second factor.
func TestOIDCTakeoverAttemptsAreRefused(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newOIDCFixture(t, db, false, "mofa.gov.vn")
		enrolled := w.staff(t, "thu.ha", authz.TopSecret)
		w.enroll(t, enrolled)
		w.link(t, w.plain, "sub-lan")
		w.link(t, enrolled, "sub-ha")
		admin, err := w.dir.CreateStaff(testCtx, "test", identity.NewStaff{Username: "quan.tri", FullName: "Quản Trị",
			UnitID: w.unit.ID, Roles: authz.RolesOf(authz.Administrator)})
		if err != nil {
			t.Fatal(err)
		}
		w.link(t, admin, "sub-admin")
		verified := func(sub, email string) claims { return claims{Subject: sub, Email: email, EmailVerified: true} }
		for _, tc := range []oidcCase{
			{"an unlinked subject naming a staff member's username", claims{Subject: "sub-evil", PreferredUsername: "minh.tran",
				Email: "minh.tran@mofa.gov.vn", EmailVerified: true}, 401, "", 0, "", "auth.error.oidc_account"},
			{"an unlinked subject with a staff member's verified address", verified("sub-evil", "lan.nguyen@mofa.gov.vn"),
				401, "", 0, "", "auth.error.oidc_account"},
			{"an unverified address", claims{Subject: "sub-lan", Email: "lan.nguyen@mofa.gov.vn"},
				403, "", 0, "", "auth.error.oidc_email"},
			{"an address in another domain", verified("sub-lan", "lan.nguyen@mofa.gov.vn.evil.example"),
				403, "", 0, "", "auth.error.oidc_email"},
			{"no address at all", claims{Subject: "sub-lan", PreferredUsername: "lan.nguyen"},
				403, "", 0, "", "auth.error.oidc_email"},
			{"a verified address in the domain, on the linked account", verified("sub-lan", "lan.nguyen@MOFA.gov.vn"),
				303, "/console/units", w.plain.ID, StageFull, ""},
			{"amr from a provider not configured MFA-capable skips no TOTP", claims{Subject: "sub-ha", Email: "thu.ha@mofa.gov.vn",
				EmailVerified: true, AMR: []string{"mfa", "otp", "hwk"}},
				303, "/console/sign-in/verify-totp?next=%2Fconsole%2Funits", enrolled.ID, StageVerifyTOTP, ""},
			{"an administrator without a clearance still enrols a second factor", claims{Subject: "sub-admin", Email: "quan.tri@mofa.gov.vn",
				EmailVerified: true, AMR: []string{"mfa"}},
				303, "/console/sign-in/enroll-totp?next=%2Fconsole%2Funits", admin.ID, StageEnrollTOTP, ""},
		} {
			t.Run(tc.name, func(t *testing.T) { w.run(t, tc) })
		}
		if got, err := w.dir.StaffByOIDCSubject(testCtx, w.idp.srv.URL, "sub-evil"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("the unlinked subject got linked to %q (%v)", got.Username, err)
		}
	})
}

// i18nVI returns the Vietnamese text of key as a page shows it.
func i18nVI(key string) string { return html.EscapeString(texts.T(i18n.VI, key)) }

func TestOIDCCallbackRefusesWhatItDidNotStart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newOIDCFixture(t, db, false)
		w.idp.vouch(claims{Subject: "sub-lan", PreferredUsername: "lan.nguyen"})
		refused := func(t *testing.T, b *browser, r response) {
			t.Helper()
			if r.StatusCode != http.StatusUnauthorized || b.cookie(SessionCookie) != "" || !strings.Contains(r.body, i18nVI("auth.error.oidc_failed")) {
				t.Fatalf("%d, session %q\n%s", r.StatusCode, b.cookie(SessionCookie), r.body)
			}
		}
		t.Run("no sign-in in flight", func(t *testing.T) {
			b := w.browser(t)
			refused(t, b, b.get("/console/oidc/callback?code=abc&state=xyz"))
		})
		t.Run("a good code with another state", func(t *testing.T) {
			b := w.browser(t)
			r := b.get("/console/oidc/login")
			auth, _ := url.Parse(r.Header.Get("Location"))
			if auth.Host != strings.TrimPrefix(w.idp.srv.URL, "http://") {
				t.Fatalf("sent to %v, not the provider", auth)
			}
			approved, err := b.c.Get(auth.String())
			if err != nil {
				t.Fatal(err)
			}
			approved.Body.Close()
			back, _ := url.Parse(approved.Header.Get("Location"))
			q := back.Query()
			if q.Get("code") == "" {
				t.Fatalf("the provider sent back %v", back)
			}
			q.Set("state", "forged")
			back.RawQuery = q.Encode()
			refused(t, b, b.get(back.RequestURI()))
		})
		t.Run("the provider refused", func(t *testing.T) {
			b := w.browser(t)
			r := b.get("/console/oidc/login")
			auth, _ := url.Parse(r.Header.Get("Location"))
			refused(t, b, b.get("/console/oidc/callback?error=access_denied&state="+url.QueryEscape(auth.Query().Get("state"))))
		})
		t.Run("a code that is not the provider's", func(t *testing.T) {
			b := w.browser(t)
			r := b.get("/console/oidc/login")
			auth, _ := url.Parse(r.Header.Get("Location"))
			refused(t, b, b.get("/console/oidc/callback?code=made-up&state="+url.QueryEscape(auth.Query().Get("state"))))
		})
		t.Run("an ID token for another sign-in", func(t *testing.T) {
			w.idp.mu.Lock()
			w.idp.forgeNonce = "someone-elses-nonce"
			w.idp.mu.Unlock()
			defer func() { w.idp.mu.Lock(); w.idp.forgeNonce = ""; w.idp.mu.Unlock() }()
			b := w.oidcBrowser(t)
			refused(t, b, b.get("/console/oidc/login"))
		})
		// Each is on record, on no account: nobody is known to have tried.
		var recorded int
		for _, e := range w.events(t, "login") {
			if e.Attrs["method"] != "oidc" {
				continue
			}
			recorded++
			wantRecord(t, e, audit.Event{Actor: audit.System("auth"), Action: "login", Outcome: audit.Failed, Reason: "oidc_failed",
				Attrs: map[string]string{"method": "oidc", "address": "127.0.0.1"}})
		}
		if recorded != 5 {
			t.Fatalf("%d refused callbacks recorded; want 5", recorded)
		}
	})
}

func TestNewOIDCNeedsACompleteReachableProvider(t *testing.T) {
	idp := newIdentityProvider(t)
	for _, cfg := range []OIDCConfig{
		{ClientID: "c", RedirectURL: "http://x/cb"},
		{Issuer: idp.srv.URL, RedirectURL: "http://x/cb"},
		{Issuer: idp.srv.URL, ClientID: "c"},
		{Issuer: "http://127.0.0.1:1", ClientID: "c", RedirectURL: "http://x/cb"},
		{Issuer: idp.srv.URL + "/other", ClientID: "c", RedirectURL: "http://x/cb"},
	} {
		if _, err := NewOIDC(testCtx, cfg, nil); err == nil {
			t.Errorf("NewOIDC(%+v) succeeded", cfg)
		}
	}
}

// TestOIDCBelievesOnlyWhatItIsConfiguredTo pins which claims count: an
// e-mail address only when verified and in a configured domain (case
// aside), amr only from a provider configured as MFA-capable.
func TestOIDCBelievesOnlyWhatItIsConfiguredTo(t *testing.T) {
	strict := &OIDC{domains: []string{"mofa.gov.vn"}}
	trusting := &OIDC{domains: []string{"mofa.gov.vn"}, mfa: true}
	for _, tc := range []struct {
		name      string
		o         *OIDC
		email     string
		verified  bool
		amr       []string
		wantEmail string
		wantMFA   bool
	}{
		{"verified, in the domain", strict, "an@Mofa.Gov.VN", true, nil, "an@Mofa.Gov.VN", false},
		{"unverified", strict, "an@mofa.gov.vn", false, nil, "", false},
		{"a subdomain is another domain", strict, "an@evil.mofa.gov.vn", true, nil, "", false},
		{"a look-alike", strict, "an@mofa.gov.vn.evil.example", true, nil, "", false},
		{"no domains configured: e-mail unused", &OIDC{}, "an@mofa.gov.vn", true, nil, "", false},
		{"amr from a provider not MFA-capable", strict, "", false, []string{"mfa", "otp", "hwk"}, "", false},
		{"amr from an MFA-capable provider", trusting, "", false, []string{"pwd", "otp"}, "", true},
		{"a password is no second factor", trusting, "", false, []string{"pwd"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.o.identity("https://idp", "sub", "", tc.email, tc.verified, tc.amr)
			if id.Email != tc.wantEmail || id.MFA != tc.wantMFA || id.Issuer != "https://idp" || id.Subject != "sub" {
				t.Fatalf("identity = %+v; want e-mail %q, MFA %v", id, tc.wantEmail, tc.wantMFA)
			}
		})
	}
}
