package bus_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/bus"
	"chancery/internal/errs"
	"chancery/internal/store/storetest"
)

// publishBig publishes a message of 100 KiB starting with tag to stream
// T, large enough that a full disk cannot take it.
func publishBig(ctx context.Context, js jetstream.JetStream, tag string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := js.Publish(ctx, "T.x", append([]byte(tag), make([]byte, 100<<10)...))
	return err
}

// eventually retries fn every 100 ms until it returns nil or within
// passes, and returns its last error.
func eventually(within time.Duration, fn func() error) error {
	deadline := time.Now().Add(within)
	for {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestEmbeddedJetStreamRecoversAfterAFullDiskIsFreed fills the real disk
// under the JetStream store: nats-server then marks the stream with a
// critical write error and drops publications without an answer, and
// before the bus recovered, freeing the disk changed nothing until the
// process restarted. Now Ready says so while the disk is full, and once
// it is freed JetStream restarts inside the process: publishing works
// again, and a consumer made before the failure delivers what was stored
// before and after it.
func TestEmbeddedJetStreamRecoversAfterAFullDiskIsFreed(t *testing.T) {
	dir := storetest.SmallDisk(t, 16<<20)
	b := mustOpen(t, bus.Options{DataDir: dir})
	ctx := t.Context()
	js := b.JetStream()
	s := mustStream(t, js, "T")
	cons, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if err := publishBig(ctx, js, "before"); err != nil {
		t.Fatalf("publish before the disk is full: %v", err)
	}
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("Ready before the disk is full: %v", err)
	}

	free := storetest.FillDisk(t, dir)
	if err := publishBig(ctx, js, "lost"); err == nil {
		t.Fatal("a publication to a full disk was acknowledged")
	}
	err = eventually(5*time.Second, func() error {
		if err := b.Ready(ctx); err == nil {
			return errors.New("Ready = nil")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Ready on a full disk: %v", err)
	}
	err = b.Ready(ctx)
	if !errors.Is(err, bus.ErrCannotStore) || !errors.Is(err, errs.ErrStorageFull) {
		t.Fatalf("Ready on a full disk = %v, want ErrCannotStore and errs.ErrStorageFull", err)
	}
	// The watcher's tries fail while the disk stays full.
	time.Sleep(2 * time.Second)
	if err := b.Ready(ctx); err == nil {
		t.Fatal("Ready = nil while the disk is still full")
	}

	free()
	freed := time.Now()
	if err := eventually(20*time.Second, func() error { return publishBig(ctx, js, "after") }); err != nil {
		t.Fatalf("publishing has not resumed 20 s after the disk was freed: %v", err)
	}
	t.Logf("publishing resumed %s after the disk was freed", time.Since(freed).Round(time.Millisecond))
	if err := eventually(5*time.Second, func() error { return b.Ready(ctx) }); err != nil {
		t.Fatalf("Ready after recovery: %v", err)
	}

	var got []string
	err = eventually(10*time.Second, func() error {
		batch, err := cons.Fetch(10, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return err
		}
		for m := range batch.Messages() {
			got = append(got, string(bytes.TrimRight(m.Data(), "\x00")))
			m.Ack() //nolint:errcheck // a test
		}
		if len(got) < 2 {
			return errors.New("too few")
		}
		return nil
	})
	if err != nil || len(got) != 2 || got[0] != "before" || got[1] != "after" {
		t.Fatalf("the consumer made before the failure delivered %q (%v), want [before after]", got, err)
	}
}
