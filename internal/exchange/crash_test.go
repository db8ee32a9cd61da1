package exchange

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/bus"
	"chancery/internal/keys"
	"chancery/internal/store"
)

// The crash test re-runs the test binary as a child process that is a
// mission node, and kills it with SIGKILL while headquarters, in the
// test's process, streams messages to it. TestMain hands control to
// crashChild when crashChildEnv is set.
const (
	crashChildEnv = "CHANCERY_EXCHANGE_CRASH_DATA" // the mission's data directory
	crashHubEnv   = "CHANCERY_EXCHANGE_CRASH_HUB"  // headquarters' leaf-node URL
)

// crashChild runs the mission node whose data directory crashChildEnv
// names, joined to the hub crashHubEnv names, until it is killed or
// interrupted. It prints "delivered <n>" whenever the number of messages
// delivered in its log changes.
func crashChild() int {
	ctx, stop := signal.NotifyContext(testCtx(), os.Interrupt)
	defer stop()
	fail := func(what string, err error) int {
		fmt.Fprintf(os.Stderr, "crash child: %s: %v\n", what, err)
		return 2
	}
	dir := os.Getenv(crashChildEnv)
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		return fail("open the database", err)
	}
	defer db.Close()
	ring, err := keys.Load(ctx, keys.Options{DataDir: dir})
	if err != nil {
		return fail("load the keyring", err)
	}
	ledger, err := audit.New(ctx, db, ring, audit.Options{})
	if err != nil {
		return fail("open the ledger", err)
	}
	defer ledger.Close()
	n, err := OpenNode(ctx, db, ring, ledger, NodeOptions{Role: RoleMission, Logger: quietLogger()})
	if err != nil {
		return fail("open the node", err)
	}
	dial, err := n.LeafDial(LeafTLSFiles{})
	if err != nil {
		return fail("secure the leaf link", err)
	}
	b, err := bus.Open(ctx, bus.Options{DataDir: dir, ServerName: n.ID(), JetStreamDomain: n.Domain(),
		LeafRemotes: []string{os.Getenv(crashHubEnv)}, LeafDial: dial, Logger: quietLogger()})
	if err != nil {
		return fail("open the bus", err)
	}
	defer b.Close()
	n.Attach(b)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	if spec := os.Getenv(crashSendEnv); spec != "" {
		go crashSend(ctx, n, spec)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	last := int64(-1)
	for {
		select {
		case err := <-done:
			if err != nil {
				return fail("run the transport", err)
			}
			return 0
		case <-tick.C:
		}
		var k int64
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM exchange_log WHERE direction = 'in' AND state = 'delivered'`).Scan(&k); err != nil {
			if ctx.Err() != nil {
				continue // stopping: Run returns next
			}
			return fail("count deliveries", err)
		}
		if k != last {
			fmt.Fprintf(os.Stdout, "delivered %d\n", k) // unbuffered: the parent sees it at once
			last = k
		}
	}
}

// missionProc is a running crash child.
type missionProc struct {
	cmd       *exec.Cmd
	delivered atomic.Int64 // the last count the child printed
	sent      sentLog      // the sends it acknowledged
	exited    chan struct{}
	err       error // how it ended; set before exited closes
}

// startMission starts a crash child on the mission's data directory dir,
// joining the hub at hub, with env added to its environment.
func startMission(tb testing.TB, dir, hub string, races *raceWatch, env ...string) *missionProc {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), crashChildEnv+"="+dir, crashHubEnv+"="+hub), env...)
	cmd.Stderr = races
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &missionProc{cmd: cmd, exited: make(chan struct{})}
	p.delivered.Store(-1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p.sent.line(sc.Text()) {
				continue
			}
			if k, err := strconv.ParseInt(strings.TrimPrefix(sc.Text(), "delivered "), 10, 64); err == nil {
				p.delivered.Store(k)
			}
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	tb.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill() //nolint:errcheck // already gone at worst
			<-p.exited
		}
	})
	return p
}

// waitDelivered waits until the child has delivered at least k messages,
// failing if it stops, or delivers nothing new for a minute (a lost
// message stalls the count for good).
func (p *missionProc) waitDelivered(tb testing.TB, k int64) {
	tb.Helper()
	last, moved := p.delivered.Load(), time.Now()
	waitFor(tb, 10*time.Minute, fmt.Sprintf("%d messages delivered at the mission", k), func() bool {
		select {
		case <-p.exited:
			tb.Fatalf("the mission stopped after %d deliveries: %v", p.delivered.Load(), p.err)
		default:
		}
		switch now := p.delivered.Load(); {
		case now >= k:
			return true
		case now != last:
			last, moved = now, time.Now()
		case time.Since(moved) > time.Minute:
			tb.Fatalf("the mission has delivered %d messages, and no more for a minute; want %d", now, k)
		}
		return false
	})
}

// kill ends the child with SIGKILL: no deferred function, no Close, no
// acknowledgement of what it committed last.
func (p *missionProc) kill(tb testing.TB) {
	tb.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		tb.Fatal(err)
	}
	<-p.exited
}

// stop interrupts the child and waits for a clean exit.
func (p *missionProc) stop(tb testing.TB) {
	tb.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		tb.Fatal("the mission did not stop within 30s of an interrupt")
	}
	if p.err != nil {
		tb.Errorf("the mission ended with %v, want a clean exit", p.err)
	}
}

// raceWatch passes a child's standard error on and notes whether the race
// detector reported anything in it.
type raceWatch struct {
	mu    sync.Mutex
	tail  []byte // the end of the last write, for a report split between writes
	found bool
}

func (w *raceWatch) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf := append(w.tail, b...)
	if bytes.Contains(buf, []byte("WARNING: DATA RACE")) {
		w.found = true
	}
	w.tail = append([]byte(nil), buf[max(0, len(buf)-32):]...)
	return os.Stderr.Write(b)
}

func (w *raceWatch) raced() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.found
}

// prepareMission creates, in dir, the mission node of tn's network as
// enrolment would (its own SQLite database and keyring on disk), lists it
// in the configuration in place of tn's mission, and installs that
// configuration on it and on headquarters.
func prepareMission(tb testing.TB, tn *testNet, dir string) {
	tb.Helper()
	ctx := testCtx()
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, nil); err != nil {
		tb.Fatal(err)
	}
	ring, err := keys.Load(ctx, keys.Options{DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	id := tn.mission.ID()
	seed := &Node{db: db, ring: ring, now: time.Now}
	if err := seed.saveIdentity(ctx, id, RoleMission, tn.hq.ring.PublicKey(), "http://hq.invalid", nil, nil); err != nil {
		tb.Fatalf("create mission identity: %v", err)
	}
	n, err := OpenNode(ctx, db, ring, nil, NodeOptions{Role: RoleMission, Logger: quietLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	signed := tn.publish(tb, func(c *GlobalConf) {
		for i := range c.Nodes {
			if c.Nodes[i].ID == id {
				c.Nodes[i] = withRole(n.Info(), missionMember)
			}
		}
	})
	if err := n.Install(ctx, signed); err != nil {
		tb.Fatalf("install the configuration on the mission: %v", err)
	}
}

// missionInbox opens the mission's database in dir after its process has
// ended, and returns the whole inbox of client with the log's counts of
// incoming rows: all of them, and those delivered.
func missionInbox(tb testing.TB, dir string, client ClientID) (in []Delivered, rows, delivered int) {
	tb.Helper()
	ctx := testCtx()
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	ring, err := keys.Load(ctx, keys.Options{DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	n, err := OpenNode(ctx, db, ring, nil, NodeOptions{Role: RoleMission, Logger: quietLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	in = wholeInbox(tb, n, client)
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN state = 'delivered' THEN 1 END) FROM exchange_log WHERE direction = 'in'`).
		Scan(&rows, &delivered); err != nil {
		tb.Fatal(err)
	}
	return in, rows, delivered
}

