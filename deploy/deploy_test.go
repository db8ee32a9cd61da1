package deploy

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/conf"
	"github.com/nats-io/nats-server/v2/server"
)

// natsEnv are the passwords nats.conf reads from the environment, as
// systemd/nats.env.example lists them.
func natsEnv(t *testing.T) {
	t.Helper()
	for _, kv := range envFile(t, "systemd/nats.env.example") {
		t.Setenv(kv[0], "test-"+strings.ToLower(kv[0]))
	}
}

// envFile returns the NAME=value lines of an environment file.
func envFile(t *testing.T, path string) [][2]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][2]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not NAME=value", path, line)
		}
		out = append(out, [2]string{name, value})
	}
	return out
}

// writeTLS writes a CA and a certificate it signed, as PEM files named as
// the configurations expect them, into dir.
func writeTLS(t *testing.T, dir string, names ...string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	priv := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	for _, n := range names {
		data := cert
		if strings.Contains(n, "key") {
			data = priv
		}
		if strings.HasSuffix(n, "combined.pem") {
			data = append(append([]byte{}, cert...), priv...)
		}
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// copyWith copies the files of src into dst, replacing each old of repl
// with its new.
func copyWith(t *testing.T, src, dst string, repl *strings.Replacer) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), []byte(repl.Replace(string(b))), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNATSClusterConfigParses runs each node's configuration through
// nats-server's own parser (the version in go.mod) and checks the shape
// Chancery depends on: three named nodes of one cluster with routes to
// each other, JetStream in headquarters' domain, and each mission's leaf
// user bound to an account of its own that carries exactly the subjects
// of the exchange between headquarters and that mission.
func TestNATSClusterConfigParses(t *testing.T) {
	natsEnv(t)
	dir := t.TempDir()
	writeTLS(t, filepath.Join(dir, "tls"), "ca.pem", "server.pem", "server-key.pem", "leaf.pem", "leaf-key.pem")
	copyWith(t, "nats", dir, strings.NewReplacer("/etc/nats/tls/", filepath.Join(dir, "tls")+"/"))

	names := map[string]bool{}
	for i := 1; i <= 3; i++ {
		path := filepath.Join(dir, "nats-"+string(rune('0'+i))+".conf")
		o, err := server.ProcessConfigFile(path)
		if err != nil {
			t.Fatalf("nats-server refuses %s: %v", path, err)
		}
		// NewServer validates the options as a start would, without
		// listening or touching the store.
		o.StoreDir = t.TempDir()
		if _, err := server.NewServer(o); err != nil {
			t.Fatalf("nats-server refuses the options of %s: %v", path, err)
		}
		names[o.ServerName] = true
		if !o.JetStream || o.JetStreamDomain != "hq" {
			t.Errorf("%s: JetStream %v in domain %q, want on in hq (headquarters' node id)", path, o.JetStream, o.JetStreamDomain)
		}
		if o.Cluster.Name != "chancery-hq" || len(o.Routes) != 3 || o.Cluster.TLSConfig == nil || o.Cluster.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert {
			t.Errorf("%s: cluster %q with %d routes (want chancery-hq, 3 routes, certificates verified)", path, o.Cluster.Name, len(o.Routes))
		}
		if o.LeafNode.TLSConfig == nil || o.TLSConfig == nil {
			t.Errorf("%s: the client and leaf listeners must take TLS only", path)
		}
		if o.SystemAccount != "SYS" {
			t.Errorf("%s: system account %q", path, o.SystemAccount)
		}
		checkMissionAccounts(t, path, o)
	}
	if len(names) != 3 {
		t.Errorf("server names %v: want three distinct ones", names)
	}
}

// checkMissionAccounts checks every leaf user's account against the
// subjects of the exchange's leaf grants between headquarters and that
// mission (internal/exchange leafGrants), and that the account has no
// JetStream of its own.
func checkMissionAccounts(t *testing.T, path string, o *server.Options) {
	t.Helper()
	if len(o.LeafNode.Users) != 0 || o.LeafNode.Username != "" {
		t.Errorf("%s: leafnodes.authorization has users: nats-server cannot reload them, so a new mission would need a restart", path)
	}
	var leafUsers []*server.User
	for _, u := range o.Users {
		_, leaf := u.AllowedConnectionTypes["LEAFNODE"]
		if leaf && len(u.AllowedConnectionTypes) == 1 {
			leafUsers = append(leafUsers, u)
		} else if leaf || len(u.AllowedConnectionTypes) == 0 {
			t.Errorf("%s: user %s may connect as %v: only a mission's leaf user may make a leaf link, and only that", path, u.Username, u.AllowedConnectionTypes)
		}
	}
	if len(leafUsers) == 0 {
		t.Fatalf("%s: no leaf users: missions could not join", path)
	}
	for _, u := range leafUsers {
		id := u.Username
		if u.Account == nil || u.Account.Name == "HQ" || u.Account.Name == server.DEFAULT_GLOBAL_ACCOUNT {
			t.Errorf("%s: leaf user %s is not bound to an account of its own", path, id)
			continue
		}
		if !strings.HasPrefix(u.Password, "$2a$") {
			t.Errorf("%s: leaf user %s's password is not the bcrypt hash enrolment recorded", path, id)
		}
		acc := u.Account
		if acc.JetStreamEnabled() {
			t.Errorf("%s: account %s has JetStream: a mission's streams live in its own domain", path, acc.Name)
		}
		inM, inHQ := "EXCHANGE.in-"+id+"~hq", "EXCHANGE.in-hq~"+id
		// The mission's consumer creation is not headquarters' JetStream
		// API but headquarters' proxy (chx.hub.create), onto which the
		// account maps the creation subject (accountSubjects checks it).
		wantImports := []string{
			"chx.hub.nojs", "chx.hub.create.hq." + id,
			"$JS.API.CONSUMER.DELETE." + inM, "$JS.API.CONSUMER.INFO." + inM, "$JS.API.CONSUMER.MSG.NEXT." + inM,
			"$JS.ACK." + inM + ".>", "chx.req.hq", "chx.conf.get",
		}
		api := "$JS." + id + ".API."
		wantExports := []string{
			api + "CONSUMER.CREATE." + inHQ + ".chx.out." + id + ".hq",
			api + "CONSUMER.DELETE." + inHQ, api + "CONSUMER.INFO." + inHQ, api + "CONSUMER.MSG.NEXT." + inHQ,
			"$JS.ACK." + inHQ + ".>", "chx.req." + id,
		}
		imports, exports := accountSubjects(t, o, path, acc.Name)
		slices.Sort(wantImports)
		slices.Sort(wantExports)
		if !slices.Equal(imports, wantImports) {
			t.Errorf("%s: account %s imports\n%v\nwant\n%v", path, acc.Name, imports, wantImports)
		}
		if !slices.Equal(exports, wantExports) {
			t.Errorf("%s: account %s exports\n%v\nwant\n%v", path, acc.Name, exports, wantExports)
		}
	}
}

// accountSubjects lists the service subjects the account name imports
// and exports, as nats-server's configuration parser reads path, checking
// that the server took each export.
func accountSubjects(t *testing.T, o *server.Options, path, name string) (imports, exports []string) {
	t.Helper()
	m, err := conf.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	accounts, _ := m["accounts"].(map[string]any)
	block, _ := accounts[name].(map[string]any)
	subjects := func(key, kind string) (out []string) {
		list, _ := block[key].([]any)
		for _, e := range list {
			entry, _ := e.(map[string]any)
			switch v := entry[kind].(type) {
			case string: // an export: {service: "subject"}
				out = append(out, v)
			case map[string]any: // an import: {service: {account, subject}}
				out = append(out, v["subject"].(string))
				mappings, _ := block["mappings"].(map[string]any)
				if sub := v["subject"].(string); sub == "chx.hub.nojs" && entry["to"] != "$JS.API.INFO" {
					// Without an import of $JS.API.INFO, nats-server
					// imports $JS.API.> from the system account, which
					// answers the mission "JetStream not enabled".
					t.Errorf("%s: account %s imports chx.hub.nojs as %v, want as $JS.API.INFO", path, name, entry["to"])
				} else if rest, ok := strings.CutPrefix(sub, "$JS.API.CONSUMER."); ok && !strings.HasPrefix(rest, "CREATE.") {
					// The mission asks in headquarters' domain; the
					// mapping a leaf's joining adds, a reload drops.
					if from := "$JS.hq.API.CONSUMER." + rest; mappings[from] != sub {
						t.Errorf("%s: account %s maps %s to %v, want to %s", path, name, from, mappings[from], sub)
					}
				}
				if sub := v["subject"].(string); strings.HasPrefix(sub, "chx.hub.create.hq.") {
					// The creation the mission asks for, with headquarters'
					// domain or without, is mapped onto the import.
					id := strings.TrimPrefix(sub, "chx.hub.create.hq.")
					for _, api := range []string{"$JS.hq.API.", "$JS.API."} {
						if from := api + "CONSUMER.CREATE.EXCHANGE.in-" + id + "~hq.chx.out.hq." + id; mappings[from] != sub {
							t.Errorf("%s: account %s maps %s to %v, want to %s", path, name, from, mappings[from], sub)
						}
					}
				}
			}
		}
		slices.Sort(out)
		return out
	}
	imports, exports = subjects("imports", "service"), subjects("exports", "service")
	for _, a := range o.Accounts {
		if a.Name != name {
			continue
		}
		for _, e := range exports {
			if !a.IsExportService(e) {
				t.Errorf("%s: nats-server did not take account %s's export %s", path, name, e)
			}
		}
		if n := a.NumServiceImports(); n != len(imports) {
			t.Errorf("%s: nats-server took %d of account %s's %d service imports", path, n, name, len(imports))
		}
	}
	return imports, exports
}
