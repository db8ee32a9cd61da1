package store_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"chancery/internal/store"
)

// The data directory holds personal data and the ministry's records: the
// database and its journal files are the process user's alone, also when
// an older version left them readable to others.
func TestSQLiteFilesAndTheDataDirectoryArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, nil); err != nil { // writes, so the WAL and its index exist
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("data directory mode %v (%v), want 0700", fi.Mode().Perm(), err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) < 2 {
			t.Fatalf("data directory holds %v, want the database and its write-ahead log", entries)
		}
		for _, e := range entries {
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", e.Name(), fi.Mode().Perm())
			}
		}
	}
	check()
	db.Close()

	// A database an older version left readable is tightened on open.
	for _, e := range []string{"chancery.db", "chancery.db-wal"} {
		os.Chmod(filepath.Join(dir, e), 0o644)
	}
	os.Chmod(dir, 0o755)
	if db, err = store.Open(ctx, "", dir); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check()
}
