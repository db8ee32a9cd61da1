package auth

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// requestCtx is the context of a request nobody has signed in to yet, as
// the server's middleware makes it.
func requestCtx(id string) context.Context {
	return audit.WithOrigin(context.Background(), audit.Origin{RequestID: id})
}

// as is the context of a request by staff member m.
func as(m identity.StaffMember, requestID string) context.Context {
	return audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.Staff(m.ID, m.Username), UnitID: m.UnitID, RequestID: requestID})
}

// events returns the events of action in the ledger, oldest first.
func (f *fixture) events(t testing.TB, action string) []audit.Event {
	t.Helper()
	ctx := context.Background()
	if _, err := f.ledger.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
	events, err := f.ledger.Search(ctx, audit.Query{Action: action, Limit: audit.MaxSearchLimit})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(events)
	return events
}

// last returns the newest event of action.
func (f *fixture) last(t testing.TB, action string) audit.Event {
	t.Helper()
	events := f.events(t, action)
	if len(events) == 0 {
		t.Fatalf("no %s event recorded", action)
	}
	return events[len(events)-1]
}

// wantRecord checks that got records what want does; time and sequence
// aside.
func wantRecord(t testing.TB, got, want audit.Event) {
	t.Helper()
	got.Seq, got.ID, got.Time = 0, 0, time.Time{}
	if got.Actor != want.Actor || got.UnitID != want.UnitID || got.Action != want.Action || got.ResourceType != want.ResourceType ||
		got.ResourceID != want.ResourceID || got.Level != want.Level || got.Outcome != want.Outcome || got.Reason != want.Reason ||
		got.RequestID != want.RequestID || !maps.Equal(got.Attrs, want.Attrs) {
		t.Errorf("recorded %+v\nwant     %+v", got, want)
	}
}

// staffRes is a staff account's resource id in events.
func staffRes(m identity.StaffMember) string { return strconv.FormatInt(m.ID, 10) }

