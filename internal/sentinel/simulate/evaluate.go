package simulate

import (
	"fmt"
	"io"
	"slices"
	"time"

	"chancery/internal/audit"
	"chancery/internal/sentinel/detect"
)

// An alert is a true positive when it names an insider (the account, or
// the attacker's address) between the first event of their scenario and
// Grace after the last; every other alert is a false positive, and the
// person-day it falls on (in the person's zone) a false-positive day.
const Grace = 48 * time.Hour

// ScenarioResult is how the detector did on one scenario.
type ScenarioResult struct {
	Scenario  string `json:"scenario"`
	Instances int    `json:"instances"`
	Detected  int    `json:"detected"`
	// Recall is Detected / Instances.
	Recall float64 `json:"recall"`
	// Alerts is the alerts on this scenario's insiders; Precision is
	// Alerts / (Alerts + all false positives): the precision were this
	// the only scenario.
	Alerts    int     `json:"alerts"`
	Precision float64 `json:"precision"`
	// MedianDelay and MaxDelay are from the scenario's first event to
	// the first alert, over the detected instances.
	MedianDelay time.Duration `json:"median_delay"`
	MaxDelay    time.Duration `json:"max_delay"`
}

// RuleCount is one rule's alerts.
type RuleCount struct {
	Rule  string `json:"rule"`
	True  int    `json:"true"`
	False int    `json:"false"`
}

// Report is the result of Evaluate.
type Report struct {
	Config Config `json:"config"`
	Events int    `json:"events"`
	// Alerts, TruePositives and Precision over all alerts.
	Alerts        int     `json:"alerts"`
	TruePositives int     `json:"true_positives"`
	Precision     float64 `json:"precision"`
	// UserDays is the person-days with activity outside insiders'
	// scenarios; FalseDays those of them with an alert; FPR their ratio.
	UserDays  int              `json:"user_days"`
	FalseDays int              `json:"false_days"`
	FPR       float64          `json:"fpr"`
	Scenarios []ScenarioResult `json:"scenarios"`
	Rules     []RuleCount      `json:"rules"`
	// Elapsed is the wall time of the run (generation and scoring).
	Elapsed time.Duration `json:"elapsed"`
}

