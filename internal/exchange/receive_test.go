package exchange

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/store"
)

// A receiver that comes back keeps its consumer on the source's stream
// when nothing it was delivered waits for an acknowledgement: making a
// consumer again is a Raft commit on headquarters' cluster, and a whole
// ministry's missions coming back at once made so many that, at load,
// each outran its timeout and the next try deleted what the last made.
// With a delivery outstanding it makes the consumer again, which
// delivers it anew, in order and once.
func TestAReceiverKeepsItsConsumerUnlessADeliveryIsOutstanding(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	port := freePort(t)
	hqBus := hubBus(t, tn.hq.Node, port)
	missionBus := openBus(t, missionBusOptions(t, tn.mission.Node, fmt.Sprintf("nats-leaf://127.0.0.1:%d", port)))
	tn.mission.Attach(missionBus)
	run(t, tn.mission.Node)
	waitFor(t, 15*time.Second, "the leaf link", func() bool {
		l, err := hqBus.LeafLinks()
		return err == nil && len(l) == 1
	})
	// Headquarters' transport, stopped and started again by the test.
	start := func() (stop func()) {
		ctx, cancel := context.WithCancel(testCtx())
		done := make(chan error, 1)
		go func() { done <- tn.hq.Run(ctx) }()
		waitFor(t, 10*time.Second, "headquarters' transport running", func() bool { return tn.hq.transport() != nil })
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	ctx := testCtx()
	sent := 0
	send := func(k int) {
		t.Helper()
		for range k {
			if _, err := tn.mission.Send(ctx, report(fmt.Sprintf(`{"report":%d}`, sent))); err != nil {
				t.Fatalf("mission Send: %v", err)
			}
			sent++
		}
	}
	js, err := jetstream.New(missionBus.Conn())
	if err != nil {
		t.Fatal(err)
	}
	name := consumerName(tn.mission.ID(), tn.hq.ID())
	consumer := func() jetstream.Consumer {
		t.Helper()
		c, err := js.Consumer(ctx, streamName, name)
		if err != nil {
			t.Fatalf("headquarters' consumer on the mission's stream: %v", err)
		}
		return c
	}

	stop := start()
	send(3)
	waitInbox(t, tn.hq.Node, procedures, 3, 20*time.Second)
	// The acknowledgements follow the commit.
	waitFor(t, 10*time.Second, "the deliveries acknowledged", func() bool {
		info, err := consumer().Info(ctx)
		return err == nil && info.NumAckPending == 0
	})
	first := consumer().CachedInfo().Created
	// Nothing outstanding (the loop's pull waiting at the stream is not
	// a delivery): the consumer is the one there.
	tr := tn.hq.transport()
	if tr == nil {
		t.Fatal("headquarters' transport is not running")
	}
	if c, err := tr.consumer(ctx, tn.mission.ID()); err != nil {
		t.Fatalf("consumer: %v", err)
	} else if got := c.CachedInfo().Created; !got.Equal(first) {
		t.Errorf("with nothing outstanding the consumer was made again (created %s, first %s)", got, first)
	}
	stop()

	// A delivery taken and not acknowledged while headquarters was away,
	// as when a pull's answer is lost on the way. (The pull of the loop
	// that stopped may have taken one too.)
	send(2)
	batch, err := consumer().Fetch(1, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for range batch.Messages() {
	}
	if info, err := consumer().Info(ctx); err != nil || info.NumAckPending < 1 {
		t.Fatalf("consumer after a delivery left unacknowledged: %+v, %v; want one outstanding", info, err)
	}
	stop = start()
	defer stop()
	in := waitInbox(t, tn.hq.Node, procedures, 5, 20*time.Second)
	for i, m := range in {
		if want := fmt.Sprintf(`{"report":%d}`, i); string(m.Payload) != want {
			t.Errorf("message %d = %s, want %s", i, m.Payload, want)
		}
	}
	if got := consumer().CachedInfo().Created; got.Equal(first) {
		t.Errorf("with a delivery outstanding the consumer was kept; want it made again")
	}
}

// reusable keeps a consumer only when it is the transport's.
func TestReusableWantsTheTransportsConfiguration(t *testing.T) {
	want := consumerConfig("mission-a", "hq")
	if !reusable(&jetstream.ConsumerInfo{Config: want}, want) {
		t.Errorf("the transport's consumer with nothing outstanding is not reusable")
	}
	for name, info := range map[string]*jetstream.ConsumerInfo{
		"a delivery outstanding": {Config: want, NumAckPending: 1},
		"one to redeliver":       {Config: want, NumRedelivered: 1},
		"another filter":         {Config: consumerConfig("mission-b", "hq")},
		"another ack wait":       {Config: func() jetstream.ConsumerConfig { c := want; c.AckWait = time.Second; return c }()},
	} {
		if reusable(info, want) {
			t.Errorf("%s: reusable, want not", name)
		}
	}
}
