package procedures

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// Agency codes of the test directory.
const (
	consularCode = "000.00.03.G12"
	parisCode    = "000.01.02.G12"
	protocolCode = "000.00.05.G12"
)

// outbox records the notices a service queues, as the mail outbox would.
type outbox struct {
	mu      sync.Mutex
	notices []Notice
}

func (o *outbox) Nudge() {}

func (o *outbox) NotifyTx(_ context.Context, _ *store.Tx, n Notice) error {
	o.mu.Lock()
	o.notices = append(o.notices, n)
	o.mu.Unlock()
	return nil
}

// nationalPortalLog is the national portal as the exchange would carry reports
// to it: it records them, and fails while down.
type nationalPortalLog struct {
	mu      sync.Mutex
	down    bool
	reports []NationalPortalReport
}

func (p *nationalPortalLog) SendStatus(_ context.Context, payload []byte) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return "", fmt.Errorf("%w: the exchange cannot reach the national portal", errs.ErrUnavailable)
	}
	var s NationalPortalReport
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return "", err
	}
	p.reports = append(p.reports, s)
	return fmt.Sprintf("msg-%d", len(p.reports)), nil
}

func (p *nationalPortalLog) statuses(code string) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for _, r := range p.reports {
		if r.DossierCode == code {
			out = append(out, r.Status)
		}
	}
	return out
}

// population is the National Population Database as the exchange
// reaches it: it answers for the citizens it holds and remembers every
// query, with its end user and purpose.
type population struct {
	mu     sync.Mutex
	people map[string]Person
	asked  []PopulationQuery // guarded by mu
}

func (p *population) Lookup(_ context.Context, q PopulationQuery) (Person, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, q)
	if person, ok := p.people[q.IDNumber]; ok {
		return person, nil
	}
	return Person{}, fmt.Errorf("%w: no citizen has number %s", errs.ErrNotFound, q.IDNumber)
}

// queries returns the queries the database was asked.
func (p *population) queries() []PopulationQuery {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.asked)
}

