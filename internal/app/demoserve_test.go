package app

import (
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"chancery/internal/config"
)

// A -race child running `chancery serve --demo` on an empty data directory
// seeds the whole demo, which takes a minute or more on CI's two busy
// cores. TestAuditVerifyAfterADemoServe and
// TestEveryFileInTheDataDirectoryIsPrivate both need exactly such a run
// (served, used, stopped with SIGTERM), so the test process makes it once
// and each test works on a copy of its data directory (copyTree keeps
// every file's mode, which the second test checks).
type demoServeRun struct {
	mu    sync.Mutex
	tried bool
	dir   string // the stopped node's data directory; "" if the run failed
}

// theDemoServe is per test process, like theDemoTemplate.
var theDemoServe demoServeRun

// copy returns a copy, in a directory of tb's own, of the data directory
// a real `serve --demo` left when stopped, running it on first use: an
// auditor signs in and exports the ledger while it serves.
func (r *demoServeRun) copy(tb testing.TB) string {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.tried {
		r.tried = true
		r.run(tb)
	}
	if r.dir == "" {
		tb.Fatal("the shared `chancery serve --demo` run failed in an earlier test (see its output)")
	}
	dir := tb.TempDir()
	if err := copyTree(r.dir, dir); err != nil {
		tb.Fatalf("copy the demo node's data directory: %v", err)
	}
	return dir
}

// run serves a demo node in a child process, fetches the auditor's
// export and stops the node with SIGTERM; it fails tb (and leaves r.dir
// empty) on any step that goes wrong.
func (r *demoServeRun) run(tb testing.TB) {
	tb.Helper()
	dir, err := os.MkdirTemp("", "chancery-demo-serve-")
	if err != nil {
		tb.Fatal(err)
	}
	defer func() {
		if r.dir == "" {
			os.RemoveAll(dir)
		}
	}()
	if err := os.Chmod(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	cmd, base := startChild(tb, "serve", "--demo", "--data", dir, "--addr", "127.0.0.1:0", "--leaf-addr=")
	token := mustLogin(tb, base, "auditor", config.DefaultDemoPassword, totpNow(tb, demoSecret(tb, dir, "auditor")))
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/audit/export", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	// A read error here is the server's write deadline cutting the
	// stream off (it is renewed every 256 events, which a -race child on
	// an overloaded machine has taken over 2 minutes to write).
	export, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(export), `"end":true`) {
		tail := export[max(0, len(export)-300):]
		tb.Fatalf("export from the demo node = %d, %d bytes (read: %v): %.300s … %s", resp.StatusCode, len(export), readErr, export, tail)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		tb.Fatal(err)
	}
	waitExitAfterSIGTERM(tb, cmd)
	r.dir = dir
}

// remove deletes the run's data directory at the test process's end.
func (r *demoServeRun) remove() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dir != "" {
		os.RemoveAll(r.dir)
	}
}
