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
	const stream, consumer = "LEDGER", "sentinel"
	leafPort := storetest.FreePort(t)
	var admit atomic.Bool
	hubTLS, dial := leafPair(t, "mission-tokyo", &admit)
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
	mission := mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "mission-tokyo", JetStreamDomain: "tokyo",
		LeafRemotes: []string{fmt.Sprintf("nats-leaf://127.0.0.1:%d", leafPort)}, LeafDial: dial, LeafLocalStreams: []string{stream}})

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	hqJS, err := jetstream.New(hq)
	if err != nil {
		t.Fatal(err)
	}
	// Three messages on each side, delivered to its consumer and not
	// yet acknowledged.
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
		return c, msgs
	}
	hqCons, hqMsgs := pending(hqJS, "hq.ledger", 3)
	tokyoCons, tokyoMsgs := pending(mission.JetStream(), "tokyo.ledger", 3)

	// Each side answers on a subject of its own; once each hears the
	// other, the link is up and each side's interest known to the other
	// (the consumers subscribed before).
	for _, r := range []struct {
		nc   *nats.Conn
		subj string
	}{{hq, "sync.hq"}, {mission.Conn(), "sync.tokyo"}} {
		if _, err := r.nc.Subscribe(r.subj, func(m *nats.Msg) { m.Respond(nil) }); err != nil {
			t.Fatal(err)
		}
	}
	exchangeAcks, err := hq.SubscribeSync("$JS.ACK.EXCHANGE.>")
	if err != nil {
		t.Fatal(err)
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

	// Headquarters acknowledges its second and third; what it sends the
	// mission after them arrives after them.
	for _, m := range hqMsgs[1:] {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip(hq, "sync.tokyo")
	// The mission acknowledges its first: its consumer has handled what
	// came before once it confirms.
	if err := tokyoMsgs[0].DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	roundTrip(mission.Conn(), "sync.hq")
	// And headquarters one more of its own, after the mission's.
	if _, err := hqJS.Publish(ctx, "hq.ledger", []byte("event")); err != nil {
		t.Fatal(err)
	}
	batch, err := hqCons.FetchNoWait(1)
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}

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

	// The exchange's acknowledgements still cross.
	if err := mission.Conn().Publish("$JS.ACK.EXCHANGE.in-tokyo~hq.1.1.1.1.0", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := exchangeAcks.NextMsg(5 * time.Second); err != nil {
		t.Errorf("the exchange's acknowledgement did not cross the leaf link: %v", err)
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
