package dlp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// fixture is DLP on a real database: two security officers, a clerk who
// sends, and an auditor.
type fixture struct {
	db                      *store.DB
	svc                     *Service
	ledger                  *audit.Ledger
	officer, officer2       authz.Subject
	clerk, auditor, analyst authz.Subject
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
	l := audittest.MustLedger(t, db)
	dir := identity.NewService(db, l, nil)
	root, err := dir.CreateUnit(ctx, "test", identity.NewUnit{Code: "000.00.00.G12", NameVI: "Bộ Ngoại giao", NameEN: "Ministry of Foreign Affairs",
		Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
	if err != nil {
		t.Fatal(err)
	}
	staff := func(username string, roles ...authz.Role) authz.Subject {
		m, err := dir.SeedStaff(ctx, "test", identity.NewStaff{Username: username, FullName: username, UnitID: root.ID, Roles: authz.RolesOf(roles...)})
		if err != nil {
			t.Fatal(err)
		}
		return m.Subject()
	}
	f := &fixture{db: db, ledger: l}
	f.officer, f.officer2 = staff("security.officer", authz.SecurityOfficer), staff("security.officer2", authz.SecurityOfficer)
	f.clerk, f.auditor, f.analyst = staff("clerk", authz.Clerk), staff("auditor", authz.Auditor), staff("officer", authz.Officer)
	s := testScanner()
	if f.svc, err = NewService(Options{DB: db, Recorder: l, Scanner: s}); err != nil {
		t.Fatal(err)
	}
	return f
}

// as returns a context whose origin is sub, as a request's would be.
func as(sub authz.Subject) context.Context {
	return audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.Staff(sub.ID, fmt.Sprint("user", sub.ID)), UnitID: sub.Unit})
}

// identityList is n distinct valid identity numbers, one a line.
func identityList(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Nguyễn Văn A%d, CCCD 0010990%05d\n", i, i)
	}
	return []byte(b.String())
}

const (
	mission = "VN/GOV/000.01.02.G12/edxml" // the embassy in Paris: the ministry's own
	agency  = "VN/GOV/000.00.00.G02/edxml" // another ministry
	memo    = "TỐI MẬT\nVề việc chuẩn bị chuyến thăm"
)

func heldID(t *testing.T, err error) int64 {
	t.Helper()
	var h *HeldError
	if !errors.As(err, &h) || !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("got %v, want the item held", err)
	}
	return h.ID
}

// Each way out blocks, holds or allows per the policy: a marked memo to
// another agency is blocked, to a mission allowed; 60 identity numbers to
// a mission are held, and go once when approved; a marked notice by mail
// is blocked, a download of the memo allowed.
func TestGatesDecideByPolicy(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := as(f.clerk)
		ex := f.svc.Gate(WayExchange)
		if err := ex.Check(ctx, agency, 0, "memo.txt", "text/plain", []byte(memo)); !IsBlocked(err) || !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("marked memo to another agency: %v, want blocked", err)
		}
		if err := ex.Check(ctx, mission, 0, "memo.txt", "text/plain", []byte(memo)); err != nil {
			t.Errorf("marked memo to a mission: %v, want allowed", err)
		}
		// A declared level counts as a marking even if the text has none.
		if err := ex.Check(ctx, agency, authz.Confidential, "x.txt", "text/plain", []byte("nội dung")); !IsBlocked(err) {
			t.Errorf("a confidential message to another agency: %v, want blocked", err)
		}
		if err := ex.Check(ctx, agency, 0, "x.txt", "text/plain", []byte("Kính gửi Quý Bộ, xin cảm ơn.")); err != nil {
			t.Errorf("a plain letter: %v", err)
		}
		list := identityList(60)
		id := heldID(t, ex.Check(ctx, mission, 0, "list.csv", "text/csv", list))
		if again := heldID(t, ex.Check(ctx, mission, 0, "list.csv", "text/csv", list)); again != id {
			t.Errorf("sent again while held: hold %d, want the same hold %d", again, id)
		}
		if err := ex.Check(ctx, mission, 0, "list.csv", "text/csv", identityList(49)); err != nil {
			t.Errorf("49 identity numbers, under the threshold: %v", err)
		}
		if _, err := f.svc.Decide(as(f.officer), f.officer, id, true, ""); err != nil {
			t.Fatal(err)
		}
		if err := ex.Check(ctx, mission, 0, "list.csv", "text/csv", list); err != nil {
			t.Errorf("sent again once approved: %v, want it to go", err)
		}
		if third := heldID(t, ex.Check(ctx, mission, 0, "list.csv", "text/csv", list)); third == id {
			t.Errorf("an approval let the item go twice")
		}
		h, err := f.svc.Hold(ctx, f.auditor, id)
		if err != nil || h.Status != StatusReleased || h.Findings[IdentityNumber.String()] != 60 || h.Reasons[0] != FindingPersonalData {
			t.Errorf("hold %+v, %v", h, err)
		}
		if err := f.svc.Gate(WayMail).Check(ctx, "a@example.com", 0, "notice", "text/plain", []byte("Độ mật: Mật")); !IsBlocked(err) {
			t.Errorf("a marked mail: %v, want blocked", err)
		}
		if err := f.svc.Gate(WayDownload).Check(ctx, "", authz.Secret, "memo.pdf", "text/plain", []byte(memo)); err != nil {
			t.Errorf("a cleared reader's download of the memo: %v, want allowed", err)
		}
		// The ledger holds what was found, never the numbers.
		if _, err := f.ledger.Integrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		evs, err := f.ledger.Search(context.Background(), audit.Query{Action: "dlp.hold"})
		if err != nil || len(evs) != 2 {
			t.Fatalf("dlp.hold events: %d, %v", len(evs), err)
		}
		for _, e := range evs {
			if !strings.Contains(e.Attrs["found"], "identity_number=60") || strings.Contains(fmt.Sprint(e.Attrs), "0010990") {
				t.Errorf("hold event %v", e.Attrs)
			}
		}
		blocks, _ := f.ledger.Search(context.Background(), audit.Query{Action: "dlp.block"})
		if len(blocks) != 3 || blocks[0].Outcome != audit.Denied {
			t.Errorf("dlp.block events: %+v", blocks)
		}
	})
}

