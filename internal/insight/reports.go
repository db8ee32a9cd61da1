package insight

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// CreateTemplate records a report template of sub's unit. It returns an
// *errs.FieldError naming a bad field, errs.ErrConflict for a code taken.
func (s *Service) CreateTemplate(ctx context.Context, sub authz.Subject, t Template) (Template, error) {
	if err := decide(sub, authz.Create, authz.Resource{Kind: authz.KindReport, Unit: sub.Unit}, ""); err != nil {
		return Template{}, err
	}
	t, err := t.clean()
	if err != nil {
		return Template{}, err
	}
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Template{}, err
	}
	t.UID, t.OwnerUnit, t.CreatedAt = newUID(), sub.Unit, s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if t.ID, err = insertTemplate(ctx, tx, t); err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("%w: the code %q is another template's; choose another", errs.ErrConflict, t.Code)
			}
			return err
		}
		return s.record(ctx, tx, o, "report.template.create", "report_template", t.ID, 0, map[string]string{"code": t.Code, "period": string(t.Period)})
	})
	if err != nil {
		return Template{}, fmt.Errorf("insight: create template %s: %w", t.Code, err)
	}
	return t, nil
}

// Templates returns the templates of sub's unit (every unit's, for
// leaders).
func (s *Service) Templates(ctx context.Context, sub authz.Subject) ([]Template, error) {
	if err := decide(sub, authz.Read, authz.Resource{Kind: authz.KindReport}, ""); err != nil {
		return nil, err
	}
	all, err := listTemplates(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := []Template{}
	for _, t := range all {
		if allowed(sub, authz.Read, authz.Resource{Kind: authz.KindReport, Unit: t.OwnerUnit}) {
			out = append(out, t)
		}
	}
	return out, nil
}

// NewRound opens a collection round.
type NewRound struct {
	TemplateID int64 `json:"template_id"`
	// Date is a day in the period reported on (YYYY-MM-DD); if empty,
	// today. The period's label and closing dates follow from it.
	Date string `json:"date"`
	// DueDate is when reports are due (YYYY-MM-DD); or WorkingDays from
	// today.
	DueDate     string  `json:"due_date"`
	WorkingDays int     `json:"working_days"`
	Units       []int64 `json:"units"`
}

// OpenRound opens a round of a template of sub's unit, asking units to
// report, and sends it to the missions among them.
func (s *Service) OpenRound(ctx context.Context, sub authz.Subject, n NewRound) (Round, error) {
	t, err := loadTemplate(ctx, s.db, "id = ?", n.TemplateID)
	if errors.Is(err, errs.ErrNotFound) {
		return Round{}, errs.Invalid("template_id", "there is no such template")
	} else if err != nil {
		return Round{}, err
	}
	if err := decide(sub, authz.Create, authz.Resource{Kind: authz.KindReport, Unit: t.OwnerUnit}, idString(t.ID)); err != nil {
		return Round{}, err
	}
	day := s.today()
	if n.Date != "" {
		if day, err = calendar.ParseDate(n.Date); err != nil {
			return Round{}, errs.Invalid("date", "must be a date, YYYY-MM-DD")
		}
	}
	r := Round{UID: newUID(), TemplateID: t.ID, Template: t, OwnerUnit: t.OwnerUnit, CreatedAt: s.now()}
	var from, to calendar.Date
	r.Label, from, to = PeriodOf(t.Period, day)
	r.From, r.To = from.String(), to.String()
	if r.Due, err = s.deadline("due_date", n.DueDate, n.WorkingDays); err != nil {
		return Round{}, err
	}
	if len(n.Units) == 0 || len(n.Units) > 1000 {
		return Round{}, errs.Invalid("units", "choose the units that report, 1 to 1000")
	}
	for _, u := range n.Units {
		if slices.Contains(r.Units, u) {
			continue
		}
		if _, err := s.unitOf(ctx, "units", u); err != nil {
			return Round{}, err
		}
		r.Units = append(r.Units, u)
	}
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Round{}, err
	}
	err = s.queuing(ctx, func(tx *store.Tx) error {
		if r.ID, err = insertRound(ctx, tx, r); err != nil {
			return err
		}
		if err := s.record(ctx, tx, o, "report.round.open", "report_round", r.ID, 0,
			map[string]string{"template": t.Code, "period": r.Label, "units": fmt.Sprint(len(r.Units))}); err != nil {
			return err
		}
		return s.sendRoundTx(ctx, tx, r)
	})
	if err != nil {
		return Round{}, fmt.Errorf("insight: open a round of %s: %w", t.Code, err)
	}
	return r, nil
}

