package analytics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"chancery/internal/audit"
	"chancery/internal/calendar"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/web"
)

// Events is what the Feeder needs from the audit ledger: its integrated
// events in sequence order (audit.Ledger satisfies it).
type Events interface {
	EventsFrom(ctx context.Context, from uint64, limit int) ([]audit.Event, error)
}

// Feeder defaults.
const (
	DefaultPoll  = 200 * time.Millisecond
	DefaultSweep = 30 * time.Second
	feedBatch    = 1000
	ledgerSource = "ledger"
)

// FeederOptions configure a Feeder. DB and Ledger are required.
type FeederOptions struct {
	DB     *store.DB
	Ledger Events
	// Poll is how often the feeder looks for new ledger events when the
	// last round found none; if zero, DefaultPoll.
	Poll time.Duration
	// Sweep is how often the feeder recounts what no ledger event carries
	// (exchange traffic, security alerts, dossiers passing their
	// deadline); if zero, DefaultSweep.
	Sweep  time.Duration
	Now    func() time.Time
	Logger *slog.Logger

	// applied, in tests and benchmarks, is called with the events of each
	// round once its transaction has committed.
	applied func(events []audit.Event, at time.Time)
}

// Feeder keeps the analytics store current from the ledger. See the
// package comment. Run it in one goroutine per process; replicas may each
// run one, the cursor letting one of them count each event.
type Feeder struct {
	opts FeederOptions
	db   *store.DB

	mu    sync.Mutex // guards units
	units map[int64]*unitInfo
}

// unitInfo is what a fact needs of its unit.
type unitInfo struct {
	code    string
	country string
	loc     *time.Location
	cal     *calendar.Calendar
}

// NewFeeder returns a Feeder with opts.
func NewFeeder(opts FeederOptions) (*Feeder, error) {
	if opts.DB == nil || opts.Ledger == nil {
		return nil, errors.New("analytics: a feeder needs the database and the ledger")
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	if opts.Sweep <= 0 {
		opts.Sweep = DefaultSweep
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Feeder{opts: opts, db: opts.DB, units: map[int64]*unitInfo{}}, nil
}

// Run feeds the store until ctx ends, then returns nil: it catches up
// from the cursor (the whole ledger on a fresh store), then follows the
// ledger as events are integrated, and sweeps periodically. Failures are
// logged and retried.
func (f *Feeder) Run(ctx context.Context) error {
	sweep := time.NewTicker(f.opts.Sweep)
	defer sweep.Stop()
	poll := time.NewTimer(0)
	defer poll.Stop()
	swept := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sweep.C:
			swept = false
		case <-poll.C:
		}
		n, err := f.Step(ctx)
		if err != nil && ctx.Err() == nil {
			f.opts.Logger.Warn("analytics: feed the store from the ledger (retried)", "err", err)
		}
		if !swept && n < feedBatch {
			if err := f.Sweep(ctx); err != nil && ctx.Err() == nil {
				f.opts.Logger.Warn("analytics: sweep (retried)", "err", err)
			} else {
				swept = true
			}
		}
		next := f.opts.Poll
		if n == feedBatch {
			next = 0 // more are waiting
		}
		poll.Reset(next)
	}
}

// CatchUp feeds every event the ledger holds past the cursor and sweeps:
// the backfill of a store that was not running.
func (f *Feeder) CatchUp(ctx context.Context) error {
	for {
		n, err := f.Step(ctx)
		if err != nil {
			return err
		}
		if n < feedBatch {
			return f.Sweep(ctx)
		}
	}
}

