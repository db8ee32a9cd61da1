package procedures

import (
	"context"
	"fmt"
	"strings"
	"time"

	"chancery/internal/errs"
	"chancery/internal/store"
)

// IndexQuery selects the dossiers the indices are computed from: those
// submitted in [From, To) to the given units.
type IndexQuery struct {
	// UnitIDs are the units whose dossiers count. Nil means the whole
	// ministry; an empty, non-nil slice means no unit at all, so a caller
	// who filters a list of units down to nothing gets nothing, never
	// everything.
	UnitIDs []int64
	From    time.Time
	To      time.Time
}

// validate returns an errs.ErrInvalid error if the period is empty.
func (iq IndexQuery) validate() error {
	if !iq.From.Before(iq.To) {
		return fmt.Errorf("%w: index period from %s to %s is empty: the start must be before the end",
			errs.ErrInvalid, iq.From.Format(time.RFC3339), iq.To.Format(time.RFC3339))
	}
	return nil
}

// MaxTrendMonths is the longest trend LoadIndexTrend draws.
const MaxTrendMonths = 60

// indexFinished is the condition for a dossier counted in Finished.
var indexFinished = fmt.Sprintf("received_us > 0 AND finished_us > 0 AND status IN (%d, %d)", int(StatusCompleted), int(StatusReturned))

// indexPaid is the condition for a dossier counted in Paid.
const indexPaid = "fee_amount > 0 AND paid <> 0"

// indexAggregates are the sums that fill IndexCounts, each a CASE over one
// dossier; they nest as IndexCounts documents (OnTime repeats Finished's
// condition, and so on).
var indexAggregates = []struct {
	when, then string // then is "1" for a count
	field      func(*IndexCounts) *int64
}{
	{"1 = 1", "1", func(c *IndexCounts) *int64 { return &c.Submitted }},
	{fmt.Sprintf("channel = %d", int(ChannelOnline)), "1", func(c *IndexCounts) *int64 { return &c.Online }},
	{"national_portal_status = status", "1", func(c *IndexCounts) *int64 { return &c.Synced }},
	{"prefilled <> 0", "1", func(c *IndexCounts) *int64 { return &c.Prefilled }},
	{"received_us > 0", "1", func(c *IndexCounts) *int64 { return &c.Received }},
	{"received_us > 0 AND digitised <> 0", "1", func(c *IndexCounts) *int64 { return &c.Digitised }},
	{indexFinished, "1", func(c *IndexCounts) *int64 { return &c.Finished }},
	{indexFinished + " AND late = 0", "1", func(c *IndexCounts) *int64 { return &c.OnTime }},
	{indexFinished + " AND result_blob <> ''", "1", func(c *IndexCounts) *int64 { return &c.ElectronicResults }},
	{indexFinished, "finished_us - received_us", func(c *IndexCounts) *int64 { return &c.ProcessingMicros }},
	{indexPaid, "1", func(c *IndexCounts) *int64 { return &c.Paid }},
	{indexPaid + " AND paid_online <> 0", "1", func(c *IndexCounts) *int64 { return &c.PaidOnline }},
	{"rating BETWEEN 1 AND 5", "1", func(c *IndexCounts) *int64 { return &c.Rated }},
	{"rating BETWEEN 1 AND 5", "rating", func(c *IndexCounts) *int64 { return &c.RatingSum }},
	{"rating BETWEEN 4 AND 5", "1", func(c *IndexCounts) *int64 { return &c.Satisfied }},
}

// indexSelect is the select list of the aggregates. The CAST keeps the
// type an integer on PostgreSQL, where the SUM of a bigint is a numeric.
var indexSelect = func() string {
	cols := make([]string, len(indexAggregates))
	for i, a := range indexAggregates {
		cols[i] = fmt.Sprintf("CAST(COALESCE(SUM(CASE WHEN %s THEN %s ELSE 0 END), 0) AS BIGINT)", a.when, a.then)
	}
	return strings.Join(cols, ",\n\t")
}()

// LoadIndexCounts returns the aggregates of the dossiers iq selects, in
// one query. It returns an errs.ErrInvalid error if From is not before
// To. Access is the caller's to check: it counts whatever units it is
// given.
func LoadIndexCounts(ctx context.Context, q store.Queryer, iq IndexQuery) (IndexCounts, error) {
	if err := iq.validate(); err != nil {
		return IndexCounts{}, err
	}
	counts, err := loadIndexBuckets(ctx, q, iq.UnitIDs, []time.Time{iq.From, iq.To})
	if err != nil {
		return IndexCounts{}, err
	}
	return counts[0], nil
}

// LoadIndexTrend returns the last months calendar months in loc, oldest
// first and ending with the one now falls in (so far), each with its
// counts and indices, in one query. unitIDs selects the units as
// IndexQuery.UnitIDs does. It returns an errs.ErrInvalid error if months
// is not between 1 and MaxTrendMonths or loc is nil.
func LoadIndexTrend(ctx context.Context, q store.Queryer, unitIDs []int64, months int, now time.Time, loc *time.Location) ([]MonthIndices, error) {
	if months < 1 || months > MaxTrendMonths {
		return nil, fmt.Errorf("%w: a trend covers 1 to %d months, not %d", errs.ErrInvalid, MaxTrendMonths, months)
	}
	if loc == nil {
		return nil, fmt.Errorf("%w: a trend needs the time zone its months are counted in", errs.ErrInvalid)
	}
	local := now.In(loc)
	first := time.Date(local.Year(), local.Month()-time.Month(months-1), 1, 0, 0, 0, 0, loc)
	bounds := make([]time.Time, months+1)
	for i := range bounds {
		bounds[i] = first.AddDate(0, i, 0)
	}
	counts, err := loadIndexBuckets(ctx, q, unitIDs, bounds)
	if err != nil {
		return nil, err
	}
	out := make([]MonthIndices, months)
	for i, c := range counts {
		out[i] = MonthIndices{Month: bounds[i], Counts: c, Indices: Score(c)}
	}
	return out, nil
}

