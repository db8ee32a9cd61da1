package exchange

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/bus"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// freePort returns a TCP port on 127.0.0.1 that nothing listens on.
func freePort(tb testing.TB) int { return storetest.FreePort(tb) }

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// openBus opens an embedded bus and closes it when the test ends.
func openBus(tb testing.TB, opts bus.Options) *bus.Bus {
	tb.Helper()
	if opts.DataDir == "" {
		opts.DataDir = tb.TempDir()
	}
	opts.Logger = quietLogger()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, opts)
	if err != nil {
		tb.Fatalf("bus.Open: %v", err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

// hubBus opens headquarters' bus with a leaf listener on port, secured
// as the application secures it (LeafHub), and attaches it to hq.
func hubBus(tb testing.TB, hq *Node, port int) *bus.Bus {
	tb.Helper()
	hub, err := hq.LeafHub(LeafTLSFiles{})
	if err != nil {
		tb.Fatalf("LeafHub: %v", err)
	}
	b := openBus(tb, bus.Options{ServerName: hq.ID(), JetStreamDomain: hq.Domain(), LeafListenPort: port, LeafHub: hub})
	hq.Attach(b)
	return b
}

// missionBusOptions are the bus options of a mission node joining the
// hub at url, secured as the application secures them (LeafDial).
func missionBusOptions(tb testing.TB, m *Node, url string) bus.Options {
	tb.Helper()
	dial, err := m.LeafDial(LeafTLSFiles{})
	if err != nil {
		tb.Fatalf("LeafDial: %v", err)
	}
	return bus.Options{ServerName: m.ID(), JetStreamDomain: m.Domain(), LeafRemotes: []string{url}, LeafDial: dial}
}

// run runs n's transport until the test ends.
func run(tb testing.TB, n *Node) {
	tb.Helper()
	ctx, cancel := context.WithCancel(testCtx())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Run(%s): %v", n.ID(), err)
		}
	})
	waitFor(tb, 10*time.Second, "transport of "+n.ID()+" running", func() bool { return n.transport() != nil })
}

// waitFor polls cond until it holds or the time is up.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// linkedNet is the test network on real buses: headquarters' server
// with a leaf listener, the mission's joining it (through leafAddr, which
// a test may point at a proxy).
type linkedNet struct {
	*testNet
	hqBus, missionBus *bus.Bus
	leafPort          int
}

func newLinkedNet(tb testing.TB, d store.Dialect, leafAddr func(port int) string) *linkedNet {
	tb.Helper()
	ln := &linkedNet{testNet: newTestNet(tb, d), leafPort: freePort(tb)}
	ln.hqBus = hubBus(tb, ln.hq.Node, ln.leafPort)
	addr := fmt.Sprintf("127.0.0.1:%d", ln.leafPort)
	if leafAddr != nil {
		addr = leafAddr(ln.leafPort)
	}
	ln.missionBus = openBus(tb, missionBusOptions(tb, ln.mission.Node, "nats-leaf://"+addr))
	ln.mission.Attach(ln.missionBus)
	run(tb, ln.hq.Node)
	run(tb, ln.mission.Node)
	return ln
}

// waitLinked waits until the mission's leaf link to headquarters is up.
func (ln *linkedNet) waitLinked(tb testing.TB) {
	tb.Helper()
	waitFor(tb, 15*time.Second, "the leaf link", func() bool {
		l, err := ln.hqBus.LeafLinks()
		return err == nil && len(l) == 1
	})
}

func report(payload string) Outgoing {
	return Outgoing{From: consular, To: reportSvc, Level: authz.Confidential, ContentType: "application/json", Payload: []byte(payload)}
}

func notice(payload string) Outgoing {
	return Outgoing{From: procedures, To: noticeSvc, Level: authz.Confidential, ContentType: "text/plain", Payload: []byte(payload)}
}

