package insight

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// newBareMission is the embassy in Paris on its own node as a mission's
// node really is: its directory holds the ministry and the embassy only
// (not headquarters' departments, nor the other missions).
func newBareMission(t *testing.T, d store.Dialect, n *twoNodes) *fixture {
	t.Helper()
	ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
	db := storetest.MustOpen(t, d)
	l := audittest.MustLedger(t, db)
	dir := identity.NewService(db, l, nil)
	f := &fixture{db: db, ledger: l, dir: dir, clock: n.hq.clock, notices: &notices{}, units: map[string]int64{}}
	root, err := dir.CreateUnit(ctx, "test", identity.NewUnit{Code: rootCode, NameVI: "Bộ Ngoại giao", NameEN: "Ministry of Foreign Affairs",
		Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
	if err != nil {
		t.Fatal(err)
	}
	paris, err := dir.CreateUnit(ctx, "test", identity.NewUnit{Code: parisCode, NameVI: "Đại sứ quán tại Pháp", NameEN: "Embassy in France",
		Kind: identity.KindEmbassy, ParentID: root.ID, Country: "FR", TimeZone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	f.units[rootCode], f.units[parisCode] = root.ID, paris.ID
	m, err := dir.SeedStaff(ctx, "test", identity.NewStaff{Username: "paris.officer", FullName: "paris.officer", UnitID: paris.ID,
		Roles: authz.RolesOf(authz.Officer)})
	if err != nil {
		t.Fatal(err)
	}
	f.parisOff = m.Subject()
	if f.svc, err = NewService(Options{DB: db, Recorder: l, Directory: dir, Now: f.clock.now,
		Courier: &courier{link: n.link, local: map[string]bool{parisCode: true}}}); err != nil {
		t.Fatal(err)
	}
	n.paris, n.link.nodes[parisCode] = f, f
	return f
}

// TestMissionKnowingOnlyItselfTakesHeadquartersWork pins a mission node
// whose directory is its own: a task led by a department at headquarters
// with the mission supporting, and a round the department collects from
// several units, are taken in (the department stands as the ministry,
// the units it does not know are left out); its update and its report go
// back. A top-secret task is not sent to a mission: the exchange does
// not carry it, and it would stop the outbox.
func TestMissionKnowingOnlyItselfTakesHeadquartersWork(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		hq := n.hq
		paris := newBareMission(t, db.Dialect, n)
		task, err := hq.svc.Assign(as(hq.leader), hq.leader, NewTask{Title: "Rà soát công dân", LeadUnit: hq.units[consularCode],
			Supporting: []int64{hq.units[parisCode], hq.units[tokyoCode]}, WorkingDays: 5})
		if err != nil {
			t.Fatal(err)
		}
		r := hq.openRound(t)
		n.settle(t)
		list, err := paris.svc.Tasks(as(paris.parisOff), paris.parisOff, TaskFilter{})
		if err != nil || len(list) != 1 || list[0].LeadUnit != paris.units[rootCode] || fmt.Sprint(list[0].Supporting) != fmt.Sprint([]int64{paris.units[parisCode]}) {
			t.Fatalf("Paris's tasks: %+v, %v", list, err)
		}
		if _, err := paris.svc.Report(as(paris.parisOff), paris.parisOff, list[0].ID, Report{Progress: 40, Note: "Đã rà soát 40 %", Version: 1}); err != nil {
			t.Fatal(err)
		}
		rounds, err := paris.svc.Rounds(as(paris.parisOff), paris.parisOff)
		if err != nil || len(rounds) != 1 || rounds[0].OwnerUnit != paris.units[rootCode] || len(rounds[0].Units) != 1 {
			t.Fatalf("Paris's rounds: %+v, %v", rounds, err)
		}
		if _, err := paris.svc.Submit(as(paris.parisOff), paris.parisOff, rounds[0].ID, map[string]string{"passports": "7", "on_time": "100"}); err != nil {
			t.Fatal(err)
		}
		n.settle(t)
		got, err := hq.svc.Task(as(hq.leader), hq.leader, task.ID)
		if err != nil || len(got.Updates) != 1 || got.Updates[0].Unit != hq.units[parisCode] || got.Updates[0].Progress != 40 {
			t.Fatalf("headquarters' task after Paris's update: %+v, %v", got, err)
		}
		v, err := hq.svc.Round(as(hq.head), hq.head, r.ID)
		if err != nil || len(v.Submissions) != 1 || v.Submissions[0].Values["passports"] != "7" {
			t.Fatalf("headquarters' round: %+v, %v", v, err)
		}

		ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
		m, err := hq.dir.SeedStaff(ctx, "test", identity.NewStaff{Username: "leader.ts", FullName: "leader.ts", UnitID: hq.units[rootCode],
			Roles: authz.RolesOf(authz.Leader), Clearance: authz.TopSecret})
		if err != nil {
			t.Fatal(err)
		}
		ts := m.Subject()
		_, err = hq.svc.Assign(as(ts), ts, NewTask{Title: "Tuyệt mật", LeadUnit: hq.units[parisCode], Level: authz.TopSecret, WorkingDays: 5})
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != "level" {
			t.Fatalf("a top-secret task for a mission: %v", err)
		}
		if _, err := hq.svc.Assign(as(ts), ts, NewTask{Title: "Tuyệt mật", LeadUnit: hq.units[consularCode], Level: authz.TopSecret, WorkingDays: 5}); err != nil {
			t.Fatalf("a top-secret task at headquarters: %v", err)
		}
	})
}

// refusing is a courier that refuses every parcel for one node.
type refusing struct {
	courier
	to string
}

func (c *refusing) Send(ctx context.Context, p Parcel) (string, error) {
	if p.To == c.to {
		return "", errors.New("the service is not registered yet")
	}
	return c.courier.Send(ctx, p)
}

// TestDeliverHoldsBackOnlyTheRefusedNode pins the outbox's order per
// node: a parcel the exchange refuses for Tokyo (its service not
// registered yet) holds back Tokyo's later parcels, not Paris's.
func TestDeliverHoldsBackOnlyTheRefusedNode(t *testing.T) {
	db := storetest.MustOpen(t, store.SQLite)
	hq := newFixture(t, db)
	l := &link{up: true}
	hq.svc.opts.Courier = &refusing{courier: courier{link: l, local: map[string]bool{rootCode: true, consularCode: true}}, to: tokyoCode}
	for _, code := range []string{tokyoCode, parisCode, tokyoCode} {
		if _, err := hq.svc.Assign(as(hq.leader), hq.leader, NewTask{Title: "Nhiệm vụ " + code, LeadUnit: hq.units[code], WorkingDays: 5}); err != nil {
			t.Fatal(err)
		}
	}
	k, err := hq.svc.Deliver(context.Background())
	if k != 1 || err == nil || len(l.queue) != 1 || l.queue[0].To != parisCode {
		t.Fatalf("Deliver = %d, %v; the link holds %+v", k, err, l.queue)
	}
	hq.svc.opts.Courier = &courier{link: l, local: map[string]bool{rootCode: true, consularCode: true}}
	if k, err := hq.svc.Deliver(context.Background()); k != 2 || err != nil || len(l.queue) != 3 || l.queue[1].To != tokyoCode || l.queue[2].To != tokyoCode {
		t.Fatalf("once Tokyo's service is there: Deliver = %d, %v; the link holds %d", k, err, len(l.queue))
	}
}

// TestWorkMadeBeforeAMissionEnrolledIsSentOnceItDoes pins CatchUp: while
// the embassy in Paris has no node, its work is made at headquarters
// (the unit is not remote) and nothing is queued for it. Once it enrols,
// CatchUp queues its open tasks and the rounds it has not reported in,
// once however often it runs; a task done, a task above what the
// exchange carries, and a round whose report from it is approved stay at
// headquarters; a unit still without a node gets nothing.
func TestWorkMadeBeforeAMissionEnrolledIsSentOnceItDoes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		hq, paris := n.hq, n.paris
		hqCourier := hq.svc.opts.Courier.(*courier)
		hqCourier.local[parisCode] = true // no node for Paris yet: its staff work at headquarters
		ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
		assign := func(sub authz.Subject, title string, level authz.Level) Task {
			t.Helper()
			task, err := hq.svc.Assign(as(sub), sub, NewTask{Title: title, LeadUnit: hq.units[parisCode], Level: level, WorkingDays: 5})
			if err != nil {
				t.Fatal(err)
			}
			return task
		}
		open := assign(hq.leader, "Rà soát công dân", authz.Unclassified)
		done := assign(hq.leader, "Báo cáo nhanh", authz.Unclassified)
		if _, err := hq.svc.Report(as(hq.parisOff), hq.parisOff, done.ID, Report{Complete: true, Note: "Xong", Evidence: "Báo cáo", Version: 1}); err != nil {
			t.Fatal(err)
		}
		m, err := hq.dir.SeedStaff(ctx, "test", identity.NewStaff{Username: "leader.ts", FullName: "leader.ts", UnitID: hq.units[rootCode],
			Roles: authz.RolesOf(authz.Leader), Clearance: authz.TopSecret})
		if err != nil {
			t.Fatal(err)
		}
		assign(m.Subject(), "Tuyệt mật", authz.TopSecret)
		owed := hq.openRound(t)
		filed, sm := hq.parisFilesAnExtraRound(t, map[string]string{"passports": "3", "on_time": "100"})
		if _, err := hq.svc.DecideSubmission(as(hq.head), hq.head, filed.ID, sm.ID, Decision{Approve: true, Version: sm.Version}); err != nil {
			t.Fatal(err)
		}
		if k, err := hq.svc.CatchUp(ctx, parisCode); err != nil || k != 0 {
			t.Fatalf("CatchUp before Paris has a node = %d, %v; want 0", k, err)
		}

		hqCourier.local[parisCode] = false // Paris enrols
		if k, err := hq.svc.CatchUp(ctx, parisCode); err != nil || k != 2 {
			t.Fatalf("CatchUp once Paris has a node = %d, %v; want 2 (the open task and the round it owes)", k, err)
		}
		if k, err := hq.svc.CatchUp(ctx, parisCode); err != nil || k != 0 {
			t.Fatalf("CatchUp again = %d, %v; want 0", k, err)
		}
		if k, err := hq.svc.CatchUp(ctx, tokyoCode); err != nil || k != 0 {
			t.Fatalf("CatchUp for Tokyo, which has no node = %d, %v; want 0", k, err)
		}
		n.settle(t)
		tasks, err := paris.svc.Tasks(as(paris.parisOff), paris.parisOff, TaskFilter{})
		if err != nil || len(tasks) != 1 || tasks[0].UID != open.UID {
			t.Fatalf("Paris's tasks: %+v, %v; want only %s", tasks, err, open.UID)
		}
		rounds, err := paris.svc.Rounds(as(paris.parisOff), paris.parisOff)
		if err != nil || len(rounds) != 1 || rounds[0].UID != owed.UID {
			t.Fatalf("Paris's rounds: %+v, %v; want only %s", rounds, err, owed.UID)
		}
		// A task assigned now goes the usual way, and CatchUp does not
		// queue it again.
		later := assign(hq.leader, "Nhiệm vụ mới", authz.Unclassified)
		if k, err := hq.svc.CatchUp(ctx, parisCode); err != nil || k != 0 {
			t.Fatalf("CatchUp after a new task = %d, %v; want 0", k, err)
		}
		n.settle(t)
		if tasks, err = paris.svc.Tasks(as(paris.parisOff), paris.parisOff, TaskFilter{}); err != nil || len(tasks) != 2 {
			t.Fatalf("Paris's tasks after %s: %+v, %v", later.UID, tasks, err)
		}
	})
}

