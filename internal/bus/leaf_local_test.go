package bus_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/bus"
	"chancery/internal/store/storetest"
)

// On a hub that runs the missions in its own account (a stock
// nats-server in one account), a mission's local stream and
// headquarters' stream of the same name, each with a consumer of the same
// name, do not take each other's acknowledgements across the leaf link:
// each keeps exactly what it has not acknowledged itself. The exchange's
// stream, which is read across the link, is not held back.
func TestLocalStreamsAcknowledgementsDoNotCrossTheLeafLink(t *testing.T) {
	leafPort := storetest.FreePort(t)
	hubTLS, dial := leafPair(t, "mission-tokyo", new(atomic.Bool))
	sopts := &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, NoLog: true,
		JetStream: true, JetStreamDomain: "hq", StoreDir: t.TempDir()}
	sopts.LeafNode.Host, sopts.LeafNode.Port = "127.0.0.1", leafPort
	sopts.LeafNode.TLSConfig = hubTLS.TLS.Clone()
	stock, err := server.NewServer(sopts)
	if err != nil {
		t.Fatal(err)
	}
	stock.Start()
	t.Cleanup(stock.Shutdown)
	if !stock.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	hq, err := nats.Connect(stock.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hq.Close)
	exchangeAcks, err := hq.SubscribeSync("$JS.ACK.EXCHANGE.>")
	if err != nil {
		t.Fatal(err)
	}
	mission := mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "mission-tokyo", JetStreamDomain: "tokyo",
		LeafRemotes: []string{fmt.Sprintf("nats-leaf://127.0.0.1:%d", leafPort)}, LeafDial: dial, LeafLocalStreams: []string{"LEDGER"}})
	crossAcks(t, hq, mission)

	// The exchange's acknowledgements still cross.
	if err := mission.Conn().Publish("$JS.ACK.EXCHANGE.in-tokyo~hq.1.1.1.1.0", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := exchangeAcks.NextMsg(5 * time.Second); err != nil {
		t.Errorf("the exchange's acknowledgement did not cross the leaf link: %v", err)
	}
}

// Chancery's own hub binds each mission to an account of its own, which
// reaches only what GrantLeaf routes: a mission without the deny list
// takes no acknowledgement of headquarters', nor headquarters one of its.
func TestTheEmbeddedHubKeepsEachNodesAcknowledgementsApart(t *testing.T) {
	hq, leafPort, dial := openHub(t, "mission-tokyo")
	// Only the round trips crossAcks waits on.
	if err := hq.GrantLeaf([]bus.LeafService{{Caller: "mission-tokyo", Provider: bus.HubAccount, Subject: "sync.hq"},
		{Caller: bus.HubAccount, Provider: "mission-tokyo", Subject: "sync.tokyo"}}, nil); err != nil {
		t.Fatal(err)
	}
	mission := mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "mission-tokyo", JetStreamDomain: "tokyo",
		LeafRemotes: []string{fmt.Sprintf("nats-leaf://127.0.0.1:%d", leafPort)}, LeafDial: dial})
	crossAcks(t, hq.Conn(), mission)
}

// crossAcks gives headquarters (hq, a connection to the hub) and the
// mission each a stream LEDGER with a consumer "sentinel", both with
// three messages delivered and not acknowledged; headquarters then
// acknowledges its second and third, the mission its first, and
// headquarters a fourth, in that order across the link. It fails the
// test unless each consumer holds exactly what it has not acknowledged
// itself.
func crossAcks(t *testing.T, hq *nats.Conn, mission *bus.Bus) {
	t.Helper()
	const stream, consumer = "LEDGER", "sentinel"
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	hqJS, err := jetstream.New(hq)
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(c jetstream.Consumer, n int) []jetstream.Msg {
		t.Helper()
		batch, err := c.FetchNoWait(n)
		if err != nil {
			t.Fatal(err)
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) != n {
			t.Fatalf("fetched %d of %d", len(msgs), n)
		}
		return msgs
	}
	pending := func(js jetstream.JetStream, subject string, n int) (jetstream.Consumer, []jetstream.Msg) {
		t.Helper()
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{subject}}); err != nil {
			t.Fatal(err)
		}
		c, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{Durable: consumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			if _, err := js.Publish(ctx, subject, []byte("event")); err != nil {
				t.Fatal(err)
			}
		}
		return c, fetch(c, n)
	}
	hqCons, hqMsgs := pending(hqJS, "hq.ledger", 3)
	tokyoCons, tokyoMsgs := pending(mission.JetStream(), "tokyo.ledger", 3)

	// Each side answers on a subject of its own; once each hears the
	// other, the link is up and each side's interest known to the other
	// (the consumers subscribed before). What a side sends after its
	// acknowledgements arrives after them.
	for _, r := range []struct {
		nc   *nats.Conn
		subj string
	}{{hq, "sync.hq"}, {mission.Conn(), "sync.tokyo"}} {
		if _, err := r.nc.Subscribe(r.subj, func(m *nats.Msg) { m.Respond(nil) }); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip := func(nc *nats.Conn, subj string) {
		t.Helper()
		for {
			if _, err := nc.Request(subj, nil, 200*time.Millisecond); err == nil {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("no answer on %s across the leaf link", subj)
			}
		}
	}
	roundTrip(hq, "sync.tokyo")
	roundTrip(mission.Conn(), "sync.hq")
	ack := func(msgs ...jetstream.Msg) {
		t.Helper()
		for _, m := range msgs {
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	ack(hqMsgs[1:]...)
	roundTrip(hq, "sync.tokyo")
	// The mission's consumer has handled what came before its own
	// acknowledgement once it confirms it; headquarters' likewise.
	ack(tokyoMsgs[0])
	roundTrip(mission.Conn(), "sync.hq")
	if _, err := hqJS.Publish(ctx, "hq.ledger", []byte("event")); err != nil {
		t.Fatal(err)
	}
	ack(fetch(hqCons, 1)...)

	for _, c := range []struct {
		name string
		cons jetstream.Consumer
		want int // what it has not acknowledged itself
	}{{"the mission's", tokyoCons, 2}, {"headquarters'", hqCons, 1}} {
		info, err := c.cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending != c.want {
			t.Errorf("%s consumer has %d messages awaiting acknowledgement, want %d: the other side's acknowledgements crossed the leaf link",
				c.name, info.NumAckPending, c.want)
		}
	}
}

// A local stream's name that is not one subject token is refused: its
// deny entry would hold back other subjects, or none.
func TestOpenRefusesALocalStreamThatIsNotAName(t *testing.T) {
	_, dial := leafPair(t, "mission-tokyo", new(atomic.Bool))
	for _, name := range []string{"", "A.B", "A*", ">", "A B"} {
		_, err := bus.Open(t.Context(), bus.Options{DataDir: t.TempDir(), ServerName: "mission-tokyo",
			LeafRemotes: []string{"nats-leaf://127.0.0.1:1"}, LeafDial: dial, LeafLocalStreams: []string{name}})
		if err == nil || !strings.Contains(err.Error(), "not a stream name") {
			t.Errorf("LeafLocalStreams %q: Open = %v, want a refusal of the name", name, err)
		}
	}
}
