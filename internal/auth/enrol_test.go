package auth

import (
	"errors"
	"sync"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestEnrolmentNeedsAOneTimeCode pins issue 10's item 6: whoever holds
// only the password of an account that must use a second factor cannot
// enrol one; the code an administrator issued works once and not after
// it expires, and a secret once shown is never shown again.
func TestEnrolmentNeedsAOneTimeCode(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		own := as(f.cleared, "req-enrol")
		wrong := func(t *testing.T, enrol string) {
			t.Helper()
			if secret, err := f.svc.StartTOTPEnrolment(own, authz.Staff, f.cleared.ID, enrol); code(err) != "enrolment_code_invalid" || !errors.Is(err, errs.ErrInvalid) || secret != "" {
				t.Fatalf("enrolment with %q = %q, %v; want enrolment_code_invalid", enrol, secret, err)
			}
		}
		wrong(t, "")
		wrong(t, "abcdefghijkmnpqr")

		enrol, expires, err := f.svc.IssueEnrolmentCode(testCtx, authz.Staff, f.cleared.ID)
		if err != nil || len(enrol) != oneTimeLen || !expires.Equal(f.clock.Now().Add(EnrolmentCodeTTL)) {
			t.Fatalf("IssueEnrolmentCode = %q until %v, %v", enrol, expires, err)
		}
		f.clock.Advance(EnrolmentCodeTTL)
		wrong(t, enrol) // expired
		sess, err := f.login("minh.tran", "")
		if err != nil || sess.Stage != StageEnrollTOTP {
			t.Fatalf("password-only sign-in: %q, %v", sess.Stage, err)
		}

		enrol, _, err = f.svc.IssueEnrolmentCode(testCtx, authz.Staff, f.cleared.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Of requests racing with one code, one gets a secret.
		var wg sync.WaitGroup
		secrets := make(chan string, 4)
		for range 4 {
			wg.Go(func() {
				if s, err := f.svc.StartTOTPEnrolment(own, authz.Staff, f.cleared.ID, " "+enrol+" "); err == nil {
					secrets <- s
				}
			})
		}
		wg.Wait()
		close(secrets)
		if n := len(secrets); n != 1 {
			t.Fatalf("%d of 4 requests with one code got a secret; want 1", n)
		}
		secret := <-secrets
		wrong(t, enrol) // used

		// A new code cancels the secret shown: the app holding it enrols nothing.
		if _, _, err := f.svc.IssueEnrolmentCode(testCtx, authz.Staff, f.cleared.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ConfirmTOTP(own, authz.Staff, f.cleared.ID, f.code(t, secret)); !errors.Is(err, errNoEnrolment) {
			t.Fatalf("confirming a cancelled secret = %v; want errNoEnrolment", err)
		}
		if p, _ := f.svc.Authenticate(testCtx, sess.Token); p.Stage != StageEnrollTOTP {
			t.Fatalf("stage = %q; want still enroll_totp", p.Stage)
		}
		if _, _, err := f.svc.IssueEnrolmentCode(testCtx, authz.Staff, 99999); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("a code for nobody = %v", err)
		}
	})
}

// TestRolesThatGovernOthersNeedASecondFactor pins issue 10's item 3 (the
// sign-in part): administrators, security officers and auditors without
// a clearance enrol a second factor before anything else, as cleared
// staff do; a role granted since sign-in makes it due at once.
func TestRolesThatGovernOthersNeedASecondFactor(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		for _, role := range []authz.Role{authz.Administrator, authz.SecurityOfficer, authz.Auditor} {
			m, err := f.dir.SeedStaff(testCtx, "test", identity.NewStaff{Username: "x." + role.String(), FullName: "X",
				UnitID: f.unit.ID, Roles: authz.RolesOf(role)})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.svc.SetPassword(testCtx, authz.Staff, m.ID, testPassword, false); err != nil {
				t.Fatal(err)
			}
			if sess, err := f.login(m.Username, ""); err != nil || sess.Stage != StageEnrollTOTP {
				t.Errorf("%s without a clearance signed in at %q (%v); want enroll_totp", role, sess.Stage, err)
			}
		}
		sess, err := f.login("lan.nguyen", "")
		if err != nil || sess.Stage != StageFull {
			t.Fatalf("a clerk without a clearance: %q, %v", sess.Stage, err)
		}
		admin := authz.RolesOf(authz.Clerk, authz.Administrator)
		if _, err := f.dir.UpdateStaff(testCtx, "test", f.plain.ID, identity.StaffPatch{Roles: &admin, Version: f.plain.Version}); err != nil {
			t.Fatal(err)
		}
		if p, err := f.svc.Authenticate(testCtx, sess.Token); err != nil || p.Stage != StageEnrollTOTP {
			t.Fatalf("made administrator since sign-in: %q, %v; want enroll_totp", p.Stage, err)
		}
	})
}
