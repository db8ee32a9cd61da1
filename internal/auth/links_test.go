package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/mail"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// withMail rebuilds f's service with the real outbox (never run: tests
// read what it queued) and returns f.
func withMail(f *fixture) *fixture {
	f.opts.Mailer, f.opts.LinkBase = mail.NewOutbox(f.db, nil, mail.OutboxConfig{}), func() string { return "https://portal.example/" }
	f.svc = New(f.db, f.dir, f.svc.sealer, f.opts)
	return f
}

// mailed returns the messages queued in the outbox, oldest first.
func mailed(t testing.TB, db *store.DB) []mail.Message {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT recipients, subject, body_text FROM mail_outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []mail.Message
	for rows.Next() {
		var m mail.Message
		var to string
		if err := rows.Scan(&to, &m.Subject, &m.Text); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(to), &m.To); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var linkRE = regexp.MustCompile(`https://portal\.example(/account/[a-z/]+)\?token=([A-Za-z0-9_-]+)`)

// lastLink returns the path and token of the link in the last message
// queued, which must go to want.
func lastLink(t testing.TB, db *store.DB, want string) (path, token string) {
	t.Helper()
	ms := mailed(t, db)
	if len(ms) == 0 {
		t.Fatal("no mail queued")
	}
	m := ms[len(ms)-1]
	if len(m.To) != 1 || m.To[0] != want {
		t.Fatalf("mail to %v; want %s", m.To, want)
	}
	match := linkRE.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no link in %q", m.Text)
	}
	return match[1], match[2]
}

func registration(email, password string) Registration {
	return Registration{Email: email, FullName: "Phạm Văn An", Phone: "+84 912 345 678", Password: password, Lang: i18n.VI, Address: "192.0.2.5"}
}

func TestRegistrationCreatesTheAccountOnlyOnceTheAddressIsConfirmed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := withMail(newFixture(t, db, Options{}))
		ctx := requestCtx("req-mail")
		if err := f.svc.RegisterCitizen(ctx, registration("An.Pham@example.com", "a fine passphrase")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.dir.CitizenByEmail(ctx, "an.pham@example.com"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("an account exists before its address is confirmed: %v", err)
		}
		signIn := LoginRequest{Kind: authz.Citizen, Username: "an.pham@example.com", Password: "a fine passphrase"}
		if _, err := f.svc.Login(ctx, signIn); code(err) != "wrong_credentials" {
			t.Fatalf("sign-in before confirming = %v; want wrong_credentials", err)
		}
		path, token := lastLink(t, db, "an.pham@example.com")
		if path != "/account/verify" {
			t.Fatalf("the link goes to %s", path)
		}
		var n int
		if err := db.QueryRowContext(ctx, db.Rebind(`SELECT COUNT(*) FROM auth_links WHERE token_hash = ?`), token).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the raw token is stored (%d, %v)", n, err)
		}
		c, err := f.svc.ConfirmRegistration(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if c.Email != "an.pham@example.com" || c.FullName != "Phạm Văn An" || c.Phone == "" {
			t.Fatalf("account %+v", c)
		}
		if _, err := f.svc.Login(ctx, signIn); err != nil {
			t.Fatalf("sign-in after confirming = %v", err)
		}
		if _, err := f.svc.ConfirmRegistration(ctx, token); !errors.Is(err, errs.ErrInvalid) || code(err) != "link_invalid" {
			t.Fatalf("the link used twice = %v; want link_invalid", err)
		}

		// A link past its day does not work.
		if err := f.svc.RegisterCitizen(ctx, registration("binh.vo@example.com", "a fine passphrase")); err != nil {
			t.Fatal(err)
		}
		_, late := lastLink(t, db, "binh.vo@example.com")
		f.clock.Advance(RegisterLinkTTL)
		if _, err := f.svc.ConfirmRegistration(ctx, late); code(err) != "link_invalid" {
			t.Fatalf("an expired link = %v; want link_invalid", err)
		}
		for _, bad := range []string{"", "x", strings.Repeat("A", tokenLen), "../../etc\x00"} {
			if _, err := f.svc.ConfirmRegistration(ctx, bad); code(err) != "link_invalid" {
				t.Errorf("token %q = %v; want link_invalid", bad, err)
			}
		}
	})
}

