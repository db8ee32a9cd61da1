package detect

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
)

// Each rule fires on its scenario after a normal month (which itself
// raises nothing: TestANormalMonthRaisesNothing).

func (w *world) after(t *testing.T, days int) time.Time {
	t.Helper()
	w.normalMonth(march, days)
	if len(w.out) != 0 {
		t.Fatalf("the normal month before the scenario raised %+v", w.out)
	}
	return time.Date(2026, 4, 1, 10, 0, 0, 0, w.zone) // a Wednesday
}

func only(t *testing.T, got []Alert, rule string) Alert {
	t.Helper()
	var a []Alert
	for _, x := range got {
		if x.Rule == rule {
			a = append(a, x)
		}
	}
	if len(a) == 0 {
		t.Fatalf("no %s alert; got %+v", rule, got)
	}
	return a[0]
}

func TestCuriosityAboutOtherUnitsDossiers(t *testing.T) {
	w := newWorld(t)
	at := w.after(t, 30)
	var got []Alert
	for k := range 46 {
		got = append(got, w.read(4, at.Add(time.Duration(k)*25*time.Second), "dossier.read", 7000+k, 0, 2)...)
	}
	a := only(t, got, "curiosity")
	if !strings.Contains(a.Explanation.EN, "units other than their own") || !strings.Contains(a.Explanation.EN, "usual: 0") {
		t.Errorf("explanation %q", a.Explanation.EN)
	}
	// Reading the own unit's dossiers is no curiosity.
	w2 := newWorld(t)
	at = w2.after(t, 30)
	for k := range 46 {
		if as := w2.read(4, at.Add(time.Duration(k)*25*time.Second), "dossier.read", 7000+k, 0, 1); len(as) > 0 && as[0].Rule == "curiosity" {
			t.Fatalf("own unit's dossiers raised %+v", as[0])
		}
	}
}

func TestConcealedProbes(t *testing.T) {
	w := newWorld(t)
	at := w.after(t, 30)
	var got []Alert
	for k := range 7 {
		got = append(got, w.add(audit.Event{Time: at.Add(time.Duration(k) * time.Minute), Actor: staff(5), UnitID: 1, Action: audit.DeniedAction,
			ResourceType: "document", ResourceID: strconv.Itoa(800 + k), Level: authz.Secret, Outcome: audit.Denied, Reason: "not_cleared",
			Attrs: map[string]string{"route": "GET /console/records/{id}", "decision": "concealed", "action": "read"}})...)
	}
	a := only(t, got, "concealed_probes")
	if !strings.Contains(a.Explanation.EN, "was refused 6 times") || !strings.Contains(a.Explanation.EN, "6 of them answered as not found") || len(a.Events) != 6 {
		t.Errorf("alert %+v", a)
	}
}

func TestExchangeToNewRecipients(t *testing.T) {
	w := newWorld(t)
	at := w.after(t, 30)
	var got []Alert
	for k := range 4 {
		got = append(got, w.add(audit.Event{Time: at.Add(time.Duration(k) * 10 * time.Minute), Actor: staff(6), UnitID: 1, Action: "document.issue",
			ResourceType: "document", ResourceID: strconv.Itoa(900 + k), Outcome: audit.OK,
			Attrs: map[string]string{"recipients": "ext" + strconv.Itoa(k) + "@mail.example"}})...)
	}
	a := only(t, got, "exchange_volume")
	if !strings.Contains(a.Explanation.EN, "4 of them to recipients their unit never wrote to") {
		t.Errorf("explanation %q", a.Explanation.EN)
	}
}

func TestOffHoursWork(t *testing.T) {
	w := newWorld(t)
	w.after(t, 30)
	at := time.Date(2026, 4, 1, 23, 10, 0, 0, w.zone)
	var got []Alert
	for k := range 14 {
		got = append(got, w.read(1, at.Add(time.Duration(k)*3*time.Minute), "document.read", 300+k, 0, 1)...)
	}
	a := only(t, got, "off_hours")
	if !strings.Contains(a.Explanation.EN, "at 23:00 local time") {
		t.Errorf("explanation %q", a.Explanation.EN)
	}
}

func TestPrivilegeChangeThenUse(t *testing.T) {
	w := newWorld(t)
	at := w.after(t, 30)
	w.add(audit.Event{Time: at, Actor: staff(1), UnitID: 1, Action: "staff.update", ResourceType: "staff", ResourceID: "2",
		Attrs: map[string]string{"changed": "clearance", "clearance": "top_secret"}})
	var got []Alert
	for k := range 6 {
		got = append(got, w.read(2, at.Add(time.Duration(k+1)*5*time.Minute), "document.read", 400+k, authz.TopSecret, 1)...)
	}
	a := only(t, got, "privilege_then_use")
	if !strings.Contains(a.Explanation.EN, "from confidential to top_secret by user1") || a.Events[0] != w.seq-7 {
		t.Errorf("alert %+v", a)
	}
}

