package records

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// The tests here run the records of two nodes, each on its own database,
// headquarters and the embassy in Paris, joined by a link that behaves
// as the exchange promises (in order, exactly once, held while cut); the
// real exchange between two nodes is internal/app's edxml_test.go.

const (
	consularCode = "000.00.03.G12"
	parisCode    = "000.01.02.G12"
)

var (
	consularOrgan = Organ{consularCode, "Cục Lãnh sự"}
	parisOrgan    = Organ{parisCode, "Đại sứ quán Việt Nam tại Pháp"}
)

// testLink carries parcels between the nodes' couriers in the order
// sent, while up.
type testLink struct {
	mu      sync.Mutex
	up      bool
	queue   []Parcel
	seq     int
	nodes   map[string]*fixture // by the organisation each serves
	refused []error
}

// testCourier is one node's side of the link.
type testCourier struct {
	link   *testLink
	organs map[int64]Organ
	peers  []Peer
}

func (c *testCourier) Organ(_ context.Context, unit int64) (Organ, error) {
	if o, ok := c.organs[unit]; ok {
		return o, nil
	}
	return Organ{}, fmt.Errorf("%w: unit %d has no document system on the exchange", errs.ErrInvalid, unit)
}

func (c *testCourier) UnitOf(_ context.Context, code string) (int64, error) {
	for id, o := range c.organs {
		if o.ID == code {
			return id, nil
		}
	}
	return 0, errs.ErrNotFound
}

func (c *testCourier) Peers(context.Context, string) ([]Peer, error) { return c.peers, nil }

func (c *testCourier) Send(_ context.Context, p Parcel) (string, error) {
	c.link.mu.Lock()
	defer c.link.mu.Unlock()
	c.link.seq++
	c.link.queue = append(c.link.queue, p)
	return fmt.Sprintf("msg-%d", c.link.seq), nil
}

// pump hands everything queued to its recipient, in order, if the link
// is up, and reports how many it delivered.
func (l *testLink) pump(t testing.TB) int {
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
		if err := l.deliver(p, fmt.Sprintf("in-%d", i)); err != nil {
			t.Fatalf("deliver %s → %s: %v", p.From, p.To, err)
		}
	}
	return len(q)
}

func (l *testLink) deliver(p Parcel, id string) error {
	f := l.nodes[p.To]
	ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("edxml")})
	err := f.svc.Receive(ctx, Arrival{Sender: p.From, Recipient: p.To, Level: p.Level, MessageID: id, Payload: p.Payload})
	if errors.Is(err, errs.ErrInvalid) {
		l.refused = append(l.refused, err)
		return nil
	}
	return err
}

// twoNodes is headquarters (the Consular Department sends) and the
// embassy in Paris (its records office, the fixture's Office unit, and
// its leader receive), on two databases of the same dialect.
type twoNodes struct {
	hq, paris *fixture
	link      *testLink
}

func newTwoNodes(t *testing.T, db *store.DB) *twoNodes {
	t.Helper()
	n := &twoNodes{hq: newFixture(t, db), paris: newFixture(t, storetest.MustOpen(t, db.Dialect)), link: &testLink{up: true}}
	n.link.nodes = map[string]*fixture{consularCode: n.hq, parisCode: n.paris}
	n.hq.svc.opts.Courier = &testCourier{link: n.link, organs: map[int64]Organ{n.hq.units[consularCode]: consularOrgan},
		peers: []Peer{{Organ: parisOrgan, MaxLevel: authz.Confidential}}}
	n.paris.svc.opts.Courier = &testCourier{link: n.link, organs: map[int64]Organ{n.paris.units["000.00.01.G12"]: parisOrgan},
		peers: []Peer{{Organ: consularOrgan, MaxLevel: authz.Secret}}}
	return n
}

// settle hands every outbox to the link and the link's parcels to their
// recipients until nothing moves.
func (n *twoNodes) settle(t testing.TB) {
	t.Helper()
	for range 10 {
		moved := 0
		for _, f := range []*fixture{n.hq, n.paris} {
			k, err := f.svc.DeliverPackages(context.Background())
			if err != nil {
				t.Fatalf("DeliverPackages: %v", err)
			}
			moved += k
		}
		if moved+n.link.pump(t) == 0 {
			return
		}
	}
	t.Fatal("the packages did not settle")
}

// issueTo drafts, approves, signs and issues a document at level l at
// headquarters, to Paris.
func (n *twoNodes) issueTo(t testing.TB, l authz.Level, recipients ...string) *Document {
	t.Helper()
	d := n.hq.draft(t, "quyet_dinh", l)
	return n.hq.issue(t, d.ID, IssueAs{OrgSymbol: "BNG", Recipients: recipients})
}

