package exchange

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"golang.org/x/crypto/bcrypt"

	"chancery/internal/bus"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// A mission enrolled with headquarters on a stock NATS cluster keeps the
// leaf user enrolment gave it sealed at rest, and joins a nats-server
// configured as deploy/nats configures it (an account per mission, a
// leaf user per mission with a bcrypt-hashed password), bound to its own
// account; a mission enrolled without a leaf user is not admitted.
func TestAMissionJoinsAStockClusterWithTheLeafUserEnrolmentGaveIt(t *testing.T) {
	ctx := testCtx()
	hq := newTestNode(t, store.SQLite, RoleHQ, "hq", nil)
	token := "s3cret." + keys.Fingerprint(hq.ring.PublicKey())
	const password = "dGhlLW1pc3Npb24ncy1sZWFmLXBhc3N3b3Jk"
	enrol := func(fake *fakeHQ) (*Node, *store.DB) {
		srv := httptest.NewServer(fake)
		defer srv.Close()
		db := storetest.MustOpen(t, store.SQLite)
		ring := mustRing(t)
		if err := Enrol(ctx, db, ring, srv.URL, token, srv.Client()); err != nil {
			t.Fatalf("Enrol: %v", err)
		}
		n, err := OpenNode(ctx, db, ring, nil, NodeOptions{Role: RoleMission})
		if err != nil {
			t.Fatalf("OpenNode: %v", err)
		}
		return n, db
	}
	withUser, db := enrol(&fakeHQ{hq: hq, secret: "s3cret", leafUser: "mission-h01", leafPassword: password})
	withoutUser, _ := enrol(&fakeHQ{hq: hq, secret: "s3cret"})

	var sealed []byte
	if err := db.QueryRowContext(ctx, `SELECT leaf_sealed FROM exchange_node`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || bytes.Contains(sealed, []byte(password)) || bytes.Contains(sealed, []byte("mission-h01")) {
		t.Fatalf("the leaf credentials are not sealed at rest: %q", sealed)
	}

	caFile, certFile, keyFile := writeCA(t)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	stock := startStockNATS(t, fmt.Sprintf(`
listen: "127.0.0.1:-1"
accounts: {
  HQ: { users: [ { user: "chancery", password: "hq" } ] }
  MISSION_H01: {}
}
leafnodes {
  listen: "127.0.0.1:%d"
  tls { cert_file: %q, key_file: %q, timeout: 5 }
  authorization { users: [ { user: "mission-h01", password: %q, account: MISSION_H01 } ] }
}
`, port, certFile, keyFile, hash))
	url := fmt.Sprintf("nats-leaf://127.0.0.1:%d", port)
	for _, n := range []*Node{withoutUser, withUser} {
		dial, err := n.LeafDial(LeafTLSFiles{CAFile: caFile})
		if err != nil {
			t.Fatal(err)
		}
		openBus(t, bus.Options{ServerName: n.ID(), JetStreamDomain: n.ID(), LeafRemotes: []string{url}, LeafDial: dial})
	}
	mission, err := stock.LookupAccount("MISSION_H01")
	if err != nil {
		t.Fatal(err)
	}
	// The server binds a leaf link to its account before it counts the link
	// as its own, so both counts are awaited.
	waitFor(t, 10*time.Second, "the mission's leaf link in its account", func() bool {
		return mission.NumLeafNodes() == 1 && stock.NumLeafNodes() == 1
	})
	if dial, _ := withoutUser.LeafDial(LeafTLSFiles{}); dial.User != "" || stock.NumLeafNodes() != 1 {
		t.Fatalf("a mission without a leaf user presents %q; the stock server holds %d leaf links, want only the enrolled user's", dial.User, stock.NumLeafNodes())
	}
}

// Leaf credentials that a NATS leaf CONNECT cannot carry as given are
// refused at enrolment, and nothing is saved.
func TestEnrolRefusesMalformedLeafCredentials(t *testing.T) {
	ctx := testCtx()
	hq := newTestNode(t, store.SQLite, RoleHQ, "hq", nil)
	token := "s3cret." + keys.Fingerprint(hq.ring.PublicKey())
	for _, tc := range []struct{ name, user, password string }{
		{"user without password", "mission-h01", ""},
		{"password without user", "", "pw"},
		{"CR LF", "mission-h01", "pw\r\nPUB x 1"},
		{"NUL", "mission\x00h01", "pw"},
		{"too long", "mission-h01", strings.Repeat("p", maxLeafCredential+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&fakeHQ{hq: hq, secret: "s3cret", leafUser: tc.user, leafPassword: tc.password})
			defer srv.Close()
			db := storetest.MustOpen(t, store.SQLite)
			if err := Enrol(ctx, db, mustRing(t), srv.URL, token, srv.Client()); err == nil || !strings.Contains(err.Error(), "leaf") {
				t.Fatalf("Enrol = %v, want a refusal of the leaf credentials", err)
			}
			if ok, err := Enrolled(ctx, db); err != nil || ok {
				t.Errorf("Enrolled = %v, %v after a refusal; want nothing saved", ok, err)
			}
		})
	}
}

// startStockNATS starts an in-process nats-server from the configuration
// text, as nats-server's own parser reads it from a file.
func startStockNATS(t *testing.T, text string) *server.Server {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	sopts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("nats-server's parser: %v", err)
	}
	sopts.NoSigs, sopts.NoLog = true, true
	stock, err := server.NewServer(sopts)
	if err != nil {
		t.Fatal(err)
	}
	stock.Start()
	t.Cleanup(stock.Shutdown)
	if !stock.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return stock
}
