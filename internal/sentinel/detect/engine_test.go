package detect

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
)

// world writes a small ledger: units, staff, and their ordinary days.
type world struct {
	t    *testing.T
	e    *Engine
	seq  uint64
	evs  []audit.Event
	out  []Alert
	zone *time.Location
}

func newWorld(t *testing.T) *world {
	t.Helper()
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, e: New(Config{}), zone: hcm}
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, hcm)
	w.add(audit.Event{Time: at, Actor: audit.System("cli"), Action: "unit.create", ResourceType: "unit", ResourceID: "1",
		Attrs: map[string]string{"code": "HQ", "country": "VN", "time_zone": "Asia/Ho_Chi_Minh"}})
	w.add(audit.Event{Time: at, Actor: audit.System("cli"), Action: "unit.create", ResourceType: "unit", ResourceID: "2",
		Attrs: map[string]string{"code": "CON", "country": "VN", "time_zone": "Asia/Ho_Chi_Minh"}})
	for i := 1; i <= 6; i++ {
		w.add(audit.Event{Time: at, Actor: audit.System("cli"), Action: "staff.create", ResourceType: "staff", ResourceID: strconv.Itoa(i),
			Attrs: map[string]string{"username": fmt.Sprintf("user%d", i), "unit": "HQ", "roles": "officer", "clearance": "confidential"}})
	}
	return w
}

// add scores ev, numbering it, and keeps its alerts.
func (w *world) add(ev audit.Event) []Alert {
	ev.Seq = w.seq
	w.seq++
	if ev.Outcome == "" {
		ev.Outcome = audit.OK
	}
	w.evs = append(w.evs, ev)
	a := w.e.Observe(ev)
	w.out = append(w.out, a...)
	return a
}

func staff(i int) audit.Actor { return audit.Staff(int64(i), fmt.Sprintf("user%d", i)) }

// read is staff i reading document doc at t.
func (w *world) read(i int, t time.Time, action string, doc int, lvl authz.Level, unit int64) []Alert {
	typ := "document"
	if strings.HasPrefix(action, "dossier.") {
		typ = "dossier"
	}
	return w.add(audit.Event{Time: t, Actor: staff(i), UnitID: unit, Action: action, ResourceType: typ, ResourceID: strconv.Itoa(doc), Level: lvl})
}

// normalMonth gives every staff member of the world a month of ordinary
// working days: a sign-in from the office, a few reads and a download
// between 08:00 and 17:00 (local), on working days.
func (w *world) normalMonth(from time.Time, days int) {
	for d := range days {
		day := from.AddDate(0, 0, d)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for i := 1; i <= 6; i++ {
			at := time.Date(day.Year(), day.Month(), day.Day(), 8, i, 0, 0, w.zone)
			w.add(audit.Event{Time: at, Actor: staff(i), UnitID: 1, Action: "login", ResourceType: "staff", ResourceID: strconv.Itoa(i),
				Attrs: map[string]string{"method": "password", "stage": "done", "address": "10.0.0." + strconv.Itoa(i)}})
			for k := range 4 + (d+i)%3 {
				w.read(i, at.Add(time.Duration(k+1)*37*time.Minute), "document.read", 100*i+k, authz.Level(k%2), 1)
			}
			w.read(i, at.Add(7*time.Hour), "document.download", 100*i, 0, 1)
		}
	}
}

func (w *world) rules(as []Alert) map[string]int {
	m := map[string]int{}
	for _, a := range as {
		m[a.Rule]++
	}
	return m
}

var march = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func TestANormalMonthRaisesNothing(t *testing.T) {
	w := newWorld(t)
	w.normalMonth(march, 30)
	if len(w.out) != 0 {
		t.Fatalf("a normal month raised %d alerts, want none; first: %+v", len(w.out), w.out[0])
	}
}

func TestBulkReadingOfClassifiedItems(t *testing.T) {
	w := newWorld(t)
	w.normalMonth(march, 30)
	at := time.Date(2026, 4, 1, 14, 0, 0, 0, w.zone) // a Wednesday afternoon
	var got []Alert
	first := w.seq
	for k := range 46 {
		got = append(got, w.read(3, at.Add(time.Duration(k)*20*time.Second), "document.download", 5000+k, authz.Secret, 1)...)
	}
	// One alert, and one more when the evidence has tripled.
	if n := w.rules(got)["bulk_read"]; n != 2 || len(got) != 2 {
		t.Fatalf("46 secret downloads in 15 minutes raised %d bulk_read alerts, want 2 (alerts: %+v)", n, got)
	}
	a := got[0]
	if a.User != "user3" || a.UnitID != 1 || a.Level != authz.Secret || a.Score < 50 || a.Risk <= 0 {
		t.Errorf("alert = %+v, want user3 of unit 1 at secret, score ≥ 50 and some risk", a)
	}
	if len(a.Events) == 0 || a.Events[0] < first || !strings.Contains(a.Explanation.EN, "usual:") || !strings.Contains(a.Explanation.VI, "thường ngày") {
		t.Errorf("alert evidence %v (want seqs from %d) or explanation %q / %q wrong", a.Events, first, a.Explanation.EN, a.Explanation.VI)
	}
	for i := 1; i < len(a.Events); i++ {
		if a.Events[i] <= a.Events[i-1] {
			t.Fatalf("evidence not ascending: %v", a.Events)
		}
	}
}