func TestRegistrationAnswersAlikeForARegisteredAddress(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := withMail(newFixture(t, db, Options{}))
		ctx := requestCtx("req-mail")
		if err := f.svc.RegisterCitizen(ctx, registration("HOA.LE@example.com", "an intruder's passphrase")); err != nil {
			t.Fatalf("registering a registered address = %v; want the same answer as for a new one", err)
		}
		ms := mailed(t, db)
		if len(ms) != 1 || ms[0].To[0] != "hoa.le@example.com" || linkRE.MatchString(ms[0].Text) ||
			!strings.Contains(ms[0].Text, "https://portal.example/account/reset") {
			t.Fatalf("the owner's notice: %+v", ms)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM auth_links`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d links stored for a registered address (%v)", n, err)
		}
		if _, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Citizen, Username: "hoa.le@example.com", Password: testPassword}); err != nil {
			t.Fatalf("the owner's password no longer works: %v", err)
		}
		// Bad input is refused alike too, before anything is looked up.
		var fe *errs.FieldError
		if err := f.svc.RegisterCitizen(ctx, registration("an.pham@example.com", "an.pham is great")); !errors.As(err, &fe) || fe.Field != "password" {
			t.Fatalf("a password holding the address = %v", err)
		}
		if err := f.svc.RegisterCitizen(ctx, registration("not an address", "a fine passphrase")); !errors.As(err, &fe) || fe.Field != "email" {
			t.Fatalf("a malformed address = %v", err)
		}
	})
}

func TestPasswordResetByMailedLink(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := withMail(newFixture(t, db, Options{}))
		ctx := requestCtx("req-mail")
		signIn := func(pw string) (Session, error) {
			return f.svc.Login(ctx, LoginRequest{Kind: authz.Citizen, Username: "hoa.le@example.com", Password: pw})
		}
		before, _ := signIn(testPassword)
		if err := f.svc.RequestPasswordReset(ctx, "nobody@example.com", i18n.EN, "192.0.2.5"); err != nil {
			t.Fatalf("an address without an account = %v; want the same answer", err)
		}
		if ms := mailed(t, db); len(ms) != 0 {
			t.Fatalf("mail sent for an address without an account: %+v", ms)
		}
		if err := f.svc.RequestPasswordReset(ctx, " Hoa.Le@example.com", i18n.EN, "192.0.2.5"); err != nil {
			t.Fatal(err)
		}
		path, token := lastLink(t, db, "hoa.le@example.com")
		if path != "/account/reset/confirm" {
			t.Fatalf("the link goes to %s", path)
		}
		if e := f.last(t, "password.reset_request"); e.ResourceID != citizenRes(f) || e.Attrs["address"] != "192.0.2.5" {
			t.Fatalf("reset request recorded as %+v", e)
		}
		if err := f.svc.CheckResetLink(ctx, token); err != nil {
			t.Fatalf("a fresh link = %v", err)
		}
		var fe *errs.FieldError
		if err := f.svc.ResetPassword(ctx, token, "short", "192.0.2.5"); !errors.As(err, &fe) || fe.Field != "password" {
			t.Fatalf("a password the policy refuses = %v", err)
		}
		// Two requests racing with the link: one wins.
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i := range results {
			wg.Go(func() { results[i] = f.svc.ResetPassword(ctx, token, "a recovered passphrase", "192.0.2.5") })
		}
		wg.Wait()
		if (results[0] == nil) == (results[1] == nil) {
			t.Fatalf("racing resets = %v, %v; want exactly one to succeed", results[0], results[1])
		}
		if f.alive(before.Token) {
			t.Fatal("a session from before the reset survives it")
		}
		if _, err := signIn("a recovered passphrase"); err != nil {
			t.Fatalf("the new password = %v", err)
		}
		if _, err := signIn(testPassword); code(err) != "wrong_credentials" {
			t.Fatalf("the old password = %v", err)
		}
		// The winner is recorded by the citizen, the loser as a refused link.
		var outcomes []audit.Outcome
		for _, e := range f.events(t, "password.recover") {
			outcomes = append(outcomes, e.Outcome)
			if e.Outcome == audit.OK && e.Actor != audit.Citizen(f.citizen.ID, "") || e.Outcome == audit.Failed && e.Reason != "link_invalid" {
				t.Fatalf("recovery recorded as %+v", e)
			}
		}
		if len(outcomes) != 2 || outcomes[0] == outcomes[1] {
			t.Fatalf("racing resets recorded as %v; want one ok, one failed", outcomes)
		}
		if err := f.svc.CheckResetLink(ctx, token); code(err) != "link_invalid" {
			t.Fatalf("a used link = %v", err)
		}

		// A link works for an hour only.
		f.clock.Advance(2 * mailWindow) // past the limit on mails to one address
		if err := f.svc.RequestPasswordReset(ctx, "hoa.le@example.com", i18n.EN, "192.0.2.5"); err != nil {
			t.Fatal(err)
		}
		_, late := lastLink(t, db, "hoa.le@example.com")
		f.clock.Advance(ResetLinkTTL)
		if err := f.svc.ResetPassword(ctx, late, "another recovered passphrase", "192.0.2.5"); code(err) != "link_invalid" {
			t.Fatalf("an expired link = %v", err)
		}
	})
}

// citizenRes is the fixture's citizen's resource id in events.
func citizenRes(f *fixture) string { return strconv.FormatInt(f.citizen.ID, 10) }

func TestMailsToOneAddressAndFromOneClientAreBounded(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := withMail(newFixture(t, db, Options{}))
		ctx := requestCtx("req-mail")
		for i := range 2 * mailsPerRecipient {
			if err := f.svc.RequestPasswordReset(ctx, "hoa.le@example.com", i18n.VI, "192.0.2.5"); err != nil {
				t.Fatalf("request %d = %v; the answer stays the same", i+1, err)
			}
		}
		if n := len(mailed(t, db)); n != mailsPerRecipient {
			t.Fatalf("%d mails to one address within the hour; want %d", n, mailsPerRecipient)
		}
		for i := 2 * mailsPerRecipient; i < mailsPerClient; i++ {
			f.svc.RequestPasswordReset(ctx, "nobody@example.com", i18n.VI, "192.0.2.5")
		}
		if err := f.svc.RequestPasswordReset(ctx, "nobody@example.com", i18n.VI, "192.0.2.5"); !errors.Is(err, errs.ErrRateLimited) {
			t.Fatalf("request past the client's limit = %v; want ErrRateLimited", err)
		}
		bare := New(db, f.dir, newTestSealer(t), Options{Now: f.clock.Now, Params: testParams, Recorder: f.ledger})
		if err := bare.RegisterCitizen(ctx, registration("an.pham@example.com", "a fine passphrase")); !errors.Is(err, errs.ErrUnavailable) {
			t.Fatalf("registering without a mailer = %v; want ErrUnavailable", err)
		}
	})
}

func TestPublicSiteRegistrationAndResetPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := serve(t, withMail(newFixture(t, db, Options{})), nil)
		b := w.browser(t)
		b.get("/account/register")
		form := func(email string) url.Values {
			return url.Values{"email": {email}, "full_name": {"Phạm Văn An"}, "password": {"a fine passphrase"}, "confirm_password": {"a fine passphrase"}}
		}
		fresh := b.post("/account/register", form("an.pham@example.com"))
		taken := b.post("/account/register", form("hoa.le@example.com"))
		if fresh.StatusCode != http.StatusOK || !strings.Contains(fresh.body, "Hãy kiểm tra hộp thư") {
			t.Fatalf("registration: %d\n%s", fresh.StatusCode, fresh.body)
		}
		if taken.StatusCode != fresh.StatusCode || strings.ReplaceAll(taken.body, "hoa.le@example.com", "an.pham@example.com") != fresh.body {
			t.Fatalf("a registered address gets another answer: %d\n%s", taken.StatusCode, taken.body)
		}
		if b.cookie(SessionCookie) != "" {
			t.Fatal("registering signed in before the address was confirmed")
		}
		ms := mailed(t, db)
		if len(ms) != 2 || ms[0].To[0] != "an.pham@example.com" || linkRE.MatchString(ms[1].Text) {
			t.Fatalf("mails: %+v", ms)
		}
		link := linkRE.FindStringSubmatch(ms[0].Text)
		// Opening the link only shows a page: a mail scanner that follows
		// it uses nothing up.
		r := b.get(link[1] + "?token=" + link[2])
		if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `action="/account/verify?token=`+link[2]+`"`) {
			t.Fatalf("the link's page: %d\n%s", r.StatusCode, r.body)
		}
		if r := b.post("/account/verify?token="+link[2], url.Values{}); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Đã xác nhận địa chỉ") {
			t.Fatalf("confirming: %d\n%s", r.StatusCode, r.body)
		}
		if r := b.post("/account/verify?token="+link[2], url.Values{}); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, i18nVI("auth.error.link")) {
			t.Fatalf("confirming twice: %d\n%s", r.StatusCode, r.body)
		}
		if r := b.signIn("/account/login", "an.pham@example.com", "a fine passphrase", ""); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in after confirming: %d\n%s", r.StatusCode, r.body)
		}

		// The reset pages, from another browser.
		o := w.browser(t)
		if r := o.get("/account/login"); !strings.Contains(r.body, `href="/account/reset"`) {
			t.Fatal("the sign-in page offers no password reset")
		}
		o.get("/account/reset")
		sent := o.post("/account/reset", url.Values{"email": {"an.pham@example.com"}})
		unknown := o.post("/account/reset", url.Values{"email": {"no.one@example.com"}})
		if sent.StatusCode != http.StatusOK || strings.ReplaceAll(unknown.body, "no.one@example.com", "an.pham@example.com") != sent.body {
			t.Fatalf("reset answers differ: %d\n%s\n---\n%s", sent.StatusCode, sent.body, unknown.body)
		}
		path, token := lastLink(t, db, "an.pham@example.com")
		if r := o.get(path + "?token=" + token); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="confirm_password"`) {
			t.Fatalf("the reset link's page: %d\n%s", r.StatusCode, r.body)
		}
		if r := o.get(path + "?token=" + strings.Repeat("A", tokenLen)); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, `href="/account/reset"`) {
			t.Fatalf("a wrong reset link: %d\n%s", r.StatusCode, r.body)
		}
		r = o.post(path+"?token="+token, url.Values{"password": {"a recovered passphrase"}, "confirm_password": {"a recovered passphrase"}})
		if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Đã đặt mật khẩu mới") {
			t.Fatalf("resetting: %d\n%s", r.StatusCode, r.body)
		}
		if r := b.get("/account/"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("the session from before the reset: %d; want sent to sign in", r.StatusCode)
		}
	})
}

