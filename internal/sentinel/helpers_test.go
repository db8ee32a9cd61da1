package sentinel

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/bus"
	"chancery/internal/keys"
	"chancery/internal/sentinel/detect"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// countingScorer is a scorer for the watcher's tests: it remembers every
// sequence number it observed (and any out of order), and raises an alert
// on every fifth event of a person, so that exactly-once is visible in
// its saved state and in the alerts stored.
type countingScorer struct {
	State struct {
		Next     uint64           `json:"next"`
		Disorder []uint64         `json:"disorder"` // events observed out of order or twice
		PerUser  map[string]int   `json:"per_user"`
		Verdicts map[string][]int `json:"verdicts"` // rule → +1 true, -1 false positive
	}
}

func newCountingScorer() (detect.Scorer, error) {
	s := &countingScorer{}
	s.State.PerUser = map[string]int{}
	s.State.Verdicts = map[string][]int{}
	return s, nil
}

func (s *countingScorer) Observe(e audit.Event) []detect.Alert {
	if e.Seq != s.State.Next {
		s.State.Disorder = append(s.State.Disorder, e.Seq)
	}
	s.State.Next = e.Seq + 1
	s.State.PerUser[e.Actor.Name]++
	if s.State.PerUser[e.Actor.Name]%5 != 0 {
		return nil
	}
	return []detect.Alert{{Rule: "bulk_read", User: e.Actor.Name, ActorKind: string(e.Actor.Kind), ActorID: e.Actor.ID, UnitID: e.UnitID,
		Score: 70, Risk: float64(s.State.PerUser[e.Actor.Name]), Events: []uint64{e.Seq}, First: e.Time, Last: e.Time, Level: e.Level,
		Title:       detect.Text{VI: "Đọc hàng loạt", EN: "Bulk reading"},
		Explanation: detect.Text{VI: fmt.Sprintf("đọc %d hồ sơ", s.State.PerUser[e.Actor.Name]), EN: fmt.Sprintf("read %d dossiers", s.State.PerUser[e.Actor.Name])}}}
}

func (s *countingScorer) Feedback(f detect.Feedback) {
	v := -1
	if f.TruePositive {
		v = 1
	}
	s.State.Verdicts[f.Rule] = append(s.State.Verdicts[f.Rule], v)
}

func (s *countingScorer) MarshalState() ([]byte, error) { return json.Marshal(s.State) }

func (s *countingScorer) UnmarshalState(b []byte) error { return json.Unmarshal(b, &s.State) }

// world is one node: a database, its ledger publishing to its stream, and
// the bus.
type world struct {
	db     *store.DB
	ledger *audit.Ledger
	bus    *bus.Bus
	node   string
}

// newLedger opens an audit ledger on db with a keyring in memory.
func newLedger(t testing.TB, db *store.DB) *audit.Ledger {
	t.Helper()
	ctx := context.Background()
	ring, err := keys.Load(ctx, keys.Options{MasterKey: keys.GenerateMasterKey(), Store: &keys.MemStore{}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.New(ctx, db, ring, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	l := newLedger(t, db)
	b, err := bus.Open(ctx, bus.Options{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, ledger: l, bus: b, node: "hq"}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.PublishStream(pctx, b.JetStream(), w.node); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		b.Close()
		l.Close()
	})
	return w
}

// watch runs a watcher with opts (filled in from w) until the returned
// stop is called.
func (w *world) watch(t testing.TB, opts WatcherOptions) (stop func()) {
	t.Helper()
	opts.DB, opts.Ledger, opts.JetStream, opts.Node = w.db, w.ledger, w.bus.JetStream(), w.node
	if opts.NewScorer == nil {
		opts.NewScorer = newCountingScorer
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	wt, err := NewWatcher(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { wt.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// readEvent is event i of the tests' activity: staff reading documents.
func readEvent(i int) audit.Event {
	return audit.Event{Actor: audit.Staff(int64(1+i%3), fmt.Sprintf("user%d", i%3)), UnitID: 1, Action: "record.read",
		ResourceType: "document", ResourceID: fmt.Sprint(i), Outcome: audit.Allowed, Level: authz.Level(i % 2)}
}

// appendN appends events [from, to), concurrently (the ledger commits
// them in groups).
func (w *world) appendN(t testing.TB, from, to int) {
	t.Helper()
	errs := make(chan error, to-from)
	var wg sync.WaitGroup
	for i := from; i < to; i++ {
		wg.Go(func() {
			_, err := w.ledger.Append(context.Background(), readEvent(i))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// waitScored waits until the watcher has saved its position at next and
// returns its saved scorer.
func (w *world) waitScored(t testing.TB, next uint64) *countingScorer {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		row, err := loadWatcher(context.Background(), w.db, w.node)
		if err != nil {
			t.Fatal(err)
		}
		if row.next >= next {
			s, _ := newCountingScorer()
			if err := s.UnmarshalState(row.state); err != nil {
				t.Fatal(err)
			}
			return s.(*countingScorer)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watcher saved position %d, want %d", row.next, next)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countAlerts counts the stored alerts.
func countAlerts(t testing.TB, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM sentinel_alerts").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
