package auth

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// code returns the machine code of err, as the problem document shows it.
func code(err error) string {
	var c interface{ Code() string }
	if errors.As(err, &c) {
		return c.Code()
	}
	return ""
}

func TestLoginOpensASessionThatAuthenticates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		sess, err := f.login("lan.nguyen", "")
		if err != nil {
			t.Fatal(err)
		}
		if sess.Stage != StageFull || len(sess.Token) != tokenLen || len(sess.CSRF) != tokenLen || sess.Token == sess.CSRF {
			t.Fatalf("session = %+v", sess)
		}
		if want := f.clock.Now().Add(DefaultStaffSession.Absolute); !sess.ExpiresAt.Equal(want) {
			t.Errorf("expires at %v; want %v (12 h)", sess.ExpiresAt, want)
		}
		p, err := f.svc.Authenticate(ctx, sess.Token)
		if err != nil {
			t.Fatal(err)
		}
		if p.Subject != f.plain.Subject() || p.Username != "lan.nguyen" || p.Name != f.plain.FullName || p.Stage != StageFull || p.Bearer {
			t.Fatalf("principal = %+v; want %+v", p, f.plain.Subject())
		}
		// Only the token's hash is stored.
		var n int
		if err := db.QueryRowContext(ctx, db.Rebind(`SELECT COUNT(*) FROM sessions WHERE token_hash = ? OR csrf = ?`),
			sess.Token, sess.Token).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the raw token is stored (%d rows, %v)", n, err)
		}
	})
}

func TestLoginRefusesUnknownAccountsAndWrongPasswordsAlike(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		noPassword := f.staff(t, "no.password", authz.Unclassified)
		if _, err := db.ExecContext(ctx, db.Rebind(`DELETE FROM credentials WHERE principal_id = ? AND principal_kind = 'staff'`), noPassword.ID); err != nil {
			t.Fatal(err)
		}
		attempts := []LoginRequest{
			{Kind: authz.Staff, Username: "lan.nguyen", Password: "wrong password here"},
			{Kind: authz.Staff, Username: "nobody.here", Password: testPassword},
			{Kind: authz.Staff, Username: "no.password", Password: testPassword},
			{Kind: authz.Staff, Username: "hoa.le@example.com", Password: testPassword}, // a citizen at the staff door
			{Kind: authz.Citizen, Username: "lan.nguyen", Password: testPassword},       // staff at the citizens' door
			{Kind: authz.Citizen, Username: "hoa.le@example.com", Password: "wrong password here"},
		}
		for _, req := range attempts {
			_, err := f.svc.Login(ctx, req)
			if !errors.Is(err, errs.ErrUnauthenticated) || err.Error() != errWrongCredentials.Error() || code(err) != "wrong_credentials" {
				t.Errorf("login %+v = %v (code %q); want exactly the wrong-credentials error", req, err, code(err))
			}
		}
	})
}

func TestUnknownAccountCostsAPasswordVerification(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		// Parameters costly enough that a verification dominates a lookup.
		f := newFixture(t, db, Options{Params: Params{Memory: 8 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, SlowAfter: 100})
		timeIt := func(username string) time.Duration {
			start := time.Now()
			f.svc.Login(testCtx, LoginRequest{Kind: authz.Staff, Username: username, Password: "wrong password here"})
			return time.Since(start)
		}
		timeIt("nobody.here") // the first unknown account makes the dummy hash
		// Alternate the two and compare medians, so that a busy machine's
		// pauses, which fall on either, do not decide.
		var known, unknown []time.Duration
		for range 15 {
			known = append(known, timeIt("lan.nguyen"))
			unknown = append(unknown, timeIt("nobody.here"))
		}
		k, u := median(known), median(unknown)
		if u < k/2 {
			t.Fatalf("an unknown account answers in %v (median), a wrong password in %v: the difference tells which accounts exist", u, k)
		}
	})
}

