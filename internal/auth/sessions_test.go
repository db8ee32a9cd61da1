package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// alive reports whether token still opens a session.
func (f *fixture) alive(token string) bool {
	_, err := f.svc.Authenticate(context.Background(), token)
	return err == nil
}

// wantSessions fails t unless each token is alive or ended as told.
func (f *fixture) wantSessions(t testing.TB, what string, alive map[string]bool) {
	t.Helper()
	for token, want := range alive {
		if got := f.alive(token); got != want {
			t.Errorf("%s: session %.6s… alive = %v; want %v", what, token, got, want)
		}
	}
}

func TestChangingAPasswordEndsEveryOtherSession(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		mine, _ := f.login("lan.nguyen", "")
		other, _ := f.login("lan.nguyen", "")
		someoneElse, _ := f.login("minh.tran", "")
		if err := f.svc.ChangePassword(ctx, mine.Token, testPassword, "a brand new passphrase"); err != nil {
			t.Fatal(err)
		}
		f.wantSessions(t, "own change", map[string]bool{mine.Token: true, other.Token: false, someoneElse.Token: true})

		// A forced change at the first sign-in with a one-time password.
		otp, err := f.svc.IssueOneTimePassword(ctx, authz.Staff, f.plain.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.wantSessions(t, "administrator's reset", map[string]bool{mine.Token: false})
		first, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: otp})
		if err != nil {
			t.Fatal(err)
		}
		second, _ := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: otp})
		if err := f.svc.ChangePassword(ctx, first.Token, otp, "yet another passphrase"); err != nil {
			t.Fatal(err)
		}
		f.wantSessions(t, "forced change", map[string]bool{first.Token: true, second.Token: false})

		// Citizens too.
		cit := func() Session {
			s, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Citizen, Username: "hoa.le@example.com", Password: testPassword})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		a, b := cit(), cit()
		if err := f.svc.ChangePassword(ctx, a.Token, testPassword, "a citizen's new passphrase"); err != nil {
			t.Fatal(err)
		}
		f.wantSessions(t, "citizen's change", map[string]bool{a.Token: true, b.Token: false})

		// A refused change ends nothing.
		c, _ := f.login("minh.tran", "")
		var fe *errs.FieldError
		if err := f.svc.ChangePassword(ctx, c.Token, "not the password", "a brand new passphrase"); !errors.As(err, &fe) {
			t.Fatalf("wrong current password: %v", err)
		}
		f.wantSessions(t, "refused change", map[string]bool{c.Token: true, someoneElse.Token: true})
		if err := f.svc.ChangePassword(ctx, mine.Token, "yet another passphrase", "one more passphrase"); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("a change through an ended session: %v; want ErrUnauthenticated", err)
		}
	})
}

func TestAPIPasswordChangeEndsTheOtherTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		mine, _ := w.login("lan.nguyen", "")
		other, _ := w.login("lan.nguyen", "")
		r := w.api(t, "POST", "/api/v1/auth/password", mine.Token, `{"current_password":"wrong password here","password":"a brand new passphrase"}`)
		if p := problem(t, r); r.StatusCode != http.StatusBadRequest || p.Errors["current_password"] == "" {
			t.Fatalf("wrong current password: %d %+v", r.StatusCode, p)
		}
		r = w.api(t, "POST", "/api/v1/auth/password", mine.Token, `{"current_password":"`+testPassword+`","password":"a brand new passphrase"}`)
		if r.StatusCode != http.StatusNoContent {
			t.Fatalf("change: %d %s", r.StatusCode, r.body)
		}
		w.wantSessions(t, "API change", map[string]bool{mine.Token: true, other.Token: false})

		// The form route, reached with a bearer token, ends them too.
		third, _ := w.svc.Login(testCtx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: "a brand new passphrase"})
		form := url.Values{"current_password": {"a brand new passphrase"}, "password": {"the newest passphrase"}, "confirm_password": {"the newest passphrase"}}
		req, _ := http.NewRequest("POST", w.srv.URL+"/console/sign-in/change-password", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+mine.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		w.wantSessions(t, "form change with a bearer token", map[string]bool{mine.Token: true, third.Token: false})
	})
}

func TestCitizensBearerTokenSignsOut(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		sess, err := w.svc.Login(testCtx, LoginRequest{Kind: authz.Citizen, Username: "hoa.le@example.com", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		if r := w.api(t, "POST", "/api/v1/auth/logout", sess.Token, ""); r.StatusCode != http.StatusNoContent {
			t.Fatalf("citizen's logout: %d %s", r.StatusCode, r.body)
		}
		if w.alive(sess.Token) {
			t.Fatal("the citizen's token outlived its logout")
		}
	})
}

func TestAnonymousAPIPostIsUnauthenticatedWhateverItsContentType(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/json"} {
			req, _ := http.NewRequest("POST", w.srv.URL+"/api/v1/auth/logout", strings.NewReader("x=1"))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("anonymous POST with Content-Type %q: %d; want 401", ct, resp.StatusCode)
			}
		}
	})
}

func TestAntiForgeryTokenIsBoundToTheSession(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		b := w.browser(t)
		b.get("/console/login")
		preLogin := b.cookie(web.CSRFCookie)
		if r := b.signIn("/console/login", "lan.nguyen", testPassword, ""); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", r.StatusCode)
		}
		mine := b.cookie(web.CSRFCookie)
		if mine == preLogin || mine == "" {
			t.Fatalf("the anti-forgery token was not rotated at sign-in")
		}
		other := w.browser(t)
		other.signIn("/console/login", "minh.tran", testPassword, "")
		theirs := other.cookie(web.CSRFCookie)

		u, _ := url.Parse(w.srv.URL)
		for name, forged := range map[string]string{"a pre-login token": preLogin, "another session's token": theirs} {
			// The attacker sets the cookie too (a sibling domain can), so
			// a double-submit check alone would pass.
			b.c.Jar.SetCookies(u, []*http.Cookie{{Name: web.CSRFCookie, Value: forged, Path: "/"}})
			if r := b.post("/console/logout", url.Values{web.CSRFField: {forged}}); r.StatusCode != http.StatusForbidden {
				t.Errorf("%s after sign-in: %d; want 403", name, r.StatusCode)
			}
		}
		r := b.get("/console/sign-in/change-password")
		m := csrfFieldRE.FindStringSubmatch(r.body)
		if m == nil || m[1] != mine {
			t.Fatalf("the page's form does not carry the session's token: %v", m)
		}
		if r := b.post("/console/logout", url.Values{web.CSRFField: {mine}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("the session's own token: %d; want 303", r.StatusCode)
		}
	})
}
