package insight

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

const (
	rootCode     = "000.00.00.G12"
	consularCode = "000.00.03.G12"
	parisCode    = "000.01.02.G12"
	tokyoCode    = "000.01.03.G12"
)

// clock is a test's controlled time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// notices records escalation notices.
type notices struct {
	mu  sync.Mutex
	got []Notice
}

func (n *notices) NotifyTx(_ context.Context, _ *store.Tx, x Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, x)
	return nil
}

// fixture is one node's insight on a real database: a ministry with
// the Consular Department and embassies in Paris and Tokyo; a leader,
// the consular department's head and officer, and each embassy's head
// and officer.
type fixture struct {
	db                                         *store.DB
	svc                                        *Service
	ledger                                     *audit.Ledger
	dir                                        *identity.Service
	clock                                      *clock
	notices                                    *notices
	units                                      map[string]int64
	leader, head, officer, parisOff, parisHead authz.Subject
	tokyoOff                                   authz.Subject
}

// monday 2026-03-02 09:00 Hanoi.
var monday = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
	l := audittest.MustLedger(t, db)
	dir := identity.NewService(db, l, nil)
	f := &fixture{db: db, ledger: l, dir: dir, clock: &clock{t: monday}, notices: &notices{}, units: map[string]int64{}}
	root, err := dir.CreateUnit(ctx, "test", identity.NewUnit{Code: rootCode, NameVI: "Bộ Ngoại giao", NameEN: "Ministry of Foreign Affairs",
		Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
	if err != nil {
		t.Fatal(err)
	}
	f.units[rootCode] = root.ID
	for _, u := range []struct {
		code, vi, en string
		kind         identity.UnitKind
		country      string
	}{
		{consularCode, "Cục Lãnh sự", "Consular Department", identity.KindDepartment, "VN"},
		{parisCode, "Đại sứ quán tại Pháp", "Embassy in France", identity.KindEmbassy, "FR"},
		{tokyoCode, "Đại sứ quán tại Nhật Bản", "Embassy in Japan", identity.KindEmbassy, "JP"},
	} {
		got, err := dir.CreateUnit(ctx, "test", identity.NewUnit{Code: u.code, NameVI: u.vi, NameEN: u.en, Kind: u.kind, ParentID: root.ID,
			Country: u.country, TimeZone: "Asia/Ho_Chi_Minh"})
		if err != nil {
			t.Fatal(err)
		}
		f.units[u.code] = got.ID
	}
	staff := func(username, unit string, roles ...authz.Role) authz.Subject {
		m, err := dir.SeedStaff(ctx, "test", identity.NewStaff{Username: username, FullName: username, UnitID: f.units[unit], Roles: authz.RolesOf(roles...)})
		if err != nil {
			t.Fatal(err)
		}
		return m.Subject()
	}
	f.leader = staff("leader", rootCode, authz.Leader)
	f.head = staff("consular.head", consularCode, authz.Approver)
	f.officer = staff("consular.officer", consularCode, authz.Officer)
	f.parisOff = staff("paris.officer", parisCode, authz.Officer)
	f.parisHead = staff("paris.head", parisCode, authz.Approver)
	f.tokyoOff = staff("tokyo.officer", tokyoCode, authz.Officer)
	if f.svc, err = NewService(Options{DB: db, Recorder: l, Directory: dir, Notifier: f.notices, Now: f.clock.now}); err != nil {
		t.Fatal(err)
	}
	return f
}

// as returns a context whose origin is sub, as a request's would be.
func as(sub authz.Subject) context.Context {
	return audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.Staff(sub.ID, fmt.Sprintf("staff-%d", sub.ID)), UnitID: sub.Unit})
}

var system = audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("insight")})

// ledgerActions returns the actions of the ledger's events, in order,
// that start with prefix.
func (f *fixture) ledgerActions(t testing.TB, prefix string) []string {
	t.Helper()
	rows, err := f.db.QueryContext(context.Background(), f.db.Rebind(`SELECT action FROM audit_events WHERE action LIKE ? ORDER BY id`), prefix+"%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// link carries parcels between two nodes, in order, while up: as the
// exchange promises (internal/exchange's own tests prove that over NATS).
type link struct {
	mu    sync.Mutex
	up    bool
	queue []Parcel
	seq   int
	nodes map[string]*fixture // by the member code each node answers for
}

// courier is one node's side of the link: the codes it serves locally.
type courier struct {
	link  *link
	local map[string]bool
}

func (c *courier) Remote(_ context.Context, code string) (bool, error) { return !c.local[code], nil }

func (c *courier) Send(_ context.Context, p Parcel) (string, error) {
	c.link.mu.Lock()
	defer c.link.mu.Unlock()
	c.link.seq++
	c.link.queue = append(c.link.queue, p)
	return fmt.Sprintf("msg-%d", c.link.seq), nil
}

// pump delivers what the link holds, if up.
func (l *link) pump(t testing.TB) int {
	t.Helper()
	l.mu.Lock()
	if !l.up {
		l.mu.Unlock()
		return 0
	}
	q := l.queue
	l.queue = nil
	l.mu.Unlock()
	for i, p := range q {
		if err := l.nodes[p.To].svc.Receive(system, Arrival{Sender: p.From, MessageID: fmt.Sprintf("in-%d", i), Payload: p.Payload}); err != nil {
			t.Fatalf("deliver %s → %s: %v", p.From, p.To, err)
		}
	}
	return len(q)
}

// twoNodes is headquarters and the embassy in Paris on its own node (two
// databases of the same dialect).
type twoNodes struct {
	hq, paris *fixture
	link      *link
}

func newTwoNodes(t *testing.T, db *store.DB) *twoNodes {
	t.Helper()
	n := &twoNodes{hq: newFixture(t, db), paris: newFixture(t, storetest.MustOpen(t, db.Dialect)), link: &link{up: true}}
	n.link.nodes = map[string]*fixture{rootCode: n.hq, parisCode: n.paris}
	n.hq.svc.opts.Courier = &courier{link: n.link, local: map[string]bool{rootCode: true, consularCode: true, tokyoCode: true}}
	n.paris.svc.opts.Courier = &courier{link: n.link, local: map[string]bool{parisCode: true}}
	n.paris.clock = n.hq.clock
	n.paris.svc.opts.Now = n.hq.clock.now
	return n
}

// settle hands outboxes to the link and the link's parcels on until
// nothing moves.
func (n *twoNodes) settle(t testing.TB) {
	t.Helper()
	for range 10 {
		moved := 0
		for _, f := range []*fixture{n.hq, n.paris} {
			k, err := f.svc.Deliver(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			moved += k
		}
		if moved+n.link.pump(t) == 0 {
			return
		}
	}
	t.Fatal("the parcels did not settle")
}

// quarterly is a template of the Consular Department's quarterly report.
func quarterly() Template {
	lo := 0.0
	return Template{Code: "consular_q", NameVI: "Báo cáo công tác lãnh sự quý", NameEN: "Quarterly consular report", Period: Quarterly,
		Indicators: []Indicator{
			{Code: "passports", NameVI: "Hộ chiếu đã cấp", NameEN: "Passports issued", Type: Integer, Unit: "cuốn", Min: &lo, Required: true},
			{Code: "fees", NameVI: "Lệ phí thu", NameEN: "Fees collected", Type: Decimal, Unit: "USD", Min: &lo},
			{Code: "on_time", NameVI: "Tỷ lệ đúng hạn", NameEN: "On time", Type: Percent, Required: true},
			{Code: "notes", NameVI: "Ghi chú", NameEN: "Notes", Type: Text},
		}}
}