// Evaluate simulates cfg, scores it with a detect engine of dc, and
// measures the alerts against the labels. onAlert, if not nil, sees each
// alert with the time it was raised and whether it was a true positive.
func Evaluate(cfg Config, dc detect.Config, onAlert func(a detect.Alert, at time.Time, truePositive bool)) (Report, error) {
	began := time.Now()
	s := New(cfg)
	e := detect.New(dc)
	labels := s.labels
	first := make([]time.Time, len(labels))
	perLabel := make([]int, len(labels))
	falseDays := map[[2]int64]bool{}
	rules := map[string]*RuleCount{}
	var rep Report
	err := s.Run(func(ev audit.Event) error {
		for _, a := range e.Observe(ev) {
			at := ev.Time
			rep.Alerts++
			rc := rules[a.Rule]
			if rc == nil {
				rc = &RuleCount{Rule: a.Rule}
				rules[a.Rule] = rc
			}
			hit := -1
			for i, l := range labels {
				named := a.ActorKind == string(audit.ActorStaff) && a.ActorID == l.ActorID || a.Address != "" && a.Address == l.Address
				if named && !at.Before(l.Start) && !at.After(l.End.Add(Grace)) {
					hit = i
					break
				}
			}
			if hit >= 0 {
				rep.TruePositives++
				rc.True++
				perLabel[hit]++
				if first[hit].IsZero() {
					first[hit] = at
				}
			} else {
				rc.False++
				if m := s.member(a.ActorKind, a.ActorID); m != nil {
					falseDays[[2]int64{m.id, int64(s.dayIndex(m.unit, at))}] = true
				}
			}
			if onAlert != nil {
				onAlert(a, at, hit >= 0)
			}
		}
		return nil
	})
	if err != nil {
		return Report{}, err
	}
	rep.Config = s.cfg
	rep.Events = s.events
	// The denominator: active person-days outside the insiders' windows.
	inWindow := map[[2]int64]bool{}
	for _, l := range labels {
		m := s.member(string(audit.ActorStaff), l.ActorID)
		for d := s.dayIndex(m.unit, l.Start); d <= s.dayIndex(m.unit, l.End.Add(Grace)); d++ {
			inWindow[[2]int64{m.id, int64(d)}] = true
		}
	}
	for _, m := range s.staff {
		for d, on := range m.active {
			if on && !inWindow[[2]int64{m.id, int64(d)}] {
				rep.UserDays++
			}
		}
	}
	for k := range falseDays {
		if !inWindow[k] {
			rep.FalseDays++
		}
	}
	rep.FPR = ratio(rep.FalseDays, rep.UserDays)
	rep.Precision = ratio(rep.TruePositives, rep.Alerts)
	fp := rep.Alerts - rep.TruePositives
	for _, kind := range Scenarios {
		r := ScenarioResult{Scenario: kind}
		var delays []time.Duration
		for i, l := range labels {
			if l.Scenario != kind {
				continue
			}
			r.Instances++
			r.Alerts += perLabel[i]
			if !first[i].IsZero() {
				r.Detected++
				delays = append(delays, first[i].Sub(l.Start))
			}
		}
		r.Recall = ratio(r.Detected, r.Instances)
		r.Precision = ratio(r.Alerts, r.Alerts+fp)
		if len(delays) > 0 {
			slices.Sort(delays)
			r.MedianDelay, r.MaxDelay = delays[len(delays)/2], delays[len(delays)-1]
		}
		rep.Scenarios = append(rep.Scenarios, r)
	}
	for _, rc := range rules {
		rep.Rules = append(rep.Rules, *rc)
	}
	slices.SortFunc(rep.Rules, func(a, b RuleCount) int {
		if a.Rule < b.Rule {
			return -1
		}
		if a.Rule > b.Rule {
			return 1
		}
		return 0
	})
	rep.Elapsed = time.Since(began)
	return rep, nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// member returns the staff member an alert names, or nil.
func (s *Sim) member(kind, id string) *member {
	if kind != string(audit.ActorStaff) {
		return nil
	}
	var n int64
	if _, err := fmt.Sscan(id, &n); err != nil || n < 1 || n > int64(len(s.staff)) {
		return nil
	}
	return s.staff[n-1]
}

// dayIndex returns the day index of t in u's zone.
func (s *Sim) dayIndex(u *unit, t time.Time) int {
	lt := t.In(u.loc)
	d := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC)
	return int(d.Sub(s.cfg.Start).Hours() / 24)
}

// Print writes r as a table.
func (r Report) Print(w io.Writer) error {
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	p("simulated %d staff, %d days from %s, seed %d, %d insiders per scenario: %d events in %s\n",
		r.Config.Staff, r.Config.Days, r.Config.Start.Format(time.DateOnly), r.Config.Seed, r.Config.Insiders, r.Events, r.Elapsed.Round(time.Millisecond))
	p("%-22s %9s %8s %7s %7s %10s %14s %14s\n", "scenario", "instances", "detected", "recall", "alerts", "precision", "median delay", "max delay")
	for _, s := range r.Scenarios {
		p("%-22s %9d %8d %7.3f %7d %10.3f %14s %14s\n", s.Scenario, s.Instances, s.Detected, s.Recall, s.Alerts, s.Precision,
			s.MedianDelay.Round(time.Minute), s.MaxDelay.Round(time.Minute))
	}
	p("alerts %d, true %d, precision %.3f; false-positive person-days %d of %d active: FPR %.4f per user-day\n",
		r.Alerts, r.TruePositives, r.Precision, r.FalseDays, r.UserDays, r.FPR)
	p("by rule:")
	for _, rc := range r.Rules {
		p(" %s %d/%d", rc.Rule, rc.True, rc.True+rc.False)
	}
	p(" (true/all)\n")
	return err
}
