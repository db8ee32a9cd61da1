package forecast

import "testing"

// accuracySeries is how many seeded series the accuracy figure averages.
const accuracySeries = 20

// BenchmarkForecastAccuracy is issue 15's forecast figure: on the last
// 52 weeks of 20 generated six-year series of a consular counter (Tết's
// rush and lull moving with the lunar calendar, summer, growth, a
// wandering level, Poisson noise, Viet Nam's closed days), the ETS
// model's MASE against the seasonal naive forecast's, and the share of
// held-out weeks inside the 80 % intervals, rolling origins. It reports
// mase, baseline-mase (means over the series) and coverage80 (pooled);
// run with -count=5 and take the medians.
func BenchmarkForecastAccuracy(b *testing.B) {
	var mase, base, cov float64
	for b.Loop() {
		mase, base, cov = 0, 0, 0
		for seed := uint64(1); seed <= accuracySeries; seed++ {
			r, err := Backtest(DefaultSynthetic(seed).Generate(), 52, DefaultSynthetic(seed).Calendar, Auto)
			if err != nil {
				b.Fatal(err)
			}
			mase += r.MASE / accuracySeries
			base += r.BaselineMASE / accuracySeries
			cov += r.Coverage80 / accuracySeries
		}
	}
	b.ReportMetric(mase, "mase")
	b.ReportMetric(base, "baseline-mase")
	b.ReportMetric(cov, "coverage80")
	b.ReportMetric(1-mase/base, "improvement")
}
