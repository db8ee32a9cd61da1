package procedures

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"chancery/internal/errs"
)

// weekdays is a Calendar whose working days are Monday to Friday, without
// holidays: enough to pin the deadline arithmetic, which internal/calendar
// then feeds with real holidays.
type weekdays struct{}

func working(t time.Time) bool { return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday }

func (weekdays) AddWorkingDays(start time.Time, n int) time.Time {
	t := start
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if working(t) {
			n--
		}
	}
	return t
}

func (c weekdays) WorkingDaysBetween(a, b time.Time) int {
	d := 0
	for !c.AddWorkingDays(a, d+1).After(b) {
		d++
	}
	return d
}

var hanoi = mustZone("Asia/Ho_Chi_Minh")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at returns a time in Hanoi in March 2025, when the 3rd is a Monday.
func at(day, hour int) time.Time { return time.Date(2025, time.March, day, hour, 0, 0, 0, hanoi) }

// lifecycleIn returns a lifecycle driven through the given actions, each
// by a role that may take it, an hour apart from 8:00 on Monday the 3rd.
func lifecycleIn(t *testing.T, actions ...Action) Lifecycle {
	t.Helper()
	l := NewLifecycle(at(3, 8), 5)
	for i, a := range actions {
		next, err := l.Apply(Event{Action: a, By: []Role{RoleClerk, RoleOfficer, RoleApprover, RoleApplicant, RoleSystem}, At: at(3, 9+i), Reason: "lý do"})
		if err != nil {
			t.Fatalf("set-up action %s from %s: %v", a, l.Status.describe(), err)
		}
		l = next
	}
	return l
}

