package app

import (
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"chancery/internal/store"
)

// TestAuditVerifyAfterADemoServe runs the real program: a demo node
// records its seeding, sign-ins and an export in the audit ledger (the
// export answered 200 and whole, theDemoServe checks); once it has
// stopped, `chancery audit verify` checks the whole ledger, and
// names the event an administrator then edits in the database.
func TestAuditVerifyAfterADemoServe(t *testing.T) {
	// The run (serve, the auditor's sign-in and export, SIGTERM) is
	// shared with TestEveryFileInTheDataDirectoryIsPrivate; this test
	// verifies and edits a copy of its data directory.
	dir := theDemoServe.copy(t)

	var out, errOut strings.Builder
	if code := Main(context.Background(), []string{"audit", "verify", "--data", dir}, &out, &errOut); code != 0 {
		t.Fatalf("audit verify = %d\n%s%s", code, out.String(), errOut.String())
	}
	m := regexp.MustCompile(`^ledger verified: (\d+) events, (\d+) checkpoints, root \S+\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("audit verify printed %q", out.String())
	}
	// The seeding, the auditor's sign-in and the export are all there.
	if events, _ := strconv.Atoi(m[1]); events < 3 {
		t.Errorf("the demo node's ledger holds %s events; its seeding, sign-in and export should be there", m[1])
	}
	if m[2] == "0" {
		t.Error("the export's checkpoint is missing")
	}

	db, err := store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE audit_events SET reason = 'nothing happened' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out.Reset()
	errOut.Reset()
	if code := Main(context.Background(), []string{"audit", "verify", "--data", dir}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "does not verify at event 2") {
		t.Fatalf("audit verify after an edit = %d %q %q; want 1 naming event 2", code, out.String(), errOut.String())
	}
}

// TestServeSignsAuditCheckpointsWhileServing serves a node in process:
// the ledger signs checkpoints on its interval while it serves, and its
// background work stops with Serve (the race detector watches Close).
func TestServeSignsAuditCheckpointsWhileServing(t *testing.T) {
	cfg := testConfig(t, false)
	cfg.AuditCheckpointInterval = 20 * time.Millisecond // below what the flag allows, to keep the test short
	a, _ := MustStart(t, cfg)                           // the bootstrap records the administrator's creation
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, func(net.Addr) {}) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cp, err := a.Audit.LatestCheckpoint(context.Background())
		if err == nil && cp.Size > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of the bootstrap's events while serving: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	// MustStart's cleanup closes the node, ledger first.
}
