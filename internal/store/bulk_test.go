package store_test

import (
	"context"
	"errors"
	"testing"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestBulkRunsChangesInOneTransaction pins WithBulk: InTx calls made with
// its context run inside the bulk load's transaction, a failing one (even
// one that broke a statement, which aborts a PostgreSQL transaction) is
// undone alone, nothing is visible to others until the load commits, and
// a context of another database's bulk load changes nothing.
func TestBulkRunsChangesInOneTransaction(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		insert := func(ctx context.Context, key string) error {
			return db.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO meta (key, value) VALUES (?, 'v')"), key)
				return err
			})
		}
		count := func() int {
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM meta WHERE key LIKE 'bulk%'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			bulk := store.WithBulk(ctx, db, tx)
			if err := insert(bulk, "bulk1"); err != nil {
				return err
			}
			if err := insert(bulk, "bulk1"); !store.IsUniqueViolation(err) {
				t.Errorf("a duplicate in the bulk load: %v", err)
			}
			err := db.InTx(bulk, func(tx *store.Tx) error {
				if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO meta (key, value) VALUES (?, 'v')"), "bulk-undone"); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Errorf("a failing change returned %v, want its own error", err)
			}
			if err := insert(bulk, "bulk2"); err != nil {
				return err
			}
			if n := count(); n != 0 {
				t.Errorf("%d rows of the open bulk load seen outside it", n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		rows, err := db.QueryContext(ctx, "SELECT key FROM meta WHERE key LIKE 'bulk%' ORDER BY key")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
		if len(keys) != 2 || keys[0] != "bulk1" || keys[1] != "bulk2" {
			t.Errorf("after the bulk load: %v, want bulk1 and bulk2", keys)
		}
		// Another database's bulk context leaves InTx its own transaction.
		other := storetest.MustOpen(t, db.Dialect)
		if err := other.InTx(ctx, func(tx *store.Tx) error {
			return insert(store.WithBulk(ctx, other, tx), "bulk3")
		}); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 3 {
			t.Errorf("%d rows, want 3", n)
		}
	})
}
