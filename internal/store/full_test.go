package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// fillUntilFull begins a transaction on begin (db, or one connection of
// it), writes one meta row and then rows of 4000 bytes into table until a
// write fails, and rolls back: the failure must be storage-full, and
// nothing of the transaction may be left.
func fillUntilFull(ctx context.Context, t *testing.T, db *store.DB, begin interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, table string) {
	t.Helper()
	tx, err := begin.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // rolled back below
	if _, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO meta (key, value) VALUES (?, ?)"), "half-written", "x"); err != nil {
		t.Fatalf("first write: %v", err)
	}
	row := strings.Repeat("x", 4000) // two to a PostgreSQL page
	var ferr error
	for i := 0; ferr == nil; i++ {
		if i == 100000 {
			t.Fatal("100000 rows of 4000 bytes fitted into a storage meant to be full")
		}
		_, ferr = tx.ExecContext(ctx, db.Rebind("INSERT INTO "+table+" VALUES (?, ?)"), fmt.Sprint("fill-", i), row)
	}
	tx.Rollback() //nolint:errcheck // what is left is checked next
	if !errs.IsStorageFull(ferr) {
		t.Fatalf("IsStorageFull(%v) = false", ferr)
	}
	var n int
	if err := db.QueryRowContext(ctx, db.Rebind("SELECT COUNT(*) FROM meta WHERE key = ?"), "half-written").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("the transaction that ran out of space left %d rows behind", n)
	}
}

// TestSQLiteFullIsStorageFullAndWritesNothing runs a transaction into
// SQLite's own limit (max_page_count), which fails with SQLITE_FULL as a
// full disk does: the error is storage-full, and the transaction leaves
// nothing behind.
func TestSQLiteFullIsStorageFullAndWritesNothing(t *testing.T) {
	ctx := t.Context()
	db := storetest.MustOpen(t, store.SQLite)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pages int
	if err := conn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// max_page_count is the connection's: only this one is capped.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages+8)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE fill (k TEXT, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	fillUntilFull(ctx, t, db, conn, "fill")
}

// TestPostgresDiskFullIsStorageFullAndWritesNothing fills a real disk
// under PostgreSQL: a tablespace on a small tmpfs, which fails with
// SQLSTATE 53100 (disk_full).
func TestPostgresDiskFullIsStorageFullAndWritesNothing(t *testing.T) {
	ctx := t.Context()
	db := storetest.MustOpen(t, store.Postgres)
	dir := storetest.SmallDisk(t, 4<<20)
	pg, err := user.Lookup("postgres")
	if err != nil {
		t.Skipf("no postgres user to own the tablespace: %v", err)
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	// The server must reach the mount point through the test's
	// temporary directory.
	if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
		t.Fatal(err)
	}
	name := "full_" + strconv.Itoa(os.Getpid())
	if _, err := db.ExecContext(ctx, "CREATE TABLESPACE "+name+" LOCATION '"+dir+"'"); err != nil {
		t.Fatalf("create a tablespace on the small disk: %v", err)
	}
	// Before the disk is unmounted (cleanups run last first).
	t.Cleanup(func() {
		db.ExecContext(context.Background(), "DROP TABLE IF EXISTS fill")       //nolint:errcheck // best effort
		db.ExecContext(context.Background(), "DROP TABLESPACE IF EXISTS "+name) //nolint:errcheck // best effort
	})
	if _, err := db.ExecContext(ctx, "CREATE TABLE fill (k TEXT, v TEXT) TABLESPACE "+name+"; ALTER TABLE fill ALTER COLUMN v SET STORAGE PLAIN"); err != nil {
		t.Fatal(err)
	}
	fillUntilFull(ctx, t, db, db, "fill")
}

// TestBlobWriteToAFullDiskIsStorageFullAndLeavesNoBlob writes a blob into
// a directory on a full disk: Bucket.WriteAll would leave the truncated
// file under the key; WriteBlob leaves nothing.
func TestBlobWriteToAFullDiskIsStorageFullAndLeavesNoBlob(t *testing.T) {
	ctx := t.Context()
	dir := storetest.SmallDisk(t, 4<<20)
	b, err := store.OpenBucket(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	storetest.FillDisk(t, dir)
	werr := store.WriteBlob(ctx, b, "dossiers/1/scan", make([]byte, 256<<10), nil)
	if !errs.IsStorageFull(werr) {
		t.Fatalf("IsStorageFull(%v) = false", werr)
	}
	if ok, err := b.Exists(ctx, "dossiers/1/scan"); ok || err != nil {
		t.Fatalf("a blob whose write failed exists: %v, %v", ok, err)
	}
	out, _ := exec.Command("find", dir, "-name", "*.tmp").CombinedOutput()
	if len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("temporary files left behind: %s", out)
	}
}

// TestCheckWritableCommitsAWrite: the probe writes, on both dialects.
func TestCheckWritableCommitsAWrite(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		if err := db.CheckWritable(ctx); err != nil {
			t.Fatalf("CheckWritable: %v", err)
		}
		first, err := db.Meta(ctx, "ready_probe")
		if err != nil {
			t.Fatalf("the probe's row: %v", err)
		}
		if err := db.CheckWritable(ctx); err != nil {
			t.Fatalf("CheckWritable again: %v", err)
		}
		if again, _ := db.Meta(ctx, "ready_probe"); again == first {
			t.Fatalf("the second probe did not write (row still %q)", first)
		}
	})
}
