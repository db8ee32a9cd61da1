package operations

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/procedures"
	"chancery/internal/web"
)

// Options configure a Service. Source and Directory are required.
type Options struct {
	Source    Source
	Directory Directory
	// Links reads the exchange's links to the missions; if nil, no
	// mission has a link to show.
	Links Links
	// Now is the clock; if nil, time.Now.
	Now func() time.Time
}

// Service builds the operations view. It keeps nothing between calls
// and is safe for concurrent use.
type Service struct {
	opts Options
}

// NewService returns the service, or an error naming a missing option.
func NewService(opts Options) (*Service, error) {
	if opts.Source == nil || opts.Directory == nil {
		return nil, errors.New("operations: NewService needs a Source and the Directory")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts}, nil
}

// Status is how a unit is doing, from its indicators.
type Status string

// The statuses, from good to bad.
const (
	StatusOK        Status = "ok"
	StatusAttention Status = "attention"
	StatusCritical  Status = "critical"
)

func (s Status) worse(t Status) Status {
	rank := map[Status]int{StatusOK: 0, StatusAttention: 1, StatusCritical: 2}
	if rank[t] > rank[s] {
		return t
	}
	return s
}

// Thresholds of the statuses: each indicator past its attention or its
// critical threshold raises the unit's status, and says why.
const (
	overdueCriticalShare = 0.05 // of the quarter's received dossiers
	overdueCritical      = 10
	tasksOverdueCritical = 3
	alertsCritical       = 3
	linkDownCritical     = 24 * time.Hour
	backlogCritical      = 100
)

// Reason is why a unit's status is not ok: an i18n key of the view's
// catalogue and the figure it cites.
type Reason struct {
	Key    string
	Status Status
	N      int64
}

// LinkHealth is a mission's exchange link as the view shows it.
type LinkHealth struct {
	// State is none (no node of the mission's), unknown, up or down.
	State   string
	Since   time.Time
	Backlog int64
}

// Summary is one unit's figures (or the ministry's, or every mission's
// together), counted only from what the reader may see.
type Summary struct {
	Unit identity.Unit
	// Weeks are the trend's weeks: the dossiers received (counted when
	// submitted), resolved and resolved late, and the documents, per week.
	Weeks     []time.Time
	Counts    []procedures.IndexCounts
	Documents []int64
	// Exchange is the messages sent and received per week.
	Exchange []int64
	// Quarter sums the weeks; Indices scores it (Decision 766).
	Quarter            procedures.IndexCounts
	Indices            procedures.Indices
	Overdue            int64
	TasksOpen          int64
	TasksOverdue       int64
	ReportsOutstanding int64
	ReportsLate        int64
	// Alerts counts the open alerts at the levels the reader is cleared
	// for.
	Alerts int64
	// Link is the mission's exchange link; nil for a unit at home.
	Link    *LinkHealth
	Status  Status
	Reasons []Reason
}

// Received, Resolved and Late are the quarter's.
func (s *Summary) Received() int64 { return s.Quarter.Received }
func (s *Summary) Resolved() int64 { return s.Quarter.Finished }
func (s *Summary) Late() int64     { return s.Quarter.Finished - s.Quarter.OnTime }

// Overview is the view's first page: the ministry's totals (for a reader
// who may see them), the departments' and the missions' summaries the
// reader may see.
type Overview struct {
	Ministry    *Summary
	Missions    *Summary // every visible mission's together
	Departments []*Summary
	MissionList []*Summary
	// At is when the figures were read.
	At time.Time
}

// resource is the authz resource of unit's figures at level.
func resource(unit int64, level authz.Level) authz.Resource {
	return authz.Resource{Kind: authz.KindOperations, Unit: unit, Level: level}
}

func allowed(sub authz.Subject, a authz.Action, r authz.Resource) bool {
	d, _ := authz.Decide(sub, a, r)
	return d == authz.Allowed
}

// WeekBounds returns the Weeks+1 bounds of the weeks ending with the one
// now falls in: Mondays at midnight in the ministry's zone.
func WeekBounds(now time.Time) []time.Time {
	loc := web.MinistryZone()
	l := now.In(loc)
	monday := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -((int(l.Weekday()) + 6) % 7))
	out := make([]time.Time, Weeks+1)
	for i := range out {
		out[i] = monday.AddDate(0, 0, 7*(i-Weeks+1))
	}
	return out
}