// median returns the middle of ds, which it sorts.
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func TestLoginRefusesDisabledAccountsAfterThePassword(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		sess, err := f.login("lan.nguyen", "")
		if err != nil {
			t.Fatal(err)
		}
		disabled := true
		if _, err := f.dir.UpdateStaff(ctx, "test", f.plain.ID, identity.StaffPatch{Disabled: &disabled, Version: f.plain.Version}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.login("lan.nguyen", ""); !errors.Is(err, errs.ErrForbidden) || code(err) != "account_disabled" {
			t.Fatalf("login to a disabled account = %v; want account_disabled", err)
		}
		// A wrong password still gets the ordinary answer: being disabled
		// is told only to whoever knows the password.
		_, err = f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: "wrong password here"})
		if code(err) != "wrong_credentials" {
			t.Fatalf("wrong password on a disabled account = %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, sess.Token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("a disabled account's session still authenticates: %v", err)
		}
	})
}

func TestAnAttackerCannotLockTheOwnerOut(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		attack := LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: "wrong password here", Address: "203.0.113.66"}
		for i := 1; i < DefaultSlowAfter; i++ {
			if _, err := f.svc.Login(ctx, attack); code(err) != "wrong_credentials" {
				t.Fatalf("failure %d = %v", i, err)
			}
		}
		// The attacker keeps at it all day, trying whenever let.
		tries := 0
		for end := f.clock.Now().Add(24 * time.Hour); f.clock.Now().Before(end); {
			_, err := f.svc.Login(ctx, attack)
			until, ok := retryAt(err)
			if !ok {
				t.Fatalf("a failure past the allowance = %v; want too_many_attempts", err)
			}
			tries++
			if d := until.Sub(f.clock.Now()); d > MaxSlowDelay {
				t.Fatalf("a wait of %v; the longest is %v", d, MaxSlowDelay)
			}
			// While the attacker waits, the owner at another address signs in at once.
			if _, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: testPassword, Address: "192.0.2.10"}); err != nil {
				t.Fatalf("the owner is kept out by the attack: %v", err)
			}
			f.clock.Advance(until.Sub(f.clock.Now()))
		}
		if tries > 24*4+5 {
			t.Fatalf("%d tries in a day from one address; the waits should allow about %d", tries, 24*4)
		}
		// While waiting, even the right password is refused at that address.
		f.svc.Login(ctx, attack)
		if _, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: testPassword, Address: "203.0.113.66"}); code(err) != "too_many_attempts" {
			t.Fatalf("the right password from the waiting address = %v", err)
		}
	})
}

func TestGuessesAtOneAccountFromOneAddressWaitLongerAndLonger(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		wrong := func(name string) error {
			_, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: name, Password: "wrong password here", Address: "203.0.113.9"})
			return err
		}
		// An account and a name no account has wait alike, so the waits
		// tell nothing about which accounts exist.
		for _, name := range []string{"lan.nguyen", "nobody.here"} {
			for i := 1; i < DefaultSlowAfter; i++ {
				if err := wrong(name); code(err) != "wrong_credentials" {
					t.Fatalf("%s: failure %d = %v", name, i, err)
				}
			}
			for _, d := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
				err := wrong(name)
				until, ok := retryAt(err)
				if !errors.Is(err, errs.ErrRateLimited) || code(err) != "too_many_attempts" || !ok || !until.Equal(f.clock.Now().Add(d)) {
					t.Fatalf("%s: failure = %v (retry %v); want a wait of %v", name, err, until, d)
				}
				f.clock.Advance(d)
			}
		}
		if _, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: testPassword, Address: "203.0.113.9"}); err != nil {
			t.Fatalf("right password after the wait = %v", err)
		}
		// A success forgets the failures: the allowance is whole again.
		for i := 1; i < DefaultSlowAfter; i++ {
			if err := wrong("lan.nguyen"); code(err) != "wrong_credentials" {
				t.Fatalf("failure %d after a success = %v", i, err)
			}
		}
	})
}