func statuses(rows []*PackageRow) []DeliveryStatus {
	var out []DeliveryStatus
	for _, e := range rows[0].Events {
		out = append(out, e.Status)
	}
	return out
}

// TestIssuedDocumentReachesTheMissionAndItsStatusesComeBackInOrder pins
// the path of a package: issued at headquarters to Paris, it waits in
// the embassy's queue; registering it fills the incoming register from
// its metadata; the instruction, the first step and completion are
// reported back, and headquarters sees every status in order.
func TestIssuedDocumentReachesTheMissionAndItsStatusesComeBackInOrder(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		hq, paris := n.hq, n.paris
		sent := n.issueTo(t, authz.Confidential, parisCode)
		rows, err := hq.svc.Deliveries(hq.as(hq.clerk), hq.clerk, sent.ID)
		if err != nil || len(rows) != 1 || rows[0].Status != DeliveryQueued || rows[0].To != parisOrgan {
			t.Fatalf("before delivery: %+v, %v", rows, err)
		}
		n.settle(t)

		clerk := paris.office
		waiting, err := paris.svc.Packages(paris.as(clerk), clerk, PackageQuery{Direction: packageIn, Waiting: true})
		if err != nil || len(waiting) != 1 || waiting[0].Number != sent.Number || waiting[0].From != consularOrgan || waiting[0].Level != authz.Confidential {
			t.Fatalf("Paris's packages to register: %+v, %v", waiting, err)
		}
		// The package is no one else's business at the embassy.
		if _, err := paris.svc.RegisterPackage(paris.as(paris.clerk), paris.clerk, waiting[0].ID); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("another unit's clerk registers Paris's package: %v", err)
		}
		doc, err := paris.svc.RegisterPackage(paris.as(clerk), clerk, waiting[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Direction != Incoming || doc.Number != sent.Number || doc.Subject != sent.Subject || doc.Type != "quyet_dinh" ||
			doc.Classification != authz.Confidential || doc.RegisterNumber != 1 || doc.Sender != "Cục Lãnh sự (000.00.03.G12)" {
			t.Fatalf("registered as %+v", doc)
		}
		if _, data, err := paris.svc.ContentOf(paris.as(clerk), clerk, doc.ID); err != nil || string(data) != "%PDF-1.4 quyết định" {
			t.Fatalf("the registered file: %q, %v", data, err)
		}
		if _, err := paris.svc.RegisterPackage(paris.as(clerk), clerk, waiting[0].ID); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("registering a package twice: %v", err)
		}
		if _, err := paris.svc.Assign(paris.as(clerk), clerk, doc.ID, Instruction{Text: "Đề nghị Văn phòng xử lý",
			Lead: AssignTo{UnitID: clerk.Unit}}); err != nil {
			t.Fatal(err)
		}
		if _, err := paris.svc.Comment(paris.as(clerk), clerk, doc.ID, "Đang liên hệ cơ quan sở tại"); err != nil {
			t.Fatal(err)
		}
		if _, err := paris.svc.Comment(paris.as(clerk), clerk, doc.ID, "Đã có lịch làm việc"); err != nil {
			t.Fatal(err)
		}
		if _, err := paris.svc.Complete(paris.as(clerk), clerk, doc.ID, "Đã xong"); err != nil {
			t.Fatal(err)
		}
		n.settle(t)
		rows, err = hq.svc.Deliveries(hq.as(hq.clerk), hq.clerk, sent.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []DeliveryStatus{DeliveryQueued, DeliverySent, DeliveryReceived, DeliveryAccepted, DeliveryAssigned, DeliveryInProgress, DeliveryDone}
		if got := statuses(rows); !slices.Equal(got, want) || rows[0].Status != DeliveryDone {
			t.Fatalf("headquarters sees %v (now %s), want %v", got, rows[0].Status, want)
		}
		// Someone who may not read the document does not learn of its
		// deliveries.
		if _, err := hq.svc.Deliveries(hq.as(hq.auditor), hq.auditor, sent.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("deliveries to an outsider: %v", err)
		}
	})
}