// world is one request's figures and units.
type world struct {
	sub   authz.Subject
	f     *Figures
	links map[string]Link
	units []identity.Unit
	root  identity.Unit
	now   time.Time
}

func (s *Service) load(ctx context.Context, sub authz.Subject) (*world, error) {
	now := s.opts.Now()
	units, err := s.opts.Directory.AllUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("operations: list the units: %w", err)
	}
	w := &world{sub: sub, now: now, links: map[string]Link{}}
	for _, u := range units {
		switch {
		case u.Status == identity.UnitMerged || u.Kind == identity.KindAgency:
		case u.Kind == identity.KindMinistry:
			w.root = u
		default:
			w.units = append(w.units, u)
		}
	}
	if w.root.ID == 0 {
		return nil, fmt.Errorf("%w: the directory has no ministry", errs.ErrUnavailable)
	}
	if w.f, err = s.opts.Source.Figures(ctx, WeekBounds(now), now); err != nil {
		return nil, err
	}
	if s.opts.Links != nil {
		links, err := s.opts.Links.Links(ctx)
		if err != nil {
			return nil, fmt.Errorf("operations: the exchange's links: %w", err)
		}
		for _, l := range links {
			w.links[l.Member] = l
		}
	}
	return w, nil
}

// visible sums the levels of c that sub may read of unit's figures:
// authz decides each level (no read up).
func (w *world) visible(unit int64, c Levels) int64 {
	var n int64
	for l := authz.Unclassified; l <= authz.TopSecret; l++ {
		if c[l] != 0 && allowed(w.sub, authz.Read, resource(unit, l)) {
			n += c[l]
		}
	}
	return n
}

// summary returns the figures of the units in ids, as the unit u (a
// single unit's, the ministry's or the missions' together); classified
// figures are counted per unit at the levels the reader may see.
func (w *world) summary(u identity.Unit, ids []int64, mission bool) *Summary {
	weeks := len(w.f.Bounds) - 1
	s := &Summary{Unit: u, Weeks: w.f.Bounds[:weeks], Counts: make([]procedures.IndexCounts, weeks), Documents: make([]int64, weeks), Exchange: make([]int64, weeks)}
	for _, id := range ids {
		for i, c := range w.f.Dossiers[id] {
			s.Counts[i].Add(c)
		}
		for i, n := range w.f.Exchange[id] {
			s.Exchange[i] += n
		}
		for i, c := range w.f.Documents[id] {
			s.Documents[i] += w.visible(id, c)
		}
		s.Overdue += w.f.Overdue[id]
		s.TasksOpen += w.visible(id, w.f.TasksOpen[id])
		s.TasksOverdue += w.visible(id, w.f.TasksOverdue[id])
		s.ReportsOutstanding += w.f.ReportsOutstanding[id]
		s.ReportsLate += w.f.ReportsLate[id]
		s.Alerts += w.visible(id, w.f.Alerts[id])
	}
	for _, c := range s.Counts {
		s.Quarter.Add(c)
	}
	s.Indices = procedures.Score(s.Quarter)
	if mission {
		l, ok := w.links[u.Code]
		h := &LinkHealth{State: "none"}
		switch {
		case !ok:
		case !l.Known:
			h.State, h.Backlog = "unknown", l.Backlog
		case l.Connected:
			h.State, h.Since, h.Backlog = "up", l.Since, l.Backlog
		default:
			h.State, h.Since, h.Backlog = "down", l.Since, l.Backlog
		}
		s.Link = h
	}
	s.judge(w.now)
	return s
}