func TestSlowLeakerIsCaughtByTheModel(t *testing.T) {
	w := newWorld(t)
	w.after(t, 30)
	var got []Alert
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, w.zone)
	for d := range 14 {
		day := from.AddDate(0, 0, d)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for i := 1; i <= 6; i++ {
			base := time.Date(day.Year(), day.Month(), day.Day(), 8, i, 0, 0, w.zone)
			for k := range 5 {
				got = append(got, w.read(i, base.Add(time.Duration(k+1)*37*time.Minute), "document.read", 100*i+k, authz.Level(k%2), 1)...)
			}
			if i == 3 {
				// Five secret downloads a day more than usual, spread
				// over the day.
				for k := range 5 {
					got = append(got, w.read(3, base.Add(time.Duration(k+1)*83*time.Minute), "document.download", 6000+d*10+k, authz.Secret, 1)...)
				}
			}
		}
	}
	for _, a := range got {
		if a.User != "user3" {
			t.Errorf("alert on %s: %+v", a.User, a)
		}
	}
	r := w.rules(got)
	if r["sustained_volume"]+r["anomaly"] == 0 {
		t.Fatalf("no sustained_volume or anomaly for five extra secret downloads a day; got %v", r)
	}
}

func TestFeedbackRaisesTheThresholdForThePerson(t *testing.T) {
	burst := func(w *world, at time.Time) []Alert {
		var got []Alert
		for k := range 14 {
			got = append(got, w.read(1, at.Add(time.Duration(k)*3*time.Minute), "document.read", 300+k, 0, 1)...)
		}
		return got
	}
	w := newWorld(t)
	w.after(t, 30)
	first := only(t, burst(w, time.Date(2026, 4, 1, 23, 10, 0, 0, w.zone)), "off_hours")
	for range 3 {
		w.e.Feedback(Feedback{Rule: first.Rule, User: first.User, UnitID: first.UnitID})
	}
	if got := burst(w, time.Date(2026, 4, 3, 23, 10, 0, 0, w.zone)); w.rules(got)["off_hours"] != 0 {
		t.Fatalf("after three false positives the same burst raised %+v", got)
	}
	// Another person's threshold barely moved.
	var other []Alert
	at := time.Date(2026, 4, 3, 23, 10, 0, 0, w.zone)
	for k := range 14 {
		other = append(other, w.read(2, at.Add(time.Duration(k)*3*time.Minute), "document.read", 300+k, 0, 1)...)
	}
	only(t, other, "off_hours")
}

func TestRiskDecays(t *testing.T) {
	w := newWorld(t)
	at := w.after(t, 30)
	for k := range 46 {
		w.read(3, at.Add(time.Duration(k)*20*time.Second), "document.download", 5000+k, authz.Secret, 1)
	}
	now := w.e.Risk("3", at.Add(time.Hour))
	later := w.e.Risk("3", at.Add(7*24*time.Hour+time.Hour))
	if now < 50 || later >= now || later <= 0 || w.e.Risk("1", at) != 0 {
		t.Fatalf("risk %v then %v a week later; want ≥ 50 then lower but not zero, and none for user1", now, later)
	}
}

// One recorded inconsistency between the ledger and a witness, on either
// side, is an alert at once: an honest ledger never causes one.
func TestLedgerInconsistencyIsAnAlertAtOnce(t *testing.T) {
	e := New(Config{})
	for _, side := range []string{"witness", "log"} {
		ev := audit.Event{Seq: 7, Time: time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC), Actor: audit.System("witness"),
			Action: audit.InconsistencyAction, ResourceType: "audit_checkpoint", ResourceID: "hq@42", Outcome: audit.Failed,
			Reason: "two different roots at size 42", Attrs: map[string]string{"side": side, "witness": "chancery/witness/paris"}}
		a := only(t, e.Observe(ev), "ledger_inconsistency")
		if a.Score != 100 || len(a.Events) != 1 || a.Events[0] != 7 || !strings.Contains(a.Explanation.EN, "two different roots") {
			t.Errorf("%s side: the alert is %+v", side, a)
		}
	}
	if got := e.Observe(audit.Event{Seq: 8, Time: time.Date(2026, 4, 1, 10, 1, 0, 0, time.UTC), Actor: audit.System("audit"), Action: "audit.export", Outcome: audit.OK}); len(got) != 0 {
		t.Errorf("another system event raised %+v", got)
	}
}