func (s *Service) sendRoundTx(ctx context.Context, tx *store.Tx, r Round) error {
	var p *parcel
	for _, unit := range r.Units {
		code, remote, err := s.remote(ctx, unit)
		if err != nil {
			return err
		}
		if !remote {
			continue
		}
		if p == nil {
			if p, err = s.roundParcel(ctx, r); err != nil {
				return err
			}
		}
		if err := s.queue(ctx, tx, code, *p); err != nil {
			return err
		}
	}
	return nil
}

// roundParcel is the parcel that carries round r from headquarters.
func (s *Service) roundParcel(ctx context.Context, r Round) (*parcel, error) {
	codes, from, err := s.hqCodes(ctx, append([]int64{r.OwnerUnit}, r.Units...))
	if err != nil {
		return nil, err
	}
	return &parcel{Type: "round", From: from, Round: &wireRound{UID: r.UID, Label: r.Label, From: r.From, To: r.To, Owner: codes[0],
		Template: r.Template, Units: codes[1:], Due: r.Due, CreatedAt: r.CreatedAt}}, nil
}

// Rounds returns the rounds sub may see: their unit collects or reports
// in them (every round, for leaders), the latest due first.
func (s *Service) Rounds(ctx context.Context, sub authz.Subject) ([]Round, error) {
	if err := decide(sub, authz.Read, authz.Resource{Kind: authz.KindReport}, ""); err != nil {
		return nil, err
	}
	all, err := loadRounds(ctx, s.db, "1 = 1")
	if err != nil {
		return nil, err
	}
	out := []Round{}
	for _, r := range all {
		if allowed(sub, authz.Read, r.resource()) {
			out = append(out, r)
		}
	}
	return out, nil
}

// RoundView is a round as its reader sees it: the submissions they may
// read (all, for the collecting unit and leaders; their own, for a unit
// asked to report).
type RoundView struct {
	Round       Round        `json:"round"`
	Submissions []Submission `json:"submissions"`
	// Collecting reports whether the reader sees the round as its
	// collector: every submission, aggregation, decisions.
	Collecting bool `json:"collecting"`
}

// Round returns round id as sub may see it; a round sub's unit neither
// collects nor reports in is errs.ErrNotFound.
func (s *Service) Round(ctx context.Context, sub authz.Subject, id int64) (RoundView, error) {
	r, err := loadRound(ctx, s.db, "id = ?", id)
	if err != nil {
		return RoundView{}, err
	}
	if err := decide(sub, authz.Read, r.resource(), idString(id)); err != nil {
		return RoundView{}, err
	}
	all, err := loadSubmissions(ctx, s.db, "round_id = ?", id)
	if err != nil {
		return RoundView{}, err
	}
	v := RoundView{Round: r, Submissions: []Submission{}, Collecting: allowed(sub, authz.Read, r.collecting())}
	for _, sm := range all {
		if v.Collecting || allowed(sub, authz.Read, authz.Resource{Kind: authz.KindReport, Unit: sm.Unit}) {
			v.Submissions = append(v.Submissions, sm)
		}
	}
	return v, nil
}

// Submit files sub's unit's report in round id, checked against the
// template (an *errs.FieldError names the indicator at fault), and sends
// it to the collecting unit's node from a mission. A unit may file again
// until its report is approved (errs.ErrConflict after).
func (s *Service) Submit(ctx context.Context, sub authz.Subject, id int64, values map[string]string) (Submission, error) {
	r, err := loadRound(ctx, s.db, "id = ?", id)
	if err != nil {
		return Submission{}, err
	}
	if !slices.Contains(r.Units, sub.Unit) {
		// A round sub's unit does not report in: hidden, or not theirs.
		if err := decide(sub, authz.Read, r.resource(), idString(id)); err != nil {
			return Submission{}, err
		}
		return Submission{}, fmt.Errorf("%w: your unit is not asked to report in this round", errs.ErrForbidden)
	}
	sm := Submission{RoundID: r.ID, Unit: sub.Unit, UID: newUID(), Status: Submitted}
	if err := decide(sub, authz.Update, sm.resource(r), idString(id)); err != nil {
		return Submission{}, err
	}
	if sm.Values, err = r.Template.Validate(values); err != nil {
		return Submission{}, err
	}
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Submission{}, err
	}
	sm.SubmittedBy, sm.SubmittedAt = o.Actor.Name, s.now()
	err = s.queuing(ctx, func(tx *store.Tx) error {
		if err := s.file(ctx, tx, o, r, &sm); err != nil {
			return err
		}
		_, remote, err := s.remote(ctx, r.OwnerUnit)
		if err != nil || !remote {
			return err
		}
		unit, err := s.opts.Directory.Unit(ctx, sm.Unit)
		if err != nil {
			return err
		}
		root, err := s.root(ctx)
		if err != nil {
			return err
		}
		// Headquarters' node receives for all its units, as the ministry.
		return s.queue(ctx, tx, root.Code, parcel{Type: "submission", From: unit.Code, Submission: &wireFiling{RoundUID: r.UID, UID: sm.UID,
			Unit: unit.Code, By: sm.SubmittedBy, Status: Submitted, Values: sm.Values, At: sm.SubmittedAt}})
	})
	if err != nil {
		return Submission{}, fmt.Errorf("insight: submit to round %d: %w", id, err)
	}
	return sm, nil
}