func TestSignInsAndTheirRefusalsAreRecorded(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{SlowAfter: 2})
		secret := f.enroll(t, f.cleared)
		gone := f.staff(t, "gone.away", authz.Unclassified)
		yes := true
		if _, err := f.dir.UpdateStaff(testCtx, "test", gone.ID, identity.StaffPatch{Disabled: &yes, Version: gone.Version}); err != nil {
			t.Fatal(err)
		}
		const addr = "192.0.2.7"
		plain, cleared := staffRes(f.plain), staffRes(f.cleared)
		crafted := "eve\n2026-03-02 login ok admin" + strings.Repeat("x", 300)
		failed := func(res, reason string, attrs map[string]string) audit.Event {
			e := audit.Event{Actor: audit.System("auth"), Action: "login", Outcome: audit.Failed, Reason: reason, Attrs: attrs}
			if res != "" {
				e.ResourceType, e.ResourceID = "staff", res
			}
			return e
		}
		pw := map[string]string{"method": "password", "address": addr}
		tests := []struct {
			name string
			req  LoginRequest
			want audit.Event
		}{
			{"success", LoginRequest{Username: "lan.nguyen", Password: testPassword},
				audit.Event{Actor: audit.Staff(f.plain.ID, "lan.nguyen"), UnitID: f.unit.ID, Action: "login", ResourceType: "staff", ResourceID: plain,
					Outcome: audit.OK, Attrs: map[string]string{"method": "password", "stage": "full", "address": addr}}},
			{"wrong password", LoginRequest{Username: "lan.nguyen", Password: "wrong password here"}, failed(plain, "wrong_credentials", pw)},
			{"the failure that slows", LoginRequest{Username: "lan.nguyen", Password: "wrong password here"}, failed(plain, "too_many_attempts", pw)},
			{"no such account", LoginRequest{Username: "eve.hacker", Password: testPassword},
				failed("", "wrong_credentials", map[string]string{"method": "password", "address": addr, "username": "eve.hacker"})},
			{"a crafted name", LoginRequest{Username: crafted, Password: testPassword},
				failed("", "wrong_credentials", map[string]string{"method": "password", "address": addr, "username": audit.AttrValue(crafted)})},
			{"no code", LoginRequest{Username: "minh.tran", Password: testPassword}, failed(cleared, "totp_required", pw)},
			{"a wrong code", LoginRequest{Username: "minh.tran", Password: testPassword, TOTP: "000000"}, failed(cleared, "totp_invalid", pw)},
			{"the right code", LoginRequest{Username: "minh.tran", Password: testPassword, TOTP: f.code(t, secret)},
				audit.Event{Actor: audit.Staff(f.cleared.ID, "minh.tran"), UnitID: f.unit.ID, Action: "login", ResourceType: "staff", ResourceID: cleared,
					Outcome: audit.OK, Attrs: map[string]string{"method": "password", "stage": "full", "address": addr}}},
			{"disabled", LoginRequest{Username: "gone.away", Password: testPassword}, failed(staffRes(gone), "account_disabled", pw)},
		}
		for i, tt := range tests {
			tt.req.Kind, tt.req.Address = authz.Staff, addr
			id := "req-" + strconv.Itoa(i)
			_, err := f.svc.Login(requestCtx(id), tt.req)
			if (err == nil) != (tt.want.Outcome == audit.OK) {
				t.Fatalf("%s: Login = %v", tt.name, err)
			}
			tt.want.RequestID = id
			wantRecord(t, f.last(t, "login"), tt.want)
			if n := len(f.events(t, "login")); n != i+1 {
				t.Fatalf("%s: %d login events after %d attempts", tt.name, n, i+1)
			}
		}

		// The wait is on record once, with when it ends; attempts while
		// it lasts are refused unrecorded.
		if _, err := f.svc.Login(requestCtx("req-w"), LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: testPassword, Address: addr}); code(err) != "too_many_attempts" {
			t.Fatalf("the right password while the address waits = %v", err)
		}
		if n := len(f.events(t, "login")); n != len(tests) {
			t.Fatalf("%d login events; an attempt while waiting was recorded", n)
		}
		waits := f.events(t, "login.slowdown")
		if len(waits) != 1 {
			t.Fatalf("%d slowdown events, want 1", len(waits))
		}
		wantRecord(t, waits[0], audit.Event{Actor: audit.System("auth"), Action: "login.slowdown", ResourceType: "staff", ResourceID: plain,
			Outcome: audit.OK, Reason: "too many failed sign-ins from one address", RequestID: "req-2",
			Attrs: map[string]string{"address": addr, "failures": "2", "until": f.clock.Now().Add(DefaultSlowDelay).UTC().Format(time.RFC3339)}})

		// A citizen is named by id only; no password is anywhere.
		if _, err := f.svc.Login(requestCtx("req-c"), LoginRequest{Kind: authz.Citizen, Username: "hoa.le@example.com", Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		wantRecord(t, f.last(t, "login"), audit.Event{Actor: audit.Citizen(f.citizen.ID, ""), Action: "login", ResourceType: "citizen",
			ResourceID: strconv.FormatInt(f.citizen.ID, 10), Outcome: audit.OK, RequestID: "req-c", Attrs: map[string]string{"method": "password", "stage": "full"}})
		for _, e := range f.events(t, "") {
			for _, v := range append(slices.Collect(maps.Values(e.Attrs)), e.Reason, e.Actor.Name) {
				if strings.Contains(v, testPassword) || strings.Contains(v, "wrong password") || strings.Contains(v, "hoa.le@") {
					t.Errorf("%s event holds a password or an e-mail address: %+v", e.Action, e)
				}
			}
		}
	})
}

func TestABlockedAddressIsRecordedOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{AddressLimit: 3, SlowAfter: 100})
		req := LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: "wrong password here", Address: "203.0.113.9"}
		for range 3 {
			if _, err := f.svc.Login(requestCtx("req-1"), req); code(err) != "wrong_credentials" {
				t.Fatal(err)
			}
		}
		blocks := f.events(t, "login.throttle")
		if len(blocks) != 1 {
			t.Fatalf("%d throttle events after the limit, want 1", len(blocks))
		}
		wantRecord(t, blocks[0], audit.Event{Actor: audit.System("auth"), Action: "login.throttle", Outcome: audit.OK, RequestID: "req-1",
			Attrs: map[string]string{"address": "203.0.113.9", "until": f.clock.Now().Add(DefaultAddressWindow).UTC().Format(time.RFC3339)}})
		// Attempts while blocked are refused unrecorded, however many.
		for range 5 {
			if _, err := f.svc.Login(requestCtx("req-2"), req); code(err) != "too_many_attempts" {
				t.Fatal(err)
			}
		}
		if n, m := len(f.events(t, "login")), len(f.events(t, "login.throttle")); n != 3 || m != 1 {
			t.Fatalf("%d login and %d throttle events; want the 3 failures and 1 block", n, m)
		}
	})
}

func TestLogoutIsRecordedOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		sess, err := f.login("lan.nguyen", "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := as(f.plain, "req-out")
		if err := f.svc.Logout(ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
		wantRecord(t, f.last(t, "logout"), audit.Event{Actor: audit.Staff(f.plain.ID, "lan.nguyen"), UnitID: f.unit.ID, Action: "logout",
			ResourceType: "staff", ResourceID: staffRes(f.plain), Outcome: audit.OK, RequestID: "req-out"})
		for _, token := range []string{sess.Token, "not a token", ""} {
			if err := f.svc.Logout(ctx, token); err != nil {
				t.Fatalf("Logout(%q) = %v; want nothing to do", token, err)
			}
		}
		if n := len(f.events(t, "logout")); n != 1 {
			t.Fatalf("%d logout events; want one for the one session ended", n)
		}
	})
}