func TestManyAddressesFailingAtOneAccountRaiseAnAlert(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		var logged bytes.Buffer
		f := newFixture(t, db, Options{AlertAddresses: 3, Log: slog.New(slog.NewTextHandler(&logged, nil))})
		for i := range 5 {
			addr := "198.51.100." + strconv.Itoa(i%4)
			f.svc.Login(requestCtx("req-"+strconv.Itoa(i)), LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: "wrong password here", Address: addr})
		}
		f.svc.Login(testCtx, LoginRequest{Kind: authz.Staff, Username: "nobody.here", Password: "wrong password here", Address: "198.51.100.9"})
		alerts := f.events(t, "login.alert")
		if len(alerts) != 1 {
			t.Fatalf("%d alerts; want one, at the third address", len(alerts))
		}
		wantRecord(t, alerts[0], audit.Event{Actor: audit.System("auth"), Action: "login.alert", ResourceType: "staff", ResourceID: staffRes(f.plain),
			Outcome: audit.OK, Reason: "failed sign-ins from many addresses", RequestID: "req-2",
			Attrs: map[string]string{"addresses": "3", "within": "1h0m0s"}})
		if n := strings.Count(logged.String(), "level=WARN"); n != 1 || !strings.Contains(logged.String(), `account="staff `+staffRes(f.plain)+`"`) {
			t.Fatalf("%d warnings logged; want one naming the account:\n%s", n, logged.String())
		}
		// The owner is not slowed by it.
		if _, err := f.svc.Login(testCtx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: testPassword, Address: "192.0.2.10"}); err != nil {
			t.Fatalf("the owner after the alert: %v", err)
		}
	})
}

func TestAddressLimitAcrossAccounts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{AddressLimit: 4, SlowAfter: 100})
		ctx := testCtx
		names := []string{"lan.nguyen", "minh.tran", "nobody.here", "lan.nguyen"}
		for _, name := range names {
			_, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: name, Password: "wrong password here", Address: "203.0.113.9"})
			if code(err) != "wrong_credentials" {
				t.Fatalf("failure for %s = %v", name, err)
			}
		}
		req := LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: testPassword, Address: "203.0.113.9"}
		if _, err := f.svc.Login(ctx, req); !errors.Is(err, errs.ErrRateLimited) || code(err) != "too_many_attempts" {
			t.Fatalf("5th attempt from the address = %v; want too_many_attempts", err)
		}
		req.Address = "203.0.113.10"
		if _, err := f.svc.Login(ctx, req); err != nil {
			t.Fatalf("another address is refused too: %v", err)
		}
		f.clock.Advance(DefaultAddressWindow)
		req.Address = "203.0.113.9"
		if _, err := f.svc.Login(ctx, req); err != nil {
			t.Fatalf("the address is still refused after the window: %v", err)
		}
	})
}

func TestClearedStaffEnrolTOTPBeforeAnythingElse(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		sess, err := f.login("minh.tran", "")
		if err != nil {
			t.Fatal(err)
		}
		if sess.Stage != StageEnrollTOTP {
			t.Fatalf("cleared staff without TOTP got stage %q; want enroll_totp", sess.Stage)
		}
		secret := f.startEnrolment(t, ctx, f.cleared)
		// The secret is sealed at rest, bound to its account.
		var sealed []byte
		if err := db.QueryRowContext(ctx, db.Rebind(`SELECT totp_secret FROM credentials WHERE principal_kind = 'staff' AND principal_id = ?`),
			f.cleared.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		key, _ := totpEncoding.DecodeString(secret)
		if bytes.Contains(sealed, key) || strings.Contains(string(sealed), secret) {
			t.Fatal("the TOTP secret is stored in the clear")
		}
		if _, err := f.svc.sealer.Open(ctx, SealPurpose, sealed, sealAD("staff", f.plain.ID)); err == nil {
			t.Fatal("the sealed secret opens for another account")
		}
		var fe *errs.FieldError
		if err := f.svc.ConfirmTOTP(ctx, authz.Staff, f.cleared.ID, "000000"); !errors.As(err, &fe) || fe.Field != "totp" {
			t.Fatalf("confirm with a wrong code = %v; want a FieldError on totp", err)
		}
		if p, _ := f.svc.Authenticate(ctx, sess.Token); p.Stage != StageEnrollTOTP {
			t.Fatalf("stage after a wrong code = %q", p.Stage)
		}
		if err := f.svc.ConfirmTOTP(ctx, authz.Staff, f.cleared.ID, f.code(t, secret)); err != nil {
			t.Fatal(err)
		}
		if p, err := f.svc.Authenticate(ctx, sess.Token); err != nil || p.Stage != StageFull {
			t.Fatalf("after enrolling: %+v, %v; want the session at full", p, err)
		}
		if _, _, err := f.svc.IssueEnrolmentCode(ctx, authz.Staff, f.cleared.ID); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("an enrolment code for an enrolled account = %v; want ErrConflict", err)
		}
	})
}

