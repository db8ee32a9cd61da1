package auth

import (
	"errors"
	"strings"
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

func TestPasswordResetLinkExpiresAfterHalfAnHourAndEndsEverySession(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := withMail(newFixture(t, db, Options{}))
		ctx := requestCtx("req-reset")
		var sessions []string
		for range 2 {
			s, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Citizen, Username: "hoa.le@example.com", Password: testPassword})
			if err != nil {
				t.Fatal(err)
			}
			sessions = append(sessions, s.Token)
		}
		if err := f.svc.RequestPasswordReset(ctx, "hoa.le@example.com", i18n.VI, "192.0.2.5"); err != nil {
			t.Fatal(err)
		}
		_, token := lastLink(t, db, "hoa.le@example.com")
		if ms := mailed(t, db); !strings.Contains(ms[len(ms)-1].Text, "30 phút") {
			t.Errorf("the mail does not say how long the link works: %q", ms[len(ms)-1].Text)
		}
		var n int
		if err := db.QueryRowContext(ctx, db.Rebind(`SELECT COUNT(*) FROM auth_links WHERE token_hash = ?`), token).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the raw token is stored (%d, %v)", n, err)
		}
		f.clock.Advance(ResetLinkTTL - time.Second)
		if err := f.svc.CheckResetLink(ctx, token); err != nil {
			t.Fatalf("the link a second before it expires = %v", err)
		}
		if err := f.svc.ResetPassword(ctx, token, "a recovered passphrase", "192.0.2.5"); err != nil {
			t.Fatalf("the link a second before it expires = %v", err)
		}
		f.wantSessions(t, "after the reset", map[string]bool{sessions[0]: false, sessions[1]: false})
		if err := f.svc.ResetPassword(ctx, token, "another recovered passphrase", "192.0.2.5"); code(err) != "link_invalid" {
			t.Fatalf("the link used twice = %v", err)
		}

		f.clock.Advance(2 * mailWindow)
		if err := f.svc.RequestPasswordReset(ctx, "hoa.le@example.com", i18n.VI, "192.0.2.5"); err != nil {
			t.Fatal(err)
		}
		_, late := lastLink(t, db, "hoa.le@example.com")
		f.clock.Advance(ResetLinkTTL)
		if err := f.svc.CheckResetLink(ctx, late); code(err) != "link_invalid" {
			t.Fatalf("the link at %s = %v; want link_invalid", ResetLinkTTL, err)
		}
		if err := f.svc.ResetPassword(ctx, late, "another recovered passphrase", "192.0.2.5"); code(err) != "link_invalid" {
			t.Fatalf("the link at %s = %v; want link_invalid", ResetLinkTTL, err)
		}
		if _, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Citizen, Username: "hoa.le@example.com", Password: "a recovered passphrase"}); err != nil {
			t.Fatalf("an expired link changed the password: %v", err)
		}
	})
}

// A staff member's address, a citizen's and an unknown one get the same
// answer and the same record; only the citizen gets mail.
func TestPasswordResetAnswersAlikeAndMailsCitizensOnly(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := withMail(newFixture(t, db, Options{}))
		ctx := requestCtx("req-reset")
		if _, err := f.dir.SeedStaff(testCtx, "test", identity.NewStaff{Username: "officer.mail", FullName: "Trần Văn Nam", Email: "nam.tran@example.gov.vn",
			UnitID: f.unit.ID, Roles: authz.RolesOf(authz.Officer)}); err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"hoa.le@example.com", "nobody@example.com", "nam.tran@example.gov.vn"} {
			before := len(f.events(t, "password.reset_request"))
			if err := f.svc.RequestPasswordReset(ctx, email, i18n.VI, "192.0.2.5"); err != nil {
				t.Fatalf("%s = %v; want the same answer as any", email, err)
			}
			events := f.events(t, "password.reset_request")
			if len(events) != before+1 {
				t.Fatalf("%s: %d events recorded", email, len(events)-before)
			}
			e := events[len(events)-1]
			if e.Actor != sysAuth || e.Outcome != audit.OK || e.Attrs["address"] != "192.0.2.5" {
				t.Errorf("%s recorded as %+v", email, e)
			}
			if (e.ResourceType == "citizen") != (email == "hoa.le@example.com") {
				t.Errorf("%s recorded on %s %s", email, e.ResourceType, e.ResourceID)
			}
		}
		ms := mailed(t, db)
		if len(ms) != 1 || ms[0].To[0] != "hoa.le@example.com" {
			t.Fatalf("mails: %+v; want one, to the citizen", ms)
		}
	})
}

func TestPasswordResetRefusalsAreRecordedAndLimited(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := withMail(newFixture(t, db, Options{}))
		ctx := requestCtx("req-reset")
		// Past the mails one address receives: the same answer, nothing
		// sent, the ledger says why.
		for range mailsPerRecipient + 1 {
			if err := f.svc.RequestPasswordReset(ctx, "hoa.le@example.com", i18n.VI, "192.0.2.5"); err != nil {
				t.Fatal(err)
			}
		}
		if e := f.last(t, "password.reset_request"); e.Outcome != audit.Failed || e.Reason != "recipient_limit" {
			t.Errorf("a request past the address's mails recorded as %+v", e)
		}
		if n := len(mailed(t, db)); n != mailsPerRecipient {
			t.Errorf("%d mails; want %d", n, mailsPerRecipient)
		}
		// Past the mails one client sends: refused and recorded.
		var err error
		for i := 0; i <= mailsPerClient && err == nil; i++ {
			err = f.svc.RequestPasswordReset(ctx, "nobody@example.com", i18n.VI, "198.51.100.7")
		}
		if !errors.Is(err, errs.ErrRateLimited) {
			t.Fatalf("requests past the client's limit = %v", err)
		}
		if e := f.last(t, "password.reset_request"); e.Outcome != audit.Failed || e.Reason != "too_many_attempts" || e.Attrs["address"] != "198.51.100.7" {
			t.Errorf("a refused request recorded as %+v", e)
		}

		// A wrong link is recorded, and a client trying links is blocked
		// as one guessing passwords is, even with a good link.
		_, token := lastLink(t, db, "hoa.le@example.com")
		if err := f.svc.ResetPassword(ctx, strings.Repeat("A", tokenLen), "a recovered passphrase", "203.0.113.9"); code(err) != "link_invalid" {
			t.Fatalf("a wrong link = %v", err)
		}
		if e := f.last(t, "password.recover"); e.Actor != sysAuth || e.Outcome != audit.Failed || e.Reason != "link_invalid" || e.Attrs["address"] != "203.0.113.9" {
			t.Errorf("a wrong link recorded as %+v", e)
		}
		for i := 1; i < DefaultAddressLimit; i++ {
			f.svc.ResetPassword(ctx, strings.Repeat("B", tokenLen), "a recovered passphrase", "203.0.113.9")
		}
		if err := f.svc.ResetPassword(ctx, token, "a recovered passphrase", "203.0.113.9"); !errors.Is(err, errs.ErrRateLimited) {
			t.Fatalf("a good link from a client that tried %d wrong ones = %v; want rate limited", DefaultAddressLimit, err)
		}
		f.last(t, "login.throttle")
		if err := f.svc.ResetPassword(ctx, token, "a recovered passphrase", "192.0.2.5"); err != nil {
			t.Fatalf("the good link from another client = %v", err)
		}
	})
}
