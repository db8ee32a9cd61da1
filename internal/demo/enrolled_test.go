package demo_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"chancery/internal/auth"
	"chancery/internal/authz"
	"chancery/internal/demo"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// totpAt returns the RFC 6238 code (HMAC-SHA1, 30 s, six digits) of the
// base32 secret at t, as an authenticator app shows it.
func totpAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	var step [8]byte
	binary.BigEndian.PutUint64(step[:], uint64(at.Unix()/30))
	mac := hmac.New(sha1.New, key)
	mac.Write(step[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff%1_000_000)
}

// TestDemoAccountsAreFullyEnrolled signs in, through the real sign-in
// service, every seeded staff member who must use a second factor
// (administrator and auditor included) with the password and a code from
// the secret the banner shows: each reaches a full session at once, with
// no enrolment left to finish by whoever holds the demo password.
func TestDemoAccountsAreFullyEnrolled(t *testing.T) {
	db := storetest.MustOpen(t, store.SQLite)
	ctx := context.Background()
	dir, ledger, ring := newDirectory(t, db, auth.SealPurpose)
	now := time.Now().UTC()
	svc := auth.New(db, dir, ring, auth.Options{Recorder: ledger, Now: func() time.Time { return now },
		Params: auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	acc, err := demo.Seed(ctx, dir, svc, "Demo-Password-2026")
	if err != nil {
		t.Fatal(err)
	}
	need := 0
	for _, a := range acc.Staff {
		m, err := dir.StaffByUsername(ctx, a.Username)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Subject().NeedsSecondFactor() {
			continue
		}
		need++
		if a.TOTPSecret == "" {
			t.Errorf("%s must use a second factor but the banner shows no secret", a.Username)
			continue
		}
		sess, err := svc.Login(ctx, auth.LoginRequest{Kind: authz.Staff, Username: a.Username, Password: "Demo-Password-2026",
			TOTP: totpAt(t, a.TOTPSecret, now)})
		if err != nil || sess.Stage != auth.StageFull {
			t.Errorf("%s: stage %q, %v; want a full session", a.Username, sess.Stage, err)
		}
		if _, err := svc.Login(ctx, auth.LoginRequest{Kind: authz.Staff, Username: a.Username, Password: "Demo-Password-2026"}); err == nil {
			t.Errorf("%s signed in with the password alone", a.Username)
		}
	}
	for _, name := range []string{"admin", "auditor", "security.officer"} {
		found := false
		for _, a := range acc.Staff {
			found = found || a.Username == name && a.TOTPSecret != ""
		}
		if !found {
			t.Errorf("%s has no second factor in the demo", name)
		}
	}
	if need < 20 {
		t.Errorf("only %d demo accounts need a second factor", need)
	}
}