func TestSignInWithTOTPRequiresAFreshCode(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		secret := f.enroll(t, f.cleared)
		if _, err := f.login("minh.tran", ""); code(err) != "totp_required" || !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("sign-in without a code = %v; want totp_required", err)
		}
		if _, err := f.svc.Login(testCtx, LoginRequest{Kind: authz.Staff, Username: "minh.tran", Password: "wrong password here"}); code(err) != "wrong_credentials" {
			t.Fatalf("a wrong password is answered %v; the code must not be asked before the password is right", err)
		}
		c := f.code(t, secret)
		sess, err := f.login("minh.tran", c)
		if err != nil || sess.Stage != StageFull {
			t.Fatalf("sign-in with the code = %+v, %v", sess, err)
		}
		if _, err := f.login("minh.tran", c); code(err) != "totp_invalid" {
			t.Fatalf("the same code again = %v; want it refused as a replay", err)
		}
		f.clock.Advance(totpPeriod * time.Second)
		if _, err := f.login("minh.tran", f.code(t, secret)); err != nil {
			t.Fatalf("the next step's code = %v", err)
		}
	})
}

func TestWrongTOTPCodesCountTowardsTheWait(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{SlowAfter: 3})
		secret := f.enroll(t, f.cleared)
		key, _ := totpEncoding.DecodeString(secret)
		wrong := hotp(key, uint64(totpStep(f.clock.Now()))+5, totpDigits)
		for i := 1; i < 3; i++ {
			if _, err := f.login("minh.tran", wrong); code(err) != "totp_invalid" {
				t.Fatalf("wrong code %d = %v", i, err)
			}
		}
		if _, err := f.login("minh.tran", wrong); code(err) != "too_many_attempts" {
			t.Fatalf("third wrong code = %v; want too_many_attempts", err)
		}
	})
}

func TestOneTimePasswordMustBeChanged(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		before, err := f.login("lan.nguyen", "")
		if err != nil {
			t.Fatal(err)
		}
		otp, err := f.svc.IssueOneTimePassword(ctx, authz.Staff, f.plain.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, before.Token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("a session from before the reset survives it: %v", err)
		}
		if _, err := f.login("lan.nguyen", ""); code(err) != "wrong_credentials" {
			t.Fatalf("the old password still works: %v", err)
		}
		sess, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: otp})
		if err != nil || sess.Stage != StageChangePassword {
			t.Fatalf("sign-in with the one-time password = %+v, %v; want stage change_password", sess, err)
		}
		var fe *errs.FieldError
		for _, tc := range []struct{ old, new, field string }{
			{"not the password", "a brand new passphrase", "current_password"},
			{otp, otp, "password"},
			{otp, "short", "password"},
		} {
			if err := f.svc.ChangePassword(ctx, sess.Token, tc.old, tc.new); !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("ChangePassword(%q, %q) = %v; want a FieldError on %s", tc.old, tc.new, err, tc.field)
			}
		}
		if err := f.svc.ChangePassword(ctx, sess.Token, otp, "a brand new passphrase"); err != nil {
			t.Fatal(err)
		}
		if p, err := f.svc.Authenticate(ctx, sess.Token); err != nil || p.Stage != StageFull {
			t.Fatalf("after the change: %+v, %v; want the session at full", p, err)
		}
		if s, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: "a brand new passphrase"}); err != nil || s.Stage != StageFull {
			t.Fatalf("sign-in with the new password = %+v, %v", s, err)
		}
	})
}

func TestOneTimePasswordForClearedStaffLeadsToEnrolment(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		otp, err := f.svc.IssueOneTimePassword(ctx, authz.Staff, f.cleared.ID)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "minh.tran", Password: otp})
		if err != nil || sess.Stage != StageChangePassword {
			t.Fatalf("%+v, %v", sess, err)
		}
		if err := f.svc.ChangePassword(ctx, sess.Token, otp, "a brand new passphrase"); err != nil {
			t.Fatal(err)
		}
		if p, _ := f.svc.Authenticate(ctx, sess.Token); p.Stage != StageEnrollTOTP {
			t.Fatalf("after the change the stage is %q; want enroll_totp", p.Stage)
		}
	})
}

