package system

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// benchClients is how many clients the throughput benchmarks run at once.
const benchClients = 16

// BenchmarkSystem measures, on one world of the production shape (three
// replicas, the NATS cluster, PostgreSQL with production durability,
// versitygw, twenty missions at CHANCERY_SYSTEM_FULL=1, else four):
//
//   - submit/replicas=N: dossier submissions (a clerk's counter entry with
//     a 16 KiB scan) through the load balancer to N replicas, by
//     benchClients clients: dossiers/s, and the CPU the replicas (all
//     three: the background work runs on each) and the NATS servers spent
//     per submission;
//   - gateway/replicas=N: synchronous calls of the population service
//     through headquarters' sync gateway, through the balancer: calls/s
//     and CPU per call;
//   - config: how long a change of the global configuration (a new access
//     right, granted through the balancer on one replica) takes to reach
//     every replica (each one's own gateway honours it) and every mission
//     (its node stored the new serial).
//
// The machine has two cores, shared with everything else here: the
// figures are bounds of this machine, not of the design.
func BenchmarkSystem(b *testing.B) {
	if raceEnabled {
		b.Skip("not under -race")
	}
	sz := worldSizes()
	w := newWorld(b, sz)
	clerk := w.login("consular.clerk")
	procedures := w.mustRun("exchange", "token", "issue", "VN/GOV/000.00.00.G12/procedures", "--db", w.pg.url(), "--data", w.replicas[0].data)
	consular := w.mustRun("exchange", "token", "issue", "VN/GOV/000.00.03.G12/consular", "--db", w.pg.url(), "--data", w.replicas[0].data)
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}

	submit := func() error {
		ct, body, _ := dossierBody()
		status, answer, err := do(client, http.MethodPost, w.lb.url+"/api/v1/dossiers", clerk, ct, bytes.NewReader(body))
		if err == nil && status != http.StatusCreated {
			err = fmt.Errorf("submit: %d %.200s", status, answer)
		}
		return err
	}
	lookup := func() error {
		req, _ := http.NewRequest(http.MethodGet, w.lb.url+"/exchange/v1/VN/GOV/000.00.00.G02/population/citizen-lookup/v1/v1/citizens/001188004215", nil)
		req.Header.Set("Authorization", "Bearer "+procedures)
		req.Header.Set("X-Road-UserId", "staff:bench")
		req.Header.Set("X-Road-Issue", "benchmark")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("lookup: %d", resp.StatusCode)
		}
		return nil
	}
	for _, op := range []struct {
		name, unit string
		f          func() error
	}{{"submit", "dossiers/s", submit}, {"gateway", "calls/s", lookup}} {
		for _, n := range []int{1, 3} {
			b.Run(fmt.Sprintf("%s/replicas=%d", op.name, n), func(b *testing.B) {
				w.lb.limit.Store(int32(n))
				defer w.lb.limit.Store(0)
				hq, bus := w.replicaCPU(), w.natsCPU()
				b.ResetTimer()
				start := time.Now()
				err := inParallel(b.N, benchClients, op.f)
				elapsed := time.Since(start)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), op.unit)
				b.ReportMetric(1000*(w.replicaCPU()-hq)/float64(b.N), "hq-cpu-ms/op")
				b.ReportMetric(1000*(w.natsCPU()-bus)/float64(b.N), "nats-cpu-ms/op")
			})
		}
	}

	b.Run("config", func(b *testing.B) {
		var worstReplica, worstMission time.Duration
		for i := range min(b.N, 2) { // each change waits for the slowest node, at most 2 min (reported as 120 s)
			// The second change revokes the right the first granted.
			replicas, missions := w.confChange(consular, i%2 == 1, 2*time.Minute)
			worstReplica = max(worstReplica, replicas)
			worstMission = max(worstMission, missions)
		}
		b.ReportMetric(worstReplica.Seconds(), "s-to-all-replicas")
		b.ReportMetric(worstMission.Seconds(), "s-to-all-missions")
	})
}

// gatewayStatus is the status of a citizen lookup by headquarters'
// consular system through replica r itself.
func (w *world) gatewayStatus(r *replica, token string) int {
	req, _ := http.NewRequest(http.MethodGet, r.url()+"/exchange/v1/VN/GOV/000.00.00.G02/population/citizen-lookup/v1/v1/citizens/001188004215", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Road-UserId", "staff:bench")
	req.Header.Set("X-Road-Issue", "benchmark")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// confSerial is the serial of the global configuration headquarters
// stored last.
func (w *world) confSerial() int64 {
	var s int64
	db := w.db()
	if err := db.QueryRow(`SELECT conf_serial FROM exchange_node WHERE id = 1`).Scan(&s); err != nil {
		w.t.Fatal(err)
	}
	db.Close()
	return s
}

// confSerial is the serial of the configuration the mission's node
// stored.
func (m *mission) confSerial() int64 {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(m.data, "chancery.db")+"?mode=ro&_pragma=busy_timeout(2000)")
	if err != nil {
		return 0
	}
	defer db.Close()
	var s int64
	db.QueryRow(`SELECT conf_serial FROM exchange_node WHERE id = 1`).Scan(&s)
	return s
}

// natsCPU is the CPU time the NATS servers have used.
func (w *world) natsCPU() float64 {
	var s float64
	for _, n := range w.nats {
		if n.proc != nil {
			s += cpuSeconds(n.proc.cmd.Process.Pid)
		}
	}
	return s
}

// inParallel runs op n times on clients goroutines and returns the first
// error, after which no new op starts.
func inParallel(n, clients int, op func() error) error {
	var (
		next  atomic.Int64
		first error
		once  sync.Once
		wg    sync.WaitGroup
		stop  atomic.Bool
	)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() && next.Add(1) <= int64(n) {
				if err := op(); err != nil {
					once.Do(func() { first = err })
					stop.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return first
}
