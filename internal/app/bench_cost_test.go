package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/demo"
	"chancery/internal/procedures"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// costClients is how many clients BenchmarkRequestCost runs at once: enough
// to keep both of a small machine's cores busy, so that idle time does not
// dilute the figures.
const costClients = 8

// BenchmarkRequestCost measures what one request of each main kind costs a
// headquarters node on PostgreSQL (production durability), for the
// capacity table in the README ("Capacity"):
//
//   - dossier: a citizen submits a dossier online (POST /api/v1/dossiers,
//     multipart, a 100 KiB PDF), as BenchmarkSubmit's "online";
//   - sync-gateway: an information system looks a citizen up through the
//     exchange's synchronous gateway (GET /exchange/v1/<population
//     service>/v1/citizens/{id}), served by the demo's population
//     simulator over the node's own NATS;
//   - page-view: a visitor opens the public portal's home page (GET /);
//   - exchange-message: an information system sends a 4 KiB message to
//     the national portal's service (POST /api/v1/exchange/messages),
//     delivered through JetStream to the portal simulator.
//
// Figures per request: app-cpu-ms (this process's user+system CPU time,
// getrusage, over the run and until the background work the requests
// caused — ledger, outboxes, exchange delivery — and PostgreSQL's have
// settled; the
// in-process HTTP client's own work is included, so it is an upper
// bound), pg-cpu-ms (the throwaway PostgreSQL cluster's processes, from
// /proc), wire-B (request and answer bytes on the wire, headers
// excluded), alloc-B (Go heap allocated), db-B (growth of
// pg_database_size) and blob-B (growth of the object store).
//
// Run: go test -run '^$' -bench BenchmarkRequestCost -benchtime 200x ./internal/app/
func BenchmarkRequestCost(b *testing.B) {
	cfg := testConfig(b, true)
	cfg.DB = storetest.MustPostgresURL(b)
	b.Log(storetest.PostgresSettings())
	a, base := startDemo(b, cfg)
	a.runBackground(context.Background())
	b.Cleanup(a.stopBackground)
	ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("bench")})
	clientToken, err := a.Node.IssueToken(ctx, demo.Clients()[0], "bench")
	if err != nil {
		b.Fatal(err)
	}
	citizen := submitter(b, a, base, procedures.ChannelOnline)
	contentType, dossier := submission(b, procedures.ChannelOnline)
	message := bytes.Repeat([]byte(`{"dossier":"G12.00.03-261206-0001","status":2}  `), 4096/48)
	population, _, err := a.outsideServices()
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: costClients}}
	b.Cleanup(client.CloseIdleConnections)
	pg := postgresCPU(b, cfg.DB)

	for _, kind := range []struct {
		name string
		req  func() (*http.Request, error)
		want int
	}{
		{"dossier", func() (*http.Request, error) {
			r, err := http.NewRequest(http.MethodPost, base+"/api/v1/dossiers", bytes.NewReader(dossier))
			if err == nil {
				r.Header.Set("Authorization", "Bearer "+citizen)
				r.Header.Set("Content-Type", contentType)
			}
			return r, err
		}, http.StatusCreated},
		{"sync-gateway", func() (*http.Request, error) {
			r, err := http.NewRequest(http.MethodGet, base+"/exchange/v1/"+population.String()+"/v1/citizens/001188004215", nil)
			if err == nil {
				r.Header.Set("Authorization", "Bearer "+clientToken)
				r.Header.Set("X-Road-UserId", "staff:consular.clerk")
				r.Header.Set("X-Road-Issue", "applicant at the counter")
			}
			return r, err
		}, http.StatusOK},
		{"page-view", func() (*http.Request, error) {
			return http.NewRequest(http.MethodGet, base+"/", nil)
		}, http.StatusOK},
		{"exchange-message", func() (*http.Request, error) {
			r, err := http.NewRequest(http.MethodPost, base+"/api/v1/exchange/messages", bytes.NewReader(message))
			if err == nil {
				r.Header.Set("Authorization", "Bearer "+clientToken)
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("X-Chancery-Service", a.cfg.DossierStatusService)
			}
			return r, err
		}, http.StatusAccepted},
	} {
		b.Run(kind.name, func(b *testing.B) {
			var wire atomic.Int64
			do := func(int) error {
				req, err := kind.req()
				if err != nil {
					return err
				}
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != kind.want && !(kind.want == http.StatusAccepted && resp.StatusCode < 300) {
					return fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status)
				}
				wire.Add(max(req.ContentLength, 0) + n)
				return nil
			}
			if err := do(0); err != nil { // warm up, and check the route answers
				b.Fatal(err)
			}
			settle(b, pg)
			db0, blob0 := databaseBytes(b, a.DB), dirBytes(filepath.Join(cfg.DataDir, "blobs"))
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			cpu0, pg0 := processCPU(b), pg()
			b.ResetTimer()
			err := inParallel(b.N, costClients, do)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			settle(b, pg)
			cpu1, pg1 := processCPU(b), pg()
			runtime.ReadMemStats(&m1)
			n := float64(b.N)
			b.ReportMetric(float64((cpu1-cpu0).Microseconds())/1000/n, "app-cpu-ms/req")
			b.ReportMetric(float64((pg1-pg0).Microseconds())/1000/n, "pg-cpu-ms/req")
			b.ReportMetric(float64(wire.Load())/n, "wire-B/req")
			b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/n, "alloc-B/req")
			b.ReportMetric(float64(databaseBytes(b, a.DB)-db0)/n, "db-B/req")
			b.ReportMetric(float64(dirBytes(filepath.Join(cfg.DataDir, "blobs"))-blob0)/n, "blob-B/req")
		})
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// settle waits until the background work the requests caused is done:
// this process and PostgreSQL (pg) each use less than 2 % of a core for a
// quarter of a second (at most ten seconds).
func settle(tb testing.TB, pg func() time.Duration) {
	tb.Helper()
	const window = 250 * time.Millisecond
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		c0, p0 := processCPU(tb), pg()
		time.Sleep(window)
		if processCPU(tb)-c0 < window/50 && pg()-p0 < window/50 {
			return
		}
	}
}