// fixture is a service on a real database, keyring, ledger and blob
// bucket, with a consular department, an embassy and its staff.
type fixture struct {
	db             *store.DB
	svc            *Service
	clock          *storetest.Clock
	mail           *outbox
	nationalPortal *nationalPortalLog
	units          map[string]int64
	// Subjects of the test's people.
	citizen, other                authz.Subject
	clerk, officer, approver, far authz.Subject
	staffName                     map[int64]string
	population                    *population
	opts                          Options // the service's
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	ring := audittest.MustRing(t)
	ledger := audittest.MustLedgerWith(t, db, ring, audit.Options{})
	bucket, err := store.OpenBucket(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	// Monday 10 March 2025, 09:00 in Hanoi.
	f := &fixture{db: db, clock: storetest.NewClock(time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)), mail: &outbox{}, nationalPortal: &nationalPortalLog{},
		units: map[string]int64{}, staffName: map[int64]string{}}
	now := time.Now().UTC()
	for _, u := range []struct{ code, kind, country, zone string }{
		{"000.00.00.G12", "ministry", "VN", "Asia/Ho_Chi_Minh"},
		{consularCode, "department", "VN", "Asia/Ho_Chi_Minh"},
		{protocolCode, "department", "VN", "Asia/Ho_Chi_Minh"},
		{parisCode, "embassy", "FR", "Europe/Paris"},
	} {
		var id int64
		if err := db.QueryRowContext(ctx, db.Rebind(`INSERT INTO units (code, name_vi, name_en, kind, country, timezone, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), u.code, "Đơn vị "+u.code, "Unit "+u.code, u.kind, u.country, u.zone, now, now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		f.units[u.code] = id
	}
	staff := func(name, unit string, roles ...authz.Role) authz.Subject {
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = r.String()
		}
		var id int64
		if err := db.QueryRowContext(ctx, db.Rebind(`INSERT INTO staff (username, full_name, unit_id, roles, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), name, name, f.units[unit], strings.Join(names, ","), now, now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		f.staffName[id] = name
		return authz.Subject{Kind: authz.Staff, ID: id, Unit: f.units[unit], Roles: authz.RolesOf(roles...)}
	}
	f.clerk = staff("clerk", consularCode, authz.Clerk)
	f.officer = staff("officer", consularCode, authz.Officer)
	f.approver = staff("approver", consularCode, authz.Approver)
	f.far = staff("far", protocolCode, authz.Clerk, authz.Officer, authz.Approver)
	citizen := func(email string) authz.Subject {
		var id int64
		if err := db.QueryRowContext(ctx, db.Rebind(`INSERT INTO citizens (email, full_name, created_at) VALUES (?, ?, ?) RETURNING id`),
			email, email, now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return authz.Subject{Kind: authz.Citizen, ID: id}
	}
	f.citizen, f.other = citizen("lan@example.vn"), citizen("other@example.vn")
	cat, err := BuiltinCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	f.population = &population{people: map[string]Person{
		"001188004215": {IDNumber: "001188004215", FullName: "Nguyễn Thị Lan", DateOfBirth: "1988-04-12", Sex: "female"},
		"036079001187": {IDNumber: "036079001187", FullName: "Trần Văn Minh", DateOfBirth: "1979-11-02", Sex: "male"},
	}}
	f.opts = Options{SiteURL: "https://dichvucong.test/", DB: db, Catalogue: cat, Ring: ring, Bucket: bucket, Directory: identity.NewService(db, ledger, f.clock.Now),
		Recorder: ledger, Notifier: f.mail, NationalPortal: f.nationalPortal, Now: f.clock.Now, Population: f.population}
	f.svc, err = NewService(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	// The citizen's number was verified at a counter; the other
	// citizen's never was.
	if err := f.svc.VerifyIdentity(f.as(authz.Subject{Kind: authz.System}), authz.Subject{Kind: authz.System}, f.citizen.ID, "001188004215"); err != nil {
		t.Fatal(err)
	}
	return f
}

// count returns the rows of a table.
func (f *fixture) count(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// as returns a context acting as sub.
func (f *fixture) as(sub authz.Subject) context.Context {
	var a audit.Actor
	switch sub.Kind {
	case authz.Staff:
		a = audit.Staff(sub.ID, f.staffName[sub.ID])
	case authz.Citizen:
		a = audit.Citizen(sub.ID, "")
	default:
		a = audit.System("test")
	}
	return audit.WithOrigin(context.Background(), audit.Origin{Actor: a, UnitID: sub.Unit})
}

// legalizationForm is a valid form of procedure 1.900001 (consular
// legalization at headquarters).
func legalizationForm() map[string]any {
	return map[string]any{
		"applicant":     map[string]any{"full_name": "Nguyễn Thị Lan", "id_type": "cccd", "id_number": "001188004215", "email": "lan@example.vn"},
		"document_name": "Bằng tốt nghiệp đại học", "issuing_authority": "Đại học Quốc gia Hà Nội", "issue_date": "2010-06-30",
		"issuing_country": "VN", "copies": json.Number("1"), "delivery": "counter", "declaration": true,
	}
}

// pdf is a small valid PDF.
var pdf = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

// submitOnline takes an application through the national portal's steps: draft,
// files, payment, submission.
func (f *fixture) submitOnline(t *testing.T) *Dossier {
	t.Helper()
	ctx := f.as(f.citizen)
	d, err := f.svc.CreateDraft(ctx, f.citizen, NewDraft{Procedure: "1.900001", UnitCode: consularCode, Form: legalizationForm(), Prefilled: true})
	if err != nil {
		t.Fatalf("CreateDraft: %v", err)
	}
	for _, key := range []string{"identity_copy", "paper", "paper_copy"} {
		if _, err := f.svc.AttachToDraft(ctx, f.citizen, d.ID, Upload{DocumentKey: key, Filename: key + ".pdf", MediaType: "application/pdf", Content: pdf}); err != nil {
			t.Fatalf("AttachToDraft %s: %v", key, err)
		}
	}
	if _, err := f.svc.SubmitDraft(ctx, f.citizen, d.ID); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("SubmitDraft before paying = %v, want a conflict (fee unpaid)", err)
	}
	if err := f.svc.RecordPayment(context.Background(), PaymentReport{TransactionID: "tx-" + d.ID, OrderID: d.ID, Amount: d.FeeAmount, Currency: d.FeeCurrency, PaidAt: f.clock.Now()}); err != nil {
		t.Fatalf("RecordPayment: %v", err)
	}
	ds, err := f.svc.SubmitDraft(ctx, f.citizen, d.ID)
	if err != nil {
		t.Fatalf("SubmitDraft: %v", err)
	}
	return ds
}

func (f *fixture) act(t *testing.T, sub authz.Subject, code string, req ActionRequest) *Dossier {
	t.Helper()
	d, err := f.svc.Act(f.as(sub), sub, code, req)
	if err != nil {
		t.Fatalf("%s by %v: %v", req.Action, sub.Roles.List(), err)
	}
	return d
}

func TestOnlineDossierRunsItsWholeLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.submitOnline(t)
		if want := consularCode + "-250310-000001"; d.Code != want {
			t.Errorf("code = %s, want %s", d.Code, want)
		}
		if d.Status != StatusRegistered || d.Channel != ChannelOnline || !d.Paid || !d.PaidOnline || !d.Prefilled || !d.Digitised {
			t.Errorf("submitted dossier = status %d channel %d paid %v online %v prefilled %v digitised %v",
				d.Status, d.Channel, d.Paid, d.PaidOnline, d.Prefilled, d.Digitised)
		}
		if d.ApplicantName != "Nguyễn Thị Lan" || d.ApplicantEmail != "lan@example.vn" {
			t.Errorf("applicant = %q <%s>", d.ApplicantName, d.ApplicantEmail)
		}
		// Legalization takes 1 working day: received Monday, due Tuesday.
		f.clock.Advance(time.Hour)
		d = f.act(t, f.clerk, d.Code, ActionRequest{Action: ActReceive})
		if got := d.DueAt.In(mustZone("Asia/Ho_Chi_Minh")).Format("2006-01-02 15:04"); got != "2025-03-11 23:59" {
			t.Errorf("due = %s, want the end of Tuesday 11 March", got)
		}
		d = f.act(t, f.officer, d.Code, ActionRequest{Action: ActAssign})
		if d.AssigneeID != f.officer.ID {
			t.Errorf("assignee = %d, want the officer %d", d.AssigneeID, f.officer.ID)
		}
		f.act(t, f.officer, d.Code, ActionRequest{Action: ActAppraise})
		d = f.act(t, f.approver, d.Code, ActionRequest{Action: ActApprove})
		if !d.HasResult || d.Status != StatusCompleted || d.Late {
			t.Errorf("approved dossier: result %v status %d late %v", d.HasResult, d.Status, d.Late)
		}
		res, err := f.svc.Result(f.as(f.citizen), f.citizen, d.Code)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.VerifyResult(res.Raw, res.KeyID, res.Signature); err != nil {
			t.Errorf("the signed result does not verify: %v", err)
		}
		forged := bytes.Replace(res.Raw, []byte("Nguyễn"), []byte("Trần"), 1)
		if err := f.svc.VerifyResult(forged, res.KeyID, res.Signature); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a forged result verifies: %v", err)
		}
		d = f.act(t, f.clerk, d.Code, ActionRequest{Action: ActReturnResult})
		if d.Status != StatusReturned || d.ReturnedAt.IsZero() {
			t.Errorf("returned dossier: status %d at %v", d.Status, d.ReturnedAt)
		}
		if err := f.svc.Rate(f.as(f.citizen), f.citizen, d.Code, 5); err != nil {
			t.Fatalf("Rate: %v", err)
		}
		if err := f.svc.Rate(f.as(f.citizen), f.citizen, d.Code, 4); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("a second rating = %v, want a conflict", err)
		}

		got, err := f.svc.Get(f.as(f.citizen), f.citizen, d.Code)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range got.History {
			actions = append(actions, e.Action)
		}
		if want := "submit receive assign appraise approve return-result rate"; strings.Join(actions, " ") != want {
			t.Errorf("history = %v, want %s", actions, want)
		}
		if len(got.Attachments) != 3 || got.Form["document_name"] != "Bằng tốt nghiệp đại học" {
			t.Errorf("dossier holds %d attachments and form %v", len(got.Attachments), got.Form)
		}
		_, content, err := f.svc.Attachment(f.as(f.officer), f.officer, d.Code, got.Attachments[0].ID)
		if err != nil || !bytes.Equal(content, pdf) {
			t.Errorf("attachment content = %q, %v", content, err)
		}

		// Every status change reaches the national portal, in order.
		if _, err := f.svc.SyncNationalPortal(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprint(f.nationalPortal.statuses(d.Code)), "[1 2 4 9 10]"; got != want {
			t.Errorf("statuses sent to the national portal = %s, want %s", got, want)
		}
		if len(f.mail.notices) < 5 || !strings.Contains(f.mail.notices[0].Subject, d.Code) {
			t.Errorf("notices = %d, first %+v", len(f.mail.notices), f.mail.notices)
		}
	})
}

func TestBadRequestsChangeNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.submitOnline(t)
		f.act(t, f.clerk, d.Code, ActionRequest{Action: ActReceive})
		f.act(t, f.officer, d.Code, ActionRequest{Action: ActRequestDocuments, Reason: "Thiếu bản sao hộ chiếu"})
		f.act(t, f.clerk, d.Code, ActionRequest{Action: ActSupplement})
		before, err := f.svc.Get(f.as(f.clerk), f.clerk, d.Code)
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			sub  authz.Subject
			req  ActionRequest
			want error
		}{
			{"documents are requested once", f.officer, ActionRequest{Action: ActRequestDocuments, Reason: "again"}, errs.ErrConflict},
			{"a clerk may not approve", f.clerk, ActionRequest{Action: ActApprove}, errs.ErrForbidden},
			{"return before completion", f.clerk, ActionRequest{Action: ActReturnResult}, errs.ErrConflict},
			{"a refusal needs a reason", f.approver, ActionRequest{Action: ActRefuse}, errs.ErrInvalid},
			{"another unit cannot see it", f.far, ActionRequest{Action: ActApprove}, errs.ErrNotFound},
			{"another citizen cannot see it", f.other, ActionRequest{Action: ActRequestWithdrawal}, errs.ErrNotFound},
			{"a stale version", f.approver, ActionRequest{Action: ActApprove, Version: 1}, errs.ErrConflict},
			{"an unknown action", f.approver, ActionRequest{Action: "teleport"}, errs.ErrInvalid},
			{"an assignee outside the unit", f.officer, ActionRequest{Action: ActAssign, Assignee: f.far.ID}, errs.ErrInvalid},
		}
		for _, c := range cases {
			if _, err := f.svc.Act(f.as(c.sub), c.sub, d.Code, c.req); !errors.Is(err, c.want) {
				t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
			}
		}
		after, err := f.svc.Get(f.as(f.clerk), f.clerk, d.Code)
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != before.Version || len(after.History) != len(before.History) || after.Status != before.Status {
			t.Errorf("refused actions changed the dossier: version %d → %d, history %d → %d", before.Version, after.Version, len(before.History), len(after.History))
		}
		if _, err := f.svc.Get(f.as(f.far), f.far, d.Code); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("another unit reads the dossier: %v", err)
		}
		if _, err := f.svc.Track(context.Background(), "not-a-code", "12345678"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("tracking a malformed code = %v", err)
		}
	})
}