func TestSessionsEndWhenIdleOrTooOld(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		idle, err := f.login("lan.nguyen", "")
		if err != nil {
			t.Fatal(err)
		}
		busy, err := f.login("lan.nguyen", "")
		if err != nil {
			t.Fatal(err)
		}
		// Used every 90 minutes, busy outlives the 2-hour idle timeout...
		for range 7 {
			f.clock.Advance(90 * time.Minute)
			if _, err := f.svc.Authenticate(ctx, busy.Token); err != nil {
				t.Fatalf("a session used every 90 minutes ended at %v: %v", f.clock.Now(), err)
			}
		}
		// ...while idle, unused for 10.5 hours, has ended.
		if _, err := f.svc.Authenticate(ctx, idle.Token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("an idle session authenticates: %v", err)
		}
		// 10.5 h in; at 12 h busy ends however much it is used.
		f.clock.Advance(90*time.Minute - time.Second)
		if _, err := f.svc.Authenticate(ctx, busy.Token); err != nil {
			t.Fatalf("a second before the absolute expiry: %v", err)
		}
		f.clock.Advance(time.Second)
		if _, err := f.svc.Authenticate(ctx, busy.Token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("a session past its absolute expiry authenticates: %v", err)
		}
	})
}

func TestCitizenSessionsLastADay(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		sess, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Citizen, Username: "Hoa.Le@Example.com", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(24*time.Hour - time.Second)
		p, err := f.svc.Authenticate(ctx, sess.Token)
		if err != nil || p.Subject != f.citizen.Subject() || p.Username != "hoa.le@example.com" {
			t.Fatalf("citizen after 24 h less a second: %+v, %v", p, err)
		}
		f.clock.Advance(time.Second)
		if _, err := f.svc.Authenticate(ctx, sess.Token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("citizen session after 24 h: %v", err)
		}
	})
}

func TestUseIsRecordedAtMostOnceAMinute(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		sess, err := f.login("lan.nguyen", "")
		if err != nil {
			t.Fatal(err)
		}
		hash, _ := hashToken(sess.Token)
		lastSeen := func() time.Time {
			var ts time.Time
			if err := db.QueryRowContext(ctx, db.Rebind(`SELECT last_seen_at FROM sessions WHERE token_hash = ?`), hash).Scan(&ts); err != nil {
				t.Fatal(err)
			}
			return ts.UTC()
		}
		start := f.clock.Now()
		f.clock.Advance(59 * time.Second)
		f.svc.Authenticate(ctx, sess.Token)
		if got := lastSeen(); !got.Equal(start) {
			t.Fatalf("last use recorded as %v after 59 s; want it left at %v", got, start)
		}
		f.clock.Advance(time.Second)
		f.svc.Authenticate(ctx, sess.Token)
		if got := lastSeen(); !got.Equal(f.clock.Now()) {
			t.Fatalf("last use recorded as %v after a minute; want %v", got, f.clock.Now())
		}
	})
}

func TestLogoutAndRevokeEndSessions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		a, _ := f.login("lan.nguyen", "")
		b, _ := f.login("lan.nguyen", "")
		other, _ := f.login("minh.tran", "")
		if err := f.svc.Logout(ctx, a.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, a.Token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("a signed-out session authenticates: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, b.Token); err != nil {
			t.Fatalf("signing out one session ended another: %v", err)
		}
		if err := f.svc.Logout(ctx, a.Token); err != nil {
			t.Fatalf("signing out twice: %v", err)
		}
		if err := f.svc.RevokeSessions(ctx, authz.Staff, f.plain.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, b.Token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("a revoked session authenticates: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, other.Token); err != nil {
			t.Fatalf("revoking one account's sessions ended another's: %v", err)
		}
	})
}

func TestAuthenticateRefusesMalformedTokensWithoutAsking(t *testing.T) {
	s := New(nil, nil, nil, Options{}) // no database: a query would panic
	for _, token := range []string{"", "x", strings.Repeat("a", tokenLen-1), strings.Repeat("!", tokenLen), strings.Repeat("a", tokenLen+1)} {
		if _, err := s.Authenticate(testCtx, token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Errorf("token %q: %v", token, err)
		}
	}
}

