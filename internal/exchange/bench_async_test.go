package exchange

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/authz"
	"chancery/internal/bus"
	"chancery/internal/store"
)

// asyncBenchSenders is the number of concurrent senders in both halves
// of BenchmarkAsyncThroughput.
const asyncBenchSenders = 64

// asyncBenchPayload is the size of every message's payload.
const asyncBenchPayload = 1 << 10

// The headquarters department the benchmark's messages go to, and its
// asynchronous service: headquarters sends to itself.
var (
	archive    = ClientID{DefaultInstance, ClassGOV, hqMember, "archive"}
	archiveSvc = ServiceID{ClientID: archive, Service: "filing", Version: "v1"}
)

// BenchmarkAsyncThroughput measures the asynchronous transport end to
// end: 1 KiB messages from asyncBenchSenders concurrent senders of one
// headquarters department (Send: checked, body sealed, logged, signed into
// batches, encrypted for the recipient node and published to the node's
// JetStream stream, file storage) to another department on the same node
// (pulled, verified, checked, logged as delivered), read from the
// recipient's inbox and acknowledged, b.N messages in all, as msgs/s;
// both sides of the log are signed as in service. In the same run it
// measures the bare transport underneath on a comparable embedded server,
// as raw-msgs/s: the same number of concurrent publishers each waiting
// for JetStream's acknowledgement (as a Send waits for its commit), and a
// durable pull consumer fetching and acknowledging every message; ratio
// is msgs/s over raw-msgs/s. ns/op is the exchange's. Last, as
// leaf-msgs/s, it measures the production shape of store-and-forward:
// the same load from headquarters' procedures system to a mission's
// consular system, two nodes with their own databases and embedded
// servers joined by a leaf link on loopback.
func BenchmarkAsyncThroughput(b *testing.B) {
	// The nodes log at INFO; keep the benchmark's output readable.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(quietLogger())
	rate := benchExchange(b)
	raw := benchRawJetStream(b)
	leaf := benchLeaf(b)
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(raw, "raw-msgs/s")
	b.ReportMetric(rate/raw, "ratio")
	b.ReportMetric(leaf, "leaf-msgs/s")
}

// benchExchange runs the exchange half and returns its rate in messages
// per second.
func benchExchange(b *testing.B) float64 {
	tn := newTestNet(b, store.SQLite)
	tn.publish(b, func(c *GlobalConf) {
		c.Subsystems = append(c.Subsystems, Subsystem{ID: archive, Title: "Archive", Clearance: authz.Secret})
		c.Services = append(c.Services, Service{ID: archiveSvc, Kind: KindAsync, Title: "Filing", MaxLevel: authz.Secret})
		c.Rights = append(c.Rights, Right{Service: archiveSvc, Client: procedures})
	})
	tn.hq.Attach(openBus(b, bus.Options{ServerName: "hq", JetStreamDomain: "hq"}))
	run(b, tn.hq.Node)
	payload := bytes.Repeat([]byte("x"), asyncBenchPayload)
	msg := Outgoing{From: procedures, To: archiveSvc, Level: authz.Confidential, ContentType: "application/octet-stream", Payload: payload}

	return sendAndDrain(b, tn.hq.Node, msg, tn.hq.Node, archive, true)
}

// sendAndDrain warms the path from one message's round trip, then sends
// b.N copies of msg from from's node with asyncBenchSenders goroutines
// while reading and acknowledging them in the recipient's inbox on to,
// and returns the rate in messages per second. When timed, the
// benchmark's timer runs for the b.N messages only.
func sendAndDrain(b *testing.B, from *Node, msg Outgoing, to *Node, recipient ClientID, timed bool) float64 {
	b.Helper()
	// Warm the path (session, stream, consumer, statement caches).
	ctx := testCtx()
	if _, err := from.Send(ctx, msg); err != nil {
		b.Fatalf("Send: %v", err)
	}
	var after int64
	if got, err := drainInbox(ctx, to, recipient, 1, &after, 30*time.Second); err != nil || got != 1 {
		b.Fatalf("warm-up: %d messages read and acknowledged, %v; want 1", got, err)
	}
	if timed {
		b.ResetTimer()
	}
	start := time.Now()
	senders := runSenders(b.N, func() error {
		_, err := from.Send(ctx, msg)
		return err
	})
	got, err := drainInbox(ctx, to, recipient, b.N, &after, time.Duration(b.N)*time.Millisecond+time.Minute)
	elapsed := time.Since(start)
	if timed {
		b.StopTimer()
	}
	if err := senders(); err != nil {
		b.Fatalf("Send: %v", err)
	}
	if err != nil || got != b.N {
		b.Fatalf("%d of %d messages read and acknowledged: %v", got, b.N, err)
	}
	return float64(b.N) / elapsed.Seconds()
}

