package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/bus"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// streamSeqs reads every message of the ledger's stream and returns the
// events' sequence numbers in stream order.
func streamSeqs(t *testing.T, js jetstream.JetStream, want int) []uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, StreamName, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for len(seqs) < want {
		batch, err := cons.Fetch(want-len(seqs), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			var e Event
			if err := json.Unmarshal(m.Data(), &e); err != nil {
				t.Fatalf("message %q: %v", m.Data(), err)
			}
			seqs = append(seqs, e.Seq)
			got++
		}
		if got == 0 {
			break
		}
	}
	return seqs
}

// TestStreamPublishesEveryIntegratedEventOnceInOrder: events integrated
// before the publisher starts are caught up from the database, later ones
// follow; a publisher restarted with its cursor behind (a crash between
// the stream's acknowledgement and the cursor's update) republishes, and
// the stream drops the duplicates by Nats-Msg-Id.
func TestStreamPublishesEveryIntegratedEventOnceInOrder(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		l := mustLedger(t, db, mustRing(t), Options{})
		appendEvents(t, l, 0, 30) // before the bus exists: caught up later
		b, err := bus.Open(ctx, bus.Options{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		run := func() (stop func()) {
			pctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { l.PublishStream(pctx, b.JetStream(), "hq"); close(done) }()
			return func() { cancel(); <-done }
		}
		stop := run()
		appendEvents(t, l, 30, 45)
		waitCursor(t, db, 45)
		stop()
		// Put the cursor back, as if the process had died before moving it.
		if _, err := db.ExecContext(ctx, db.Rebind("UPDATE audit_stream_cursor SET next_seq = 10")); err != nil {
			t.Fatal(err)
		}
		stop = run()
		appendEvents(t, l, 45, 50)
		waitCursor(t, db, 50)
		stop()
		seqs := streamSeqs(t, b.JetStream(), 60)
		if len(seqs) != 50 {
			t.Fatalf("the stream holds %d events, want 50 (each once): %v", len(seqs), seqs)
		}
		for i, s := range seqs {
			if s != uint64(i) {
				t.Fatalf("message %d holds event %d: %v", i, s, seqs)
			}
		}
	})
}

// waitCursor waits until the stream's cursor reaches next.
func waitCursor(t *testing.T, db *store.DB, next uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := streamCursor(t.Context(), db, StreamSubject("hq"))
		if err != nil {
			t.Fatal(err)
		}
		if got >= next {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream's cursor is at %d, want %d", got, next)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEventsFromReadsAContiguousStretch(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		l := mustLedger(t, db, mustRing(t), Options{})
		appendEvents(t, l, 0, 12)
		got, err := l.EventsFrom(t.Context(), 5, 4)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || got[0].Seq != 5 || got[3].Seq != 8 {
			t.Fatalf("EventsFrom(5, 4) = %d events from %v", len(got), got)
		}
		if got, err := l.EventsFrom(t.Context(), 12, 4); err != nil || len(got) != 0 {
			t.Fatalf("EventsFrom at the end = %v, %v; want none", got, err)
		}
	})
}

// TestAnotherReplicaPublishingIsNoFailure: a clustered stream answers a
// message whose id another replica's copy is being stored under with
// error 10158; the publisher takes it for what it is (the whole-system
// test's three replicas logged it as a failure, with a growing pause).
func TestAnotherReplicaPublishingIsNoFailure(t *testing.T) {
	inProcess := fmt.Errorf("audit: the stream refused event 7: %w", &jetstream.APIError{Code: 409, ErrorCode: 10158, Description: "duplicate message id is in process"})
	if !publishingElsewhere(inProcess) {
		t.Errorf("%v is not taken for another replica's publication", inProcess)
	}
	for _, err := range []error{nil, errors.New("nats: timeout"), &jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "maximum messages exceeded"}} {
		if publishingElsewhere(err) {
			t.Errorf("%v is taken for another replica's publication", err)
		}
	}
}
