package store_test

import (
	"context"
	"database/sql"
	"testing"

	"chancery/internal/store"
)

// TestSQLiteReadsThroughMemoryMap pins the SQLite connections' mmap_size
// (store.go's openSQLite): every connection of the pool, not only the
// first, reads the file mapped, which BenchmarkSearch's figure relies on.
func TestSQLiteReadsThroughMemoryMap(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Two connections at once: the second is a fresh one from the pool.
	first, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	for name, c := range map[string]*sql.Conn{"first": first, "second": second} {
		var size int64
		if err := c.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&size); err != nil {
			t.Fatal(err)
		}
		if size != 1<<30 {
			t.Errorf("the %s connection's mmap_size is %d, want %d", name, size, 1<<30)
		}
	}
}
