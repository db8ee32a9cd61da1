package forecast

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"chancery/internal/calendar"
)

// Seasonality is how the seasonal and holiday effects combine with the
// level.
type Seasonality int

// The forms of seasonality.
const (
	// Auto fits both forms and keeps the one with the lower AIC.
	Auto Seasonality = iota
	// Additive adds the effects: a holiday takes the same number of
	// dossiers away whatever the level.
	Additive
	// Multiplicative scales by them (the model on log(1+y)): a holiday
	// takes the same share away.
	Multiplicative
)

// MinWeeks is the shortest history ETS fits: two years, so that the
// annual profile and each Tết week are seen twice.
const MinWeeks = 104

// Model is a fitted ETS model with damped trend and regressors.
type Model struct {
	// Alpha, Beta and Phi are the smoothing parameters of the level and
	// the trend and the trend's damping.
	Alpha, Beta, Phi float64
	// Multiplicative reports whether the model works on log(1+y).
	Multiplicative bool
	// Level0 and Trend0 are the initial states; Coef the regressors'
	// coefficients (Fourier terms, weeks around Tết, closed days), on the
	// model's scale.
	Level0, Trend0 float64
	Coef           []float64
	// Sigma is the standard deviation of the one-step residuals on the
	// model's scale.
	Sigma float64
	// AIC is on the original scale, comparable between the two forms.
	AIC float64

	start calendar.Date
	cal   *calendar.Calendar
	n     int
}

// ErrTooShort reports a history shorter than a model needs.
var ErrTooShort = errors.New("forecast: the history is too short")

// Fit fits the model to s; cal is the calendar of the unit whose demand
// s is (nil: no closed days). It needs MinWeeks of history.
func Fit(s Series, cal *calendar.Calendar, form Seasonality) (*Model, error) {
	if len(s.Values) < MinWeeks {
		return nil, fmt.Errorf("%w: %d weeks; exponential smoothing with an annual profile needs at least %d (two years)", ErrTooShort, len(s.Values), MinWeeks)
	}
	x := features(s.Start, len(s.Values), cal)
	switch form {
	case Additive:
		return fit(s, x, cal, false)
	case Multiplicative:
		return fit(s, x, cal, true)
	}
	a, errA := fit(s, x, cal, false)
	m, errM := fit(s, x, cal, true)
	switch {
	case errA != nil && errM != nil:
		return nil, errA
	case errA != nil:
		return m, nil
	case errM != nil:
		return a, nil
	case m.AIC < a.AIC:
		return m, nil
	}
	return a, nil
}

// Name describes the model, as ETS(error, trend, season) with the
// parameters.
func (m *Model) Name() string {
	form := "A"
	if m.Multiplicative {
		form = "M"
	}
	return fmt.Sprintf("ETS(%s,Ad,%s)+holidays α=%.2f β=%.3f φ=%.2f", form, form, m.Alpha, m.Beta, m.Phi)
}

// ridge is the penalty on the regressors' coefficients: the weight of
// one week's evidence that an effect is zero. It keeps the least squares
// well posed (a regressor that is zero in every fitted week) and a Tết
// week seen twice from being fitted to its noise, and is small beside a
// real effect seen every year.
const ridge = 0.01

func fit(s Series, x [][]float64, cal *calendar.Calendar, logs bool) (*Model, error) {
	n := len(s.Values)
	z := make([]float64, n)
	for i, v := range s.Values {
		if logs {
			z[i] = math.Log1p(v)
		} else {
			z[i] = v
		}
	}
	p := 2 + numRegressors
	// Z's columns: the one-step errors caused by a unit initial level,
	// trend or coefficient with no data, negated; e(θ) = e(0) - Zθ.
	zcols := mat.NewDense(n+p-2, p, nil)
	rhs := mat.NewVecDense(n+p-2, nil)
	e := make([]float64, n)
	theta := mat.NewVecDense(p, nil)
	solve := func(alpha, beta, phi float64) (float64, bool) {
		unit := make([]float64, p)
		for j := range p {
			clear(unit)
			unit[j] = 1
			filter(nil, x, alpha, beta, phi, unit, e)
			for t := range n {
				zcols.Set(t, j, -e[t])
			}
		}
		for j := 2; j < p; j++ {
			zcols.Set(n+j-2, j, math.Sqrt(ridge))
		}
		filter(z, x, alpha, beta, phi, make([]float64, p), e)
		for t := range n {
			rhs.SetVec(t, e[t])
		}
		var qr mat.QR
		qr.Factorize(zcols)
		if err := qr.SolveVecTo(theta, false, rhs); err != nil {
			return 0, false
		}
		filter(z, x, alpha, beta, phi, theta.RawVector().Data, e)
		sse := 0.0
		for _, v := range e {
			sse += v * v
		}
		return sse, !math.IsNaN(sse) && !math.IsInf(sse, 0)
	}
	params := func(u []float64) (alpha, beta, phi float64) {
		alpha = 0.001 + 0.998*sigmoid(u[0])
		beta = alpha * 0.999 * sigmoid(u[1])
		phi = 0.8 + 0.18*sigmoid(u[2])
		return
	}
	problem := optimize.Problem{Func: func(u []float64) float64 {
		sse, ok := solve(params(u))
		if !ok || sse <= 0 {
			return math.Inf(1)
		}
		return math.Log(sse)
	}}
	// Start from a slow level, a slower trend and strong damping: weekly
	// demand is mostly noise around a slowly moving level.
	res, err := optimize.Minimize(problem, []float64{-2, -2, 0}, &optimize.Settings{
		MajorIterations: 300,
		// A change of 1e-4 in log SSE is 0.01 % of the squared error:
		// nothing a forecast would show.
		Converger: &optimize.FunctionConverge{Absolute: 1e-4, Iterations: 15},
	}, &optimize.NelderMead{})
	if err != nil && res == nil {
		return nil, fmt.Errorf("forecast: fitting the smoothing parameters: %w", err)
	}
	alpha, beta, phi := params(res.X)
	sse, ok := solve(alpha, beta, phi)
	if !ok {
		return nil, errors.New("forecast: the model cannot be fitted to this series (it does not converge)")
	}
	th := theta.RawVector().Data
	dof := max(n-p-3, 1)
	m := &Model{
		Alpha: alpha, Beta: beta, Phi: phi, Multiplicative: logs,
		Level0: th[0], Trend0: th[1], Coef: append([]float64(nil), th[2:]...),
		Sigma: math.Sqrt(sse / float64(dof)),
		start: s.Start, cal: cal, n: n,
	}
	m.AIC = float64(n)*math.Log(sse/float64(n)) + 2*float64(p+3)
	if logs {
		for _, v := range s.Values {
			m.AIC += 2 * math.Log1p(v)
		}
	}
	return m, nil
}

