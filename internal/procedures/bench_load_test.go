package procedures

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// The million-dossier database of BenchmarkDossiers1M; TestQueryPlans
// loads the same shape at a smaller scale.
const (
	bulkDossiers = 1_000_000
	// bulkTxRows is how many rows one loading transaction inserts, and
	// bulkStmtRows how many one PostgreSQL statement carries (29 columns
	// a row stay under its 65,535 parameters).
	bulkTxRows   = 50_000
	bulkStmtRows = 1_000
)

// bulkMissions are the hosts of the loaded missions (an embassy in each,
// and consulates general): countries the calendar knows, in their zones.
var bulkMissions = []struct{ country, zone string }{
	{"AU", "Australia/Sydney"}, {"BR", "America/Sao_Paulo"}, {"CH", "Europe/Zurich"}, {"CN", "Asia/Shanghai"},
	{"EG", "Africa/Cairo"}, {"FR", "Europe/Paris"}, {"JP", "Asia/Tokyo"}, {"RU", "Europe/Moscow"},
	{"US", "America/New_York"}, {"ZA", "Africa/Johannesburg"},
}

// bulkSet is a fixture with n loaded dossiers and the codes the lookups
// use.
type bulkSet struct {
	*fixture
	n int
	// deep is how deep into the clerk's queue of open dossiers the deep
	// page is: 5,000 of a million dossiers, to scale for fewer.
	deep int
	// mine are the codes of every dossier of the clerk's unit (the
	// consular department), which Get may open as the clerk; tracked
	// are the codes of every dossier, for Track.
	mine, tracked []string
}

// bulkPIN is the tracking PIN of every loaded dossier, sealed as create
// seals it, so Track opens and compares it as it would any dossier's.
const bulkPIN = "20250310"

// bulkDossier is what the loader keeps of each dossier it loaded, to
// write the dossier's history and files after it.
type bulkDossier struct {
	unit                                    int64
	submitted, received, finished, returned int64 // microseconds, 0 when not yet
	status                                  Status
	online                                  bool
}

// bulkUnit is a unit dossiers are loaded into.
type bulkUnit struct {
	id      int64
	code    string
	mission bool
	cal     WorkCalendar
	procs   []*Procedure
}

