package records

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(issueChildEnv) != "" {
		os.Exit(issueChild()) // the kill -9 test's child (crash_test.go)
	}
	EnableStamping() // as the node does at start (app.Run)
	storetest.Main(m)
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *testClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fixture is a service on a real database, keyring and ledger, with the
// Office, the Consular Department and the Cipher-IT Department and their
// staff at every level.
type fixture struct {
	db     *store.DB
	svc    *Service
	ring   *keys.Ring
	ledger *audit.Ledger
	clock  *testClock
	units  map[string]int64
	names  map[int64]string
	// The Consular Department's clerk, officer, approver (the leader),
	// archivist and security officer, cleared top secret; its officer
	// cleared only confidential; an officer of the Office, cleared top
	// secret; an auditor with no document role.
	clerk, officer, leader, archivist, security, lowOfficer, office, auditor authz.Subject
	// A second leader of the Consular Department, for the two-person
	// rule.
	leader2 authz.Subject
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	ring, err := keys.Load(ctx, keys.Options{MasterKey: keys.GenerateMasterKey(), Store: &keys.MemStore{}, Purposes: Purposes()})
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := audit.New(ctx, db, ring, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ledger.Close() })
	// Tuesday 10 March 2026, 09:00 in Hanoi.
	f := &fixture{db: db, ring: ring, ledger: ledger, clock: &testClock{t: time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)},
		units: map[string]int64{}, names: map[int64]string{}}
	now := time.Now().UTC()
	for _, u := range []struct{ code, kind string }{
		{"000.00.00.G12", "ministry"}, {"000.00.01.G12", "department"}, {"000.00.03.G12", "department"}, {"000.00.09.G12", "department"},
	} {
		var id int64
		if err := db.QueryRowContext(ctx, db.Rebind(`INSERT INTO units (code, name_vi, name_en, kind, country, timezone, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'VN', 'Asia/Ho_Chi_Minh', ?, ?) RETURNING id`), u.code, "Đơn vị "+u.code, "Unit "+u.code, u.kind, now, now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		f.units[u.code] = id
	}
	staff := func(name, unit string, clearance authz.Level, roles ...authz.Role) authz.Subject {
		return f.addStaff(t, name, unit, clearance, roles...)
	}
	const consular, office, cipher = "000.00.03.G12", "000.00.01.G12", "000.00.09.G12"
	f.clerk = staff("clerk", consular, authz.TopSecret, authz.Clerk)
	f.officer = staff("officer", consular, authz.TopSecret, authz.Officer)
	f.leader = staff("leader", consular, authz.TopSecret, authz.Approver)
	f.leader2 = staff("leader2", consular, authz.TopSecret, authz.Approver)
	f.archivist = staff("archivist", consular, authz.TopSecret, authz.Archivist)
	f.security = staff("security", consular, authz.TopSecret, authz.SecurityOfficer)
	f.lowOfficer = staff("low", consular, authz.Confidential, authz.Officer, authz.Clerk)
	f.office = staff("office", office, authz.TopSecret, authz.Officer, authz.Clerk, authz.Approver)
	f.auditor = staff("auditor", cipher, authz.TopSecret, authz.Auditor)
	f.svc, err = NewService(Options{DB: db, Ring: ring, Recorder: ledger, Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// addStaff adds a member of staff of the unit with the code unit.
func (f *fixture) addStaff(t testing.TB, name, unit string, clearance authz.Level, roles ...authz.Role) authz.Subject {
	t.Helper()
	var id int64
	now := time.Now().UTC()
	if err := f.db.QueryRowContext(context.Background(), f.db.Rebind(`INSERT INTO staff (username, full_name, unit_id, roles, clearance, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), name, name, f.units[unit], authz.RolesOf(roles...).String(), int(clearance), now, now).Scan(&id); err != nil {
		t.Fatal(err)
	}
	f.names[id] = name
	return authz.Subject{Kind: authz.Staff, ID: id, Unit: f.units[unit], Roles: authz.RolesOf(roles...), Clearance: clearance}
}

// as returns a context acting as sub.
func (f *fixture) as(sub authz.Subject) context.Context {
	return audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.Staff(sub.ID, f.names[sub.ID]), UnitID: sub.Unit})
}

// incoming registers an incoming document at level l as the clerk.
func (f *fixture) incoming(t testing.TB, subject string, l authz.Level, content *Content) *Document {
	t.Helper()
	in := NewIncoming{Type: "cong_dien", Number: "12/CĐ-BNG", Sender: "Bộ Ngoại giao", Subject: subject,
		Date: f.clock.now(), Urgency: Urgent, Classify: Classify{Level: l}, Content: content}
	if l > authz.Unclassified {
		in.Reason, in.Source = "Danh mục bí mật nhà nước, mục 3", "the sender's marking"
	}
	d, err := f.svc.RegisterIncoming(f.as(f.clerk), f.clerk, in)
	if err != nil {
		t.Fatalf("RegisterIncoming: %v", err)
	}
	return d
}

// draft starts an outgoing document of type typ at level l as the officer.
func (f *fixture) draft(t testing.TB, typ string, l authz.Level) *Document {
	t.Helper()
	nd := NewDraft{Type: typ, Subject: "Quyết định về việc cử cán bộ đi công tác", Classify: Classify{Level: l},
		Content: &Content{Filename: "qd.pdf", MediaType: "application/pdf", Data: []byte("%PDF-1.4 quyết định")}}
	if l > authz.Unclassified {
		nd.Reason = "Danh mục bí mật nhà nước, mục 7"
	}
	d, err := f.svc.StartDraft(f.as(f.officer), f.officer, nd)
	if err != nil {
		t.Fatalf("StartDraft: %v", err)
	}
	return d
}

// issue takes a draft through approval and signing to issuance.
func (f *fixture) issue(t testing.TB, id int64, as IssueAs) *Document {
	t.Helper()
	if _, err := f.svc.Approve(f.as(f.leader), f.leader, id, ""); err != nil {
		t.Fatalf("Approve: %v", err)
	}
	if _, err := f.svc.Sign(f.as(f.leader), f.leader, id, ""); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	d, err := f.svc.Issue(f.as(f.clerk), f.clerk, id, as)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return d
}

// events returns the ledger's events of action on document id.
func (f *fixture) events(t testing.TB, action string, id int64) []audit.Event {
	t.Helper()
	ctx := context.Background()
	if _, err := f.ledger.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
	es, err := f.ledger.Search(ctx, audit.Query{Action: action, ResourceType: "document", ResourceID: itoa(id)})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// TestRegisterIncomingNumbersPerUnitYearAndSeries pins the arrival
// numbers: consecutive per unit register and year, classified documents in
// a series of their own, another unit's register apart, and a new series
// on 1 January (Viet Nam's time).
func TestRegisterIncomingNumbersPerUnitYearAndSeries(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a := f.incoming(t, "Công điện về lịch công tác", authz.Unclassified, nil)
		b := f.incoming(t, "Công điện về đoàn ra", authz.Unclassified, nil)
		sec := f.incoming(t, "Công điện mật", authz.Secret, nil)
		other, err := f.svc.RegisterIncoming(f.as(f.office), f.office, NewIncoming{Type: "thong_bao", Sender: "Văn phòng Chính phủ",
			Subject: "Thông báo kết luận", Date: f.clock.now()})
		if err != nil {
			t.Fatal(err)
		}
		// 31 December 2026, 17:30 UTC is already 1 January 2027 in Hanoi.
		f.clock.set(time.Date(2026, 12, 31, 17, 30, 0, 0, time.UTC))
		next := f.incoming(t, "Công điện đầu năm", authz.Unclassified, nil)
		for _, tc := range []struct {
			d      *Document
			number int
			year   int
			series Series
		}{
			{a, 1, 2026, SeriesIncoming}, {b, 2, 2026, SeriesIncoming}, {sec, 1, 2026, SeriesIncomingSecret},
			{other, 1, 2026, SeriesIncoming}, {next, 1, 2027, SeriesIncoming},
		} {
			if tc.d.RegisterNumber != tc.number || tc.d.RegisterYear != tc.year || tc.d.Series != tc.series {
				t.Errorf("%q: number %d of %d in %s; want %d of %d in %s", tc.d.Subject, tc.d.RegisterNumber, tc.d.RegisterYear, tc.d.Series,
					tc.number, tc.year, tc.series)
			}
		}
		if a.Status != StatusRegistered || a.Number != "12/CĐ-BNG" || a.Direction != Incoming {
			t.Errorf("registered document = %+v", a)
		}
	})
}

// TestOutgoingLifecycle pins the outgoing steps in order, each by its
// capacity, and the number and symbol given at issuance.
func TestOutgoingLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.draft(t, "quyet_dinh", authz.Unclassified)
		if d.Status != StatusDraft || d.Number != "" {
			t.Fatalf("draft = %+v", d)
		}
		// Out of order, or by the wrong capacity.
		if _, err := f.svc.Issue(f.as(f.clerk), f.clerk, d.ID, IssueAs{OrgSymbol: "BNG"}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("issuing a draft: %v, want ErrConflict", err)
		}
		if _, err := f.svc.Approve(f.as(f.clerk), f.clerk, d.ID, ""); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("a clerk approving: %v, want ErrForbidden", err)
		}
		issued := f.issue(t, d.ID, IssueAs{OrgSymbol: "BNG"})
		if issued.Number != "01/QĐ-BNG" || issued.Status != StatusIssued || issued.SignerID != f.leader.ID || issued.Date.IsZero() {
			t.Errorf("issued = %+v; want 01/QĐ-BNG signed by the leader", issued)
		}
		letter := f.draft(t, TypeOfficialLetter, authz.Unclassified)
		if _, err := f.svc.Approve(f.as(f.leader), f.leader, letter.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Sign(f.as(f.leader), f.leader, letter.ID, ""); err != nil {
			t.Fatal(err)
		}
		// A công văn needs its drafting unit in the symbol; refused
		// without, nothing taken.
		if _, err := f.svc.Issue(f.as(f.clerk), f.clerk, letter.ID, IssueAs{OrgSymbol: "BNG"}); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("a công văn without its unit: %v, want ErrInvalid", err)
		}
		got, err := f.svc.Issue(f.as(f.clerk), f.clerk, letter.ID, IssueAs{OrgSymbol: "BNG", UnitSymbol: "LS"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Number != "02/BNG-LS" {
			t.Errorf("công văn numbered %q, want 02/BNG-LS (the refused attempt took no number)", got.Number)
		}
		if _, err := f.svc.Recall(f.as(f.leader), f.leader, issued.ID, ""); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a recall without a reason: %v, want ErrInvalid", err)
		}
		recalled, err := f.svc.Recall(f.as(f.leader), f.leader, issued.ID, "Sai thành phần đoàn")
		if err != nil || recalled.Status != StatusRecalled {
			t.Fatalf("Recall = %+v, %v", recalled, err)
		}
		v, err := f.svc.Get(f.as(f.officer), f.officer, issued.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, st := range v.Steps {
			names = append(names, st.Action)
		}
		if strings.Join(names, ",") != "approve,sign,issue,recall" {
			t.Errorf("steps = %v", names)
		}
		// The signer's and the issuing office's signatures verify offline,
		// the latter covering the number; a changed statement does not.
		if len(v.Signatures) != 2 || v.Signatures[0].Kind != "signer" || v.Signatures[1].Kind != "issuer" {
			t.Fatalf("signatures = %+v", v.Signatures)
		}
		for _, sg := range v.Signatures {
			if err := f.svc.VerifySignature(sg.Statement, sg.KeyID, sg.Signature); err != nil {
				t.Errorf("%s's signature: %v", sg.Kind, err)
			}
		}
		var st Statement
		if err := json.Unmarshal([]byte(v.Signatures[1].Statement), &st); err != nil || st.Number != "01/QĐ-BNG" || len(st.ContentSHA256) != 64 || st.Document != issued.ID {
			t.Errorf("issuer's statement = %+v, %v", st, err)
		}
		forged := strings.Replace(v.Signatures[1].Statement, "01/QĐ-BNG", "02/QĐ-BNG", 1)
		if err := f.svc.VerifySignature(forged, v.Signatures[1].KeyID, v.Signatures[1].Signature); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a changed statement verifies: %v", err)
		}
	})
}

// TestClassificationAboveClearanceRefused pins that nobody classifies a
// document above their own clearance, and that nothing is stored.
func TestClassificationAboveClearanceRefused(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		_, err := f.svc.StartDraft(f.as(f.lowOfficer), f.lowOfficer, NewDraft{Type: "bao_cao", Subject: "Báo cáo",
			Classify: Classify{Level: authz.Secret, Reason: "mục 1"}})
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != "classification" {
			t.Fatalf("StartDraft above clearance: %v, want an invalid classification", err)
		}
		if _, err := f.svc.StartDraft(f.as(f.officer), f.officer, NewDraft{Type: "bao_cao", Subject: "Báo cáo", Classify: Classify{Level: authz.Secret}}); !errors.As(err, &fe) || fe.Field != "classification_reason" {
			t.Errorf("a classified draft without its reason: %v", err)
		}
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM record_documents`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d documents stored (%v), want none", n, err)
		}
	})
}

// TestConcealment tries each way into a document with callers who lack
// clearance or need-to-know, and pins that each gets the very answer a
// missing document gets, with a refusal carrying the level for the
// ledger.
func TestConcealment(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		secret := f.incoming(t, "Công điện tối mật", authz.Secret, &Content{Filename: "cd.pdf", MediaType: "application/pdf", Data: []byte("x")})
		const missing = 999999
		cf, err := f.svc.CreateCaseFile(f.as(f.office), f.office, NewCaseFile{Year: 2026, Code: "01", Title: "Hồ sơ"})
		if err != nil {
			t.Fatal(err)
		}
		tries := map[string]func(sub authz.Subject, id int64) error{
			"get":     func(sub authz.Subject, id int64) error { _, err := f.svc.Get(f.as(sub), sub, id); return err },
			"content": func(sub authz.Subject, id int64) error { _, _, err := f.svc.ContentOf(f.as(sub), sub, id); return err },
			"approve": func(sub authz.Subject, id int64) error { _, err := f.svc.Approve(f.as(sub), sub, id, ""); return err },
			"comment": func(sub authz.Subject, id int64) error { _, err := f.svc.Comment(f.as(sub), sub, id, "x"); return err },
			"file":    func(sub authz.Subject, id int64) error { return f.svc.File(f.as(sub), sub, cf.ID, id) },
			"grant": func(sub authz.Subject, id int64) error {
				_, err := f.svc.Grant(f.as(sub), sub, id, NewGrant{StaffID: sub.ID, Reason: "x", ExpiresAt: f.clock.now().Add(time.Hour)})
				return err
			},
			"declassify": func(sub authz.Subject, id int64) error {
				_, err := f.svc.Declassify(f.as(sub), sub, id, "x")
				return err
			},
		}
		for who, sub := range map[string]authz.Subject{"without clearance": f.lowOfficer, "of another unit": f.office} {
			for name, try := range tries {
				if name == "file" && who == "without clearance" {
					continue // the case file is the Office's; the Office's officer tries it
				}
				t.Run(who+"/"+name, func(t *testing.T) {
					got, want := try(sub, secret.ID), try(sub, missing)
					if !errors.Is(got, errs.ErrNotFound) || !errors.Is(want, errs.ErrNotFound) {
						t.Fatalf("got %v for the secret document and %v for a missing one; want not found for both", got, want)
					}
					if strings.ReplaceAll(got.Error(), "document "+itoa(secret.ID), "document N") != strings.ReplaceAll(want.Error(), "document "+itoa(missing), "document N") {
						t.Errorf("the answers differ:\n%s\n%s", got, want)
					}
					var ref *authz.Refusal
					if !errors.As(got, &ref) || ref.Decision != authz.Concealed || ref.Level != authz.Secret {
						t.Errorf("refusal = %+v; want a concealed one at level secret, for the ledger", ref)
					}
				})
			}
		}
		// The clerk who registered it reads it.
		if _, err := f.svc.Get(f.as(f.clerk), f.clerk, secret.ID); err != nil {
			t.Errorf("the owning unit's clerk: %v", err)
		}
	})
}