// TestCutLinkDeliversLaterExactlyOnceInOrder pins the embassy on a cut
// link: what is issued meanwhile waits, and arrives once, in order, when
// the link is back; a copy delivered again adds nothing.
func TestCutLinkDeliversLaterExactlyOnceInOrder(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		n.link.up = false
		first := n.issueTo(t, authz.Unclassified, parisCode)
		second := n.issueTo(t, authz.Confidential, parisCode)
		n.settle(t)
		clerk := n.paris.office
		list := func() []*PackageRow {
			rows, err := n.paris.svc.Packages(n.paris.as(clerk), clerk, PackageQuery{Direction: packageIn})
			if err != nil {
				t.Fatal(err)
			}
			return rows
		}
		if got := list(); len(got) != 0 {
			t.Fatalf("Paris has %d packages across a cut link", len(got))
		}
		n.link.mu.Lock()
		held := slices.Clone(n.link.queue)
		n.link.up = true
		n.link.mu.Unlock()
		n.settle(t)
		// A redelivery of the first package (the exchange's guarantee
		// breaking, or the outbox handing it over twice after a crash).
		if err := n.link.deliver(held[0], "again"); err != nil {
			t.Fatal(err)
		}
		got := list()
		if len(got) != 2 || got[1].Number != first.Number || got[0].Number != second.Number || got[1].ID > got[0].ID {
			t.Fatalf("after the link is back Paris has %+v; want %s then %s, once each", got, first.Number, second.Number)
		}
		n.settle(t)
		rows, _ := n.hq.svc.Deliveries(n.hq.as(n.hq.clerk), n.hq.clerk, first.ID)
		if got := statuses(rows); !slices.Equal(got, []DeliveryStatus{DeliveryQueued, DeliverySent, DeliveryReceived}) {
			t.Fatalf("statuses of the first package: %v", got)
		}
	})
}

// TestClassifiedDocumentGoesOnlyToClearedRecipients pins the levels: a
// secret document is not issued to an embassy cleared for confidential
// ones only; the issuance is refused whole, its number not taken.
func TestClassifiedDocumentGoesOnlyToClearedRecipients(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		hq := n.hq
		d := hq.draft(t, "quyet_dinh", authz.Secret)
		for _, step := range []func() (*Document, error){
			func() (*Document, error) { return hq.svc.Approve(hq.as(hq.leader), hq.leader, d.ID, "") },
			func() (*Document, error) { return hq.svc.Sign(hq.as(hq.leader), hq.leader, d.ID, "") },
		} {
			if _, err := step(); err != nil {
				t.Fatal(err)
			}
		}
		for _, to := range [][]string{{parisCode}, {"000.09.09.G12"}} {
			if _, err := hq.svc.Issue(hq.as(hq.clerk), hq.clerk, d.ID, IssueAs{OrgSymbol: "BNG", Recipients: to}); !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("issue a secret document to %v: %v", to, err)
			}
		}
		issued, err := hq.svc.Issue(hq.as(hq.clerk), hq.clerk, d.ID, IssueAs{OrgSymbol: "BNG"})
		if err != nil || issued.RegisterNumber != 1 {
			t.Fatalf("issued without recipients: %+v, %v (the refused issuances must take no number)", issued, err)
		}
		if rows, _ := hq.svc.Deliveries(hq.as(hq.clerk), hq.clerk, d.ID); len(rows) != 0 {
			t.Fatalf("a refused issuance left packages: %+v", rows)
		}
	})
}

