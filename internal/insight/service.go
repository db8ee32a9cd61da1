package insight

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/web"
)

// Options configure a Service. DB, Recorder and Directory are required.
type Options struct {
	DB        *store.DB
	Recorder  audit.Recorder
	Directory Directory
	// Documents reads Records documents for tasks that come from one; if
	// nil, tasks cannot name a document by its id.
	Documents Documents
	// Notifier sends escalation notices; if nil, an escalation is only
	// recorded on the task (its history and the ledger).
	Notifier Notifier
	// Courier carries tasks, updates and reports between headquarters
	// and missions; if nil, every unit works on this node.
	Courier Courier
	// Calendar counts working days for deadlines; if nil, Viet Nam's.
	Calendar *calendar.Calendar
	// Now is the clock; if nil, store.Now.
	Now func() time.Time
}

// Service keeps leadership tasks and periodic reports. Every change runs
// in one transaction with its audit event. It is safe for concurrent
// use.
type Service struct {
	opts Options
	db   *store.DB
	rec  audit.Writer
	loc  *time.Location
	// queued wakes the courier's loop (Queued) after a commit that may
	// have put parcels in the outbox.
	queued chan struct{}
}

// NewService returns the service, or an error naming a missing option.
func NewService(opts Options) (*Service, error) {
	if opts.DB == nil || opts.Recorder == nil || opts.Directory == nil {
		return nil, errors.New("insight: NewService needs DB, Recorder and Directory")
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	if opts.Calendar == nil {
		opts.Calendar = calendar.Vietnam()
	}
	return &Service{opts: opts, db: opts.DB, rec: audit.NewWriter("insight", opts.Recorder), loc: web.MinistryZone(),
		queued: make(chan struct{}, 1)}, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// decide returns nil if sub may do a to r, else the refusal (which the
// web layer answers and records in the ledger).
func decide(sub authz.Subject, a authz.Action, r authz.Resource, id string) error {
	if d, reason := authz.Decide(sub, a, r); d != authz.Allowed {
		return authz.Refuse(d, reason, a, r, id)
	}
	return nil
}

// allowed reports whether sub may do a to r.
func allowed(sub authz.Subject, a authz.Action, r authz.Resource) bool {
	d, _ := authz.Decide(sub, a, r)
	return d == authz.Allowed
}

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

// record appends a change's audit event inside tx.
func (s *Service) record(ctx context.Context, tx *store.Tx, o audit.Origin, action, kind string, id int64, level authz.Level, attrs map[string]string) error {
	e := o.Event(action)
	e.ResourceType, e.ResourceID, e.Level, e.Attrs = kind, idString(id), level, attrs
	return s.rec.Record(ctx, tx, e)
}

// endOfDay is the last microsecond of day d in Hanoi: a deadline.
func (s *Service) endOfDay(d calendar.Date) time.Time {
	return d.AddDays(1).Time(s.loc).Add(-time.Microsecond).UTC()
}

// today is the date in Hanoi.
func (s *Service) today() calendar.Date { return calendar.DateOf(s.now().In(s.loc)) }

// deadline reads a deadline: a date, or working days from today.
func (s *Service) deadline(field, date string, workingDays int) (time.Time, error) {
	switch {
	case date != "" && workingDays != 0:
		return time.Time{}, errs.Invalid(field, "give a date or a number of working days, not both")
	case date != "":
		d, err := calendar.ParseDate(date)
		if err != nil {
			return time.Time{}, errs.Invalid(field, "must be a date, YYYY-MM-DD")
		}
		if d.Before(s.today()) {
			return time.Time{}, errs.Invalid(field, "is in the past")
		}
		return s.endOfDay(d), nil
	case workingDays > 0 && workingDays <= 365:
		return s.endOfDay(s.opts.Calendar.AddWorkingDays(s.today(), workingDays)), nil
	}
	return time.Time{}, errs.Invalid(field, "give a date (YYYY-MM-DD) or 1 to 365 working days")
}

// remote reports whether unit works on another node, with its code.
func (s *Service) remote(ctx context.Context, unit int64) (string, bool, error) {
	u, err := s.opts.Directory.Unit(ctx, unit)
	if err != nil {
		return "", false, err
	}
	if s.opts.Courier == nil {
		return u.Code, false, nil
	}
	r, err := s.opts.Courier.Remote(ctx, u.Code)
	return u.Code, r, err
}

// root returns the ministry: the unit without a parent.
func (s *Service) root(ctx context.Context) (identity.Unit, error) {
	units, err := s.opts.Directory.AllUnits(ctx)
	if err != nil {
		return identity.Unit{}, err
	}
	for _, u := range units {
		if u.ParentID == 0 {
			return u, nil
		}
	}
	return identity.Unit{}, fmt.Errorf("%w: the directory has no ministry", errs.ErrUnavailable)
}

// unitOf checks that unit exists.
func (s *Service) unitOf(ctx context.Context, field string, id int64) (identity.Unit, error) {
	if id <= 0 {
		return identity.Unit{}, errs.Invalid(field, "choose a unit")
	}
	u, err := s.opts.Directory.Unit(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return u, errs.Invalid(field, fmt.Sprintf("there is no unit %d", id))
	}
	return u, err
}