func TestTransitionsFollowTheOneStopShopRules(t *testing.T) {
	tests := []struct {
		name    string
		history []Action
		action  Action
		by      Role
		reason  string
		want    Status
		outcome Outcome
		err     error
	}{
		{"a clerk receives a newly registered dossier", nil, ActReceive, RoleClerk, "", StatusReceived, "", nil},
		{"a clerk refuses a dossier at intake, saying why", nil, ActRefuseIntake, RoleClerk, "Thiếu tờ khai", StatusRefusedIntake, "", nil},
		{"a refusal at intake needs a reason", nil, ActRefuseIntake, RoleClerk, "  ", 0, "", errs.ErrInvalid},
		{"an officer may not receive: intake is the clerk's", nil, ActReceive, RoleOfficer, "", 0, "", errs.ErrForbidden},
		{"an applicant cannot approve anything", []Action{ActReceive, ActAssign}, ActApprove, RoleApplicant, "", 0, "", errs.ErrForbidden},
		{"a received dossier is assigned to an officer", []Action{ActReceive}, ActAssign, RoleClerk, "", StatusProcessing, "", nil},
		{"a dossier in processing may be reassigned by an approver", []Action{ActReceive, ActAssign}, ActAssign, RoleApprover, "", StatusProcessing, "", nil},
		{"a clerk may not reassign a dossier already in processing", []Action{ActReceive, ActAssign}, ActAssign, RoleClerk, "", 0, "", errs.ErrForbidden},
		{"a dossier cannot be processed before it is received", nil, ActAssign, RoleClerk, "", 0, "", errs.ErrConflict},
		{"an officer asks for additional documents, listing them", []Action{ActReceive, ActAssign}, ActRequestDocuments, RoleOfficer, "Bản dịch công chứng", StatusDocumentsRequested, "", nil},
		{"a request for documents must say which", []Action{ActReceive, ActAssign}, ActRequestDocuments, RoleOfficer, "", 0, "", errs.ErrInvalid},
		{"documents are requested only once", []Action{ActReceive, ActAssign, ActRequestDocuments, ActSupplement}, ActRequestDocuments, RoleOfficer, "Thêm ảnh", 0, "", errs.ErrConflict},
		{"the applicant supplements and processing resumes", []Action{ActReceive, ActAssign, ActRequestDocuments}, ActSupplement, RoleApplicant, "", StatusProcessing, "", nil},
		{"a clerk enters papers the applicant brings to the counter", []Action{ActReceive, ActAssign, ActRequestDocuments}, ActSupplement, RoleClerk, "", StatusProcessing, "", nil},
		{"nobody supplements a dossier that was not asked to", []Action{ActReceive, ActAssign}, ActSupplement, RoleApplicant, "", 0, "", errs.ErrConflict},
		{"an officer asks for the fee", []Action{ActReceive, ActAssign}, ActRequestPayment, RoleOfficer, "", StatusPaymentRequested, "", nil},
		{"the payment gateway's callback records the payment", []Action{ActReceive, ActAssign, ActRequestPayment}, ActPay, RoleSystem, "", StatusProcessing, "", nil},
		{"an officer may not mark a fee paid", []Action{ActReceive, ActAssign, ActRequestPayment}, ActPay, RoleOfficer, "", 0, "", errs.ErrForbidden},
		{"the applicant's word never pays a fee", []Action{ActReceive, ActAssign, ActRequestPayment}, ActPay, RoleApplicant, "", 0, "", errs.ErrForbidden},
		{"a clerk takes the fee at the counter", []Action{ActReceive, ActAssign, ActRequestPayment}, ActPay, RoleClerk, "", StatusProcessing, "", nil},
		{"the applicant may ask to withdraw while documents are awaited", []Action{ActReceive, ActAssign, ActRequestDocuments}, ActRequestWithdrawal, RoleApplicant, "", StatusWithdrawalRequested, "", nil},
		{"a withdrawal is accepted by stopping the dossier", []Action{ActReceive, ActRequestWithdrawal}, ActStop, RoleClerk, "", StatusStopped, "", nil},
		{"an approver stops a dossier for cause, saying why", []Action{ActReceive, ActAssign}, ActStop, RoleApprover, "Người nộp không bổ sung hồ sơ", StatusStopped, "", nil},
		{"a clerk may not stop a dossier the applicant did not withdraw", []Action{ActReceive, ActAssign}, ActStop, RoleClerk, "", 0, "", errs.ErrForbidden},
		{"a result already returned cannot be withdrawn", []Action{ActReceive, ActAssign, ActApprove, ActReturnResult}, ActRequestWithdrawal, RoleApplicant, "", 0, "", errs.ErrConflict},
		{"an officer records the appraisal", []Action{ActReceive, ActAssign}, ActAppraise, RoleOfficer, "", StatusProcessing, "", nil},
		{"an approver grants the result", []Action{ActReceive, ActAssign, ActAppraise}, ActApprove, RoleApprover, "", StatusCompleted, OutcomeGranted, nil},
		{"an officer cannot approve", []Action{ActReceive, ActAssign}, ActApprove, RoleOfficer, "", 0, "", errs.ErrForbidden},
		{"an approver refuses with a reason", []Action{ActReceive, ActAssign}, ActRefuse, RoleApprover, "Giấy tờ không hợp lệ", StatusCompleted, OutcomeRefused, nil},
		{"a refusal needs a reason", []Action{ActReceive, ActAssign}, ActRefuse, RoleApprover, "", 0, "", errs.ErrInvalid},
		{"a dossier awaiting documents cannot be approved", []Action{ActReceive, ActAssign, ActRequestDocuments}, ActApprove, RoleApprover, "", 0, "", errs.ErrConflict},
		{"a clerk returns the result", []Action{ActReceive, ActAssign, ActApprove}, ActReturnResult, RoleClerk, "", StatusReturned, OutcomeGranted, nil},
		{"the system returns an electronic result on download", []Action{ActReceive, ActAssign, ActApprove}, ActReturnResult, RoleSystem, "", StatusReturned, OutcomeGranted, nil},
		{"a returned result is final", []Action{ActReceive, ActAssign, ActApprove, ActReturnResult}, ActApprove, RoleApprover, "", 0, "", errs.ErrConflict},
		{"a refused-at-intake dossier is final", []Action{ActRefuseIntake}, ActReceive, RoleClerk, "", 0, "", errs.ErrConflict},
		{"an unknown action is bad input", nil, Action("publish"), RoleClerk, "", 0, "", errs.ErrInvalid},
		{"an actor without a dossier role may do nothing", nil, ActReceive, Role(""), "", 0, "", errs.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := lifecycleIn(t, tt.history...)
			got, err := before.Apply(Event{Action: tt.action, By: []Role{tt.by}, At: at(4, 10), Reason: tt.reason})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Apply = %v, want an error wrapping %v", err, tt.err)
				}
				if !got.Since.Equal(before.Since) || got.Status != before.Status {
					t.Errorf("a refused action changed the lifecycle: %+v → %+v", before, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got.Status != tt.want || got.Outcome != tt.outcome {
				t.Errorf("status %s, outcome %q; want %s, %q", got.Status.describe(), got.Outcome, tt.want.describe(), tt.outcome)
			}
			if !got.Since.Equal(at(4, 10)) {
				t.Errorf("Since = %v, want the action's time", got.Since)
			}
		})
	}
}

