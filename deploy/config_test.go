package deploy

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"chancery/internal/config"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// unitLines returns the values of key (ExecStart, …) in a systemd unit.
func unitLines(t *testing.T, path, key string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

// TestSystemdUnitsUseChanceryFlags runs each chancery unit's ExecStart
// through chancery serve's own flag parser and validation: a renamed or
// misspelt flag, or a value serve refuses, fails here rather than at an
// operator's first start.
func TestSystemdUnitsUseChanceryFlags(t *testing.T) {
	for _, unit := range []string{"systemd/chancery-hq.service", "systemd/chancery-mission.service"} {
		lines := unitLines(t, unit, "ExecStart")
		if len(lines) != 1 {
			t.Fatalf("%s: %d ExecStart lines, want 1", unit, len(lines))
		}
		args := strings.Fields(lines[0])
		if len(args) < 2 || args[0] != "/usr/local/bin/chancery" || args[1] != "serve" {
			t.Fatalf("%s: ExecStart %q does not run chancery serve", unit, lines[0])
		}
		cfg, err := config.ParseServe(args[2:], io.Discard)
		if err != nil {
			t.Errorf("%s: chancery serve refuses its flags: %v", unit, err)
			continue
		}
		if !cfg.SecureCookies || cfg.TrustedProxies == "" || cfg.PublicURL == "" {
			t.Errorf("%s: a production node behind a proxy needs --secure-cookies, --trusted-proxies and --public-url", unit)
		}
		if strings.Contains(lines[0], "CHANCERY_") || strings.Contains(lines[0], "postgres://") {
			t.Errorf("%s: secrets belong in the EnvironmentFile, not on the command line ps shows", unit)
		}
	}
}

// TestEnvironmentFilesNameRealVariables checks that every CHANCERY_*
// variable of the example environment file is a flag's twin that chancery
// serve lists in its usage (or the master key, the one variable without a
// flag), so a typo does not silently leave a setting at its default.
func TestEnvironmentFilesNameRealVariables(t *testing.T) {
	var usage bytes.Buffer
	if _, err := config.ParseServe([]string{"-h"}, &usage); err != flag.ErrHelp {
		t.Fatalf("chancery serve -h: %v", err)
	}
	known := map[string]bool{"CHANCERY_MASTER_KEY": true}
	for _, m := range regexp.MustCompile(`\(env (CHANCERY_[A-Z_]+)\)`).FindAllStringSubmatch(usage.String(), -1) {
		known[m[1]] = true
	}
	if len(known) < 20 {
		t.Fatalf("found only %d variables in chancery serve's usage; has its format changed?", len(known))
	}
	for _, kv := range envFile(t, "systemd/chancery.env.example") {
		name := kv[0]
		switch {
		case strings.HasPrefix(name, "AWS_"): // the S3 client's own
		case !known[name]:
			t.Errorf("chancery.env.example: %s is no variable chancery serve reads", name)
		}
	}
}

// TestNATSUnitStartsWithItsConfig parses the nats-server unit's command
// line with nats-server's own flag handling, which also reads the
// configuration file it names.
func TestNATSUnitStartsWithItsConfig(t *testing.T) {
	natsEnv(t)
	dir := t.TempDir()
	writeTLS(t, filepath.Join(dir, "tls"), "ca.pem", "server.pem", "server-key.pem", "leaf.pem", "leaf-key.pem")
	copyWith(t, "nats", dir, strings.NewReplacer("/etc/nats/tls/", filepath.Join(dir, "tls")+"/"))
	if err := os.Rename(filepath.Join(dir, "nats-2.conf"), filepath.Join(dir, "nats.conf")); err != nil {
		t.Fatal(err)
	}
	lines := unitLines(t, "systemd/nats-server.service", "ExecStart")
	if len(lines) != 1 {
		t.Fatalf("nats-server.service: %d ExecStart lines", len(lines))
	}
	args := strings.Fields(strings.ReplaceAll(lines[0], "/etc/nats/", dir+"/"))[1:]
	fs := flag.NewFlagSet("nats-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o, err := server.ConfigureOptions(fs, args, func() {}, func() {}, func() {})
	if err != nil {
		t.Fatalf("nats-server %v: %v", args, err)
	}
	if o.ServerName != "nats-2" || !o.JetStream {
		t.Errorf("nats-server read server %q, JetStream %v from %v", o.ServerName, o.JetStream, args)
	}
}

// TestHAProxyConfigIsValid runs `haproxy -c` on the configuration, with a
// throwaway certificate in place of the ministry's.
func TestHAProxyConfigIsValid(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		for _, p := range []string{"/usr/sbin/haproxy", "/usr/local/sbin/haproxy"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Skip("haproxy is not installed (Debian: apt-get install haproxy); deploy/haproxy/haproxy.cfg not checked")
	}
	dir := t.TempDir()
	writeTLS(t, dir, "chancery-combined.pem")
	b, err := os.ReadFile("haproxy/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.ReplaceAll(string(b), "/etc/haproxy/certs/chancery.pem", filepath.Join(dir, "chancery-combined.pem"))
	if !strings.Contains(cfg, "uri /readyz") {
		t.Error("haproxy.cfg: the replicas' health check must be GET /readyz")
	}
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
}

// TestShellScriptsParse checks every script with bash -n.
func TestShellScriptsParse(t *testing.T) {
	scripts, _ := filepath.Glob("*/*.sh")
	if len(scripts) < 5 {
		t.Fatalf("found %d scripts", len(scripts))
	}
	for _, s := range scripts {
		if out, err := exec.Command("bash", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", s, err, out)
		}
	}
}

// TestWALArchiveNeverOverwrites runs the archive_command: a segment is
// copied, the same segment again (PostgreSQL's retry after a crash) is
// fine, and a different file under an archived name is refused.
func TestWALArchiveNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "wal")
	if err := os.Mkdir(archive, 0o700); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(dir, "000000010000000000000001")
	run := func(content string) error {
		if err := os.WriteFile(seg, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "backup/pg-archive-wal.sh", seg, filepath.Base(seg))
		cmd.Env = append(os.Environ(), "WAL_ARCHIVE="+archive)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("pg-archive-wal.sh: %s", out)
		}
		return err
	}
	if err := run("segment one"); err != nil {
		t.Fatalf("first archive: %v", err)
	}
	if err := run("segment one"); err != nil {
		t.Fatalf("archiving the same segment again must succeed: %v", err)
	}
	if err := run("another segment"); err == nil {
		t.Fatal("a different file under an archived name was accepted")
	}
	if b, _ := os.ReadFile(filepath.Join(archive, filepath.Base(seg))); string(b) != "segment one" {
		t.Fatalf("the archive holds %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(archive, ".*")); len(left) > 0 {
		t.Fatalf("temporary files left in the archive: %v", left)
	}
}

// TestDockerfileBuildsTheRealProgram checks the image's build command:
// it builds the main package at ./cmd/chancery without cgo, the variable
// its -X sets is the string chancery version prints, and the final stage
// is distroless/static run as a non-root user.
func TestDockerfileBuildsTheRealProgram(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := strings.ReplaceAll(string(b), "\\\n", " ")
	build := regexp.MustCompile(`(?m)^RUN .*CGO_ENABLED=0 go build (.*) (\./cmd/chancery)\s*$`).FindStringSubmatch(df)
	if build == nil {
		t.Fatal("Dockerfile: no RUN line builds ./cmd/chancery with CGO_ENABLED=0")
	}
	x := regexp.MustCompile(`-X ([\w/.]+)\.(\w+)=`).FindStringSubmatch(build[1])
	if x == nil || x[1] != "chancery/internal/app" {
		t.Fatalf("Dockerfile: the build sets no -X chancery/internal/app.…: %s", build[1])
	}
	if !stringVar(t, "../internal/app", x[2]) {
		t.Errorf("Dockerfile: -X %s.%s names no package-level string variable", x[1], x[2])
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if .Error}}{{.ImportPath}}: {{.Error}}{{end}}", "../cmd/chancery")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("go list without cgo: %v\n%s", err, out)
	}
	name, err := exec.Command("go", "list", "-f", "{{.Name}}", "../cmd/chancery").Output()
	if err != nil || strings.TrimSpace(string(name)) != "main" {
		t.Fatalf("./cmd/chancery is package %q (%v), want main", name, err)
	}
	stages := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	if len(stages) < 2 || !strings.HasPrefix(stages[len(stages)-1][1], "gcr.io/distroless/static") {
		t.Errorf("Dockerfile: the final stage %v is not distroless/static", stages)
	}
	if !regexp.MustCompile(`(?m)^USER (65532|nonroot)`).MatchString(df) {
		t.Error("Dockerfile: the image must run as the non-root user")
	}
}

