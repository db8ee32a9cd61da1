package bus_test

import (
	"bytes"
	"fmt"
	"log/slog"
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
