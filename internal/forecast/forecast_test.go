package forecast

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"chancery/internal/calendar"
)

// etsSeries generates n weeks from the additive model itself: known
// smoothing parameters, a Tết effect and Gaussian one-step errors.
func etsSeries(seed uint64, n int, alpha, beta, phi, tet, sigma float64) Series {
	rng := rand.New(rand.NewPCG(seed, 1))
	start := calendar.Date{Year: 2016, Month: 1, Day: 4}
	x := features(start, n, nil)
	c := make([]float64, numRegressors)
	c[1] = 8                       // an annual wave: cos(phase), high in winter
	c[2*harmonics+tetBefore-1] = 6 // the week before Tết's
	c[2*harmonics+tetBefore] = tet // Tết's week
	l, b := 100.0, 0.1
	s := Series{Start: start, Values: make([]float64, n)}
	for t := range n {
		e := sigma * rng.NormFloat64()
		s.Values[t] = l + phi*b + dot(x[t], c) + e
		l = l + phi*b + alpha*e
		b = phi*b + beta*e
	}
	return s
}

// Fitting a series drawn from the model gives back its parameters: the
// level's smoothing, the damping and Tết's effect.
func TestETSRecoversParameters(t *testing.T) {
	const alpha, beta, phi, tet = 0.3, 0.02, 0.9, -25.0
	s := etsSeries(7, 520, alpha, beta, phi, tet, 3)
	m, err := Fit(s, nil, Additive)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(m.Alpha-alpha) > 0.08 {
		t.Errorf("α = %.3f; want %.2f ± 0.08", m.Alpha, alpha)
	}
	if math.Abs(m.Beta-beta) > 0.04 {
		t.Errorf("β = %.3f; want %.2f ± 0.04", m.Beta, beta)
	}
	if got := m.Coef[2*harmonics+tetBefore]; math.Abs(got-tet) > 4 {
		t.Errorf("Tết's week effect = %.1f; want %.0f ± 4", got, tet)
	}
	if math.Abs(m.Sigma-3)/3 > 0.15 {
		t.Errorf("σ = %.2f; want 3 ± 15 %%", m.Sigma)
	}
}

// On series drawn from the model, the 80 % and 95 % intervals cover
// about 80 % and 95 % of the held-out weeks (pooled over six series: one
// series' hold-out is one draw of the level's path, whose forecasts from
// successive origins err together), and the model beats the seasonal
// naive forecast. Parameter uncertainty is not in the intervals, so they
// run a little narrow.
func TestIntervalsCoverGeneratedData(t *testing.T) {
	var in80, in95, mase, base float64
	const series = 6
	for seed := uint64(1); seed <= series; seed++ {
		s := etsSeries(seed, 208, 0.2, 0.01, 0.9, -25, 4)
		r, err := Backtest(s, 26, nil, Additive)
		if err != nil {
			t.Fatal(err)
		}
		if r.Forecasts != 26*27/2 {
			t.Fatalf("forecasts scored = %d; want %d (every later week from every origin)", r.Forecasts, 26*27/2)
		}
		in80 += r.Coverage80 / series
		in95 += r.Coverage95 / series
		mase += r.MASE
		base += r.BaselineMASE
	}
	if in80 < 0.70 || in80 > 0.88 {
		t.Errorf("80 %% coverage = %.3f; want 0.70–0.88", in80)
	}
	if in95 < 0.88 || in95 > 0.99 {
		t.Errorf("95 %% coverage = %.3f; want 0.88–0.99", in95)
	}
	if mase >= base {
		t.Errorf("MASE %.3f is no better than the seasonal naive %.3f", mase/series, base/series)
	}
}

func TestSeasonalNaive(t *testing.T) {
	y := make([]float64, 120)
	for i := range y {
		y[i] = float64(i)
	}
	for _, tt := range []struct{ o, t, want int }{
		{100, 100, 48}, {100, 151, 99}, {100, 152, 48}, {60, 110, 58},
	} {
		if tt.t >= len(y) {
			y = append(y, make([]float64, tt.t-len(y)+1)...)
		}
		if got := SeasonalNaive(y, tt.o, tt.t); got != float64(tt.want) {
			t.Errorf("SeasonalNaive(origin %d, week %d) = %v; want %d", tt.o, tt.t, got, tt.want)
		}
	}
}

// Tết's week is the week of the lunar new year, which moves.
func TestTetWeekMoves(t *testing.T) {
	for _, tt := range []struct{ monday, want string }{
		{"2025-01-06", "2025-01-27"}, // Tết 29 January 2025, a Wednesday
		{"2026-02-16", "2026-02-16"}, // 17 February 2026
		{"2026-11-30", "2027-02-01"}, // 6 February 2027, nearer than February 2026
	} {
		if got := tetWeek(mustParse(t, tt.monday)); got != mustParse(t, tt.want) {
			t.Errorf("tetWeek(%s) = %v; want %s", tt.monday, got, tt.want)
		}
	}
}

func mustParse(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A file that is not a clean weekly series is refused with the line at
// fault; a good one is read whole.
func TestReadCSV(t *testing.T) {
	good := "week,value\n2025-01-06,12\n2025-01-13,0\n2025-01-20,7.5\n"
	s, err := ReadCSV(strings.NewReader(good))
	if err != nil || len(s.Values) != 3 || s.Start != mustParse(t, "2025-01-06") || s.Values[2] != 7.5 {
		t.Fatalf("ReadCSV(good) = %+v, %v", s, err)
	}
	for _, tt := range []struct{ name, in, want string }{
		{"not a Monday", "2025-01-07,3\n", "line 1: week 2025-01-07 is a Tuesday"},
		{"gap", "week,value\n2025-01-06,1\n2025-01-20,2\n", "line 3: weeks 2025-01-13 to 2025-01-13 are missing"},
		{"duplicate", "2025-01-06,1\n2025-01-06,2\n", "line 2: week 2025-01-06 appears twice"},
		{"out of order", "2025-01-13,1\n2025-01-06,2\n", "line 2: week 2025-01-06 comes after 2025-01-13"},
		{"bad number", "2025-01-06,1\n2025-01-13,abc\n", `line 2: value "abc" is not a number`},
		{"negative", "2025-01-06,-1\n", `line 1: value "-1" is not a number from 0`},
		{"NaN", "2025-01-06,NaN\n", `line 1: value "NaN"`},
		{"bad date", "2025-13-06,1\n", `line 1: week "2025-13-06" is not a date`},
		{"three fields", "2025-01-06,1,2\n", "line 1: "},
		{"NUL", "2025-01-06,1\x00\n", "line 1: value"},
		{"empty", "week,value\n", "holds no weeks"},
	} {
		_, err := ReadCSV(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ReadCSV = %v; want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestTooShortHistoryIsRefused(t *testing.T) {
	s := DefaultSynthetic(1).Generate()
	s.Values = s.Values[:130]
	if _, err := Backtest(s, 52, nil, Auto); err == nil || !strings.Contains(err.Error(), "needs 104") {
		t.Errorf("Backtest with 78 weeks of training = %v; want a too-short error", err)
	}
}
