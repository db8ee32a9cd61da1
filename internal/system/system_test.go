package system

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWholeSystemUnderFaults starts headquarters in its production shape
// and the missions (newWorld), puts them under load (startLoad) and
// strikes, one after another: kill -9 of a replica, kill -9 of a NATS
// server, a PostgreSQL restart, five missions' links cut, the object
// store stopped. After each it checks that nothing acknowledged was lost
// or doubled (dossiers, their documents, assignments, missions' reports),
// that each mission's reports arrived in the order sent, that the ledger's
// leaf indices are contiguous and `chancery audit verify` passes, and
// that every replica's /readyz told the truth; it logs each recovery
// time, and how long a configuration change takes to reach every
// replica and mission. `go test ./internal/system/` runs it in a short form (two
// missions, outages of seconds; a few minutes), as does .ci/run's own
// step; CHANCERY_SYSTEM_FULL=1 runs it at full size (twenty missions,
// the outages the issue names). It does not run under -race or -short.
func TestWholeSystemUnderFaults(t *testing.T) {
	if raceEnabled {
		t.Skip("the whole-system test runs real processes and times them; it does not run under -race (.ci/run runs it in a step of its own, without -race)")
	}
	if testing.Short() {
		t.Skip("-short: the whole-system test starts a dozen processes and takes minutes")
	}
	sz := worldSizes()
	w := newWorld(t, sz)
	for name, r := range w.streamReplicas() {
		if r != 3 {
			t.Errorf("stream %s is kept by %d servers, want 3 (--nats-replicas 3)", name, r)
		}
	}
	l := startLoad(w)
	defer func() {
		if !l.stopped() {
			l.halt()
		}
	}()
	settle := 5 * time.Second
	if sz.missions >= 20 {
		settle = 15 * time.Second
	}
	time.Sleep(settle)
	w.checkAll(t, l, "under load, before any fault")

	// A configuration change made on one replica reaches every replica
	// and every mission within seconds, through the bus (chx.conf), not at
	// the hourly refresh: a right granted, then revoked.
	for _, revoke := range []bool{false, true} {
		const limit = time.Minute
		replicas, missions := w.confChange(l.inboxToken, revoke, limit)
		t.Logf("configuration change (revoke=%v) reached all %d replicas in %s and all %d missions in %s", revoke,
			len(w.replicas), replicas.Round(10*time.Millisecond), len(w.missions), missions.Round(10*time.Millisecond))
		if replicas >= limit || missions >= limit {
			t.Errorf("a configuration change (revoke=%v) had not reached every replica and mission after %s", revoke, limit)
		}
	}

	var recoveries []string
	note := func(fault string, at time.Time) {
		first, ok := l.firstSuccessAfter(at)
		caught := w.waitFor(fault+": every report acknowledged before it delivered", 3*time.Minute+sz.cut, func() error {
			if ok, missing := l.delivered(at); !ok {
				return fmt.Errorf("%s", missing)
			}
			return nil
		})
		if !ok {
			w.waitFor(fault+": a dossier submitted again", 2*time.Minute, func() error {
				if _, ok := l.firstSuccessAfter(at); !ok {
					return fmt.Errorf("no dossier submitted since")
				}
				return nil
			})
			first, _ = l.firstSuccessAfter(at)
		}
		line := fmt.Sprintf("%-28s first dossier accepted after %6s; reports caught up after %6s", fault, first.Round(10*time.Millisecond), caught.Round(10*time.Millisecond))
		recoveries = append(recoveries, line)
		t.Log(line)
	}

	// 1. kill -9 one replica. The balancer routes around it at once;
	// its /readyz does not answer (the truth). It comes back.
	victim := w.replicas[1]
	l.during("kill -9 replica " + victim.name)
	at := time.Now()
	victim.proc.kill()
	note("kill -9 replica "+victim.name, at)
	w.checkReadiness(t, victim, at, time.Now(), notReady, "say it was not ready while killed")
	restarted := time.Now()
	victim.start()
	t.Logf("replica %s ready again %s after its restart", victim.name, time.Since(restarted).Round(10*time.Millisecond))
	w.checkAll(t, l, "after kill -9 of a replica")

	// 2. kill -9 one NATS server, the first, to which the replicas and
	// the missions' links go first. Streams are R3: two servers keep
	// quorum, so readiness must come back to 200 within seconds.
	nn := w.nats[0]
	l.during("kill -9 NATS server " + nn.name)
	at = time.Now()
	nn.proc.kill()
	note("kill -9 NATS server "+nn.name, at)
	for _, r := range w.replicas {
		w.waitFor(r.name+" ready with two NATS servers of three", time.Minute, func() error { return ready(r.url()) })
	}
	nn.start()
	w.waitFor("the NATS cluster whole again", time.Minute, w.natsReady)
	w.checkAll(t, l, "after kill -9 of a NATS server")

	// 3. PostgreSQL stops as in a crash and starts again after a pause:
	// /readyz must not say 200 while it is down.
	down := 8 * time.Second
	if sz.missions >= 20 {
		down = 15 * time.Second
	}
	l.during("PostgreSQL restart")
	stopped := time.Now()
	if out, err := w.pg.ctl("pg_ctl", "-D", w.pg.dataDir, "-m", "immediate", "-w", "stop"); err != nil {
		t.Fatalf("stop PostgreSQL: %v: %s", err, out)
	}
	time.Sleep(down)
	at = time.Now()
	w.pg.start()
	for _, r := range w.replicas {
		// The answer is cached for 2 s from its probe's start and a
		// probe takes up to 2 s: asked from 5 s after the stop and
		// answered before the restart, a 200 is a lie. A probe the
		// replica did not answer within the balancer's 3 s is none: the
		// balancer, as HAProxy, takes the replica out for it.
		w.checkReadiness(t, r, stopped.Add(5*time.Second), at, notReady, "say it was not ready while PostgreSQL was down")
	}
	note("PostgreSQL restart", at)
	w.checkAll(t, l, "after the PostgreSQL restart")

	// 4. Five missions' links cut for a minute (seconds in go test).
	cut := w.missions[:min(sz.cutCount, len(w.missions))]
	l.during(fmt.Sprintf("%d links cut", len(cut)))
	for _, m := range cut {
		m.link.setCut(true)
	}
	time.Sleep(sz.cut)
	at = time.Now()
	for _, m := range cut {
		m.link.setCut(false)
	}
	note(fmt.Sprintf("%d links cut for %s", len(cut), sz.cut), at)
	w.checkAll(t, l, "after the cut links")

	// 5. The object store stops for 30 s (seconds in go test): /readyz
	// must not say 200 while it is down.
	l.during("object store stopped")
	stopped = time.Now()
	w.s3.proc.kill()
	time.Sleep(sz.s3Down)
	at = time.Now()
	w.s3.start()
	for _, r := range w.replicas {
		w.checkReadiness(t, r, stopped.Add(5*time.Second), at, notReady, "say it was not ready while the object store was down")
	}
	note(fmt.Sprintf("object store down %s", sz.s3Down), at)

	l.halt()
	// What the clients were told, per fault: a dependency down is a 503
	// with Retry-After, never a 500. (Said before the long checks below,
	// so that a run that times out in them still says it.)
	report, broken := l.statuses()
	t.Logf("answers the clients saw, per fault:\n  %s", strings.Join(report, "\n  "))
	if len(broken) > 0 {
		t.Errorf("clients saw 500s (or a 5xx before any fault):\n  %s", strings.Join(broken, "\n  "))
		for _, r := range w.replicas {
			if lines := internalErrors(r.data+".log", 10); len(lines) > 0 {
				t.Logf("%s's internal errors:\n  %s", r.name, strings.Join(lines, "\n  "))
			}
		}
	}
	// What is still on its way arrives, and is read.
	w.waitFor("the last reports delivered", 2*time.Minute, func() error {
		l.readInbox()
		if ok, missing := l.delivered(time.Now()); !ok {
			return fmt.Errorf("%s", missing)
		}
		return nil
	})
	w.checkAll(t, l, "at the end")
	w.checkNoCrossAcks(t)
	l.mu.Lock()
	t.Logf("load: %d dossiers acknowledged (%d outcomes unknown to the client), %d taken up, %d reports delivered, sync calls %d ok / %d failed",
		len(l.dossiers), l.unknown, len(l.assigned), len(l.received), l.syncOK, l.syncFail)
	l.mu.Unlock()
	t.Logf("recovery times:\n  %s", strings.Join(recoveries, "\n  "))
	t.Logf("client failures (expected during the faults):%s", l.errorSummary())
}

