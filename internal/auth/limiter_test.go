package auth

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAddressLimiterBlocksAfterTheLimitUntilTheWindowEnds(t *testing.T) {
	l := newAddressLimiter(3, 15*time.Minute, 100)
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for i := range 3 {
		if _, blocked := l.blocked("192.0.2.1", start); blocked {
			t.Fatalf("blocked after %d failures; the limit is 3", i)
		}
		l.fail("192.0.2.1", start.Add(time.Duration(i)*time.Minute))
	}
	until, blocked := l.blocked("192.0.2.1", start.Add(5*time.Minute))
	if !blocked || !until.Equal(start.Add(15*time.Minute)) {
		t.Fatalf("after 3 failures: blocked %v until %v; want blocked until the window's end", blocked, until)
	}
	if _, blocked := l.blocked("192.0.2.2", start); blocked {
		t.Fatal("another address is blocked too")
	}
	if _, blocked := l.blocked("192.0.2.1", start.Add(15*time.Minute)); blocked {
		t.Fatal("still blocked after the window ended")
	}
	l.fail("192.0.2.1", start.Add(16*time.Minute))
	if _, blocked := l.blocked("192.0.2.1", start.Add(16*time.Minute)); blocked {
		t.Fatal("a new window starts with the old failures counted")
	}
}

func TestAddressLimiterIgnoresAnEmptyAddress(t *testing.T) {
	l := newAddressLimiter(1, time.Minute, 10)
	now := time.Now()
	l.fail("", now)
	l.fail("", now)
	if _, blocked := l.blocked("", now); blocked || len(l.windows.m) != 0 {
		t.Fatalf("empty address: blocked %v, %d windows kept", blocked, len(l.windows.m))
	}
}

func TestAddressLimiterMemoryIsBounded(t *testing.T) {
	l := newAddressLimiter(5, time.Minute, 50)
	now := time.Now()
	for i := range 1000 {
		l.fail(fmt.Sprintf("198.51.100.%d:%d", i%256, i), now)
		if len(l.windows.m) > 50 {
			t.Fatalf("%d addresses remembered; the bound is 50", len(l.windows.m))
		}
	}
	// Ended windows go first, so live ones survive a flood of new ones.
	l = newAddressLimiter(2, time.Minute, 3)
	l.fail("a", now)
	l.fail("b", now)
	l.fail("live", now.Add(2*time.Minute))
	l.fail("live", now.Add(2*time.Minute))
	l.fail("new", now.Add(2*time.Minute))
	if _, blocked := l.blocked("live", now.Add(2*time.Minute)); !blocked {
		t.Fatal("a live window was evicted while ended ones were kept")
	}
}

func TestPairLimiterWaitsLongerAndLongerUpToAQuarterHour(t *testing.T) {
	l := newPairLimiter(5, time.Minute, 15*time.Minute, 100)
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
	for i := 1; i < 5; i++ {
		if _, _, slowed := l.fail(key, start); slowed {
			t.Fatalf("slowed after %d failures; the allowance is 5", i)
		}
	}
	if until, n, slowed := l.fail(key, start); !slowed || n != 5 || !until.Equal(start.Add(time.Minute)) {
		t.Fatalf("5th failure: slowed %v (%d) until %v; want a minute", slowed, n, until)
	}
	if _, blocked := l.blocked(key, start.Add(time.Minute-time.Second)); !blocked {
		t.Fatal("not waiting within the minute")
	}
	if _, blocked := l.blocked(key, start.Add(time.Minute)); blocked {
		t.Fatal("still waiting after the minute")
	}
	if until, _, _ := l.fail(key, start.Add(time.Minute)); !until.Equal(start.Add(3 * time.Minute)) {
		t.Fatalf("6th failure waits until %v; want two minutes more", until)
	}
	l.forget(key)
	if _, blocked := l.blocked(key, start.Add(time.Minute)); blocked {
		t.Fatal("a success did not forget the failures")
	}
	// A day without failures forgets them too.
	for range 5 {
		l.fail(key, start)
	}
	if _, _, slowed := l.fail(key, start.Add(pairMemory)); slowed {
		t.Fatal("failures a day old still count")
	}
}

func TestLimitersMemoryIsBounded(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	pairs := newPairLimiter(5, time.Minute, 15*time.Minute, 50)
	spray := newSprayWatch(3, time.Hour, 50)
	for i := range 1000 {
		// A name as long as a body may carry costs no more than a short one.
		name := fmt.Sprintf("%d", i) + strings.Repeat("x", 10_000)
		pairs.fail(pairKey("staff", name, "198.51.100.1"), now)
		spray.fail(fmt.Sprintf("staff:%d", i), fmt.Sprintf("198.51.100.%d", i%256), now)
		if len(pairs.pairs.m) > 50 || len(spray.accounts.m) > 50 {
			t.Fatalf("%d pairs and %d accounts remembered; the bound is 50", len(pairs.pairs.m), len(spray.accounts.m))
		}
	}
	for k := range pairs.pairs.m {
		if len(k) != sha256.Size {
			t.Fatalf("a pair's key holds %d bytes; want a digest", len(k))
		}
	}
	// One account failing from ever more addresses keeps no more of them
	// than the alert needs.
	for i := range 1000 {
		spray.fail("staff:1", fmt.Sprintf("203.0.113.%d:%d", i%256, i), now)
	}
	if n := len(spray.accounts.m["staff:1"].addrs); n > 3 {
		t.Fatalf("%d addresses kept for one account; the alert needs 3", n)
	}
}

func TestSprayWatchAlertsOncePerWindow(t *testing.T) {
	w := newSprayWatch(3, time.Hour, 100)
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for i, addr := range []string{"a", "a", "b", "a", "b"} {
		if w.fail("staff:1", addr, now) {
			t.Fatalf("alert after failure %d from two addresses", i+1)
		}
	}
	if !w.fail("staff:1", "c", now) {
		t.Fatal("no alert at the third address")
	}
	if w.fail("staff:1", "d", now) || w.fail("staff:2", "d", now) {
		t.Fatal("a second alert within the window, or one for another account")
	}
	for _, addr := range []string{"e", "f"} {
		w.fail("staff:1", addr, now.Add(time.Hour))
	}
	if !w.fail("staff:1", "g", now.Add(time.Hour)) {
		t.Fatal("no alert in the next window")
	}
}