// wholeInbox reads client's whole inbox on n, page by page.
func wholeInbox(tb testing.TB, n *Node, client ClientID) []Delivered {
	tb.Helper()
	var all []Delivered
	for after := int64(0); ; {
		page, err := n.Inbox(testCtx(), client, after, MaxInboxPage)
		if err != nil {
			tb.Fatalf("Inbox: %v", err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
}

// waitInbox waits until client's inbox holds want messages, and returns
// them.
func waitInbox(tb testing.TB, n *Node, client ClientID, want int, within time.Duration) []Delivered {
	tb.Helper()
	var got []Delivered
	waitFor(tb, within, fmt.Sprintf("%d messages in the inbox of %s", want, client), func() bool {
		got = wholeInbox(tb, n, client)
		return len(got) >= want
	})
	if len(got) != want {
		tb.Fatalf("inbox of %s holds %d messages, want %d", client, len(got), want)
	}
	return got
}

func TestMessagesCrossTheLeafLinkBothWaysAndAreAcknowledged(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { testRoundTrip(t, d) })
	}
}

func testRoundTrip(t *testing.T, d store.Dialect) {
	{
		ln := newLinkedNet(t, d, nil)
		ln.waitLinked(t)
		ctx := testCtx()
		up, err := ln.mission.Send(ctx, report(`{"report":1}`))
		if err != nil {
			t.Fatalf("mission Send: %v", err)
		}
		down, err := ln.hq.Send(ctx, notice("hello mission"))
		if err != nil {
			t.Fatalf("hq Send: %v", err)
		}
		in := waitInbox(t, ln.hq.Node, procedures, 1, 20*time.Second)
		if in[0].ID != up || string(in[0].Payload) != `{"report":1}` || in[0].Sender != consular || in[0].Service != reportSvc ||
			in[0].Level != authz.Confidential || in[0].ContentType != "application/json" {
			t.Errorf("headquarters got %+v, want message %s from %s", in[0], up, consular)
		}
		out := waitInbox(t, ln.mission.Node, consular, 1, 20*time.Second)
		if out[0].ID != down || string(out[0].Payload) != "hello mission" {
			t.Errorf("mission got %+v, want message %s", out[0], down)
		}
		if k, err := ln.hq.Ack(ctx, procedures, up); err != nil || k != 1 {
			t.Fatalf("Ack = %d, %v; want 1", k, err)
		}
		if k, err := ln.hq.Ack(ctx, procedures, up); err != nil || k != 0 {
			t.Errorf("second Ack = %d, %v; want 0", k, err)
		}
		if got, _ := ln.hq.Inbox(ctx, procedures, 0, 10); len(got) != 0 {
			t.Errorf("inbox after Ack = %d messages, want 0", len(got))
		}
		// Both ends logged the message and can prove it.
		for _, c := range []struct {
			n   *Node
			dir string
		}{{ln.mission.Node, "out"}, {ln.hq.Node, "in"}} {
			waitFor(t, 10*time.Second, "the log signed", func() bool {
				p, err := c.n.Proof(ctx, c.dir, TypeMessage, up)
				return err == nil && p.Log != nil && p.Origin != nil
			})
		}
	}
}

func TestSendRefusesWhatTheConfigurationDoesNotAllow(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	b := openBus(t, bus.Options{ServerName: "mission-h01", JetStreamDomain: "mission-h01"})
	tn.mission.Attach(b)
	run(t, tn.mission.Node)
	big := bytes.Repeat([]byte("x"), int(tn.conf.MaxMessageBytes)+1)
	for _, c := range []struct {
		name string
		m    Outgoing
		want Reason
	}{
		{"unknown service", Outgoing{From: consular, To: ServiceID{ClientID: procedures, Service: "nope"}, Payload: []byte("x")}, ReasonUnknownService},
		{"synchronous service", Outgoing{From: consular, To: lookupSvc, Payload: []byte("x")}, ReasonUnknownService},
		{"sender on another node", Outgoing{From: procedures, To: reportSvc, Payload: []byte("x")}, ReasonSpoofedSender},
		{"no right", Outgoing{From: consular, To: noticeSvc, Payload: []byte("x")}, ReasonNoRight},
		{"above the service's level", Outgoing{From: consular, To: reportSvc, Level: authz.TopSecret, Payload: []byte("x")}, ReasonClearance},
		{"too large", Outgoing{From: consular, To: reportSvc, Payload: big}, ReasonTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tn.mission.Send(testCtx(), c.m)
			var re *RefusedError
			if !errors.As(err, &re) || re.Reason != c.want {
				t.Fatalf("Send = %v, want a %s refusal", err, c.want)
			}
		})
	}
	var n int
	if err := tn.mission.db.QueryRow(`SELECT COUNT(*) FROM exchange_log`).Scan(&n); err != nil || n != 0 {
		t.Errorf("log rows after refusals = %d, %v; want 0", n, err)
	}
	// Above the provider subsystem's clearance, though within the
	// service's maximum.
	tn.publish(t, func(c *GlobalConf) { c.Subsystems[0].Clearance = authz.Unclassified })
	if _, err := tn.mission.Send(testCtx(), report("x")); !errors.Is(err, ErrRefused) {
		t.Errorf("Send above the provider's clearance = %v, want a refusal", err)
	}
}
