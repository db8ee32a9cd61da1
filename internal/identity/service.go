package identity

import (
	"context"
	"fmt"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/web"
)

// Service is the directory: units with their history, staff and citizens.
// Every write checks the rules stated on its method and runs in one
// transaction with its audit event, so nothing is ever half-written or
// unrecorded. It is safe for concurrent use.
//
// A write needs an audit origin on its context (see audit.WithOrigin)
// naming who acts, and the recorder given to NewService; without either
// it fails and changes nothing (see audit.Writer for the rule).
type Service struct {
	db      *store.DB
	now     func() time.Time
	rec     audit.Writer
	onMerge []MergeHook
	// onCreate are run inside every unit's creation (OnCreate).
	onCreate []CreateHook
}

// MergeHook is called inside the transaction of a merger of unit from into
// unit into, after the directory's own changes: a capability moves what
// the absorbed unit held (its open dossiers, say). An error rolls the
// whole merger back.
type MergeHook func(ctx context.Context, tx *store.Tx, from, into Unit) error

// OnMerge adds a hook every merger runs. Call it while wiring the
// service, before it is used: it is not safe to call concurrently with
// other methods.
func (s *Service) OnMerge(h MergeHook) { s.onMerge = append(s.onMerge, h) }

// CreateHook is called inside the transaction of a unit's creation, after
// the directory's own changes: a capability checks what it needs of the
// new unit (a mission's working-day calendar, say) and records warnings
// with it. An error rolls the creation back.
type CreateHook func(ctx context.Context, tx *store.Tx, u Unit) error

// OnCreate adds a hook every unit's creation runs. Call it while wiring
// the service, as OnMerge.
func (s *Service) OnCreate(h CreateHook) { s.onCreate = append(s.onCreate, h) }

// NewService returns the directory kept in db, recording every change
// with rec (the audit ledger) in the change's own transaction (DESIGN.md
// §6). now is the clock; if nil, store.Now is used. A nil rec gives a
// directory that can be read but refuses every change, so one wired
// without the ledger cannot change anything unrecorded.
func NewService(db *store.DB, rec audit.Recorder, now func() time.Time) *Service {
	if now == nil {
		now = store.Now
	}
	return &Service{db: db, now: now, rec: audit.NewWriter("identity", rec)}
}

// clock returns the current time at the precision both dialects store.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Defaults and limits of list pages.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// pageLimit applies DefaultLimit and MaxLimit to a requested page size.
func pageLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, errs.Invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	case n == 0:
		return DefaultLimit, nil
	case n > MaxLimit:
		return MaxLimit, nil
	}
	return n, nil
}

// cleanQuery checks a search query: plain text of reasonable length.
func cleanQuery(q string) (string, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return "", nil
	}
	if _, err := cleanName("q", q); err != nil {
		return "", err
	}
	return q, nil
}

// page trims a list fetched with one extra row to limit and returns the
// cursor of the next page, zero when the extra row was not there.
func page[T any](items []T, limit int, id func(T) int64) ([]T, int64, error) {
	if len(items) <= limit {
		return items, 0, nil
	}
	items = items[:limit]
	return items, id(items[limit-1]), nil
}

// checkVersion compares the version a change is based on with the stored
// one.
func checkVersion(based, stored int, stale error) error {
	if based == 0 {
		return errs.Invalid("version", "is required: send the version you read, so a change made meanwhile is not overwritten")
	}
	if based != stored {
		return stale
	}
	return nil
}

// describe says what changes changed, for a unit's history.
func describe(changes []fieldChange) string {
	parts := make([]string, len(changes))
	for i, c := range changes {
		parts[i] = fmt.Sprintf("%s: %q → %q", c.field, c.old, c.new)
	}
	return strings.Join(parts, "; ")
}

// effectiveAt checks the effective time of a restructuring and returns
// the current time and the effective one. Zero means now, and so does any
// time today: effective dates are days, and a change dated today takes
// effect the moment it is made. An earlier day is applied now and recorded
// with that date; a future one is refused, since changes cannot be
// scheduled yet.
func (s *Service) effectiveAt(t time.Time) (time.Time, time.Time, error) {
	now := s.clock()
	if t.IsZero() || sameDay(t, now) {
		return now, now, nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	if t.After(now) {
		return now, t, errs.Invalid("effective", fmt.Sprintf("%s is in the future; scheduling a restructuring is not supported yet, so apply it on or after that date", t.In(web.MinistryZone()).Format(time.DateOnly)))
	}
	return now, t, nil
}

// sameDay reports whether a and b fall on the same day in web.MinistryZone().
func sameDay(a, b time.Time) bool {
	ay, am, ad := a.In(web.MinistryZone()).Date()
	by, bm, bd := b.In(web.MinistryZone()).Date()
	return ay == by && am == bm && ad == bd
}

// periodEnd returns when a period that began at since ends for a change
// effective at effective. A change dated the day the period began ends it
// at its start (the period was void); an earlier one is refused, since the
// period would end before it began. what names the period's start.
func periodEnd(effective, since time.Time, what string) (time.Time, error) {
	switch {
	case !effective.Before(since):
		return effective, nil
	case sameDay(effective, since):
		return since, nil
	}
	return time.Time{}, errs.Invalid("effective", fmt.Sprintf("is before %s (%s); choose a date on or after it", what, since.In(web.MinistryZone()).Format(time.DateOnly)))
}

// cleanPage checks what every list filter shares: the cursor, the search
// text and the page size (defaulted and capped).
func cleanPage(after int64, query string, limit int) (string, int, error) {
	if after < 0 {
		return "", 0, errs.Invalid("after", "is not a cursor this service returned")
	}
	query, err := cleanQuery(query)
	if err != nil {
		return "", 0, err
	}
	limit, err = pageLimit(limit)
	return query, limit, err
}
