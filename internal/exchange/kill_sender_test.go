package exchange

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/store"
)

// The sending half of the crash test (see crash_test.go): the mission's
// process sends and is killed mid-send, while headquarters, in the test's
// process, receives. (It is a test of its own, in a file that sorts after
// fault_test.go, so that the cut-link test's heap figures are taken after
// the receiving half only, as before.)
// A send is acknowledged to the sender's client when Send returns its
// message id; the child prints "sent <payload> <id>" then, so the test
// knows exactly what was acknowledged before each kill.

// crashSendEnv makes the crash child send: "<round> <n>" sends n reports
// from crashSenders clients at once, tagged "<round>g<client>-<k>".
const crashSendEnv = "CHANCERY_EXCHANGE_CRASH_SEND"

// crashSenders is the number of the child's concurrent sending clients.
const crashSenders = 8

// crashSend runs the child's sending clients, as spec (crashSendEnv's
// value) says, until they have sent their share or ctx ends. A send that
// fails other than by the child stopping ends the child: the parent sees
// it stop.
func crashSend(ctx context.Context, n *Node, spec string) {
	round, count, _ := strings.Cut(spec, " ")
	total, err := strconv.Atoi(count)
	if err != nil {
		fmt.Fprintf(os.Stderr, "crash child: bad %s %q\n", crashSendEnv, spec)
		os.Exit(2)
	}
	for n.transport() == nil { // Run starts it
		if ctx.Err() != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	var wg sync.WaitGroup
	for g := range crashSenders {
		wg.Go(func() {
			for k := 0; k*crashSenders+g < total; k++ {
				p := fmt.Sprintf("%sg%d-%d", round, g, k)
				id, err := n.Send(ctx, report(p))
				if err != nil {
					if ctx.Err() != nil || errors.Is(err, ErrTransportStopped) {
						return
					}
					fmt.Fprintf(os.Stderr, "crash child: send %s: %v\n", p, err)
					os.Exit(2)
				}
				fmt.Fprintf(os.Stdout, "sent %s %s\n", p, id) // one write: the parent reads whole lines
			}
		})
	}
	wg.Wait()
}

// sentLog is what a crash child acknowledged: each client's message ids,
// in the order Send returned them, by payload tag "<round>g<client>".
type sentLog struct {
	mu    sync.Mutex
	acked map[string][]string
	count int
}

// line takes a "sent" line of the child's output, and reports whether it
// was one.
func (l *sentLog) line(s string) bool {
	rest, ok := strings.CutPrefix(s, "sent ")
	if !ok {
		return false
	}
	payload, id, ok := strings.Cut(rest, " ")
	client, k, ok2 := strings.Cut(payload, "-")
	if !ok || !ok2 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.acked == nil {
		l.acked = map[string][]string{}
	}
	if i, err := strconv.Atoi(k); err != nil || i != len(l.acked[client]) {
		// Each client sends in order and prints after each send.
		l.acked[client] = append(l.acked[client], "out of order: "+payload)
	} else {
		l.acked[client] = append(l.acked[client], id)
	}
	l.count++
	return true
}

// snapshot returns a copy of the acknowledged ids by client.
func (l *sentLog) snapshot() map[string][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[string][]string, len(l.acked))
	for c, ids := range l.acked {
		m[c] = slices.Clone(ids)
	}
	return m
}

func (l *sentLog) sent() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}

// waitSent waits until the child has acknowledged at least k sends.
func (p *missionProc) waitSent(tb testing.TB, k int) {
	tb.Helper()
	waitFor(tb, 10*time.Minute, fmt.Sprintf("%d sends acknowledged at the mission", k), func() bool {
		select {
		case <-p.exited:
			tb.Fatalf("the mission stopped after %d acknowledged sends: %v", p.sent.sent(), p.err)
		default:
		}
		return p.sent.sent() >= k
	})
}