// loadDossiers builds a fixture on db and loads n dossiers into it with
// plain SQL (bulkDossiers for the benchmark), spread as a ministry's year
// looks: 30 units, 28 of which take dossiers (see bulkUnits), the
// consular department a fifth; submissions spread evenly over the year
// before the fixture's clock, with their deadlines on the unit's
// working-day calendar; about 5% open (the last two weeks' and a few
// stragglers), the rest refused at intake, stopped or (mostly) returned;
// codes in the real format, numbered per unit and day. Every dossier has
// its history and its files (see loadHistory). The forms of the
// consular department's dossiers are sealed for real, so Get opens any
// of them; the others' are random bytes of a sealed form's size (no
// lookup of the benchmark opens them).
func loadDossiers(tb testing.TB, db *store.DB, n int) *bulkSet {
	tb.Helper()
	ctx := context.Background()
	f := newFixture(tb, db)
	units := f.bulkUnits(tb)
	rng := mrand.New(mrand.NewPCG(1, 2))

	form := make([]byte, len(sealedSample(tb, f)))
	rand.Read(form)
	raw, err := json.Marshal(legalizationForm())
	if err != nil {
		tb.Fatal(err)
	}
	recs := make([]bulkDossier, 0, n)
	end := f.clock.Now()
	start := end.AddDate(-1, 0, 0)
	span := end.Sub(start)
	seqs := map[string]int{}
	s := &bulkSet{fixture: f, n: n, deep: n / 200}
	consular := units[0]
	row := func(i int) []any {
		u := consular
		if rng.IntN(5) != 0 {
			u = units[1+rng.IntN(len(units)-1)]
		}
		p := u.procs[i%len(u.procs)]
		submitted := start.Add(span * time.Duration(i) / time.Duration(n)).Truncate(time.Microsecond)
		day := u.cal.Date(submitted)
		key := fmt.Sprintf("%s-%02d%02d%02d", u.code, day.Year%100, int(day.Month), day.Day)
		seqs[key]++
		code := fmt.Sprintf("%s-%0*d", key, SeqWidth, seqs[key])
		s.tracked = append(s.tracked, code)
		pin, err := f.svc.opts.Ring.Seal(ctx, keyPurpose, []byte(bulkPIN), []byte("pin:"+code))
		if err != nil {
			tb.Fatal(err)
		}
		sealed := form
		if u.id == consular.id {
			s.mine = append(s.mine, code)
			if sealed, err = f.svc.opts.Ring.Seal(ctx, keyPurpose, raw, []byte("dossier:"+code)); err != nil {
				tb.Fatal(err)
			}
		}
		st := bulkStatus(rng, i, n)
		lc := Lifecycle{Status: st, Since: submitted, Clock: Clock{WorkingDays: p.TimeLimit.WorkingDays}}
		var received, due, finished, returned time.Time
		appointment := u.cal.AddWorkingDays(submitted, p.TimeLimit.WorkingDays)
		if st != StatusRegistered {
			received = submitted.Add(time.Duration(rng.IntN(48)) * time.Hour)
			due = u.cal.AddWorkingDays(received, p.TimeLimit.WorkingDays)
			lc.Clock.ReceivedAt, lc.Since = received, received
		}
		late := false
		switch st {
		case StatusRefusedIntake:
			lc.Outcome, due = OutcomeRefused, time.Time{}
		case StatusStopped, StatusCompleted, StatusReturned:
			// Most finish a little before the deadline; one in thirty
			// after it.
			finished = due.Add(-time.Duration(rng.IntN(72)) * time.Hour)
			if rng.IntN(30) == 0 {
				finished = due.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
			}
			lc.Clock.FinishedAt, lc.Since, late = finished, finished, finished.After(due)
			lc.Outcome = OutcomeGranted
			if st == StatusStopped {
				lc.Outcome = OutcomeRefused
			}
			if st == StatusReturned {
				returned = finished.Add(24 * time.Hour)
				lc.Since = returned
			}
		case StatusDocumentsRequested:
			lc.DocumentsRequested = true
			lc.Clock.Pauses = []Pause{{Status: st, From: received.Add(24 * time.Hour)}}
		}
		lcJSON, err := json.Marshal(lc)
		if err != nil {
			tb.Fatal(err)
		}
		var assignee any
		if u.id == consular.id && (st == StatusProcessing || st == StatusDocumentsRequested || st == StatusCompleted) {
			assignee = f.officer.ID
		}
		channel := ChannelInPerson + Channel(rng.IntN(3))
		recs = append(recs, bulkDossier{unit: u.id, status: st, online: channel == ChannelOnline,
			submitted: us(submitted), received: us(received), finished: us(finished), returned: us(returned)})
		fee, currency := feeOf(p, u.mission)
		paid := b2i(st != StatusRegistered)
		return []any{code, p.Code, u.id, int(channel), int(st), b2i(open(st)), string(lcJSON),
			bulkNames[i%len(bulkNames)] + fmt.Sprintf(" %d", i), fmt.Sprintf("a%d@example.vn", i), sealed,
			b2i(channel == ChannelOnline), b2i(rng.IntN(3) != 0), assignee, fee, currency, paid, paid * b2i(channel == ChannelOnline),
			us(submitted), us(received), us(due), us(appointment), us(finished), us(returned), b2i(late), string(lc.Outcome),
			int(st), us(lc.Since), 1 + rng.IntN(6), pin}
	}
	cols := []string{"code", "procedure_code", "unit_id", "channel", "status", "open", "lifecycle",
		"applicant_name", "applicant_email", "form", "prefilled", "digitised", "assignee_id", "fee_amount", "fee_currency", "paid", "paid_online",
		"submitted_us", "received_us", "due_us", "appointment_us", "finished_us", "returned_us", "late", "outcome",
		"national_portal_status", "updated_us", "version", "tracking_pin"}
	began := time.Now()
	if err := bulkInsert(ctx, db, "dossiers", cols, n, row); err != nil {
		tb.Fatalf("load %d dossiers: %v", n, err)
	}
	events, files := s.loadHistory(tb, recs)
	if db.Dialect == store.Postgres {
		// Autovacuum analyses a table this much changed on its own, a
		// little later; analysing now plans every run as in the steady
		// state. SQLite is left as Chancery leaves it: unanalysed.
		if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
			tb.Fatal(err)
		}
	}
	var open, mine int
	if err := db.QueryRowContext(ctx, db.Rebind(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN unit_id = ? THEN 1 ELSE 0 END), 0) FROM dossiers WHERE open = 1`),
		consular.id).Scan(&open, &mine); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("%s: loaded %d dossiers with %d history entries and %d files in %v: %d units, %d dossiers open (%d of them the clerk's unit's, which has %d)",
		db.Dialect, n, events, files, time.Since(began).Round(time.Millisecond), len(f.units), open, mine, len(s.mine))
	return s
}

// bulkNames are applicants' names the loaded dossiers carry, numbered.
var bulkNames = []string{"Nguyễn Thị Lan", "Trần Văn Hùng", "Lê Minh Châu", "Phạm Quốc Bảo", "Hoàng Thu Hà", "Vũ Đức Anh", "Đặng Thị Mai"}

// bulkStatus is the status of the i-th of n dossiers by time: the last
// 4% (the last two weeks or so) are still open, and 1% of older ones are
// stragglers; the rest are final, mostly returned.
func bulkStatus(rng *mrand.Rand, i, n int) Status {
	if i >= n*96/100 || rng.IntN(100) == 0 {
		openStatuses := []Status{StatusRegistered, StatusRegistered, StatusReceived, StatusReceived, StatusProcessing, StatusProcessing,
			StatusProcessing, StatusProcessing, StatusDocumentsRequested, StatusPaymentRequested, StatusWithdrawalRequested, StatusCompleted, StatusCompleted}
		return openStatuses[rng.IntN(len(openStatuses))]
	}
	switch r := rng.IntN(20); r {
	case 0:
		return StatusRefusedIntake
	case 1:
		return StatusStopped
	}
	return StatusReturned
}

// sealedSample returns a real form sealed as Submit seals it, for its
// size.
func sealedSample(tb testing.TB, f *fixture) []byte {
	tb.Helper()
	raw, err := json.Marshal(legalizationForm())
	if err != nil {
		tb.Fatal(err)
	}
	sealed, err := f.svc.opts.Ring.Seal(context.Background(), keyPurpose, raw, []byte("dossier:000.00.03.G12-250310-000001"))
	if err != nil {
		tb.Fatal(err)
	}
	return sealed
}

// bulkUnits adds 26 missions to the fixture's four units and returns the
// units that take dossiers, the consular department first: at home only
// it implements procedures (the ministry and the protocol department
// take none).
func (f *fixture) bulkUnits(tb testing.TB) []bulkUnit {
	tb.Helper()
	ctx := context.Background()
	type spec struct {
		code    string
		kind    identity.UnitKind
		country string
		zone    string
	}
	specs := []spec{
		{consularCode, identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh"},
		{parisCode, identity.KindEmbassy, "FR", "Europe/Paris"},
	}
	now := time.Now().UTC()
	var added []spec
	for i := range 26 {
		m := bulkMissions[i%len(bulkMissions)]
		kind := []identity.UnitKind{identity.KindEmbassy, identity.KindConsulateGeneral, identity.KindConsulateGeneral}[i/len(bulkMissions)]
		added = append(added, spec{fmt.Sprintf("000.01.%02d.G12", 10+i), kind, m.country, m.zone})
	}
	for _, a := range added {
		var id int64
		if err := f.db.QueryRowContext(ctx, f.db.Rebind(`INSERT INTO units (code, name_vi, name_en, kind, country, timezone, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), a.code, "Đơn vị "+a.code, "Unit "+a.code, string(a.kind), a.country, a.zone, now, now).Scan(&id); err != nil {
			tb.Fatal(err)
		}
		f.units[a.code] = id
	}
	var out []bulkUnit
	for _, sp := range append(specs, added...) {
		u := identity.Unit{ID: f.units[sp.code], Code: sp.code, Kind: sp.kind, Country: sp.country, TimeZone: sp.zone}
		cal, err := UnitCalendar(u)
		if err != nil {
			tb.Fatal(err)
		}
		procs := f.svc.Catalogue().ForUnit(sp.code, sp.kind.Mission())
		if len(procs) == 0 {
			tb.Fatalf("no procedure of the catalogue is implemented by unit %s (%s)", sp.code, sp.kind)
		}
		out = append(out, bulkUnit{id: u.ID, code: sp.code, mission: sp.kind.Mission(), cal: cal, procs: procs})
	}
	return out
}

