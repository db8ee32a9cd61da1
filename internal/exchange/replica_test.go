package exchange

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/bus"
	"chancery/internal/store"
)

// A configuration published by one headquarters replica reaches another
// replica on the same database and NATS server within seconds, through
// the bus, not at its next refresh.
func TestAConfigurationPublishedOnOneReplicaReachesTheOther(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			if d == store.Postgres && testing.Short() {
				t.Skip("short")
			}
			tn := newTestNet(t, d)
			first := openBus(t, bus.Options{ServerName: "hq", JetStreamDomain: tn.hq.Domain(), Port: bus.AnyPort})
			tn.hq.Attach(first)
			// The second replica: its own process state (node, ledger and
			// bus connection) on the first's database and NATS server.
			ctx := context.Background()
			ledger, err := audit.New(ctx, tn.hq.db, tn.hq.ring, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ledger.Close() })
			second, err := OpenNode(ctx, tn.hq.db, tn.hq.ring, ledger, NodeOptions{Role: RoleHQ, ID: "hq", Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			second.Attach(openBus(t, bus.Options{URL: first.Conn().ConnectedUrl(), JetStreamDomain: tn.hq.Domain()}))
			run(t, tn.hq.Node)
			run(t, second)
			held := func(n *Node) uint64 {
				c, err := n.Conf()
				if err != nil {
					t.Fatal(err)
				}
				return c.Serial
			}
			before := held(second)
			tn.conf.Serial++
			tn.conf.Issued = time.Now().UTC()
			if err := tn.conf.Build(); err != nil {
				t.Fatal(err)
			}
			signed, err := SignConf(tn.conf, tn.hq.ring.Signer())
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := tn.hq.PublishConf(ctx, signed); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 15*time.Second, "the other replica taking up the configuration", func() bool { return held(second) == tn.conf.Serial })
			t.Logf("serial %d → %d on the other replica in %v", before, tn.conf.Serial, time.Since(start))

			// A configuration whose publication the other replica missed
			// (installed, never published) reaches it from the database.
			tn.conf.Serial++
			tn.conf.Issued = time.Now().UTC()
			if err := tn.conf.Build(); err != nil {
				t.Fatal(err)
			}
			if signed, err = SignConf(tn.conf, tn.hq.ring.Signer()); err != nil {
				t.Fatal(err)
			}
			if err := tn.hq.Install(ctx, signed); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 3*confFollow, "the other replica taking up an unpublished configuration", func() bool { return held(second) == tn.conf.Serial })
		})
	}
}

// Two headquarters replicas on one database and one NATS server receive
// a mission's messages under a per-source lease (ReceiveLease): while
// the mission sends, the replica receiving loses its database, and later
// the one that took over is killed (its lease is never released). After
// each, the other replica takes the source over, and headquarters' inbox
// holds every message once, in the order sent.
func TestReplicasReceiveEachSenderInOrderAcrossFailovers(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { testReplicaFailover(t, d) })
	}
}