// file stores a filing of sm's unit in round r: new, or replacing one
// not approved.
func (s *Service) file(ctx context.Context, tx *store.Tx, o audit.Origin, r Round, sm *Submission) error {
	prev, err := loadSubmissions(ctx, tx, "round_id = ? AND unit_id = ?", r.ID, sm.Unit)
	if err != nil {
		return err
	}
	sm.Version = 1
	if len(prev) == 1 {
		if prev[0].Status == Approved {
			return fmt.Errorf("%w: your unit's report in this round is approved; it is final", errs.ErrConflict)
		}
		sm.ID, sm.Version = prev[0].ID, prev[0].Version+1
	}
	if err := upsertSubmission(ctx, tx, sm); err != nil {
		return err
	}
	return s.record(ctx, tx, o, "report.submit", "report_submission", sm.ID, 0,
		map[string]string{"round": idString(r.ID), "unit": idString(sm.Unit), "uid": sm.UID, "version": fmt.Sprint(sm.Version)})
}

// Decision is an approval or a return of a submission.
type Decision struct {
	Approve bool   `json:"approve"`
	Reason  string `json:"reason"` // required to return
	Version int    `json:"version"`
}

// DecideSubmission approves or returns (with reasons) submission sid of
// round id, as the collecting unit's head. Of two decisions on the same
// version one wins; the other is errs.ErrConflict. A return reaches a
// mission through the exchange.
func (s *Service) DecideSubmission(ctx context.Context, sub authz.Subject, id, sid int64, d Decision) (Submission, error) {
	d.Reason = strings.TrimSpace(d.Reason)
	r, err := loadRound(ctx, s.db, "id = ?", id)
	if err != nil {
		return Submission{}, err
	}
	if err := decide(sub, authz.Read, r.resource(), idString(id)); err != nil {
		return Submission{}, err
	}
	if err := decide(sub, authz.Approve, r.collecting(), idString(id)); err != nil {
		return Submission{}, err
	}
	if err := checkLine("reason", d.Reason, MaxText, !d.Approve, true); err != nil {
		return Submission{}, err
	}
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Submission{}, err
	}
	var out Submission
	err = s.queuing(ctx, func(tx *store.Tx) error {
		got, err := loadSubmissions(ctx, tx, "round_id = ? AND id = ?", id, sid)
		if err != nil {
			return err
		}
		if len(got) == 0 {
			return fmt.Errorf("%w: no such submission in this round", errs.ErrNotFound)
		}
		sm := got[0]
		if sm.Status != Submitted {
			return fmt.Errorf("%w: the report is %s; only a submitted report is decided", errs.ErrConflict, sm.Status)
		}
		if sm.Version != d.Version {
			return fmt.Errorf("%w: the report changed since you opened it (version %d, not %d); reload it", errs.ErrConflict, sm.Version, d.Version)
		}
		sm.Status, sm.DecidedBy, sm.DecidedAt, sm.Reason, sm.Version = Returned, o.Actor.Name, s.now(), d.Reason, sm.Version+1
		if d.Approve {
			sm.Status = Approved
		}
		ok, err := decideSubmission(ctx, tx, sm)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: someone else decided the report meanwhile; reload it", errs.ErrConflict)
		}
		if err := s.record(ctx, tx, o, "report."+map[bool]string{true: "approve", false: "return"}[d.Approve], "report_submission", sm.ID, 0,
			map[string]string{"round": idString(id), "unit": idString(sm.Unit), "reason": audit.AttrValue(d.Reason)}); err != nil {
			return err
		}
		out = sm
		code, remote, err := s.remote(ctx, sm.Unit)
		if err != nil || !remote {
			return err
		}
		root, err := s.root(ctx)
		if err != nil {
			return err
		}
		return s.queue(ctx, tx, code, parcel{Type: "decision", From: root.Code, Submission: &wireFiling{RoundUID: r.UID, UID: sm.UID, Unit: code,
			By: sm.DecidedBy, Reason: sm.Reason, Status: sm.Status, At: sm.DecidedAt}})
	})
	if err != nil {
		return Submission{}, fmt.Errorf("insight: decide report %d: %w", sid, err)
	}
	return out, nil
}