func TestCredentialChangesAreRecordedByWhoeverMadeThem(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		admin := f.staff(t, "quan.tri", authz.Unclassified)
		byAdmin := audit.Event{Actor: audit.Staff(admin.ID, "quan.tri"), UnitID: admin.UnitID, ResourceType: "staff", ResourceID: staffRes(f.plain),
			Outcome: audit.OK, RequestID: "req-a"}
		with := func(e audit.Event, action string, attrs map[string]string) audit.Event {
			e.Action, e.Attrs = action, attrs
			return e
		}
		ctx := as(admin, "req-a")

		if err := f.svc.SetPassword(ctx, authz.Staff, f.plain.ID, "a new long passphrase", false); err != nil {
			t.Fatal(err)
		}
		wantRecord(t, f.last(t, "password.set"), with(byAdmin, "password.set", map[string]string{"must_change": "false"}))
		otp, err := f.svc.IssueOneTimePassword(ctx, authz.Staff, f.plain.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantRecord(t, f.last(t, "password.reset"), with(byAdmin, "password.reset", map[string]string{"must_change": "true"}))
		if err := f.svc.RevokeSessions(ctx, authz.Staff, f.plain.ID); err != nil {
			t.Fatal(err)
		}
		wantRecord(t, f.last(t, "session.revoke"), with(byAdmin, "session.revoke", nil))

		// The account holder's own changes are theirs.
		self := audit.Event{Actor: audit.Staff(f.plain.ID, "lan.nguyen"), UnitID: f.unit.ID, ResourceType: "staff", ResourceID: staffRes(f.plain),
			Outcome: audit.OK, RequestID: "req-self"}
		own := as(f.plain, "req-self")
		sess, err := f.svc.Login(testCtx, LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: otp})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ChangePassword(own, sess.Token, "not the password", "another long passphrase"); err == nil {
			t.Fatal("a wrong current password changed the password")
		}
		refused := with(self, "password.change", nil)
		refused.Outcome, refused.Reason = audit.Failed, "current_password: is not your current password"
		wantRecord(t, f.last(t, "password.change"), refused)
		if err := f.svc.ChangePassword(own, sess.Token, otp, "another long passphrase"); err != nil {
			t.Fatal(err)
		}
		wantRecord(t, f.last(t, "password.change"), with(self, "password.change", nil))
		if err := f.svc.ChangePassword(own, sess.Token, "another long passphrase", "short"); err == nil {
			t.Fatal("a password the policy refuses was set")
		}
		if n := len(f.events(t, "password.change")); n != 2 {
			t.Fatalf("%d password.change events; a new password the policy refuses is bad input, not a refusal to record", n)
		}

		mine := as(f.cleared, "req-totp")
		enrolCode, expires, err := f.svc.IssueEnrolmentCode(testCtx, authz.Staff, f.cleared.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantRecord(t, f.last(t, "totp.enrol_code"), audit.Event{Actor: audit.System("test"), Action: "totp.enrol_code", ResourceType: "staff",
			ResourceID: staffRes(f.cleared), Outcome: audit.OK, Attrs: map[string]string{"expires": expires.Format(time.RFC3339)}})
		if _, err := f.svc.StartTOTPEnrolment(mine, authz.Staff, f.cleared.ID, "wrongwrongwrong2"); code(err) != "enrolment_code_invalid" {
			t.Fatalf("a wrong enrolment code = %v", err)
		}
		byCleared := audit.Event{Actor: audit.Staff(f.cleared.ID, "minh.tran"), UnitID: f.unit.ID, ResourceType: "staff",
			ResourceID: staffRes(f.cleared), Outcome: audit.OK, RequestID: "req-totp"}
		failed := with(byCleared, "totp.enroll", nil)
		failed.Outcome, failed.Reason = audit.Failed, "enrolment_code_invalid"
		wantRecord(t, f.last(t, "totp.enroll"), failed)
		secret, err := f.svc.StartTOTPEnrolment(mine, authz.Staff, f.cleared.ID, enrolCode)
		if err != nil {
			t.Fatal(err)
		}
		wantRecord(t, f.last(t, "totp.enroll"), with(byCleared, "totp.enroll", nil))
		if err := f.svc.ConfirmTOTP(mine, authz.Staff, f.cleared.ID, f.code(t, secret)); err != nil {
			t.Fatal(err)
		}
		wantRecord(t, f.last(t, "totp.confirm"), with(byCleared, "totp.confirm", nil))
	})
}

func TestCredentialChangesNeedSomeoneToActFor(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		sess, err := f.login("lan.nguyen", "")
		if err != nil {
			t.Fatal(err)
		}
		state := func() string {
			var hash string
			var sessions int
			err := db.QueryRowContext(context.Background(), db.Rebind(`SELECT password_hash,
				(SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM credentials WHERE totp_secret IS NOT NULL) FROM credentials
				WHERE principal_kind = 'staff' AND principal_id = ?`), f.plain.ID).Scan(&hash, &sessions, new(int))
			if err != nil {
				t.Fatal(err)
			}
			return hash + " " + strconv.Itoa(sessions)
		}
		before := state()
		// audit.Writer's one rule: no origin is the program's fault (500),
		// nobody signed in the caller's (401).
		for _, ctx := range []context.Context{context.Background(), requestCtx("req-anon")} {
			want, status := audit.ErrNoOrigin, 500
			if _, ok := audit.OriginFrom(ctx); ok {
				want, status = errs.ErrUnauthenticated, 401
			}
			changes := map[string]error{
				"SetPassword":    f.svc.SetPassword(ctx, authz.Staff, f.plain.ID, "a new long passphrase", false),
				"RevokeSessions": f.svc.RevokeSessions(ctx, authz.Staff, f.plain.ID),
				"ConfirmTOTP":    f.svc.ConfirmTOTP(ctx, authz.Staff, f.plain.ID, "123456"),
			}
			_, changes["IssueOneTimePassword"] = f.svc.IssueOneTimePassword(ctx, authz.Staff, f.plain.ID)
			_, _, changes["IssueEnrolmentCode"] = f.svc.IssueEnrolmentCode(ctx, authz.Staff, f.plain.ID)
			_, changes["StartTOTPEnrolment"] = f.svc.StartTOTPEnrolment(ctx, authz.Staff, f.plain.ID, "abc")
			_, changes["ProvisionTOTP"] = f.svc.ProvisionTOTP(ctx, authz.Staff, f.plain.ID)
			for name, err := range changes {
				if !errors.Is(err, want) || web.Status(err) != status {
					t.Errorf("%s without an actor = %v (status %d); want %v, status %d", name, err, web.Status(err), want, status)
				}
			}
		}
		if after := state(); after != before {
			t.Fatalf("refused changes changed the credentials or sessions: %s → %s", before, after)
		}
		if _, err := f.svc.Authenticate(context.Background(), sess.Token); err != nil {
			t.Fatalf("the session ended: %v", err)
		}
	})
}