func sigmoid(u float64) float64 { return 1 / (1 + math.Exp(-u)) }

// filter runs the model's recursions over z (nil: all zeros) with the
// initial states and coefficients in theta (level, trend, coefficients),
// writing the one-step errors into e, and returns the final states.
//
//	ŷ_t = l + φb + x_t·c,  e_t = z_t − ŷ_t,  l ← l + φb + αe_t,  b ← φb + βe_t
func filter(z []float64, x [][]float64, alpha, beta, phi float64, theta, e []float64) (level, trend float64) {
	l, b := theta[0], theta[1]
	c := theta[2:]
	for t := range e {
		yhat := l + phi*b + dot(x[t], c)
		var zt float64
		if z != nil {
			zt = z[t]
		}
		e[t] = zt - yhat
		l = l + phi*b + alpha*e[t]
		b = phi*b + beta*e[t]
	}
	return l, b
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// Forecast is the prediction for one week.
type Forecast struct {
	Week       calendar.Date `json:"week"`
	Mean       float64       `json:"mean"`
	Lo80, Hi80 float64
	Lo95, Hi95 float64
	// Holiday marks Tết's week or a week with closed days.
	Holiday bool `json:"holiday"`
}

// z-scores of the central 80 % and 95 % of a standard normal.
const (
	z80 = 1.2815515655446004
	z95 = 1.959963984540054
)

// states runs the fitted model over y (which may be longer than the
// fitted history, for rolling origins) and returns the level and trend
// after each week: states[o] is the state once weeks 0 to o-1 are known.
func (m *Model) states(y []float64) (level, trend []float64) {
	x := features(m.start, len(y), m.cal)
	level, trend = make([]float64, len(y)+1), make([]float64, len(y)+1)
	l, b := m.Level0, m.Trend0
	level[0], trend[0] = l, b
	for t, v := range y {
		zt := v
		if m.Multiplicative {
			zt = math.Log1p(v)
		}
		e := zt - (l + m.Phi*b + dot(x[t], m.Coef))
		l = l + m.Phi*b + m.Alpha*e
		b = m.Phi*b + m.Beta*e
		level[t+1], trend[t+1] = l, b
	}
	return level, trend
}

// predict returns the forecast of week index t made with the state
// (l, b) known after week o-1 (h = t-o+1 steps ahead), with its row of
// regressors.
func (m *Model) predict(row []float64, l, b float64, h int) (mean, lo80, hi80, lo95, hi95 float64) {
	damp, v := 0.0, 1.0
	pow := 1.0
	for j := 1; j <= h; j++ {
		pow *= m.Phi
		damp += pow
		if j < h {
			c := m.Alpha + m.Beta*m.Phi*(1-pow)/(1-m.Phi)
			v += c * c
		}
	}
	mu := l + damp*b + dot(row, m.Coef)
	sd := m.Sigma * math.Sqrt(v)
	back := func(z float64) float64 {
		if m.Multiplicative {
			z = math.Expm1(z)
		}
		return math.Max(z, 0)
	}
	return back(mu), back(mu - z80*sd), back(mu + z80*sd), back(mu - z95*sd), back(mu + z95*sd)
}

// Ahead forecasts the h weeks after y, which continues the fitted history
// (y may be the fitted history itself, or a longer one).
func (m *Model) Ahead(y []float64, h int) []Forecast {
	level, trend := m.states(y)
	x := features(m.start, len(y)+h, m.cal)
	out := make([]Forecast, h)
	l, b := level[len(y)], trend[len(y)]
	for i := range h {
		t := len(y) + i
		f := Forecast{Week: m.start.AddDays(7 * t)}
		f.Mean, f.Lo80, f.Hi80, f.Lo95, f.Hi95 = m.predict(x[t], l, b, i+1)
		f.Holiday = isHolidayRow(x[t])
		out[i] = f
	}
	return out
}

// isHolidayRow reports whether a week's regressors mark Tết's week or a
// closed day.
func isHolidayRow(row []float64) bool {
	return row[2*harmonics+tetBefore] == 1 || row[numRegressors-1] > 0
}
