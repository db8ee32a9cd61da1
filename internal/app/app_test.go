package app

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"chancery/internal/config"
	"chancery/internal/records"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestMain doubles as the chancery binary when CHANCERY_TEST_MAIN is set,
// so tests can run the real program as a child process without building
// it first.
func TestMain(m *testing.M) {
	if os.Getenv("CHANCERY_TEST_MAIN") == "1" {
		os.Exit(Run(os.Args[1:]))
	}
	storetest.Main(m, theBrowser.stop, theDemoTemplate.remove, theDemoServe.remove)
}

// testConfig is the embedded default in a fresh data directory, its
// database already migrated (a copy of storetest's template).
func testConfig(tb testing.TB, demo bool) config.Config {
	tb.Helper()
	dir := tb.TempDir()
	storetest.MigratedDataDir(tb, dir)
	cfg, err := serveConfig(dir, demo)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// serveConfig is testConfig's configuration for the data directory dir.
func serveConfig(dir string, demo bool) (config.Config, error) {
	cfg, err := config.ParseServe([]string{"--data", dir, "--addr", "127.0.0.1:0", "--log-level", "warn", "--leaf-addr", ""}, io.Discard)
	cfg.Demo = demo
	return cfg, err
}

// Seeding a demo headquarters (its directory, accounts, records, portal,
// architecture, forecast, insight and monitoring data) takes seconds
// under -race, and most of internal/app's tests start one. So each test
// process seeds one, once, in a directory of its own, and MustStart
// copies that data directory for every demo node whose configuration is
// testConfig's: the node then starts as a demo node does the second time
// (TestSecondStartReusesDataAndDoesNotSeedAgain), on data seeded the same
// way. A demo node on PostgreSQL (cfg.DB a new database of storetest's)
// has a template of its own, seeded on PostgreSQL: its data directory,
// and its database, which PostgreSQL copies (CREATE DATABASE … TEMPLATE)
// into the node's.
type demoTemplate struct {
	mu               sync.Mutex
	sqlite, postgres seededDemo
}

// seededDemo is one seeded demo node, stopped.
type seededDemo struct {
	dir    string        // the seeded data directory; "" until made
	cfg    config.Config // the configuration it was seeded with, cfg.DB left out
	banner string        // what its first start said, the seeding
	db     string        // on PostgreSQL, the seeded database's name
}

// theDemoTemplate is per test process, like storetest's templates.
var theDemoTemplate demoTemplate

// seededCopy replaces cfg's fresh data directory (and, on PostgreSQL,
// its new database) with a copy of the seeded demo data, making it on
// first use, and reports whether it did: not where cfg differs from
// testConfig's in what seeding depends on, or where the data directory is
// not a fresh one of testConfig's.
func (d *demoTemplate) seededCopy(tb testing.TB, cfg config.Config) bool {
	tb.Helper()
	if !cfg.Demo || !freshDataDir(cfg.DataDir) {
		return false
	}
	pg := strings.HasPrefix(cfg.DB, "postgres://")
	if cfg.DB != "" && !pg {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	t := &d.sqlite
	if pg {
		t = &d.postgres
	}
	if t.dir == "" {
		if err := t.seed(tb, pg); err != nil {
			tb.Fatalf("seed the demo template: %v", err)
		}
	}
	// What a test may change without changing what is seeded: where the
	// data lives, the leaf listener, the documents' size limit.
	same := func(c config.Config) config.Config {
		c.DataDir, c.LeafAddr, c.MaxDocumentBytes, c.DB = "", "", 0, ""
		return c
	}
	if !reflect.DeepEqual(same(cfg), same(t.cfg)) {
		return false
	}
	files, err := os.ReadDir(cfg.DataDir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range files {
		if err := os.Remove(filepath.Join(cfg.DataDir, f.Name())); err != nil {
			tb.Fatal(err)
		}
	}
	if err := copyTree(t.dir, cfg.DataDir); err != nil {
		tb.Fatalf("copy the seeded demo data: %v", err)
	}
	if pg {
		if err := copyPostgres(cfg.DB, t.db); err != nil {
			tb.Fatalf("copy the seeded demo database: %v", err)
		}
	}
	return true
}

// seed makes the template: a demo headquarters bootstrapped as MustStart
// bootstraps one (the records' demo year left out), then closed, so that
// its files (and on PostgreSQL its database) are the whole of its data.
func (t *seededDemo) seed(tb testing.TB, pg bool) (err error) {
	dir, err := os.MkdirTemp("", "chancery-demo-template-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	if err := storetest.CopyMigrated(dir); err != nil {
		return err
	}
	cfg, err := serveConfig(dir, true)
	if err != nil {
		return err
	}
	var db string
	if pg {
		// A new migrated database of the throwaway cluster, which lives
		// as long as the test process.
		cfg.DB = storetest.MustPostgresURL(tb)
		if db, err = databaseName(cfg.DB); err != nil {
			return err
		}
	}
	ctx := context.Background()
	a, err := New(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	var banner string
	err = errors.Join(store.SetMeta(ctx, a.DB, records.DemoYearKey, "left out by the test"), func() (err error) {
		banner, err = a.bootstrap(ctx)
		return err
	}())
	if err := errors.Join(err, a.Close()); err != nil {
		return err
	}
	cfg.DB = ""
	t.dir, t.cfg, t.banner, t.db = dir, cfg, banner, db
	return nil
}

// databaseName is the database a PostgreSQL URL names.
func databaseName(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || strings.ContainsAny(name, `"/`) {
		return "", fmt.Errorf("no database name in %q", dsn)
	}
	return name, nil
}

// copyPostgres makes the database dsn names, new and unused, a copy of
// the template database: dropped, then created again from the template.
// PostgreSQL copies a database only while no one is connected to it, and
// the template's node is closed; d.mu keeps two copies from overlapping.
func copyPostgres(dsn, template string) error {
	name, err := databaseName(dsn)
	if err != nil {
		return err
	}
	u, _ := url.Parse(dsn)
	u.Path = "/postgres"
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `DROP DATABASE "`+name+`" WITH (FORCE)`); err != nil {
		return err
	}
	_, err = admin.ExecContext(ctx, `CREATE DATABASE "`+name+`" TEMPLATE "`+template+`" STRATEGY FILE_COPY`)
	return err
}

// firstStart puts a copy of the template into cfg's fresh data directory,
// as MustStart does, and returns what the template's first start said:
// cfg's node then starts a second time, on data its first start seeded.
// It fails tb where cfg is not testConfig's for a demo node.
func (d *demoTemplate) firstStart(tb testing.TB, cfg config.Config) string {
	tb.Helper()
	if !d.seededCopy(tb, cfg) {
		tb.Fatal("the demo template does not fit this configuration (testConfig(tb, true)'s, a fresh data directory)")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cfg.DB != "" {
		return d.postgres.banner
	}
	return d.sqlite.banner
}

// remove deletes the templates' directories at the test process's end
// (their PostgreSQL databases go with storetest's cluster).
func (d *demoTemplate) remove() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range []seededDemo{d.sqlite, d.postgres} {
		if t.dir != "" {
			os.RemoveAll(t.dir)
		}
	}
}

// freshDataDir reports whether dir holds only the migrated database
// testConfig put there (chancery.db, and a journal if SQLite left one).
func freshDataDir(dir string) bool {
	files, err := os.ReadDir(dir)
	if err != nil || len(files) == 0 {
		return false
	}
	for _, f := range files {
		if !f.Type().IsRegular() || !strings.HasPrefix(f.Name(), "chancery.db") {
			return false
		}
	}
	return true
}

// copyTree copies the directory from into to, keeping every file's and
// directory's mode (a data directory's are private).
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		target := filepath.Join(to, rel)
		if d.IsDir() {
			if err := os.MkdirAll(target, 0o700); err != nil {
				return err
			}
			return os.Chmod(target, info.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
}

// MustStart builds the node for cfg, runs its first-start bootstrap and
// serves it with httptest; everything is closed when tb ends.
func MustStart(tb testing.TB, cfg config.Config) (*App, *httptest.Server) {
	tb.Helper()
	theDemoTemplate.seededCopy(tb, cfg)
	a, err := New(context.Background(), cfg, newLogger(cfg, io.Discard))
	if err != nil {
		tb.Fatalf("start chancery: %v", err)
	}
	tb.Cleanup(func() { a.Close() })
	// The demo's year of records takes seconds to seed (tens under
	// -race), which each of the many demo nodes the tests start would pay;
	// internal/records' TestSeedDemo specifies it.
	if err := store.SetMeta(context.Background(), a.DB, records.DemoYearKey, "left out by the test"); err != nil {
		tb.Fatal(err)
	}
	if _, err := a.bootstrap(context.Background()); err != nil {
		tb.Fatalf("bootstrap: %v", err)
	}
	return a, httptestServer(tb, a)
}

// httptestServer serves a's handler until tb ends.
func httptestServer(tb testing.TB, a *App) *httptest.Server {
	srv := httptest.NewServer(a.Handler())
	tb.Cleanup(srv.Close)
	return srv
}

// mustLogin signs in through the API and returns the bearer token.
func mustLogin(tb testing.TB, base, username, password, totp string) string {
	tb.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password, "totp": totp})
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || out.Token == "" {
		tb.Fatalf("login %s: %d %s", username, resp.StatusCode, b)
	}
	return out.Token
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	cfg := testConfig(t, false)
	cfg.MetricsToken = "scrape-0123456789abcdef"
	_, srv := MustStart(t, cfg)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, b)
		}
		if path == "/readyz" && (!strings.Contains(string(b), `"database":"ok (sqlite)"`) || !strings.Contains(string(b), "JetStream")) {
			t.Fatalf("readyz does not report the database and NATS: %s", b)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+cfg.MetricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`chancery_http_requests_total{code="200",route="GET /readyz"} 1`, "chancery_http_request_duration_seconds_bucket", "go_goroutines"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestReadinessFailsWhenNATSIsDown(t *testing.T) {
	a, srv := MustStart(t, testConfig(t, false))
	a.Bus.Close()
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), `"nats":"down`) {
		t.Fatalf("readyz with NATS closed = %d %s", resp.StatusCode, b)
	}
}