func TestSubmissionRefusals(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.citizen)
		bad := legalizationForm()
		delete(bad, "document_name")
		bad["copies"] = "many"
		_, err := f.svc.CreateDraft(ctx, f.citizen, NewDraft{Procedure: "1.900001", UnitCode: consularCode, Form: bad})
		var fe *FormError
		if !errors.As(err, &fe) || len(fe.Violations) != 2 {
			t.Errorf("an invalid form = %v, want a FormError naming 2 fields", err)
		}
		if _, err := f.svc.CreateDraft(ctx, f.citizen, NewDraft{Procedure: "9.999999", UnitCode: consularCode, Form: legalizationForm()}); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("an unknown procedure = %v", err)
		}
		if _, err := f.svc.CreateDraft(ctx, f.citizen, NewDraft{Procedure: "1.900001", UnitCode: parisCode, Form: legalizationForm()}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a unit that does not implement the procedure = %v", err)
		}
		if _, err := f.svc.CreateDraft(f.as(f.clerk), f.clerk, NewDraft{Procedure: "1.900001", UnitCode: consularCode, Form: legalizationForm()}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("a clerk making an online application = %v", err)
		}
		d, err := f.svc.CreateDraft(ctx, f.citizen, NewDraft{Procedure: "1.900001", UnitCode: consularCode, Form: legalizationForm()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AttachToDraft(ctx, f.citizen, d.ID, Upload{DocumentKey: "nonsense", Filename: "a.pdf", MediaType: "application/pdf", Content: pdf}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("an attachment for an unlisted document = %v", err)
		}
		if _, err := f.svc.Draft(f.as(f.other), f.other, d.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("another citizen's draft = %v", err)
		}
		pay := PaymentReport{TransactionID: "tx-1", OrderID: d.ID, Amount: d.FeeAmount + 1, Currency: d.FeeCurrency, PaidAt: f.clock.Now()}
		if err := f.svc.RecordPayment(context.Background(), pay); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a payment of the wrong amount = %v", err)
		}
		pay.Amount = d.FeeAmount
		if err := f.svc.RecordPayment(context.Background(), pay); err != nil {
			t.Fatalf("the right payment, after a refused one with the same transaction id: %v", err)
		}
		if err := f.svc.RecordPayment(context.Background(), pay); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("a replayed payment = %v, want a conflict", err)
		}
	})
}

