package bus_test

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/bus"
)

// TestAnyPortListensOnAFreePortAndLogsIt: AnyPort (--nats-port 0, a
// --leaf-addr port of 0) makes the embedded server listen on a free
// port for clients and for leaf nodes; the log names both ports,
// LeafAddr tells the leaf one, and the leaf listener still admits only
// whom the hub vouches for.
func TestAnyPortListensOnAFreePortAndLogsIt(t *testing.T) {
	var log bytes.Buffer
	var admit, asked atomic.Bool
	admit.Store(true)
	hub, dial := leafPair(t, "mission-any", &admit)
	check := hub.Admit
	hub.Admit = func(n string, nonce, sig []byte) error { asked.Store(true); return check(n, nonce, sig) }
	hq := mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "hq", JetStreamDomain: "hq", Port: bus.AnyPort,
		LeafListenPort: bus.AnyPort, LeafHub: hub, Logger: slog.New(slog.NewTextHandler(&log, nil))})

	leaf := hq.LeafAddr()
	if _, port, err := net.SplitHostPort(leaf); err != nil || port == "0" {
		t.Fatalf("LeafAddr = %q (%v), want the chosen host:port", leaf, err)
	}
	client := strings.TrimPrefix(hq.Conn().ConnectedUrl(), "nats://")
	if _, port, err := net.SplitHostPort(client); err != nil || port == "0" || port == "4222" {
		t.Fatalf("client URL %q, want a chosen port", client)
	}
	if c, err := net.DialTimeout("tcp", client, 2*time.Second); err != nil {
		t.Fatalf("the chosen client port does not answer: %v", err)
	} else {
		c.Close()
	}
	if got := log.String(); !strings.Contains(got, "leaf_listen="+leaf) || !strings.Contains(got, "listen=nats://"+client) {
		t.Errorf("the start-up log does not name the chosen ports %s and %s:\n%s", leaf, client, got)
	}

	mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "mission-any", JetStreamDomain: "any",
		LeafRemotes: []string{"nats-leaf://" + leaf}, LeafDial: dial})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		links, err := hq.LeafLinks()
		if err != nil {
			t.Fatal(err)
		}
		if len(links) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the mission did not link to the leaf port chosen")
		}
	}
	if !asked.Load() {
		t.Fatal("the leaf listener on a chosen port admitted a leaf node without the hub's admission check")
	}
}

// TestBusyLeafPortNamesTheLeafFlag: a leaf port another program holds
// fails the start at once, with an error that names --leaf-addr (not
// --nats-port, which is not the one to change).
func TestBusyLeafPortNamesTheLeafFlag(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var admit atomic.Bool
	hub, _ := leafPair(t, "mission-busy", &admit)
	b, err := bus.Open(t.Context(), bus.Options{DataDir: t.TempDir(), LeafListenPort: l.Addr().(*net.TCPAddr).Port, LeafHub: hub, Logger: testLogger(t)})
	if err == nil {
		b.Close()
		t.Fatal("Open on a busy leaf port succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "--leaf-addr") || strings.Contains(msg, "--nats-port") {
		t.Errorf("error %q, want it to name --leaf-addr only", msg)
	}
	t.Log(err)
}
