package audit

import (
	"context"
	"errors"
	"strings"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

const testOrigin = "chancery.mofa.gov.vn/audit/hq"

// mustWitness returns a witness of l's log that keeps its state in db and
// cosigns with its own key.
func mustWitness(t *testing.T, db *store.DB, l *Ledger) (*Witness, *keys.Ring) {
	t.Helper()
	logKey, err := l.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	ring := mustRing(t)
	cosigner, err := NewCosigner("chancery.mofa.gov.vn/witness/paris", ring.Signer(), nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWitness(db, WitnessOptions{Log: logKey, Cosigner: cosigner})
	if err != nil {
		t.Fatal(err)
	}
	return w, ring
}

func checkpointed(t *testing.T, l *Ledger, from, to int) {
	t.Helper()
	appendEvents(t, l, from, to)
	if _, err := l.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWitnessCountersignsAGrowingLedger(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := mustLedger(t, storetest.MustOpen(t, store.SQLite), mustRing(t), Options{Origin: testOrigin})
		w, wring := mustWitness(t, db, l)
		if _, err := w.Latest(ctx); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("Latest before any Update = %v, want ErrNotFound", err)
		}
		for _, size := range []int{5, 5, 12, 13} {
			checkpointed(t, l, int(mustSize(t, l)), size)
			cp, err := w.Update(ctx, l.Source())
			if err != nil {
				t.Fatalf("Update at size %d: %v", size, err)
			}
			if cp.Size != uint64(size) {
				t.Errorf("Update returned size %d, want %d", cp.Size, size)
			}
			v, _ := NewCosignatureVerifier("chancery.mofa.gov.vn/witness/paris", wring.PublicKey())
			if _, ok := CosignatureTime(cp.Note, v); !ok {
				t.Errorf("the witnessed checkpoint at size %d has no valid cosignature", size)
			}
			logKey, _ := l.Verifier()
			if _, err := ParseCheckpoint(cp.Note, logKey); err != nil {
				t.Errorf("the cosigned checkpoint no longer parses as the log's: %v", err)
			}
		}
		latest, err := w.Latest(ctx)
		if err != nil || latest.Size != 13 {
			t.Errorf("Latest = %d, %v; want 13", latest.Size, err)
		}
	})
}

func mustSize(t *testing.T, l *Ledger) uint64 {
	size, _, err := l.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return size
}

// TestWitnessCatchesARewrittenLedger has the log's operator replace the
// ledger with another history under the same origin and key — what an
// administrator who rewrote the rows and recomputed the tree would have —
// and checks that the witness refuses it and keeps the evidence.
func TestWitnessCatchesARewrittenLedger(t *testing.T) {
	tests := []struct {
		name    string
		rewrite func(t *testing.T, forged *Ledger) // builds the forged history
		problem string
	}{
		{"longer, with one event changed", func(t *testing.T, forged *Ledger) {
			checkpointed(t, forged, 0, 6)
			e := testEvent(6)
			e.Outcome = Allowed
			if _, err := forged.Append(context.Background(), e); err != nil {
				t.Fatal(err)
			}
			checkpointed(t, forged, 7, 15)
		}, "does not extend"},
		{"same size, one event dropped and another added", func(t *testing.T, forged *Ledger) {
			checkpointed(t, forged, 0, 3)
			checkpointed(t, forged, 4, 11)
		}, "two different roots"},
		{"rewound", func(t *testing.T, forged *Ledger) {
			checkpointed(t, forged, 0, 7)
		}, "rewound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ring := mustRing(t)
			honest := mustLedger(t, storetest.MustOpen(t, store.SQLite), ring, Options{Origin: testOrigin})
			checkpointed(t, honest, 0, 10)
			w, _ := mustWitness(t, storetest.MustOpen(t, store.SQLite), honest)
			if _, err := w.Update(ctx, honest.Source()); err != nil {
				t.Fatal(err)
			}

			forged := mustLedger(t, storetest.MustOpen(t, store.SQLite), ring, Options{Origin: testOrigin})
			tt.rewrite(t, forged)
			if _, err := forged.Verify(ctx, nil); err != nil {
				t.Fatalf("the forged ledger must verify on its own: %v", err)
			}
			_, err := w.Update(ctx, forged.Source())
			var ie *InconsistentError
			if !errors.As(err, &ie) {
				t.Fatalf("Update(forged) = %v, want an *InconsistentError", err)
			}
			if ie.Known != 10 || ie.Origin != testOrigin || !strings.Contains(ie.Problem, tt.problem) {
				t.Errorf("Update(forged) = %+v; want known size 10 and %q", ie, tt.problem)
			}
			conflicts, err := w.Conflicts(ctx)
			if err != nil || len(conflicts) != 1 {
				t.Fatalf("Conflicts = %d, %v; want the evidence", len(conflicts), err)
			}
			logKey, _ := honest.Verifier()
			known, err1 := ParseCheckpoint(conflicts[0].Known, logKey)
			offered, err2 := ParseCheckpoint(conflicts[0].Offered, logKey)
			if err1 != nil || err2 != nil || known.Size != 10 || offered.Size != ie.Offered {
				t.Errorf("evidence %d/%d (%v, %v): both checkpoints must be the log's signed notes", known.Size, offered.Size, err1, err2)
			}
			if latest, _ := w.Latest(ctx); latest.Size != 10 {
				t.Errorf("the witness moved to the forged checkpoint (size %d)", latest.Size)
			}
			// The honest ledger is still accepted.
			checkpointed(t, honest, 10, 20)
			if _, err := w.Update(ctx, honest.Source()); err != nil {
				t.Errorf("Update(honest) after the conflict: %v", err)
			}
		})
	}
}

func TestWitnessRefusesACheckpointSignedByAnotherKey(t *testing.T) {
	ctx := context.Background()
	honest := mustLedger(t, storetest.MustOpen(t, store.SQLite), mustRing(t), Options{Origin: testOrigin})
	impostor := mustLedger(t, storetest.MustOpen(t, store.SQLite), mustRing(t), Options{Origin: testOrigin})
	checkpointed(t, impostor, 0, 3)
	w, _ := mustWitness(t, storetest.MustOpen(t, store.SQLite), honest)
	if _, err := w.Update(ctx, impostor.Source()); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("Update(impostor) = %v, want ErrInvalid", err)
	}
	if _, err := w.Latest(ctx); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("the witness stored the impostor's checkpoint: %v", err)
	}
}
