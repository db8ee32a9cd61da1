package system

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/bcrypt"
)

// The cluster runs deploy/nats's accounts, as production does:
// headquarters' replicas connect as the HQ user; each mission's leaf
// link binds, with the leaf user and password its enrolment gave it, to
// an account of its own, which the test adds after the enrolment as an
// operator would (deploy/nats/mission-account.sh with the leaf_hash
// headquarters kept), reloading the servers. In one account for all
// ($G), every node's local JetStream acknowledgements crossed the leaf
// links (see internal/bus's leaf deny lists).

// natsAccounts is the cluster's accounts.conf, made from
// deploy/nats/accounts.conf without its example missions, and the
// missions admitted so far.
type natsAccounts struct {
	base     string   // deploy's accounts.conf with placeholders
	exports  []string // HQ's export lines for the missions
	imports  []string // HQ's import lines for the missions
	blocks   []string // the missions' accounts
	admitted map[string]bool
	reloads  int    // reloads each server has been asked for
	sys, hq  string // the SYS and HQ users' passwords
	file     string
}

const (
	phExports  = "\x00exports\x00"
	phImports  = "\x00imports\x00"
	phMissions = "\x00missions\x00"
)

var missionBlockRE = regexp.MustCompile(`^  MISSION_[A-Z0-9_]+: \{$`)

// deployAccounts reads deploy/nats/accounts.conf and leaves out its
// example missions: their blocks, and every line of HQ that names one.
// The places where a mission's lines go are marked.
func deployAccounts() (string, error) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "nats", "accounts.conf"))
	if err != nil {
		return "", err
	}
	var out strings.Builder
	inBlock, closers, accountsClosed := false, 0, false
	for line := range strings.Lines(string(b)) {
		l := strings.TrimRight(line, "\n")
		switch {
		case inBlock:
			inBlock = l != "  }"
			continue
		case missionBlockRE.MatchString(l):
			inBlock = true
			continue
		case strings.Contains(l, "MISSION_"):
			continue
		case l == "    ]":
			closers++
			if closers == 1 {
				out.WriteString(phExports)
			} else if closers == 2 {
				out.WriteString(phImports)
			}
		case l == "}" && !accountsClosed:
			accountsClosed = true
			out.WriteString(phMissions)
		}
		out.WriteString(line)
	}
	s := out.String()
	for _, ph := range []string{phExports, phImports, phMissions} {
		if strings.Count(s, ph) != 1 {
			return "", fmt.Errorf("deploy/nats/accounts.conf: no single place for the missions' lines (%q): its shape changed; update internal/system's reading of it", strings.Trim(ph, "\x00"))
		}
	}
	return s, nil
}

// missionAccountLines runs deploy/nats/mission-account.sh for a mission
// and returns its three parts: the account, HQ's exports and imports.
func missionAccountLines(id, hash string) (block, exports, imports string, err error) {
	out, err := exec.Command("bash", filepath.Join("..", "..", "deploy", "nats", "mission-account.sh"), id, hash).CombinedOutput()
	if err != nil {
		return "", "", "", fmt.Errorf("mission-account.sh %s: %v: %s", id, err, out)
	}
	parts := map[string]*string{"paste into the accounts block": &block, "add to HQ's exports": &exports, "add to HQ's imports": &imports}
	var cur *string
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(line, "# --- "+id+": "); ok {
			cur = parts[strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "---"))]
			continue
		}
		if cur != nil {
			*cur += line
		}
	}
	if block == "" || exports == "" || imports == "" {
		return "", "", "", fmt.Errorf("mission-account.sh %s printed no account, exports or imports: %s", id, out)
	}
	return block, exports, imports, nil
}

// write writes the accounts file with the missions admitted so far.
func (a *natsAccounts) write() error {
	indent := func(s string) string {
		var b strings.Builder
		for line := range strings.Lines(s) {
			if strings.TrimSpace(line) != "" {
				b.WriteString("  ")
			}
			b.WriteString(line)
		}
		return b.String()
	}
	s := strings.NewReplacer(phExports, strings.Join(a.exports, ""), phImports, strings.Join(a.imports, ""),
		phMissions, indent(strings.Join(a.blocks, ""))).Replace(a.base)
	return os.WriteFile(a.file, []byte(s), 0o600)
}

