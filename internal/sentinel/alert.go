// Package sentinel is the watcher of Chancery's security monitoring: it
// consumes the audit ledger's events from their JetStream stream as they
// are integrated, on every node, drives the scorer (internal/sentinel/
// detect) over them exactly once across restarts, stores the alerts it
// raises, lets security officers triage them (new, investigating, closed
// as a true or false positive, with notes, feeding the verdict back to the
// scorer), and tells them and a national monitoring centre (mail, syslog
// CEF). A mission scores its own ledger and forwards its alerts to
// headquarters through the exchange.
package sentinel

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/sentinel/detect"
	"chancery/internal/web"
)

// Status is where an alert's triage stands.
type Status string

// The statuses.
const (
	StatusNew           Status = "new"
	StatusInvestigating Status = "investigating"
	StatusTruePositive  Status = "closed_true_positive"
	StatusFalsePositive Status = "closed_false_positive"
)

// Statuses lists the statuses in triage order.
var Statuses = []Status{StatusNew, StatusInvestigating, StatusTruePositive, StatusFalsePositive}

// Closed reports whether s closes the alert.
func (s Status) Closed() bool { return s == StatusTruePositive || s == StatusFalsePositive }

func (s Status) valid() bool { return slices.Contains(Statuses, s) }

// Alert is a stored alert: the scorer's detection and its triage.
type Alert struct {
	ID        int64   `json:"id"`
	User      string  `json:"user"`
	Rule      string  `json:"rule"`
	Score     float64 `json:"score"`
	Risk      float64 `json:"risk"`
	Status    Status  `json:"status"`
	ActorKind string  `json:"actor_kind,omitempty"`
	ActorID   string  `json:"actor_id,omitempty"`
	UnitID    int64   `json:"unit_id,omitempty"`
	Address   string  `json:"address,omitempty"`
	// Events are the evidence's ledger sequence numbers (of Node's ledger
	// for a mission's alert).
	Events      []uint64    `json:"events"`
	Title       detect.Text `json:"title"`
	Explanation detect.Text `json:"explanation"`
	First       time.Time   `json:"first"`
	Last        time.Time   `json:"last"`
	Level       authz.Level `json:"level"`
	Assignee    string      `json:"assignee"`
	Notes       string      `json:"notes"`
	// Version counts the alert's changes; a change names the version it
	// was based on.
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Node and NodeName name the mission that raised the alert and
	// forwarded it; empty for this node's own.
	Node     string `json:"node,omitempty"`
	NodeName string `json:"node_name,omitempty"`
	// History is the triage's changes, oldest first (one alert only).
	History []Change `json:"history,omitempty"`
}

// Change is one change of an alert's triage.
type Change struct {
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	From     Status    `json:"from"`
	To       Status    `json:"to"`
	Assignee string    `json:"assignee,omitempty"`
	Note     string    `json:"note,omitempty"`
}

// fromDetect is the stored form of a new detection.
func fromDetect(d detect.Alert, now time.Time) Alert {
	ev := d.Events
	if len(ev) > detect.MaxEvidence {
		ev = ev[:detect.MaxEvidence]
	}
	if ev == nil {
		ev = []uint64{}
	}
	return Alert{User: d.User, Rule: d.Rule, Score: d.Score, Risk: d.Risk, Status: StatusNew, ActorKind: d.ActorKind, ActorID: d.ActorID,
		UnitID: d.UnitID, Address: d.Address, Events: ev, Title: d.Title, Explanation: d.Explanation,
		First: d.First.UTC().Truncate(time.Microsecond), Last: d.Last.UTC().Truncate(time.Microsecond),
		Level: d.Level, Version: 1, CreatedAt: now, UpdatedAt: now}
}

// Patch is a change of an alert's triage: any of its status, notes and
// assignee, based on Version.
type Patch struct {
	Status   *Status `json:"status,omitempty"`
	Notes    *string `json:"notes,omitempty"`
	Assignee *string `json:"assignee,omitempty"`
	// Version is the alert's version the change is based on; a stale
	// one is refused with errs.ErrConflict.
	Version int `json:"version"`
}

