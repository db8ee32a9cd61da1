package bus_test

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"chancery/internal/bus"
	"chancery/internal/store/storetest"
)

// A mission on a slow link joins its hub: with the hub's bytes queued
// 1.3 s on the way down and the mission's 0.3 s on the way up (a
// congested satellite downlink), the hub's first INFO comes later than
// nats-server's default 1 s wait for it, and a dial cut short begins
// again from scratch and never ends. (The round trip must stay under
// 2 s: a leaf waits that long, fixed in nats-server, for the hub's answer
// to its CONNECT.)
func TestAMissionOnASlowLinkJoinsItsHub(t *testing.T) {
	hubPort := storetest.FreePort(t)
	var admit atomic.Bool
	admit.Store(true)
	hub, dial := leafPair(t, "mission-kabul", &admit)
	hq := mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "hq", JetStreamDomain: "hq", LeafListenPort: hubPort, LeafHub: hub})
	if err := hq.GrantLeaf([]bus.LeafService{{Caller: bus.HubAccount, Provider: "mission-kabul", Subject: "sync.kabul"}}, nil); err != nil {
		t.Fatal(err)
	}
	link := slowLink(t, fmt.Sprintf("127.0.0.1:%d", hubPort), 300*time.Millisecond, 1300*time.Millisecond)
	mission := mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "mission-kabul", JetStreamDomain: "kabul",
		LeafRemotes: []string{"nats-leaf://" + link}, LeafDial: dial})
	if _, err := mission.Conn().Subscribe("sync.kabul", func(m *nats.Msg) { m.Respond([]byte("kabul")) }); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(45 * time.Second); ; {
		if m, err := hq.Conn().Request("sync.kabul", nil, 6*time.Second); err == nil && string(m.Data) == "kabul" {
			return
		}
		if time.Now().After(deadline) {
			links, _ := mission.LeafLinks()
			t.Fatalf("no answer across a link of 1.6 s round trip within 45 s; the mission's leaf links: %+v", links)
		}
	}
}

// slowLink listens on 127.0.0.1 and relays each connection to target,
// what goes up to it delayed by up and what comes down by down (bytes
// keep their order), and returns its address.
func slowLink(t *testing.T, target string, up, down time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			hub, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go delayed(hub, c, up)
			go delayed(c, hub, down)
		}
	}()
	return l.Addr().String()
}

// delayed copies src to dst, each read written d after it was read; it
// closes both when either ends.
func delayed(dst, src net.Conn, d time.Duration) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			b := make([]byte, 32<<10)
			n, err := src.Read(b)
			if n > 0 {
				q <- chunk{b[:n], time.Now().Add(d)}
			}
			if err != nil {
				return
			}
		}
	}()
	defer dst.Close()
	defer src.Close()
	for c := range q {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			return
		}
	}
}