// internalErrors returns up to n of the "internal error" lines in the
// log file at path, each cut to 600 bytes: where a 500 came from.
func internalErrors(path string, n int) []string {
	b, _ := os.ReadFile(path)
	var lines []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(line, "internal error") || strings.Contains(line, "panic") {
			lines = append(lines, line[:min(len(line), 600)])
			if len(lines) == n {
				break
			}
		}
	}
	return lines
}

// notReady is a probe that did not say the replica was ready: a 503, or
// no answer within the balancer's 3 s.
func notReady(p probe) bool { return p.status != http.StatusOK }

// checkReadiness fails the test unless every /readyz probe of r asked
// from from and answered by to satisfies ok, and logs what they said.
func (w *world) checkReadiness(t *testing.T, r *replica, from, to time.Time, ok func(probe) bool, what string) {
	t.Helper()
	probes := w.lb.probesOf(r, from, to)
	var bad []string
	said := map[int]int{}
	for _, p := range probes {
		said[p.status]++
		if !ok(p) {
			bad = append(bad, fmt.Sprintf("%d asked %s answered %s", p.status, p.asked.Format("15:04:05.000"), p.answered.Format("15:04:05.000")))
		}
	}
	t.Logf("%s's /readyz probes asked from %s and answered by %s, by status: %v (0: no answer within 3 s)", r.name,
		from.Format("15:04:05.000"), to.Format("15:04:05.000"), said)
	if len(bad) > 0 {
		t.Errorf("%s's /readyz did not %s: %d of %d probes asked from %s and answered by %s (%s)", r.name, what, len(bad), len(probes),
			from.Format("15:04:05.000"), to.Format("15:04:05.000"), strings.Join(bad, "; "))
	}
}