func TestRefusedTransitionsNameTheStatusAndTheAction(t *testing.T) {
	l := lifecycleIn(t, ActRefuseIntake)
	_, err := l.Apply(Event{Action: ActApprove, By: []Role{RoleApprover}, At: at(4, 9)})
	for _, want := range []string{"status 3 (refused-intake)", "approve", "status 4 (processing)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	_, err = NewLifecycle(at(3, 8), 5).Apply(Event{Action: ActReceive, By: []Role{RoleApplicant}, At: at(3, 9)})
	if err == nil || !strings.Contains(err.Error(), "receive") || !strings.Contains(err.Error(), "applicant") {
		t.Errorf("forbidden error %q does not name the action and the role", err)
	}
	if _, err := NewLifecycle(at(3, 8), 5).Apply(Event{Action: ActReceive, At: at(3, 9)}); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("an actor with no role: %v, want ErrForbidden", err)
	}
}

func TestActorWithSeveralRolesActsThroughTheOneThatMay(t *testing.T) {
	// An ambassador holds officer and approver roles.
	l := lifecycleIn(t, ActReceive, ActAssign)
	got, err := l.Apply(Event{Action: ActApprove, By: []Role{RoleOfficer, RoleApprover}, At: at(4, 9)})
	if err != nil || got.Status != StatusCompleted {
		t.Fatalf("Apply = %v, %v; want completed", got.Status, err)
	}
}

func TestActionsAreRecordedInOrder(t *testing.T) {
	l := lifecycleIn(t, ActReceive)
	for _, when := range []time.Time{{}, l.Since.Add(-time.Minute)} {
		if _, err := l.Apply(Event{Action: ActAssign, By: []Role{RoleClerk}, At: when}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Apply at %v = %v, want ErrInvalid", when, err)
		}
	}
}

func TestApplyLeavesItsReceiverUnchanged(t *testing.T) {
	l := lifecycleIn(t, ActReceive, ActAssign, ActRequestDocuments)
	pauses := slices.Clone(l.Clock.Pauses)
	if _, err := l.Apply(Event{Action: ActSupplement, By: []Role{RoleApplicant}, At: at(5, 9)}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Clock.Pauses, pauses) || l.Status != StatusDocumentsRequested {
		t.Errorf("Apply changed its receiver: %+v", l)
	}
}

