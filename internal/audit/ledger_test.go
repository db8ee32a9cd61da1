package audit

import (
	"context"
	"errors"
	"sync"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestAppendGivesContiguousSequenceNumbers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := mustLedger(t, db, mustRing(t), Options{})
		const writers, each = 8, 40
		var wg sync.WaitGroup
		ids := make([]int64, writers*each)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < each; k++ {
					i := w*each + k
					r, err := l.Append(ctx, testEvent(i))
					if err != nil {
						t.Errorf("Append(%d): %v", i, err)
						return
					}
					ids[i] = r.ID
				}
			}()
		}
		wg.Wait()
		size, err := l.Integrate(ctx)
		if err != nil || size != writers*each {
			t.Fatalf("Integrate = %d, %v; want %d", size, err, writers*each)
		}
		seen := make(map[string]bool)
		for seq := uint64(0); seq < size; seq++ {
			e, err := l.Event(ctx, seq)
			if err != nil {
				t.Fatalf("Event(%d): %v", seq, err)
			}
			if e.Seq != seq {
				t.Errorf("Event(%d).Seq = %d", seq, e.Seq)
			}
			seen[e.RequestID] = true
		}
		for i := range writers * each {
			if want := testEvent(i).RequestID; !seen[want] {
				t.Errorf("event %s is not in the ledger", want)
			}
		}
		if _, err := l.Verify(ctx, nil); err != nil {
			t.Errorf("Verify: %v", err)
		}
	})
}

func TestAppendTxCommitsAndRollsBackWithTheAction(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := mustLedger(t, db, mustRing(t), Options{})
		errAction := errors.New("the action failed")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := l.AppendTx(ctx, tx, testEvent(1)); err != nil {
				return err
			}
			return errAction
		})
		if !errors.Is(err, errAction) {
			t.Fatalf("InTx = %v", err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error { return l.AppendTx(ctx, tx, testEvent(2)) })
		if err != nil {
			t.Fatalf("InTx: %v", err)
		}
		size, err := l.Integrate(ctx)
		if err != nil || size != 1 {
			t.Fatalf("Integrate = %d, %v; want 1 (the rolled-back event must not count)", size, err)
		}
		e, err := l.Event(ctx, 0)
		if err != nil || !sameEvent(e, testEvent(2)) {
			t.Errorf("Event(0) = %+v, %v; want event 2", e, err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return l.AppendTx(ctx, tx, Event{}) }); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("AppendTx(invalid) = %v, want ErrInvalid", err)
		}
	})
}

func TestProofsVerifyForEveryEventAndSize(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := mustLedger(t, db, mustRing(t), Options{})
		const n = 21
		roots := make([][]byte, n+1)
		leaves := make([][]byte, n)
		for i := range n {
			appendEvents(t, l, i, i+1)
			size, root, err := l.Head(ctx)
			if err != nil || size != uint64(i+1) {
				t.Fatalf("Head = %d, %v", size, err)
			}
			roots[size] = root
			e := testEvent(i)
			leaves[i], _ = e.LeafHash()
		}
		for size := uint64(1); size <= n; size++ {
			for seq := range size {
				p, err := l.InclusionProof(ctx, seq, size)
				if err != nil {
					t.Fatalf("InclusionProof(%d, %d): %v", seq, size, err)
				}
				if err := VerifyInclusion(leaves[seq], seq, size, p, roots[size]); err != nil {
					t.Errorf("inclusion of %d in %d: %v", seq, size, err)
				}
				if err := VerifyInclusion(leaves[(seq+1)%n], seq, size, p, roots[size]); !errors.Is(err, ErrBadProof) && size > 1 {
					t.Errorf("the proof of %d in %d verifies another leaf: %v", seq, size, err)
				}
			}
			for size1 := uint64(1); size1 <= size; size1++ {
				p, err := l.ConsistencyProof(ctx, size1, size)
				if err != nil {
					t.Fatalf("ConsistencyProof(%d, %d): %v", size1, size, err)
				}
				if err := VerifyConsistency(size1, size, p, roots[size1], roots[size]); err != nil {
					t.Errorf("consistency of %d with %d: %v", size1, size, err)
				}
				if size1 < size {
					if err := VerifyConsistency(size1, size, p, roots[size], roots[size]); !errors.Is(err, ErrBadProof) {
						t.Errorf("consistency of %d with %d verifies a wrong root: %v", size1, size, err)
					}
				}
			}
		}
	})
}