// switchRecorder records in the ledger until it is down.
type switchRecorder struct {
	l    *audit.Ledger
	down atomic.Bool
}

var errLedgerDown = errors.New("the ledger is down")

func (r *switchRecorder) Append(ctx context.Context, e audit.Event) (audit.Receipt, error) {
	if r.down.Load() {
		return audit.Receipt{}, errLedgerDown
	}
	return r.l.Append(ctx, e)
}

func (r *switchRecorder) AppendTx(ctx context.Context, tx *store.Tx, e audit.Event) error {
	if r.down.Load() {
		return errLedgerDown
	}
	return r.l.AppendTx(ctx, tx, e)
}

func TestNothingHappensThatCannotBeRecorded(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		rec := &switchRecorder{l: audittest.MustLedger(t, db)}
		f := newFixture(t, db, Options{Recorder: rec, SlowAfter: 1})
		sess, err := f.login("lan.nguyen", "")
		if err != nil {
			t.Fatal(err)
		}
		admin := as(f.plain, "req-1")
		count := func(table string) int {
			var n int
			if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		var hash string
		readHash := func() string {
			if err := db.QueryRowContext(context.Background(), db.Rebind(`SELECT password_hash FROM credentials
				WHERE principal_kind = 'staff' AND principal_id = ?`), f.plain.ID).Scan(&hash); err != nil {
				t.Fatal(err)
			}
			return hash
		}
		sessions, password := count("sessions"), readHash()

		rec.down.Store(true)
		ok := LoginRequest{Kind: authz.Staff, Username: "lan.nguyen", Password: testPassword}
		wrong := LoginRequest{Kind: authz.Staff, Username: "minh.tran", Password: "wrong password here"}
		tests := map[string]error{
			"Logout":         f.svc.Logout(admin, sess.Token),
			"SetPassword":    f.svc.SetPassword(admin, authz.Staff, f.plain.ID, "a new long passphrase", false),
			"RevokeSessions": f.svc.RevokeSessions(admin, authz.Staff, f.plain.ID),
		}
		_, tests["Login"] = f.svc.Login(requestCtx("req-2"), ok)
		_, tests["a refused Login"] = f.svc.Login(requestCtx("req-3"), wrong)
		for name, err := range tests {
			if err == nil || web.Status(err) != 500 || code(err) != "" {
				t.Errorf("%s while the ledger is down = %v (status %d); want a server fault", name, err, web.Status(err))
			}
		}
		if n := count("sessions"); n != sessions {
			t.Errorf("%d sessions, were %d: a sign-in or sign-out went unrecorded", n, sessions)
		}
		if readHash() != password {
			t.Error("the password changed unrecorded")
		}

		// A service given no recorder lets no one in.
		bare := New(db, f.dir, f.svc.sealer, Options{Now: f.clock.Now, Params: testParams})
		if _, err := bare.Login(requestCtx("req-4"), ok); !errors.Is(err, audit.ErrNoRecorder) {
			t.Fatalf("Login without a recorder = %v; want audit.ErrNoRecorder", err)
		}
		if n := count("sessions"); n != sessions {
			t.Errorf("a service without a recorder opened a session")
		}
	})
}
