package exchange

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"chancery/internal/bus"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// syncBenchClients is the number of concurrent clients of both halves of
// BenchmarkSyncProxy.
const syncBenchClients = 16

// BenchmarkSyncProxy measures requests from an information system through
// its node's gateway (a real HTTP server), NATS over the leaf link, the
// provider's node and a local backend, against the same backend called
// directly by the same kind of client at the same concurrency, in the
// same run. Both nodes sign their logs as they would in service. It runs
// on each database dialect: SQLite as on a mission, PostgreSQL as at
// headquarters.
//
// It also measures the floor of the proxied path: the same hops (an HTTP
// server, a NATS request from the mission's server over the leaf link to
// headquarters', workers calling the backend with the gateway's HTTP
// client) carrying the bytes through with no token, configuration,
// encryption or log, so that what the gateway adds can be told from
// what its topology costs ("floor-" metrics), and the proxied path with
// only the provider's per-process anti-replay windows instead of the
// window its replicas share ("local-" metrics; "shared-ratio" is the
// shared window's rate over the per-process one's).
func BenchmarkSyncProxy(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) { benchmarkSyncProxy(b, d) })
	}
}

func benchmarkSyncProxy(b *testing.B, d store.Dialect) {
	g := newGwNet(b, d)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"079203001234","name":"Nguyễn Văn An","status":"valid"}`) //nolint:errcheck // benchmark backend
	}))
	b.Cleanup(backend.Close)
	g.publish(b, func(c *GlobalConf) { setGwBackend(c, lookupSvc, backend.URL) })
	signers := &logSigners{nodes: []*testNode{g.hq, g.mission}}
	signers.start()
	b.Cleanup(signers.stop)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: syncBenchClients, MaxConnsPerHost: syncBenchClients}}
	proxied := func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, g.gateway.URL+GatewayPath+lookupSvc.String()+"/citizens/079203001234", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+g.token)
			req.Header.Set("Accept", "application/json")
		}
		return req, err
	}
	direct := func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, backend.URL+"/citizens/079203001234", nil)
		if err == nil {
			req.Header.Set("Accept", "application/json")
		}
		return req, err
	}
	floorURL := syncFloor(b, g, backend.URL)
	floor := func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, floorURL+"/citizens/079203001234", nil)
		if err == nil {
			req.Header.Set("Accept", "application/json")
		}
		return req, err
	}
	// Warm the paths' connections before measuring, and leave no log
	// work of the warm-up for the measured run.
	for _, newReq := range []func() (*http.Request, error){proxied, direct, floor} {
		runSyncLoad(b, client, newReq, syncBenchClients*4, nil)
	}
	signers.finish(b)

	b.ResetTimer()
	signers.start()
	// The proxied run ends when its message log is written and signed,
	// not when its last answer arrives: the write-behind and the signer
	// work after the answers, and that work is the proxied path's, not
	// the baselines' that follow.
	rate, p99, cpu := runSyncLoad(b, client, proxied, b.N, func() { signers.finish(b) })
	// The same calls with only the provider's per-process anti-replay
	// windows, as before its replicas shared them (sharedReplay): what
	// the shared window costs ("local-" metrics, "shared-ratio").
	shared := g.hq.replay.Swap(nil)
	signers.start()
	localRate, localP99, localCPU := runSyncLoad(b, client, proxied, b.N, func() { signers.finish(b) })
	g.hq.replay.Store(shared)
	directRate, directP99, directCPU := runSyncLoad(b, client, direct, b.N, nil)
	floorRate, floorP99, floorCPU := runSyncLoad(b, client, floor, b.N, nil)
	b.StopTimer()
	signers.check(b, "the direct and floor runs")
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(cpu, "cpu-us/req")
	b.ReportMetric(directRate, "direct-req/s")
	b.ReportMetric(directP99, "direct-p99-ms")
	b.ReportMetric(directCPU, "direct-cpu-us/req")
	b.ReportMetric(floorRate, "floor-req/s")
	b.ReportMetric(floorP99, "floor-p99-ms")
	b.ReportMetric(floorCPU, "floor-cpu-us/req")
	b.ReportMetric(rate/directRate, "ratio")
	b.ReportMetric(localRate, "local-req/s")
	b.ReportMetric(localP99, "local-p99-ms")
	b.ReportMetric(localCPU, "local-cpu-us/req")
	b.ReportMetric(rate/localRate, "shared-ratio")
}

// syncFloor serves the floor of the proxied path and returns its URL: an
// HTTP server that passes each request's path in a NATS request over
// g's leaf link to gatewayWorkers workers on headquarters' bus, which GET
// it from backend with the gateway's HTTP client and answer with the
// body.
func syncFloor(b *testing.B, g *gwNet, backend string) string {
	const subject = "chx.floor"
	// The mission's leaf account reaches only the subjects headquarters
	// grants it: the floor's is granted as its requests' are.
	if err := g.hqBus.GrantLeaf([]bus.LeafService{{Caller: g.mission.ID(), Provider: bus.HubAccount, Subject: subject}}, nil); err != nil {
		b.Fatal(err)
	}
	ch := make(chan *nats.Msg, gatewayBacklog)
	sub, err := g.hqBus.Conn().ChanQueueSubscribe(subject, requestQueue, ch)
	if err != nil {
		b.Fatal(err)
	}
	httpc := g.hq.gw.backend
	var workers sync.WaitGroup
	for range gatewayWorkers {
		workers.Go(func() {
			for m := range ch {
				res, err := httpc.Get(backend + string(m.Data))
				if err != nil {
					m.Respond(nil) //nolint:errcheck // the benchmark fails on the empty answer
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				m.Respond(body) //nolint:errcheck // the benchmark fails on a lost answer
			}
		})
	}
	b.Cleanup(func() { sub.Unsubscribe(); close(ch); workers.Wait() }) //nolint:errcheck // ending
	waitFor(b, 15*time.Second, "the floor's subject to reach the mission", func() bool {
		_, err := g.missionBus.Conn().Request(subject, []byte("/warm-up"), time.Second)
		return err == nil
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg, err := g.missionBus.Conn().RequestWithContext(r.Context(), subject, []byte(r.URL.Path))
		if err != nil || len(msg.Data) == 0 {
			http.Error(w, "no answer", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(msg.Data) //nolint:errcheck // the client went away
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// runSyncLoad sends n requests made by newReq from syncBenchClients
// concurrent clients and returns the rate, the 99th percentile latency in
// milliseconds and the process's CPU time per request in microseconds
// (everything runs in this process: clients, both nodes, both NATS
// servers and the backend), which other load on the machine does not
// skew the way it skews rates. settle, when not nil, runs after the last
// answer and before the clock and the CPU time are read: it finishes the
// work the requests left behind.
func runSyncLoad(b *testing.B, client *http.Client, newReq func() (*http.Request, error), n int, settle func()) (rate, p99ms, cpuUS float64) {
	b.Helper()
	latencies := make([]time.Duration, n)
	var (
		next   atomic.Int64
		failed atomic.Value
		wg     sync.WaitGroup
	)
	cpu0 := processCPU(b)
	start := time.Now()
	for range syncBenchClients {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				req, err := newReq()
				if err != nil {
					failed.Store(err)
					return
				}
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				io.Copy(io.Discard, res.Body) //nolint:errcheck // drained for keep-alive
				res.Body.Close()
				latencies[i] = time.Since(t0)
				if res.StatusCode != http.StatusOK {
					failed.Store(fmt.Errorf("status %d", res.StatusCode))
					return
				}
			}
		})
	}
	wg.Wait()
	if settle != nil {
		settle()
	}
	elapsed := time.Since(start)
	cpu := processCPU(b) - cpu0
	if err, _ := failed.Load().(error); err != nil {
		b.Fatalf("request failed: %v", err)
	}
	slices.Sort(latencies)
	p99 := latencies[min(len(latencies)-1, len(latencies)*99/100)]
	return float64(n) / elapsed.Seconds(), float64(p99) / float64(time.Millisecond), float64(cpu) / float64(time.Microsecond) / float64(n)
}

// processCPU returns the CPU time, user and system, the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// logSigners runs the nodes' log signers as in service (RunLogSigner),
// and finishes their work on demand.
type logSigners struct {
	nodes  []*testNode
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (s *logSigners) start() {
	ctx, cancel := context.WithCancel(testCtx())
	s.cancel = cancel
	for _, n := range s.nodes {
		s.wg.Go(func() { n.RunLogSigner(ctx, 200*time.Millisecond) })
	}
}

// stop ends the signers (each finishes the batch it is signing).
func (s *logSigners) stop() {
	if s.cancel != nil {
		s.cancel()
		s.wg.Wait()
		s.cancel = nil
	}
}

// finish stops the signers, waits until each node's write-behind has
// committed the log rows of the calls made so far, and signs what is
// left, one signer per node as in service, so that nothing of the calls
// is left to do.
func (s *logSigners) finish(b *testing.B) {
	s.stop()
	ctx := testCtx()
	for _, n := range s.nodes {
		if err := n.FlushLog(ctx); err != nil {
			b.Fatal(err)
		}
		for {
			k, err := n.SignLog(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if k == 0 {
				break
			}
		}
	}
	s.check(b, "the proxied run")
}

// check fails b when a node's log holds a row no batch signs.
func (s *logSigners) check(b *testing.B, after string) {
	for _, n := range s.nodes {
		var unsigned int
		if err := n.db.QueryRowContext(testCtx(), `SELECT COUNT(*) FROM exchange_log WHERE log_batch IS NULL`).Scan(&unsigned); err != nil {
			b.Fatal(err)
		}
		if unsigned != 0 {
			b.Fatalf("node %s: %d log rows unsigned after %s", n.id, unsigned, after)
		}
	}
}
