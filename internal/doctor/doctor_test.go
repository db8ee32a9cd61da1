package doctor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/doctor"
	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// world is a node's deployment as doctor sees it: a data directory with
// its master key, a migrated database holding the keyring, local blobs,
// and a NATS server with JetStream in the domain hq holding one stream.
type world struct {
	opts doctor.Options
	db   *store.DB
	ns   *server.Server
}

// newWorld makes a healthy deployment on SQLite in the data directory, or
// on dsn's database when one is given.
func newWorld(t *testing.T, dsn string) *world {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if dsn == "" {
		storetest.MigratedDataDir(t, dir)
	}
	db, err := store.Open(ctx, dsn, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := keys.Load(ctx, keys.Options{DataDir: dir, Store: store.NewKeyringStore(db)}); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "blobs"), 0o700); err != nil {
		t.Fatal(err)
	}
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		JetStreamDomain: "hq", StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EXCHANGE", Subjects: []string{"chx.out.hq.>"}}); err != nil {
		t.Fatal(err)
	}
	return &world{db: db, ns: ns, opts: doctor.Options{DataDir: dir, DB: dsn, NATS: ns.ClientURL(), Version: "chancery test", Timeout: 5 * time.Second}}
}

func (w *world) run(t *testing.T) doctor.Report {
	t.Helper()
	return doctor.Run(context.Background(), w.opts)
}

// want checks that the report's check area/name has status st and, if
// given, a detail containing text.
func want(t *testing.T, r doctor.Report, area, name string, st doctor.Status, text string) {
	t.Helper()
	c, ok := r.Find(area, name)
	if !ok {
		t.Fatalf("no check %s/%s in the report:\n%s", area, name, table(r))
	}
	if c.Status != st || !strings.Contains(c.Detail, text) {
		t.Fatalf("check %s/%s is %s %q, want %s with %q\n%s", area, name, c.Status, c.Detail, st, text, table(r))
	}
}

func table(r doctor.Report) string {
	var b bytes.Buffer
	r.WriteTable(&b) //nolint:errcheck // a buffer
	return b.String()
}

func TestAHealthyDeploymentPasses(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			dsn := ""
			if d == store.Postgres {
				// A copy of the migrated template; its Location is its URL
				// (the throwaway cluster has no passwords to hide).
				dsn = storetest.MustOpen(t, store.Postgres).Location
			}
			w := newWorld(t, dsn)
			r := w.run(t)
			if n := r.Failed(); n > 0 {
				t.Fatalf("%d checks failed on a healthy deployment:\n%s", n, table(r))
			}
			want(t, r, "keys", "master key", doctor.OK, "mode 0600")
			want(t, r, "keys", "keyring", doctor.OK, "opens with the master key")
			want(t, r, "keys", "signing key", doctor.OK, "1 in the keyring")
			want(t, r, "version", "schema", doctor.OK, "every migration applied")
			want(t, r, "version", string(d), doctor.OK, "")
			want(t, r, "version", "nats", doctor.OK, "nats-server 2.")
			want(t, r, "nats", "jetstream", doctor.OK, `domain "hq"`)
			want(t, r, "nats", "stream EXCHANGE", doctor.OK, "R1")
			want(t, r, "clock", "nats", doctor.OK, "from this host")
			want(t, r, "objects", "read/write", doctor.OK, "wrote, read back and deleted")
			if d == store.Postgres {
				want(t, r, "clock", "database", doctor.OK, "from this host")
			}
			// The probe leaves nothing behind.
			if left, _ := filepath.Glob(filepath.Join(w.opts.DataDir, "blobs", "doctor", "*")); len(left) > 0 {
				t.Errorf("the object probe left %v", left)
			}
		})
	}
}

