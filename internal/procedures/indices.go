package procedures

import "time"

// This file scores the service-quality indices of Decision 766/QĐ-TTg
// (2022), "the set of indices for directing, administering and assessing
// the quality of service to citizens and businesses in administrative
// procedures and public services, in real time": six groups worth 100
// points, computed from the dossiers of a unit, a mission or the whole
// ministry over a period.
//
// The groups and their weights are the Decision's; which indicators make
// up each group, and how a group's weight is split among them, are this
// system's reading of it, limited to what the dossiers record. Where an
// indicator is simplified, indexModel says how.

// IndexGroup is one of the six groups of Decision 766.
type IndexGroup string

// The groups, in the Decision's order. Online service and online payment
// together are the Decision's "online provision" (22 points).
const (
	GroupTransparency  IndexGroup = "transparency"   // công khai, minh bạch: 18 points
	GroupProgress      IndexGroup = "progress"       // tiến độ giải quyết: 20
	GroupOnlineService IndexGroup = "online_service" // dịch vụ công trực tuyến: 12
	GroupOnlinePayment IndexGroup = "online_payment" // thanh toán trực tuyến: 10
	GroupSatisfaction  IndexGroup = "satisfaction"   // mức độ hài lòng: 18
	GroupDigitisation  IndexGroup = "digitisation"   // số hóa hồ sơ: 22
)

// Key returns the i18n key of the group's name, worded as the Decision
// words it.
func (g IndexGroup) Key() string { return "procedures.indices.group." + string(g) }

// Indicator is one measured rate within a group.
type Indicator string

// The indicators.
const (
	IndicatorSynced            Indicator = "synced"             // status published on the national portal
	IndicatorOnTime            Indicator = "on_time"            // decided by the deadline
	IndicatorOnline            Indicator = "online"             // submitted online
	IndicatorPaidOnline        Indicator = "paid_online"        // fee paid online
	IndicatorSatisfied         Indicator = "satisfied"          // rated 4 or 5 of 5
	IndicatorElectronicResults Indicator = "electronic_results" // result issued electronically
	IndicatorDigitised         Indicator = "digitised"          // every required document attached electronically
	IndicatorReused            Indicator = "reused"             // form filled from the population database
)

// Key returns the i18n key of the indicator's name.
func (i Indicator) Key() string { return "procedures.indices.indicator." + string(i) }

// IndexCounts are the aggregates the indices are computed from, for the
// dossiers of one scope (a unit, several, or the ministry) submitted in
// one period. Each count is a subset of the one its comment names, which
// LoadIndexCounts guarantees; Score relies on it.
type IndexCounts struct {
	// Submitted is every dossier submitted in the period, by any channel.
	Submitted int64 `json:"submitted"`
	// Online is those of Submitted that were submitted online.
	Online int64 `json:"online"`
	// Synced is those of Submitted whose current status has been sent to
	// the National Public Service Portal.
	Synced int64 `json:"synced"`
	// Prefilled is those of Submitted whose form was filled from the
	// national population database rather than typed again.
	Prefilled int64 `json:"prefilled"`
	// Received is those of Submitted that the unit received (not refused
	// at intake, not still waiting).
	Received int64 `json:"received"`
	// Digitised is those of Received with every required document
	// attached electronically.
	Digitised int64 `json:"digitised"`
	// Finished is those of Received that were decided: completed (granted
	// or refused, either way a result) or with the result returned.
	// Stopped dossiers, most of them withdrawn by the applicant, are not
	// counted.
	Finished int64 `json:"finished"`
	// OnTime is those of Finished that were decided by their deadline.
	OnTime int64 `json:"on_time"`
	// ElectronicResults is those of Finished whose result was issued as a
	// signed electronic document.
	ElectronicResults int64 `json:"electronic_results"`
	// ProcessingMicros is the total time from receipt to decision of the
	// Finished dossiers, in microseconds of elapsed calendar time.
	ProcessingMicros int64 `json:"processing_us"`
	// Paid is those of Submitted that carried a fee and were paid.
	Paid int64 `json:"paid"`
	// PaidOnline is those of Paid that were paid online.
	PaidOnline int64 `json:"paid_online"`
	// Rated is those of Submitted that the applicant rated, 1 to 5.
	Rated int64 `json:"rated"`
	// RatingSum is the total of the ratings of Rated.
	RatingSum int64 `json:"rating_sum"`
	// Satisfied is those of Rated rated 4 or 5.
	Satisfied int64 `json:"satisfied"`
}

