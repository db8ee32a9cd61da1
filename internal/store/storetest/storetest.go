// Package storetest gives tests real databases: a migrated SQLite file in
// the test's temporary directory, and a database in a throwaway PostgreSQL
// cluster started from Debian's initdb and pg_ctl.
//
// A package whose tests use PostgreSQL declares
//
//	func TestMain(m *testing.M) { storetest.Main(m) }
//
// so the cluster is stopped when its tests end. Where PostgreSQL is not
// installed the PostgreSQL tests skip with a message saying how to install
// it; under CI=true (or CHANCERY_REQUIRE_POSTGRES=1) they fail instead, so
// CI can never pass on skipped tests.
package storetest

import (
	"context"
	"os"
	"testing"

	"chancery/internal/store"
)

// Dialects lists the dialects a storage suite runs on.
var Dialects = []store.Dialect{store.SQLite, store.Postgres}

// MustOpen returns a freshly migrated, empty database of dialect d that is
// closed when tb ends. For PostgreSQL each call gets its own database in the
// shared throwaway cluster.
func MustOpen(tb testing.TB, d store.Dialect) *store.DB {
	tb.Helper()
	ctx := context.Background()
	var dsn, dir string
	switch d {
	case store.SQLite:
		dir = tb.TempDir()
		if err := theTemplates.sqliteCopy(dir); err != nil {
			tb.Fatalf("storetest: copy the migrated SQLite template: %v", err)
		}
	case store.Postgres:
		c := mustCluster(tb)
		var err error
		if dsn, err = theTemplates.postgresCopy(c); err != nil {
			tb.Fatalf("storetest: copy the migrated PostgreSQL template: %v", err)
		}
	default:
		tb.Fatalf("storetest: unknown dialect %q", d)
	}
	db, err := store.Open(ctx, dsn, dir)
	if err != nil {
		tb.Fatalf("storetest: open %s: %v", d, err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		tb.Fatalf("storetest: migrate %s: %v", d, err)
	}
	return db
}

// ForEach runs fn as a subtest on each dialect, named after it.
func ForEach(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, MustOpen(t, d))
		})
	}
}

// MustPostgresURL returns the URL of a new, empty database in the
// throwaway cluster, starting the cluster on first use.
func MustPostgresURL(tb testing.TB) string {
	tb.Helper()
	url, err := mustCluster(tb).newDatabase()
	if err != nil {
		tb.Fatalf("storetest: create PostgreSQL database: %v", err)
	}
	return url
}

// mustCluster returns the throwaway cluster, starting it on first use; a
// test skips where PostgreSQL is not installed (and fails under CI).
func mustCluster(tb testing.TB) *cluster {
	tb.Helper()
	c, err := sharedCluster()
	if err != nil {
		if required() {
			tb.Fatalf("storetest: PostgreSQL is required here (CI) but could not start: %v", err)
		}
		tb.Skipf("storetest: skipping PostgreSQL test: %v (install Debian's postgresql package to run it)", err)
	}
	return c
}

// Main runs the package's tests and stops the throwaway cluster, if one
// was started, and runs cleanups (removing a package's own per-process
// templates, say) before exiting with the tests' status.
func Main(m *testing.M, cleanups ...func()) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	stopCluster()
	os.Exit(code)
}