func TestSignInRules(t *testing.T) {
	w := newWorld(t)
	at := time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC)
	fail := func(t time.Time, account, addr string) []Alert {
		return w.add(audit.Event{Time: t, Actor: audit.System("auth"), Action: "login", ResourceType: "staff", ResourceID: account,
			Outcome: audit.Failed, Reason: "bad_password", Attrs: map[string]string{"method": "password", "address": addr}})
	}
	var got []Alert
	// One account guessed at from many addresses.
	for k := range 12 {
		got = append(got, fail(at.Add(time.Duration(k)*time.Minute), "4", fmt.Sprintf("198.51.100.%d", k))...)
	}
	if r := w.rules(got); r["signin_failures"] != 1 || r["credential_stuffing"] != 0 {
		t.Fatalf("12 failures on one account from 12 addresses: rules %v, want one signin_failures", r)
	}
	if got[0].User != "user4" || len(got[0].Events) != 10 {
		t.Errorf("signin_failures alert = %+v, want user4 and the 10 failures", got[0])
	}
	// One address trying many accounts.
	got = nil
	for k := range 8 {
		got = append(got, fail(at.Add(time.Hour+time.Duration(k)*10*time.Second), strconv.Itoa(k+1), "203.0.113.9")...)
	}
	if r := w.rules(got); r["credential_stuffing"] != 1 {
		t.Fatalf("one address failing on 8 accounts: rules %v, want one credential_stuffing", r)
	}
	// A storm of slowdowns.
	got = nil
	for k := range 12 {
		got = append(got, w.add(audit.Event{Time: at.Add(2*time.Hour + time.Duration(k)*time.Second), Actor: audit.System("auth"),
			Action: "login.slowdown", ResourceType: "staff", ResourceID: strconv.Itoa(k%6 + 1), Attrs: map[string]string{"address": "192.0.2.1"}})...)
	}
	if r := w.rules(got); r["lockout_storm"] != 1 {
		t.Fatalf("12 slowdowns on 6 accounts: rules %v, want one lockout_storm", r)
	}
}

func TestNewAddressAfterFailuresOffHours(t *testing.T) {
	w := newWorld(t)
	w.normalMonth(march, 30)
	at := time.Date(2026, 4, 4, 2, 30, 0, 0, w.zone) // a Saturday, 02:30
	for k := range 4 {
		w.add(audit.Event{Time: at.Add(time.Duration(k) * time.Minute), Actor: audit.System("auth"), Action: "login", ResourceType: "staff",
			ResourceID: "2", Outcome: audit.Failed, Attrs: map[string]string{"method": "password", "address": "185.220.101.7"}})
	}
	got := w.add(audit.Event{Time: at.Add(5 * time.Minute), Actor: staff(2), UnitID: 1, Action: "login", ResourceType: "staff", ResourceID: "2",
		Attrs: map[string]string{"method": "password", "stage": "done", "address": "185.220.101.7"}})
	if r := w.rules(got); r["new_address"] != 1 {
		t.Fatalf("sign-in from a new address at 02:30 on a Saturday after 4 failures: %v, want new_address", got)
	}
	if !strings.Contains(got[0].Explanation.EN, "185.220.101.7") {
		t.Errorf("explanation %q does not name the address", got[0].Explanation.EN)
	}
}

// TestStateRoundTripScoresIdentically saves the state half way and checks
// that an engine restored from it raises exactly the alerts of one that
// never stopped.
func TestStateRoundTripScoresIdentically(t *testing.T) {
	w := newWorld(t)
	w.normalMonth(march, 20)
	at := time.Date(2026, 3, 25, 14, 0, 0, 0, w.zone)
	for k := range 50 {
		w.read(5, at.Add(time.Duration(k)*10*time.Second), "document.download", 9000+k, authz.Confidential, 1)
	}
	w.normalMonth(march.AddDate(0, 0, 24), 10)
	evs := w.evs
	half := len(evs) / 2

	whole := New(Config{})
	var want []Alert
	for _, ev := range evs {
		want = append(want, whole.Observe(ev)...)
	}
	first := New(Config{})
	var got []Alert
	for _, ev := range evs[:half] {
		got = append(got, first.Observe(ev)...)
	}
	saved, err := first.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	second := New(Config{})
	if err := second.UnmarshalState(saved); err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs[half:] {
		got = append(got, second.Observe(ev)...)
	}
	if len(want) == 0 {
		t.Fatal("the run raised no alerts; the test needs some to compare")
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("restored engine raised\n%+v\nwant\n%+v", got, want)
	}
	again, err := second.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	end, _ := whole.MarshalState()
	if !bytes.Equal(again, end) {
		t.Error("the restored engine's final state differs from the uninterrupted one's")
	}
	if err := second.UnmarshalState([]byte(`{"version":99}`)); err == nil {
		t.Error("a state of another version was accepted")
	}
	if err := second.UnmarshalState([]byte("\x00garbage")); err == nil {
		t.Error("a state that does not decode was accepted")
	}
}
