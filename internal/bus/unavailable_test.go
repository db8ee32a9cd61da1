package bus_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"chancery/internal/bus"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// TestJetStreamWithItsServerGoneAnswers503 stops the NATS server under a
// connected client (a replica whose NATS node was killed): what the
// client then asks of JetStream waits for the reconnection and runs out
// of time, or fails in words errs.IsUnavailable reads; either way a
// request that needed it answers 503 with Retry-After, not 500.
func TestJetStreamWithItsServerGoneAnswers503(t *testing.T) {
	port := storetest.FreePort(t)
	server := mustOpen(t, bus.Options{DataDir: t.TempDir(), Port: port, ServerName: "gone"})
	client := mustOpen(t, bus.Options{URL: fmt.Sprintf("nats://127.0.0.1:%d", port)})
	js := client.JetStream()
	mustStream(t, js, "GONE")
	if _, err := js.Publish(t.Context(), "GONE.x", []byte("before")); err != nil {
		t.Fatal(err)
	}
	server.Close()
	for what, call := range map[string]func(ctx context.Context) error{
		"a publication":   func(ctx context.Context) error { _, err := js.Publish(ctx, "GONE.x", []byte("after")); return err },
		"a stream's info": func(ctx context.Context) error { _, err := js.Stream(ctx, "GONE"); return err },
	} {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		err := call(ctx)
		cancel()
		rec := httptest.NewRecorder()
		web.Error(rec, httptest.NewRequest(http.MethodPost, "/api/v1/dossiers", nil), fmt.Errorf("procedures: publish: %w", err))
		if err == nil || rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s with the server gone: %v (%T) answered %d, Retry-After %q; want 503 with Retry-After", what, err, err, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
}