// Add adds o's counts to c's: the counts of two disjoint sets of
// dossiers (two weeks, two units) are the counts of their union.
func (c *IndexCounts) Add(o IndexCounts) {
	for _, a := range indexAggregates {
		*a.field(c) += *a.field(&o)
	}
}

// indicatorDef is how one indicator is measured and weighed.
type indicatorDef struct {
	indicator Indicator
	weight    float64
	ratio     func(IndexCounts) (num, den int64)
}

// indexModel is the Decision's groups with this system's indicators and
// weights; a group's weight is the sum of its indicators'.
var indexModel = []struct {
	group      IndexGroup
	indicators []indicatorDef
}{
	// The Decision also scores the publication of the procedures
	// themselves on the national database, which is a matter of the
	// catalogue, not of a unit's dossiers: here the whole group rests on
	// each dossier's status reaching the national portal.
	{GroupTransparency, []indicatorDef{
		{IndicatorSynced, 18, func(c IndexCounts) (int64, int64) { return c.Synced, c.Submitted }},
	}},
	// Judged on decided dossiers only: one still open past its deadline
	// counts once it is decided, late.
	{GroupProgress, []indicatorDef{
		{IndicatorOnTime, 20, func(c IndexCounts) (int64, int64) { return c.OnTime, c.Finished }},
	}},
	{GroupOnlineService, []indicatorDef{
		{IndicatorOnline, 12, func(c IndexCounts) (int64, int64) { return c.Online, c.Submitted }},
	}},
	// Only dossiers with a fee can be paid online; free ones are left out.
	{GroupOnlinePayment, []indicatorDef{
		{IndicatorPaidOnline, 10, func(c IndexCounts) (int64, int64) { return c.PaidOnline, c.Paid }},
	}},
	// The share of ratings of 4 or 5, among the dossiers rated: the
	// Decision surveys satisfaction; this system has each applicant's
	// rating instead.
	{GroupSatisfaction, []indicatorDef{
		{IndicatorSatisfied, 18, func(c IndexCounts) (int64, int64) { return c.Satisfied, c.Rated }},
	}},
	// The split of the 22 points among the three is this system's.
	{GroupDigitisation, []indicatorDef{
		{IndicatorElectronicResults, 8, func(c IndexCounts) (int64, int64) { return c.ElectronicResults, c.Finished }},
		{IndicatorDigitised, 8, func(c IndexCounts) (int64, int64) { return c.Digitised, c.Received }},
		{IndicatorReused, 6, func(c IndexCounts) (int64, int64) { return c.Prefilled, c.Submitted }},
	}},
}

// IndicatorScore is one indicator's rate and points.
type IndicatorScore struct {
	Indicator Indicator `json:"indicator"`
	// Num of Den dossiers met the indicator.
	Num int64 `json:"num"`
	Den int64 `json:"den"`
	// Rate is Num/Den, from 0 to 1; 0 when NoData.
	Rate float64 `json:"rate"`
	// Points are Rate times Weight.
	Points float64 `json:"points"`
	Weight float64 `json:"weight"`
	// NoData reports whether there was nothing to measure (Den is 0): the
	// indicator is shown as "no data", neither 0 nor full marks, and its
	// weight is left out of its group's score.
	NoData bool `json:"no_data"`
}

