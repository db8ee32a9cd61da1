//go:build unix

package auth

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPasswordHash measures DefaultParams: ns/op is the wall time a
// sign-in waits, cpu-ms/op the CPU it costs the node (both cores, as the
// hash runs Threads lanes in parallel). The design target is 50–150 ms of
// CPU; the baseline line, OWASP's smallest argon2id recommendation
// (m=19 MiB, t=2, p=1), shows what the extra cost buys.
func BenchmarkPasswordHash(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    Params
	}{
		{"default", DefaultParams},
		{"baseline-owasp-min", Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			start := cpuTime(b)
			for b.Loop() {
				hashPassword("correct horse battery staple", bc.p)
			}
			b.ReportMetric(float64(cpuTime(b)-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(bc.p.Memory)/1024, "MiB")
		})
	}
}
