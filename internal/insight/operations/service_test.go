package operations

import (
	"context"
	"errors"
	"testing"

	"chancery/internal/analytics"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestViewCountsWhatTheReaderMaySee pins the figures and the drill-down's
// limits on both databases: a leader sees the ministry, every unit and
// every mission, with classified figures up to their clearance; Paris's
// officer sees Paris only, without the figures of classified items; a
// unit one may not see answers as missing.
func TestViewCountsWhatTheReaderMaySee(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := seedFixture(t, db)

		o, err := svc.Overview(ctx, leader)
		if err != nil {
			t.Fatal(err)
		}
		if o.Ministry == nil || len(o.Departments) != 1 || len(o.MissionList) != 2 {
			t.Fatalf("the leader's overview: ministry %v, %d departments, %d missions; want the ministry, 1 and 2", o.Ministry != nil, len(o.Departments), len(o.MissionList))
		}
		paris, tokyo := o.MissionList[0], o.MissionList[1]
		if paris.Unit.ID != parisID || tokyo.Unit.ID != tokyoID {
			t.Fatalf("missions in order %d, %d; want Paris, Tokyo", paris.Unit.ID, tokyo.Unit.ID)
		}
		type figures struct{ received, resolved, late, overdue, tasksOpen, tasksOverdue, reports, reportsLate, alerts, docs int64 }
		got := func(s *Summary) figures {
			return figures{s.Received(), s.Resolved(), s.Late(), s.Overdue, s.TasksOpen, s.TasksOverdue, s.ReportsOutstanding, s.ReportsLate, s.Alerts, sum(s.Documents)}
		}
		// The leader (confidential) sees the confidential alert, not the
		// secret task or document.
		if g, want := got(paris), (figures{3, 2, 1, 1, 0, 1, 1, 1, 1, 1}); g != want {
			t.Errorf("Paris for the leader = %+v, want %+v", g, want)
		}
		if g, want := got(tokyo), (figures{1, 1, 0, 0, 0, 0, 0, 0, 0, 0}); g != want {
			t.Errorf("Tokyo for the leader = %+v, want %+v", g, want)
		}
		if g := got(o.Ministry); g.received != 4 || g.overdue != 1 || g.alerts != 1 {
			t.Errorf("the ministry for the leader = %+v, want 4 received, 1 overdue, 1 alert", g)
		}
		// Paris's link has been down two days: critical, and says why.
		if paris.Status != StatusCritical || paris.Link == nil || paris.Link.State != "down" || paris.Link.Backlog != 7 {
			t.Errorf("Paris: status %s, link %+v; want critical, down with 7 waiting", paris.Status, paris.Link)
		}
		if tokyo.Status != StatusOK || tokyo.Link.State != "up" {
			t.Errorf("Tokyo: status %s, link %+v; want ok, up", tokyo.Status, tokyo.Link)
		}
		if o.Departments[0].Link != nil {
			t.Error("a department at home has an exchange link")
		}
		if paris.Indices.NoData || paris.Indices.Total <= 0 {
			t.Errorf("Paris's 766 index: %+v", paris.Indices)
		}

		o, err = svc.Overview(ctx, parisOfficer)
		if err != nil {
			t.Fatal(err)
		}
		if o.Ministry != nil || len(o.Departments) != 0 || len(o.MissionList) != 1 || o.MissionList[0].Unit.ID != parisID {
			t.Fatalf("Paris's officer sees the ministry %v, %d departments, %d missions; want Paris only", o.Ministry != nil, len(o.Departments), len(o.MissionList))
		}
		if g, want := got(o.MissionList[0]), (figures{3, 2, 1, 1, 0, 1, 1, 1, 0, 1}); g != want {
			t.Errorf("Paris for its officer = %+v, want %+v (no confidential alert)", g, want)
		}
		s, err := svc.Unit(ctx, parisHead, parisID)
		if err != nil {
			t.Fatal(err)
		}
		if g := got(s); g.tasksOverdue != 2 || g.alerts != 1 || g.docs != 2 {
			t.Errorf("Paris for its head (secret) = %+v, want 2 overdue tasks, 1 alert, 2 documents", g)
		}
		for _, tc := range []struct {
			name string
			id   int64
		}{{"another mission", tokyoID}, {"the ministry", ministryID}, {"a department", consularID}, {"no unit", 999}} {
			if _, err := svc.Unit(ctx, parisOfficer, tc.id); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("Paris's officer asking for %s: %v, want not found", tc.name, err)
			}
		}
		if _, err := svc.Unit(ctx, leader, 999); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("the leader asking for no unit: %v, want not found", err)
		}
		if s, err := svc.Unit(ctx, leader, ministryID); err != nil || s.Received() != 4 {
			t.Errorf("the leader's ministry: %v, %v", s, err)
		}
	})
}

// TestWeekBoundsAreMondaysInHanoi pins the weeks: Weeks of them, Monday
// midnight in the ministry's zone, the current week last.
func TestWeekBoundsAreMondaysInHanoi(t *testing.T) {
	b := WeekBounds(fixtureNow)
	if len(b) != Weeks+1 {
		t.Fatalf("%d bounds", len(b))
	}
	last := b[Weeks-1]
	if got := last.Format("2006-01-02 15:04 -0700 Mon"); got != "2026-11-30 00:00 +0700 Mon" {
		t.Errorf("the current week starts %s", got)
	}
	if !b[Weeks].After(fixtureNow) || b[Weeks-1].After(fixtureNow) {
		t.Errorf("now %s is not in the last week %s–%s", fixtureNow, b[Weeks-1], b[Weeks])
	}
}

// TestAnalyticsSourceAddsTheExchangesTrafficPerWeek pins the switch to
// the analytics store where it serves: each unit's exchange messages per
// week come from its daily facts (sent and received), the rest from the
// tables as before.
func TestAnalyticsSourceAddsTheExchangesTrafficPerWeek(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := seedFixture(t, db)
		// Paris: 3 sent and 2 received on Monday of the current week, 4
		// sent the Sunday before (the previous week); a fact after the
		// weeks counts in none.
		for _, f := range []struct {
			day     string
			measure analytics.Measure
			n       int
		}{{"2026-11-30", analytics.ExchangeSent, 3}, {"2026-11-30", analytics.ExchangeReceived, 2}, {"2026-11-29", analytics.ExchangeSent, 4},
			{"2026-12-07", analytics.ExchangeSent, 9}, {"2026-11-30", analytics.DocumentsIn, 50}} {
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO analytics_facts (day, unit_id, country, measure, working_day, value) VALUES (?, ?, 'FR', ?, 1, ?)`),
				f.day, parisID, string(f.measure), f.n); err != nil {
				t.Fatal(err)
			}
		}
		svc.opts.Source = AnalyticsSource{Base: FactSource{DB: db}, Facts: analytics.NewStore(db)}
		s, err := svc.Unit(ctx, leader, parisID)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Exchange[Weeks-2:]; got[0] != 4 || got[1] != 5 || sum(s.Exchange) != 9 {
			t.Errorf("Paris's exchange traffic in the last two weeks = %v (total %d), want [4 5] (9)", got, sum(s.Exchange))
		}
		if s.Received() != 3 || sum(s.Documents) != 1 {
			t.Errorf("the tables' figures changed: %d received, %d documents", s.Received(), sum(s.Documents))
		}
	})
}