// judge sets the status and its reasons from the figures.
func (s *Summary) judge(now time.Time) {
	s.Status = StatusOK
	add := func(key string, st Status, n int64) {
		s.Reasons = append(s.Reasons, Reason{Key: key, Status: st, N: n})
		s.Status = s.Status.worse(st)
	}
	if s.Overdue > 0 {
		st := StatusAttention
		if s.Overdue >= overdueCritical || float64(s.Overdue) >= overdueCriticalShare*float64(max(s.Received(), 1)) && s.Overdue > 1 {
			st = StatusCritical
		}
		add("operations.reason.overdue", st, s.Overdue)
	}
	if s.TasksOverdue > 0 {
		st := StatusAttention
		if s.TasksOverdue >= tasksOverdueCritical {
			st = StatusCritical
		}
		add("operations.reason.tasks", st, s.TasksOverdue)
	}
	if s.ReportsLate > 0 {
		add("operations.reason.reports", StatusAttention, s.ReportsLate)
	}
	if s.Alerts > 0 {
		st := StatusAttention
		if s.Alerts >= alertsCritical {
			st = StatusCritical
		}
		add("operations.reason.alerts", st, s.Alerts)
	}
	if l := s.Link; l != nil {
		if l.State == "down" {
			st := StatusAttention
			if now.Sub(l.Since) >= linkDownCritical {
				st = StatusCritical
			}
			add("operations.reason.link_down", st, int64(now.Sub(l.Since).Hours()))
		}
		if l.Backlog >= backlogCritical {
			add("operations.reason.backlog", StatusCritical, l.Backlog)
		} else if l.Backlog > 0 && l.State != "up" {
			add("operations.reason.backlog", StatusAttention, l.Backlog)
		}
	}
}

// Overview returns the view of every unit sub may see: the ministry's
// totals and the missions' together only to a reader who may see the
// ministry's figures. A reader who may see no unit's figures gets an
// empty overview (the route's grant already refused those whose roles
// read none).
func (s *Service) Overview(ctx context.Context, sub authz.Subject) (*Overview, error) {
	w, err := s.load(ctx, sub)
	if err != nil {
		return nil, err
	}
	o := &Overview{At: w.now}
	var all, missions []int64
	for _, u := range w.units {
		all = append(all, u.ID)
		if u.Kind.Mission() {
			missions = append(missions, u.ID)
		}
		if !allowed(sub, authz.Read, resource(u.ID, 0)) {
			continue
		}
		sm := w.summary(u, []int64{u.ID}, u.Kind.Mission())
		if u.Kind.Mission() {
			o.MissionList = append(o.MissionList, sm)
		} else {
			o.Departments = append(o.Departments, sm)
		}
	}
	if allowed(sub, authz.Read, resource(w.root.ID, 0)) {
		o.Ministry = w.summary(w.root, append(all, w.root.ID), false)
		o.Missions = w.summary(identity.Unit{Kind: identity.KindEmbassy}, missions, false)
		o.Missions.Status, o.Missions.Reasons = "", nil // a total, not a unit to judge
	}
	byCode := func(a, b *Summary) int { return strings.Compare(a.Unit.Code, b.Unit.Code) }
	slices.SortFunc(o.Departments, byCode)
	slices.SortFunc(o.MissionList, byCode)
	return o, nil
}

// Unit returns one unit's view. A unit sub may not see, or none,
// answers as missing (errs.ErrNotFound through authz's refusal), so that
// the reader learns nothing of another unit's figures; the ministry
// (the root) is the whole ministry's totals.
func (s *Service) Unit(ctx context.Context, sub authz.Subject, id int64) (*Summary, error) {
	return s.unit(ctx, sub, authz.Read, id)
}

func (s *Service) unit(ctx context.Context, sub authz.Subject, a authz.Action, id int64) (*Summary, error) {
	w, err := s.load(ctx, sub)
	if err != nil {
		return nil, err
	}
	if d, reason := authz.Decide(sub, a, resource(id, 0)); d != authz.Allowed {
		return nil, authz.Refuse(d, reason, a, resource(id, 0), strconv.FormatInt(id, 10))
	}
	if id == w.root.ID {
		ids := []int64{w.root.ID}
		for _, u := range w.units {
			ids = append(ids, u.ID)
		}
		return w.summary(w.root, ids, false), nil
	}
	for _, u := range w.units {
		if u.ID == id {
			return w.summary(u, []int64{u.ID}, u.Kind.Mission()), nil
		}
	}
	// A leader asking for a unit that is not there: missing, as for
	// anyone else.
	return nil, fmt.Errorf("operations: unit %d: %w", id, errs.ErrNotFound)
}
