package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// rowCount returns how many rows table holds.
func rowCount(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAddressLimiterBlocksAfterTheLimitUntilTheWindowEnds(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := newAddressLimiter(&limits{db: db}, "addr:", 3, 15*time.Minute)
		blocked := func(addr string, at time.Time) (time.Time, bool) {
			until, b, err := l.blocked(ctx, addr, at)
			if err != nil {
				t.Fatal(err)
			}
			return until, b
		}
		start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		for i := range 3 {
			if _, b := blocked("192.0.2.1", start); b {
				t.Fatalf("blocked after %d failures; the limit is 3", i)
			}
			if _, used, err := l.fail(ctx, "192.0.2.1", start.Add(time.Duration(i)*time.Minute)); err != nil || used != (i == 2) {
				t.Fatalf("failure %d: allowance used up %v, %v", i+1, used, err)
			}
		}
		until, b := blocked("192.0.2.1", start.Add(5*time.Minute))
		if !b || !until.Equal(start.Add(15*time.Minute)) {
			t.Fatalf("after 3 failures: blocked %v until %v; want blocked until the window's end", b, until)
		}
		if _, b := blocked("192.0.2.2", start); b {
			t.Fatal("another address is blocked too")
		}
		if _, b := blocked("192.0.2.1", start.Add(15*time.Minute)); b {
			t.Fatal("still blocked after the window ended")
		}
		l.fail(ctx, "192.0.2.1", start.Add(16*time.Minute))
		if _, b := blocked("192.0.2.1", start.Add(16*time.Minute)); b {
			t.Fatal("a new window starts with the old failures counted")
		}
		// An empty address is never counted or blocked.
		before := rowCount(t, db, "auth_limits")
		l.fail(ctx, "", start)
		if _, b := blocked("", start); b || rowCount(t, db, "auth_limits") != before {
			t.Fatal("an empty address was counted")
		}
	})
}

func TestPairLimiterWaitsLongerAndLongerUpToAQuarterHour(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := newPairLimiter(&limits{db: db}, 5, time.Minute, 15*time.Minute)
		for nth, want := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 4: 8 * time.Minute, 5: 15 * time.Minute, 1000: 15 * time.Minute} {
			if got := l.wait(nth); got != want {
				t.Errorf("wait after the %dth failure past the allowance = %v; want %v", nth, got, want)
			}
		}
		start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		key := pairKey("staff", "Lan.Nguyen ", "192.0.2.1")
		if key != pairKey("staff", "lan.nguyen", "192.0.2.1") || key == pairKey("staff", "lan.nguyen", "192.0.2.2") ||
			key == pairKey("citizen", "lan.nguyen", "192.0.2.1") {
			t.Fatal("pair keys do not ignore case and spaces of the name, or mix addresses or kinds")
		}
		if long := pairKey("staff", strings.Repeat("x", 10_000), "192.0.2.1"); len(long) != len(key) {
			t.Fatalf("a long name's pair key holds %d bytes; want a digest's %d", len(long), len(key))
		}
		fail := func(at time.Time) (time.Time, int, bool) {
			until, n, slowed, err := l.fail(ctx, key, at)
			if err != nil {
				t.Fatal(err)
			}
			return until, n, slowed
		}
		blocked := func(at time.Time) bool {
			_, b, err := l.blocked(ctx, key, at)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		for i := 1; i < 5; i++ {
			if _, _, slowed := fail(start); slowed {
				t.Fatalf("slowed after %d failures; the allowance is 5", i)
			}
		}
		if until, n, slowed := fail(start); !slowed || n != 5 || !until.Equal(start.Add(time.Minute)) {
			t.Fatalf("5th failure: slowed %v (%d) until %v; want a minute", slowed, n, until)
		}
		if !blocked(start.Add(time.Minute - time.Second)) {
			t.Fatal("not waiting within the minute")
		}
		if blocked(start.Add(time.Minute)) {
			t.Fatal("still waiting after the minute")
		}
		if until, _, _ := fail(start.Add(time.Minute)); !until.Equal(start.Add(3 * time.Minute)) {
			t.Fatalf("6th failure waits until %v; want two minutes more", until)
		}
		if err := l.forget(ctx, key); err != nil {
			t.Fatal(err)
		}
		if blocked(start.Add(time.Minute)) {
			t.Fatal("a success did not forget the failures")
		}
		// A day without failures forgets them too.
		for range 5 {
			fail(start)
		}
		if _, _, slowed := fail(start.Add(pairMemory)); slowed {
			t.Fatal("failures a day old still count")
		}
	})
}

