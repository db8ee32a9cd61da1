package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/bus"
	"chancery/internal/exchange"
	"chancery/internal/identity"
	"chancery/internal/insight"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// benchMission is a mission's exchange node as `serve --role mission`
// runs it, without the rest of the program: enrolled with headquarters,
// its own database, keyring and ledger, its embedded NATS server joined
// to headquarters' as a leaf node, its transport running.
type benchMission struct {
	db   *store.DB
	ring *keys.Ring
}

// enrolBenchMission enrols a mission's node with headquarters: its own
// database and keyring, not yet running.
func enrolBenchMission(b *testing.B, ctx context.Context, hqURL, token string) (benchMission, error) {
	m := benchMission{db: storetest.MustOpen(b, store.SQLite), ring: audittest.MustRing(b)}
	// Headquarters answers slowly while it serves dozens of links on a
	// loaded machine.
	return m, exchange.Enrol(ctx, m.db, m.ring, hqURL, token, &http.Client{Timeout: 2 * time.Minute})
}

// run opens the enrolled mission's node and runs it until b ends. Its
// warnings and errors go to logs.
func (m benchMission) run(b *testing.B, ctx context.Context, logs io.Writer) (*exchange.Node, error) {
	db, ring := m.db, m.ring
	ledger := audittest.MustLedgerWith(b, db, ring, audit.Options{})
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n, err := exchange.OpenNode(ctx, db, ring, ledger, exchange.NodeOptions{Role: exchange.RoleMission, Logger: log})
	if err != nil {
		return nil, err
	}
	log = log.With("node", n.ID())
	dial, err := n.LeafDial(exchange.LeafTLSFiles{})
	if err != nil {
		return nil, err
	}
	// Without a deadline, Open gives JetStream 2 s to answer, which a
	// server starting beside dozens of others may need more than.
	octx, ocancel := context.WithTimeout(ctx, 2*time.Minute)
	defer ocancel()
	bs, err := bus.Open(octx, bus.Options{DataDir: b.TempDir(), ServerName: n.ID(), JetStreamDomain: n.Domain(), LeafRemotes: n.LeafURLs(),
		LeafDial: dial, Logger: log, ConnectTimeout: 2 * time.Minute}) // dozens of servers on a loaded machine
	if err != nil {
		return nil, err
	}
	n.Attach(bs)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); n.Run(rctx) }() //nolint:errcheck // ends with the benchmark
	b.Cleanup(func() { cancel(); <-done; bs.Close() })
	return n, nil
}

// benchSetupWorkers is how many missions are enrolled and started at
// once: enough to keep headquarters and the cores busy, few enough that
// no embedded server waits minutes for the CPU.
const benchSetupWorkers = 8

