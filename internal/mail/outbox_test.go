package mail

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// fast is an outbox configuration that retries within a test's patience.
var fast = OutboxConfig{Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Poll: 20 * time.Millisecond, Lease: 10 * time.Second}

// runOutbox runs o until the test ends.
func runOutbox(t *testing.T, o *Outbox) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}

func numbered(i int) Message {
	return Message{To: []string{"an@example.vn"}, Subject: fmt.Sprintf("Thông báo số %d", i), Text: "Hồ sơ đã được tiếp nhận."}
}

// waitState waits until the outbox holds n messages in state.
func waitState(t *testing.T, o *Outbox, state State, n int) []Queued {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := o.List(context.Background(), state, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("%d messages %s, want %d", len(got), state, n)
			}
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOutboxSendsOnlyWhatWasCommitted(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		srv := startServer(t, ServerConfig{})
		o := NewOutbox(db, plainSender(t, srv.Addr()), fast)
		ctx := context.Background()
		refused := errors.New("the change was refused")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := o.EnqueueTx(ctx, tx, numbered(1)); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return o.EnqueueTx(ctx, tx, numbered(2)) }); err != nil {
			t.Fatal(err)
		}
		o.Nudge()
		if err := o.Enqueue(ctx, numbered(3)); err != nil {
			t.Fatal(err)
		}
		if err := o.Enqueue(ctx, Message{To: []string{"an@example.vn\r\nBcc: x@y.vn"}, Subject: "x", Text: "x"}); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("Enqueue of an injected header = %v, want ErrInvalid", err)
		}
		runOutbox(t, o)
		got, err := srv.Wait(waitCtx(t), 2)
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Subject != "Thông báo số 2" || got[1].Subject != "Thông báo số 3" {
			t.Fatalf("sent %q, %q; want 2 then 3", got[0].Subject, got[1].Subject)
		}
		sent := waitState(t, o, Sent, 2)
		if sent[0].Attempts != 1 || sent[0].Sent.IsZero() {
			t.Fatalf("sent record %+v", sent[0])
		}
		time.Sleep(100 * time.Millisecond) // time for a wrong extra send
		if n := len(srv.Messages()); n != 2 {
			t.Fatalf("server received %d messages, want 2", n)
		}
	})
}

func TestOutboxRetriesUntilTheServerComesBack(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		down := startServer(t, ServerConfig{})
		addr := down.Addr()
		down.Close()
		o := NewOutbox(db, plainSender(t, addr), fast)
		if err := o.Enqueue(context.Background(), numbered(1)); err != nil {
			t.Fatal(err)
		}
		runOutbox(t, o)
		deadline := time.Now().Add(10 * time.Second)
		for {
			pending := waitState(t, o, Pending, 1)
			if pending[0].Attempts >= 2 {
				if pending[0].LastError == "" {
					t.Fatal("a failed attempt left no error")
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("attempts %d", pending[0].Attempts)
			}
			time.Sleep(10 * time.Millisecond)
		}
		back, err := StartServer(context.Background(), addr, ServerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { back.Close() })
		if got, err := back.Wait(waitCtx(t), 1); err != nil || got[0].Subject != "Thông báo số 1" {
			t.Fatalf("received %+v, %v", got, err)
		}
		waitState(t, o, Sent, 1)
	})
}

func TestOutboxGivesUpAfterItsAttemptsAndKeepsTheMessage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		down := startServer(t, ServerConfig{})
		down.Close()
		cfg := fast
		cfg.MaxAttempts = 3
		o := NewOutbox(db, plainSender(t, down.Addr()), cfg)
		if err := o.Enqueue(context.Background(), numbered(1)); err != nil {
			t.Fatal(err)
		}
		runOutbox(t, o)
		failed := waitState(t, o, Failed, 1)
		if failed[0].Attempts != 3 || failed[0].LastError == "" || failed[0].Message.Subject != "Thông báo số 1" {
			t.Fatalf("failed record %+v", failed[0])
		}
	})
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	o := NewOutbox(nil, nil, OutboxConfig{Backoff: time.Second, MaxBackoff: 5 * time.Second})
	for attempts, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 30: 5 * time.Second} {
		if got := o.backoff(attempts); got != want {
			t.Errorf("backoff(%d) = %s, want %s", attempts, got, want)
		}
	}
}

// countingSender counts sends per subject and is slow enough that two
// workers overlap.
type countingSender struct {
	mu   sync.Mutex
	seen map[string]int
}

func (c *countingSender) Send(ctx context.Context, m Message) error {
	time.Sleep(2 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[m.Subject]++
	return nil
}

func TestTwoWorkersNeverSendOneMessageTwice(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		const n = 40
		sender := &countingSender{seen: map[string]int{}}
		a, b := NewOutbox(db, sender, fast), NewOutbox(db, sender, fast)
		for i := range n {
			if err := a.Enqueue(context.Background(), numbered(i)); err != nil {
				t.Fatal(err)
			}
		}
		runOutbox(t, a)
		runOutbox(t, b)
		waitState(t, a, Sent, n)
		time.Sleep(100 * time.Millisecond)
		sender.mu.Lock()
		defer sender.mu.Unlock()
		if len(sender.seen) != n {
			t.Fatalf("%d distinct messages sent, want %d", len(sender.seen), n)
		}
		for s, k := range sender.seen {
			if k != 1 {
				t.Errorf("%q sent %d times", s, k)
			}
		}
	})
}