func TestRaisedClearanceMakesTheSecondFactorDue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		sess, err := f.login("lan.nguyen", "")
		if err != nil {
			t.Fatal(err)
		}
		// A clearance is granted by two people: proposed, then approved
		// by a security officer cleared as high.
		secret := authz.Secret
		_, proposal, err := f.dir.ChangeStaff(ctx, "test", f.plain.ID, identity.StaffPatch{Clearance: &secret, Version: f.plain.Version})
		if err != nil || proposal == nil {
			t.Fatalf("propose: %v, %v", proposal, err)
		}
		officer, err := f.dir.SeedStaff(ctx, "test", identity.NewStaff{Username: "quoc.bao", FullName: "Phạm Quốc Bảo", UnitID: f.unit.ID,
			Roles: authz.RolesOf(authz.SecurityOfficer), Clearance: authz.TopSecret})
		if err != nil {
			t.Fatal(err)
		}
		asOfficer := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(officer.ID, officer.Username)})
		if _, _, err := f.dir.ApproveProposal(asOfficer, proposal.ID); err != nil {
			t.Fatal(err)
		}
		if p, err := f.svc.Authenticate(ctx, sess.Token); err != nil || p.Stage != StageEnrollTOTP {
			t.Fatalf("after the clearance was raised: %+v, %v; want stage enroll_totp", p, err)
		}
	})
}

func TestWeakHashIsReplacedAtSignIn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		stronger := testParams
		stronger.Memory = 128
		raised := New(db, f.dir, f.svc.sealer, Options{Now: f.clock.Now, Params: stronger, Recorder: f.ledger})
		read := func() string {
			var h string
			if err := db.QueryRowContext(ctx, db.Rebind(`SELECT password_hash FROM credentials WHERE principal_kind = 'staff' AND principal_id = ?`),
				f.plain.ID).Scan(&h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		if !strings.Contains(read(), "m=64,") {
			t.Fatalf("fixture hash %q", read())
		}
		if _, err := raised.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: "wrong password here"}); err == nil {
			t.Fatal("a wrong password signed in")
		}
		if !strings.Contains(read(), "m=64,") {
			t.Fatal("a failed sign-in replaced the hash")
		}
		if _, err := raised.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		if h := read(); !strings.Contains(h, "m=128,") {
			t.Fatalf("hash after sign-in with raised parameters = %q; want m=128", h)
		}
		if _, err := raised.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: testPassword}); err != nil {
			t.Fatalf("the rehashed password does not verify: %v", err)
		}
	})
}

func TestSetPasswordAppliesThePolicy(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		var fe *errs.FieldError
		if err := f.svc.SetPassword(ctx, authz.Staff, f.plain.ID, "password1234", false); !errors.As(err, &fe) {
			t.Fatalf("a common password was set: %v", err)
		}
		if err := f.svc.SetPassword(ctx, authz.Staff, 9999, "a fine passphrase", false); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("setting an unknown account's password = %v; want ErrNotFound", err)
		}
		if err := f.svc.SetPassword(ctx, authz.Staff, f.plain.ID, "a fine passphrase", false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: "a fine passphrase"}); err != nil {
			t.Fatalf("sign-in with the password an administrator set: %v", err)
		}
	})
}

func TestOneHashServesManyAccounts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := testCtx
		hash, err := f.svc.HashPassword(ctx, "shared demo passphrase")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []identity.StaffMember{f.plain, f.staff(t, "second.user", authz.Unclassified)} {
			if err := f.svc.SetPasswordHash(ctx, authz.Staff, m.ID, hash, false); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: m.Username, Password: "shared demo passphrase"}); err != nil {
				t.Fatalf("%s cannot sign in with the shared hash: %v", m.Username, err)
			}
		}
		if _, err := f.svc.HashPassword(ctx, "short"); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("HashPassword accepted a password against the policy: %v", err)
		}
		if err := f.svc.SetPasswordHash(ctx, authz.Staff, f.plain.ID, "plaintext", false); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("SetPasswordHash accepted something that is not a hash: %v", err)
		}
	})
}