// TestCatchUpCarriesProgressAndReportsNotApproved pins what CatchUp
// carries besides the bare items: a task the embassy's staff reported
// progress on at headquarters before the embassy enrolled arrives in
// progress, at that progress, with the report; a round whose report was
// returned for correction arrives with the report and the reason, and the
// embassy files it again; a round whose report awaits a decision arrives
// with it, so the decision made after reaches the embassy.
func TestCatchUpCarriesProgressAndReportsNotApproved(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		hq, paris := n.hq, n.paris
		hqCourier := hq.svc.opts.Courier.(*courier)
		hqCourier.local[parisCode] = true // no node for Paris yet: its staff work at headquarters
		ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
		task, err := hq.svc.Assign(as(hq.leader), hq.leader, NewTask{Title: "Rà soát công dân", LeadUnit: hq.units[parisCode], WorkingDays: 5})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hq.svc.Report(as(hq.parisOff), hq.parisOff, task.ID, Report{Progress: 40, Note: "Đã rà soát 40 %", Version: 1}); err != nil {
			t.Fatal(err)
		}
		returned := hq.openRound(t)
		sm, err := hq.svc.Submit(as(hq.parisOff), hq.parisOff, returned.ID, map[string]string{"passports": "3", "on_time": "100"})
		if err != nil {
			t.Fatal(err)
		}
		const reason = "Số hộ chiếu chưa khớp"
		if _, err := hq.svc.DecideSubmission(as(hq.head), hq.head, returned.ID, sm.ID, Decision{Reason: reason, Version: sm.Version}); err != nil {
			t.Fatal(err)
		}
		pending, sm2 := hq.parisFilesAnExtraRound(t, map[string]string{"passports": "5", "on_time": "90"})

		hqCourier.local[parisCode] = false // Paris enrols
		if k, err := hq.svc.CatchUp(ctx, parisCode); err != nil || k != 3 {
			t.Fatalf("CatchUp once Paris has a node = %d, %v; want 3 (the task and both rounds)", k, err)
		}
		n.settle(t)
		tasks, err := paris.svc.Tasks(as(paris.parisOff), paris.parisOff, TaskFilter{})
		if err != nil || len(tasks) != 1 {
			t.Fatalf("Paris's tasks: %+v, %v", tasks, err)
		}
		got, err := paris.svc.Task(as(paris.parisOff), paris.parisOff, tasks[0].ID)
		if err != nil || got.Status != TaskInProgress || got.Progress != 40 || len(got.Updates) != 1 || got.Updates[0].Note != "Đã rà soát 40 %" ||
			got.Updates[0].Unit != paris.units[parisCode] {
			t.Fatalf("Paris's task: %+v, %v; want it in progress at 40 %% with the report made at headquarters", got, err)
		}
		byUID := map[string]RoundView{}
		rounds, err := paris.svc.Rounds(as(paris.parisOff), paris.parisOff)
		if err != nil || len(rounds) != 2 {
			t.Fatalf("Paris's rounds: %+v, %v; want 2", rounds, err)
		}
		for _, r := range rounds {
			v, err := paris.svc.Round(as(paris.parisOff), paris.parisOff, r.ID)
			if err != nil || len(v.Submissions) != 1 {
				t.Fatalf("Paris's round %s: %+v, %v; want its report in it", r.UID, v, err)
			}
			byUID[r.UID] = v
		}
		if v := byUID[returned.UID].Submissions[0]; v.Status != Returned || v.Reason != reason || v.Values["passports"] != "3" {
			t.Fatalf("Paris's returned report: %+v", v)
		}
		if v := byUID[pending.UID].Submissions[0]; v.Status != Submitted || v.UID != sm2.UID {
			t.Fatalf("Paris's pending report: %+v", v)
		}

		// Paris files the returned report again; headquarters returns the
		// pending one now. Both reach the other side.
		if _, err := paris.svc.Submit(as(paris.parisOff), paris.parisOff, byUID[returned.UID].Round.ID, map[string]string{"passports": "4", "on_time": "100"}); err != nil {
			t.Fatal(err)
		}
		if _, err := hq.svc.DecideSubmission(as(hq.head), hq.head, pending.ID, sm2.ID, Decision{Reason: "Thiếu phí", Version: sm2.Version}); err != nil {
			t.Fatal(err)
		}
		n.settle(t)
		v, err := hq.svc.Round(as(hq.head), hq.head, returned.ID)
		if err != nil || len(v.Submissions) != 1 || v.Submissions[0].Unit != hq.units[parisCode] || v.Submissions[0].Status != Submitted ||
			v.Submissions[0].Values["passports"] != "4" {
			t.Fatalf("Paris's report at headquarters after it filed again: %+v, %v", v.Submissions, err)
		}
		pv, err := paris.svc.Round(as(paris.parisOff), paris.parisOff, byUID[pending.UID].Round.ID)
		if err != nil || len(pv.Submissions) != 1 || pv.Submissions[0].Status != Returned || pv.Submissions[0].Reason != "Thiếu phí" {
			t.Fatalf("Paris's pending report after headquarters returned it: %+v, %v", pv, err)
		}
	})
}

