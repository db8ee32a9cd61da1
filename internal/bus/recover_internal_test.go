package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestWatcherRestartsJetStreamTheServerShutDown: on some paths (a full
// disk under a mirror or a source, a permission error) nats-server shuts
// JetStream down by itself; the bus turns it back on.
func TestWatcherRestartsJetStreamTheServerShutDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	b := openReady(ctx, t)
	if err := b.ns.ShutdownJetStream(); err != nil {
		t.Fatal(err)
	}
	// Watched without JetStream requests: the server's own restart of
	// its JetStream swaps its API queue unsynchronised (the race
	// detector would report a request that arrived meanwhile), which is
	// why the bus prefers reloading an account's JetStream.
	deadline := time.Now().Add(5 * time.Second)
	for !b.ns.JetStreamEnabled() || b.StoreErr() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("JetStream still off 5 s after the server shut it down (%v)", b.StoreErr())
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.ready.forget()
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("Ready after the restart: %v", err)
	}
}

func TestIsWriteFailure(t *testing.T) {
	for msg, want := range map[string]bool{
		"Filestore [T] Critical write error: write x/1.blk: no space left on device":                     true,
		"JetStream stream '$G > T' critical write error: write x: read-only file system":                 true,
		"JetStream out of space, will be DISABLED":                                                       true,
		"Filesystem permission denied while writing msg, disabling JetStream: open x: permission denied": true,
		"JetStream file resource limits exceeded for server":                                             false,
		"Initiating JetStream Shutdown...":                                                               false,
	} {
		if got := isWriteFailure(msg); got != want {
			t.Errorf("isWriteFailure(%q) = %v, want %v", msg, got, want)
		}
	}
}

// The readiness probe makes its stream again when its publication fails,
// unless it only took too long: on a cluster that lost a server, that is
// the stream electing a leader, and making the stream again would be one
// more change for a busy metadata leader to commit within the probe's
// two seconds.
func TestTheProbeMakesItsStreamAgainUnlessThePublicationWasSlow(t *testing.T) {
	for err, want := range map[error]bool{
		context.DeadlineExceeded:                         true,
		fmt.Errorf("publish: %w", nats.ErrTimeout):       true,
		jetstream.ErrNoStreamResponse:                    false,
		errors.New("nats: maximum payload exceeded"):     false,
		&jetstream.APIError{Code: 400, Description: "x"}: false,
	} {
		if got := Slow(err); got != want {
			t.Errorf("Slow(%v) = %v, want %v", err, got, want)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	b := openReady(ctx, t)
	// Deleted by hand: the next probe fails, the one after makes it again.
	if err := b.JetStream().DeleteStream(ctx, probeStream); err != nil {
		t.Fatal(err)
	}
	b.ready.forget()
	if err := b.Ready(ctx); err == nil {
		t.Errorf("Ready with the probe stream deleted = nil, want its publication's failure")
	}
	b.ready.forget()
	if err := b.Ready(ctx); err != nil {
		t.Errorf("Ready after the probe stream was deleted and made again: %v", err)
	}
}

// openReady opens an embedded bus that answers Ready, and closes it when
// the test ends.
func openReady(ctx context.Context, t *testing.T) *Bus {
	t.Helper()
	b, err := Open(ctx, Options{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	return b
}
