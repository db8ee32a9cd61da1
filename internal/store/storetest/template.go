package storetest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"chancery/internal/store"
)

// Migrating a database takes a second or two (thirty migrations, more
// under -race), and the suite opens a thousand of them: most of CI's time
// was spent re-running the same migrations. So each test process migrates
// one template per dialect, once, and every later MustOpen copies it: a
// SQLite file copied into the test's directory, a PostgreSQL database
// created WITH TEMPLATE. The copy is the migrated schema byte for byte;
// MustOpen still calls Migrate on it, which finds nothing to do.
type templates struct {
	mu     sync.Mutex
	sqlite string // directory of the migrated SQLite template; "" until made
	pg     string // name of the migrated PostgreSQL template database
}

// theTemplates is per test process, like the throwaway cluster.
var theTemplates templates

// sqliteCopy fills dir with a copy of the migrated SQLite template,
// making the template on first use.
func (t *templates) sqliteCopy(dir string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sqlite == "" {
		tmpl, err := os.MkdirTemp("", "chancery-sqlite-template-")
		if err != nil {
			return err
		}
		if err := migrateAndClose(context.Background(), "", tmpl); err != nil {
			os.RemoveAll(tmpl)
			return err
		}
		t.sqlite = tmpl
	}
	// Closing the template checkpointed its write-ahead log, so its files
	// are the whole database; copy each (the main file, and a -wal or -shm
	// if the driver left one).
	files, err := os.ReadDir(t.sqlite)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.IsDir() {
			continue
		}
		if err := copyFile(filepath.Join(t.sqlite, f.Name()), filepath.Join(dir, f.Name())); err != nil {
			return err
		}
	}
	return nil
}

// MigratedDataDir puts a copy of the migrated SQLite database into dir, a
// node's data directory (its chancery.db), so that a test starting a whole
// node does not pay for the migrations; the node's own Migrate then finds
// nothing to do.
func MigratedDataDir(tb testing.TB, dir string) {
	tb.Helper()
	if err := theTemplates.sqliteCopy(dir); err != nil {
		tb.Fatalf("storetest: copy the migrated SQLite template: %v", err)
	}
}

// CopyMigrated is MigratedDataDir for a directory that outlives any one
// test (a test process's own template of a node's data, say).
func CopyMigrated(dir string) error {
	return theTemplates.sqliteCopy(dir)
}

// pgTemplate returns the name of the migrated PostgreSQL template database
// in c, making it on first use. The caller holds t.mu: PostgreSQL refuses
// to copy a template while another session is connected to it, and two
// copies at once from one process are serialised here.
func (t *templates) pgTemplate(c *cluster) (string, error) {
	if t.pg != "" {
		return t.pg, nil
	}
	name := fmt.Sprintf("template_%d", os.Getpid())
	url, err := c.createDatabase(name, "")
	if err != nil {
		return "", err
	}
	if err := migrateAndClose(context.Background(), url, ""); err != nil {
		return "", err
	}
	t.pg = name
	return name, nil
}

// postgresCopy creates a new database in c as a copy of the migrated
// template and returns its URL.
func (t *templates) postgresCopy(c *cluster) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tmpl, err := t.pgTemplate(c)
	if err != nil {
		return "", err
	}
	return c.createDatabase(fmt.Sprintf("t%d_%d", os.Getpid(), c.seq.Add(1)), tmpl)
}

func migrateAndClose(ctx context.Context, dsn, dir string) error {
	db, err := store.Open(ctx, dsn, dir)
	if err != nil {
		return err
	}
	if err := db.Migrate(ctx, nil); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