// natsEnv is the servers' environment: the passwords accounts.conf
// reads, as systemd's nats.env gives them.
func (a *natsAccounts) natsEnv() []string {
	return append(os.Environ(), "NATS_SYS_PASSWORD="+a.sys, "NATS_HQ_PASSWORD="+a.hq)
}

// admitMissions waits until each mission has enrolled, then adds its
// account with the bcrypt hash of its leaf password that headquarters
// recorded, and reloads the servers, one mission at a time as an
// operator does after each enrolment: the missions admitted earlier keep
// their links and their exchange through the later reloads (TestAMissionReachesItsConsumers-
// AcrossAReload says what that takes of deploy/nats's accounts).
func (w *world) admitMissions() {
	w.t.Helper()
	db := w.db()
	w.waitFor("every mission's enrolment and NATS account", 5*time.Minute, func() error {
		for _, m := range w.missions {
			select {
			case <-m.proc.done:
				w.t.Fatalf("mission %s exited: %s", m.code, m.proc.tail())
			default:
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rows, err := db.QueryContext(ctx, `SELECT node_id, leaf_hash FROM registry_enrolments WHERE used_us IS NOT NULL AND leaf_hash <> '' ORDER BY used_us`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, hash string
			if err := rows.Scan(&id, &hash); err != nil {
				return err
			}
			if w.acc.admitted[id] {
				continue
			}
			block, exports, imports, err := missionAccountLines(id, hash)
			if err != nil {
				w.t.Fatal(err)
			}
			// As mission-account.sh says: the account first, on every
			// server; then HQ's imports from it.
			w.acc.blocks, w.acc.exports = append(w.acc.blocks, block), append(w.acc.exports, exports)
			w.reloadNATS()
			w.acc.imports = append(w.acc.imports, imports)
			w.reloadNATS()
			w.acc.admitted[id] = true
			break // one enrolment, one admission
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, m := range w.missions {
			if !w.acc.admitted[m.node] {
				return fmt.Errorf("mission %s (%s) has not been admitted yet", m.code, m.node)
			}
		}
		return nil
	})
}

// reloadNATS rewrites the accounts file and has each server reload it
// (SIGHUP, as `nats-server --signal reload` sends), waiting until each
// says it has.
func (w *world) reloadNATS() {
	w.t.Helper()
	if err := w.acc.write(); err != nil {
		w.t.Fatal(err)
	}
	w.acc.reloads++
	for _, nn := range w.nats {
		if err := nn.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			w.t.Fatalf("reload NATS server %s: %v", nn.name, err)
		}
	}
	for _, nn := range w.nats {
		w.waitFor("NATS server "+nn.name+" reloaded", 30*time.Second, func() error {
			b, _ := os.ReadFile(nn.proc.log)
			if i := strings.Index(string(b), "Failed to reload"); i >= 0 {
				w.t.Fatalf("NATS server %s refused the accounts: %.500s", nn.name, b[i:])
			}
			// Missions are admitted as the world starts, before any
			// server is restarted: each reload is in its log.
			if n := strings.Count(string(b), "Reloaded server configuration"); n < w.acc.reloads {
				return fmt.Errorf("%d reloads logged", n)
			}
			return nil
		})
	}
}

// accountsHub is an in-process hub on deploy/nats's accounts (no
// mission yet), with JetStream in domain hq as the cluster's nodes run it.
type accountsHub struct {
	t   *testing.T
	a   *natsAccounts
	srv *server.Server
}

func startAccountsHub(t *testing.T) *accountsHub {
	t.Helper()
	a, dir := newTestAccounts(t)
	hub := startAccountsServer(t, dir, "hub", fmt.Sprintf(`listen: "127.0.0.1:-1"
jetstream { store_dir: %q, domain: hq }
leafnodes { listen: "127.0.0.1:-1", authorization { timeout: 5 } }
include ./accounts.conf
`, filepath.Join(dir, "js")))
	return &accountsHub{t: t, a: a, srv: hub}
}

// newTestAccounts writes deploy/nats's accounts, without missions, into
// a directory of the test's, and sets the passwords they read.
func newTestAccounts(t *testing.T) (*natsAccounts, string) {
	t.Helper()
	base, err := deployAccounts()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a := &natsAccounts{base: base, admitted: map[string]bool{}, sys: rand.Text(), hq: rand.Text(), file: filepath.Join(dir, "accounts.conf")}
	if err := a.write(); err != nil {
		t.Fatal(err)
	}
	for _, kv := range a.natsEnv()[len(os.Environ()):] {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return a, dir
}

// startAccountsServer starts an in-process nats-server from the
// configuration text, written as name.conf in dir beside the accounts.
func startAccountsServer(t *testing.T, dir, name, text string) *server.Server {
	t.Helper()
	conf := filepath.Join(dir, name+".conf")
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("nats-server's parser: %v", err)
	}
	opts.NoSigs, opts.NoLog = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(5 * time.Second) {
		t.Fatalf("nats-server %s not ready", name)
	}
	return s
}

// add adds a mission's account (mission-account.sh's lines, with the
// hash of password) to the accounts file, without reloading.
func (h *accountsHub) add(id, password string) {
	h.t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		h.t.Fatal(err)
	}
	block, exports, imports, err := missionAccountLines(id, string(hash))
	if err != nil {
		h.t.Fatal(err)
	}
	h.a.blocks, h.a.exports, h.a.imports = append(h.a.blocks, block), append(h.a.exports, exports), append(h.a.imports, imports)
	if err := h.a.write(); err != nil {
		h.t.Fatal(err)
	}
}

func (h *accountsHub) reload() {
	h.t.Helper()
	if err := h.srv.Reload(); err != nil {
		h.t.Fatalf("nats-server does not reload the accounts: %v", err)
	}
}

// admit adds a mission's account and reloads the hub twice, as
// mission-account.sh's two steps do (on one server, what the first step
// holds back until the second makes no difference).
func (h *accountsHub) admit(id, password string) {
	h.t.Helper()
	h.add(id, password)
	h.reload()
	h.reload()
}

// leaf starts a server whose leaf link joins the hub as user, with
// JetStream in its own domain when domain is not empty (a mission node).
func (h *accountsHub) leaf(user, password, domain string) *server.Server {
	h.t.Helper()
	return startLeaf(h.t, h.srv, user, password, domain)
}

// startLeaf starts a server whose leaf link joins hub as user, with
// JetStream in its own domain when domain is not empty.
func startLeaf(t *testing.T, hub *server.Server, user, password, domain string) *server.Server {
	t.Helper()
	v, err := hub.Varz(nil)
	if err != nil {
		t.Fatal(err)
	}
	u := &url.URL{Scheme: "nats-leaf", Host: fmt.Sprintf("127.0.0.1:%d", v.LeafNode.Port), User: url.UserPassword(user, password)}
	o := &server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true,
		LeafNode: server.LeafNodeOpts{Remotes: []*server.RemoteLeafOpts{{URLs: []*url.URL{u}}}, ReconnectInterval: 50 * time.Millisecond}}
	if domain != "" {
		o.JetStream, o.JetStreamDomain, o.StoreDir = true, domain, t.TempDir()
	}
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(5 * time.Second) {
		t.Fatal("leaf nats-server not ready")
	}
	return s
}