func (s *Service) receiveRound(ctx context.Context, o audit.Origin, w wireRound) (func(*store.Tx) error, error) {
	owner, err := s.hqUnit(ctx, w.Owner)
	if err != nil {
		return nil, err
	}
	t, err := w.Template.clean()
	if err != nil || w.UID == "" || w.Template.UID == "" {
		return nil, refused("the round's template is malformed: %v", err)
	}
	r := Round{UID: w.UID, Label: w.Label, From: w.From, To: w.To, Due: w.Due.UTC(), OwnerUnit: owner, CreatedAt: w.CreatedAt.UTC()}
	if r.Units, err = s.hqUnits(ctx, w.Units); err != nil {
		return nil, err
	}
	for _, f := range []string{r.Label, r.From, r.To} {
		if checkLine("label", f, 40, true, false) != nil {
			return nil, refused("the round's period is malformed")
		}
	}
	var report *Submission
	if rep := w.Report; rep != nil {
		if rep.Status != Submitted && rep.Status != Returned || rep.UID == "" || rep.Version < 1 {
			return nil, refused("the report in the round is malformed")
		}
		unit, err := s.unitByCode(ctx, rep.Unit)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(r.Units, unit) {
			return nil, refused("%s is not asked to report in round %s", clip(rep.Unit), clip(w.UID))
		}
		values, err := t.Validate(rep.Values)
		if err != nil {
			return nil, refused("the report in the round does not fit its template: %v", err)
		}
		report = &Submission{Unit: unit, UID: rep.UID, Status: rep.Status, Values: values, SubmittedBy: rep.SubmittedBy, SubmittedAt: rep.SubmittedAt.UTC(),
			DecidedBy: rep.DecidedBy, DecidedAt: rep.DecidedAt.UTC(), Reason: rep.Reason, Version: rep.Version}
	}
	return func(tx *store.Tx) error {
		if _, err := loadRound(ctx, tx, "uid = ?", r.UID); err == nil {
			return nil // delivered again
		} else if !errors.Is(err, errs.ErrNotFound) {
			return err
		}
		known, err := loadTemplate(ctx, tx, "uid = ?", w.Template.UID)
		switch {
		case err == nil:
			r.TemplateID = known.ID
		case errors.Is(err, errs.ErrNotFound):
			t.UID, t.OwnerUnit, t.CreatedAt = w.Template.UID, owner, w.Template.CreatedAt.UTC()
			if r.TemplateID, err = insertTemplate(ctx, tx, t); err != nil {
				return err
			}
		default:
			return err
		}
		if r.ID, err = insertRound(ctx, tx, r); err != nil {
			return err
		}
		if report != nil {
			report.RoundID = r.ID
			if err := upsertSubmission(ctx, tx, report); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, o, "report.round.receive", "report_round", r.ID, 0, map[string]string{"uid": r.UID, "period": audit.AttrValue(r.Label)})
	}, nil
}