func TestSprayWatchAlertsOncePerWindowKeepingFewAddresses(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lim := &limits{db: db}
		w := newSprayWatch(lim, 3, time.Hour)
		// Two watches on one database: two replicas, each counting some
		// of the failures.
		other := newSprayWatch(&limits{db: db}, 3, time.Hour)
		now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		fail := func(w *sprayWatch, account, addr string, at time.Time) bool {
			alert, err := w.fail(ctx, account, addr, at)
			if err != nil {
				t.Fatal(err)
			}
			return alert
		}
		for i, addr := range []string{"a", "a", "b", "a", "b"} {
			if fail(w, "staff:1", addr, now) {
				t.Fatalf("alert after failure %d from two addresses", i+1)
			}
		}
		if !fail(other, "staff:1", "c", now) {
			t.Fatal("no alert at the third address, counted on the other replica")
		}
		if fail(w, "staff:1", "d", now) || fail(other, "staff:1", "e", now) || fail(w, "staff:2", "d", now) {
			t.Fatal("a second alert within the window, or one for another account")
		}
		// One account failing from ever more addresses keeps no more of
		// them than the alert needs.
		for i := range 50 {
			fail(w, "staff:1", fmt.Sprintf("203.0.113.%d", i), now)
		}
		if n := rowCount(t, db, "auth_spray"); n > 4 { // 3 of staff:1, 1 of staff:2
			t.Fatalf("%d addresses kept; the alert needs 3 per account", n)
		}
		for _, addr := range []string{"e", "f"} {
			fail(w, "staff:1", addr, now.Add(time.Hour))
		}
		if !fail(w, "staff:1", "g", now.Add(time.Hour)) {
			t.Fatal("no alert in the next window")
		}
		// Rows whose time passed are deleted at the next failure counted
		// after purgeInterval.
		for i := range 20 {
			newAddressLimiter(lim, "addr:", 30, time.Minute).fail(ctx, fmt.Sprintf("198.51.100.%d", i), now.Add(time.Hour))
		}
		newAddressLimiter(lim, "addr:", 30, time.Minute).fail(ctx, "198.51.100.99", now.Add(pairMemory+2*time.Hour))
		if n, s := rowCount(t, db, "auth_limits"), rowCount(t, db, "auth_spray"); n != 1 || s != 0 {
			t.Fatalf("after a day: %d limits and %d spray rows kept; want only the live one", n, s)
		}
	})
}

// Replicas share the limits: failures counted on one replica slow and
// block the same address and name on the other.
func TestALimitHitOnOneReplicaHoldsOnTheOther(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{SlowAfter: 3, AddressLimit: 4})
		other := f.replica()
		ctx := context.Background()
		wrong := func(svc *Service, user string) error {
			_, err := svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: user, Password: "wrong password", Address: "192.0.2.9"})
			return err
		}
		for i := range 2 {
			if err := wrong(f.svc, f.plain.Username); !errors.Is(err, errs.ErrUnauthenticated) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		// The third failure, on the other replica, uses up the pair's
		// allowance: both replicas make the pair wait.
		if err := wrong(other, f.plain.Username); !errors.Is(err, errs.ErrRateLimited) {
			t.Fatalf("third failure on the other replica: %v; want the pair slowed", err)
		}
		for name, svc := range map[string]*Service{"first": f.svc, "other": other} {
			_, err := svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: f.plain.Username, Password: testPassword, Address: "192.0.2.9"})
			if !errors.Is(err, errs.ErrRateLimited) {
				t.Fatalf("the right password on the %s replica while the pair waits: %v; want refused", name, err)
			}
		}
		// The fourth failure from the address, at another account, uses up
		// the address's allowance: it is blocked on both replicas.
		if err := wrong(f.svc, f.cleared.Username); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("fourth failure from the address: %v", err)
		}
		_, err := other.Login(ctx, LoginRequest{Kind: authz.Citizen, Username: f.citizen.Email, Password: testPassword, Address: "192.0.2.9"})
		if !errors.Is(err, errs.ErrRateLimited) {
			t.Fatalf("a blocked address signing in on the other replica: %v; want refused", err)
		}
		// The owner at another address signs in on either.
		if _, err := other.Login(ctx, LoginRequest{Kind: authz.Staff, Username: f.plain.Username, Password: testPassword, Address: "198.51.100.1"}); err != nil {
			t.Fatalf("the owner at another address: %v", err)
		}
	})
}

// A session opened on one replica works on the other and ends on both
// when signed out on either; a TOTP code used on one replica is refused
// on the other. Both live in the database (sessions, credentials'
// totp_last_step), which this pins.
func TestSessionsAndUsedCodesHoldAcrossReplicas(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		other := f.replica()
		ctx := context.Background()
		secret := f.enroll(t, f.cleared)
		code := f.code(t, secret)
		sess, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: f.cleared.Username, Password: testPassword, TOTP: code, Address: "192.0.2.1"})
		if err != nil || sess.Stage != StageFull {
			t.Fatalf("sign-in on the first replica: %q, %v", sess.Stage, err)
		}
		_, err = other.Login(ctx, LoginRequest{Kind: authz.Staff, Username: f.cleared.Username, Password: testPassword, TOTP: code, Address: "192.0.2.2"})
		if !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("the same code on the other replica: %v; want it refused as used", err)
		}
		p, err := other.Authenticate(ctx, sess.Token)
		if err != nil || p.Subject.ID != f.cleared.ID {
			t.Fatalf("the first replica's session on the other: %+v, %v", p.Subject, err)
		}
		if err := other.Logout(ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, sess.Token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("a session signed out on the other replica still works on the first: %v", err)
		}
	})
}
