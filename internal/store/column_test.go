package store_test

import (
	"context"
	"slices"
	"testing"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestColumnReadsOneColumnInOrder(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `CREATE TABLE strings_test (n INTEGER NOT NULL, s TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for i, s := range []string{"b", "a", "c"} {
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO strings_test (n, s) VALUES (?, ?)`), i, s); err != nil {
				t.Fatal(err)
			}
		}
		got, err := store.Column[string](ctx, db, `SELECT s FROM strings_test WHERE n >= ? ORDER BY s`, 1)
		if err != nil || !slices.Equal(got, []string{"a", "c"}) {
			t.Errorf("Column = %q, %v; want [a c]", got, err)
		}
		if ns, err := store.Column[int64](ctx, db, `SELECT n FROM strings_test ORDER BY n DESC`); err != nil || !slices.Equal(ns, []int64{2, 1, 0}) {
			t.Errorf("Column[int64] = %v, %v; want [2 1 0]", ns, err)
		}
		if _, err := store.Column[string](ctx, db, `SELECT s FROM no_such_table`); err == nil {
			t.Error("a bad query gave no error")
		}
	})
}