// loadHistory gives every loaded dossier, recs in loading order, the
// history the lifecycle would have written for its status and one to
// three files, and returns how many entries and files it loaded.
func (s *bulkSet) loadHistory(tb testing.TB, recs []bulkDossier) (events, files int) {
	tb.Helper()
	ctx := context.Background()
	var first, last int64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(id), MAX(id) FROM dossiers`).Scan(&first, &last); err != nil {
		tb.Fatal(err)
	}
	if int(last-first+1) != len(recs) {
		tb.Fatalf("the %d loaded dossiers have ids %d to %d, not one run of ids", len(recs), first, last)
	}
	for _, r := range recs {
		events += len(r.history(s.fixture))
		files += r.files()
	}
	// bulkInsert asks for the rows in order: walk the dossiers along.
	var (
		d       int
		pending []Entry
	)
	entry := func(int) []any {
		for len(pending) == 0 {
			pending, d = recs[d].history(s.fixture), d+1
		}
		e := pending[0]
		pending = pending[1:]
		return []any{first + int64(d-1), e.Action, int(e.From), int(e.To), e.ActorKind, e.ActorID, e.ActorName, e.UnitID, e.Reason, us(e.At)}
	}
	if err := bulkInsert(ctx, s.db, "dossier_events", []string{"dossier_id", "action", "from_status", "to_status", "actor_kind",
		"actor_id", "actor_name", "unit_id", "reason", "at_us"}, events, entry); err != nil {
		tb.Fatalf("load %d history entries: %v", events, err)
	}
	names := []struct{ key, name, media string }{{"paper", "paper.pdf", MediaPDF}, {"photo", "photo.jpg", "image/jpeg"}, {"passport", "passport.pdf", MediaPDF}}
	digest := make([]byte, 32)
	d, k := 0, 0
	file := func(int) []any {
		for k == recs[d].files() {
			d, k = d+1, 0
		}
		n := names[k]
		k++
		id := first + int64(d)
		return []any{id, n.key, n.name, n.media, 100 << 10, digest, fmt.Sprintf("procedures/dossier/%d/%d", id, k), recs[d].submitted}
	}
	if err := bulkInsert(ctx, s.db, "dossier_attachments", []string{"dossier_id", "document_key", "filename", "media_type", "size",
		"sha256", "blob_key", "created_us"}, files, file); err != nil {
		tb.Fatalf("load %d files: %v", files, err)
	}
	return events, files
}

// files is how many files the dossier has: one to three, by when it was
// submitted.
func (r bulkDossier) files() int { return 1 + int(r.submitted/1000)%3 }

// history is the dossier's history as the lifecycle writes it: submitted
// (by the applicant online, by the clerk otherwise), received or refused
// at intake, assigned, and on to its status; the fixture's staff act.
func (r bulkDossier) history(f *fixture) []Entry {
	at := func(t int64, d time.Duration) time.Time { return fromUS(t).Add(d) }
	staff := func(a Action, from, to Status, who authz.Subject, when time.Time, reason string) Entry {
		return Entry{Action: string(a), From: from, To: to, ActorKind: string(audit.ActorStaff), ActorID: who.ID,
			ActorName: f.staffName[who.ID], UnitID: r.unit, Reason: reason, At: when}
	}
	submit := staff("submit", 0, StatusRegistered, f.clerk, fromUS(r.submitted), "")
	if r.online {
		submit.ActorKind, submit.ActorID, submit.ActorName = string(audit.ActorCitizen), f.citizen.ID, "Nguyễn Thị Lan"
	}
	h := []Entry{submit}
	switch r.status {
	case StatusRegistered:
		return h
	case StatusRefusedIntake:
		return append(h, staff(ActRefuseIntake, StatusRegistered, StatusRefusedIntake, f.clerk, fromUS(r.received), "hồ sơ thiếu giấy tờ"))
	}
	h = append(h, staff(ActReceive, StatusRegistered, StatusReceived, f.clerk, fromUS(r.received), ""))
	if r.status == StatusReceived {
		return h
	}
	h = append(h, staff(ActAssign, StatusReceived, StatusProcessing, f.clerk, at(r.received, time.Hour), ""))
	switch r.status {
	case StatusDocumentsRequested:
		h = append(h, staff(ActRequestDocuments, StatusProcessing, StatusDocumentsRequested, f.officer, at(r.received, 24*time.Hour), "thiếu ảnh"))
	case StatusPaymentRequested:
		h = append(h, staff(ActRequestPayment, StatusProcessing, StatusPaymentRequested, f.officer, at(r.received, 24*time.Hour), ""))
	case StatusWithdrawalRequested:
		w := staff(ActRequestWithdrawal, StatusProcessing, StatusWithdrawalRequested, f.clerk, at(r.received, 24*time.Hour), "")
		w.ActorKind, w.ActorID, w.ActorName = string(audit.ActorCitizen), f.citizen.ID, "Nguyễn Thị Lan"
		h = append(h, w)
	case StatusStopped:
		h = append(h, staff(ActStop, StatusProcessing, StatusStopped, f.approver, fromUS(r.finished), "không đủ điều kiện"))
	case StatusCompleted, StatusReturned:
		h = append(h, staff(ActAppraise, StatusProcessing, StatusProcessing, f.officer, at(r.finished, -time.Hour), ""),
			staff(ActApprove, StatusProcessing, StatusCompleted, f.approver, fromUS(r.finished), ""))
		if r.status == StatusReturned {
			h = append(h, staff(ActReturnResult, StatusCompleted, StatusReturned, f.clerk, fromUS(r.returned), ""))
		}
	}
	return h
}

// bulkInsert inserts n rows of cols into table, row(i) giving the i-th,
// in transactions of bulkTxRows rows: on SQLite with one prepared
// single-row statement (SQLite runs in process, so a statement costs no
// round trip), on PostgreSQL with multi-row statements of bulkStmtRows
// rows, which save the round trips.
func bulkInsert(ctx context.Context, db *store.DB, table string, cols []string, n int, row func(i int) []any) error {
	values := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	insert := func(rows int) string {
		return db.Rebind("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(values+", ", rows), ", "))
	}
	perStmt := bulkStmtRows
	if db.Dialect == store.SQLite {
		perStmt = 1
	}
	full := insert(perStmt)
	for done := 0; done < n; {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			stmt, err := tx.PrepareContext(ctx, full)
			if err != nil {
				return err
			}
			defer stmt.Close()
			args := make([]any, 0, perStmt*len(cols))
			for end := min(done+bulkTxRows, n); done < end; {
				k := min(perStmt, end-done)
				args = args[:0]
				for i := range k {
					args = append(args, row(done+i)...)
				}
				if k == perStmt {
					_, err = stmt.ExecContext(ctx, args...)
				} else {
					_, err = tx.ExecContext(ctx, insert(k), args...)
				}
				if err != nil {
					return err
				}
				done += k
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
