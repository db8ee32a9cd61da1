package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/exchange"
	"chancery/internal/identity"
	"chancery/internal/insight"
	"chancery/internal/store/storetest"
)

// TestTasksAndReportsTravelBetweenHeadquartersAndAMission runs
// headquarters and the embassy in Paris as two nodes in this process,
// joined by the real exchange (the mission enrols; its NATS server joins
// headquarters' as a leaf): a task assigned to the embassy before it
// enrolled (and the demo's open task it leads) and a report round opened
// after reach the embassy's node, as headquarters' first parcels to a
// new mission whose configuration lags; the embassy's progress,
// completion and report made while headquarters' node is down arrive
// once it is back, once each; headquarters' return of the report, made
// while the embassy's node is down, reaches it when it is back; a forged
// parcel is refused, recorded, and holds nothing up.
func TestTasksAndReportsTravelBetweenHeadquartersAndAMission(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, true)
	cfg.LeafAddr = fmt.Sprintf("127.0.0.1:%d", storetest.FreePort(t))
	hq, base := startDemo(t, cfg)
	hq.runBackground(ctx)
	t.Cleanup(hq.stopBackground)
	staff := func(username string) (context.Context, authz.Subject) {
		m, err := hq.Identity.StaffByUsername(ctx, username)
		if err != nil {
			t.Fatal(err)
		}
		return staffCtx(m), m.Subject()
	}
	leaderCtx, leader := staff("leader")
	headCtx, head := staff("consular.approver")
	hqParis, err := hq.Identity.UnitByCode(ctx, parisMember)
	if err != nil {
		t.Fatal(err)
	}
	// Before the embassy enrols, its work is made at headquarters.
	task, err := hq.Insight.Assign(leaderCtx, leader, insight.NewTask{Title: "Rà soát công dân tại địa bàn", LeadUnit: hqParis.ID,
		Supporting: []int64{head.Unit}, WorkingDays: 5, Level: authz.Confidential})
	if err != nil {
		t.Fatal(err)
	}
	demoTasks, err := hq.Insight.Tasks(leaderCtx, leader, insight.TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, x := range demoTasks {
		if x.LeadUnit == hqParis.ID && x.Status != insight.TaskDone {
			want[x.UID] = true // the demo's, and this test's
		}
	}
	if len(want) < 2 {
		t.Fatalf("headquarters holds %d open tasks led by the embassy, want the demo's and the test's", len(want))
	}

	token, _, err := hq.Registry.IssueEnrolment(audit.WithOrigin(ctx, exchangeActor), parisMember)
	if err != nil {
		t.Fatal(err)
	}
	mcfg := testConfig(t, false)
	mcfg.Role, mcfg.Join, mcfg.Token, mcfg.LeafAddr, mcfg.AdminPassword = "mission", base, token, "", "Embassy-in-Paris-2026"
	paris, _ := MustStart(t, mcfg)
	paris.runBackground(ctx)
	t.Cleanup(paris.stopBackground)
	t.Cleanup(func() {
		if t.Failed() {
			dumpInsightExchange(t, "headquarters", hq)
			dumpInsightExchange(t, "the embassy", paris)
		}
	})
	eventually(t, "headquarters' configuration to name the mission's node for Paris", func() bool {
		conf, err := hq.Node.Conf()
		node, _ := conf.NodeOf(insightClient(parisMember))
		return err == nil && node == paris.Node.ID()
	})
	unit, err := paris.Identity.UnitByCode(ctx, parisMember)
	if err != nil {
		t.Fatal(err)
	}
	m, err := paris.Identity.SeedStaff(audit.WithOrigin(ctx, exchangeActor), "test", identity.NewStaff{Username: "paris.head", FullName: "Phạm Văn Trưởng",
		UnitID: unit.ID, Roles: authz.RolesOf(authz.Officer, authz.Approver), Clearance: authz.Confidential})
	if err != nil {
		t.Fatal(err)
	}
	officerCtx, officer := staffCtx(m), m.Subject()

	tp, err := hq.Insight.CreateTemplate(headCtx, head, insight.Template{Code: "paris_check", NameVI: "Báo cáo rà soát", NameEN: "Check report",
		Period: insight.AdHoc, Indicators: []insight.Indicator{{Code: "citizens", NameVI: "Số công dân", NameEN: "Citizens", Type: insight.Integer, Required: true}}})
	if err != nil {
		t.Fatal(err)
	}
	round, err := hq.Insight.OpenRound(headCtx, head, insight.NewRound{TemplateID: tp.ID, WorkingDays: 5, Units: []int64{hqParis.ID, head.Unit}})
	if err != nil {
		t.Fatal(err)
	}
	// The embassy gets, besides this round, the demo's rounds whose
	// report from it headquarters holds and has not approved (catch-up).
	wantRounds := map[string]bool{round.UID: true}
	hqRounds, err := hq.Insight.Rounds(leaderCtx, leader)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range hqRounds {
		v, err := hq.Insight.Round(leaderCtx, leader, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, sm := range v.Submissions {
			if sm.Unit == hqParis.ID && sm.Status != insight.Approved {
				wantRounds[r.UID] = true
			}
		}
	}
	var mine []insight.Task
	var rounds []insight.Round
	// Seconds on a quiet machine; the limit is for a loaded one (at a
	// load of 100, under -race, one parcel took over a minute from
	// headquarters' outbox to the embassy's inbox). A parcel refused for
	// good never arrives, whatever the limit.
	eventuallyWithin(t, 2*time.Minute, "the tasks and the round at the embassy", func() bool {
		mine, _ = paris.Insight.Tasks(officerCtx, officer, insight.TaskFilter{})
		rounds, _ = paris.Insight.Rounds(officerCtx, officer)
		return len(mine) == len(want) && len(rounds) == len(wantRounds)
	})
	ourRound := onlyWanted(t, rounds, func(r insight.Round) string { return r.UID }, wantRounds, round.UID, "round")
	ours := onlyWanted(t, mine, func(x insight.Task) string { return x.UID }, want, task.UID, "task")
	if ours.Level != authz.Confidential || ourRound.UID != round.UID {
		t.Fatalf("the embassy has %+v and %+v", ours, ourRound)
	}

	// Headquarters' node is down: the embassy works on.
	hq.stopBackground()
	if _, err := paris.Insight.Report(officerCtx, officer, ours.ID, insight.Report{Progress: 50, Note: "Đã rà soát một nửa", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := paris.Insight.Report(officerCtx, officer, ours.ID, insight.Report{Complete: true, Note: "Xong", Evidence: "Danh sách", Version: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := paris.Insight.Submit(officerCtx, officer, ourRound.ID, map[string]string{"citizens": "1204"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the embassy's parcels handed to its exchange", func() bool {
		var n int
		err := paris.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM insight_outbox WHERE sent_us = 0`).Scan(&n)
		return err == nil && n == 0
	})
	hq.runBackground(ctx)
	var view insight.RoundView
	eventually(t, "the embassy's work at headquarters", func() bool {
		got, err := hq.Insight.Task(leaderCtx, leader, task.ID)
		view, _ = hq.Insight.Round(headCtx, head, round.ID)
		return err == nil && got.Status == insight.TaskDone && len(view.Submissions) == 1
	})
	got, _ := hq.Insight.Task(leaderCtx, leader, task.ID)
	if len(got.Updates) != 2 || got.Updates[0].Progress != 50 || view.Submissions[0].Values["citizens"] != "1204" || view.Submissions[0].Version != 1 {
		t.Fatalf("headquarters has the task %+v and the report %+v", got, view.Submissions[0])
	}

	// The embassy's node is down: headquarters returns the report, and a
	// forged parcel (a submission in the ministry's name, which only a
	// mission sends) goes ahead of the decision.
	paris.stopBackground()
	conf, err := hq.Node.Conf()
	if err != nil {
		t.Fatal(err)
	}
	ministry, _ := sentinelMembers(conf, hq.Node.ID())
	if _, err := hq.Node.Send(ctx, exchange.Outgoing{From: insightClient(ministry), To: insightServiceOf(parisMember), ContentType: insight.ContentType,
		Payload: []byte(`{"type":"submission","from":"` + ministry + `","submission":{"RoundUID":"` + round.UID + `","Unit":"` + ministry + `"}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := hq.Insight.DecideSubmission(headCtx, head, round.ID, view.Submissions[0].ID, insight.Decision{Reason: "Bổ sung số liệu", Version: 1}); err != nil {
		t.Fatal(err)
	}
	paris.runBackground(ctx)
	eventually(t, "the return at the embassy", func() bool {
		v, err := paris.Insight.Round(officerCtx, officer, ourRound.ID)
		return err == nil && len(v.Submissions) == 1 && v.Submissions[0].Status == insight.Returned && v.Submissions[0].Reason == "Bổ sung số liệu"
	})
	if _, err := paris.Audit.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
	if refusals, err := paris.Audit.Search(ctx, audit.Query{Action: "insight.parcel.refuse"}); err != nil || len(refusals) != 1 {
		t.Fatalf("the forged parcel's refusal in the embassy's ledger: %d, %v", len(refusals), err)
	}
	if left, err := paris.Node.Inbox(ctx, insightClient(parisMember), 0, 10); err != nil || len(left) != 0 {
		t.Fatalf("the embassy's insight inbox keeps %d messages (%v)", len(left), err)
	}
}

// dumpInsightExchange logs, after a failure, what a's exchange log and
// insight's outbox hold, and the configuration it enforces: where a
// parcel stopped, and why.
// onlyWanted fails t if items holds one whose uid is not in want (what
// headquarters holds for the embassy), and returns the one whose uid is
// ours.
func onlyWanted[T any](t *testing.T, items []T, uid func(T) string, want map[string]bool, ours, what string) T {
	t.Helper()
	var got T
	for _, x := range items {
		if !want[uid(x)] {
			t.Fatalf("the embassy has %s %+v, which is not one headquarters holds for it", what, x)
		}
		if uid(x) == ours {
			got = x
		}
	}
	return got
}

func dumpInsightExchange(t *testing.T, name string, a *App) {
	ctx := context.Background()
	if conf, err := a.Node.Conf(); err == nil {
		t.Logf("%s: configuration %d, %d services", name, conf.Serial, len(conf.Services))
	}
	rows, err := a.DB.QueryContext(ctx, `SELECT seq, msg_id, direction, peer, sender, service, state, reason, COALESCE(acked_us, 0), logged_us FROM exchange_log WHERE service LIKE '%insight%' ORDER BY seq`)
	if err != nil {
		t.Logf("%s: exchange log: %v", name, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var seq, acked, logged int64
		var id, dir, peer, sender, svc, state, reason string
		if err := rows.Scan(&seq, &id, &dir, &peer, &sender, &svc, &state, &reason, &acked, &logged); err != nil {
			t.Logf("%s: %v", name, err)
			return
		}
		t.Logf("%s: log %d %s %s peer=%s sender=%s service=%s state=%s reason=%q acked=%d logged=%d", name, seq, id, dir, peer, sender, svc, state, reason, acked, logged)
	}
	out, err := a.DB.QueryContext(ctx, `SELECT id, recipient, sender, created_us, sent_us, message_id FROM insight_outbox ORDER BY id`)
	if err != nil {
		t.Logf("%s: outbox: %v", name, err)
		return
	}
	defer out.Close()
	for out.Next() {
		var id, created, sent int64
		var to, from, msg string
		if err := out.Scan(&id, &to, &from, &created, &sent, &msg); err != nil {
			t.Logf("%s: %v", name, err)
			return
		}
		t.Logf("%s: outbox %d %s→%s created=%d sent=%d message=%s", name, id, from, to, created, sent, msg)
	}
	// What insight refused, with the reason (the node's log is discarded).
	refusals, err := a.DB.QueryContext(ctx, `SELECT resource_id, attrs FROM audit_events WHERE action = 'insight.parcel.refuse' ORDER BY id`)
	if err != nil {
		t.Logf("%s: refusals: %v", name, err)
		return
	}
	defer refusals.Close()
	for refusals.Next() {
		var msg, attrs string
		if err := refusals.Scan(&msg, &attrs); err != nil {
			t.Logf("%s: %v", name, err)
			return
		}
		t.Logf("%s: refused message %s: %s", name, msg, attrs)
	}
}