// postgresCPU returns a function reading the CPU time used so far by the
// PostgreSQL cluster serving dsn: its postmaster (with its exited
// children's) and its live backends, from /proc. It returns zero where
// /proc does not tell.
func postgresCPU(tb testing.TB, dsn string) func() time.Duration {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	flag := "-p\x00" + u.Port() + "\x00"
	var postmaster string
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cmd, err := os.ReadFile(p + "/cmdline")
		if err == nil && strings.Contains(string(cmd), "postgres\x00-D") && strings.Contains(string(cmd), flag) {
			postmaster = filepath.Base(p)
		}
	}
	if postmaster == "" {
		tb.Log("PostgreSQL's postmaster not found in /proc: pg-cpu-ms/req reads 0")
		return func() time.Duration { return 0 }
	}
	tick := time.Second / 100 // USER_HZ on Linux
	return func() time.Duration {
		var total int64
		procs, _ := filepath.Glob("/proc/[0-9]*")
		for _, p := range procs {
			stat, err := os.ReadFile(p + "/stat")
			if err != nil {
				continue
			}
			// Fields after the command's closing parenthesis: state, ppid,
			// …, utime (14th field), stime, cutime, cstime.
			s := string(stat)
			f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
			pid, ppid := filepath.Base(p), f[1]
			if pid != postmaster && ppid != postmaster {
				continue
			}
			last := 13
			if pid == postmaster {
				last = 15 // and its waited-for children's
			}
			for _, v := range f[11 : last+1] {
				n, _ := strconv.ParseInt(v, 10, 64)
				total += n
			}
		}
		return time.Duration(total) * tick
	}
}

// databaseBytes is the size of the node's PostgreSQL database.
func databaseBytes(tb testing.TB, db *store.DB) int64 {
	tb.Helper()
	var n int64
	if err := db.QueryRow(`SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// dirBytes is the size of the files under dir.
func dirBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error { //nolint:errcheck // a size, best effort
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
