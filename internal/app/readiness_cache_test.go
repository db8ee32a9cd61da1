package app

import (
	"context"
	"testing"
	"time"
)

// TestReadinessAnswerIsAsOldAsItsProbe: a cached /readyz answer describes
// the moment its probe started, so a slow probe's answer is not served
// for a further two seconds after it ended. (The whole-system test saw
// replicas answer 200 for seconds after PostgreSQL had stopped.)
func TestReadinessAnswerIsAsOldAsItsProbe(t *testing.T) {
	var c readinessCache
	probes := 0
	slow := func(context.Context) (map[string]string, []string) {
		probes++
		time.Sleep(1500 * time.Millisecond)
		return map[string]string{}, nil
	}
	c.check(context.Background(), slow)
	time.Sleep(600 * time.Millisecond) // 2.1 s after the probe started
	c.check(context.Background(), slow)
	if probes != 2 {
		t.Fatalf("%d probes: an answer 2.1 s old (its probe took 1.5 s) was served again from the cache", probes)
	}
}