// TestForgedPackagesAreRefusedAndNothingIsStored pins the receiving
// side's checks against the exchange's word: who sent it, to whom, at
// what level, and the package's own checksum.
func TestForgedPackagesAreRefusedAndNothingIsStored(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		p := samplePackage()
		good := []byte(mustBuild(t, p))
		tampered := []byte(mustBuild(t, p))
		i := len(tampered) - 200
		tampered[i] ^= 1 // inside the base64 content
		for _, tc := range []struct {
			name string
			a    Arrival
		}{
			{"sent by another member", Arrival{Sender: "000.00.04.G12", Recipient: parisCode, Level: authz.Confidential, Payload: good}},
			{"delivered to another", Arrival{Sender: consularCode, Recipient: "000.01.03.G12", Level: authz.Confidential, Payload: good}},
			{"level lowered", Arrival{Sender: consularCode, Recipient: parisCode, Level: authz.Unclassified, Payload: good}},
			{"altered on its way", Arrival{Sender: consularCode, Recipient: parisCode, Level: authz.Confidential, Payload: tampered}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.a.MessageID = "forged"
				ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("edxml")})
				if err := n.paris.svc.Receive(ctx, tc.a); !errors.Is(err, errs.ErrInvalid) {
					t.Fatalf("Receive = %v; want refused", err)
				}
			})
		}
		var count int
		if err := n.paris.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM record_packages`).Scan(&count); err != nil || count != 0 {
			t.Fatalf("%d packages stored after forgeries (%v)", count, err)
		}
		if _, err := n.paris.ledger.Integrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		es, err := n.paris.ledger.Search(context.Background(), audit.Query{Action: "document.package.refuse"})
		if err != nil || len(es) != 4 {
			t.Fatalf("%d refusals in the ledger (%v), want 4", len(es), err)
		}
	})
}

// TestRecallReachesTheReceiverAndReturnReachesTheSender pins the two
// ways back: the sender's recall marks the receiver's registered copy
// recalled, and the clerk's return (with its reason) reaches the sender.
func TestRecallReachesTheReceiverAndReturnReachesTheSender(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		hq, paris := n.hq, n.paris
		kept := n.issueTo(t, authz.Unclassified, parisCode)
		wrong := n.issueTo(t, authz.Unclassified, parisCode)
		n.settle(t)
		clerk := paris.office
		waiting, err := paris.svc.Packages(paris.as(clerk), clerk, PackageQuery{Direction: packageIn, Waiting: true})
		if err != nil || len(waiting) != 2 {
			t.Fatalf("waiting: %+v, %v", waiting, err)
		}
		byNumber := map[string]*PackageRow{waiting[0].Number: waiting[0], waiting[1].Number: waiting[1]}
		doc, err := paris.svc.RegisterPackage(paris.as(clerk), clerk, byNumber[kept.Number].ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := paris.svc.ReturnPackage(paris.as(clerk), clerk, byNumber[wrong.Number].ID, ""); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("a return without its reason: %v", err)
		}
		if _, err := paris.svc.ReturnPackage(paris.as(clerk), clerk, byNumber[wrong.Number].ID, "Gửi nhầm cơ quan"); err != nil {
			t.Fatal(err)
		}
		if _, err := paris.svc.RegisterPackage(paris.as(clerk), clerk, byNumber[wrong.Number].ID); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("registering a returned package: %v", err)
		}
		if _, err := hq.svc.Recall(hq.as(hq.leader), hq.leader, kept.ID, "Thay thế bằng quyết định khác"); err != nil {
			t.Fatal(err)
		}
		n.settle(t)
		returned, _ := hq.svc.Deliveries(hq.as(hq.clerk), hq.clerk, wrong.ID)
		if returned[0].Status != DeliveryReturned || returned[0].Reason != "Gửi nhầm cơ quan" {
			t.Fatalf("the sender sees %+v", returned[0])
		}
		v, err := paris.svc.Get(paris.as(clerk), clerk, doc.ID)
		if err != nil || v.Status != StatusRecalled {
			t.Fatalf("Paris's copy after the recall: %+v, %v", v, err)
		}
		recalled, _ := paris.svc.Packages(paris.as(clerk), clerk, PackageQuery{Direction: packageIn})
		for _, p := range recalled {
			if p.Number == kept.Number && (p.Status != DeliveryRecalled || p.Reason != "Thay thế bằng quyết định khác") {
				t.Fatalf("Paris's package after the recall: %+v", p)
			}
		}
		if len(n.link.refused) != 0 {
			t.Fatalf("refused on the way: %v", n.link.refused)
		}
	})
}

// TestConcurrentRegistrationsOfAPackageTakeOneNumber pins a package
// registered by several clerks at once: one registration wins, the
// others are conflicts, and the register's number is taken once.
func TestConcurrentRegistrationsOfAPackageTakeOneNumber(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		n.issueTo(t, authz.Unclassified, parisCode)
		n.settle(t)
		clerk := n.paris.office
		waiting, err := n.paris.svc.Packages(n.paris.as(clerk), clerk, PackageQuery{Direction: packageIn, Waiting: true})
		if err != nil || len(waiting) != 1 {
			t.Fatalf("waiting: %+v, %v", waiting, err)
		}
		const tries = 6
		errsc := make(chan error, tries)
		var wg sync.WaitGroup
		for range tries {
			wg.Go(func() {
				_, err := n.paris.svc.RegisterPackage(n.paris.as(clerk), clerk, waiting[0].ID)
				errsc <- err
			})
		}
		wg.Wait()
		close(errsc)
		won := 0
		for err := range errsc {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, errs.ErrConflict):
				t.Errorf("a concurrent registration failed otherwise: %v", err)
			}
		}
		var docs, last int
		if err := n.paris.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM record_documents`).Scan(&docs); err != nil {
			t.Fatal(err)
		}
		if err := n.paris.db.QueryRowContext(context.Background(), `SELECT MAX(last) FROM record_registers`).Scan(&last); err != nil {
			t.Fatal(err)
		}
		if won != 1 || docs != 1 || last != 1 {
			t.Fatalf("%d registrations won, %d documents, last number %d; want 1, 1, 1", won, docs, last)
		}
	})
}
