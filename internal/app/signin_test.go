package app

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
)

// TestFirstAdministratorGetsIn pins that on a fresh install without
// --demo the first administrator, who must use a second factor and has
// nobody to issue an enrolment code, gets in with what the first start
// prints: the one-time password and a one-time enrolment code.
func TestFirstAdministratorGetsIn(t *testing.T) {
	cfg := testConfig(t, false)
	a, err := New(context.Background(), cfg, newLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	banner, err := a.bootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptestServer(t, a)
	otp := regexp.MustCompile(`one-time password (\S+) `).FindStringSubmatch(banner)
	code := regexp.MustCompile(`enrolment code: (\S+) `).FindStringSubmatch(banner)
	if otp == nil || code == nil {
		t.Fatalf("the first start printed no one-time password or enrolment code:\n%s", banner)
	}
	token := mustLogin(t, srv.URL, "admin", otp[1], "")
	if err := a.Auth.ChangePassword(context.Background(), token, otp[1], "a long and new passphrase"); err != nil {
		t.Fatal(err)
	}
	if status := callJSON(t, http.MethodGet, srv.URL+"/api/v1/units", token, "", &struct{}{}); status != http.StatusForbidden {
		t.Fatalf("before enrolling a second factor the administrator reached the API: %d", status)
	}
	var enrolled struct{ Secret string }
	if status := callJSON(t, http.MethodPost, srv.URL+"/api/v1/auth/totp/enrolment", token, `{"enrolment_code":"`+code[1]+`"}`, &enrolled); status != http.StatusOK {
		t.Fatalf("enrol with the printed code = %d", status)
	}
	if status := callJSON(t, http.MethodPost, srv.URL+"/api/v1/auth/totp/confirm", token, `{"totp":"`+totpNow(t, enrolled.Secret)+`"}`, &struct{}{}); status != http.StatusNoContent {
		t.Fatalf("confirm = %d", status)
	}
	if status := callJSON(t, http.MethodGet, srv.URL+"/api/v1/units", token, "", &struct{}{}); status != http.StatusOK {
		t.Fatalf("after enrolling: %d", status)
	}
}
