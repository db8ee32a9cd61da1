package detect_test

import (
	"encoding/json"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/sentinel/detect"
	"chancery/internal/sentinel/simulate"
)

// BenchmarkScore measures events scored per second on one core: a
// simulated ministry's ledger (300 staff, 60 days, with insiders) scored
// by a fresh engine each iteration. Beside it, the baseline: the same
// events only decoded from the export's JSON lines, as replay must; the
// ratio score/decode is the scoring rate over the decoding rate.
func BenchmarkScore(b *testing.B) {
	var evs []audit.Event
	var lines [][]byte
	s := simulate.New(simulate.Config{Seed: 1, Staff: 300, Days: 60, Insiders: 3})
	if err := s.Run(func(e audit.Event) error {
		evs = append(evs, e)
		line, err := json.Marshal(map[string]any{"event": e})
		lines = append(lines, line)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	var scoring, decoding time.Duration
	alerts := 0
	b.ResetTimer()
	for range b.N {
		began := time.Now()
		for _, line := range lines {
			var l struct {
				Event audit.Event `json:"event"`
			}
			if err := json.Unmarshal(line, &l); err != nil {
				b.Fatal(err)
			}
		}
		decoding += time.Since(began)
		began = time.Now()
		e := detect.New(detect.Config{})
		for _, ev := range evs {
			alerts += len(e.Observe(ev))
		}
		scoring += time.Since(began)
	}
	n := float64(b.N * len(evs))
	b.ReportMetric(n/scoring.Seconds(), "events/s")
	b.ReportMetric(n/decoding.Seconds(), "decoded/s")
	b.ReportMetric(decoding.Seconds()/scoring.Seconds(), "score/decode")
	b.ReportMetric(float64(len(evs)), "events")
	b.ReportMetric(float64(alerts)/float64(b.N), "alerts")
}
