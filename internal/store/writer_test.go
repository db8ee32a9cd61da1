package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// metaKeys returns the meta keys with the given prefix.
func metaKeys(t *testing.T, db *store.DB, prefix string) map[string]bool {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), db.Rebind(`SELECT key FROM meta WHERE key LIKE ?`), prefix+"%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	keys := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys[k] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// startWriter starts w until the test ends.
func startWriter(t *testing.T, w *store.Writer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := w.Start(ctx)
	if err != nil {
		cancel()
		t.Fatalf("Start: %v", err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wait() }) }
	t.Cleanup(stop)
	return stop
}

// A write commits or is undone as a whole, with fn's error returned as
// it was, whether the writer is started or not.
func TestWriterCommitsOrUndoesEachWrite(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := store.NewWriter(db, nil)
		check := func(stage string) {
			if err := w.InTx(ctx, func(tx *store.Tx) error { return store.SetMeta(ctx, tx, "w."+stage+".ok", "1") }); err != nil {
				t.Fatalf("%s: InTx: %v", stage, err)
			}
			err := w.InTx(ctx, func(tx *store.Tx) error {
				if err := store.SetMeta(ctx, tx, "w."+stage+".undone", "1"); err != nil {
					return err
				}
				return errs.Invalid("x", "refused")
			})
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("%s: InTx of a failing write = %v, want its own error", stage, err)
			}
			keys := metaKeys(t, db, "w."+stage+".")
			if !keys["w."+stage+".ok"] || keys["w."+stage+".undone"] {
				t.Fatalf("%s: keys = %v, want the committed write only", stage, keys)
			}
		}
		check("idle")
		stop := startWriter(t, w)
		check("started")
		stop()
		check("stopped")
	})
}

// Concurrent writes all commit, except those that fail, whose changes are
// undone without undoing the others' in the same group commit; a write
// whose context ended is not run.
func TestWriterGroupCommitKeepsWritesApart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := store.NewWriter(db, nil)
		startWriter(t, w)
		const writers = 64
		errsOf := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				key := fmt.Sprintf("g.%02d", i)
				wctx := ctx
				if i%7 == 3 {
					c, cancel := context.WithCancel(ctx)
					cancel()
					wctx = c
				}
				errsOf[i] = w.InTx(wctx, func(tx *store.Tx) error {
					if err := store.SetMeta(wctx, tx, key, "1"); err != nil {
						return err
					}
					if i%5 == 1 {
						return fmt.Errorf("write %d: %w", i, errs.ErrConflict)
					}
					return nil
				})
			})
		}
		wg.Wait()
		keys := metaKeys(t, db, "g.")
		for i := range writers {
			key := fmt.Sprintf("g.%02d", i)
			switch {
			case i%7 == 3:
				if errsOf[i] == nil || keys[key] {
					t.Errorf("write %d with an ended context: err %v, stored %v; want an error and nothing stored", i, errsOf[i], keys[key])
				}
			case i%5 == 1:
				if !errors.Is(errsOf[i], errs.ErrConflict) || keys[key] {
					t.Errorf("failing write %d: err %v, stored %v; want its error and nothing stored", i, errsOf[i], keys[key])
				}
			default:
				if errsOf[i] != nil || !keys[key] {
					t.Errorf("write %d: err %v, stored %v; want it committed", i, errsOf[i], keys[key])
				}
			}
		}
	})
}

// A writer may be started by several users, and again after it stopped.
func TestWriterStartsAgain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := store.NewWriter(db, nil)
		stop := startWriter(t, w)
		stop2 := startWriter(t, w)
		stop()
		stop2()
		startWriter(t, w)
		ctx := context.Background()
		if err := w.InTx(ctx, func(tx *store.Tx) error { return store.SetMeta(ctx, tx, "again", "1") }); err != nil {
			t.Fatalf("InTx after a restart: %v", err)
		}
	})
}