// checkAll checks the invariants on what the load was acknowledged so far.
func (w *world) checkAll(t *testing.T, l *load, when string) {
	t.Helper()
	l.mu.Lock()
	dossiers := make(map[string][32]byte, len(l.dossiers))
	for k, v := range l.dossiers {
		dossiers[k] = v
	}
	assigned := make(map[string]bool, len(l.assigned))
	for k, v := range l.assigned {
		assigned[k] = v
	}
	received := append([]report(nil), l.received...)
	l.mu.Unlock()

	// Every acknowledged dossier is there once, with its document.
	db := w.db()
	var stored int
	if err := db.QueryRow(`SELECT COUNT(*) FROM dossiers WHERE procedure_code = '1.900014' AND channel = 1`).Scan(&stored); err != nil {
		t.Fatalf("%s: count the dossiers: %v", when, err)
	}
	// The load goes on while the count is taken: what was acknowledged
	// before it is the least that may be stored, and what was
	// acknowledged or left unknown by the time it answered, with the
	// submissions then in flight, the most.
	l.mu.Lock()
	ackedAfter, unknownAfter := len(l.dossiers), l.unknown
	l.mu.Unlock()
	if stored < len(dossiers) || stored > ackedAfter+unknownAfter+2 {
		// +2: the two submissions in flight when the count answered.
		t.Errorf("%s: %d dossiers stored for %d acknowledged before the count and %d after (%d outcomes unknown)", when, stored, len(dossiers), ackedAfter, unknownAfter)
	}
	checked := 0
	for code, sum := range dossiers {
		if checked == 40 {
			break // a sample each time; all of them at the end
		}
		if !strings.Contains(when, "end") {
			checked++
		}
		w.checkDossier(t, l, when, code, sum, assigned[code])
	}

	// Every report once, and each mission's in the order sent.
	seen := map[string]int{}
	last := map[string]int{}
	for _, r := range received {
		key := r.mission + "#" + strconv.Itoa(r.n)
		seen[key]++
		if seen[key] == 2 {
			t.Errorf("%s: report %s delivered twice", when, key)
		}
		if r.n <= last[r.mission] && seen[key] == 1 {
			t.Errorf("%s: report %d of %s delivered after report %d (out of order)", when, r.n, r.mission, last[r.mission])
		}
		last[r.mission] = max(last[r.mission], r.n)
	}

	// The ledger: contiguous leaf indices, and it verifies.
	var n, maxSeq, pending int64
	if err := db.QueryRow(`SELECT COUNT(seq), COALESCE(MAX(seq), -1), COUNT(*) - COUNT(seq) FROM audit_events`).Scan(&n, &maxSeq, &pending); err != nil {
		t.Fatalf("%s: read the ledger: %v", when, err)
	}
	if n != maxSeq+1 {
		t.Errorf("%s: the ledger holds %d numbered events but its largest leaf index is %d: not contiguous", when, n, maxSeq)
	}
	var doubled int
	if err := db.QueryRow(`SELECT COUNT(*) FROM (SELECT resource_id, action FROM audit_events
		WHERE resource_type = 'dossier' AND action NOT LIKE '%read%' AND action NOT LIKE '%view%' AND request_id <> ''
		GROUP BY resource_id, action, request_id HAVING COUNT(*) > 1) d`).Scan(&doubled); err != nil {
		t.Fatalf("%s: look for doubled ledger events: %v", when, err)
	}
	if doubled > 0 {
		t.Errorf("%s: %d ledger events of dossiers recorded twice for one request", when, doubled)
	}
	if out, err := w.run("audit", "verify", "--db", w.pg.url(), "--data", w.replicas[0].data, "--blob", w.blobURL); err != nil {
		t.Errorf("%s: chancery audit verify: %v\n%s", when, err, out)
	}
	t.Logf("%s: %d dossiers, %d taken up, %d reports, ledger of %d events (%d not yet numbered) verified", when, len(dossiers), len(assigned), len(received), n, pending)
}

