package system

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"chancery/internal/auth"
	"chancery/internal/store/storetest"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// sizes are the world's dimensions and the faults' durations: short in
// `go test`, full in .ci/run's system step (CHANCERY_SYSTEM_FULL=1) and
// in the benchmarks.
type sizes struct {
	missions int
	cut      time.Duration // how long five missions' links stay cut
	s3Down   time.Duration // how long the object store stays stopped
	cutCount int           // how many missions' links are cut
}

func worldSizes() sizes {
	if os.Getenv("CHANCERY_SYSTEM_FULL") == "1" {
		return sizes{missions: 20, cut: time.Minute, s3Down: 30 * time.Second, cutCount: 5}
	}
	return sizes{missions: 2, cut: 5 * time.Second, s3Down: 8 * time.Second, cutCount: 1}
}

// world is headquarters' production shape and its missions, as real
// processes on 127.0.0.1.
type world struct {
	t        testing.TB
	dir, bin string
	pg       *postgres
	nats     []*natsNode
	acc      *natsAccounts // the NATS cluster's accounts
	s3       *objectStore
	replicas []*replica
	lb       *balancer
	missions []*mission
	master   string // CHANCERY_MASTER_KEY, the same on every replica
	caFile   string // the CA that vouches for the NATS servers' leaf TLS
	blobURL  string
	env      []string // the replicas' environment (master key, S3 credentials)
	admin    string   // headquarters administrator's bearer token
	secrets  map[string]string
}

// worldDir is where the world's data and logs live: a test directory
// removed afterwards, or, with CHANCERY_SYSTEM_KEEP=DIR, a new directory
// under DIR that stays, so a failed full-size run can be read afterwards.
func worldDir(t testing.TB) string {
	keep := os.Getenv("CHANCERY_SYSTEM_KEEP")
	if keep == "" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp(keep, "world-")
	if err != nil {
		t.Fatalf("CHANCERY_SYSTEM_KEEP=%s: %v", keep, err)
	}
	t.Logf("the world's data and logs stay in %s", dir)
	return dir
}

// binaries are built once per test process.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func binaries(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "chancery-system-bin-")
		if buildErr != nil {
			return
		}
		for _, b := range [][]string{{"chancery", "chancery/cmd/chancery"}, {"nats-server", "github.com/nats-io/nats-server/v2"}} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(buildDir, b[0]), b[1]).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %v: %s", b[1], err, out)
				return
			}
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return buildDir
}