func TestHostileInputToTheMailedFlows(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := withMail(newFixture(t, db, Options{}))
		ctx := requestCtx("req-hostile")
		for _, reg := range []Registration{
			{Email: "an.pham@example.com", FullName: "Phạm\x00An", Password: "a fine passphrase"},
			{Email: "an.pham@example.com\r\nBcc: all@example.com", FullName: "Phạm An", Password: "a fine passphrase"},
			{Email: "an.pham\x00@example.com", FullName: "Phạm An", Password: "a fine passphrase"},
			{Email: "an.pham@example.com", FullName: "Phạm An", Phone: "0912\x00345", Password: "a fine passphrase"},
			{Email: "an.pham@example.com", FullName: strings.Repeat("A", 10_000), Password: "a fine passphrase"},
		} {
			var fe *errs.FieldError
			if err := f.svc.RegisterCitizen(ctx, reg); !errors.As(err, &fe) {
				t.Errorf("registration %q = %v; want a FieldError", reg.Email+" "+reg.FullName[:min(len(reg.FullName), 20)]+" "+reg.Phone, err)
			}
		}
		for _, email := range []string{"hoa.le@example.com\r\nBcc: all@example.com", "\x00", strings.Repeat("a", 300) + "@example.com"} {
			if err := f.svc.RequestPasswordReset(ctx, email, i18n.VI, "192.0.2.5"); web.Status(err) != http.StatusBadRequest {
				t.Errorf("reset for %q = %v; want 400", email[:min(len(email), 30)], err)
			}
		}
		for _, token := range []string{"\x00", strings.Repeat("\x00", tokenLen), "\u202e" + strings.Repeat("A", tokenLen-3)} {
			if err := f.svc.ResetPassword(ctx, token, "a recovered passphrase", "192.0.2.5"); code(err) != "link_invalid" {
				t.Errorf("reset with token %q = %v; want link_invalid", token, err)
			}
			if _, err := f.svc.ConfirmRegistration(ctx, token); code(err) != "link_invalid" {
				t.Errorf("confirming token %q = %v; want link_invalid", token, err)
			}
		}
		if ms := mailed(t, db); len(ms) != 0 {
			t.Fatalf("hostile input queued mail: %+v", ms)
		}
	})
}
