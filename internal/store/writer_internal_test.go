package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// openSQLiteTest returns a migrated SQLite database in the test's
// directory (storetest, which imports this package, cannot be used here).
func openSQLiteTest(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestWriterGroupsQueuedWrites pins the group commit on SQLite: writes
// queued while another holds the writer run together when it is let go,
// each write's error comes back to its own caller, and a failing write
// leaves nothing behind while the others commit.
func TestWriterGroupsQueuedWrites(t *testing.T) {
	ctx := context.Background()
	db := openSQLiteTest(t)
	w := NewWriter(db, nil)
	wctx, cancel := context.WithCancel(ctx)
	wait, err := w.Start(wctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); wait() })

	const writes = 6
	failed := errors.New("this write fails")
	errc := make(chan error, writes)
	w.mu.Lock() // hold the writer so that every write queues
	held := true
	defer func() {
		if held {
			w.mu.Unlock()
		}
	}()
	for i := range writes {
		go func() {
			errc <- w.InTx(ctx, func(tx *Tx) error {
				if err := SetMeta(ctx, tx, fmt.Sprintf("q.%d", i), "1"); err != nil {
					return err
				}
				if i%2 == 1 {
					return failed
				}
				return nil
			})
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		w.queueMu.Lock()
		queued := len(w.queue)
		w.queueMu.Unlock()
		if queued == writes {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", queued, writes)
		}
	}
	held = false
	w.mu.Unlock()
	nFailed := 0
	for range writes {
		if err := <-errc; errors.Is(err, failed) {
			nFailed++
		} else if err != nil {
			t.Fatalf("InTx: %v", err)
		}
	}
	if nFailed != writes/2 {
		t.Errorf("%d writes failed, want %d", nFailed, writes/2)
	}
	for i := range writes {
		_, err := db.Meta(ctx, fmt.Sprintf("q.%d", i))
		if stored := err == nil; stored != (i%2 == 0) {
			t.Errorf("write %d stored %v, want %v (%v)", i, stored, i%2 == 0, err)
		}
	}
}

// The writer keeps its connection while any of its users runs, and gives
// it back when the last one stops.
func TestWriterRunsWhileAnyUserRuns(t *testing.T) {
	ctx := context.Background()
	w := NewWriter(openSQLiteTest(t), nil)
	start := func() (stop func()) {
		c, cancel := context.WithCancel(ctx)
		wait, err := w.Start(c)
		if err != nil {
			t.Fatal(err)
		}
		return func() { cancel(); wait() }
	}
	stopA, stopB := start(), start()
	stopA()
	if !w.open.Load() {
		t.Fatal("the writer let its connection go while a user still runs")
	}
	stopB()
	if w.open.Load() {
		t.Fatal("the writer kept its connection after its last user stopped")
	}
	w.mu.Lock()
	conn := w.conn
	w.mu.Unlock()
	if conn != nil {
		t.Fatal("the connection was not given back")
	}
	start()()
}