// GroupScore is one group's points and its indicators.
type GroupScore struct {
	Group IndexGroup `json:"group"`
	// Points are out of Weight: the group's weight times the share of
	// points its indicators with data earned of those they could. 0 when
	// NoData.
	Points float64 `json:"points"`
	Weight float64 `json:"weight"`
	// NoData reports whether none of the group's indicators had data.
	NoData     bool             `json:"no_data"`
	Indicators []IndicatorScore `json:"indicators"`
}

// Measure is a figure shown beside the indices without points of its own.
type Measure struct {
	Value float64 `json:"value"` // 0 when NoData
	// NoData reports whether there was nothing to measure.
	NoData bool `json:"no_data"`
}

// Indices are the Decision 766 scores of one scope and period.
type Indices struct {
	// Groups are the six groups, in the Decision's order.
	Groups []GroupScore `json:"groups"`
	// Total is out of 100, over the groups with data: their points
	// scaled by 100 over their weights, so that a mission that charges no
	// fees is neither rewarded nor punished for having no online payments.
	// When every group has data it is the plain sum of their points. 0
	// when NoData.
	Total float64 `json:"total"`
	// Coverage is the weight of the groups with data, out of 100: how much
	// of the Decision the Total rests on.
	Coverage float64 `json:"coverage"`
	// NoData reports whether no group had data.
	NoData bool `json:"no_data"`
	// AvgProcessingDays is the mean time from receipt to decision of the
	// finished dossiers, in calendar days, unscored. It is elapsed
	// calendar time, not working days, so that it sums in SQL over any
	// number of dossiers and of units keeping different calendars; it
	// includes the time the applicant took to bring documents or pay. The
	// scored on-time rate is the one judged in working days.
	AvgProcessingDays Measure `json:"avg_processing_days"`
	// AvgRating is the mean rating, 1 to 5, unscored.
	AvgRating Measure `json:"avg_rating"`
}

// microsPerDay is a calendar day in microseconds.
const microsPerDay = float64(24 * time.Hour / time.Microsecond)

// Score computes the indices from c. It never fails: an indicator with
// nothing to measure is marked NoData instead.
func Score(c IndexCounts) Indices {
	var out Indices
	var weighed float64
	for _, g := range indexModel {
		gs := GroupScore{Group: g.group, NoData: true}
		var earned, possible float64
		for _, d := range g.indicators {
			num, den := d.ratio(c)
			is := IndicatorScore{Indicator: d.indicator, Num: num, Den: den, Weight: d.weight, NoData: den == 0}
			if den > 0 {
				is.Rate = float64(num) / float64(den)
				is.Points = is.Rate * d.weight
				earned += is.Points
				possible += d.weight
				gs.NoData = false
			}
			gs.Weight += d.weight
			gs.Indicators = append(gs.Indicators, is)
		}
		if !gs.NoData {
			gs.Points = gs.Weight * earned / possible
			out.Total += gs.Points
			weighed += gs.Weight
		}
		out.Groups = append(out.Groups, gs)
	}
	out.Coverage = weighed
	out.NoData = weighed == 0
	if !out.NoData {
		out.Total = out.Total * 100 / weighed
	}
	out.AvgProcessingDays = measureMean(float64(c.ProcessingMicros)/microsPerDay, c.Finished)
	out.AvgRating = measureMean(float64(c.RatingSum), c.Rated)
	return out
}

// measureMean returns sum/n, or NoData when n is 0.
func measureMean(sum float64, n int64) Measure {
	if n == 0 {
		return Measure{NoData: true}
	}
	return Measure{Value: sum / float64(n)}
}

// MonthIndices are one calendar month's counts and indices, for a trend.
type MonthIndices struct {
	// Month is the first instant of the month in the zone the trend was
	// asked in.
	Month   time.Time   `json:"month"`
	Counts  IndexCounts `json:"counts"`
	Indices Indices     `json:"indices"`
}
