package operations

import (
	"context"
	"time"

	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/procedures"
)

// Weeks is how many weeks the view's figures and trends cover: a
// quarter, the last of them the current week so far.
const Weeks = 13

// Levels are counts per classification level, indexed by authz.Level:
// figures counted from classified items are shown only to readers
// cleared for the level (authz decides, per level).
type Levels [authz.TopSecret + 1]int64

// Figures are every unit's raw figures, as a Source reads them. Units
// without any figure are absent from the maps.
type Figures struct {
	// Bounds are the weeks' bounds, Weeks+1 instants, Mondays at
	// midnight in the ministry's zone (the last the coming Monday).
	Bounds []time.Time
	// Dossiers are the Decision 766 counts of the dossiers submitted in
	// each week, per unit.
	Dossiers map[int64][]procedures.IndexCounts
	// Overdue are each unit's dossiers not yet decided whose deadline has
	// passed.
	Overdue map[int64]int64
	// Documents are the Records documents each unit created or registered
	// in each week, by level.
	Documents map[int64][]Levels
	// Tasks are the leadership tasks each unit leads, by level.
	TasksOpen, TasksOverdue map[int64]Levels
	// Reports are the report rounds asking each unit for a report it has
	// not submitted (or that was returned), and those of them past due.
	ReportsOutstanding, ReportsLate map[int64]int64
	// Alerts are each unit's open security alerts (new or under
	// investigation), by level.
	Alerts map[int64]Levels
	// Exchange is the messages each unit's node sent and received
	// through the exchange in each week (from the analytics store's
	// facts; nil when the source has none).
	Exchange map[int64][]int64
}

// Source reads the figures. The view is built from one call per
// request; an implementation counts every unit at once.
type Source interface {
	// Figures returns every unit's figures for the weeks between bounds
	// (ascending, Weeks+1 of them), overdue as at now.
	Figures(ctx context.Context, bounds []time.Time, now time.Time) (*Figures, error)
}

// Link is the state of the exchange link to one mission's node, as
// headquarters sees it.
type Link struct {
	// Member is the mission's agency code (the exchange member).
	Member string
	// Known is false when the node cannot see its links.
	Known, Connected bool
	// Since is when the link last came up or went down.
	Since time.Time
	// Backlog is what waits for the mission: batches queued in the
	// stream and messages not yet handed to it.
	Backlog int64
}

// Links reads the exchange's links; nil in Options means the node has
// none (a mission node, or the exchange not running).
type Links interface {
	Links(ctx context.Context) ([]Link, error)
}

// Directory is what the view needs of the unit directory.
type Directory interface {
	AllUnits(ctx context.Context) ([]identity.Unit, error)
}
