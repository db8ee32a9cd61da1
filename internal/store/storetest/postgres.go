package storetest

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

type cluster struct {
	dir  string // data directory, owned by the postgres user when run as root
	bin  string // directory holding initdb and pg_ctl
	port int
	seq  atomic.Int64
	asPG bool // run the server binaries as the postgres user (we are root)
}

var (
	clusterOnce sync.Once
	clusterMu   sync.Mutex
	theCluster  *cluster
	clusterErr  error
)

func required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("CHANCERY_REQUIRE_POSTGRES") == "1"
}

func sharedCluster() (*cluster, error) {
	clusterOnce.Do(func() {
		c, err := startCluster()
		clusterMu.Lock()
		theCluster, clusterErr = c, err
		clusterMu.Unlock()
	})
	return theCluster, clusterErr
}

// findBin looks for initdb the way Debian installs it: not on PATH but in
// /usr/lib/postgresql/<version>/bin; the newest version wins.
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("initdb not found on PATH or in /usr/lib/postgresql/*/bin")
}

func startCluster() (*cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, asPG: os.Geteuid() == 0}
	c.dir, err = os.MkdirTemp("", "chancery-pg-")
	if err != nil {
		return nil, err
	}
	if c.asPG {
		// initdb refuses to run as root: hand the directory to postgres.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root but there is no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if out, err := c.run("initdb", "-D", filepath.Join(c.dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	c.port, err = freePort()
	if err != nil {
		return nil, err
	}
	return c, c.start()
}

// start starts the cluster's server on its port and waits until it takes
// connections.
func (c *cluster) start() error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c max_connections=200", c.port, c.dir) + durability()
	if out, err := c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log"), "-o", opts, "-w", "-t", "30", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v: %s %s", err, out, log)
	}
	return nil
}

// stop stops the server as a crash would (immediate: no checkpoint, every
// session cut), and waits until it is gone.
func (c *cluster) stop() error {
	if out, err := c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// Postgres is a throwaway PostgreSQL cluster of one test's own, which the
// test may stop and start under a live store (the shared cluster serves
// every test of the process and must stay up). Starting one costs an
// initdb, a second or two: use it only where the server must go away.
type Postgres struct{ c *cluster }

// OwnPostgres starts a PostgreSQL cluster for tb alone, stopped and
// removed when tb ends. It skips where PostgreSQL is not installed (and
// fails under CI), as MustPostgresURL does.
func OwnPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	c, err := startCluster()
	if c != nil {
		tb.Cleanup(func() {
			c.stop() //nolint:errcheck // already stopped by the test, maybe
			os.RemoveAll(c.dir)
		})
	}
	if err != nil {
		if required() {
			tb.Fatalf("storetest: PostgreSQL is required here (CI) but could not start: %v", err)
		}
		tb.Skipf("storetest: skipping PostgreSQL test: %v (install Debian's postgresql package to run it)", err)
	}
	return &Postgres{c: c}
}

// URL is the cluster's postgres database, empty until migrated.
func (p *Postgres) URL() string { return p.c.url("postgres") }

// Stop stops the server as a crash would, cutting every connection.
func (p *Postgres) Stop(tb testing.TB) {
	tb.Helper()
	if err := p.c.stop(); err != nil {
		tb.Fatal(err)
	}
}

// Start starts the stopped server again, on the same port.
func (p *Postgres) Start(tb testing.TB) {
	tb.Helper()
	if err := p.c.start(); err != nil {
		tb.Fatal(err)
	}
}

// durability returns the cluster's durability settings. Tests trade
// durability for speed (fsync, synchronous commit and full-page writes
// off: a crash of the throwaway cluster loses nothing anyone keeps), but a
// benchmark's figure must mean what production gives, so a test binary run
// with -test.bench gets PostgreSQL's defaults: every commit flushed to disk.
func durability() string {
	if Benchmarking() {
		return " -c fsync=on -c synchronous_commit=on -c full_page_writes=on"
	}
	return " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
}

// Benchmarking reports whether the test binary was asked to run
// benchmarks (-test.bench), in which case PostgreSQL runs with production
// durability: benchmarks that report a PostgreSQL figure say so with
// PostgresSettings.
func Benchmarking() bool {
	f := flag.Lookup("test.bench")
	return f != nil && f.Value.String() != ""
}

// PostgresSettings describes the durability the throwaway cluster runs
// with, for a benchmark's log line.
func PostgresSettings() string {
	if Benchmarking() {
		return "PostgreSQL fsync=on synchronous_commit=on full_page_writes=on (production defaults)"
	}
	return "PostgreSQL fsync=off synchronous_commit=off full_page_writes=off (test settings)"
}

func (c *cluster) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.asPG {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = os.TempDir()
	return cmd.CombinedOutput()
}

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

func (c *cluster) newDatabase() (string, error) {
	return c.createDatabase(fmt.Sprintf("t%d_%d", os.Getpid(), c.seq.Add(1)), "")
}

// createDatabase creates database name, a copy of template when one is
// named, and returns its URL.
func (c *cluster) createDatabase(name, template string) (string, error) {
	admin, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		return "", err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stmt := "CREATE DATABASE " + name
	if template != "" {
		stmt += " TEMPLATE " + template
		// FILE_COPY copies the template's files instead of logging each
		// page (PostgreSQL 15's default): faster for a small database.
		// Before 15 it is the only way and the option does not exist.
		if _, err := admin.ExecContext(ctx, stmt+" STRATEGY FILE_COPY"); err == nil {
			return c.url(name), nil
		}
	}
	if _, err := admin.ExecContext(ctx, stmt); err != nil {
		return "", err
	}
	return c.url(name), nil
}

func stopCluster() {
	clusterMu.Lock()
	c := theCluster
	clusterMu.Unlock()
	if c == nil {
		return
	}
	c.stop() //nolint:errcheck // best effort at exit
	os.RemoveAll(c.dir)
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listened on a
// moment ago: for a test's server (a NATS listener, a leaf port, a
// cluster) that must be told its port before it starts. The port is
// below the ephemeral range of every common system (Linux's starts at
// 32768, the IANA one others use at 49152): a port the kernel handed out
// for ":0" could be handed out again to any outgoing connection or
// listener of a test running beside this one, before the server it was
// chosen for binds it (CI once lost a whole-system run so).
func FreePort(tb testing.TB) int {
	tb.Helper()
	port, err := freePort()
	if err != nil {
		tb.Fatal(err)
	}
	return port
}

func freePort() (int, error) {
	const first, last = 20000, 32767
	var err error
	for range 100 {
		port := first + rand.IntN(last-first+1)
		var l net.Listener
		if l, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port in %d–%d after 100 tries: %w", first, last, err)
}
