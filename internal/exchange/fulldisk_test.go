package exchange

import (
	"context"
	"fmt"
	"testing"
	"time"

	"chancery/internal/bus"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestDeliveryResumesWhenAFullDiskUnderTheBusIsFreed fills the disk that
// holds headquarters' JetStream store while it sends to a mission, then
// frees it. Before the bus recovered its store, nats-server's critical
// write error stopped every later publication for good: none of the
// messages sent meanwhile arrived until the process restarted. Now the
// sends do not wait on the broken store, and all of them arrive, in
// order (a failed publication no longer lets later ones overtake it),
// without a restart.
func TestDeliveryResumesWhenAFullDiskUnderTheBusIsFreed(t *testing.T) {
	const during = 23
	tn := newTestNet(t, store.SQLite)
	dir := storetest.SmallDisk(t, 16<<20)
	port := freePort(t)
	hub, err := tn.hq.LeafHub(LeafTLSFiles{})
	if err != nil {
		t.Fatal(err)
	}
	hqBus := openBus(t, bus.Options{DataDir: dir, ServerName: tn.hq.ID(), JetStreamDomain: tn.hq.Domain(), LeafListenPort: port, LeafHub: hub})
	tn.hq.Attach(hqBus)
	tn.mission.Attach(openBus(t, missionBusOptions(t, tn.mission.Node, fmt.Sprintf("nats-leaf://127.0.0.1:%d", port))))
	run(t, tn.hq.Node)
	run(t, tn.mission.Node)
	ln := &linkedNet{testNet: tn, hqBus: hqBus}
	ln.waitLinked(t)

	ctx := testCtx()
	send := func(i int) string {
		id, err := tn.hq.Send(ctx, notice(fmt.Sprintf("notice %d", i)))
		if err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
		return id
	}
	ids := []string{send(0)}
	waitInbox(t, tn.mission.Node, consular, 1, 20*time.Second)

	free := storetest.FillDisk(t, dir)
	for i := 1; i <= during; i++ {
		ids = append(ids, send(i))
	}
	waitFor(t, 15*time.Second, "the bus to report that it cannot store", func() bool {
		return hqBus.Ready(context.Background()) != nil
	})
	time.Sleep(2 * time.Second) // the publisher keeps failing meanwhile

	free()
	freed := time.Now()
	got := waitInbox(t, tn.mission.Node, consular, 1+during, 90*time.Second)
	t.Logf("all %d messages sent while the disk was full arrived %s after it was freed", during, time.Since(freed).Round(time.Millisecond))
	for i, d := range got {
		if d.ID != ids[i] || string(d.Payload) != fmt.Sprintf("notice %d", i) {
			t.Fatalf("message %d is %s %q, want %s %q (in order, each once)", i, d.ID, d.Payload, ids[i], fmt.Sprintf("notice %d", i))
		}
	}
}