// waitLeaf waits until account acc of the hub has n leaf links.
func (h *accountsHub) waitLeaf(acc string, n int) {
	h.t.Helper()
	a, err := h.srv.LookupAccount(acc)
	if err != nil {
		h.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.NumLeafNodes() != n {
		if time.Now().After(deadline) {
			h.t.Fatalf("account %s: %d leaf links, want %d (%d on the hub)", acc, a.NumLeafNodes(), n, h.srv.NumLeafNodes())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The cluster's accounts, made from deploy/nats as the world makes them,
// take a mission by a reload: before it, the mission's leaf link (its
// leaf user and password) is refused; after it, the link binds to the
// mission's own account, and no user but the mission's may make a leaf
// link.
func TestAMissionAccountIsAddedByAReload(t *testing.T) {
	h := startAccountsHub(t)
	const id, password = "mission-000-01-01-g12", "the-leaf-password-enrolment-gave"
	mission := h.leaf(id, password, "")
	hq := h.leaf("chancery", h.a.hq, "")
	time.Sleep(200 * time.Millisecond) // a refused link would have joined by now
	if h.srv.NumLeafNodes() != 0 {
		t.Fatalf("%d leaf links before the mission's account was added", h.srv.NumLeafNodes())
	}
	h.add(id, password)
	h.reload()
	h.waitLeaf("MISSION_000_01_01_G12", 1)
	for deadline := time.Now().Add(5 * time.Second); mission.NumLeafNodes() != 1 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // the hub counts the link before the mission does
	}
	if n := h.srv.NumLeafNodes(); n != 1 || hq.NumLeafNodes() != 0 || mission.NumLeafNodes() != 1 {
		t.Errorf("leaf links: hub %d, the mission %d, HQ's user %d; want only the mission's", n, mission.NumLeafNodes(), hq.NumLeafNodes())
	}
}

// A mission reaches its consumer on headquarters' stream in
// headquarters' domain ($JS.hq.API.CONSUMER.…), and headquarters reaches
// its consumer on the mission's stream in the mission's domain, before
// and after reloads that admit other missions, as in production where
// each enrolment is followed by one. Three things of nats-server v2.15.2
// broke this on deploy/nats's accounts (see mission-account.sh):
//   - an account without JetStream imports all of $JS.API.> from the
//     system account, which answers "JetStream not enabled for account"
//     to the mission's requests for its consumer, ahead of headquarters
//     (jetstream.go: configJetStream → enableJetStreamInfoServiceImportOnly),
//     unless the account imports $JS.API.INFO from elsewhere;
//   - the $JS.hq.API.> mappings a leaf's joining adds to its account
//     (leafnode.go) are dropped by a reload (Account.shallowCopy takes the
//     configuration's mappings);
//   - an account new in a reload gets no subscriptions for its service
//     imports until the next reload (server.go configureAccounts: "only if
//     not reloading", and siMap holds the accounts that existed before).
func TestAMissionReachesItsConsumersAcrossAReload(t *testing.T) {
	h := startAccountsHub(t)
	const id, password = "mission-000-01-01-g12", "the-leaf-password-enrolment-gave"
	h.add(id, password)
	h.reload()
	mission := h.leaf(id, password, id)
	h.waitLeaf("MISSION_000_01_01_G12", 1)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hqConn, err := nats.Connect(h.srv.ClientURL(), nats.UserInfo("chancery", h.a.hq))
	if err != nil {
		t.Fatal(err)
	}
	defer hqConn.Close()
	mConn, err := nats.Connect(mission.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer mConn.Close()
	hqJS, _ := jetstream.NewWithDomain(hqConn, "hq")
	hqToMission, _ := jetstream.NewWithDomain(hqConn, id)
	mJS, _ := jetstream.NewWithDomain(mConn, id)
	missionToHQ, _ := jetstream.NewWithDomain(mConn, "hq")

	// Each side's stream, and the consumer of the other (headquarters'
	// replicas create the mission's, as createForLeaf does).
	for _, s := range []struct {
		js   jetstream.JetStream
		self string
	}{{hqJS, "hq"}, {mJS, id}} {
		if _, err := s.js.CreateStream(ctx, jetstream.StreamConfig{Name: "EXCHANGE", Subjects: []string{"chx.out." + s.self + ".>"}}); err != nil {
			t.Fatalf("stream EXCHANGE of %s: %v", s.self, err)
		}
	}
	consumer := func(src, dest string) jetstream.ConsumerConfig {
		return jetstream.ConsumerConfig{Durable: "in-" + dest + "~" + src, FilterSubject: "chx.out." + src + "." + dest, AckPolicy: jetstream.AckExplicitPolicy}
	}
	if _, err := hqJS.CreateOrUpdateConsumer(ctx, "EXCHANGE", consumer("hq", id)); err != nil {
		t.Fatal(err)
	}
	if _, err := hqToMission.CreateOrUpdateConsumer(ctx, "EXCHANGE", consumer(id, "hq")); err != nil {
		t.Fatalf("headquarters creates its consumer in the mission's domain: %v", err)
	}

	// check has each side read one message from its consumer on the
	// other's stream, through the other's domain: INFO, MSG.NEXT, ACK.
	check := func(when string) {
		t.Helper()
		for _, c := range []struct {
			who       string
			pub       *nats.Conn
			src, dest string
			js        jetstream.JetStream
		}{{"the mission", hqConn, "hq", id, missionToHQ}, {"headquarters", mConn, id, "hq", hqToMission}} {
			body := c.src + " to " + c.dest + " " + when
			if err := c.pub.Publish("chx.out."+c.src+"."+c.dest, []byte(body)); err != nil {
				t.Fatal(err)
			}
			cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
			cons, err := c.js.Consumer(cctx, "EXCHANGE", "in-"+c.dest+"~"+c.src)
			ccancel()
			if err != nil {
				t.Fatalf("%s: %s asks for its consumer on the other's stream: %v", when, c.who, err)
			}
			batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				t.Fatalf("%s: %s pulls: %v", when, c.who, err)
			}
			var got []string
			for m := range batch.Messages() {
				got = append(got, string(m.Data()))
				if err := m.DoubleAck(ctx); err != nil {
					t.Errorf("%s: %s acknowledges: %v", when, c.who, err)
				}
			}
			if len(got) != 1 || got[0] != body {
				t.Errorf("%s: %s pulled %q (%v), want %q", when, c.who, got, batch.Error(), body)
			}
		}
	}
	// After one reload, the mission's link binds to its new account, but
	// the account's imports are not served yet: the second reload
	// mission-account.sh asks for starts them. Should this request be
	// answered, nats-server starts a new account's imports at once, and
	// the second reload can go.
	req, err := mConn.Request("$JS.hq.API.CONSUMER.INFO.EXCHANGE.in-"+id+"~hq", nil, time.Second)
	if err == nil && !strings.Contains(string(req.Data), `"error"`) {
		t.Errorf("after one reload, the new account's import answered (%.100s): nats-server now serves a new account's imports at once; drop the second reload from mission-account.sh, the RUNBOOK and this test", req.Data)
	}
	h.reload()
	check("before the reload")
	h.admit("mission-000-02-01-g12", "another-mission's-password")
	check("after a reload")
	h.admit("mission-000-03-01-g12", "a-third-mission's-password")
	check("after a second reload")
}

// checkNoCrossAcks fails the test if a node's JetStream consumer took an
// acknowledgement of a sequence its stream never had: another node's
// acknowledgement of its same-named consumer, come across a leaf link
// (in one account, each mission's server logged thousands).
func (w *world) checkNoCrossAcks(t *testing.T) {
	t.Helper()
	logs := []string{}
	for _, m := range w.missions {
		logs = append(logs, m.proc.log)
	}
	for _, r := range w.replicas {
		logs = append(logs, r.proc.log)
	}
	for _, nn := range w.nats {
		logs = append(logs, nn.proc.log)
	}
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("read %s: %v", path, err)
			continue
		}
		const sign = "past last stream sequence"
		if n := strings.Count(string(b), sign); n > 0 {
			i := strings.Index(string(b), sign)
			t.Errorf("%s: %d acknowledgements of sequences the stream never had (another node's, across a leaf link), such as: %.300s",
				filepath.Base(path), n, b[max(0, i-200):])
		}
	}
}

// Headquarters' imports from a mission's account go into the accounts
// only once every server of the cluster has the account. A request
// through such an import makes its server subscribe the replies'
// subject (_R_.<prefix>.>) in the mission's account and tell the other
// servers; a server that does not know the account yet drops that
// ("Unknown account … for remote subject _R_…", server/route.go) and is
// never told again, so the answers of a mission whose link joins it are
// lost for as long as both run. At full size, with twenty missions
// admitted while headquarters asked for their streams, one mission's
// stream stayed out of headquarters' reach for five minutes so. Hence
// mission-account.sh's two steps, each a reload of every server.
func TestAMissionAccountReachesEveryServerBeforeHeadquartersImportsIt(t *testing.T) {
	a, dir := newTestAccounts(t)
	ports := []int{freePort(t), freePort(t)}
	var servers []*server.Server
	for i, name := range []string{"a", "b"} {
		servers = append(servers, startAccountsServer(t, dir, name, fmt.Sprintf(`server_name: %s
listen: "127.0.0.1:-1"
cluster { name: hq, listen: "127.0.0.1:%d", routes: ["nats-route://127.0.0.1:%d"] }
leafnodes { listen: "127.0.0.1:-1", authorization { timeout: 5 } }
include ./accounts.conf
`, name, ports[i], ports[1-i])))
	}
	first, second := servers[0], servers[1]
	for deadline := time.Now().Add(10 * time.Second); first.NumRoutes() == 0 || second.NumRoutes() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the two servers did not route to each other")
		}
	}
	reload := func(s *server.Server) {
		t.Helper()
		if err := s.Reload(); err != nil {
			t.Fatalf("reload: %v", err)
		}
	}
	write := func() {
		t.Helper()
		if err := a.write(); err != nil {
			t.Fatal(err)
		}
	}
	// Headquarters' replica is on the first server, and asks for the
	// mission's gateway as its replicas do from the enrolment on.
	hq, err := nats.Connect(first.ClientURL(), nats.UserInfo("chancery", a.hq))
	if err != nil {
		t.Fatal(err)
	}
	defer hq.Close()
	ask := func(id string) error {
		_, err := hq.Request("chx.req."+id, []byte("ping"), 200*time.Millisecond)
		return err
	}
	// join starts a mission whose link joins the second server and
	// answers its gateway's subject.
	join := func(id string) {
		t.Helper()
		leaf := startLeaf(t, second, id, "the leaf password of "+id, "")
		mc, err := nats.Connect(leaf.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(mc.Close)
		if _, err := mc.Subscribe("chx.req."+id, func(m *nats.Msg) { m.Respond([]byte("pong " + id)) }); err != nil {
			t.Fatal(err)
		}
		mc.Flush()
	}
	lines := func(id string) (block, exports, imports string) {
		t.Helper()
		hash, err := bcrypt.GenerateFromPassword([]byte("the leaf password of "+id), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		block, exports, imports, err = missionAccountLines(id, string(hash))
		if err != nil {
			t.Fatal(err)
		}
		return block, exports, imports
	}
	// answered waits up to d for the mission to answer through the first
	// server.
	answered := func(id string, d time.Duration) bool {
		for deadline := time.Now().Add(d); time.Now().Before(deadline); {
			if m, err := hq.Request("chx.req."+id, []byte("ping"), 500*time.Millisecond); err == nil {
				if string(m.Data) != "pong "+id {
					t.Fatalf("%s answered %q", id, m.Data)
				}
				return true
			}
		}
		return false
	}

	// All of a mission's lines at once, the servers reloading one after
	// the other, and headquarters asking in between.
	early := "mission-000-01-01-g12"
	block, exports, imports := lines(early)
	a.blocks, a.exports, a.imports = append(a.blocks, block), append(a.exports, exports), append(a.imports, imports)
	write()
	reload(first)
	ask(early) //nolint:errcheck // nobody answers yet; what counts is the replies' subject it makes
	reload(second)
	reload(first)
	reload(second)
	join(early)
	if answered(early, 3*time.Second) {
		t.Errorf("a mission admitted in one step answered through a server that made its replies' subject before the other knew the account: " +
			"nats-server now tells a server of such a subject again; mission-account.sh's two steps (and this test) could be one again")
	}

	// mission-account.sh's order: the account (and HQ's exports to it)
	// on every server, then HQ's imports from it.
	later := "mission-000-02-01-g12"
	block, exports, imports = lines(later)
	a.blocks, a.exports = append(a.blocks, block), append(a.exports, exports)
	write()
	reload(first)
	ask(later) //nolint:errcheck // no import of it yet
	reload(second)
	a.imports = append(a.imports, imports)
	write()
	reload(first)
	ask(later) //nolint:errcheck // the replies' subject, made while the second server has not reloaded: it knows the account
	reload(second)
	join(later)
	if !answered(later, 10*time.Second) {
		t.Fatalf("a mission admitted in mission-account.sh's two steps does not answer headquarters through the other server")
	}
}