func TestBrokenDeploymentsFail(t *testing.T) {
	w := newWorld(t, "")
	key := filepath.Join(w.opts.DataDir, "master.key")

	t.Run("master key readable by others", func(t *testing.T) {
		if err := os.Chmod(key, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(key, 0o600) //nolint:errcheck // restored for the next case
		r := w.run(t)
		want(t, r, "keys", "master key", doctor.Fail, "chmod 600")
		want(t, r, "keys", "keyring", doctor.Skip, "")
	})
	t.Run("data directory readable by others", func(t *testing.T) {
		if err := os.Chmod(w.opts.DataDir, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(w.opts.DataDir, 0o700) //nolint:errcheck // restored for the next case
		want(t, w.run(t), "keys", "data directory", doctor.Fail, "chmod 700")
	})
	t.Run("master key missing", func(t *testing.T) {
		b, err := os.ReadFile(key)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(key); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(key, b, 0o600) //nolint:errcheck // restored for the next case
		r := w.run(t)
		want(t, r, "keys", "master key", doctor.Fail, "does not exist")
		if r.Failed() == 0 {
			t.Fatal("a missing master key is no failure")
		}
		if _, err := os.Stat(key); err == nil {
			t.Fatal("doctor created a master key")
		}
	})
	t.Run("another master key", func(t *testing.T) {
		opts := w.opts
		opts.MasterKey = keys.GenerateMasterKey()
		r := doctor.Run(context.Background(), opts)
		want(t, r, "keys", "master key", doctor.OK, "CHANCERY_MASTER_KEY")
		want(t, r, "keys", "keyring", doctor.Fail, "does not open the keyring")
	})
	t.Run("NATS unreachable", func(t *testing.T) {
		opts := w.opts
		opts.NATS = fmt.Sprintf("nats://u:secret@127.0.0.1:%d", storetest.FreePort(t))
		r := doctor.Run(context.Background(), opts)
		want(t, r, "nats", "connect", doctor.Fail, "check --nats")
		want(t, r, "nats", "connect", doctor.Fail, "u:xxxxx@")
	})
	t.Run("clock off", func(t *testing.T) {
		opts := w.opts
		opts.Now = func() time.Time { return time.Now().Add(-time.Hour) }
		want(t, doctor.Run(context.Background(), opts), "clock", "nats", doctor.Fail, "fix NTP")
	})
	t.Run("JetStream domain other than the node's", func(t *testing.T) {
		if _, err := w.db.Exec(`INSERT INTO exchange_node (id, node_id, role, kem_sealed, anchor, hq_url, leaf_urls, updated_us) VALUES (1, 'ministry', 'hq', x'00', x'00', '', '', 0)`); err != nil {
			t.Fatal(err)
		}
		defer w.db.Exec(`DELETE FROM exchange_node`) //nolint:errcheck // restored for the next case
		want(t, w.run(t), "nats", "jetstream", doctor.Fail, "domain: ministry")
	})
	t.Run("object store unusable", func(t *testing.T) {
		opts := w.opts
		notDir := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(notDir, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		opts.Blob = "file://" + notDir
		want(t, doctor.Run(context.Background(), opts), "objects", "read/write", doctor.Fail, "")
	})
	t.Run("a migration not applied", func(t *testing.T) {
		var v int64
		if err := w.db.QueryRow(`SELECT MAX(version_id) FROM goose_db_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if _, err := w.db.Exec(`DELETE FROM goose_db_version WHERE version_id = ?`, v); err != nil {
			t.Fatal(err)
		}
		want(t, w.run(t), "version", "schema", doctor.Fail, fmt.Sprintf("(%05d); this binary knows up to", v))
	})
}

// TestCommandExitsNonZeroOnFailure runs `chancery doctor` as the command
// line does: a healthy deployment returns nil and prints the table; an
// unreachable NATS returns an error (exit 1) and --json says which check.
func TestCommandExitsNonZeroOnFailure(t *testing.T) {
	w := newWorld(t, "")
	var out bytes.Buffer
	env := doctor.CommandEnv{Version: "chancery test", Stdout: &out, Stderr: &out}
	if err := doctor.Command(context.Background(), env, []string{"--data", w.opts.DataDir, "--nats", w.opts.NATS}); err != nil {
		t.Fatalf("doctor on a healthy deployment: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "0 failed") || !strings.Contains(out.String(), "AREA") {
		t.Fatalf("the table:\n%s", out.String())
	}
	out.Reset()
	w.ns.Shutdown()
	err := doctor.Command(context.Background(), env, []string{"--data", w.opts.DataDir, "--nats", w.opts.NATS, "--json", "--timeout", "2s"})
	if err == nil || !strings.Contains(err.Error(), "1 of") {
		t.Fatalf("doctor with NATS down: %v", err)
	}
	var got struct {
		OK     bool
		Failed int
		Checks []doctor.Check
	}
	if jerr := json.Unmarshal(out.Bytes(), &got); jerr != nil {
		t.Fatalf("--json printed no JSON: %v\n%s", jerr, out.String())
	}
	if got.OK || got.Failed != 1 {
		t.Fatalf("--json: ok %v, failed %d", got.OK, got.Failed)
	}
	for _, c := range got.Checks {
		if c.Status == doctor.Fail && (c.Area != "nats" || c.Name != "connect") {
			t.Fatalf("failed check %s/%s, want nats/connect", c.Area, c.Name)
		}
	}
	if err := doctor.Command(context.Background(), env, []string{"--max-skew", "-1s"}); !errors.Is(err, errs.ErrUsage) {
		t.Fatalf("a negative --max-skew: %v, want a usage error", err)
	}
	if err := doctor.Command(context.Background(), env, []string{"--no-such-flag"}); !errors.Is(err, errs.ErrUsage) {
		t.Fatalf("an unknown flag: %v, want a usage error", err)
	}
	out.Reset()
	if err := doctor.Command(context.Background(), env, []string{"--help"}); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "--max-skew") {
		t.Fatalf("--help: %v\n%s", err, out.String())
	}
}

// TestNoDataDirectoryFailsAndStaysAbsent runs doctor on a data directory
// that does not exist: every check that needs it fails, and doctor makes
// none (as the commands that read data refuse to).
func TestNoDataDirectoryFailsAndStaysAbsent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "none")
	r := doctor.Run(context.Background(), doctor.Options{DataDir: dir, Timeout: time.Second})
	want(t, r, "keys", "data directory", doctor.Fail, "give --data")
	want(t, r, "database", "connect", doctor.Fail, "no Chancery data")
	want(t, r, "objects", "read/write", doctor.Fail, "")
	want(t, r, "nats", "connect", doctor.Skip, "--nats-port")
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("doctor made the data directory: %v", err)
	}
}

// TestStreamReplicasOnACluster runs doctor against a three-server
// JetStream cluster: an R3 stream with its followers current passes, an R1
// stream is a warning, and with a server stopped the R3 stream's missing
// replica fails.
func TestStreamReplicasOnACluster(t *testing.T) {
	ctx := context.Background()
	ports := []int{storetest.FreePort(t), storetest.FreePort(t), storetest.FreePort(t)}
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	var servers []*server.Server
	for i, p := range ports {
		o := &server.Options{ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: -1, JetStream: true,
			StoreDir: t.TempDir(), NoLog: true, NoSigs: true, Routes: routes,
			Cluster: server.ClusterOpts{Name: "test", Host: "127.0.0.1", Port: p}}
		ns, err := server.NewServer(o)
		if err != nil {
			t.Fatal(err)
		}
		ns.Start()
		t.Cleanup(ns.Shutdown)
		servers = append(servers, ns)
	}
	for _, ns := range servers {
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatal("a server did not start")
		}
	}
	nc, err := nats.Connect(servers[0].ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// The cluster takes a moment to elect its meta leader.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "REPLICATED", Subjects: []string{"r.>"}, Replicas: 3})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "SINGLE", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "r.1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	// Only the NATS lines matter here: no data directory (its checks fail).
	opts := doctor.Options{DataDir: filepath.Join(t.TempDir(), "none"), NATS: servers[0].ClientURL(), Timeout: 5 * time.Second}
	for {
		r := doctor.Run(ctx, opts)
		c, _ := r.Find("nats", "stream REPLICATED")
		if c.Status == doctor.OK || time.Now().After(deadline) {
			want(t, r, "nats", "stream REPLICATED", doctor.OK, "R3, 1 messages")
			want(t, r, "nats", "stream SINGLE", doctor.Warn, "--replicas 3")
			want(t, r, "nats", "connect", doctor.OK, "test")
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Stop a server that is not the one doctor connects to.
	servers[2].Shutdown()
	deadline = time.Now().Add(20 * time.Second)
	for {
		r := doctor.Run(ctx, opts)
		c, _ := r.Find("nats", "stream REPLICATED")
		// While the cluster elects a new leader for the stream, the
		// check fails on a timeout first; it names the stopped server
		// once the cluster knows it is gone.
		if (c.Status == doctor.Fail && strings.Contains(c.Detail, "n3")) || time.Now().After(deadline) {
			want(t, r, "nats", "stream REPLICATED", doctor.Fail, "n3")
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
}
