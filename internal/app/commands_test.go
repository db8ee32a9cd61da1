package app

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"chancery/internal/auth"
)

// TestCommandsThatReadDataRefuseNoData: run where there is no data (a
// directory that does not exist, or the default ./chancery-data in the
// wrong working directory), every command that reads data says so and
// exits 1, and leaves no empty data directory behind.
func TestCommandsThatReadDataRefuseNoData(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-node")
	commands := [][]string{
		{"user", "list"}, {"unit", "list"}, {"audit", "verify"}, {"exchange", "services"},
		{"records", "key-destruction", "report"}, {"migrate", "status"}, {"demo", "totp", "admin"},
	}
	for _, args := range commands {
		var out, errOut strings.Builder
		code := Main(context.Background(), append(slicesClone(args), "--data", missing), &out, &errOut)
		if code != 1 || !strings.Contains(errOut.String(), "holds no Chancery data") || !strings.Contains(errOut.String(), "chancery serve") {
			t.Errorf("chancery %v --data MISSING = %d %q, want 1 and a message that says there is no data and what to do", args, code, errOut.String())
		}
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("chancery %v made the data directory: %v", args, err)
		}
	}
	// The default data directory, in the working directory.
	t.Chdir(t.TempDir())
	var errOut strings.Builder
	if code := Main(context.Background(), []string{"user", "list"}, io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), "chancery-data") {
		t.Errorf("chancery user list in an empty directory = %d %q", code, errOut.String())
	}
	if _, err := os.Stat("chancery-data"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("chancery user list made ./chancery-data: %v", err)
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// TestStorageFlagsFollowTheSubcommand: the storage flags follow the
// command they are for in every command (chancery user list --data DIR,
// chancery audit verify --data DIR); before the subcommand of unit and
// user, as before, they still work.
func TestStorageFlagsFollowTheSubcommand(t *testing.T) {
	cfg := testConfig(t, false)
	a, _ := MustStart(t, cfg)
	a.Close()
	dir := cfg.DataDir
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "list", "--data", dir}, "admin"},
		{[]string{"user", "list", "--data=" + dir, "--unit", "000.00.00.G12"}, "admin"},
		{[]string{"user", "--data", dir, "list"}, "admin"},
		{[]string{"unit", "show", "000.00.00.G12", "-data", dir}, "Bộ Ngoại giao"},
		{[]string{"audit", "verify", "--data", dir}, "verified"},
		{[]string{"migrate", "status", "--data", dir}, "schema version"},
	} {
		var out, errOut strings.Builder
		if code := Main(context.Background(), tt.args, &out, &errOut); code != 0 || !strings.Contains(out.String(), tt.want) {
			t.Errorf("chancery %v = %d, stdout %q, stderr %q; want 0 and %q", tt.args, code, out.String(), errOut.String(), tt.want)
		}
	}
}

func TestStorageArgsPartsTheStorageFlags(t *testing.T) {
	storage, rest := storageArgs([]string{"set-role", "--data", "D", "alice", "--db=postgres://x", "clerk", "-blob", "file:///b", "--", "--data"})
	if got := strings.Join(storage, " "); got != "--data D --db=postgres://x -blob file:///b" {
		t.Errorf("storage flags = %q", got)
	}
	if got := strings.Join(rest, " "); got != "set-role alice clerk -- --data" {
		t.Errorf("rest = %q", got)
	}
}

