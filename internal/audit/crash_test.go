package audit

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// The crash test re-runs the test binary as a child that appends until it
// is killed. TestMain hands control to crashChild when these are set.
const (
	crashChildEnv = "CHANCERY_AUDIT_CRASH_DB"   // the child's database
	crashKeysEnv  = "CHANCERY_AUDIT_CRASH_KEYS" // the child's key directory
)

// crashChild appends events from concurrent writers, half through Append
// and half through AppendTx, printing "ack <id>" for each one only once
// it is durable, and runs the integrator and checkpoints, until killed.
func crashChild() int {
	ctx := context.Background()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	db, err := store.Open(ctx, os.Getenv(crashChildEnv), "")
	if err != nil {
		return fail(err)
	}
	ring, err := keys.Load(ctx, keys.Options{DataDir: os.Getenv(crashKeysEnv)})
	if err != nil {
		return fail(err)
	}
	l, err := New(ctx, db, ring, Options{CheckpointInterval: 20 * time.Millisecond, IntegrateInterval: 5 * time.Millisecond})
	if err != nil {
		return fail(err)
	}
	go l.Run(ctx)
	var out sync.Mutex
	ack := func(id int64) {
		out.Lock()
		defer out.Unlock()
		os.Stdout.WriteString("ack " + strconv.FormatInt(id, 10) + "\n") // unbuffered: written before the next append starts
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * 1_000_000; ; i++ {
				if w%2 == 0 {
					r, err := l.Append(ctx, testEvent(i))
					if err != nil {
						fmt.Fprintln(os.Stderr, "crash child: append:", err)
						return
					}
					ack(r.ID)
					continue
				}
				var id int64
				err := db.InTx(ctx, func(tx *store.Tx) error {
					if err := l.AppendTx(ctx, tx, testEvent(i)); err != nil {
						return err
					}
					return tx.QueryRowContext(ctx, tx.Rebind("SELECT id FROM audit_events WHERE request_id = ?"), testEvent(i).RequestID).Scan(&id)
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, "crash child: append in transaction:", err)
					return
				}
				ack(id)
			}
		}()
	}
	wg.Wait()
	return 1
}

func TestKillDuringAppendsLosesNothingAcknowledged(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db, dsn := storetest.MustOpenShared(t, d) // closed after the ledger
			keyDir := t.TempDir()

			const killAfter = 1500
			acked := make(map[int64]bool)
			killed, err := storetest.RunChild(t, []string{crashChildEnv + "=" + dsn, crashKeysEnv + "=" + keyDir}, func(line string) bool {
				id, err := strconv.ParseInt(strings.TrimPrefix(line, "ack "), 10, 64)
				if err != nil {
					t.Fatalf("child wrote %q", line)
				}
				acked[id] = true
				return len(acked) == killAfter
			})
			if !killed {
				t.Fatalf("the child stopped after %d acknowledgements: %v", len(acked), err)
			}

			ring, err := keys.Load(ctx, keys.Options{DataDir: keyDir})
			if err != nil {
				t.Fatal(err)
			}
			l := mustLedger(t, db, ring, Options{})
			size, err := l.Integrate(ctx)
			if err != nil {
				t.Fatalf("Integrate after the crash: %v", err)
			}
			r, err := l.Verify(ctx, nil)
			if err != nil {
				t.Fatalf("Verify after the crash: %v", err)
			}
			rows, err := db.QueryContext(ctx, "SELECT id FROM audit_events WHERE seq IS NOT NULL")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			present := 0
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				if acked[id] {
					present++
				}
			}
			if present != len(acked) {
				t.Errorf("%d of %d acknowledged events are in the tree after the crash", present, len(acked))
			}
			t.Logf("killed after %d acknowledged appends; tree size %d, %d checkpoints verified", len(acked), size, r.Checkpoints)
		})
	}
}