// killSender runs the sending rounds of the crash test on the mission in
// dir: in each of kills rounds the mission sends per reports and is
// killed part-way, at a later point each round; a last round sends per
// more and stops cleanly. Headquarters must then hold every report whose
// send was acknowledged, once, in each client's order; besides those, at
// most one report per client of a killed round, the one it was sending
// when the process died (committed, not yet acknowledged); and never a
// message twice.
func killSender(t *testing.T, tn *testNet, dir, hub string, races *raceWatch, per, kills int) {
	t.Helper()
	acked := map[string][]string{} // by client tag, over all rounds
	inFlight := map[string]bool{}  // the tag "<client>-<k>" each killed client may have committed unacknowledged
	total := 0
	var killedAt []int
	for r := 1; r <= kills+1; r++ {
		round := fmt.Sprintf("r%d", r)
		p := startMission(t, dir, hub, races, crashSendEnv+"="+round+" "+strconv.Itoa(per))
		if r <= kills {
			p.waitSent(t, r*per/(kills+1))
			p.kill(t)
			killedAt = append(killedAt, p.sent.sent())
		} else {
			p.waitSent(t, per)
		}
		for client, ids := range p.sent.snapshot() {
			acked[client] = ids
			total += len(ids)
			if r <= kills {
				inFlight[fmt.Sprintf("%s-%d", client, len(ids))] = true
			}
		}
		for g := range crashSenders {
			// A client killed before its first acknowledgement.
			if client := fmt.Sprintf("%sg%d", round, g); r <= kills && acked[client] == nil {
				inFlight[client+"-0"] = true
			}
		}
		if r > kills {
			in := waitAcked(t, tn, acked, total)
			p.stop(t)
			t.Logf("killed the sending mission after %v of %d acknowledged sends a round; headquarters holds %d reports, %d acknowledged", killedAt, per, len(in), total)
			checkAckedOnce(t, tn, in, acked, inFlight)
		}
	}
}

// waitAcked waits until headquarters' inbox holds every acknowledged
// report, and returns the inbox.
func waitAcked(t *testing.T, tn *testNet, acked map[string][]string, total int) []Delivered {
	t.Helper()
	var in []Delivered
	waitFor(t, 5*time.Minute, fmt.Sprintf("the %d acknowledged reports at headquarters", total), func() bool {
		in = wholeInbox(t, tn.hq.Node, procedures)
		ids := make(map[string]bool, len(in))
		for _, m := range in {
			ids[m.ID] = true
		}
		for _, s := range acked {
			for _, id := range s {
				if !ids[id] {
					return false
				}
			}
		}
		return true
	})
	return in
}

// checkAckedOnce checks headquarters' inbox in against what the sender
// acknowledged: see killSender.
func checkAckedOnce(t *testing.T, tn *testNet, in []Delivered, acked map[string][]string, inFlight map[string]bool) {
	t.Helper()
	seen := map[string]bool{}
	next := map[string]int{} // by client: the k its next report must carry
	for _, m := range in {
		if seen[m.ID] {
			t.Fatalf("report %s delivered twice", m.ID)
		}
		seen[m.ID] = true
		client, k, _ := strings.Cut(string(m.Payload), "-")
		i, _ := strconv.Atoi(k)
		if i != next[client] {
			t.Fatalf("report %q (%s) out of order: client %s expected #%d", m.Payload, m.ID, client, next[client])
		}
		next[client]++
		if s := acked[client]; i < len(s) {
			if s[i] != m.ID {
				t.Fatalf("report %q arrived as %s, but its send was acknowledged as %s", m.Payload, m.ID, s[i])
			}
		} else if !inFlight[string(m.Payload)] {
			t.Fatalf("report %q (%s) arrived, but its send was never acknowledged nor under way at a kill", m.Payload, m.ID)
		}
	}
	for client, s := range acked {
		if next[client] < len(s) {
			t.Errorf("client %s: %d acknowledged reports, %d arrived: an acknowledged send was lost", client, len(s), next[client])
		}
	}
	var rows int
	if err := tn.hq.db.QueryRowContext(testCtx(), `SELECT COUNT(*) FROM exchange_log WHERE direction = 'in'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(in) {
		t.Errorf("headquarters' log holds %d incoming rows for %d reports in the inbox", rows, len(in))
	}
}

func TestKilledSenderLosesNothingAcknowledgedAndDeliversNothingTwice(t *testing.T) {
	per := 1_000
	if testing.Short() || raceEnabled {
		per = 400
	}
	tn := newTestNet(t, store.SQLite)
	dir := t.TempDir()
	prepareMission(t, tn, dir)
	port := freePort(t)
	hubBus(t, tn.hq.Node, port)
	run(t, tn.hq.Node)
	races := &raceWatch{}
	killSender(t, tn, dir, fmt.Sprintf("nats-leaf://127.0.0.1:%d", port), races, per, 3)
	if races.raced() {
		t.Error("the race detector reported a data race in the sending mission's process")
	}
}
