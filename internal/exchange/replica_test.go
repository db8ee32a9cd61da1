package exchange

import (
	"context"
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
		})
	}
}