func TestAllowedOffersWhatTheRolesMayDoNow(t *testing.T) {
	tests := []struct {
		name    string
		history []Action
		roles   []Role
		want    []Action
	}{
		{"a clerk at a new dossier", nil, []Role{RoleClerk}, []Action{ActReceive, ActRefuseIntake}},
		{"an officer in processing", []Action{ActReceive, ActAssign}, []Role{RoleOfficer},
			[]Action{ActAssign, ActRequestDocuments, ActRequestPayment, ActAppraise}},
		{"an officer after the one request for documents", []Action{ActReceive, ActAssign, ActRequestDocuments, ActSupplement}, []Role{RoleOfficer},
			[]Action{ActAssign, ActRequestPayment, ActAppraise}},
		{"the applicant awaiting a decision", []Action{ActReceive, ActAssign}, []Role{RoleApplicant}, []Action{ActRequestWithdrawal}},
		{"anyone once the result is returned", []Action{ActReceive, ActAssign, ActApprove, ActReturnResult},
			[]Role{RoleClerk, RoleOfficer, RoleApprover, RoleApplicant, RoleSystem}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lifecycleIn(t, tt.history...).Allowed(tt.roles...); !slices.Equal(got, tt.want) {
				t.Errorf("Allowed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFinalStatusesHaveNoWayOut(t *testing.T) {
	everyone := []Role{RoleClerk, RoleOfficer, RoleApprover, RoleApplicant, RoleSystem}
	for s := StatusRegistered; s <= StatusReturned; s++ {
		l := Lifecycle{Status: s, Since: at(3, 8)}
		if got := len(l.Allowed(everyone...)) == 0; got != s.Final() {
			t.Errorf("%s: no action allowed = %v, but Final = %v", s.describe(), got, s.Final())
		}
	}
}

func TestEveryEnumerationHasItsNameInBothLanguages(t *testing.T) {
	var keys []string
	for s := StatusRegistered; s <= StatusReturned; s++ {
		keys = append(keys, s.Key())
	}
	for _, a := range Actions {
		keys = append(keys, a.Key())
	}
	for _, r := range []Role{RoleClerk, RoleOfficer, RoleApprover, RoleApplicant, RoleSystem} {
		keys = append(keys, r.Key())
	}
	for _, r := range ResultTypes {
		keys = append(keys, r.Key())
	}
	keys = append(keys, OutcomeGranted.Key(), OutcomeRefused.Key(), OnlineFull.Key(), OnlinePartial.Key(), AtHome.Key(), AtMission.Key())
	for _, k := range keys {
		if !texts.Has(k) {
			t.Errorf("i18n key %s is missing from texts.go", k)
		}
	}
}

func TestClockCountsTheTimeLimitFromReceipt(t *testing.T) {
	var cal weekdays
	tests := []struct {
		name     string
		received time.Time
		days     int
		want     time.Time
	}{
		{"a Monday dossier with five days is due the next Monday", at(3, 10), 5, at(10, 10)},
		{"a Friday dossier with one day is due on Monday", at(7, 15), 1, at(10, 15)},
		{"a dossier received on Saturday is due a working day later on Monday", at(8, 10), 1, at(10, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Clock{ReceivedAt: tt.received, WorkingDays: tt.days}
			if got := c.Due(cal, tt.received); !got.Equal(tt.want) {
				t.Errorf("Due = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestApplicantTimeIsNotCounted pins Decree 61/2018's rule through the
// lifecycle: received Monday 3rd 9:00 with five working days (due Monday
// 10th 9:00), documents requested Tuesday 4th 9:00, supplied Thursday 6th
// 9:00 — two working days the applicant held the dossier, so the deadline
// moves to Wednesday 12th 9:00.
func TestApplicantTimeIsNotCounted(t *testing.T) {
	var cal weekdays
	l := NewLifecycle(at(3, 8), 5)
	steps := []Event{
		{Action: ActReceive, By: []Role{RoleClerk}, At: at(3, 9)},
		{Action: ActAssign, By: []Role{RoleClerk}, At: at(3, 10)},
		{Action: ActRequestDocuments, By: []Role{RoleOfficer}, At: at(4, 9), Reason: "Bản dịch"},
		{Action: ActSupplement, By: []Role{RoleApplicant}, At: at(6, 9)},
	}
	for _, e := range steps {
		var err error
		if l, err = l.Apply(e); err != nil {
			t.Fatalf("%s: %v", e.Action, err)
		}
	}
	if got, want := l.Clock.Due(cal, at(6, 9)), at(12, 9); !got.Equal(want) {
		t.Errorf("due after the pause = %v, want %v", got, want)
	}
	if l.Clock.Overdue(cal, at(11, 9)) {
		t.Error("overdue on the 11th, though the two paused days moved the deadline to the 12th")
	}
	if !l.Clock.Overdue(cal, at(12, 10)) {
		t.Error("not overdue an hour past the moved deadline")
	}
}

func TestClockPauses(t *testing.T) {
	var cal weekdays
	received := at(3, 9) // due Monday 10th 9:00 with five days
	tests := []struct {
		name   string
		pauses []Pause
		now    time.Time
		want   time.Time
	}{
		{"no pause", nil, at(5, 9), at(10, 9)},
		{"a closed pause of two whole working days", []Pause{{StatusDocumentsRequested, at(4, 9), at(6, 9)}}, at(7, 9), at(12, 9)},
		{"a pause over a weekend counts only its working days", []Pause{{StatusDocumentsRequested, at(7, 9), at(10, 9)}}, at(11, 9), at(11, 9)},
		{"a part day paused counts whole, so resuming never finds the dossier late",
			[]Pause{{StatusDocumentsRequested, at(10, 8), at(11, 10)}}, at(11, 10), at(12, 9)},
		{"an open pause counts up to now", []Pause{{StatusPaymentRequested, at(4, 9), time.Time{}}}, at(5, 9), at(11, 9)},
		{"two pauses add up", []Pause{{StatusDocumentsRequested, at(4, 9), at(5, 9)}, {StatusPaymentRequested, at(6, 9), at(7, 9)}}, at(7, 9), at(12, 9)},
		{"a pause begun after the deadline does not rescue a late dossier", []Pause{{StatusPaymentRequested, at(11, 9), at(13, 9)}}, at(14, 9), at(10, 9)},
		{"a pause not yet begun at the time asked is not counted", []Pause{{StatusDocumentsRequested, at(6, 9), at(7, 9)}}, at(5, 9), at(10, 9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Clock{ReceivedAt: received, WorkingDays: 5, Pauses: tt.pauses}
			if got := c.Due(cal, tt.now); !got.Equal(tt.want) {
				t.Errorf("Due = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOverdue(t *testing.T) {
	var cal weekdays
	received := at(3, 9) // due Monday 10th 9:00
	tests := []struct {
		name  string
		clock Clock
		now   time.Time
		want  bool
	}{
		{"not yet received", Clock{WorkingDays: 5}, at(31, 9), false},
		{"before the deadline", Clock{ReceivedAt: received, WorkingDays: 5}, at(10, 8), false},
		{"at the deadline itself", Clock{ReceivedAt: received, WorkingDays: 5}, at(10, 9), false},
		{"after it", Clock{ReceivedAt: received, WorkingDays: 5}, at(10, 10), true},
		{"waiting for the applicant long after the original deadline",
			Clock{ReceivedAt: received, WorkingDays: 5, Pauses: []Pause{{StatusDocumentsRequested, at(4, 9), time.Time{}}}}, at(28, 9), false},
		{"completed on time stays on time", Clock{ReceivedAt: received, WorkingDays: 5, FinishedAt: at(7, 9)}, at(31, 9), false},
		{"completed late stays late", Clock{ReceivedAt: received, WorkingDays: 5, FinishedAt: at(11, 9)}, at(31, 9), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.clock.Overdue(cal, tt.now); got != tt.want {
				t.Errorf("Overdue = %v, want %v (due %v)", got, tt.want, tt.clock.Due(cal, tt.now))
			}
		})
	}
}

func TestWorkingDaysLeft(t *testing.T) {
	var cal weekdays
	c := Clock{ReceivedAt: at(3, 9), WorkingDays: 5} // due Monday 10th 9:00
	tests := []struct {
		now  time.Time
		want int
	}{
		{at(3, 9), 5},
		{at(7, 9), 1},
		{at(7, 10), 0}, // less than a whole day left
		{at(10, 10), 0},
		{at(11, 10), -1},
		{at(17, 10), -5},
	}
	for _, tt := range tests {
		if got := c.WorkingDaysLeft(cal, tt.now); got != tt.want {
			t.Errorf("WorkingDaysLeft at %v = %d, want %d", tt.now, got, tt.want)
		}
	}
	if got := (Clock{WorkingDays: 5}).WorkingDaysLeft(cal, at(3, 9)); got != 5 {
		t.Errorf("an unreceived dossier has %d days left, want its whole limit", got)
	}
}

func TestLifecycleKeepsTheClock(t *testing.T) {
	l := lifecycleIn(t, ActReceive, ActAssign, ActRequestPayment, ActPay, ActApprove)
	c := l.Clock
	if !c.ReceivedAt.Equal(at(3, 9)) {
		t.Errorf("ReceivedAt = %v, want the receive action's time", c.ReceivedAt)
	}
	if len(c.Pauses) != 1 || c.Pauses[0].Status != StatusPaymentRequested || !c.Pauses[0].From.Equal(at(3, 11)) || !c.Pauses[0].To.Equal(at(3, 12)) {
		t.Errorf("Pauses = %+v, want the payment wait 11:00–12:00", c.Pauses)
	}
	if !c.FinishedAt.Equal(at(3, 13)) {
		t.Errorf("FinishedAt = %v, want the approval's time", c.FinishedAt)
	}
	// A withdrawal while paused closes the pause: the dossier no longer
	// waits for the applicant's papers.
	w := lifecycleIn(t, ActReceive, ActAssign, ActRequestDocuments, ActRequestWithdrawal)
	if p := w.Clock.Pauses; len(p) != 1 || p[0].To.IsZero() {
		t.Errorf("Pauses after withdrawal = %+v, want the pause closed", p)
	}
}

func TestParseAction(t *testing.T) {
	for _, a := range Actions {
		if got, err := ParseAction(string(a)); err != nil || got != a {
			t.Errorf("ParseAction(%q) = %q, %v", a, got, err)
		}
	}
	if _, err := ParseAction("approve "); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("ParseAction of a near miss = %v, want ErrInvalid", err)
	}
}