// parisFilesAnExtraRound opens a round of a second quarterly template
// for Paris alone, and Paris's officer files values in it.
func (f *fixture) parisFilesAnExtraRound(t *testing.T, values map[string]string) (Round, Submission) {
	t.Helper()
	tp := quarterly()
	tp.Code = "consular_q_extra"
	tp, err := f.svc.CreateTemplate(as(f.head), f.head, tp)
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.OpenRound(as(f.head), f.head, NewRound{TemplateID: tp.ID, WorkingDays: 10, Units: []int64{f.units[parisCode]}})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := f.svc.Submit(as(f.parisOff), f.parisOff, r.ID, values)
	if err != nil {
		t.Fatal(err)
	}
	return r, sm
}

// TestQueuingWakesTheCourierOnceCommitted pins Queued, which the node's
// courier loop waits on instead of polling the outbox: every change that
// queues parcels for another node wakes it, after its commit, so that
// Deliver then finds them; a change that queues nothing for another node
// is allowed to wake it (one read of the outbox) but nothing is handed
// over then.
func TestQueuingWakesTheCourierOnceCommitted(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		hq, paris := n.hq, n.paris
		woken := func(f *fixture, what string, parcels int) {
			t.Helper()
			select {
			case <-f.svc.Queued():
			default:
				t.Fatalf("%s did not wake the courier", what)
			}
			if k, err := f.svc.Deliver(system); err != nil || k != parcels {
				t.Fatalf("after %s, Deliver handed over %d parcels, %v; want %d", what, k, err, parcels)
			}
		}
		if _, err := hq.svc.Assign(as(hq.leader), hq.leader, NewTask{Title: "Rà soát công dân", LeadUnit: hq.units[consularCode],
			Supporting: []int64{hq.units[parisCode]}, WorkingDays: 5}); err != nil {
			t.Fatal(err)
		}
		woken(hq, "assigning a task to Paris", 1)
		hq.openRound(t)
		woken(hq, "opening a round Paris reports in", 1)
		n.link.pump(t)
		list, err := paris.svc.Tasks(as(paris.parisOff), paris.parisOff, TaskFilter{})
		if err != nil || len(list) != 1 {
			t.Fatalf("Paris's tasks: %+v, %v", list, err)
		}
		if _, err := paris.svc.Report(as(paris.parisOff), paris.parisOff, list[0].ID, Report{Progress: 40, Note: "Đã rà soát 40 %", Version: 1}); err != nil {
			t.Fatal(err)
		}
		woken(paris, "Paris's progress report", 1)
		rounds, err := paris.svc.Rounds(as(paris.parisOff), paris.parisOff)
		if err != nil || len(rounds) != 1 {
			t.Fatalf("Paris's rounds: %+v, %v", rounds, err)
		}
		if _, err := paris.svc.Submit(as(paris.parisOff), paris.parisOff, rounds[0].ID, map[string]string{"passports": "7", "on_time": "100"}); err != nil {
			t.Fatal(err)
		}
		woken(paris, "Paris's submission", 1)
		select {
		case <-hq.svc.Queued():
			t.Fatal("headquarters' courier was woken with nothing committed since its last pass")
		default:
		}
	})
}
