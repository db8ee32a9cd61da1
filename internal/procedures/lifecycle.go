package procedures

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// Status is a dossier's status, numbered as the National Public Service
// Portal numbers them; the numbers are what the national portal sync sends.
type Status int

// The national dossier statuses.
const (
	StatusRegistered          Status = 1  // mới đăng ký: submitted, not yet received
	StatusReceived            Status = 2  // đã tiếp nhận
	StatusRefusedIntake       Status = 3  // không được tiếp nhận
	StatusProcessing          Status = 4  // đang xử lý
	StatusDocumentsRequested  Status = 5  // yêu cầu bổ sung giấy tờ
	StatusPaymentRequested    Status = 6  // yêu cầu thực hiện nghĩa vụ tài chính
	StatusWithdrawalRequested Status = 7  // công dân yêu cầu rút hồ sơ
	StatusStopped             Status = 8  // dừng xử lý
	StatusCompleted           Status = 9  // đã xử lý xong: the result is ready
	StatusReturned            Status = 10 // đã trả kết quả
)

var statusNames = [...]string{"", "registered", "received", "refused-intake", "processing", "documents-requested",
	"payment-requested", "withdrawal-requested", "stopped", "completed", "returned"}

// String returns the status's English API name, e.g. "processing".
func (s Status) String() string {
	if s.Valid() {
		return statusNames[s]
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// Valid reports whether s is one of the ten national statuses.
func (s Status) Valid() bool { return s >= StatusRegistered && s <= StatusReturned }

// Key returns the i18n key of the status's name, worded as the national
// portal words it.
func (s Status) Key() string { return "procedures.status." + strconv.Itoa(int(s)) }

// Final reports whether no action leaves s: refused at intake, stopped,
// or the result returned.
func (s Status) Final() bool {
	return s == StatusRefusedIntake || s == StatusStopped || s == StatusReturned
}

// Paused reports whether the deadline clock stands still in s: the time
// the applicant takes to bring documents or to pay is not counted against
// the unit. Decree 61/2018/NĐ-CP says so of additional documents; that it
// holds for financial obligations too is this system's reading, as the
// land procedures state it.
func (s Status) Paused() bool {
	return s == StatusDocumentsRequested || s == StatusPaymentRequested
}

// describe names a status in an error message.
func (s Status) describe() string { return fmt.Sprintf("status %d (%s)", int(s), s) }

// Action is something done to a dossier.
type Action string

// The actions.
const (
	ActReceive           Action = "receive"            // a clerk accepts a complete dossier
	ActRefuseIntake      Action = "refuse-intake"      // a clerk refuses it at intake, saying why
	ActAssign            Action = "assign"             // hand the dossier to an officer; again to reassign
	ActRequestDocuments  Action = "request-documents"  // ask the applicant for more papers, once
	ActSupplement        Action = "supplement"         // the applicant brings them
	ActRequestPayment    Action = "request-payment"    // ask the applicant to pay a fee or charge
	ActPay               Action = "pay"                // the payment arrives: the gateway reports it, or a clerk takes it at the counter
	ActRequestWithdrawal Action = "request-withdrawal" // the applicant asks to withdraw the dossier
	ActStop              Action = "stop"               // stop processing: the withdrawal accepted, or for cause
	ActAppraise          Action = "appraise"           // an officer records the appraisal
	ActApprove           Action = "approve"            // an approver grants the result
	ActRefuse            Action = "refuse"             // an approver refuses, saying why
	ActReturnResult      Action = "return-result"      // the result reaches the applicant
)

// Actions lists every action, in the order a dossier usually meets them.
var Actions = []Action{ActReceive, ActRefuseIntake, ActAssign, ActRequestDocuments, ActSupplement, ActRequestPayment,
	ActPay, ActRequestWithdrawal, ActStop, ActAppraise, ActApprove, ActRefuse, ActReturnResult}

// ParseAction parses an action's API name. The error wraps errs.ErrInvalid.
func ParseAction(s string) (Action, error) {
	if a := Action(s); slices.Contains(Actions, a) {
		return a, nil
	}
	return "", errs.Invalid("action", fmt.Sprintf("%q is not an action; use one of %s", s, joinNames(Actions)))
}

// Key returns the i18n key of the action's name.
func (a Action) Key() string { return "procedures.action." + strings.ReplaceAll(string(a), "-", "_") }

// Role is who takes an action on a dossier.
type Role string

// The roles. Clerk, officer and approver are the capacities staff act in,
// which authz grants (authz.KindIntake, KindCasework, KindDecision; see
// roles); the applicant is the citizen or
// organisation that submitted the dossier; the system is Chancery itself,
// acting on a payment gateway's callback or an electronic delivery.
const (
	RoleClerk     Role = "clerk"
	RoleOfficer   Role = "officer"
	RoleApprover  Role = "approver"
	RoleApplicant Role = "applicant"
	RoleSystem    Role = "system"
)

// StaffRoles are the roles a processing step may have.
var StaffRoles = []Role{RoleClerk, RoleOfficer, RoleApprover}

// Key returns the i18n key of the role's name.
func (r Role) Key() string { return "procedures.role." + string(r) }

// Outcome is the decision on a completed dossier.
type Outcome string

// The outcomes; a dossier not yet decided has none.
const (
	OutcomeNone    Outcome = ""
	OutcomeGranted Outcome = "granted"
	OutcomeRefused Outcome = "refused"
)

// Key returns the i18n key of the outcome's name; OutcomeNone has none.
func (o Outcome) Key() string { return "procedures.outcome." + string(o) }

// transition is one rule of the lifecycle: action takes a dossier from any
// status of from to status to, by one of roles.
type transition struct {
	action Action
	from   []Status
	to     Status
	roles  []Role
	// reason reports whether the actor must say why, as the applicant is
	// owed a reason for every refusal, stop and request.
	reason  bool
	outcome Outcome
}

// transitions is the lifecycle. A status absent from every from is final.
var transitions = []transition{
	{action: ActReceive, from: []Status{StatusRegistered}, to: StatusReceived, roles: []Role{RoleClerk}},
	{action: ActRefuseIntake, from: []Status{StatusRegistered}, to: StatusRefusedIntake, roles: []Role{RoleClerk}, reason: true},
	{action: ActAssign, from: []Status{StatusReceived}, to: StatusProcessing, roles: []Role{RoleClerk, RoleOfficer, RoleApprover}},
	{action: ActAssign, from: []Status{StatusProcessing}, to: StatusProcessing, roles: []Role{RoleOfficer, RoleApprover}},
	{action: ActRequestDocuments, from: []Status{StatusReceived, StatusProcessing}, to: StatusDocumentsRequested, roles: []Role{RoleOfficer}, reason: true},
	{action: ActSupplement, from: []Status{StatusDocumentsRequested}, to: StatusProcessing, roles: []Role{RoleApplicant, RoleClerk}},
	{action: ActRequestPayment, from: []Status{StatusProcessing}, to: StatusPaymentRequested, roles: []Role{RoleOfficer}},
	// A fee is marked paid only by the gateway's signed callback (the
	// system) or by a clerk who took it at the counter and records the
	// receipt's number; the applicant's word never pays it.
	{action: ActPay, from: []Status{StatusPaymentRequested}, to: StatusProcessing, roles: []Role{RoleSystem, RoleClerk}},
	{action: ActRequestWithdrawal, from: []Status{StatusRegistered, StatusReceived, StatusProcessing, StatusDocumentsRequested, StatusPaymentRequested},
		to: StatusWithdrawalRequested, roles: []Role{RoleApplicant}},
	{action: ActStop, from: []Status{StatusWithdrawalRequested}, to: StatusStopped, roles: []Role{RoleClerk, RoleOfficer, RoleApprover}},
	{action: ActStop, from: []Status{StatusProcessing, StatusDocumentsRequested, StatusPaymentRequested}, to: StatusStopped, roles: []Role{RoleApprover}, reason: true},
	{action: ActAppraise, from: []Status{StatusProcessing}, to: StatusProcessing, roles: []Role{RoleOfficer}},
	{action: ActApprove, from: []Status{StatusProcessing}, to: StatusCompleted, roles: []Role{RoleApprover}, outcome: OutcomeGranted},
	{action: ActRefuse, from: []Status{StatusProcessing}, to: StatusCompleted, roles: []Role{RoleApprover}, reason: true, outcome: OutcomeRefused},
	{action: ActReturnResult, from: []Status{StatusCompleted}, to: StatusReturned, roles: []Role{RoleClerk, RoleSystem}},
}

// maxReason is the longest reason, in bytes, an actor may give.
const maxReason = 4000

// Lifecycle is where a dossier stands: its status, the one-time request
// for documents, the decision and the deadline clock. It is a value:
// Apply returns the next one and never changes its receiver.
type Lifecycle struct {
	Status Status `json:"status"`
	// Since is when the dossier entered Status.
	Since time.Time `json:"since"`
	// DocumentsRequested reports whether additional documents have been
	// requested; they may be requested once.
	DocumentsRequested bool    `json:"documents_requested"`
	Outcome            Outcome `json:"outcome,omitempty"`
	Clock              Clock   `json:"clock"`
}

// NewLifecycle returns the lifecycle of a dossier registered at the given
// time, for a procedure with a time limit of workingDays.
func NewLifecycle(registeredAt time.Time, workingDays int) Lifecycle {
	return Lifecycle{Status: StatusRegistered, Since: registeredAt, Clock: Clock{WorkingDays: workingDays}}
}

// Event is an action someone takes on a dossier.
type Event struct {
	Action Action
	// By are the roles the actor holds; the action is allowed when any of
	// them may take it.
	By []Role
	At time.Time
	// Reason is why; refusals, stops for cause and requests for documents
	// need one (the applicant is told).
	Reason string
}

// Apply returns the lifecycle after e. It returns an error, and changes
// nothing, when:
//   - the event is malformed (an unknown action, no time, a time before
//     the dossier's last change, a missing or overlong reason): errs.ErrInvalid;
//   - none of the actor's roles may ever take the action, or may take it
//     from this status: errs.ErrForbidden;
//   - the action is not allowed from the current status, or documents
//     were already requested once: errs.ErrConflict.
func (l Lifecycle) Apply(e Event) (Lifecycle, error) {
	if _, err := ParseAction(string(e.Action)); err != nil {
		return l, err
	}
	if e.At.IsZero() {
		return l, errs.Invalid("at", "the time of the action is required")
	}
	if e.At.Before(l.Since) {
		return l, errs.Invalid("at", fmt.Sprintf("%s is before the dossier's last change at %s; actions are recorded in order",
			e.At.Format(time.RFC3339), l.Since.Format(time.RFC3339)))
	}
	t, err := l.rule(e.Action, e.By)
	if err != nil {
		return l, err
	}
	if t.action == ActRequestDocuments && l.DocumentsRequested {
		return l, fmt.Errorf("%w: additional documents were already requested for this dossier, and they are requested only once, listing everything missing (Decree 61/2018/NĐ-CP); decide on the dossier as it stands, or stop it", errs.ErrConflict)
	}
	reason := strings.TrimSpace(e.Reason)
	if t.reason && reason == "" {
		return l, errs.Invalid("reason", fmt.Sprintf("say why: the applicant is told the reason when a dossier is %s", strings.ReplaceAll(string(t.action), "-", " ")))
	}
	if len(reason) > maxReason {
		return l, errs.Invalid("reason", fmt.Sprintf("is longer than %d bytes", maxReason))
	}

	next := l
	next.Status, next.Since = t.to, e.At
	next.Clock = l.Clock.next(l.Status, t.to, e.At)
	if t.action == ActRequestDocuments {
		next.DocumentsRequested = true
	}
	if t.outcome != OutcomeNone {
		next.Outcome = t.outcome
	}
	return next, nil
}

// rule finds the transition for action from the current status by one of
// roles, or says why there is none.
func (l Lifecycle) rule(action Action, roles []Role) (transition, error) {
	mayEver, legalHere := false, false
	var here []Role
	for _, t := range transitions {
		if t.action != action {
			continue
		}
		holds := slices.ContainsFunc(roles, func(r Role) bool { return slices.Contains(t.roles, r) })
		mayEver = mayEver || holds
		if slices.Contains(t.from, l.Status) {
			legalHere = true
			here = t.roles
			if holds {
				return t, nil
			}
		}
	}
	// A refusal by role carries its authz reason, so that it is audited
	// with it (see web.RecordDenials); its message stays "forbidden: …".
	forbidden := &authz.Refusal{Decision: authz.Denied, Reason: authz.ReasonNoRole, Kind: authz.KindDossier, Action: authz.Update,
		Message: errs.ErrForbidden.Error()}
	if action == ActApprove {
		forbidden.Action = authz.Approve
	}
	switch {
	case len(roles) == 0:
		return transition{}, fmt.Errorf("%w: the actor holds no role that acts on dossiers", forbidden)
	case !mayEver:
		return transition{}, fmt.Errorf("%w: %s is not an action the roles %s may take", forbidden, action, joinNames(roles))
	case !legalHere:
		return transition{}, fmt.Errorf("%w: a dossier in %s cannot take the action %s; it is allowed from %s",
			errs.ErrConflict, l.Status.describe(), action, describeAll(fromStatuses(action)))
	default:
		return transition{}, fmt.Errorf("%w: in %s the action %s is for the roles %s, not %s",
			forbidden, l.Status.describe(), action, joinNames(here), joinNames(roles))
	}
}

// Allowed returns the actions that an actor holding roles may take now,
// in the order of Actions: what a page offers as buttons.
func (l Lifecycle) Allowed(roles ...Role) []Action {
	var out []Action
	for _, a := range Actions {
		if _, err := l.rule(a, roles); err == nil && !(a == ActRequestDocuments && l.DocumentsRequested) {
			out = append(out, a)
		}
	}
	return out
}

// fromStatuses lists the statuses action may be taken from, in order.
func fromStatuses(action Action) []Status {
	var out []Status
	for _, t := range transitions {
		if t.action == action {
			out = append(out, t.from...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func describeAll(ss []Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.describe()
	}
	return strings.Join(parts, ", ")
}

// Calendar counts working days. internal/calendar implements it with
// Vietnamese public holidays, weekends, compensatory days and a mission's
// host-country holidays.
//
// Both methods must be monotonic (a later start or a larger n never gives
// an earlier result): the deadline arithmetic relies on it.
type Calendar interface {
	// AddWorkingDays returns the moment n working days (n ≥ 0) after
	// start: a moment on the n-th working day after start's day (its end,
	// in WorkCalendar), so that a dossier received on a Saturday and one
	// received on the Friday before are both due a working day later on
	// the Monday. n = 0 returns start.
	AddWorkingDays(start time.Time, n int) time.Time
	// WorkingDaysBetween returns the whole working days from a to b: the
	// largest d such that AddWorkingDays(a, d) is not after b; 0 when b
	// is not after a.
	WorkingDaysBetween(a, b time.Time) int
}

// Clock is a dossier's deadline: the time limit counted in working days
// from receipt, with the pauses the applicant's time adds. It is a value,
// computed on whatever Calendar the dossier's unit keeps.
type Clock struct {
	// ReceivedAt is when the dossier was received; zero until then, when
	// the clock has not started.
	ReceivedAt time.Time `json:"received_at,omitzero"`
	// WorkingDays is the procedure's time limit.
	WorkingDays int `json:"working_days"`
	// Pauses are the spans the clock stood still, in order.
	Pauses []Pause `json:"pauses,omitempty"`
	// FinishedAt is when the dossier was completed or stopped; zero while
	// it runs. Whether it was on time is judged at that moment.
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Pause is a span in which the clock stood still.
type Pause struct {
	// Status is why: documents requested (5) or payment requested (6).
	Status Status    `json:"status"`
	From   time.Time `json:"from"`
	// To is when the applicant answered; zero while the pause lasts.
	To time.Time `json:"to,omitzero"`
}

// next returns the clock after a change from status from to status to at
// the given time.
func (c Clock) next(from, to Status, at time.Time) Clock {
	if from == StatusRegistered && to == StatusReceived {
		c.ReceivedAt = at
	}
	if from.Paused() && from != to {
		c.Pauses = slices.Clone(c.Pauses)
		c.Pauses[len(c.Pauses)-1].To = at
	}
	if to.Paused() && from != to {
		c.Pauses = append(slices.Clone(c.Pauses), Pause{Status: to, From: at})
	}
	if to == StatusCompleted || to == StatusStopped {
		c.FinishedAt = at
	}
	return c
}

// Due returns the deadline as it stands at the given time: the time limit
// in working days from receipt, moved on by the working days each pause
// covered (a part day counts as a whole one, so the applicant's time never
// makes a dossier late; a pause still open counts up to at). A pause that
// began after the deadline had passed does not move it: the dossier was
// already late. Due returns the zero time before the dossier is received.
func (c Clock) Due(cal Calendar, at time.Time) time.Time {
	if c.ReceivedAt.IsZero() {
		return time.Time{}
	}
	due := cal.AddWorkingDays(c.ReceivedAt, c.WorkingDays)
	for _, p := range c.Pauses {
		if !p.From.Before(due) || !p.From.Before(at) {
			break // pauses are in order, so every later one is later still
		}
		end := p.To
		if end.IsZero() || end.After(at) {
			end = at
		}
		due = cal.AddWorkingDays(due, pausedDays(cal, p.From, end))
	}
	return due
}

// pausedDays returns the working days from a to b, a part day counted
// whole.
func pausedDays(cal Calendar, a, b time.Time) int {
	d := cal.WorkingDaysBetween(a, b)
	if cal.AddWorkingDays(a, d).Before(b) {
		d++
	}
	return d
}

// judged returns the moment a dossier's timeliness is judged at: when it
// finished, or at if it still runs.
func (c Clock) judged(at time.Time) time.Time {
	if !c.FinishedAt.IsZero() && c.FinishedAt.Before(at) {
		return c.FinishedAt
	}
	return at
}

// Overdue reports whether the dossier is past its deadline at the given
// time; a finished dossier is judged at the moment it finished, and a
// dossier not yet received is never overdue.
func (c Clock) Overdue(cal Calendar, at time.Time) bool {
	if c.ReceivedAt.IsZero() {
		return false
	}
	t := c.judged(at)
	return t.After(c.Due(cal, t))
}

// WorkingDaysLeft returns the whole working days from at to the deadline,
// or, for an overdue dossier, minus the whole working days it is late (0
// in its first day late). Staff queues sort and flag by it.
func (c Clock) WorkingDaysLeft(cal Calendar, at time.Time) int {
	due := c.Due(cal, at)
	if due.IsZero() {
		return c.WorkingDays
	}
	if at.After(due) {
		return -cal.WorkingDaysBetween(due, at)
	}
	return cal.WorkingDaysBetween(at, due)
}