// TestMain removes the binaries built for this test process.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// versitygw finds the Versity S3 gateway on PATH or in GOPATH/bin.
func versitygw() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	out, _ := exec.Command("go", "env", "GOPATH").Output()
	for gp := range strings.SplitSeq(strings.TrimSpace(string(out)), string(os.PathListSeparator)) {
		p := filepath.Join(gp, "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("versitygw is not on PATH nor in $(go env GOPATH)/bin: install it with `go install github.com/versity/versitygw/cmd/versitygw@v1.8.0` (.ci/run does)")
}

func pgBin() (string, error) {
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
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found in /usr/lib/postgresql/*/bin nor on PATH (apt-get install postgresql)")
}

// newWorld starts everything, or skips the test saying what is missing.
func newWorld(t testing.TB, sz sizes) *world {
	t.Helper()
	// Where a tool is missing the test skips, saying which; CI, which
	// installs them, sets CHANCERY_REQUIRE_SYSTEM=1 to fail instead.
	missing := t.Skip
	if os.Getenv("CHANCERY_REQUIRE_SYSTEM") == "1" {
		missing = t.Fatal
	}
	pgb, err := pgBin()
	if err != nil {
		missing(err)
	}
	gw, err := versitygw()
	if err != nil {
		missing(err)
	}
	w := &world{t: t, dir: worldDir(t), bin: binaries(t), secrets: map[string]string{}}
	began := time.Now()
	key := make([]byte, 32)
	rand.Read(key)
	w.master = base64.StdEncoding.EncodeToString(key)

	w.pg = startPostgres(t, pgb)
	w.caFile = w.leafTLS()
	w.startNATS(3)
	w.s3 = startObjectStore(t, gw, w.dir)
	w.blobURL = "s3://chancery?region=us-east-1&endpoint=http://" + w.s3.addr + "&use_path_style=true"
	w.env = append(os.Environ(), "CHANCERY_MASTER_KEY="+w.master,
		"AWS_ACCESS_KEY_ID="+w.s3.access, "AWS_SECRET_ACCESS_KEY="+w.s3.secret, "AWS_REGION=us-east-1")

	w.lb = newBalancer(t)
	for i := range 3 {
		w.replicas = append(w.replicas, &replica{w: w, name: fmt.Sprintf("hq-%d", i+1), port: freePort(t),
			data: filepath.Join(w.dir, fmt.Sprintf("hq-%d", i+1))})
	}
	// The first replica creates the schema, the keyring and the demo's
	// ministry; the others then start on what it made.
	w.replicas[0].start()
	w.lb.add(w.replicas[0])
	w.admin = w.login("admin")
	w.addMissionUnits(sz.missions)
	for _, r := range w.replicas[1:] {
		r.start()
		w.lb.add(r)
	}
	// The missions start together, as they would after an outage.
	for i := range sz.missions {
		w.missions = append(w.missions, w.enrol(missionCode(i)))
	}
	if w.acc != nil {
		w.admitMissions()
	}
	for _, m := range w.missions {
		m.await()
	}
	t.Logf("world up in %s: PostgreSQL, 3 NATS servers, versitygw, 3 replicas, %d missions", time.Since(began).Round(time.Second), len(w.missions))
	return w
}

// missionCode is the unit code of mission i: the demo's twelve missions
// first, then embassies the test adds.
func missionCode(i int) string {
	demo := []string{"000.01.01.G12", "000.01.02.G12", "000.01.03.G12", "000.01.04.G12", "000.01.05.G12", "000.01.06.G12",
		"000.01.07.G12", "000.01.08.G12", "000.01.09.G12", "000.02.01.G12", "000.02.02.G12", "000.03.01.G12", "000.03.02.G12"}
	if i < len(demo) {
		return demo[i]
	}
	return fmt.Sprintf("000.01.%02d.G12", 50+i)
}

// addMissionUnits adds the embassies beyond the demo's, before the
// other replicas start: their start seeds the demo exchange's consular
// subsystem and rights for every mission.
func (w *world) addMissionUnits(n int) {
	var units []struct {
		ID   int64  `json:"id"`
		Code string `json:"code"`
	}
	var page struct {
		Items json.RawMessage `json:"items"`
	}
	body := w.call(http.MethodGet, w.lb.url+"/api/v1/units?limit=500", w.admin, "", &page, http.StatusOK)
	if err := json.Unmarshal(page.Items, &units); err != nil {
		if err := json.Unmarshal(body, &units); err != nil {
			w.t.Fatalf("list units: %s", body)
		}
	}
	var root int64
	for _, u := range units {
		if u.Code == "000.00.00.G12" {
			root = u.ID
		}
	}
	if root == 0 {
		w.t.Fatalf("the ministry's unit is not listed: %s", body)
	}
	for i := 13; i < n; i++ {
		req, _ := json.Marshal(map[string]any{"code": missionCode(i), "name_vi": fmt.Sprintf("Đại sứ quán thử %d", i),
			"name_en": fmt.Sprintf("Test embassy %d", i), "kind": "embassy", "parent_id": root, "country": "FR", "time_zone": "Europe/Paris"})
		w.call(http.MethodPost, w.lb.url+"/api/v1/units", w.admin, string(req), nil, http.StatusCreated)
	}
}

// login signs a demo staff member in through the load balancer, with
// their second factor where they have one.
func (w *world) login(username string) string {
	w.t.Helper()
	secret := w.secret(username)
	totp := ""
	if secret != "" {
		var err error
		if totp, err = auth.TOTPCode(secret, time.Now()); err != nil {
			w.t.Fatal(err)
		}
	}
	body, _ := json.Marshal(map[string]string{"username": username, "password": demoPassword, "totp": totp})
	var out struct{ Token string }
	w.call(http.MethodPost, w.lb.url+"/api/v1/auth/login", "", string(body), &out, http.StatusOK)
	return out.Token
}

const demoPassword = "Chancery-Demo-2026"

// secret reads a demo account's TOTP secret from the first replica's
// demo-accounts.txt.
func (w *world) secret(username string) string {
	if s, ok := w.secrets[username]; ok {
		return s
	}
	b, err := os.ReadFile(filepath.Join(w.replicas[0].data, "demo-accounts.txt"))
	if err != nil {
		w.t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) > 1 && f[0] == username && len(f[len(f)-1]) == 32 {
			w.secrets[username] = f[len(f)-1]
		}
	}
	return w.secrets[username]
}

// call sends a JSON request and fails the test unless it answers want.
func (w *world) call(method, url, bearer, body string, out any, want int) []byte {
	w.t.Helper()
	status, b, err := do(http.DefaultClient, method, url, bearer, "application/json", strings.NewReader(body))
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, url, err)
	}
	if status != want {
		w.t.Fatalf("%s %s = %d, want %d: %.500s", method, url, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			w.t.Fatalf("%s %s: %v: %.300s", method, url, err, b)
		}
	}
	return b
}

func do(c *http.Client, method, url, bearer, contentType string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return doRequest(c, req)
}

// doRequest sends req and reads the whole answer.
func doRequest(c *http.Client, req *http.Request) (int, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// run runs the chancery command line with the replicas' environment.
func (w *world) run(args ...string) (string, error) {
	return w.runEnv(w.env, args...)
}

// runEnv runs the chancery command line with env: a mission's commands
// get the test's own environment (their master key is in their data
// directory).
func (w *world) runEnv(env []string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(w.bin, "chancery"), args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return strings.TrimSpace(string(out) + "\n" + stderr.String()), err
	}
	return strings.TrimSpace(string(out)), nil
}

func (w *world) mustRun(args ...string) string {
	w.t.Helper()
	out, err := w.run(args...)
	if err != nil {
		w.t.Fatalf("chancery %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// db opens the headquarters database.
func (w *world) db() *sql.DB {
	db, err := sql.Open("pgx", w.pg.url())
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { db.Close() })
	return db
}

// freePort is a free TCP port of 127.0.0.1.
func freePort(tb testing.TB) int { return storetest.FreePort(tb) }

// process is a child process whose output goes to a log file.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func spawn(tb testing.TB, log string, env []string, name string, args ...string) *process {
	tb.Helper()
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr, cmd.Env = f, f, env
	// Killed with the test binary (a timeout's panic runs no Cleanup).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		tb.Fatalf("start %s: %v", name, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), log: log}
	go func() { cmd.Wait(); f.Close(); close(p.done) }()
	tb.Cleanup(p.kill)
	return p
}

// kill sends SIGKILL (kill -9) and waits for the process to end.
func (p *process) kill() {
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *process) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// postgres is a throwaway PostgreSQL cluster of the test's own, which
// it may stop and start.
type postgres struct {
	t        testing.TB
	bin, dir string
	port     int
	asPG     bool
	dataDir  string
}

func startPostgres(t testing.TB, bin string) *postgres {
	t.Helper()
	// Not under t.TempDir, whose directories postgres may not enter.
	dir, err := os.MkdirTemp("", "chancery-system-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &postgres{t: t, bin: bin, dir: dir, port: freePort(t), asPG: os.Geteuid() == 0}
	if p.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root but there is no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(p.dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	p.dataDir = filepath.Join(p.dir, "data")
	if out, err := p.ctl("initdb", "-D", p.dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		t.Fatalf("initdb: %v: %s", err, out)
	}
	p.start()
	t.Cleanup(func() { p.ctl("pg_ctl", "-D", p.dataDir, "-m", "immediate", "-w", "stop") })
	return p
}

func (p *postgres) ctl(name string, args ...string) ([]byte, error) {
	path := filepath.Join(p.bin, name)
	var cmd *exec.Cmd
	if p.asPG {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = os.TempDir()
	return cmd.CombinedOutput()
}

func (p *postgres) start() {
	p.t.Helper()
	// Production durability: every commit flushed, so that a restart
	// shows what production loses (nothing acknowledged).
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c max_connections=300 -c fsync=on -c synchronous_commit=on", p.port, p.dir)
	if out, err := p.ctl("pg_ctl", "-D", p.dataDir, "-l", filepath.Join(p.dir, "log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "log"))
		p.t.Fatalf("pg_ctl start: %v: %s %s", err, out, log)
	}
}

func (p *postgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// leafTLS writes a CA and the certificate the NATS servers' leaf
// listeners serve (for 127.0.0.1), and returns the CA's file, which the
// missions get as --leaf-tls-ca.
func (w *world) leafTLS() string {
	w.t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "system test leaf CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		w.t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		w.t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(w.dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			w.t.Fatal(err)
		}
	}
	write("ca.pem", "CERTIFICATE", caDER)
	write("leaf.pem", "CERTIFICATE", der)
	write("leaf.key", "EC PRIVATE KEY", keyDER)
	return filepath.Join(w.dir, "ca.pem")
}

// natsNode is one server of the NATS cluster.
type natsNode struct {
	name                  string
	client, cluster, leaf int
	conf, store           string
	proc                  *process
	w                     *world
}

// startNATS starts an n-node cluster whose JetStream domain is
// headquarters' node id ("hq"), with a TLS leaf listener on each node,
// and deploy/nats's accounts (accounts_test.go), as yet without a
// mission.
func (w *world) startNATS(n int) {
	// deploy/nats's accounts with CHANCERY_SYSTEM_ACCOUNTS=1, as
	// production runs (each mission admitted by two reloads, see
	// accounts_test.go); by default every node is in one account.
	include := ""
	if os.Getenv("CHANCERY_SYSTEM_ACCOUNTS") == "1" {
		base, err := deployAccounts()
		if err != nil {
			w.t.Fatal(err)
		}
		w.acc = &natsAccounts{base: base, admitted: map[string]bool{}, sys: rand.Text(), hq: rand.Text(),
			file: filepath.Join(w.dir, "accounts.conf")}
		if err := w.acc.write(); err != nil {
			w.t.Fatal(err)
		}
		include = "include ./accounts.conf\n"
	}
	for i := range n {
		w.nats = append(w.nats, &natsNode{w: w, name: fmt.Sprintf("n%d", i+1), client: freePort(w.t), cluster: freePort(w.t), leaf: freePort(w.t)})
	}
	var routes []string
	for _, nn := range w.nats {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", nn.cluster))
	}
	for _, nn := range w.nats {
		nn.store = filepath.Join(w.dir, "nats-"+nn.name)
		nn.conf = filepath.Join(w.dir, "nats-"+nn.name+".conf")
		// The leaf handshake's timeouts are deploy/nats/common.conf's.
		conf := fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
jetstream { store_dir: %q, domain: hq, max_file_store: 4GB, max_memory_store: 256MB }
cluster { name: hq, listen: 127.0.0.1:%d, routes: [%s] }
leafnodes { listen: 127.0.0.1:%d, tls { cert_file: %q, key_file: %q, timeout: 10 }, authorization { timeout: 11 } }
%s`, nn.name, nn.client, nn.store, nn.cluster, strings.Join(routes, ", "), nn.leaf,
			filepath.Join(w.dir, "leaf.pem"), filepath.Join(w.dir, "leaf.key"), include)
		if err := os.WriteFile(nn.conf, []byte(conf), 0o600); err != nil {
			w.t.Fatal(err)
		}
	}
	for _, nn := range w.nats {
		nn.start()
	}
	// JetStream answers once the cluster has elected its meta leader.
	w.waitFor("the NATS cluster's JetStream", time.Minute, w.natsReady)
}

func (nn *natsNode) start() {
	env := os.Environ()
	if nn.w.acc != nil {
		env = nn.w.acc.natsEnv()
	}
	nn.proc = spawn(nn.w.t, nn.conf+".log", env, filepath.Join(nn.w.bin, "nats-server"), "-c", nn.conf)
}

// leafAddrs are the NATS servers' leaf listeners: a mission's link
// reaches the first that accepts, as a name resolving to all three would.
func (w *world) leafAddrs() []string {
	var a []string
	for _, nn := range w.nats {
		a = append(a, fmt.Sprintf("127.0.0.1:%d", nn.leaf))
	}
	return a
}

// natsURLs are the cluster's client addresses, with the HQ user that
// headquarters' replicas connect as.
func (w *world) natsURLs() string {
	var u []string
	for _, nn := range w.nats {
		if w.acc == nil {
			u = append(u, fmt.Sprintf("nats://127.0.0.1:%d", nn.client))
			continue
		}
		u = append(u, fmt.Sprintf("nats://chancery:%s@127.0.0.1:%d", w.acc.hq, nn.client))
	}
	return strings.Join(u, ",")
}

// objectStore is the Versity S3 gateway serving a directory.
type objectStore struct {
	t               testing.TB
	bin, root, addr string
	access, secret  string
	proc            *process
}

func startObjectStore(t testing.TB, bin, parent string) *objectStore {
	t.Helper()
	s := &objectStore{t: t, bin: bin, root: filepath.Join(parent, "s3"), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		access: "systemtest", secret: "systemtest-secret-0123456789"}
	if err := os.MkdirAll(filepath.Join(s.root, "chancery"), 0o700); err != nil {
		t.Fatal(err)
	}
	s.start()
	return s
}

func (s *objectStore) start() {
	s.t.Helper()
	s.proc = spawn(s.t, s.root+".log", os.Environ(), s.bin, "--port", s.addr, "--access", s.access, "--secret", s.secret, "posix", s.root)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("versitygw did not listen on %s within 30 s: %s", s.addr, s.proc.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// replica is one `chancery serve` of headquarters.
type replica struct {
	w          *world
	name, data string
	port       int
	proc       *process
}

func (r *replica) url() string { return fmt.Sprintf("http://127.0.0.1:%d", r.port) }

func (r *replica) start() {
	w := r.w
	w.t.Helper()
	r.proc = spawn(w.t, r.data+".log", w.env, filepath.Join(w.bin, "chancery"), "serve", "--demo",
		"--data", r.data, "--db", w.pg.url(), "--nats", w.natsURLs(), "--nats-replicas", "3", "--blob", w.blobURL,
		"--addr", fmt.Sprintf("127.0.0.1:%d", r.port), "--public-url", w.lb.url,
		"--leaf-addr", fmt.Sprintf("127.0.0.1:%d", w.nats[0].leaf))
	w.waitFor(r.name+" ready", 3*time.Minute, func() error {
		select {
		case <-r.proc.done:
			w.t.Fatalf("%s exited: %s", r.name, r.proc.tail())
		default:
		}
		return ready(r.url())
	})
}

// ready asks a node's /readyz.
func ready(base string) error {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz %d: %s", resp.StatusCode, b)
	}
	return nil
}

// mission is a mission node: SQLite, embedded NATS joined to the
// cluster as a leaf node.
type mission struct {
	w          *world
	code, data string
	node       string // its exchange node id
	base       string // its web address
	token      string // its consular subsystem's client token
	proc       *process
	args       []string
	link       *link // its network link to the cluster's leaf listeners
}

// enrol issues an enrolment token on headquarters (through the load
// balancer) and starts the mission with it.
func (w *world) enrol(code string) *mission {
	w.t.Helper()
	var e struct{ Token string }
	w.call(http.MethodPost, w.lb.url+"/api/v1/exchange/enrolments", w.admin, `{"member":"`+code+`"}`, &e, http.StatusCreated)
	m := &mission{w: w, code: code, data: filepath.Join(w.dir, "mission-"+code),
		node: "mission-" + strings.ToLower(strings.ReplaceAll(code, ".", "-")), link: newLink(w.t, w.leafAddrs)}
	w.lb.leafFor.Store(e.Token, "nats-leaf://"+m.link.addr())
	m.args = []string{"serve", "--role", "mission", "--join", w.lb.url, "--token", e.Token, "--data", m.data,
		"--addr", "127.0.0.1:0", "--admin-password", "Embassy-System-Test-2026", "--leaf-tls-ca", w.caFile}
	m.spawn()
	return m
}

// await waits for the mission to run and issues its consular
// subsystem's client token.
func (m *mission) await() {
	w := m.w
	w.t.Helper()
	m.wait()
	out, err := w.runEnv(os.Environ(), "exchange", "token", "issue", "VN/GOV/"+m.code+"/consular", "--data", m.data)
	if err != nil {
		w.t.Fatalf("issue the client token of mission %s: %v: %s", m.code, err, out)
	}
	m.token = out
}

var runningRE = regexp.MustCompile(`Chancery is running: (http://[^/ ]+)/`)

func (m *mission) spawn() {
	m.proc = spawn(m.w.t, m.data+".log", os.Environ(), filepath.Join(m.w.bin, "chancery"), m.args...)
}

// wait waits until the mission's node runs and is ready.
func (m *mission) wait() {
	w := m.w
	w.t.Helper()
	// Twenty missions start at once, on a machine that may be loaded.
	w.waitFor("mission "+m.code+" running", 5*time.Minute, func() error {
		select {
		case <-m.proc.done:
			w.t.Fatalf("mission %s exited: %s", m.code, m.proc.tail())
		default:
		}
		f, err := os.Open(m.proc.log)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if s := runningRE.FindStringSubmatch(sc.Text()); s != nil {
				m.base = s[1]
			}
		}
		if m.base == "" {
			return errors.New("not yet running")
		}
		return ready(m.base)
	})
}

// waitFor polls f until it returns nil, failing the test after limit.
func (w *world) waitFor(what string, limit time.Duration, f func() error) time.Duration {
	w.t.Helper()
	start := time.Now()
	for {
		err := f()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			w.t.Fatalf("%s: not after %s: %v", what, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cpuSeconds is the CPU time (user + system) the process has used, from
// /proc.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// replicaCPU is the CPU time all running replicas have used.
func (w *world) replicaCPU() float64 {
	var s float64
	for _, r := range w.replicas {
		if r.proc != nil {
			s += cpuSeconds(r.proc.cmd.Process.Pid)
		}
	}
	return s
}

// natsReady checks that the cluster's JetStream answers in domain hq.
func (w *world) natsReady() error {
	nc, err := nats.Connect(w.natsURLs(), nats.Timeout(2*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.NewWithDomain(nc, "hq")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

// streamReplicas returns each stream's replica count in domain hq.
func (w *world) streamReplicas() map[string]int {
	w.t.Helper()
	nc, err := nats.Connect(w.natsURLs())
	if err != nil {
		w.t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.NewWithDomain(nc, "hq")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[string]int{}
	l := js.ListStreams(ctx)
	for info := range l.Info() {
		out[info.Config.Name] = info.Config.Replicas
	}
	if err := l.Err(); err != nil {
		w.t.Fatal(err)
	}
	return out
}
