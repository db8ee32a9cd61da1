package forecast

import (
	"math"
	"time"

	"chancery/internal/calendar"
)

// The regressors of a week, in the order of Model.Coef.
const (
	harmonics = 8 // annual Fourier pairs: summer and the year's end without 52 free weekly terms
	// tetWeeks are the weeks relative to Tết's week with their own effect:
	// three weeks before (demand for passports, legalisations and visas
	// before the journey home) to two after (closed offices, then the
	// return).
	tetBefore = 3
	tetAfter  = 2
)

// numRegressors is the number of columns features returns.
const numRegressors = 2*harmonics + tetBefore + tetAfter + 1 + 1

// tetWeek returns the Monday of the week in which Tết falls, for the
// Tết nearest to the week beginning on monday.
func tetWeek(monday calendar.Date) calendar.Date {
	best, bestDist := calendar.Date{}, math.MaxInt
	for y := monday.Year - 1; y <= monday.Year+1; y++ {
		t := calendar.LunarNewYear(y)
		m := t.AddDays(-((int(t.Weekday()) + 6) % 7))
		if d := abs(daysBetween(monday, m)); d < bestDist {
			best, bestDist = m, d
		}
	}
	return best
}

// features returns the regressors of the weeks of s, from its Start,
// for weeks 0 to n-1 (n may run past the data: the forecast's weeks).
func features(start calendar.Date, n int, cal *calendar.Calendar) [][]float64 {
	rows := make([][]float64, n)
	for i := range rows {
		monday := start.AddDays(7 * i)
		row := make([]float64, 0, numRegressors)
		// The year's phase at the week's Thursday (which names its ISO year).
		th := monday.AddDays(3)
		phase := 2 * math.Pi * float64(th.Time(time.UTC).YearDay()-1) / 365.25
		for k := 1; k <= harmonics; k++ {
			row = append(row, math.Sin(float64(k)*phase), math.Cos(float64(k)*phase))
		}
		rel := daysBetween(monday, tetWeek(monday)) / 7 // weeks until Tết's week
		for w := tetBefore; w >= -tetAfter; w-- {
			row = append(row, b2f(rel == w))
		}
		row = append(row, closedShare(monday, cal))
		rows[i] = row
	}
	return rows
}

// closedShare is the share of the week's Monday-to-Friday days the
// calendar closes for a holiday or a day in lieu.
func closedShare(monday calendar.Date, cal *calendar.Calendar) float64 {
	if cal == nil {
		return 0
	}
	closed := 0
	for d := range 5 {
		if !cal.IsWorkingDay(monday.AddDays(d)) {
			closed++
		}
	}
	return float64(closed) / 5
}

func daysBetween(a, b calendar.Date) int {
	return int(b.Time(time.UTC).Sub(a.Time(time.UTC)).Hours() / 24)
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
