package forecast

import (
	"math"
	"math/rand/v2"
	"time"

	"chancery/internal/calendar"
)

// Synthetic describes a generated weekly demand series: what a mission's
// counter sees, with a level that wanders and grows, a summer season, a
// rush before Tết and a lull in its week and after it (Tết moving by up
// to four weeks from year to year), fewer dossiers in weeks with closed
// days, and count noise. The same Seed gives the same series.
type Synthetic struct {
	Seed  uint64
	Start calendar.Date // a Monday
	Weeks int
	// Level is the mean weekly count at the start; Growth the yearly
	// growth (0.05: 5 % a year).
	Level, Growth float64
	// Summer is the extra share of demand at the height of summer (0.3:
	// 30 % more in late July).
	Summer float64
	// TetRush is the extra share in the week before Tết's; TetLull the
	// share lost in Tết's week.
	TetRush, TetLull float64
	// Drift is the weekly standard deviation of the level's random walk,
	// in log terms; Noise the extra lognormal noise besides Poisson's.
	Drift, Noise float64
	// Calendar, if set, closes days: a week loses the share of its
	// working days that are closed.
	Calendar *calendar.Calendar
}

// DefaultSynthetic is a mid-sized mission's consular counter over six
// years from the first Monday of 2020.
func DefaultSynthetic(seed uint64) Synthetic {
	return Synthetic{
		Seed: seed, Start: calendar.Date{Year: 2019, Month: 12, Day: 30}, Weeks: 6 * 52,
		Level: 80, Growth: 0.06, Summer: 0.35, TetRush: 0.6, TetLull: 0.55,
		Drift: 0.01, Noise: 0.08, Calendar: calendar.Vietnam(),
	}
}

// Generate returns the series g describes.
func (g Synthetic) Generate() Series {
	rng := rand.New(rand.NewPCG(g.Seed, 0x5eed))
	s := Series{Start: g.Start, Values: make([]float64, g.Weeks)}
	drift := 0.0
	for i := range s.Values {
		monday := s.Week(i)
		t := float64(i) / 52
		mean := g.Level * math.Pow(1+g.Growth, t)
		// Summer: a bump peaking at the end of July (day 210).
		doy := float64(monday.AddDays(3).Time(time.UTC).YearDay())
		mean *= 1 + g.Summer*math.Exp(-math.Pow((doy-210)/25, 2))
		// Tết: a rush in the three weeks before its week, a lull in it
		// and a slow return in the two after.
		switch daysBetween(monday, tetWeek(monday)) / 7 {
		case 3:
			mean *= 1 + g.TetRush/3
		case 2:
			mean *= 1 + 2*g.TetRush/3
		case 1:
			mean *= 1 + g.TetRush
		case 0:
			mean *= 1 - g.TetLull
		case -1:
			mean *= 1 - g.TetLull/2
		case -2:
			mean *= 1 - g.TetLull/5
		}
		mean *= 1 - 0.8*closedShare(monday, g.Calendar)
		drift += g.Drift * rng.NormFloat64()
		mean *= math.Exp(drift + g.Noise*rng.NormFloat64())
		s.Values[i] = float64(poisson(rng, mean))
	}
	return s
}

// poisson draws a Poisson count: Knuth's method for small means, the
// normal approximation above 50.
func poisson(rng *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 50 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
