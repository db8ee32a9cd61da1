package app

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Everything the program writes in its data directory, by its own code or
// by libraries (the SQLite journal, the NATS store, blob storage, the
// master key, the demo's accounts), is readable by its user only.
func TestEveryFileInTheDataDirectoryIsPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	// A real `serve --demo` run, stopped with SIGTERM (shared with
	// TestAuditVerifyAfterADemoServe; this is a copy of its data
	// directory, every mode kept).
	dir := theDemoServe.copy(t)
	// A command-line job that writes blobs: archiving audit events.
	archive := exec.Command(os.Args[0], "audit", "archive", "--up-to", "2", "--data", dir)
	archive.Env = append(os.Environ(), "CHANCERY_TEST_MAIN=1")
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("audit archive: %v: %s", err, out)
	}
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files = append(files, rel)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", rel, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(files, " ")
	for _, want := range []string{"chancery.db", "master.key", demoAccountsFile, "blobs/"} {
		if !strings.Contains(all, want) {
			t.Errorf("the data directory lacks %s, so its mode was not checked: %s", want, all)
		}
	}
}
