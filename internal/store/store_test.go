package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestMigrateCreatesSchemaOnBothDialects(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		st, err := db.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Current != st.Latest || st.Latest == 0 {
			t.Fatalf("status = %+v, want current == latest > 0", st)
		}
		// Migrating again is a no-op.
		if err := db.Migrate(ctx, nil); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
	})
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		st, _ := db.Status(ctx)
		_, err := db.ExecContext(ctx, db.Rebind("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, TRUE)"), st.Latest+7)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Migrate(ctx, nil)
		if !errors.Is(err, store.ErrNewerDatabase) {
			t.Fatalf("Migrate on a newer database = %v, want ErrNewerDatabase", err)
		}
	})
}

func TestInTxRollsBackOnError(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO meta (key, value) VALUES (?, ?)"), "k", "v"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx error = %v, want boom", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM meta").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("meta has %d rows after rollback, want 0", n)
		}
	})
}

func TestUniqueViolationIsRecognised(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := db.Rebind("INSERT INTO meta (key, value) VALUES (?, ?)")
		if _, err := db.ExecContext(ctx, q, "k", "v"); err != nil {
			t.Fatal(err)
		}
		_, err := db.ExecContext(ctx, q, "k", "v")
		if !store.IsUniqueViolation(err) {
			t.Fatalf("IsUniqueViolation(%v) = false", err)
		}
	})
}

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"a = '?' AND b = ?", "a = '?' AND b = $1"},
		{`"we?ird" = ?`, `"we?ird" = $1`},
	}
	for _, tt := range tests {
		db := &store.DB{Dialect: store.Postgres}
		if got := db.Rebind(tt.in); got != tt.want {
			t.Errorf("Rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := (&store.DB{Dialect: store.SQLite}).Rebind(tt.in); got != tt.in {
			t.Errorf("SQLite Rebind changed %q to %q", tt.in, got)
		}
	}
}

func TestOpenRefusesUnknownDatabaseURL(t *testing.T) {
	_, err := store.Open(context.Background(), "mysql://root:secret@x/db", t.TempDir())
	if err == nil {
		t.Fatal("Open(mysql://…) succeeded")
	}
	if got := err.Error(); strings.Contains(got, "secret") {
		t.Fatalf("error leaks the password: %s", got)
	}
}

func TestMetaRoundTripAndNotFound(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Meta(ctx, "seeded"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("Meta of a missing key = %v, want ErrNotFound", err)
		}
		for _, v := range []string{"one", "two"} {
			if err := store.SetMeta(ctx, db, "seeded", v); err != nil {
				t.Fatal(err)
			}
			if got, err := db.Meta(ctx, "seeded"); err != nil || got != v {
				t.Fatalf("Meta = %q, %v; want %q", got, err, v)
			}
		}
	})
}

// TestOpenExistingCreatesNothing: a command that reads data, run against
// a directory or database that holds none, is refused with ErrNoData and
// leaves nothing behind; once migrated, the database opens.
func TestOpenExistingCreatesNothing(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "wrong-directory")
		if _, err := store.OpenExisting(ctx, "", dir); !errors.Is(err, store.ErrNoData) {
			t.Fatalf("OpenExisting of a missing directory = %v, want ErrNoData", err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("OpenExisting made the directory: %v", err)
		}
		// An empty file, as an older chancery left in the wrong directory.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "chancery.db"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := store.OpenExisting(ctx, "", dir); !errors.Is(err, store.ErrNoData) {
			t.Fatalf("OpenExisting of an empty database = %v, want ErrNoData", err)
		}
		db, err := store.Open(ctx, "", dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx, nil); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db, err = store.OpenExisting(ctx, "", dir)
		if err != nil {
			t.Fatalf("OpenExisting of a migrated database: %v", err)
		}
		db.Close()
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.MustPostgresURL(t)
		if _, err := store.OpenExisting(ctx, url, t.TempDir()); !errors.Is(err, store.ErrNoData) {
			t.Fatalf("OpenExisting of a new PostgreSQL database = %v, want ErrNoData", err)
		}
		db, err := store.Open(ctx, url, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx, nil); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db, err = store.OpenExisting(ctx, url, t.TempDir())
		if err != nil {
			t.Fatalf("OpenExisting of a migrated PostgreSQL database: %v", err)
		}
		db.Close()
	})
}
