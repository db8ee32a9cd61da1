package storetest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"chancery/internal/store"
)

// RunChild re-runs the test binary as a child process, running no test
// (its TestMain sees env, added to the environment, and does the child's
// work instead), hands each line the child writes to its standard output
// to line, and kills the child with SIGKILL — no deferred function, no
// rollback, no Close, no flush — as soon as line returns true; the lines
// already written are still handed over. It returns whether it killed
// the child and, if it did not, how the child ended. Crash tests use it
// to kill a process mid-write and check what survives.
func RunChild(tb testing.TB, env []string, line func(string) (kill bool)) (killed bool, err error) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if line(sc.Text()) && !killed {
			if err := cmd.Process.Kill(); err != nil {
				tb.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if killed {
		return true, nil
	}
	return false, err
}

// MustOpenShared opens a new, migrated database of dialect d that a
// child process (RunChild) can open too, and returns it with its URL: a
// SQLite file in a temporary directory, or a new database of the
// throwaway PostgreSQL cluster. It is closed when the test ends (after
// what the test registered later to close first).
func MustOpenShared(tb testing.TB, d store.Dialect) (*store.DB, string) {
	tb.Helper()
	dsn := "sqlite://" + filepath.Join(tb.TempDir(), "chancery.db")
	if d == store.Postgres {
		dsn = MustPostgresURL(tb)
	}
	db, err := store.Open(context.Background(), dsn, "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background(), nil); err != nil {
		tb.Fatal(err)
	}
	return db, dsn
}