func TestUnknownRoutesAnswerWithProblems(t *testing.T) {
	_, srv := MustStart(t, testConfig(t, false))
	tests := []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/v1/nothing-here", 404},
		{"DELETE", "/healthz", 405},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		req.Header.Set("Content-Type", "application/json") // an API client, not a form
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s = %d %s, want %d problem+json", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status)
		}
	}
}

func TestSecondStartReusesDataAndDoesNotSeedAgain(t *testing.T) {
	cfg := testConfig(t, true)
	// The first start is the demo template's, made once per test process
	// exactly as this test made it before (testConfig's configuration and
	// migrated data directory, then New and the bootstrap, the records'
	// demo year left out as MustStart leaves it out; the tests that run
	// the real program, TestAuditVerifyAfterADemoServe, seed that year),
	// then closed: seeding took most of this test's time under -race. Its
	// data, copied into cfg's directory, is what the second start finds.
	first := theDemoTemplate.firstStart(t, cfg)
	a, err := New(context.Background(), cfg, newLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	second, err := a.bootstrap(context.Background())
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if !strings.Contains(first, "consular.clerk") || !strings.Contains(second, "not seeded again") {
		t.Fatalf("first start said %q…, second %q…", first[:min(80, len(first))], second[:min(80, len(second))])
	}
	// --addr 127.0.0.1:0: the exchange's example names the port the node
	// serves at, at the first start and every later one.
	for _, banner := range []string{first, second} {
		if got := atURL(banner, "http://127.0.0.1:41234"); !strings.Contains(got, "http://127.0.0.1:41234/exchange/v1/") || strings.Contains(got, ":0/") {
			t.Errorf("the banner's curl example: %q", got[max(0, strings.Index(got, "Try: curl")):])
		}
	}
}

// startChild runs the real program as a child process and returns it
// with the URL it printed.
func startChild(tb testing.TB, args ...string) (*exec.Cmd, string) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CHANCERY_TEST_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`Chancery is running: (http://[^/ ]+)/`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			tb.Fatal("chancery exited before serving")
		}
		return cmd, u
	case <-time.After(3 * time.Minute):
		// A -race child seeding the whole demo on a busy two-core machine
		// has taken over a minute.
		tb.Fatal("chancery did not start within 3 minutes")
	}
	return nil, ""
}

