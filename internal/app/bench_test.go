package app

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkColdStart measures `serve --demo` on an empty data directory:
// open and migrate SQLite, create the keyring, start embedded NATS with
// JetStream, seed the demo ministry, and build every route. Target: under
// 2 s. Reported as cold-start-ms.
func BenchmarkColdStart(b *testing.B) {
	var total time.Duration
	for b.Loop() {
		cfg := testConfig(b, true)
		start := time.Now()
		a, err := New(context.Background(), cfg, newLogger(cfg, io.Discard))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.bootstrap(context.Background()); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		a.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "cold-start-ms")
}

// BenchmarkIdleMemory starts the real program (`serve --demo` in a child
// process), waits until it answers, lets it settle, and reports its
// resident memory as idle-rss-MiB and the time to first answer as
// start-to-ready-ms.
func BenchmarkIdleMemory(b *testing.B) {
	var rss, ready float64
	for b.Loop() {
		start := time.Now()
		cmd, base := startChild(b, "serve", "--demo", "--data", b.TempDir(), "--addr", "127.0.0.1:0", "--leaf-addr=")
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		ready += float64(time.Since(start).Milliseconds())
		b.StopTimer()
		time.Sleep(2 * time.Second)
		rss += residentMiB(b, cmd.Process.Pid)
		cmd.Process.Kill()
		cmd.Wait()
		b.StartTimer()
	}
	b.ReportMetric(rss/float64(b.N), "idle-rss-MiB")
	b.ReportMetric(ready/float64(b.N), "start-to-ready-ms")
}

func residentMiB(tb testing.TB, pid int) float64 {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		tb.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	tb.Fatal("VmRSS not found")
	return 0
}
