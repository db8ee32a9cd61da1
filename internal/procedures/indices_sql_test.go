package procedures

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// indexRow is a dossier as the indices see it; indexFixture writes it
// straight into the table.
type indexRow struct {
	unit      int64
	channel   Channel
	status    Status
	submitted time.Time
	// received and finished are how long after submission; 0 is never.
	received, finished time.Duration
	late               bool
	prefilled          bool
	digitised          bool
	fee                int64
	paid, paidOnline   bool
	result             string
	rating             int
	synced             bool // the national portal was sent the current status
}

// indexFixture inserts units 1 to 3 and the rows.
func indexFixture(t *testing.T, db *store.DB, rows []indexRow) {
	t.Helper()
	ctx := context.Background()
	now := store.Now()
	for id := int64(1); id <= 3; id++ {
		_, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO units (id, code, name_vi, name_en, kind, country, timezone, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'department', 'VN', 'Asia/Ho_Chi_Minh', ?, ?)`),
			id, fmt.Sprintf("G12.%d", id), fmt.Sprintf("Đơn vị %d", id), fmt.Sprintf("Unit %d", id), now, now)
		if err != nil {
			t.Fatalf("insert unit %d: %v", id, err)
		}
	}
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	after := func(r indexRow, d time.Duration) int64 {
		if d == 0 {
			return 0
		}
		return r.submitted.Add(d).UnixMicro()
	}
	for i, r := range rows {
		reported := 0
		if r.synced {
			reported = int(r.status)
		}
		_, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO dossiers (code, procedure_code, unit_id, channel, status, lifecycle,
				applicant_name, form, prefilled, digitised, fee_amount, fee_currency, paid, paid_online,
				submitted_us, received_us, finished_us, late, result_blob, rating, national_portal_status, updated_us)
			VALUES (?, '1.900001', ?, ?, ?, '{}', 'Nguyễn Văn A', ?, ?, ?, ?, 'VND', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			fmt.Sprintf("G12.%d-260101-%06d", r.unit, i+1), r.unit, int(r.channel), int(r.status), []byte("sealed"),
			b(r.prefilled), b(r.digitised), r.fee, b(r.paid), b(r.paidOnline),
			r.submitted.UnixMicro(), after(r, r.received), after(r, r.finished), b(r.late), r.result, r.rating, reported, now.UnixMicro())
		if err != nil {
			t.Fatalf("insert dossier %d: %v", i, err)
		}
	}
}

func TestLoadIndexCountsAggregatesTheScopeAndPeriod(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	at := from.Add(10 * 24 * time.Hour)
	d := 24 * time.Hour
	rows := []indexRow{
		// Unit 1.
		{unit: 1, channel: ChannelOnline, status: StatusReturned, submitted: at, received: d, finished: 3 * d,
			prefilled: true, digitised: true, fee: 30000, paid: true, paidOnline: true, result: "signed", rating: 5, synced: true},
		{unit: 1, channel: ChannelInPerson, status: StatusCompleted, submitted: at, received: time.Minute, finished: time.Minute + 5*d,
			late: true, fee: 30000, paid: true, rating: 3},
		{unit: 1, channel: ChannelOnline, status: StatusRefusedIntake, submitted: at, prefilled: true, synced: true},
		{unit: 1, channel: ChannelPostal, status: StatusProcessing, submitted: at, received: d, digitised: true, fee: 30000, synced: true},
		// Stopped: received and ended, but not decided.
		{unit: 1, channel: ChannelOnline, status: StatusStopped, submitted: at, received: d, finished: 2 * d, rating: 4},
		// Outside the period: submitted just before it and just at its end.
		{unit: 1, channel: ChannelOnline, status: StatusReturned, submitted: from.Add(-time.Microsecond), received: d, finished: 2 * d, rating: 5, synced: true},
		{unit: 1, channel: ChannelOnline, status: StatusReturned, submitted: to, received: d, finished: 2 * d, rating: 5, synced: true},
		// Unit 2.
		{unit: 2, channel: ChannelOnline, status: StatusReturned, submitted: from, received: time.Hour, finished: time.Hour + d,
			result: "signed", rating: 2, synced: true},
		// Unit 3.
		{unit: 3, channel: ChannelInPerson, status: StatusRegistered, submitted: to.Add(-time.Microsecond)},
	}
	unit1 := IndexCounts{
		Submitted: 5, Online: 3, Synced: 3, Prefilled: 2,
		Received: 4, Digitised: 2,
		Finished: 2, OnTime: 1, ElectronicResults: 1, ProcessingMicros: (2*d + 5*d).Microseconds(),
		Paid: 2, PaidOnline: 1,
		Rated: 3, RatingSum: 12, Satisfied: 2,
	}
	units12 := IndexCounts{
		Submitted: 6, Online: 4, Synced: 4, Prefilled: 2,
		Received: 5, Digitised: 2,
		Finished: 3, OnTime: 2, ElectronicResults: 2, ProcessingMicros: (2*d + 5*d + d).Microseconds(),
		Paid: 2, PaidOnline: 1,
		Rated: 4, RatingSum: 14, Satisfied: 2,
	}
	ministry := units12
	ministry.Submitted = 7
	unit2 := IndexCounts{Submitted: 1, Online: 1, Synced: 1, Received: 1, Finished: 1, OnTime: 1, ElectronicResults: 1,
		ProcessingMicros: d.Microseconds(), Rated: 1, RatingSum: 2}
	unit3 := IndexCounts{Submitted: 1}

	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		indexFixture(t, db, rows)
		tests := []struct {
			name   string
			units  []int64
			want   IndexCounts
			byUnit map[int64]IndexCounts
		}{
			{"one unit", []int64{1}, unit1, map[int64]IndexCounts{1: unit1}},
			{"two units", []int64{1, 2}, units12, map[int64]IndexCounts{1: unit1, 2: unit2}},
			{"a unit named twice counts once", []int64{1, 1, 2}, units12, map[int64]IndexCounts{1: unit1, 2: unit2}},
			{"nil is the whole ministry", nil, ministry, map[int64]IndexCounts{1: unit1, 2: unit2, 3: unit3}},
			{"no units is nothing, not everything", []int64{}, IndexCounts{}, map[int64]IndexCounts{}},
			{"a unit without dossiers", []int64{99}, IndexCounts{}, map[int64]IndexCounts{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				iq := IndexQuery{UnitIDs: tt.units, From: from, To: to}
				got, err := LoadIndexCounts(context.Background(), db, iq)
				if err != nil {
					t.Fatal(err)
				}
				if got != tt.want {
					t.Errorf("counts\n got %+v\nwant %+v", got, tt.want)
				}
				byUnit, err := LoadIndexCountsByUnit(context.Background(), db, iq)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(byUnit, tt.byUnit) {
					t.Errorf("counts by unit\n got %+v\nwant %+v", byUnit, tt.byUnit)
				}
			})
		}
	})
}

func TestLoadIndexCountsRefusesAnEmptyPeriod(t *testing.T) {
	db := storetest.MustOpen(t, store.SQLite)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, iq := range []IndexQuery{{From: at, To: at}, {From: at, To: at.Add(-time.Hour)}} {
		if _, err := LoadIndexCounts(context.Background(), db, iq); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("LoadIndexCounts(%v to %v) = %v, want ErrInvalid", iq.From, iq.To, err)
		}
		if _, err := LoadIndexCountsByUnit(context.Background(), db, iq); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("LoadIndexCountsByUnit(%v to %v) = %v, want ErrInvalid", iq.From, iq.To, err)
		}
	}
}

func TestLoadIndexTrendCountsCalendarMonthsInTheZone(t *testing.T) {
	hanoi := time.FixedZone("ICT", 7*60*60)
	local := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, hanoi) }
	rows := []indexRow{
		{submitted: local(2025, 12, 31, 23, 59)},
		{submitted: local(2026, 1, 1, 0, 0)},
		{submitted: local(2026, 1, 31, 23, 30)},
		// 00:30 on 1 February in Hanoi is 17:30 on 31 January in UTC: a
		// February dossier here.
		{submitted: local(2026, 2, 1, 0, 30), received: time.Hour, finished: 2 * time.Hour, status: StatusCompleted},
		{submitted: local(2026, 3, 31, 23, 59)},
		{submitted: local(2026, 4, 1, 0, 0)},
	}
	for i := range rows {
		rows[i].unit, rows[i].channel = 1, ChannelOnline
		if rows[i].status == 0 {
			rows[i].status = StatusRegistered
		}
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		indexFixture(t, db, rows)
		tests := []struct {
			name      string
			now       time.Time
			months    int
			wantFirst time.Time
			submitted []int64
		}{
			{"three months to mid-March", local(2026, 3, 15, 12, 0), 3, local(2026, 1, 1, 0, 0), []int64{2, 1, 1}},
			{"across the new year", local(2026, 1, 10, 9, 0), 2, local(2025, 12, 1, 0, 0), []int64{1, 2}},
			{"the current month alone", local(2026, 2, 28, 23, 59), 1, local(2026, 2, 1, 0, 0), []int64{1}},
			// 23:00 UTC on 31 March is already April in Hanoi.
			{"now is read in the zone", time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC), 1, local(2026, 4, 1, 0, 0), []int64{1}},
			{"months without dossiers", local(2026, 7, 1, 0, 0), 3, local(2026, 5, 1, 0, 0), []int64{0, 0, 0}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := LoadIndexTrend(context.Background(), db, []int64{1}, tt.months, tt.now, hanoi)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != tt.months {
					t.Fatalf("%d months, want %d", len(got), tt.months)
				}
				for i, m := range got {
					if want := tt.wantFirst.AddDate(0, i, 0); !m.Month.Equal(want) || m.Month.Location() != hanoi {
						t.Errorf("month %d starts %v, want %v in Hanoi", i, m.Month, want)
					}
					if m.Counts.Submitted != tt.submitted[i] || m.Counts.Online != tt.submitted[i] {
						t.Errorf("month %d (%s): %d submitted, %d online; want %d of each", i, m.Month.Format("2006-01"),
							m.Counts.Submitted, m.Counts.Online, tt.submitted[i])
					}
					if !reflect.DeepEqual(m.Indices, Score(m.Counts)) {
						t.Errorf("month %d: indices are not the score of its counts", i)
					}
				}
			})
		}
		// February's one dossier was decided on time; the other months
		// have nothing decided, which shows as no data, not as 0%.
		got, err := LoadIndexTrend(context.Background(), db, nil, 2, local(2026, 2, 1, 0, 0), hanoi)
		if err != nil {
			t.Fatal(err)
		}
		if jan, feb := indicator(t, got[0].Indices, IndicatorOnTime), indicator(t, got[1].Indices, IndicatorOnTime); !jan.NoData || feb.NoData || feb.Rate != 1 {
			t.Errorf("on time: January %+v, February %+v; want no data, then 100%%", jan, feb)
		}
	})
}

func TestLoadIndexTrendRefusesBadArguments(t *testing.T) {
	db := storetest.MustOpen(t, store.SQLite)
	now := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		months int
		loc    *time.Location
	}{
		{"no months", 0, time.UTC},
		{"negative months", -1, time.UTC},
		{"too many months", MaxTrendMonths + 1, time.UTC},
		{"no zone", 3, nil},
	}
	for _, tt := range tests {
		if _, err := LoadIndexTrend(context.Background(), db, nil, tt.months, now, tt.loc); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tt.name, err)
		}
	}
	if got, err := LoadIndexTrend(context.Background(), db, nil, MaxTrendMonths, now, time.UTC); err != nil || len(got) != MaxTrendMonths {
		t.Errorf("the longest trend: %d months, %v; want %d", len(got), err, MaxTrendMonths)
	}
}

// TestLoadIndexCountsByUnitAndPeriodSplitsUnitsAndWeeks pins the
// operations view's weekly counts: each unit's dossiers fall in the week
// they were submitted in, the bounds' ends excluded, and a unit's weeks
// add up to its counts over the span.
func TestLoadIndexCountsByUnitAndPeriodSplitsUnitsAndWeeks(t *testing.T) {
	week := 7 * 24 * time.Hour
	from := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	bounds := []time.Time{from, from.Add(week), from.Add(2 * week), from.Add(3 * week)}
	d := 24 * time.Hour
	rows := []indexRow{
		{unit: 1, channel: ChannelOnline, status: StatusReturned, submitted: from, received: d, finished: 2 * d},
		{unit: 1, channel: ChannelOnline, status: StatusCompleted, submitted: from.Add(week - time.Microsecond), received: d, finished: 9 * d, late: true},
		{unit: 1, channel: ChannelInPerson, status: StatusProcessing, submitted: from.Add(2 * week), received: d},
		{unit: 2, channel: ChannelOnline, status: StatusRegistered, submitted: from.Add(week)},
		// Outside the span.
		{unit: 2, channel: ChannelOnline, status: StatusRegistered, submitted: from.Add(-time.Microsecond)},
		{unit: 3, channel: ChannelOnline, status: StatusRegistered, submitted: from.Add(3 * week)},
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		indexFixture(t, db, rows)
		ctx := context.Background()
		got, err := LoadIndexCountsByUnitAndPeriod(ctx, db, nil, bounds)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64][]IndexCounts{
			1: {
				{Submitted: 2, Online: 2, Received: 2, Finished: 2, OnTime: 1, ProcessingMicros: (d + 8*d).Microseconds()},
				{},
				{Submitted: 1, Received: 1},
			},
			2: {{}, {Submitted: 1, Online: 1}, {}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("counts\n got %+v\nwant %+v", got, want)
		}
		var sum IndexCounts
		for _, c := range got[1] {
			sum.Add(c)
		}
		whole, err := LoadIndexCounts(ctx, db, IndexQuery{UnitIDs: []int64{1}, From: bounds[0], To: bounds[3]})
		if err != nil {
			t.Fatal(err)
		}
		if sum != whole {
			t.Errorf("the weeks add up to %+v, the span counts %+v", sum, whole)
		}
		only2, err := LoadIndexCountsByUnitAndPeriod(ctx, db, []int64{2}, bounds[:2])
		if err != nil || len(only2) != 0 {
			t.Errorf("unit 2 in the first week = %v, %v; want none", only2, err)
		}
		for _, bad := range [][]time.Time{bounds[:1], {bounds[1], bounds[0]}} {
			if _, err := LoadIndexCountsByUnitAndPeriod(ctx, db, nil, bad); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("bounds %v: %v, want ErrInvalid", bad, err)
			}
		}
	})
}
