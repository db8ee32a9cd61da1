package sentinel

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/sentinel/detect"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// probeScorer is the scorer under test with one addition: an event of
// action bench.probe raises an alert at once, so that the time from the
// probe's commit to its alert measures the whole path (ledger,
// integration, stream, watcher, scorer, the alert's transaction) under
// the load of everything else the scorer reads.
type probeScorer struct{ detect.Scorer }

func (p probeScorer) Observe(e audit.Event) []detect.Alert {
	out := p.Scorer.Observe(e)
	if e.Action == "bench.probe" {
		out = append(out, detect.Alert{Rule: "probe", User: "probe-" + e.ResourceID, Score: 1, Events: []uint64{e.Seq}, First: e.Time, Last: e.Time,
			Title: detect.Text{VI: "thăm dò", EN: "probe"}, Explanation: detect.Text{VI: "thăm dò", EN: "probe"}})
	}
	return out
}

// BenchmarkDetectionLatency measures, per dialect, the time from a
// probe event's commit (Append returned) to its alert's commit, while
// background staff activity is appended at a steady rate (see the
// loadRate constant); it reports the p50 and p99 in milliseconds. Run:
//
//	go test -run '^$' -bench DetectionLatency -benchtime 200x ./internal/sentinel/
func BenchmarkDetectionLatency(b *testing.B) {
	const (
		loadRate  = 1000 // background events per second
		probeGap  = 10 * time.Millisecond
		loadBurst = 10 // events per background tick
	)
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.MustOpen(b, d)
			w := newWorld(b, db)
			var mu sync.Mutex
			// A probe's alert may commit before Append has returned to
			// note its commit: whichever comes second measures.
			committed, seen := map[string]time.Time{}, map[string]time.Time{}
			var lat []time.Duration
			alerted := make(chan struct{}, b.N+1)
			measure := func(user string) {
				lat = append(lat, max(0, seen[user].Sub(committed[user])))
				alerted <- struct{}{}
			}
			w.watch(b, WatcherOptions{Holder: "bench", NewScorer: func() (detect.Scorer, error) {
				s, err := benchScorer()
				return probeScorer{s}, err
			}, OnAlerts: func(_ context.Context, alerts []Alert) {
				now := time.Now()
				mu.Lock()
				defer mu.Unlock()
				for _, a := range alerts {
					if a.Rule != "probe" {
						continue
					}
					seen[a.User] = now
					if _, ok := committed[a.User]; ok {
						measure(a.User)
					}
				}
			}})
			ctx, cancel := context.WithCancel(context.Background())
			var loadN atomic.Int64
			var wg sync.WaitGroup
			wg.Go(func() {
				t := time.NewTicker(time.Second * loadBurst / loadRate)
				defer t.Stop()
				for i := 0; ; i++ {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
					}
					var bw sync.WaitGroup
					for j := range loadBurst {
						bw.Go(func() {
							w.ledger.Append(ctx, readEvent(i*loadBurst+j)) //nolint:errcheck // load only
							loadN.Add(1)
						})
					}
					bw.Wait()
				}
			})
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				e := audit.Event{Actor: audit.Staff(99, "probe"), UnitID: 1, Action: "bench.probe", ResourceType: "document", ResourceID: strconv.Itoa(i),
					Outcome: audit.Allowed, Level: authz.Unclassified}
				if _, err := w.ledger.Append(ctx, e); err != nil {
					b.Fatal(err)
				}
				mu.Lock()
				user := "probe-" + strconv.Itoa(i)
				committed[user] = time.Now()
				if _, ok := seen[user]; ok {
					measure(user)
				}
				mu.Unlock()
				time.Sleep(probeGap)
			}
			deadline := time.After(time.Minute)
			for range b.N {
				select {
				case <-alerted:
				case <-deadline:
					b.Fatalf("only %d of %d probes alerted within a minute", len(lat), b.N)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			wg.Wait()
			mu.Lock()
			slices.Sort(lat)
			p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(p(0.50), "p50-ms")
			b.ReportMetric(p(0.99), "p99-ms")
			b.ReportMetric(float64(loadN.Load())/elapsed.Seconds(), "load-events/s")
			mu.Unlock()
			settings := ""
			if d == store.Postgres {
				settings = " (" + storetest.PostgresSettings() + ")"
			}
			b.Logf("%s%s: %d probes, p50 %.1f ms, p99 %.1f ms, max %.1f ms, under %d background events", d, settings, len(lat), p(0.5), p(0.99), p(1), loadN.Load())
		})
	}
}

// benchScorer is the scorer the benchmark drives: the detection engine
// with its defaults, as every node runs it.
func benchScorer() (detect.Scorer, error) { return detect.New(detect.Config{}), nil }
