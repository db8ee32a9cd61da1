// Package forecast predicts the weekly demand for each mission's and
// unit's procedures and the staff time it means (issue 15, item 5).
//
// Two models, both in Go:
//
//   - SeasonalNaive, the baseline: next year's week is this year's same
//     week (52 weeks back).
//   - ETS, exponential smoothing with a damped additive trend (the
//     ETS(·,Ad,·) family) and regressors: an annual seasonal profile as
//     Fourier terms (summer, year's end), the weeks before and after Tết
//     (which moves by up to four weeks from year to year, calendar.
//     LunarNewYear), and the share of the week's working days the unit's
//     calendar closes (Viet Nam's holidays, lunar ones included, and a
//     mission's host-country holidays: calendar.ForMission).
//     Multiplicative seasonality is the same model on log(1+y); Auto picks
//     the one with the lower AIC on the original scale.
//
// The smoothing parameters are found with gonum's Nelder–Mead; for given
// smoothing parameters the one-step errors are linear in the initial
// level and trend and the regression coefficients, which are then solved
// by least squares (gonum/mat). Prediction intervals (80 % and 95 %) are
// Gaussian on the model's scale, with the variance of the in-sample
// one-step residuals propagated through the state equations (the
// class-1 ETS variance, Hyndman et al. 2008, ch. 6), and mapped back
// through exp for the multiplicative form.
//
// Backtest evaluates on the last weeks of a series with rolling origins:
// the parameters are fitted on the weeks before the hold-out, and from
// every origin in the hold-out the model forecasts each later held-out
// week. MASE divides the mean absolute error by the in-sample seasonal
// naive error (Hyndman & Koehler 2006).
package forecast
