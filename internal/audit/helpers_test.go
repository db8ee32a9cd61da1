package audit

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	storetest.Main(m)
}

// mustRing returns a keyring held in memory.
func mustRing(tb testing.TB) *keys.Ring {
	tb.Helper()
	r, err := keys.Load(context.Background(), keys.Options{MasterKey: keys.GenerateMasterKey(), Store: &keys.MemStore{}})
	if err != nil {
		tb.Fatalf("keys.Load: %v", err)
	}
	return r
}

// mustLedger opens a ledger on db and closes it when tb ends.
func mustLedger(tb testing.TB, db *store.DB, ring *keys.Ring, opts Options) *Ledger {
	tb.Helper()
	l, err := New(context.Background(), db, ring, opts)
	if err != nil {
		tb.Fatalf("audit.New: %v", err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// testEvent returns the i-th of a varied series of valid events.
func testEvent(i int) Event {
	e := Event{
		Time:         time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * 1500 * time.Microsecond),
		Actor:        Staff(int64(100+i%7), fmt.Sprintf("Nguyễn Văn %d", i%7)),
		UnitID:       int64(1 + i%3),
		Action:       []string{"record.read", "record.update", "login", "record.export"}[i%4],
		ResourceType: "record",
		ResourceID:   fmt.Sprintf("2025-%04d", i),
		Level:        authz.Level(i % 4),
		Outcome:      []Outcome{Allowed, Denied, OK, Failed}[i%4],
		RequestID:    fmt.Sprintf("req-%d", i),
	}
	if i%3 == 0 {
		e.Reason = "cần biết: đơn vị được chia sẻ"
	}
	if i%5 == 0 {
		e.Attrs = map[string]string{"ip": fmt.Sprintf("10.0.0.%d", i%250), "share": "unit-3"}
	}
	return e
}

// appendEvents appends events [from, to) of the series one Append at a
// time and integrates them.
func appendEvents(tb testing.TB, l *Ledger, from, to int) {
	tb.Helper()
	ctx := context.Background()
	for i := from; i < to; i++ {
		if _, err := l.Append(ctx, testEvent(i)); err != nil {
			tb.Fatalf("Append(%d): %v", i, err)
		}
	}
	if _, err := l.Integrate(ctx); err != nil {
		tb.Fatalf("Integrate: %v", err)
	}
}

// sameEvent reports whether two events record the same thing.
func sameEvent(a, b Event) bool {
	ha, erra := a.MarshalLeaf()
	hb, errb := b.MarshalLeaf()
	return erra == nil && errb == nil && string(ha) == string(hb)
}