func TestClerkEntersInPersonDossierReceivedAtOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		form := legalizationForm()
		d, err := f.svc.Submit(f.as(f.clerk), f.clerk, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelInPerson, Form: form, Receipt: "BL-0001",
			Attachments: []Upload{{DocumentKey: "paper", Filename: "giấy.pdf", MediaType: "application/pdf", Content: pdf}}})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != StatusReceived || d.Channel != ChannelInPerson || d.DueAt.IsZero() || d.CitizenID != 0 || d.Digitised {
			t.Errorf("clerk's entry: status %d channel %d due %v citizen %d digitised %v", d.Status, d.Channel, d.DueAt, d.CitizenID, d.Digitised)
		}
		if _, err := f.svc.Submit(f.as(f.clerk), f.clerk, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelOnline, Form: form}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a clerk entering an online dossier = %v", err)
		}
		if _, err := f.svc.Submit(f.as(f.officer), f.officer, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelPostal, Form: form}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an officer entering a dossier = %v", err)
		}
		second, err := f.svc.Submit(f.as(f.clerk), f.clerk, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelPostal, Form: form})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(second.Code, "-000002") {
			t.Errorf("the day's second dossier is %s", second.Code)
		}
	})
}

func TestPausedTimeIsNotCountedAndOverdueGetsApology(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.submitOnline(t)
		f.act(t, f.clerk, d.Code, ActionRequest{Action: ActReceive}) // Monday; due end of Tuesday
		f.act(t, f.officer, d.Code, ActionRequest{Action: ActRequestDocuments, Reason: "Thiếu bản chính"})
		f.clock.Advance(3 * 24 * time.Hour) // the applicant takes until Thursday
		d = f.act(t, f.clerk, d.Code, ActionRequest{Action: ActSupplement})
		cal, err := f.svc.Calendar(context.Background(), f.units[consularCode])
		if err != nil {
			t.Fatal(err)
		}
		if got := cal.Date(d.DueAt).String(); got != "2025-03-14" {
			t.Errorf("due after a pause Monday→Thursday = %s, want Friday 2025-03-14", got)
		}
		if !d.AppointmentAt.Equal(d.DueAt) {
			t.Errorf("the appointment stayed at %s when the applicant's time moved the deadline to %s", d.AppointmentAt, d.DueAt)
		}
		if _, err := f.svc.Apologise(f.as(f.officer), f.officer, d.Code, calendar.Date{Year: 2025, Month: 3, Day: 20}, "Chờ xác minh"); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("an apology for a dossier on time = %v", err)
		}
		f.clock.Advance(4 * 24 * time.Hour) // Monday 17th: late
		items, _, err := f.svc.Queue(f.as(f.officer), f.officer, Queue{})
		if err != nil || len(items) != 1 || !items[0].Overdue || items[0].DaysLeft != 0 {
			t.Fatalf("queue = %+v, %v; want the dossier overdue, in its first working day late", items, err)
		}
		if _, err := f.svc.Apologise(f.as(f.officer), f.officer, d.Code, calendar.Date{Year: 2025, Month: 3, Day: 22}, "Chờ xác minh"); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("an apology with a Saturday appointment = %v", err)
		}
		d, err = f.svc.Apologise(f.as(f.officer), f.officer, d.Code, calendar.Date{Year: 2025, Month: 3, Day: 20}, "Chờ xác minh của cơ quan cấp")
		if err != nil {
			t.Fatal(err)
		}
		if got := cal.Date(d.AppointmentAt).String(); got != "2025-03-20" {
			t.Errorf("new appointment = %s", got)
		}
		d = f.act(t, f.approver, d.Code, ActionRequest{Action: ActApprove})
		if !d.Late {
			t.Error("a dossier decided after its deadline is not marked late")
		}
	})
}

func TestQueueOrdersByDeadlineAndPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var codes []string
		for range 5 {
			d, err := f.svc.Submit(f.as(f.clerk), f.clerk, Submission{Procedure: "1.900005", UnitCode: consularCode, Channel: ChannelInPerson,
				Form: passportForm()})
			if err != nil {
				t.Fatal(err)
			}
			codes = append(codes, d.Code)
			f.clock.Advance(24 * time.Hour)
		}
		var got []string
		after := ""
		for {
			items, next, err := f.svc.Queue(f.as(f.clerk), f.clerk, Queue{Limit: 2, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				got = append(got, it.Code)
			}
			if next == "" {
				break
			}
			after = next
		}
		if strings.Join(got, " ") != strings.Join(codes, " ") {
			t.Errorf("queue order = %v, want soonest deadline first %v", got, codes)
		}
		if _, _, err := f.svc.Queue(f.as(f.far), f.far, Queue{}); err != nil {
			t.Fatal(err)
		}
		if items, _, _ := f.svc.Queue(f.as(f.far), f.far, Queue{}); len(items) != 0 {
			t.Errorf("another unit's queue shows %d of these dossiers", len(items))
		}
		if _, _, err := f.svc.Queue(f.as(f.clerk), f.clerk, Queue{After: "garbage"}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a forged cursor = %v", err)
		}
	})
}

// passportForm is a valid form of procedure 1.900005 (diplomatic and
// official passports).
func passportForm() map[string]any {
	raw := `{"holder":{"full_name":"Trần Văn Minh","date_of_birth":"1979-01-01","sex":"male","place_of_birth":"Hà Nội","id_number":"036079001187","email":"minh@example.vn"},
		"passport_type":"diplomatic","assignment":{"agency":"Bộ Ngoại giao","position":"Bí thư thứ nhất","decision_number":"123/QĐ-BNG","decision_date":"2025-02-01","destinations":"Pháp"},
		"departure_date":"2025-04-01","declaration":true}`
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		panic(err)
	}
	return m
}

func TestNationalPortalSyncSurvivesOutageAndReconciles(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.nationalPortal.down = true
		d := f.submitOnline(t)
		f.act(t, f.clerk, d.Code, ActionRequest{Action: ActReceive})
		if _, err := f.svc.SyncNationalPortal(context.Background()); err == nil {
			t.Fatal("sync with the national portal down reported no error")
		}
		lag, err := f.svc.Reconciliation(f.as(f.clerk), f.clerk, 0)
		if err != nil || len(lag) != 1 || lag[0].Status != StatusReceived || lag[0].NationalPortalStatus != 0 || lag[0].Pending != 2 || lag[0].LastError == "" {
			t.Fatalf("reconciliation = %+v, %v", lag, err)
		}
		f.nationalPortal.down = false
		if _, err := f.svc.SyncNationalPortal(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(f.nationalPortal.statuses(d.Code)); got != "[1 2]" {
			t.Errorf("after the outage the national portal got %s, want [1 2]", got)
		}
		if lag, _ := f.svc.Reconciliation(f.as(f.clerk), f.clerk, 0); len(lag) != 0 {
			t.Errorf("reconciliation after catching up = %+v", lag)
		}
		if err := f.svc.Resend(f.as(f.clerk), f.clerk, d.Code); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("resending a synced dossier = %v, want a conflict", err)
		}
		// The portal lost a status: the page resends the current one.
		if _, err := db.ExecContext(context.Background(), db.Rebind(`UPDATE dossiers SET national_portal_status = 1 WHERE code = ?`), d.Code); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Resend(f.as(f.clerk), f.clerk, d.Code); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SyncNationalPortal(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(f.nationalPortal.statuses(d.Code)); got != "[1 2 2]" {
			t.Errorf("after a resend the national portal got %s", got)
		}
	})
}

