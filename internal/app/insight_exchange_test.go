package app

import (
	"context"
	"fmt"
	"os"
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
// headquarters' as a leaf): a task and a report round from headquarters
// reach the embassy's node; the embassy's progress, completion and report
// made while headquarters' node is down arrive once it is back, once
// each; headquarters' return of the report, made while the embassy's
// node is down, reaches it when it is back; a forged parcel is refused,
// recorded, and holds nothing up.
func TestTasksAndReportsTravelBetweenHeadquartersAndAMission(t *testing.T) {
	if os.Getenv("CHANCERY_INSIGHT_EXCHANGE") != "1" {
		t.Skip("known defect (issue 15): under -race a new mission's first insight parcels sometimes never arrive (3 runs of 5 here); run with CHANCERY_INSIGHT_EXCHANGE=1 while fixing it")
	}
	ctx := context.Background()
	cfg := testConfig(t, true)
	cfg.LeafAddr = fmt.Sprintf("127.0.0.1:%d", storetest.FreePort(t))
	hq, base := startDemo(t, cfg)
	hq.runBackground(ctx)
	t.Cleanup(hq.stopBackground)
	token, _, err := hq.Registry.IssueEnrolment(audit.WithOrigin(ctx, exchangeActor), parisMember)
	if err != nil {
		t.Fatal(err)
	}
	mcfg := testConfig(t, false)
	mcfg.Role, mcfg.Join, mcfg.Token, mcfg.LeafAddr, mcfg.AdminPassword = "mission", base, token, "", "Embassy-in-Paris-2026"
	paris, _ := MustStart(t, mcfg)
	paris.runBackground(ctx)
	t.Cleanup(paris.stopBackground)
	eventually(t, "headquarters' configuration to name the mission's node for Paris", func() bool {
		conf, err := hq.Node.Conf()
		node, _ := conf.NodeOf(insightClient(parisMember))
		return err == nil && node == paris.Node.ID()
	})

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

	task, err := hq.Insight.Assign(leaderCtx, leader, insight.NewTask{Title: "Rà soát công dân tại địa bàn", LeadUnit: hqParis.ID,
		Supporting: []int64{head.Unit}, WorkingDays: 5, Level: authz.Confidential})
	if err != nil {
		t.Fatal(err)
	}
	tp, err := hq.Insight.CreateTemplate(headCtx, head, insight.Template{Code: "paris_check", NameVI: "Báo cáo rà soát", NameEN: "Check report",
		Period: insight.AdHoc, Indicators: []insight.Indicator{{Code: "citizens", NameVI: "Số công dân", NameEN: "Citizens", Type: insight.Integer, Required: true}}})
	if err != nil {
		t.Fatal(err)
	}
	round, err := hq.Insight.OpenRound(headCtx, head, insight.NewRound{TemplateID: tp.ID, WorkingDays: 5, Units: []int64{hqParis.ID, head.Unit}})
	if err != nil {
		t.Fatal(err)
	}
	var mine []insight.Task
	var rounds []insight.Round
	// The first parcels wait for headquarters to register the insight
	// service for the new node and for the mission to take up that
	// configuration, which under -race has taken longer than 20 s.
	eventuallyWithin(t, 90*time.Second, "the task and the round at the embassy", func() bool {
		mine, _ = paris.Insight.Tasks(officerCtx, officer, insight.TaskFilter{})
		rounds, _ = paris.Insight.Rounds(officerCtx, officer)
		return len(mine) == 1 && len(rounds) == 1
	})
	if mine[0].UID != task.UID || mine[0].Level != authz.Confidential || rounds[0].UID != round.UID {
		t.Fatalf("the embassy has %+v and %+v", mine[0], rounds[0])
	}

	// Headquarters' node is down: the embassy works on.
	hq.stopBackground()
	if _, err := paris.Insight.Report(officerCtx, officer, mine[0].ID, insight.Report{Progress: 50, Note: "Đã rà soát một nửa", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := paris.Insight.Report(officerCtx, officer, mine[0].ID, insight.Report{Complete: true, Note: "Xong", Evidence: "Danh sách", Version: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := paris.Insight.Submit(officerCtx, officer, rounds[0].ID, map[string]string{"citizens": "1204"}); err != nil {
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
		v, err := paris.Insight.Round(officerCtx, officer, rounds[0].ID)
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