// Rebuild empties the analytics store and feeds it again from the whole
// ledger and the swept tables (`chancery analytics backfill --rebuild`).
// Facts of events archived out of the database are read back from the
// archive.
func (f *Feeder) Rebuild(ctx context.Context) error {
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		for _, q := range []string{"DELETE FROM analytics_facts", "DELETE FROM analytics_cursor", "DELETE FROM analytics_overdue"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("analytics: empty the store: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return f.CatchUp(ctx)
}

// errMoved says another feeder moved the cursor first: this round's work
// is dropped and the next round starts from where that one stopped.
var errMoved = errors.New("analytics: the cursor moved")

// Step feeds one round: up to feedBatch events from the cursor on, in
// one transaction with the cursor's move. It returns how many events it
// read.
func (f *Feeder) Step(ctx context.Context) (int, error) {
	from, err := cursor(ctx, f.db, ledgerSource)
	if err != nil {
		return 0, err
	}
	events, err := f.opts.Ledger.EventsFrom(ctx, from, feedBatch)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	err = f.db.InTx(ctx, func(tx *store.Tx) error {
		acc := facts{}
		for i := range events {
			if err := f.fact(ctx, tx, &events[i], acc); err != nil {
				return err
			}
		}
		if err := acc.add(ctx, tx); err != nil {
			return err
		}
		return moveCursor(ctx, tx, ledgerSource, from, events[len(events)-1].Seq+1, f.now())
	})
	if errors.Is(err, errMoved) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if f.opts.applied != nil {
		f.opts.applied(events, time.Now())
	}
	return len(events), nil
}

func (f *Feeder) now() time.Time { return f.opts.Now().UTC().Truncate(time.Microsecond) }

// factKey is one row of analytics_facts.
type factKey struct {
	day       string
	unit      int64
	procedure string
	country   string
	measure   Measure
	working   bool
}

// facts accumulates the counts of a round.
type facts map[factKey]int64

// count adds one to measure m of unit u's day of t.
func (acc facts) count(u *unitInfo, unit int64, t time.Time, procedure string, m Measure, n int64) {
	day := calendar.DateOf(t.In(u.loc))
	acc[factKey{day: day.String(), unit: unit, procedure: procedure, country: u.country, measure: m, working: u.cal.IsWorkingDay(day)}] += n
}

// add adds the counts to the store (replace: set them instead).
func (acc facts) add(ctx context.Context, tx *store.Tx) error { return acc.write(ctx, tx, false) }

func (acc facts) write(ctx context.Context, tx *store.Tx, replace bool) error {
	set := "value = analytics_facts.value + excluded.value"
	if replace {
		set = "value = excluded.value"
	}
	q := tx.Rebind(`INSERT INTO analytics_facts (day, unit_id, procedure_code, country, measure, working_day, value)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (day, unit_id, procedure_code, country, measure) DO UPDATE SET ` + set)
	for k, v := range acc {
		if _, err := tx.ExecContext(ctx, q, k.day, k.unit, k.procedure, k.country, string(k.measure), b2i(k.working), v); err != nil {
			return fmt.Errorf("analytics: add %s facts of %s: %w", k.measure, k.day, err)
		}
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// resolutions are the dossier actions that decide a dossier.
var resolutions = map[string]bool{"dossier.approve": true, "dossier.refuse": true, "dossier.refuse-intake": true, "dossier.stop": true}

// fact adds the facts of event e, if it makes any, to acc. The unit,
// procedure and lateness are read from the item's row: the event's unit
// is the actor's, which may not be the item's.
func (f *Feeder) fact(ctx context.Context, tx *store.Tx, e *audit.Event, acc facts) error {
	if e.Outcome != audit.OK && e.Outcome != audit.Allowed {
		return nil
	}
	switch {
	case e.Action == "dossier.submit" || resolutions[e.Action]:
		var (
			unit      int64
			procedure string
			late      int64
			due       int64
		)
		err := tx.QueryRowContext(ctx, tx.Rebind("SELECT unit_id, procedure_code, late, due_us FROM dossiers WHERE code = ?"), e.ResourceID).
			Scan(&unit, &procedure, &late, &due)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // erased since
		}
		if err != nil {
			return fmt.Errorf("analytics: read dossier %s: %w", e.ResourceID, err)
		}
		u, err := f.unit(ctx, tx, unit)
		if err != nil {
			return err
		}
		if e.Action == "dossier.submit" {
			acc.count(u, unit, e.Time, procedure, DossiersReceived, 1)
			return nil
		}
		acc.count(u, unit, e.Time, procedure, DossiersResolved, 1)
		if late != 0 {
			acc.count(u, unit, e.Time, procedure, DossiersResolvedLate, 1)
			return f.overdue(ctx, tx, acc, u, unit, e.ResourceID, procedure, due)
		}
	case e.Action == "document.register" || e.Action == "document.issue":
		m := DocumentsIn
		if e.Action == "document.issue" {
			m = DocumentsOut
		}
		return f.itemFact(ctx, tx, acc, e, "SELECT unit_id FROM record_documents WHERE id = ?", m)
	case e.Action == "task.assign":
		return f.itemFact(ctx, tx, acc, e, "SELECT lead_unit FROM insight_tasks WHERE id = ?", TasksAssigned)
	case e.Action == "task.complete":
		return f.itemFact(ctx, tx, acc, e, "SELECT lead_unit FROM insight_tasks WHERE id = ?", TasksCompleted)
	case e.Action == "report.submit":
		return f.itemFact(ctx, tx, acc, e, "SELECT unit_id FROM insight_submissions WHERE id = ?", ReportsSubmitted)
	}
	return nil
}

// itemFact counts measure m for the unit query reads of e's resource.
func (f *Feeder) itemFact(ctx context.Context, tx *store.Tx, acc facts, e *audit.Event, query string, m Measure) error {
	id, err := strconv.ParseInt(e.ResourceID, 10, 64)
	if err != nil {
		return nil // not an item of this kind
	}
	var unit int64
	err = tx.QueryRowContext(ctx, tx.Rebind(query), id).Scan(&unit)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // erased since
	}
	if err != nil {
		return fmt.Errorf("analytics: read the unit of %s %d: %w", e.ResourceType, id, err)
	}
	u, err := f.unit(ctx, tx, unit)
	if err != nil {
		return err
	}
	acc.count(u, unit, e.Time, "", m, 1)
	return nil
}

// overdue counts dossier code as overdue on the day of its deadline,
// once.
func (f *Feeder) overdue(ctx context.Context, tx *store.Tx, acc facts, u *unitInfo, unit int64, code, procedure string, due int64) error {
	if due <= 0 {
		return nil
	}
	at := store.FromMicros(due)
	day := calendar.DateOf(at.In(u.loc)).String()
	res, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO analytics_overdue (dossier_code, day) VALUES (?, ?) ON CONFLICT (dossier_code) DO NOTHING"), code, day)
	if err != nil {
		return fmt.Errorf("analytics: note dossier %s overdue: %w", code, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err // counted before
	}
	acc.count(u, unit, at, procedure, DossiersOverdue, 1)
	return nil
}

// unit returns unit id's info, read once; unit 0 or a unit gone is
// counted in the ministry's zone and calendar.
func (f *Feeder) unit(ctx context.Context, q store.Queryer, id int64) (*unitInfo, error) {
	f.mu.Lock()
	u, ok := f.units[id]
	f.mu.Unlock()
	if ok {
		return u, nil
	}
	u = &unitInfo{loc: web.MinistryZone(), cal: calendar.Vietnam()}
	var kind, zone string
	err := q.QueryRowContext(ctx, q.Rebind("SELECT code, kind, country, timezone FROM units WHERE id = ?"), id).Scan(&u.code, &kind, &u.country, &zone)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("analytics: read unit %d: %w", id, err)
	default:
		u.country = strings.ToUpper(u.country)
		if loc, err := time.LoadLocation(zone); err == nil {
			u.loc = loc
		}
		if identity.UnitKind(kind).Mission() {
			if cal, _, err := calendar.ForMissionOrFallback(u.country); err == nil {
				u.cal = cal
			}
		}
	}
	f.mu.Lock()
	f.units[id] = u
	f.mu.Unlock()
	return u, nil
}

// cursor returns source's cursor: 0 before the first round.
func cursor(ctx context.Context, q store.Queryer, source string) (uint64, error) {
	var next int64
	err := q.QueryRowContext(ctx, q.Rebind("SELECT next_seq FROM analytics_cursor WHERE source = ?"), source).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("analytics: read the %s cursor: %w", source, err)
	}
	return uint64(next), nil
}

// moveCursor moves source's cursor from from to next inside tx; it
// returns errMoved if another feeder moved it first.
func moveCursor(ctx context.Context, tx *store.Tx, source string, from, next uint64, now time.Time) error {
	var res sql.Result
	var err error
	if from == 0 {
		res, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO analytics_cursor (source, next_seq, updated_us) VALUES (?, ?, ?)
			ON CONFLICT (source) DO UPDATE SET next_seq = excluded.next_seq, updated_us = excluded.updated_us
			WHERE analytics_cursor.next_seq = 0`), source, int64(next), store.Micros(now))
	} else {
		res, err = tx.ExecContext(ctx, tx.Rebind("UPDATE analytics_cursor SET next_seq = ?, updated_us = ? WHERE source = ? AND next_seq = ?"),
			int64(next), store.Micros(now), source, int64(from))
	}
	if err != nil {
		return fmt.Errorf("analytics: move the %s cursor: %w", source, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("analytics: move the %s cursor: %w", source, err)
	} else if n != 1 {
		return errMoved
	}
	return nil
}
