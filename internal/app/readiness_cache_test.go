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
	c.check(context.Background(), slow, func(bool) {})
	time.Sleep(600 * time.Millisecond) // 2.1 s after the probe started
	c.check(context.Background(), slow, func(bool) {})
	if probes != 2 {
		t.Fatalf("%d probes: an answer 2.1 s old (its probe took 1.5 s) was served again from the cache", probes)
	}
}

// A probe whose answer differs from the one before is told, so that the
// node can log when it is ready again; the first, and one that answers
// as before, are not.
func TestReadinessTellsEachChangeOfAnswer(t *testing.T) {
	var c readinessCache
	var changes []bool
	answers := [][]string{nil, nil, {"the object store cannot store objects"}, {"the object store cannot store objects"}, nil}
	for i, down := range answers {
		if i > 0 {
			c.at = time.Now().Add(-time.Hour) // the answer before is old: this check probes
		}
		c.check(context.Background(), func(context.Context) (map[string]string, []string) { return map[string]string{}, down },
			func(ready bool) { changes = append(changes, ready) })
	}
	if len(changes) != 2 || changes[0] || !changes[1] {
		t.Fatalf("changes told: %v, want [false true] (not ready, then ready again)", changes)
	}
}
