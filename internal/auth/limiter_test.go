package auth

import (
	"fmt"
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
	if _, blocked := l.blocked("", now); blocked || len(l.windows) != 0 {
		t.Fatalf("empty address: blocked %v, %d windows kept", blocked, len(l.windows))
	}
}

func TestAddressLimiterMemoryIsBounded(t *testing.T) {
	l := newAddressLimiter(5, time.Minute, 50)
	now := time.Now()
	for i := range 1000 {
		l.fail(fmt.Sprintf("198.51.100.%d:%d", i%256, i), now)
		if len(l.windows) > 50 {
			t.Fatalf("%d addresses remembered; the bound is 50", len(l.windows))
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
