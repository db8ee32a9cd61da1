package bus_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"chancery/internal/bus"
	"chancery/internal/store/storetest"
)

// lockedBuffer is a log sink that the test reads while the bus writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// A mission whose leaf link stays down dials its hub anew every
// LeafRedialAfter (a reload that disables its remotes and enables them
// again), and the link that comes up afterwards carries traffic: the
// watchdog against a leaf that stopped reconnecting (nats-server issue
// 7615) neither errs nor breaks the remote.
func TestALeafLinkDownForLongIsDialledAnew(t *testing.T) {
	leafPort := storetest.FreePort(t)
	admit := new(atomic.Bool)
	admit.Store(true)
	hub, dial := leafPair(t, "mission-tokyo", admit)
	logs := new(lockedBuffer)
	mission := mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "mission-tokyo", JetStreamDomain: "tokyo",
		LeafRemotes: []string{fmt.Sprintf("nats-leaf://127.0.0.1:%d", leafPort)}, LeafDial: dial, LeafRedialAfter: time.Second,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	const redial = "dialling the hub again"
	deadline := time.Now().Add(20 * time.Second)
	for logs.count(redial) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the mission did not dial its hub anew twice while the link was down:\n%s", logs.b.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := logs.count("dial the hub again"); n > 0 {
		t.Fatalf("dialling anew failed %d times:\n%s", n, logs.b.String())
	}

	hq := mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "hq", JetStreamDomain: "hq", LeafListenPort: leafPort, LeafHub: hub})
	if err := hq.GrantLeaf([]bus.LeafService{{Caller: "mission-tokyo", Provider: bus.HubAccount, Subject: "sync.hq"},
		{Caller: bus.HubAccount, Provider: "mission-tokyo", Subject: "sync.tokyo"}}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mission's log:\n%s", logs.b.String())
		}
	})
	if _, err := mission.Conn().Subscribe("sync.tokyo", func(m *nats.Msg) { m.Respond([]byte("tokyo")) }); err != nil {
		t.Fatal(err)
	}
	for answered := false; !answered; {
		if time.Now().After(deadline.Add(20 * time.Second)) {
			t.Fatal("no answer from the mission across the leaf link after it was dialled anew")
		}
		m, err := hq.Conn().Request("sync.tokyo", nil, 200*time.Millisecond)
		answered = err == nil && string(m.Data) == "tokyo"
	}
	links, err := mission.LeafLinks()
	if err != nil || len(links) != 1 || !links[0].ToHub {
		t.Fatalf("mission's leaf links = %+v, %v; want one to the hub", links, err)
	}
	// Up, it is left alone.
	before := logs.count(redial)
	time.Sleep(2500 * time.Millisecond)
	if after := logs.count(redial); after != before {
		t.Errorf("the mission dialled its hub anew %d times while the link was up", after-before)
	}
}

// A mission on a slow link joins its hub: with the hub's bytes queued
// 1.3 s on the way down and the mission's 0.3 s on the way up (a
// congested satellite downlink), the hub's first INFO comes later than
// nats-server's default 1 s wait for it, and a dial cut short begins
// again from scratch and never ends. (The round trip must stay under
// 2 s: a leaf waits that long, fixed in nats-server, for the hub's answer
// to its CONNECT.)
func TestAMissionOnASlowLinkJoinsItsHub(t *testing.T) {
	hq, hubPort, dial := openHub(t, "mission-kabul")
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
	return listenLocal(t, func(c net.Conn) {
		hub, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			return
		}
		go delayed(hub, c, up)
		go delayed(c, hub, down)
	})
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