// checkDossier reads an acknowledged dossier through the balancer: it is
// there, its document is the one sent, and an acknowledged assignment
// shows once in its history.
func (w *world) checkDossier(t *testing.T, l *load, when, code string, sum [32]byte, assigned bool) {
	t.Helper()
	status, body, err := do(l.client, http.MethodGet, w.lb.url+"/api/v1/dossiers/"+code, l.clerk, "", nil)
	if err != nil || status != http.StatusOK {
		t.Errorf("%s: acknowledged dossier %s reads %d %v: %.200s", when, code, status, err, body)
		return
	}
	var d struct {
		Attachments []struct {
			ID int64 `json:"id"`
		} `json:"attachments"`
		History []struct {
			Action string `json:"action"`
		} `json:"history"`
	}
	if err := json.Unmarshal(body, &d); err != nil || len(d.Attachments) != 1 {
		t.Errorf("%s: dossier %s has %d documents, want 1 (%v)", when, code, len(d.Attachments), err)
		return
	}
	assigns := 0
	for _, h := range d.History {
		if h.Action == "assign" {
			assigns++
		}
	}
	if assigned && assigns != 1 {
		t.Errorf("%s: dossier %s's history shows %d assignments for 1 acknowledged", when, code, assigns)
	}
	status, doc, err := do(l.client, http.MethodGet, fmt.Sprintf("%s/api/v1/dossiers/%s/attachments/%d", w.lb.url, code, d.Attachments[0].ID), l.clerk, "", nil)
	if err != nil || status != http.StatusOK || sha256.Sum256(doc) != sum {
		t.Errorf("%s: dossier %s's document reads %d %v (%d bytes), not the document sent", when, code, status, err, len(doc))
	}
}