// Two security officers decide on one hold at once: one wins, the other
// is told it is no longer waiting; the sender cannot decide their own.
func TestConcurrentDecisionsOneWins(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		id := heldID(t, f.svc.Gate(WayExchange).Check(as(f.officer2), mission, 0, "l", "", identityList(50)))
		if _, err := f.svc.Decide(as(f.officer2), f.officer2, id, true, ""); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("deciding on one's own item: %v, want forbidden", err)
		}
		if _, err := f.svc.Decide(as(f.clerk), f.clerk, id, true, ""); err == nil {
			t.Error("a clerk approved a hold")
		}
		if _, err := f.svc.Decide(as(f.officer), f.officer, id, false, " "); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a rejection without a reason: %v", err)
		}
		var wg sync.WaitGroup
		errs2 := make([]error, 4)
		for i := range errs2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs2[i] = f.svc.Decide(as(f.officer), f.officer, id, i%2 == 0, "xem lại")
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs2 {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, errs.ErrConflict):
				t.Errorf("a losing decision: %v, want a conflict", err)
			}
		}
		if won != 1 {
			t.Errorf("%d decisions won, want 1", won)
		}
	})
}

func TestPolicyVersionsAndConflicts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := as(f.officer)
		p, err := f.svc.Policy(ctx, f.auditor)
		if err != nil || p.Version != 1 {
			t.Fatalf("built-in policy %+v, %v", p, err)
		}
		if _, err := f.svc.SavePolicy(as(f.auditor), f.auditor, 1, p, ""); err == nil {
			t.Error("an auditor changed the policy")
		}
		p.Rules = append(p.Rules, Rule{Way: "download", Finding: "marking_top_secret", Decision: Block})
		saved, err := f.svc.SavePolicy(ctx, f.officer, 1, p, "chặn tải tài liệu tuyệt mật")
		if err != nil || saved.Version != 2 {
			t.Fatalf("saved %+v, %v", saved, err)
		}
		if _, err := f.svc.SavePolicy(ctx, f.officer, 1, p, ""); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("a save based on an old version: %v, want a conflict", err)
		}
		vs, err := f.svc.PolicyVersions(ctx, f.officer)
		if err != nil || len(vs) != 2 || vs[0].Policy.Version != 2 || vs[1].Note != "built in" {
			t.Errorf("versions %+v, %v", vs, err)
		}
		if err := f.svc.Gate(WayDownload).Check(as(f.clerk), "", authz.TopSecret, "x", "", []byte("x")); !IsBlocked(err) {
			t.Errorf("the new rule does not apply: %v", err)
		}
		for _, bad := range []string{`{"rules":[{"way":"fax","finding":"marking","decision":"block"}]}`,
			`{"rules":[{"way":"*","finding":"gossip","decision":"block"}]}`,
			`{"rules":[{"way":"*","finding":"marking","decision":"maybe"}]}`,
			`{"bulk":{"marking_secret":3}}`, `{"bulk":{"identity_number":0}}`, `{"extra":1}`,
			`{"rules":[{"way":"*","finding":"marking","decision":"block","cleared":["["]}]}`} {
			if _, err := ParsePolicy([]byte(bad)); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%s: %v, want invalid", bad, err)
			}
		}
	})
}

// The policy is read again after its TTL, so a replica sees another's
// save.
func TestPolicyCacheExpires(t *testing.T) {
	db := storetest.MustOpen(t, store.SQLite)
	f := newFixture(t, db)
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	other, err := NewService(Options{DB: db, Recorder: f.ledger, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Gate(WayDownload).Check(as(f.clerk), "", authz.TopSecret, "x", "", []byte("x")); err != nil {
		t.Fatal(err)
	}
	p := DefaultPolicy()
	p.Rules = append(p.Rules, Rule{Way: "download", Finding: "marking", Decision: Block})
	if _, err := f.svc.SavePolicy(as(f.officer), f.officer, 1, p, ""); err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Second)
	if err := other.Gate(WayDownload).Check(as(f.clerk), "", authz.TopSecret, "x", "", []byte("x")); !IsBlocked(err) {
		t.Errorf("another replica's policy: %v, want blocked", err)
	}
}

// The demo's queue holds two waiting items, one approved and one
// rejected, and the ledger a blocked one.
func TestSeedDemoFillsTheQueue(t *testing.T) {
	f := newFixture(t, storetest.MustOpen(t, store.SQLite))
	staff := map[string]DemoStaff{}
	for i, name := range DemoSenders {
		sub := []authz.Subject{f.clerk, f.analyst, f.auditor, f.officer2}[i]
		staff[name] = DemoStaff{Subject: sub, Username: name}
	}
	if err := SeedDemo(context.Background(), f.svc, staff, DemoStaff{Subject: f.officer, Username: "security.officer"}); err != nil {
		t.Fatal(err)
	}
	count := map[Status]int{}
	holds, _, err := f.svc.Holds(context.Background(), f.auditor, HoldFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range holds {
		count[h.Status]++
	}
	if count[StatusHeld] != 2 || count[StatusApproved] != 1 || count[StatusRejected] != 1 {
		t.Errorf("demo holds by status: %v", count)
	}
}
