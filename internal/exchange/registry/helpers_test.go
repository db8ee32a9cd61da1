package registry_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
	"chancery/internal/identity"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// testCtx is the context the tests' changes are made in: as the system
// actor "test", as the command line acts as "cli".
var testCtx = audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})

// Agency codes of the test directory.
const (
	ministry   = "000.00.00.G12"
	consular   = "000.00.03.G12"
	paris      = "000.01.02.G12"
	tokyo      = "000.01.03.G12"
	population = "000.00.00.G02"
	portal     = "000.00.00.G22"
	merged     = "000.00.09.G12"
)

// fakeDirectory is a fixed directory of units.
type fakeDirectory []identity.Unit

func (d fakeDirectory) AllUnits(context.Context) ([]identity.Unit, error) { return d, nil }

// directory is a small ministry with two missions, the demo's two outside
// agencies and a merged department.
var directory = fakeDirectory{
	{ID: 1, Code: ministry, NameVI: "Bộ Ngoại giao", NameEN: "Ministry of Foreign Affairs", Kind: identity.KindMinistry, Status: identity.UnitActive},
	{ID: 2, Code: consular, NameVI: "Cục Lãnh sự", NameEN: "Consular Department", Kind: identity.KindDepartment, Status: identity.UnitActive},
	{ID: 3, Code: paris, NameVI: "Đại sứ quán Việt Nam tại Pháp", NameEN: "Embassy in Paris", Kind: identity.KindEmbassy, Status: identity.UnitActive},
	{ID: 4, Code: tokyo, NameVI: "Đại sứ quán Việt Nam tại Nhật Bản", NameEN: "Embassy in Tokyo", Kind: identity.KindEmbassy, Status: identity.UnitActive},
	{ID: 5, Code: population, NameVI: "Bộ Công an", NameEN: "Ministry of Public Security", Kind: identity.KindAgency, Status: identity.UnitActive},
	{ID: 6, Code: portal, NameVI: "Văn phòng Chính phủ", NameEN: "Office of the Government", Kind: identity.KindAgency, Status: identity.UnitActive},
	{ID: 7, Code: merged, NameVI: "Vụ cũ", NameEN: "Old department", Kind: identity.KindDepartment, Status: identity.UnitMerged},
}

// fixture is a registry on a real database with its ledger, keys and
// clock, and headquarters' node registered.
type fixture struct {
	db        *store.DB
	reg       *registry.Registry
	ledger    *audit.Ledger
	ring      *keys.Ring
	clock     *storetest.Clock
	published [][]byte // what OnPublish received
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	return newFixtureWith(t, db, func(*registry.Options) {})
}

// newFixtureWith is newFixture with options changed by opt.
func newFixtureWith(t testing.TB, db *store.DB, opt func(*registry.Options)) *fixture {
	t.Helper()
	ring := audittest.MustRing(t)
	l := audittest.MustLedgerWith(t, db, ring, audit.Options{})
	f := &fixture{db: db, ledger: l, ring: ring, clock: storetest.NewClock(time.Date(2025, 3, 10, 3, 0, 0, 0, time.UTC))}
	opts := registry.Options{
		Now:       f.clock.Now,
		LeafURLs:  []string{"nats-leaf://hq.example:7422"},
		OnPublish: func(_ context.Context, signed []byte) { f.published = append(f.published, signed) },
		Recorder:  l,
	}
	opt(&opts)
	f.reg = registry.New(db, directory, ring, opts)
	if err := f.reg.EnsureHQNode(testCtx, f.hqInfo(t)); err != nil {
		t.Fatalf("EnsureHQNode: %v", err)
	}
	return f
}

// hqInfo is headquarters' node as it registers itself, as
// exchange.Node.Info describes it: without a member.
func (f *fixture) hqInfo(t testing.TB) exchange.NodeInfo {
	return exchange.NodeInfo{ID: "hq", Role: exchange.RoleHQ, SigningKey: f.ring.PublicKey(), EncryptionKey: kemKey(t)}
}

// kemKey returns a fresh public hybrid encryption key.
func kemKey(t testing.TB) []byte {
	t.Helper()
	k, err := exchange.GenerateKEMKey()
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey()
}

