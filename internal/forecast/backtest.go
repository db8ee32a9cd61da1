package forecast

import (
	"errors"
	"fmt"
	"math"

	"chancery/internal/calendar"
)

// Season is the seasonal naive model's period: 52 weeks.
const Season = 52

// SeasonalNaive forecasts week t from what was known after week o-1 (t
// ≥ o): the value of the latest week 52k weeks before t that was known.
func SeasonalNaive(y []float64, o, t int) float64 {
	k := (t - o + Season) / Season
	return y[t-k*Season]
}

// Result is a backtest's outcome on one series.
type Result struct {
	// Weeks is the series' length; Holdout the weeks held out at its end.
	Weeks   int `json:"weeks"`
	Holdout int `json:"holdout"`
	// Forecasts is how many (origin, week) forecasts were scored.
	Forecasts int `json:"forecasts"`
	// MASE is the model's mean absolute error over the scale (the
	// in-sample mean absolute error of the seasonal naive forecast one
	// season ahead); BaselineMASE the seasonal naive forecast's own.
	MASE         float64 `json:"mase"`
	BaselineMASE float64 `json:"baseline_mase"`
	// Improvement is 1 − MASE/BaselineMASE: 0.2 is 20 % better.
	Improvement float64 `json:"improvement"`
	// Coverage80 and Coverage95 are the shares of held-out weeks inside
	// the 80 % and 95 % prediction intervals.
	Coverage80 float64 `json:"coverage80"`
	Coverage95 float64 `json:"coverage95"`
	Model      string  `json:"model"`
	Intervals  string  `json:"intervals"`
}

// IntervalsFrom says how the intervals are made, for the record.
const IntervalsFrom = "Gaussian on the model's scale, variance of the in-sample one-step residuals propagated through the state equations"

// Backtest holds out the last holdout weeks of s, fits the model on the
// weeks before them, and scores, from every origin in the hold-out, the
// forecast of each later held-out week (rolling origins, parameters
// fixed, states updated with the weeks as they become known): MASE
// against the seasonal naive baseline scored the same way, and the
// coverage of the 80 % and 95 % intervals.
func Backtest(s Series, holdout int, cal *calendar.Calendar, form Seasonality) (Result, error) {
	n := len(s.Values)
	if holdout < 1 {
		return Result{}, errors.New("forecast: hold out at least one week")
	}
	train := n - holdout
	if train < MinWeeks {
		return Result{}, fmt.Errorf("%w: %d weeks before the %d held out; the model needs %d (two years)", ErrTooShort, train, holdout, MinWeeks)
	}
	scale := 0.0
	for t := Season; t < train; t++ {
		scale += math.Abs(s.Values[t] - s.Values[t-Season])
	}
	scale /= float64(train - Season)
	if scale == 0 {
		return Result{}, errors.New("forecast: the history repeats itself exactly every year, so MASE (scaled by the seasonal naive error) is undefined")
	}
	m, err := Fit(Series{Start: s.Start, Values: s.Values[:train]}, cal, form)
	if err != nil {
		return Result{}, err
	}
	level, trend := m.states(s.Values)
	x := features(s.Start, n, cal)
	var r Result
	var errModel, errBase float64
	var in80, in95 int
	for o := train; o < n; o++ {
		for t := o; t < n; t++ {
			mean, lo80, hi80, lo95, hi95 := m.predict(x[t], level[o], trend[o], t-o+1)
			y := s.Values[t]
			errModel += math.Abs(y - mean)
			errBase += math.Abs(y - SeasonalNaive(s.Values, o, t))
			if lo80 <= y && y <= hi80 {
				in80++
			}
			if lo95 <= y && y <= hi95 {
				in95++
			}
			r.Forecasts++
		}
	}
	f := float64(r.Forecasts)
	r.Weeks, r.Holdout = n, holdout
	r.MASE = errModel / f / scale
	r.BaselineMASE = errBase / f / scale
	r.Improvement = 1 - r.MASE/r.BaselineMASE
	r.Coverage80, r.Coverage95 = float64(in80)/f, float64(in95)/f
	r.Model, r.Intervals = m.Name(), IntervalsFrom
	return r, nil
}