// receiveFiling takes in a mission's submission at headquarters, or
// headquarters' decision on it at the mission.
func (s *Service) receiveFiling(ctx context.Context, o audit.Origin, w wireFiling, decision bool) (func(*store.Tx) error, error) {
	unit, err := s.unitByCode(ctx, w.Unit)
	if err != nil {
		return nil, err
	}
	return func(tx *store.Tx) error {
		r, err := loadRound(ctx, tx, "uid = ?", w.RoundUID)
		if errors.Is(err, errs.ErrNotFound) {
			return refused("there is no round %s here", clip(w.RoundUID))
		} else if err != nil {
			return err
		}
		if !slices.Contains(r.Units, unit) {
			return refused("%s is not asked to report in round %s", clip(w.Unit), clip(w.RoundUID))
		}
		prev, err := loadSubmissions(ctx, tx, "round_id = ? AND unit_id = ?", r.ID, unit)
		if err != nil {
			return err
		}
		if decision {
			if len(prev) == 0 || prev[0].UID != w.UID || prev[0].Status != Submitted || (w.Status != Approved && w.Status != Returned) {
				return nil // a decision on a filing superseded, or delivered again
			}
			sm := prev[0]
			sm.Status, sm.DecidedBy, sm.DecidedAt, sm.Reason, sm.Version = w.Status, w.By, w.At.UTC(), w.Reason, sm.Version+1
			if _, err := decideSubmission(ctx, tx, sm); err != nil {
				return err
			}
			return s.record(ctx, tx, o, "report.decision.receive", "report_submission", sm.ID, 0,
				map[string]string{"status": string(sm.Status), "reason": audit.AttrValue(sm.Reason)})
		}
		if len(prev) == 1 && (prev[0].UID == w.UID || prev[0].Status == Approved) {
			return nil // delivered again, or approved already
		}
		values, err := r.Template.Validate(w.Values)
		if err != nil {
			return refused("the report does not fit the template: %v", err)
		}
		sm := Submission{RoundID: r.ID, Unit: unit, UID: w.UID, Status: Submitted, Values: values, SubmittedBy: w.By, SubmittedAt: w.At.UTC()}
		return s.file(ctx, tx, o, r, &sm)
	}, nil
}

// Stat is an indicator's aggregation across the round's reports.
type Stat struct {
	Indicator Indicator `json:"indicator"`
	Count     int       `json:"count"`
	Sum       float64   `json:"sum"`
	Avg       float64   `json:"avg"`
	Min       float64   `json:"min"`
	Max       float64   `json:"max"`
}

// Aggregation is a round's reports taken together.
type Aggregation struct {
	Round Round  `json:"round"`
	Stats []Stat `json:"stats"`
	// Counted are the reports aggregated: submitted or approved ones.
	Counted  int          `json:"counted"`
	Approved int          `json:"approved"`
	Returned []int64      `json:"returned"`
	Missing  []int64      `json:"missing"` // units that have not filed
	Reports  []Submission `json:"reports"`
	At       time.Time    `json:"at"`
}

// Aggregate takes round id's reports together, per numeric indicator
// (sum, average, minimum, maximum), and says who is missing: for the
// collecting unit and leaders only.
func (s *Service) Aggregate(ctx context.Context, sub authz.Subject, id int64) (Aggregation, error) {
	r, err := loadRound(ctx, s.db, "id = ?", id)
	if err != nil {
		return Aggregation{}, err
	}
	if err := decide(sub, authz.Export, r.collecting(), idString(id)); err != nil {
		return Aggregation{}, err
	}
	subs, err := loadSubmissions(ctx, s.db, "round_id = ?", id)
	if err != nil {
		return Aggregation{}, err
	}
	return aggregate(r, subs, s.now()), nil
}

func aggregate(r Round, subs []Submission, now time.Time) Aggregation {
	a := Aggregation{Round: r, Returned: []int64{}, Missing: []int64{}, Reports: []Submission{}, At: now}
	filed := map[int64]bool{}
	for _, sm := range subs {
		filed[sm.Unit] = true
		switch sm.Status {
		case Returned:
			a.Returned = append(a.Returned, sm.Unit)
		case Approved:
			a.Approved++
			fallthrough
		default:
			a.Counted++
			a.Reports = append(a.Reports, sm)
		}
	}
	for _, u := range r.Units {
		if !filed[u] {
			a.Missing = append(a.Missing, u)
		}
	}
	for _, in := range r.Template.Indicators {
		if !in.Numeric() {
			continue
		}
		st := Stat{Indicator: in, Min: math.Inf(1), Max: math.Inf(-1)}
		for _, sm := range a.Reports {
			v, ok := sm.Values[in.Code]
			if !ok {
				continue
			}
			n, err := parseNumber(v, in.Type)
			if err != nil {
				continue
			}
			st.Count++
			st.Sum += n
			st.Min, st.Max = min(st.Min, n), max(st.Max, n)
		}
		if st.Count > 0 {
			st.Avg = st.Sum / float64(st.Count)
		} else {
			st.Min, st.Max = 0, 0
		}
		a.Stats = append(a.Stats, st)
	}
	return a
}
