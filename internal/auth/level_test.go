package auth

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestSessionWorksAtTheLevelChosenAtSignIn pins issue 10's item 9: a
// session works at the clearance unless a lower level is chosen at
// sign-in, never above it; the level is stored with the session and
// reaches authz.Subject.Session, where no write down refuses creating a
// lower item.
func TestSessionWorksAtTheLevelChosenAtSignIn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		secret := f.enroll(t, f.cleared) // cleared for Secret
		var token string                 // of the last sign-in
		signIn := func(t *testing.T, level *authz.Level) (authz.Subject, error) {
			t.Helper()
			f.clock.Advance(totpPeriod * time.Second)
			sess, err := f.svc.Login(testCtx, LoginRequest{Kind: authz.Staff, Username: "minh.tran", Password: testPassword,
				TOTP: f.code(t, secret), Level: level})
			if err != nil {
				return authz.Subject{}, err
			}
			token = sess.Token
			p, err := f.svc.Authenticate(testCtx, sess.Token)
			if err != nil {
				t.Fatal(err)
			}
			return p.Subject, nil
		}
		lvl := func(l authz.Level) *authz.Level { return &l }
		doc := authz.Resource{Kind: authz.KindDocument, Unit: f.unit.ID}

		s, err := signIn(t, nil)
		if err != nil || s.Session != authz.Secret {
			t.Fatalf("by default the session works at %s (%v); want the clearance, secret", s.Session, err)
		}
		if d, why := authz.Decide(s, authz.Create, doc); d != authz.Denied || why != authz.ReasonNoWriteDown {
			t.Fatalf("creating an unclassified document in a secret session = %s (%s); want no write down", d, why)
		}
		doc.Level = s.CreateLevel(authz.Unclassified)
		if d, why := authz.Decide(s, authz.Create, doc); d != authz.Allowed {
			t.Fatalf("creating at CreateLevel = %s (%s)", d, why)
		}

		s, err = signIn(t, lvl(authz.Unclassified))
		if err != nil || s.Session != authz.Unclassified || s.Clearance != authz.Secret {
			t.Fatalf("asked for none: %+v, %v", s, err)
		}
		doc.Level = authz.Unclassified
		if d, why := authz.Decide(s, authz.Create, doc); d != authz.Allowed {
			t.Fatalf("creating an unclassified document in an unclassified session = %s (%s)", d, why)
		}

		if _, err := signIn(t, lvl(authz.TopSecret)); code(err) != "level_above_clearance" {
			t.Fatalf("a level above the clearance = %v; want level_above_clearance", err)
		}

		// A clearance lowered since sign-in lowers the session's level.
		s, err = signIn(t, lvl(authz.Secret))
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.dir.Staff(testCtx, f.cleared.ID)
		if err != nil {
			t.Fatal(err)
		}
		conf := authz.Confidential
		if _, err := f.dir.UpdateStaff(testCtx, "test", m.ID, identity.StaffPatch{Clearance: &conf, Version: m.Version}); err != nil {
			t.Fatal(err)
		}
		if p, err := f.svc.Authenticate(testCtx, token); err != nil || p.Subject.Session != authz.Confidential {
			t.Fatalf("after the clearance was lowered to confidential the session works at %s (%v)", p.Subject.Session, err)
		}
	})
}

// TestLevelAtSignInOverHTTP pins the level on the API, the sign-in page
// and the console header.
func TestLevelAtSignInOverHTTP(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWebFixture(t, db, Options{})
		secret := w.enroll(t, w.cleared)
		body := func(level string) string {
			b, _ := json.Marshal(loginBody{Username: "minh.tran", Password: testPassword, TOTP: w.code(t, secret), Level: level})
			return string(b)
		}
		if r := w.api(t, "POST", "/api/v1/auth/login", "", body("cosmic")); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("an unknown level: %d %s", r.StatusCode, r.body)
		}
		r := w.api(t, "POST", "/api/v1/auth/login", "", body("confidential"))
		var got loginResponse
		if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.StatusCode != http.StatusOK {
			t.Fatalf("login at confidential: %d %s", r.StatusCode, r.body)
		}
		r = w.api(t, "GET", "/api/v1/auth/me", got.Token, "")
		var me meResponse
		if err := json.Unmarshal([]byte(r.body), &me); err != nil || me.SessionLevel != authz.Confidential || me.Clearance != authz.Secret {
			t.Fatalf("me: %s", r.body)
		}

		w.clock.Advance(totpPeriod * time.Second)
		b := w.browser(t)
		if r := b.get("/console/login"); !strings.Contains(r.body, `<select id="level" name="level"`) {
			t.Fatalf("the sign-in page offers no working level\n%s", r.body)
		}
		r = b.post("/console/login", url.Values{"username": {"minh.tran"}, "password": {testPassword}, "totp": {w.code(t, secret)}, "level": {"none"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("console sign-in at none: %d\n%s", r.StatusCode, r.body)
		}
		if r := b.get("/console/account"); !strings.Contains(r.body, `id="session-level">Phiên: Không<`) {
			t.Fatalf("the header does not show the session's level\n%s", r.body)
		}
	})
}