func testReplicaFailover(t *testing.T, d store.Dialect) {
	// Under the race detector SQLite's renewals come late: a longer lease.
	ttl := 1500 * time.Millisecond
	if raceEnabled {
		ttl = 4 * time.Second
	}
	tn := newTestNet(t, d)
	leafPort := freePort(t)
	// The NATS server the replicas share, with the missions' leaf listener.
	leafHub, err := tn.hq.LeafHub(LeafTLSFiles{})
	if err != nil {
		t.Fatal(err)
	}
	hub := openBus(t, bus.Options{ServerName: "hq", JetStreamDomain: tn.hq.Domain(), Port: bus.AnyPort, LeafListenPort: leafPort, LeafHub: leafHub})
	tn.hq.Attach(hub) // routes the missions' subjects; its transport does not run
	mb := openBus(t, missionBusOptions(t, tn.mission.Node, fmt.Sprintf("nats-leaf://127.0.0.1:%d", leafPort)))
	tn.mission.Attach(mb)
	run(t, tn.mission.Node)
	waitFor(t, 15*time.Second, "the leaf link", func() bool {
		l, err := hub.LeafLinks()
		return err == nil && len(l) == 1
	})
	// holder is the replica holding the mission's lease and its fence.
	holder := func() string {
		var h string
		var fence int64
		tn.hq.db.QueryRow(tn.hq.db.Rebind(`SELECT holder, fence FROM leases WHERE name = ? AND expires_us > ?`),
			receiveLeaseName(tn.mission.ID()), time.Now().UnixMicro()).Scan(&h, &fence) //nolint:errcheck // none yet reads as ""
		if h == "" {
			return ""
		}
		return fmt.Sprintf("%s#%d", h, fence)
	}
	a := startReplica(t, tn, hub, ttl)
	waitFor(t, 15*time.Second, "the first replica holding the mission's lease", func() bool { return holder() != "" })
	b := startReplica(t, tn, hub, ttl)

	// The mission sends without pause, numbering its reports.
	ctx := testCtx()
	stop := make(chan struct{})
	sent := make([][]string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			id, err := tn.mission.Send(ctx, report(fmt.Sprintf("g0-%d", i)))
			if err != nil {
				t.Errorf("send: %v", err)
				return
			}
			sent[0] = append(sent[0], id)
		}
	}()
	delivered := func() int { return len(wholeInbox(t, tn.hq.Node, procedures)) }
	replicas := []*hqReplica{a, b}
	// failover strikes the replica receiving (the lease may change hands
	// by itself on a loaded machine, when a renewal comes late) and
	// returns it once another receives. Meanwhile the standby received
	// nothing: one replica at a time pulls a source.
	failover := func(what string, strike func(*hqReplica)) *hqReplica {
		from, held := delivered(), holder()
		counts := []int{replicas[0].received(), replicas[1].received()}
		waitFor(t, 30*time.Second, "messages flowing before "+what, func() bool { return delivered() >= from+40 })
		// A renewal that came late leaves the lease expired a moment
		// before a replica takes it again.
		var before string
		waitFor(t, 30*time.Second, "a replica holding the mission's lease before "+what, func() bool { before = holder(); return before != "" })
		at := time.Now()
		active, standby := -1, -1
		for i, r := range replicas {
			if strings.HasPrefix(before, r.holder+"#") {
				active, standby = i, 1-i
			}
		}
		if active < 0 {
			t.Fatalf("before %s, no replica of the test holds the mission's lease (%q)", what, before)
		}
		if k := replicas[standby].received() - counts[standby]; k != 0 && before == held {
			t.Errorf("before %s, the standby replica received %d messages while the other held the lease", what, k)
		}
		strike(replicas[active])
		n := delivered() // nothing more comes from the replica struck
		waitFor(t, 30*time.Second, "another replica receiving after "+what, func() bool {
			h := holder()
			return h != "" && h != before && delivered() > n+20
		})
		t.Logf("%s: another replica received again within %v (lease %v)", what, time.Since(at).Round(10*time.Millisecond), ttl)
		struck := replicas[active]
		replicas = []*hqReplica{replicas[standby], nil}
		return struck
	}
	failover("the receiving replica losing its database", (*hqReplica).loseDatabase).kill()
	replicas[1] = startReplica(t, tn, hub, ttl) // restarted
	failover("kill -9 of the receiving replica", (*hqReplica).kill)
	close(stop)
	<-done
	if t.Failed() {
		t.FailNow()
	}
	in := waitInbox(t, tn.hq.Node, procedures, len(sent[0]), time.Minute)
	checkExactlyOnceInOrder(t, in, sent)
}

// hqReplica is a headquarters replica of the test's own: its node,
// database handle and bus connection, on the test network's headquarters
// database and NATS server.
type hqReplica struct {
	node   *Node
	holder string // its name in the leases it holds
	db     *store.DB
	bus    *bus.Bus
	stop   func()
}

// startReplica starts a replica receiving under leases of ttl.
func startReplica(t *testing.T, tn *testNet, hub *bus.Bus, ttl time.Duration) *hqReplica {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, tn.hq.db.Location, "")
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := audit.New(ctx, db, tn.hq.ring, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := OpenNode(ctx, db, tn.hq.ring, ledger, NodeOptions{Role: RoleHQ, ID: "hq", Logger: quietLogger(), ReceiveLease: ttl})
	if err != nil {
		t.Fatal(err)
	}
	b := openBus(t, bus.Options{URL: hub.Conn().ConnectedUrl(), JetStreamDomain: tn.hq.Domain()})
	n.Attach(b)
	rctx, cancel := context.WithCancel(testCtx())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		n.Run(rctx) //nolint:errcheck // a replica killed under it may fail as it likes
	}()
	waitFor(t, 10*time.Second, "the replica's transport running", func() bool { return n.transport() != nil })
	r := &hqReplica{node: n, db: db, bus: b, holder: n.transport().leases.Holder()}
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			<-ran
			ledger.Close()
			db.Close()
		})
	}
	t.Cleanup(r.stop)
	return r
}

// received is how many of the mission's reports this replica delivered.
func (r *hqReplica) received() int {
	for _, s := range r.node.metrics.Stats() {
		if s.Service == reportSvc.String() {
			return int(s.Delivered)
		}
	}
	return 0
}

// loseDatabase cuts the replica off its database; it goes on running.
func (r *hqReplica) loseDatabase() { r.db.Close() }

// kill stops the replica as kill -9 would: its database and bus go first,
// so it releases nothing.
func (r *hqReplica) kill() {
	r.db.Close()
	r.bus.Close()
	r.stop()
}
