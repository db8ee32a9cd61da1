package audit

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// Search limits.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 1000
)

// Query selects events for Search. Zero fields match every event.
type Query struct {
	ActorKind    ActorKind
	ActorID      string
	UnitID       int64
	Action       string
	ResourceType string
	ResourceID   string
	Outcome      Outcome
	// From and To bound the events' times: From inclusive, To exclusive.
	From, To time.Time
	// Before, if not zero, returns only events with ids below it: pass
	// the ID of the last event of a page to get the next one.
	Before int64
	// MaxLevel, if not nil, returns only events classified at or below
	// it: the highest level the reader may see, so that a page is filled
	// with events the reader may read (see Handler's search). Each event
	// is still checked with authz.Decide before it is shown.
	MaxLevel *authz.Level
	// Limit is the most events returned. If zero, DefaultSearchLimit is
	// used; it may not exceed MaxSearchLimit.
	Limit int
}

// Search returns the integrated events that match q, newest first (by
// provisional id, which follows commit order). It returns an error
// wrapping errs.ErrInvalid for a Limit over MaxSearchLimit or a time range
// that ends before it starts.
func (l *Ledger) Search(ctx context.Context, q Query) ([]Event, error) {
	limit := q.Limit
	switch {
	case limit == 0:
		limit = DefaultSearchLimit
	case limit < 0 || limit > MaxSearchLimit:
		return nil, errs.Invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxSearchLimit))
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return nil, errs.Invalid("to", "the end of the time range must be after its start")
	}
	where := "seq IS NOT NULL"
	var args []any
	add := func(cond string, arg any) {
		where += " AND " + cond
		args = append(args, arg)
	}
	if q.ActorKind != "" {
		add("actor_kind = ?", string(q.ActorKind))
	}
	if q.ActorID != "" {
		add("actor_id = ?", q.ActorID)
	}
	if q.UnitID != 0 {
		add("unit_id = ?", q.UnitID)
	}
	if q.Action != "" {
		add("action = ?", q.Action)
	}
	if q.ResourceType != "" {
		add("resource_type = ?", q.ResourceType)
	}
	if q.ResourceID != "" {
		add("resource_id = ?", q.ResourceID)
	}
	if q.Outcome != "" {
		add("outcome = ?", string(q.Outcome))
	}
	if !q.From.IsZero() {
		add("time_us >= ?", q.From.UnixMicro())
	}
	if !q.To.IsZero() {
		add("time_us < ?", q.To.UnixMicro())
	}
	if q.MaxLevel != nil {
		add("level <= ?", int64(*q.MaxLevel))
	}
	if q.Before != 0 {
		add("id < ?", q.Before)
	}
	args = append(args, limit)
	return selectEvents(ctx, l.db, where, args)
}