// conf returns the latest configuration, verified against headquarters'
// key.
func (f *fixture) conf(t testing.TB) *exchange.GlobalConf {
	t.Helper()
	signed, err := f.reg.Latest(context.Background())
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	c, err := exchange.ParseConf(signed, f.ring.PublicKey())
	if err != nil {
		t.Fatalf("ParseConf: %v", err)
	}
	return c
}

func clientID(member, subsystem string) exchange.ClientID {
	return exchange.ClientID{Instance: exchange.DefaultInstance, Class: exchange.ClassGOV, Member: member, Subsystem: subsystem}
}

func serviceID(member, subsystem, service, version string) exchange.ServiceID {
	return exchange.ServiceID{ClientID: clientID(member, subsystem), Service: service, Version: version}
}

// openAPIDoc is a minimal valid OpenAPI document.
const openAPIDoc = `{"openapi": "3.1.0", "info": {"title": "Tra cứu", "version": "1"}, "paths": {}}`

// lookup is the REST service the tests register.
var lookup = serviceID(population, "population", "citizen-lookup", "v1")

// report is the asynchronous service the tests register.
var report = serviceID(consular, "consular", "consular-report", "v1")

// mustSubsystem registers a subsystem.
func (f *fixture) mustSubsystem(t testing.TB, member, code string, clearance int) exchange.Subsystem {
	t.Helper()
	s, err := f.reg.CreateSubsystem(testCtx, registry.NewSubsystem{Member: member, Code: code, Title: "Hệ thống " + code, Clearance: authz.Level(clearance)})
	if err != nil {
		t.Fatalf("CreateSubsystem(%s/%s): %v", member, code, err)
	}
	return s
}

// mustBasics registers the subsystems and the two services most tests use.
func (f *fixture) mustBasics(t testing.TB) {
	t.Helper()
	f.mustSubsystem(t, population, "population", 0)
	f.mustSubsystem(t, consular, "consular", 1)
	f.mustSubsystem(t, ministry, "procedures", 1)
	f.mustSubsystem(t, paris, "consular", 1)
	if _, err := f.reg.CreateService(testCtx, registry.NewService{ID: lookup, Kind: exchange.KindREST, Title: "Tra cứu công dân",
		Description: "Tra cứu theo số định danh", Backend: "http://127.0.0.1:9999/api", OpenAPI: openAPIDoc}); err != nil {
		t.Fatalf("CreateService(lookup): %v", err)
	}
	if _, err := f.reg.CreateService(testCtx, registry.NewService{ID: report, Kind: exchange.KindAsync, Title: "Báo cáo lãnh sự", MaxLevel: 1}); err != nil {
		t.Fatalf("CreateService(report): %v", err)
	}
}

// mustEnrol issues a token for member and enrols a node with it.
func (f *fixture) mustEnrol(t testing.TB, member string) registry.EnrolResult {
	t.Helper()
	token, _, err := f.reg.IssueEnrolment(testCtx, member)
	if err != nil {
		t.Fatalf("IssueEnrolment(%s): %v", member, err)
	}
	res, err := f.reg.Enrol(anonCtx, token, newKeys(t))
	if err != nil {
		t.Fatalf("Enrol(%s): %v", member, err)
	}
	return res
}

// anonCtx is a request from nobody signed in, as the enrolment endpoint
// serves.
var anonCtx = audit.WithOrigin(context.Background(), audit.Origin{RequestID: "req-enrol"})

// newKeys returns a fresh node's public keys.
func newKeys(t testing.TB) registry.EnrolRequest {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return registry.EnrolRequest{SigningKey: pub, EncryptionKey: kemKey(t)}
}

// wantKind fails unless err wraps kind.
func wantKind(t testing.TB, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want %v", err, kind)
	}
}

// wantField fails unless err is an errs.FieldError for field.
func wantField(t testing.TB, err error, field string) {
	t.Helper()
	var fe *errs.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("error = %v, want a FieldError for %q", err, field)
	}
}

// events returns the integrated ledger events of action.
func (f *fixture) events(t testing.TB, action string) []audit.Event {
	t.Helper()
	ctx := context.Background()
	if _, err := f.ledger.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := f.ledger.Search(ctx, audit.Query{Action: action, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
