package exchange

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild()) // the mission node of the crash test
	}
	storetest.Main(m)
}

// testCtx carries the audit origin that services demand.
func testCtx() context.Context {
	return audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
}

// mustRing returns a keyring held in memory.
func mustRing(tb testing.TB) *keys.Ring { return audittest.MustRing(tb) }

// testNode is a node with its own database, keyring and ledger, as each
// node of a real deployment has.
type testNode struct {
	*Node
	db     *store.DB
	ring   *keys.Ring
	ledger *audit.Ledger
}

// Members, subsystems and services of the test network.
var (
	hqMember      = "000.00.00.G12"
	missionMember = "000.00.00.H01"
	procedures    = ClientID{DefaultInstance, ClassGOV, hqMember, "procedures"}
	consular      = ClientID{DefaultInstance, ClassGOV, missionMember, "consular"}
	reportSvc     = ServiceID{ClientID: procedures, Service: "consular-report", Version: "v1"}
	lookupSvc     = ServiceID{ClientID: procedures, Service: "lookup", Version: "v1"}
	noticeSvc     = ServiceID{ClientID: consular, Service: "notice", Version: "v1"}
)

// newTestNode opens a node on a fresh database of dialect d. A mission
// node is created as enrolment would create it, trusting anchor.
func newTestNode(tb testing.TB, d store.Dialect, role NodeRole, id string, anchor *keys.Ring) *testNode {
	tb.Helper()
	ctx := context.Background()
	db := storetest.MustOpen(tb, d)
	ring := mustRing(tb)
	ledger, err := audit.New(ctx, db, ring, audit.Options{})
	if err != nil {
		tb.Fatalf("audit.New: %v", err)
	}
	tb.Cleanup(func() { ledger.Close() })
	if role == RoleMission {
		n := &Node{db: db, ring: ring, now: time.Now}
		if err := n.saveIdentity(ctx, id, RoleMission, anchor.PublicKey(), "http://hq.invalid", nil, nil); err != nil {
			tb.Fatalf("create mission identity: %v", err)
		}
	}
	n, err := OpenNode(ctx, db, ring, ledger, NodeOptions{Role: role, ID: id, Logger: quietLogger()})
	if err != nil {
		tb.Fatalf("OpenNode(%s): %v", id, err)
	}
	return &testNode{Node: n, db: db, ring: ring, ledger: ledger}
}

// testNet is headquarters and one mission, with a global configuration
// that lets the mission's consular system report to headquarters'
// procedures system and call its lookup service, and headquarters send
// notices to the mission.
type testNet struct {
	hq, mission *testNode
	conf        *GlobalConf
}

func newTestNet(tb testing.TB, d store.Dialect) *testNet {
	tb.Helper()
	tn := &testNet{}
	tn.hq = newTestNode(tb, d, RoleHQ, "hq", nil)
	tn.mission = newTestNode(tb, d, RoleMission, "mission-h01", tn.hq.ring)
	tn.conf = &GlobalConf{
		Instance: DefaultInstance, HQ: "hq", MaxMessageBytes: 1 << 20,
		Members: []Member{
			{Instance: DefaultInstance, Class: ClassGOV, Code: hqMember, NameVI: "Bộ Ngoại giao", NameEN: "Ministry of Foreign Affairs", Node: "hq"},
			{Instance: DefaultInstance, Class: ClassGOV, Code: missionMember, NameVI: "Đại sứ quán tại Pháp", NameEN: "Embassy in France", Node: "mission-h01"},
		},
		Subsystems: []Subsystem{
			{ID: procedures, Title: "Procedures", Clearance: authz.Secret},
			{ID: consular, Title: "Consular", Clearance: authz.Confidential},
		},
		Services: []Service{
			{ID: reportSvc, Kind: KindAsync, Title: "Consular report", MaxLevel: authz.Secret},
			{ID: lookupSvc, Kind: KindREST, Title: "Lookup", Backend: "http://backend.invalid", MaxLevel: authz.Confidential},
			{ID: noticeSvc, Kind: KindAsync, Title: "Notice", MaxLevel: authz.Secret},
		},
		Rights: []Right{
			{Service: reportSvc, Client: consular},
			{Service: lookupSvc, Client: consular},
			{Service: noticeSvc, Client: procedures},
		},
		Nodes: []NodeInfo{
			withRole(tn.hq.Info(), hqMember),
			withRole(tn.mission.Info(), missionMember),
		},
	}
	tn.publish(tb, nil)
	return tn
}

func withRole(n NodeInfo, member string) NodeInfo {
	n.Member = member
	n.Certified = time.Now().UTC()
	return n
}

// publish changes the configuration with change (if not nil), signs it
// with a higher serial, and installs it on both nodes.
func (tn *testNet) publish(tb testing.TB, change func(*GlobalConf)) []byte {
	tb.Helper()
	if change != nil {
		change(tn.conf)
	}
	tn.conf.Serial++
	tn.conf.Issued = time.Now().UTC()
	if tn.conf.Expires.IsZero() || tn.conf.Expires.After(tn.conf.Issued) {
		tn.conf.Expires = tn.conf.Issued.Add(24 * time.Hour)
	}
	if err := tn.conf.Build(); err != nil {
		tb.Fatalf("Build: %v", err)
	}
	signed, err := SignConf(tn.conf, tn.hq.ring.Signer())
	if err != nil {
		tb.Fatalf("SignConf: %v", err)
	}
	for _, n := range []*testNode{tn.hq, tn.mission} {
		if err := n.Install(context.Background(), signed); err != nil {
			tb.Fatalf("Install on %s: %v", n.ID(), err)
		}
	}
	return signed
}

// testEnvelope returns a message from the mission's consular system to
// headquarters' report service.
func testEnvelope(i int, payload []byte) *Envelope {
	return &Envelope{Header: Header{
		ID: NewMessageID(time.Now()), Type: TypeMessage, Sender: consular, Recipient: procedures, Service: reportSvc,
		Time: time.Now().UTC(), Level: authz.Confidential, ContentType: "application/json",
	}, Payload: append([]byte(fmt.Sprintf(`{"n":%d,"p":"`, i)), append(payload, '"', '}')...)}
}