// Limits on what a security officer writes.
const (
	MaxNotes    = 10000
	MaxAssignee = 64
)

// clean checks p, normalising the notes' line breaks.
func (p Patch) clean() (Patch, error) {
	if p.Version < 1 {
		return p, errs.Invalid("version", "give the version of the alert the change is based on (from the alert you read)")
	}
	if p.Status == nil && p.Notes == nil && p.Assignee == nil {
		return p, errs.Invalid("status", "nothing to change: give a status, notes or an assignee")
	}
	if p.Status != nil && !p.Status.valid() {
		return p, errs.Invalid("status", fmt.Sprintf("must be one of new, investigating, closed_true_positive, closed_false_positive, not %q", web.Clip(string(*p.Status))))
	}
	if p.Notes != nil {
		n := strings.TrimSpace(strings.ReplaceAll(*p.Notes, "\r\n", "\n"))
		if err := web.CheckText("notes", n); err != nil {
			return p, err
		}
		if strings.ContainsRune(n, '\r') {
			return p, errs.Invalid("notes", "must not contain a carriage return outside a line break")
		}
		if c := utf8.RuneCountInString(n); c > MaxNotes {
			return p, errs.Invalid("notes", fmt.Sprintf("are %d characters long; at most %d fit", c, MaxNotes))
		}
		p.Notes = &n
	}
	if p.Assignee != nil {
		a := strings.TrimSpace(*p.Assignee)
		if err := web.CheckText("assignee", a); err != nil {
			return p, err
		}
		if strings.ContainsAny(a, "\r\n\t") {
			return p, errs.Invalid("assignee", "must be one line: a username")
		}
		if utf8.RuneCountInString(a) > MaxAssignee {
			return p, errs.Invalid("assignee", fmt.Sprintf("is longer than %d characters", MaxAssignee))
		}
		p.Assignee = &a
	}
	return p, nil
}

// Filter selects alerts.
type Filter struct {
	Status Status
	Rule   string
	User   string
	// Page is 1-based; PerPage at most MaxPerPage (DefaultPerPage if 0).
	Page, PerPage int
}

// Paging's bounds.
const (
	DefaultPerPage = 50
	MaxPerPage     = 200
)

func (f Filter) clean() (Filter, error) {
	if f.Status != "" && !f.Status.valid() {
		return f, errs.Invalid("status", fmt.Sprintf("must be one of new, investigating, closed_true_positive, closed_false_positive, not %q", web.Clip(string(f.Status))))
	}
	for _, v := range []struct{ field, s string }{{"rule", f.Rule}, {"user", f.User}} {
		if err := web.CheckText(v.field, v.s); err != nil {
			return f, err
		}
		if len(v.s) > 256 {
			return f, errs.Invalid(v.field, "is too long")
		}
	}
	if f.Page < 1 {
		f.Page = 1
	}
	if f.PerPage <= 0 {
		f.PerPage = DefaultPerPage
	}
	if f.PerPage > MaxPerPage {
		return f, errs.Invalid("per_page", fmt.Sprintf("must be a number from 1 to %d", MaxPerPage))
	}
	return f, nil
}

// AlertPage is one page of a list of alerts.
type AlertPage struct {
	Items []Alert `json:"items"`
	Total int     `json:"total"`
	Page  int     `json:"page"`
	Pages int     `json:"pages"`
}

// TitleIn is the alert's title in l.
func (a Alert) TitleIn(l i18n.Lang) string { return textIn(a.Title, l) }

// ExplanationIn is the alert's explanation in l.
func (a Alert) ExplanationIn(l i18n.Lang) string { return textIn(a.Explanation, l) }

func textIn(t detect.Text, l i18n.Lang) string {
	if l == i18n.EN && t.EN != "" || t.VI == "" {
		return t.EN
	}
	return t.VI
}