func TestMergedUnitsOpenDossiersMoveWithHistory(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		open := f.submitOnline(t)
		f.act(t, f.clerk, open.Code, ActionRequest{Action: ActReceive})
		closed := f.submitOnline(t)
		f.act(t, f.clerk, closed.Code, ActionRequest{Action: ActRefuseIntake, Reason: "Sai thẩm quyền"})
		var moved int
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			var err error
			moved, err = f.svc.TransferOpenTx(f.as(f.far), tx, f.units[consularCode], f.units[protocolCode], protocolCode)
			return err
		})
		if err != nil || moved != 1 {
			t.Fatalf("TransferOpenTx = %d, %v; want the one open dossier moved", moved, err)
		}
		d, err := f.svc.Get(f.as(f.far), f.far, open.Code)
		if err != nil {
			t.Fatalf("the surviving unit cannot read the moved dossier: %v", err)
		}
		if d.UnitCode != protocolCode || d.Code != open.Code || d.History[len(d.History)-1].Action != "transfer" || len(d.History) != 3 {
			t.Errorf("moved dossier: unit %s code %s history %+v", d.UnitCode, d.Code, d.History)
		}
		if _, err := f.svc.Get(f.as(f.far), f.far, closed.Code); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("a closed dossier moved too: %v", err)
		}
	})
}

func TestAbandonedApplicationsAreDiscardedWithTheirFiles(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.citizen)
		old, err := f.svc.CreateDraft(ctx, f.citizen, NewDraft{Procedure: "1.900001", UnitCode: consularCode, Form: legalizationForm()})
		if err != nil {
			t.Fatal(err)
		}
		a, err := f.svc.AttachToDraft(ctx, f.citizen, old.ID, Upload{DocumentKey: "paper", Filename: "paper.pdf", MediaType: "application/pdf", Content: pdf})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(DraftLifetime + time.Hour)
		if _, err := f.svc.CreateDraft(ctx, f.citizen, NewDraft{Procedure: "1.900001", UnitCode: consularCode, Form: legalizationForm()}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Draft(ctx, f.citizen, old.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("an abandoned application = %v, want not found", err)
		}
		if ok, err := f.svc.opts.Bucket.Exists(context.Background(), a.blobKey); err != nil || ok {
			t.Errorf("the abandoned application's file is still stored (%v, %v)", ok, err)
		}
	})
}

// TestChangesFollowAuditWritersRuleForWhoActs pins the rule procedures
// shares with the directory and the registry (audit.Writer): a change
// whose context names no origin is the program's fault, an internal
// error rather than a request to sign in; an anonymous caller is asked
// to sign in; and nothing changes either way.
func TestChangesFollowAuditWritersRuleForWhoActs(t *testing.T) {
	f := newFixture(t, storetest.MustOpen(t, store.SQLite))
	sys := authz.Subject{Kind: authz.System}
	err := f.svc.VerifyIdentity(context.Background(), sys, f.other.ID, "036079001187")
	if !errors.Is(err, audit.ErrNoOrigin) || errors.Is(err, errs.ErrUnauthenticated) {
		t.Errorf("a change without an origin = %v; want audit.ErrNoOrigin, not ErrUnauthenticated", err)
	}
	anonymous := audit.WithOrigin(context.Background(), audit.Origin{RequestID: "req-1"})
	if err := f.svc.VerifyIdentity(anonymous, sys, f.other.ID, "036079001187"); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Errorf("an anonymous change = %v; want ErrUnauthenticated", err)
	}
	if _, err := f.svc.VerifiedIDNumber(context.Background(), f.other.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("a refused verification left a number behind: %v", err)
	}
}