func TestServeFinishesInFlightRequestsOnSIGTERM(t *testing.T) {
	// The data directory holds a copy of storetest's migrated database, as
	// testConfig's do: what is under test is the stop, and migrating from
	// nothing took most of this test's time under -race
	// (TestMigrateCommandReportsTheSchemaVersion migrates from nothing).
	dir := t.TempDir()
	storetest.MigratedDataDir(t, dir)
	cmd, base := startChild(t, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--leaf-addr=", "--admin-password", "a-long-enough-passphrase")
	u, _ := url.Parse(base)
	// Send the headers and half the body of a login, then SIGTERM: the
	// server must wait for the rest and answer it.
	body := `{"username":"admin","password":"wrong-password-here"}`
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/auth/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", u.Host, len(body), body[:10])
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	fmt.Fprint(conn, body[10:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request was cut off: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("in-flight login answered %d, want 401", resp.StatusCode)
	}
	waitExitAfterSIGTERM(t, cmd)
}

// waitExitAfterSIGTERM fails tb unless the child chancery cmd, sent
// SIGTERM, exits with status 0 within 30 s.
func waitExitAfterSIGTERM(tb testing.TB, cmd *exec.Cmd) {
	tb.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			tb.Fatalf("chancery exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(30 * time.Second):
		tb.Fatal("chancery did not exit within 30 s of SIGTERM")
	}
}

func TestNewRefusesADatabaseNewerThanTheBinary(t *testing.T) {
	cfg := testConfig(t, false)
	a, _ := MustStart(t, cfg)
	if _, err := a.DB.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, TRUE)"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	_, err := New(context.Background(), cfg, newLogger(cfg, io.Discard))
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("New on a newer database = %v, want a refusal", err)
	}
}