// stringVar reports whether the package in dir declares a package-level
// string variable name (what -ldflags -X can set).
func stringVar(t *testing.T, dir, name string) bool {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, file := range names {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		{
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.VAR {
					continue
				}
				for _, s := range g.Specs {
					v := s.(*ast.ValueSpec)
					for i, n := range v.Names {
						if n.Name != name {
							continue
						}
						if id, ok := v.Type.(*ast.Ident); ok && id.Name == "string" {
							return true
						}
						if i < len(v.Values) {
							if lit, ok := v.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								return true
							}
						}
					}
				}
			}
		}
	}
	return false
}

// TestPostgresRoles runs roles.sql on a throwaway cluster, migrates as
// chancery_owner and checks that chancery_app reads and writes rows but
// cannot change the schema, so a replica never migrates behind the
// operator's back.
func TestPostgresRoles(t *testing.T) {
	ctx := context.Background()
	url := storetest.MustPostgresURL(t)
	sql, err := os.ReadFile("postgres/roles.sql")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := store.Open(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for range 2 { // running it again (after migrations) must work too
		if _, err := admin.ExecContext(ctx, string(sql)); err != nil {
			t.Fatalf("roles.sql: %v", err)
		}
	}
	as := func(role string) *store.DB {
		db, err := store.Open(ctx, strings.Replace(url, "://postgres@", "://"+role+"@", 1), "")
		if err != nil {
			t.Fatalf("connect as %s: %v", role, err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	app := as("chancery_app")
	if err := app.Migrate(ctx, nil); err == nil {
		t.Fatal("chancery_app applied the migrations: it must not be able to change the schema")
	}
	if err := as("chancery_owner").Migrate(ctx, nil); err != nil {
		t.Fatalf("migrate as chancery_owner: %v", err)
	}
	if err := app.Migrate(ctx, nil); err != nil {
		t.Fatalf("a replica's start (nothing to migrate) as chancery_app: %v", err)
	}
	if err := app.CheckWritable(ctx); err != nil {
		t.Fatalf("chancery_app cannot write rows: %v", err)
	}
	if _, err := app.ExecContext(ctx, `CREATE TABLE intruder (id int)`); err == nil {
		t.Fatal("chancery_app created a table")
	}
	if _, err := app.ExecContext(ctx, `DROP TABLE meta`); err == nil {
		t.Fatal("chancery_app dropped a table")
	}
}
