package procedures

import (
	"math"
	"testing"
)

const day = int64(24 * 60 * 60 * 1_000_000) // microseconds

// busyUnit has data for every indicator; its expected scores below are
// worked out by hand from the weights of Decision 766 as this system
// reads them.
var busyUnit = IndexCounts{
	Submitted: 10, Online: 6, Synced: 9, Prefilled: 4,
	Received: 8, Digitised: 6,
	Finished: 5, OnTime: 4, ElectronicResults: 5, ProcessingMicros: 15 * day,
	Paid: 4, PaidOnline: 3,
	Rated: 4, RatingSum: 16, Satisfied: 3,
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestScore(t *testing.T) {
	noFeesNoRatings := busyUnit
	noFeesNoRatings.Paid, noFeesNoRatings.PaidOnline = 0, 0
	noFeesNoRatings.Rated, noFeesNoRatings.RatingSum, noFeesNoRatings.Satisfied = 0, 0, 0

	nothingDecided := busyUnit
	nothingDecided.Finished, nothingDecided.OnTime, nothingDecided.ElectronicResults, nothingDecided.ProcessingMicros = 0, 0, 0, 0
	nothingDecided.Paid, nothingDecided.PaidOnline = 0, 0
	nothingDecided.Rated, nothingDecided.RatingSum, nothingDecided.Satisfied = 0, 0, 0

	perfect := IndexCounts{Submitted: 3, Online: 3, Synced: 3, Prefilled: 3, Received: 3, Digitised: 3,
		Finished: 3, OnTime: 3, ElectronicResults: 3, Paid: 3, PaidOnline: 3, Rated: 3, RatingSum: 15, Satisfied: 3}
	worst := IndexCounts{Submitted: 3, Received: 3, Finished: 3, Paid: 3, Rated: 3, RatingSum: 3}

	tests := []struct {
		name     string
		counts   IndexCounts
		groups   map[IndexGroup]float64 // points; absent = no data
		total    float64
		coverage float64
		avgDays  float64 // -1 = no data
		avgRate  float64 // -1 = no data
	}{
		{
			name:   "every group has data",
			counts: busyUnit,
			groups: map[IndexGroup]float64{
				GroupTransparency:  18 * 0.9,  // 9 of 10 synced: 16.2
				GroupProgress:      20 * 0.8,  // 4 of 5 on time: 16
				GroupOnlineService: 12 * 0.6,  // 6 of 10 online: 7.2
				GroupOnlinePayment: 10 * 0.75, // 3 of 4 paid online: 7.5
				GroupSatisfaction:  18 * 0.75, // 3 of 4 satisfied: 13.5
				// 5/5 electronic × 8 + 6/8 digitised × 8 + 4/10 reused × 6
				GroupDigitisation: 8 + 6 + 2.4,
			},
			total:    16.2 + 16 + 7.2 + 7.5 + 13.5 + 16.4, // 76.8
			coverage: 100,
			avgDays:  3, // 15 days over 5 dossiers
			avgRate:  4, // 16 over 4 ratings
		},
		{
			name:   "no fees and no ratings: the total rests on the other groups",
			counts: noFeesNoRatings,
			groups: map[IndexGroup]float64{
				GroupTransparency: 16.2, GroupProgress: 16, GroupOnlineService: 7.2, GroupDigitisation: 16.4,
			},
			total:    (16.2 + 16 + 7.2 + 16.4) * 100 / 72, // 77.5
			coverage: 72,
			avgDays:  3,
			avgRate:  -1,
		},
		{
			name:   "nothing decided yet: progress has no data and digitisation rests on its other indicators",
			counts: nothingDecided,
			groups: map[IndexGroup]float64{
				GroupTransparency: 16.2, GroupOnlineService: 7.2,
				// (6/8 × 8 + 4/10 × 6) of 14 possible, scaled to 22
				GroupDigitisation: 22 * (6 + 2.4) / 14,
			},
			total:    (16.2 + 7.2 + 22*(6+2.4)/14) * 100 / 52,
			coverage: 52,
			avgDays:  -1,
			avgRate:  -1,
		},
		{
			name:   "full marks",
			counts: perfect,
			groups: map[IndexGroup]float64{
				GroupTransparency: 18, GroupProgress: 20, GroupOnlineService: 12, GroupOnlinePayment: 10, GroupSatisfaction: 18, GroupDigitisation: 22,
			},
			total: 100, coverage: 100, avgDays: 0, avgRate: 5,
		},
		{
			name:   "data but every indicator failed scores 0, not no data",
			counts: worst,
			groups: map[IndexGroup]float64{
				GroupTransparency: 0, GroupProgress: 0, GroupOnlineService: 0, GroupOnlinePayment: 0, GroupSatisfaction: 0, GroupDigitisation: 0,
			},
			total: 0, coverage: 100, avgDays: 0, avgRate: 1,
		},
		{
			name:    "no dossiers at all",
			counts:  IndexCounts{},
			groups:  map[IndexGroup]float64{},
			avgDays: -1, avgRate: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Score(tt.counts)
			if len(got.Groups) != 6 {
				t.Fatalf("%d groups, want the Decision's 6", len(got.Groups))
			}
			for _, g := range got.Groups {
				want, hasData := tt.groups[g.Group]
				if g.NoData == hasData {
					t.Errorf("%s: NoData = %v, want %v", g.Group, g.NoData, !hasData)
				}
				if !near(g.Points, want) {
					t.Errorf("%s: %v points, want %v", g.Group, g.Points, want)
				}
			}
			if !near(got.Total, tt.total) || !near(got.Coverage, tt.coverage) {
				t.Errorf("total %v over %v points, want %v over %v", got.Total, got.Coverage, tt.total, tt.coverage)
			}
			if got.NoData != (len(tt.groups) == 0) {
				t.Errorf("NoData = %v with %d groups with data", got.NoData, len(tt.groups))
			}
			checkMeasure(t, "average processing days", got.AvgProcessingDays, tt.avgDays)
			checkMeasure(t, "average rating", got.AvgRating, tt.avgRate)
		})
	}
}