// loadIndexBuckets returns the aggregates of the dossiers of unitIDs
// submitted in each period between consecutive bounds (ascending, at
// least two), with one scan: each dossier is put in its period by a CASE,
// and the periods are the groups.
func loadIndexBuckets(ctx context.Context, q store.Queryer, unitIDs []int64, bounds []time.Time) ([]IndexCounts, error) {
	out := make([]IndexCounts, len(bounds)-1)
	var args []any
	bucket := "0"
	if len(out) > 1 {
		var b strings.Builder
		b.WriteString("CASE")
		for i, t := range bounds[1 : len(bounds)-1] {
			fmt.Fprintf(&b, " WHEN submitted_us < ? THEN %d", i)
			args = append(args, t.UnixMicro())
		}
		fmt.Fprintf(&b, " ELSE %d END", len(out)-1)
		bucket = b.String()
	}
	byBucket, err := loadIndexGroups(ctx, q, bucket, args, unitIDs, bounds[0], bounds[len(bounds)-1])
	if err != nil {
		return nil, err
	}
	for i, c := range byBucket {
		out[i] = c
	}
	return out, nil
}

// MaxIndexPeriods is the most periods LoadIndexCountsByUnitAndPeriod
// splits a span into.
const MaxIndexPeriods = 255

// LoadIndexCountsByUnitAndPeriod returns the aggregates of each unit's
// dossiers (every unit's, when unitIDs is nil; as IndexQuery.UnitIDs)
// submitted in each period between consecutive bounds (ascending, 2 to
// MaxIndexPeriods+1 of them), with one scan: the operations view's
// weekly trends per unit. A unit with no dossiers in the span is absent
// from the map; its slice has one entry per period.
func LoadIndexCountsByUnitAndPeriod(ctx context.Context, q store.Queryer, unitIDs []int64, bounds []time.Time) (map[int64][]IndexCounts, error) {
	if len(bounds) < 2 || len(bounds) > MaxIndexPeriods+1 {
		return nil, fmt.Errorf("%w: %d bounds: give 2 to %d", errs.ErrInvalid, len(bounds), MaxIndexPeriods+1)
	}
	for i := 1; i < len(bounds); i++ {
		if !bounds[i-1].Before(bounds[i]) {
			return nil, fmt.Errorf("%w: the periods' bounds must ascend", errs.ErrInvalid)
		}
	}
	periods := len(bounds) - 1
	// The group is unit_id*256 + the period, so one GROUP BY splits both.
	var b strings.Builder
	var args []any
	b.WriteString("unit_id * 256 + CASE")
	for i, t := range bounds[1 : len(bounds)-1] {
		fmt.Fprintf(&b, " WHEN submitted_us < ? THEN %d", i)
		args = append(args, t.UnixMicro())
	}
	fmt.Fprintf(&b, " ELSE %d END", periods-1)
	if periods == 1 {
		b.Reset()
		b.WriteString("unit_id * 256")
		args = nil
	}
	groups, err := loadIndexGroups(ctx, q, b.String(), args, unitIDs, bounds[0], bounds[len(bounds)-1])
	if err != nil {
		return nil, err
	}
	out := map[int64][]IndexCounts{}
	for k, c := range groups {
		unit, period := k/256, int(k%256)
		if out[unit] == nil {
			out[unit] = make([]IndexCounts, periods)
		}
		out[unit][period] = c
	}
	return out, nil
}

// LoadIndexCountsByUnit returns the aggregates of each unit iq selects
// (every unit, when iq.UnitIDs is nil), in one query. A unit with no
// dossiers in the period is absent from the map. It returns an
// errs.ErrInvalid error if From is not before To.
func LoadIndexCountsByUnit(ctx context.Context, q store.Queryer, iq IndexQuery) (map[int64]IndexCounts, error) {
	if err := iq.validate(); err != nil {
		return nil, err
	}
	return loadIndexGroups(ctx, q, "unit_id", nil, iq.UnitIDs, iq.From, iq.To)
}

// loadIndexGroups returns the aggregates of the dossiers of unitIDs
// submitted in [from, to), grouped by key, an integer SQL expression over
// a dossier whose placeholders keyArgs fill.
func loadIndexGroups(ctx context.Context, q store.Queryer, key string, keyArgs []any, unitIDs []int64, from, to time.Time) (map[int64]IndexCounts, error) {
	out := map[int64]IndexCounts{}
	if unitIDs != nil && len(unitIDs) == 0 {
		return out, nil
	}
	args := append(append([]any{}, keyArgs...), from.UnixMicro(), to.UnixMicro())
	where := "submitted_us >= ? AND submitted_us < ?"
	if unitIDs != nil {
		where += " AND unit_id IN (?" + strings.Repeat(", ?", len(unitIDs)-1) + ")"
		for _, id := range unitIDs {
			args = append(args, id)
		}
	}
	query := `SELECT grouping_key,
	` + indexSelect + `
FROM (SELECT ` + key + ` AS grouping_key, channel, status, national_portal_status, prefilled, digitised,
		received_us, finished_us, late, result_blob, fee_amount, paid, paid_online, rating
	FROM dossiers WHERE ` + where + `) selected
GROUP BY grouping_key`
	rows, err := q.QueryContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("count dossiers for the service indices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		var c IndexCounts
		dest := []any{&k}
		for _, a := range indexAggregates {
			dest = append(dest, a.field(&c))
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read the service indices' counts: %w", err)
		}
		out[k] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the service indices' counts: %w", err)
	}
	return out, nil
}
