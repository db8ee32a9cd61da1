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
// recorded, and reloads the servers once for all of them. One reload,
// after every enrolment: a reload made while a mission's leaf link was
// up stalled that mission's exchange (a run with a reload per enrolment:
// the first mission's reports stopped after the second's reload), which
// is open (see the session's report).
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
		rows, err := db.QueryContext(ctx, `SELECT node_id, leaf_hash FROM registry_enrolments WHERE used_us IS NOT NULL AND leaf_hash <> ''`)
		if err != nil {
			return err
		}
		defer rows.Close()
		added := 0
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
			w.acc.blocks, w.acc.exports, w.acc.imports = append(w.acc.blocks, block), append(w.acc.exports, exports), append(w.acc.imports, imports)
			w.acc.admitted[id] = true
			added++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, m := range w.missions {
			if !w.acc.admitted[m.node] {
				return fmt.Errorf("mission %s (%s) has not enrolled yet", m.code, m.node)
			}
		}
		if added > 0 {
			w.reloadNATS()
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

// The cluster's accounts, made from deploy/nats as the world makes them,
// take a mission by a reload: before it, the mission's leaf link (its
// leaf user and password) is refused; after it, the link binds to the
// mission's own account, and no user but the mission's may make a leaf
// link.
func TestAMissionAccountIsAddedByAReload(t *testing.T) {
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
	conf := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`listen: "127.0.0.1:-1"
jetstream { store_dir: %q, domain: hq }
leafnodes { listen: "127.0.0.1:-1", authorization { timeout: 5 } }
include ./accounts.conf
`, filepath.Join(dir, "js"))), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("nats-server's parser: %v", err)
	}
	opts.NoSigs, opts.NoLog = true, true
	hub, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	hub.Start()
	t.Cleanup(hub.Shutdown)
	if !hub.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats-server not ready")
	}

	const id, password = "mission-000-01-01-g12", "the-leaf-password-enrolment-gave"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(user, password string) *server.Server {
		v, err := hub.Varz(nil)
		if err != nil {
			t.Fatal(err)
		}
		u := &url.URL{Scheme: "nats-leaf", Host: fmt.Sprintf("127.0.0.1:%d", v.LeafNode.Port), User: url.UserPassword(user, password)}
		s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true,
			LeafNode: server.LeafNodeOpts{Remotes: []*server.RemoteLeafOpts{{URLs: []*url.URL{u}}}, ReconnectInterval: 50 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		t.Cleanup(s.Shutdown)
		return s
	}
	mission := leaf(id, password)
	hq := leaf("chancery", a.hq)

	block, exports, imports, err := missionAccountLines(id, string(hash))
	if err != nil {
		t.Fatal(err)
	}
	a.blocks, a.exports, a.imports = append(a.blocks, block), append(a.exports, exports), append(a.imports, imports)
	if err := a.write(); err != nil {
		t.Fatal(err)
	}
	if hub.NumLeafNodes() != 0 {
		t.Fatalf("%d leaf links before the mission's account was added", hub.NumLeafNodes())
	}
	if err := hub.Reload(); err != nil {
		t.Fatalf("nats-server does not reload a new mission's account: %v", err)
	}
	acc, err := hub.LookupAccount("MISSION_000_01_01_G12")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for acc.NumLeafNodes() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the mission's leaf link did not bind to its account after the reload (%d leaf links on the hub)", hub.NumLeafNodes())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := hub.NumLeafNodes(); n != 1 || hq.NumLeafNodes() != 0 || mission.NumLeafNodes() != 1 {
		t.Errorf("leaf links: hub %d, the mission %d, HQ's user %d; want only the mission's", n, mission.NumLeafNodes(), hq.NumLeafNodes())
	}
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
