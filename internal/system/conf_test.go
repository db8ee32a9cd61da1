package system

import (
	"bytes"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// confChange grants headquarters' consular system the population lookup
// through the balancer (or, with revoke, takes the right back) and
// returns how long the change took to reach the slowest replica (its own
// sync gateway honours it) and the slowest mission (its node stored the
// new serial), each at most limit. consular is that system's client
// token.
func (w *world) confChange(consular string, revoke bool, limit time.Duration) (replicas, missions time.Duration) {
	w.t.Helper()
	grant := `{"service":"VN/GOV/000.00.00.G02/population/citizen-lookup/v1","client":"VN/GOV/000.00.03.G12/consular"}`
	method := http.MethodPost
	reached := func(status int) bool { return status == http.StatusOK }
	if revoke {
		method = http.MethodDelete
		reached = func(status int) bool { return status/100 == 4 }
	}
	serial := w.confSerial()
	start := time.Now()
	status, body, err := do(http.DefaultClient, method, w.lb.url+"/api/v1/exchange/rights", w.admin, "application/json", bytes.NewReader([]byte(grant)))
	if err != nil || status/100 != 2 {
		w.t.Fatalf("%s the right: %d %v %s", method, status, err, body)
	}
	var wg sync.WaitGroup
	var slowestReplica, slowestMission atomic.Int64
	wait := func(slowest *atomic.Int64, done func() bool) {
		wg.Go(func() {
			for time.Since(start) < limit {
				if done() {
					for took := int64(time.Since(start)); ; {
						if old := slowest.Load(); old >= took || slowest.CompareAndSwap(old, took) {
							return
						}
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
			slowest.Store(int64(limit))
		})
	}
	for _, r := range w.replicas {
		wait(&slowestReplica, func() bool { return reached(w.gatewayStatus(r, consular)) })
	}
	for _, m := range w.missions {
		wait(&slowestMission, func() bool { return m.confSerial() > serial })
	}
	wg.Wait()
	return time.Duration(slowestReplica.Load()), time.Duration(slowestMission.Load())
}