func TestCommandLineErrorsExitNonZeroWithAMessage(t *testing.T) {
	// A data directory that holds a database: commands that read data
	// refuse one that holds none (TestCommandsThatReadDataRefuseNoData).
	tmp := t.TempDir()
	if code := Main(context.Background(), []string{"migrate", "--data", tmp}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("migrate exit %d", code)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage"},
		{[]string{"frobnicate"}, 2, "unknown subcommand \"frobnicate\"\nchancery — the digital backbone"},
		{[]string{"serve", "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"migrate", "--data", "", "--db", "mysql://x"}, 1, "unsupported database"},
		// Every capability's command answers a wrong command line with the
		// one usage error: exit 2, the problem and the command's usage.
		{[]string{"calendar", "frob"}, 2, "chancery calendar holidays YEAR"},
		{[]string{"procedures", "frob"}, 2, "chancery procedures export DIR"},
		{[]string{"audit", "frob"}, 2, "unknown subcommand \"frob\""},
		{[]string{"exchange", "frob"}, 2, "unknown subcommand \"frob\""},
		{[]string{"unit", "--data", tmp, "frob"}, 2, "chancery unit add"},
		{[]string{"user", "--data", tmp, "frob"}, 2, "chancery user add"},
		{[]string{"calendar", "holidays", "1066"}, 1, "is not a year from 1900 to 2199"},
		{[]string{"records", "frob"}, 2, "chancery records register export"},
		{[]string{"records", "register", "export", "--data", tmp, "--unit", "X", "--year", "2026", "--direction", "sideways"}, 2, "--direction"},
		{[]string{"records", "key-destruction", "report", "--data", tmp}, 0, "DESTROYED"},
	}
	for _, tt := range tests {
		var out, errOut strings.Builder
		code := Main(context.Background(), tt.args, &out, &errOut)
		if code != tt.code || !strings.Contains(errOut.String()+out.String(), tt.want) {
			t.Errorf("chancery %v = %d %q, want %d mentioning %q", tt.args, code, errOut.String(), tt.code, tt.want)
		}
	}
}

func TestHelpAndVersionExitZeroOnStdout(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "chancery calendar <command>"},
		{[]string{"-h"}, "chancery calendar <command>"},
		{[]string{"--help"}, "chancery calendar <command>"},
		{[]string{"calendar", "help"}, "chancery calendar holidays YEAR"},
		{[]string{"unit", "--data", filepath.Join(t.TempDir(), "none"), "help"}, "chancery unit add"},
		{[]string{"user", "--data", filepath.Join(t.TempDir(), "none"), "help"}, "chancery user add"},
		{[]string{"version"}, "chancery " + Version},
	} {
		var out, errOut strings.Builder
		if code := Main(context.Background(), tt.args, &out, &errOut); code != 0 || !strings.Contains(out.String(), tt.want) || errOut.Len() != 0 {
			t.Errorf("chancery %v = %d, stdout %q, stderr %q; want 0 and %q on stdout", tt.args, code, out.String(), errOut.String(), tt.want)
		}
		if len(tt.args) > 2 && tt.args[1] == "--data" {
			if _, err := os.Stat(tt.args[2]); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("chancery %v made its data directory for the usage: %v", tt.args, err)
			}
		}
	}
}

func TestMigrateCommandReportsTheSchemaVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out strings.Builder
	if code := Main(context.Background(), []string{"migrate", "--data", dir}, &out, io.Discard); code != 0 {
		t.Fatalf("migrate exit %d", code)
	}
	out.Reset()
	if code := Main(context.Background(), []string{"migrate", "--data", dir, "status"}, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "schema version") {
		t.Fatalf("migrate status = %d %q", code, out.String())
	}
}

// TestServesTheSameOnPostgreSQL runs the node on PostgreSQL: the demo
// seeds, staff sign in, and readiness reports the database.
func TestServesTheSameOnPostgreSQL(t *testing.T) {
	cfg := testConfig(t, true)
	cfg.DB = storetest.MustPostgresURL(t)
	a, srv := MustStart(t, cfg)
	if a.DB.Dialect != "postgres" {
		t.Fatalf("dialect = %s", a.DB.Dialect)
	}
	token := mustLogin(t, srv.URL, "admin", cfg.DemoPassword, demoTOTP(t, a, "admin"))
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/units?kind=embassy", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"kind":"embassy"`) {
		t.Fatalf("GET /api/v1/units?kind=embassy on PostgreSQL = %d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "ok (postgres)") {
		t.Fatalf("readyz = %s", b)
	}
}