func checkMeasure(t *testing.T, name string, m Measure, want float64) {
	t.Helper()
	if want < 0 {
		if !m.NoData || m.Value != 0 {
			t.Errorf("%s = %+v, want no data", name, m)
		}
		return
	}
	if m.NoData || !near(m.Value, want) {
		t.Errorf("%s = %+v, want %v", name, m, want)
	}
}

// A unit that has decided nothing must show "no data" on time, never 0%
// (which would shame it) nor 100% (which would flatter it).
func TestOnTimeWithoutDecidedDossiersIsNoData(t *testing.T) {
	got := Score(IndexCounts{Submitted: 4, Received: 4})
	is := indicator(t, got, IndicatorOnTime)
	if !is.NoData || is.Rate != 0 || is.Points != 0 || is.Weight != 20 {
		t.Errorf("on time with nothing decided = %+v, want no data, no points, weight 20", is)
	}
	if g := got.Groups[1]; g.Group != GroupProgress || !g.NoData {
		t.Errorf("progress group = %+v, want no data", g)
	}
}

func TestIndicatorRatesAndPoints(t *testing.T) {
	got := Score(busyUnit)
	tests := []struct {
		indicator         Indicator
		num, den          int64
		rate, points, max float64
	}{
		{IndicatorSynced, 9, 10, 0.9, 16.2, 18},
		{IndicatorOnTime, 4, 5, 0.8, 16, 20},
		{IndicatorOnline, 6, 10, 0.6, 7.2, 12},
		{IndicatorPaidOnline, 3, 4, 0.75, 7.5, 10},
		{IndicatorSatisfied, 3, 4, 0.75, 13.5, 18},
		{IndicatorElectronicResults, 5, 5, 1, 8, 8},
		{IndicatorDigitised, 6, 8, 0.75, 6, 8},
		{IndicatorReused, 4, 10, 0.4, 2.4, 6},
	}
	for _, tt := range tests {
		is := indicator(t, got, tt.indicator)
		if is.Num != tt.num || is.Den != tt.den || !near(is.Rate, tt.rate) || !near(is.Points, tt.points) || is.Weight != tt.max || is.NoData {
			t.Errorf("%s = %+v, want %d/%d = %v, %v of %v points", tt.indicator, is, tt.num, tt.den, tt.rate, tt.points, tt.max)
		}
	}
}

func indicator(t *testing.T, ix Indices, ind Indicator) IndicatorScore {
	t.Helper()
	for _, g := range ix.Groups {
		for _, is := range g.Indicators {
			if is.Indicator == ind {
				return is
			}
		}
	}
	t.Fatalf("no indicator %s", ind)
	return IndicatorScore{}
}

// The groups carry the Decision's weights in its order, adding up to 100,
// and every group and indicator has a name in the catalogue.
func TestIndexModelFollowsDecision766(t *testing.T) {
	want := []struct {
		group  IndexGroup
		weight float64
	}{
		{GroupTransparency, 18}, {GroupProgress, 20}, {GroupOnlineService, 12},
		{GroupOnlinePayment, 10}, {GroupSatisfaction, 18}, {GroupDigitisation, 22},
	}
	got := Score(IndexCounts{}).Groups
	if len(got) != len(want) {
		t.Fatalf("%d groups, want %d", len(got), len(want))
	}
	var total float64
	seen := map[Indicator]bool{}
	for i, g := range got {
		if g.Group != want[i].group || g.Weight != want[i].weight {
			t.Errorf("group %d = %s weighing %v, want %s weighing %v", i, g.Group, g.Weight, want[i].group, want[i].weight)
		}
		total += g.Weight
		if !texts.Has(g.Group.Key()) {
			t.Errorf("group %s has no name in the catalogue (%s)", g.Group, g.Group.Key())
		}
		for _, is := range g.Indicators {
			if seen[is.Indicator] {
				t.Errorf("indicator %s is in two groups", is.Indicator)
			}
			seen[is.Indicator] = true
			if !texts.Has(is.Indicator.Key()) {
				t.Errorf("indicator %s has no name in the catalogue (%s)", is.Indicator, is.Indicator.Key())
			}
		}
	}
	if total != 100 {
		t.Errorf("weights add up to %v, want 100", total)
	}
	for _, key := range []string{"procedures.indices.avg_processing_days", "procedures.indices.avg_rating", "procedures.indices.no_data", "procedures.indices.total"} {
		if !texts.Has(key) {
			t.Errorf("catalogue lacks %s", key)
		}
	}
}