func TestKilledMissionLosesNothingAndDeliversNothingTwice(t *testing.T) {
	n := 4_000
	if testing.Short() || raceEnabled {
		n = 1_600
	}
	const (
		senders = 8 // divides n
		kills   = 3
	)
	tn := newTestNet(t, store.SQLite)
	dir := t.TempDir()
	prepareMission(t, tn, dir)
	port := freePort(t)
	hubBus(t, tn.hq.Node, port)
	run(t, tn.hq.Node)
	hub := fmt.Sprintf("nats-leaf://127.0.0.1:%d", port)
	races := &raceWatch{}

	// Headquarters streams while the mission is killed and restarted:
	// each kill lands at a later point of the stream, where batches may
	// be fetched and not committed, or committed and not acknowledged.
	ctx := testCtx()
	var sent [][]string
	sending := make(chan struct{})
	go func() {
		defer close(sending)
		sent = sendTagged(t, n, senders, func(p string) (string, error) { return tn.hq.Send(ctx, notice(p)) })
	}()
	// Headquarters' transport stops after this waits, so that a test
	// that fails early still lets the sends end while it can report.
	t.Cleanup(func() { <-sending })
	var killedAt []int64
	for k := 1; k <= kills; k++ {
		p := startMission(t, dir, hub, races)
		p.waitDelivered(t, int64(k*n/(kills+1)))
		p.kill(t)
		killedAt = append(killedAt, p.delivered.Load())
	}
	p := startMission(t, dir, hub, races)
	<-sending
	if t.Failed() {
		t.FailNow()
	}
	p.waitDelivered(t, int64(n))
	p.stop(t)
	t.Logf("killed the mission after %v of %d deliveries", killedAt, n)
	if races.raced() {
		t.Error("the race detector reported a data race in the mission's process")
	}

	in, rows, delivered := missionInbox(t, dir, consular)
	if rows != n || delivered != n {
		t.Errorf("the mission's log holds %d incoming rows, %d delivered; want %d and %d (a copy taken for a replay, or a loss)", rows, delivered, n, n)
	}
	checkExactlyOnceInOrder(t, in, sent)
}