// TestVersionNamesTheModuleVersionAndCommit: chancery version prints the
// module version and the commit the toolchain stamped, and says devel
// and that the commit is unknown where the build tells neither.
func TestVersionNamesTheModuleVersionAndCommit(t *testing.T) {
	stamped := &debug.BuildInfo{Main: debug.Module{Path: "chancery", Version: "v0.0.0-20261206153000-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-06T15:30:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, tt := range []struct {
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{stamped, true, "chancery v0.0.0-20261206153000-0123456789ab+dirty (commit 0123456789abcdef0123456789abcdef01234567, 2026-12-06T15:30:00Z, with uncommitted changes)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "chancery devel (commit unknown"},
		{nil, false, "chancery devel (commit unknown"},
	} {
		if got := versionLine(tt.info, tt.ok); !strings.HasPrefix(got, tt.want) {
			t.Errorf("versionLine = %q, want %q", got, tt.want)
		}
	}
	var out strings.Builder
	if code := Main(context.Background(), []string{"version"}, &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), "chancery ") || !strings.Contains(out.String(), "commit") {
		t.Errorf("chancery version = %d %q", code, out.String())
	}
}

// TestDemoTOTPPrintsACodeThatSignsIn: chancery demo totp USER prints the
// demo account's current code, with which it signs in; it refuses a
// directory that holds no demo, an account without a second factor and
// a missing username.
func TestDemoTOTPPrintsACodeThatSignsIn(t *testing.T) {
	cfg := testConfig(t, true)
	a, srv := MustStart(t, cfg)
	run := func(args ...string) (int, string, string) {
		var out, errOut strings.Builder
		code := Main(context.Background(), args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := run("demo", "totp", "auditor", "--data", cfg.DataDir)
	if code != 0 || len(strings.TrimSpace(out)) != 6 {
		t.Fatalf("chancery demo totp auditor = %d %q %q", code, out, errOut)
	}
	secret, err := readDemoSecret(cfg.DataDir, "auditor")
	if err != nil {
		t.Fatal(err)
	}
	now, _ := auth.TOTPCode(secret, time.Now())
	before, _ := auth.TOTPCode(secret, time.Now().Add(-30*time.Second))
	if got := strings.TrimSpace(out); got != now && got != before {
		t.Fatalf("chancery demo totp auditor printed %s, the current code is %s", got, now)
	}
	mustLogin(t, srv.URL, "auditor", cfg.DemoPassword, strings.TrimSpace(out))
	a.Close()

	plain := testConfig(t, false)
	b, _ := MustStart(t, plain)
	b.Close()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"demo", "totp", "admin", "--data", plain.DataDir}, 1, "is not a demo's data directory"},
		{[]string{"demo", "totp", "citizen@example.com", "--data", cfg.DataDir}, 1, "no demo account"},
		{[]string{"demo", "totp", "evil\u202e\r\nname", "--data", cfg.DataDir}, 1, `"evil\u202e\r\nname"`},
		{[]string{"demo", "totp", "--data", cfg.DataDir}, 2, "chancery demo totp USERNAME"},
		{[]string{"demo", "frob"}, 2, "unknown subcommand"},
	} {
		code, out, errOut := run(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("chancery %q = %d %q %q; want %d and %q", tt.args, code, out, errOut, tt.code, tt.want)
		}
	}
}

// TestPortZeroTakesAnyFreePort: --leaf-addr with port 0 and --nats-port
// 0 listen on free ports, which the log names; the leaf URLs missions get
// at enrolment carry the port chosen.
func TestPortZeroTakesAnyFreePort(t *testing.T) {
	cfg := testConfig(t, false)
	cfg.LeafAddr, cfg.NATSPort, cfg.LogLevel = "127.0.0.1:0", 0, "info"
	var log strings.Builder
	a, err := New(context.Background(), cfg, newLogger(cfg, &log))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, leafPort, err := net.SplitHostPort(a.Bus.LeafAddr())
	if err != nil || leafPort == "0" {
		t.Fatalf("leaf listener at %q (%v), want a chosen port", a.Bus.LeafAddr(), err)
	}
	if urls := a.leafURLs(); len(urls) != 1 || !strings.HasSuffix(urls[0], ":"+leafPort) {
		t.Errorf("missions are given %v, want the chosen leaf port %s", urls, leafPort)
	}
	client := strings.TrimPrefix(a.Bus.Conn().ConnectedUrl(), "nats://")
	if _, port, err := net.SplitHostPort(client); err != nil || port == "0" {
		t.Fatalf("NATS client port %q, want a chosen one", client)
	}
	if !strings.Contains(log.String(), client) || !strings.Contains(log.String(), a.Bus.LeafAddr()) {
		t.Errorf("the log does not name the chosen ports %s and %s:\n%s", client, a.Bus.LeafAddr(), log.String())
	}
}

// TestBusyLeafAddrNamesTheFlag: a leaf port in use stops the start with
// an error that names --leaf-addr.
func TestBusyLeafAddrNamesTheFlag(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := testConfig(t, false)
	cfg.LeafAddr = l.Addr().String()
	a, err := New(context.Background(), cfg, newLogger(cfg, io.Discard))
	if err == nil {
		a.Close()
		t.Fatal("a node started on a leaf port in use")
	}
	if !strings.Contains(err.Error(), "--leaf-addr") {
		t.Errorf("error %q does not name --leaf-addr", err)
	}
}

// TestDemoGuideSaysWhatToTryAndHowToGetCodes: the demo's banner points
// at the portal's first steps and at chancery demo totp for the data
// directory the node runs on.
func TestDemoGuideSaysWhatToTryAndHowToGetCodes(t *testing.T) {
	g := demoGuide("http://127.0.0.1:8080", "/srv/demo data")
	for _, want := range []string{"http://127.0.0.1:8080/procedures", "http://127.0.0.1:8080/account/login", "citizen@example.com",
		"http://127.0.0.1:8080/console/", "chancery demo totp USERNAME --data '/srv/demo data'"} {
		if !strings.Contains(g, want) {
			t.Errorf("the demo guide lacks %q:\n%s", want, g)
		}
	}
}