// drainInbox reads client's inbox from *after and acknowledges every
// message, as the recipient system does, until want messages or the
// time is up; it returns how many it acknowledged.
func drainInbox(ctx context.Context, n *Node, client ClientID, want int, after *int64, within time.Duration) (int, error) {
	deadline := time.Now().Add(within)
	got := 0
	ids := make([]string, 0, MaxInboxPage)
	for got < want {
		page, err := n.Inbox(ctx, client, *after, MaxInboxPage)
		if err != nil {
			return got, err
		}
		if len(page) == 0 {
			if time.Now().After(deadline) {
				return got, errors.New("timed out")
			}
			time.Sleep(time.Millisecond)
			continue
		}
		ids = ids[:0]
		for _, d := range page {
			if len(d.Payload) != asyncBenchPayload {
				return got, errors.New("message " + d.ID + " lost its payload")
			}
			ids = append(ids, d.ID)
		}
		k, err := n.Ack(ctx, client, ids...)
		if err != nil {
			return got, err
		}
		got += int(k)
		*after = page[len(page)-1].Seq
	}
	return got, nil
}

// runSenders calls send total times from asyncBenchSenders goroutines and
// returns a function that waits for them and reports the first error.
func runSenders(total int, send func() error) (wait func() error) {
	var (
		next   atomic.Int64
		failed atomic.Value
		wg     sync.WaitGroup
	)
	for range asyncBenchSenders {
		wg.Go(func() {
			for next.Add(1) <= int64(total) {
				if err := send(); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	return func() error {
		wg.Wait()
		err, _ := failed.Load().(error)
		return err
	}
}

// benchRawJetStream runs the raw half and returns its rate in messages
// per second.
func benchRawJetStream(b *testing.B) float64 {
	bs := openBus(b, bus.Options{ServerName: "raw", JetStreamDomain: "raw"})
	js := bs.JetStream()
	ctx := testCtx()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"}, Storage: jetstream.FileStorage,
		Retention: jetstream.WorkQueuePolicy}); err != nil {
		b.Fatalf("create stream: %v", err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "RAW", jetstream.ConsumerConfig{Durable: "raw", AckPolicy: jetstream.AckExplicitPolicy,
		MaxAckPending: maxAckPending})
	if err != nil {
		b.Fatalf("create consumer: %v", err)
	}
	payload := bytes.Repeat([]byte("x"), asyncBenchPayload)

	start := time.Now()
	senders := runSenders(b.N, func() error {
		_, err := js.Publish(ctx, "raw.bench", payload)
		return err
	})
	got := 0
	deadline := time.Now().Add(time.Duration(b.N)*time.Millisecond + time.Minute)
	for got < b.N && time.Now().Before(deadline) {
		batch, err := cons.Fetch(fetchMax, jetstream.FetchMaxWait(100*time.Millisecond))
		if err != nil {
			b.Fatalf("fetch: %v", err)
		}
		for m := range batch.Messages() {
			if len(m.Data()) != asyncBenchPayload {
				b.Fatalf("message of %d bytes, want %d", len(m.Data()), asyncBenchPayload)
			}
			if err := m.Ack(); err != nil {
				b.Fatalf("ack: %v", err)
			}
			got++
		}
	}
	elapsed := time.Since(start)
	if err := senders(); err != nil {
		b.Fatalf("publish: %v", err)
	}
	if got != b.N {
		b.Fatalf("consumed %d of %d messages", got, b.N)
	}
	return float64(b.N) / elapsed.Seconds()
}

// benchLeaf runs the leaf half: headquarters sends to the mission across
// the leaf link, and the rate is returned in messages per second.
func benchLeaf(b *testing.B) float64 {
	ln := newLinkedNet(b, store.SQLite, nil)
	ln.waitLinked(b)
	payload := bytes.Repeat([]byte("x"), asyncBenchPayload)
	msg := Outgoing{From: procedures, To: noticeSvc, Level: authz.Confidential, ContentType: "application/octet-stream", Payload: payload}
	return sendAndDrain(b, ln.hq.Node, msg, ln.mission.Node, consular, false)
}