// BenchmarkReportRound measures the report-round figure: missions, each
// on its own node joined to headquarters by a real leaf link (embedded
// NATS, enrolled, signed and sealed), submit their reports in a round at
// once; headquarters runs as `serve` does (its insight loop takes the
// parcels from its exchange inbox). ms-after-last-arrival is the time
// from the last report's arrival in headquarters' exchange log to the
// moment the collecting head's aggregation counts every mission (polled
// every 10 ms); ms-send-to-aggregate from the first send to that moment.
// CHANCERY_BENCH_MISSIONS sets how many missions (95 by default).
func BenchmarkReportRound(b *testing.B) {
	missions := 95
	// Setting up dozens of nodes takes minutes on a loaded machine: say
	// how far it got as it goes.
	progress := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "BenchmarkReportRound: "+format+"\n", args...)
	}
	if v, err := strconv.Atoi(os.Getenv("CHANCERY_BENCH_MISSIONS")); err == nil && v > 0 {
		missions = v
	}
	ctx := audit.WithOrigin(context.Background(), exchangeActor)
	cfg := testConfig(b, false)
	cfg.LeafAddr = fmt.Sprintf("127.0.0.1:%d", storetest.FreePort(b))
	hq, srv := MustStart(b, cfg)
	hq.bound.Store(srv.Listener.Addr().String())
	hq.runBackground(context.Background())
	b.Cleanup(hq.stopBackground)

	root, err := hq.Identity.UnitByCode(ctx, "000.00.00.G12")
	if err != nil {
		b.Fatal(err)
	}
	m, err := hq.Identity.SeedStaff(ctx, "bench", identity.NewStaff{Username: "round.head", FullName: "Trưởng đơn vị tổng hợp", UnitID: root.ID,
		Roles: authz.RolesOf(authz.Approver)})
	if err != nil {
		b.Fatal(err)
	}
	headCtx, head := staffCtx(m), m.Subject()
	setup := time.Now()
	var setupSerial uint64
	if c, err := hq.Node.Conf(); err == nil {
		setupSerial = c.Serial
	}
	codes, units, nodes := make([]string, missions), make([]int64, missions), make([]*exchange.Node, missions)
	tokens := make([]string, missions)
	for i := range missions {
		codes[i] = fmt.Sprintf("000.%02d.%02d.G12", 10+i/50, i%50+1)
		u, err := hq.Identity.CreateUnit(ctx, "bench", identity.NewUnit{Code: codes[i], NameVI: "Cơ quan đại diện " + codes[i], NameEN: "Mission " + codes[i],
			Kind: identity.KindEmbassy, ParentID: root.ID, Country: "FR", TimeZone: "Europe/Paris"})
		if err != nil {
			b.Fatal(err)
		}
		units[i] = u.ID
		if tokens[i], _, err = hq.Registry.IssueEnrolment(ctx, codes[i]); err != nil {
			b.Fatal(err)
		}
	}
	// The missions' warnings and errors, kept for a set-up that fails.
	logs, err := os.CreateTemp("", "chancery-bench-round-*.log")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { logs.Close(); os.Remove(logs.Name()) })
	var logMu sync.Mutex
	logw := lockedWriter{mu: &logMu, w: logs}
	// Each mission enrols and starts its node as a mission does, several
	// at a time, each as soon as it is enrolled.
	var (
		wg      sync.WaitGroup
		started atomic.Int64
		work    = make(chan int)
	)
	for range benchSetupWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				m, err := enrolBenchMission(b, ctx, srv.URL, tokens[i])
				if err == nil {
					nodes[i], err = m.run(b, ctx, logw)
				}
				if err != nil {
					progress("mission %s: %v", codes[i], err) // at once: the cleanup of the others takes minutes
					b.Errorf("mission %s: %v", codes[i], err)
					continue
				}
				if k := started.Add(1); k%10 == 0 {
					progress("%d missions enrolled and running after %s", k, time.Since(setup).Round(time.Millisecond))
				}
			}
		}()
	}
	for i := range missions {
		work <- i
	}
	close(work)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	b.Logf("%d missions enrolled and running in %s", missions, time.Since(setup).Round(time.Millisecond))
	conf, _ := hq.Node.Conf()
	ministry, _ := sentinelMembers(conf, hq.Node.ID())
	if ministry == "" {
		b.Fatal("headquarters' configuration names no ministry")
	}
	to := insightServiceOf(ministry)
	// Enrolments queue behind one another at headquarters' registry, one
	// publication each, on a machine others share: the waits grow with
	// them.
	wait := max(5*time.Minute, time.Duration(missions)*10*time.Second)
	// Each mission's node must know its right to headquarters' insight
	// service, which its enrolment registers (provisionPlan).
	for deadline, told := time.Now().Add(wait), -1; ; time.Sleep(time.Second) {
		ready := 0
		for i, n := range nodes {
			if c, err := n.Conf(); err == nil && c.Allowed(insightClient(codes[i]), to) {
				ready++
			}
		}
		if ready == missions {
			break
		}
		if ready/10 != told/10 {
			told = ready
			progress("%d of %d missions may send to headquarters' insight service after %s", ready, missions, time.Since(setup).Round(time.Millisecond))
		}
		if time.Now().After(deadline) {
			var missing []string
			hqConf, _ := hq.Node.Conf()
			linked := map[string]bool{}
			if links, err := hq.Bus.LeafLinks(); err == nil {
				for _, l := range links {
					linked[l.Name] = true
				}
			}
			for i, n := range nodes {
				if c, err := n.Conf(); err != nil || !c.Allowed(insightClient(codes[i]), to) {
					serial := uint64(0)
					if c != nil {
						serial = c.Serial
					}
					missing = append(missing, fmt.Sprintf("%s (holds serial %d; headquarters' %d allows it: %v; leaf link up: %v)", n.ID(), serial, hqConf.Serial,
						hqConf.Allowed(insightClient(codes[i]), to), linked[n.ID()]))
				}
			}
			logMu.Lock()
			tail, _ := os.ReadFile(logs.Name())
			logMu.Unlock()
			if len(tail) > 8<<10 {
				tail = tail[len(tail)-8<<10:]
			}
			b.Fatalf("after %s, %d of %d missions may send to headquarters' insight service; not: %s\nthe missions' last warnings:\n%s",
				wait, ready, missions, strings.Join(missing, ", "), tail)
		}
	}
	// The round starts on a settled network, every mission holding
	// headquarters' configuration, unchanged for 5 s (later enrolments
	// publish newer ones).
	for deadline, last, since := time.Now().Add(wait), uint64(0), time.Now(); ; time.Sleep(time.Second) {
		hqConf, err := hq.Node.Conf()
		if err != nil {
			b.Fatal(err)
		}
		behind := 0
		for _, n := range nodes {
			if c, err := n.Conf(); err != nil || c.Serial != hqConf.Serial {
				behind++
			}
		}
		if hqConf.Serial != last {
			last, since = hqConf.Serial, time.Now()
		}
		if behind == 0 && time.Since(since) >= 5*time.Second {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("after %s, the configuration is still changing (serial %d) or %d missions do not hold it", wait, last, behind)
		}
	}
	settled, _ := hq.Node.Conf()
	b.Logf("%d missions enrolled, linked and registered in %s; %d configurations published meanwhile", missions,
		time.Since(setup).Round(time.Millisecond), settled.Serial-setupSerial)
	// Reported with the round's figures: ResetTimer drops metrics.
	setupTime, setupConfs := time.Since(setup), settled.Serial-setupSerial
	if links, err := hq.Bus.LeafLinks(); err != nil || len(links) != missions {
		b.Fatalf("headquarters has %d leaf links (%v), want %d", len(links), err, missions)
	}
	tp, err := hq.Insight.CreateTemplate(headCtx, head, insight.Template{Code: "round_bench", NameVI: "Báo cáo định kỳ", NameEN: "Periodic report",
		Period: insight.Monthly, Indicators: []insight.Indicator{
			{Code: "passports", NameVI: "Hộ chiếu", NameEN: "Passports", Type: insight.Integer, Required: true},
			{Code: "on_time", NameVI: "Đúng hạn", NameEN: "On time", Type: insight.Percent, Required: true}}})
	if err != nil {
		b.Fatal(err)
	}

	var after, total time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		r, err := hq.Insight.OpenRound(headCtx, head, insight.NewRound{TemplateID: tp.ID, WorkingDays: 10, Units: units})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		ids := make([]string, missions)
		var wg sync.WaitGroup
		for i, n := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// The parcel a mission's insight sends when its officer
				// submits (insight's wire format).
				p, _ := json.Marshal(map[string]any{"type": "submission", "from": codes[i], "submission": map[string]any{
					"RoundUID": r.UID, "UID": fmt.Sprintf("%s-%d", r.UID, i), "Unit": codes[i], "By": "officer", "Status": "submitted",
					"Values": map[string]string{"passports": strconv.Itoa(100 + i), "on_time": "97.5"}, "At": time.Now().UTC()}})
				id, err := n.Send(ctx, exchange.Outgoing{From: insightClient(codes[i]), To: to, ContentType: insight.ContentType, Payload: p})
				if err != nil {
					b.Error(err)
				}
				ids[i] = id
			}()
		}
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}
		var done time.Time
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
			a, err := hq.Insight.Aggregate(headCtx, head, r.ID)
			if err != nil {
				b.Fatal(err)
			}
			if a.Counted == missions {
				done = time.Now()
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("after 2 minutes headquarters counts %d of %d reports", a.Counted, missions)
			}
		}
		b.StopTimer()
		var last int64
		if err := hq.DB.QueryRowContext(ctx, `SELECT MAX(logged_us) FROM exchange_log WHERE direction = 'in' AND msg_id IN ('`+
			strings.Join(ids, "','")+`')`).Scan(&last); err != nil {
			b.Fatal(err)
		}
		after += done.Sub(time.UnixMicro(last))
		total += done.Sub(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(after.Microseconds())/1000/float64(b.N), "ms-after-last-arrival")
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-send-to-aggregate")
	b.ReportMetric(float64(missions), "leaf-links")
	b.ReportMetric(setupTime.Seconds(), "s-setup")
	b.ReportMetric(float64(setupConfs), "confs-in-setup")
}

// lockedWriter serialises the writes of many nodes' loggers to one file.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