func TestProofRequestsRefuseImpossibleSizes(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t, store.SQLite)
	l := mustLedger(t, db, mustRing(t), Options{})
	appendEvents(t, l, 0, 5)
	tests := []struct {
		name string
		call func() ([][]byte, error)
	}{
		{"inclusion in size 0", func() ([][]byte, error) { return l.InclusionProof(ctx, 0, 0) }},
		{"inclusion of an index beyond the size", func() ([][]byte, error) { return l.InclusionProof(ctx, 3, 3) }},
		{"inclusion in a size beyond the tree", func() ([][]byte, error) { return l.InclusionProof(ctx, 1, 6) }},
		{"consistency from size 0", func() ([][]byte, error) { return l.ConsistencyProof(ctx, 0, 3) }},
		{"consistency backwards", func() ([][]byte, error) { return l.ConsistencyProof(ctx, 4, 3) }},
		{"consistency beyond the tree", func() ([][]byte, error) { return l.ConsistencyProof(ctx, 2, 9) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := tt.call(); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("got %x, %v; want ErrInvalid", p, err)
			}
		})
	}
	if _, err := l.Event(ctx, 5); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Event beyond the tree = %v, want ErrNotFound", err)
	}
}

// TestIntegrateFollowsCommitOrder commits two events in the opposite order
// of their provisional ids, as concurrent PostgreSQL transactions can (a
// SQLite writer holds the database lock from BEGIN, so ids and commits
// never cross there).
func TestIntegrateFollowsCommitOrder(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t, store.Postgres)
	l := mustLedger(t, db, mustRing(t), Options{})
	first, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback()
	if err := l.AppendTx(ctx, &store.Tx{Tx: first, Dialect: db.Dialect}, testEvent(1)); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return l.AppendTx(ctx, tx, testEvent(2)) }); err != nil {
		t.Fatal(err)
	}
	if size, err := l.Integrate(ctx); err != nil || size != 1 {
		t.Fatalf("Integrate = %d, %v; want 1 (only the committed event)", size, err)
	}
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	if size, err := l.Integrate(ctx); err != nil || size != 2 {
		t.Fatalf("Integrate = %d, %v; want 2", size, err)
	}
	for seq, want := range []int{2, 1} {
		if e, err := l.Event(ctx, uint64(seq)); err != nil || !sameEvent(e, testEvent(want)) {
			t.Errorf("Event(%d) = %+v, %v; want event %d", seq, e, err, want)
		}
	}
	if _, err := l.Verify(ctx, nil); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// TestReplicasShareOneLedger runs two ledgers on one database, as two
// replicas would, appending and integrating at once.
func TestReplicasShareOneLedger(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ring := mustRing(t)
		replicas := []*Ledger{mustLedger(t, db, ring, Options{}), mustLedger(t, db, ring, Options{})}
		var wg sync.WaitGroup
		for r, l := range replicas {
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := range 50 {
						if _, err := l.Append(ctx, testEvent(r*1000+w*100+k)); err != nil {
							t.Error(err)
							return
						}
						if k%10 == 0 {
							if _, err := l.Integrate(ctx); err != nil {
								t.Error(err)
								return
							}
						}
					}
				}()
			}
		}
		wg.Wait()
		for _, l := range replicas {
			if _, err := l.Integrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		r, err := replicas[1].Verify(ctx, nil)
		if err != nil || r.Size != 400 || r.Pending != 0 {
			t.Errorf("Verify = %+v, %v; want 400 events, none pending", r, err)
		}
	})
}

func TestCloseCommitsQueuedAppends(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t, store.SQLite)
	l, err := New(ctx, db, mustRing(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		acked sync.Map
		first = make(chan struct{}, 100)
	)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := l.Append(ctx, testEvent(i)); err == nil {
				acked.Store(r.ID, true)
				first <- struct{}{}
			} else if !errors.Is(err, ErrClosed) {
				t.Errorf("Append: %v", err)
			}
		}()
	}
	<-first // close while appends are under way
	l.Close()
	wg.Wait()
	if _, err := l.Append(ctx, testEvent(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	var integrated int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_events WHERE seq IS NOT NULL").Scan(&integrated); err != nil {
		t.Fatal(err)
	}
	n := 0
	acked.Range(func(any, any) bool { n++; return true })
	if integrated != n {
		t.Errorf("%d events integrated, %d acknowledged: Close must commit and integrate what it accepted", integrated, n)
	}
}

// TestVerifyWhileAnotherReplicaIntegrates verifies the ledger again and
// again while another replica appends and integrates on the same
// database: the tree growing between Verify's reads is no tampering. (The
// whole-system test found `chancery audit verify` reporting "an event
// has sequence number N, beyond the tree's N events" on a live ledger.)
func TestVerifyWhileAnotherReplicaIntegrates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ring := mustRing(t)
		writer, checker := mustLedger(t, db, ring, Options{}), mustLedger(t, db, ring, Options{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for k := range 300 {
				if _, err := writer.Append(ctx, testEvent(k)); err != nil {
					t.Error(err)
					return
				}
				if _, err := writer.Integrate(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		for {
			if _, err := checker.Verify(ctx, nil); err != nil {
				t.Errorf("Verify while another replica integrates: %v", err)
				<-done
				return
			}
			select {
			case <-done:
				return
			default:
			}
		}
	})
}
