package audit

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/compact"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// tamperedLedger returns a ledger of 10 events with checkpoints at sizes
// 4 and 10.
func tamperedLedger(t *testing.T, db *store.DB) *Ledger {
	t.Helper()
	ctx := context.Background()
	l := mustLedger(t, db, mustRing(t), Options{})
	appendEvents(t, l, 0, 4)
	if _, err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, l, 4, 10)
	if _, err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	return l
}

// mustExec runs SQL written with '?' placeholders, failing the test on error.
func mustExec(t *testing.T, db *store.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), db.Rebind(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// rebuildTree recomputes every stored node and the root from the leaf
// hashes stored beside the events, as an administrator covering an edit
// would.
func rebuildTree(t *testing.T, l *Ledger) {
	t.Helper()
	ctx := context.Background()
	rows, err := l.db.QueryContext(ctx, "SELECT leaf_hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	rng := rangeFactory.NewEmptyRange(0)
	var nodes []node
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		rng.Append(h, func(id compact.NodeID, hash []byte) { nodes = append(nodes, node{nodeKey(id), hash}) })
	}
	rows.Close()
	root, _ := rng.GetRootHash(nil)
	err = l.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM audit_nodes"); err != nil {
			return err
		}
		if err := insertNodes(ctx, tx, nodes); err != nil {
			return err
		}
		return updateTree(ctx, tx, rng.End(), root)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestVerifyAcceptsAnUntouchedLedger(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := tamperedLedger(t, db)
		appendEvents(t, l, 10, 12) // beyond the last checkpoint
		var progress []uint64
		r, err := l.Verify(ctx, func(n uint64) { progress = append(progress, n) })
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		size, root, _ := l.Head(ctx)
		if r.Size != size || string(r.Root) != string(root) || r.Checkpoints != 2 || r.Latest.Size != 10 {
			t.Errorf("report %+v, tree %d", r, size)
		}
		if len(progress) == 0 || progress[len(progress)-1] != r.Size {
			t.Errorf("progress %v does not end at %d", progress, r.Size)
		}
	})
}

func TestVerifyFindsTheFirstTamperedEvent(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(t *testing.T, l *Ledger)
		seq     uint64
		problem string
	}{
		{"field edited", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 5")
		}, 5, "was edited"},
		{"attributes no longer JSON", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "UPDATE audit_events SET attrs = 'x' WHERE seq = 6")
		}, 6, "was edited"},
		{"field and leaf hash edited", func(t *testing.T, l *Ledger) {
			e := testEvent(5)
			e.Actor = Staff(1, "someone else")
			h, _ := e.LeafHash()
			mustExec(t, l.db, "UPDATE audit_events SET actor_id = '1', actor_name = 'someone else', leaf_hash = ? WHERE seq = 5", h)
		}, 5, "was replaced"},
		{"row deleted", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "DELETE FROM audit_events WHERE seq = 5")
		}, 5, "is missing"},
		{"last row deleted", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "DELETE FROM audit_events WHERE seq = 9")
		}, 9, "is missing"},
		{"rows swapped", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "UPDATE audit_events SET seq = -1 WHERE seq = 3")
			mustExec(t, l.db, "UPDATE audit_events SET seq = 3 WHERE seq = 7")
			mustExec(t, l.db, "UPDATE audit_events SET seq = 7 WHERE seq = -1")
		}, 3, "holds event 7"},
		{"row deleted and the rest renumbered", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "DELETE FROM audit_events WHERE seq = 4")
			mustExec(t, l.db, "UPDATE audit_events SET seq = seq + 100 WHERE seq > 4")
			mustExec(t, l.db, "UPDATE audit_events SET seq = seq - 101 WHERE seq > 100")
		}, 4, "holds event 5"},
		{"row inserted in the middle", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "UPDATE audit_events SET seq = seq + 100 WHERE seq >= 6")
			mustExec(t, l.db, "UPDATE audit_events SET seq = seq - 99 WHERE seq >= 100")
			p, _ := l.prepare(testEvent(77))
			mustExec(t, l.db, "INSERT INTO audit_events (seq, "+eventColumns+") VALUES (6, ?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
				p.ev.Time.UnixMicro(), string(p.ev.Actor.Kind), p.ev.Actor.ID, p.ev.Actor.Name, p.ev.UnitID, p.ev.Action,
				p.ev.ResourceType, p.ev.ResourceID, int64(p.ev.Level), string(p.ev.Outcome), p.ev.Reason, p.ev.RequestID, p.attrs, p.leaf)
		}, 6, "was replaced"},
		{"row inserted beyond the tree", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "INSERT INTO audit_events (seq, "+eventColumns+") SELECT 10, "+eventColumns+" FROM audit_events WHERE seq = 2")
		}, 10, "inserted"},
		{"inner node altered", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "UPDATE audit_nodes SET hash = ? WHERE id = ?", make([]byte, 32), nodeKey(compact.NewNodeID(1, 3)))
		}, 6, "differs"},
		{"inner node deleted", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "DELETE FROM audit_nodes WHERE id = ?", nodeKey(compact.NewNodeID(2, 0)))
		}, 0, "missing"},
		{"leaf deleted", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "DELETE FROM audit_nodes WHERE id = ?", nodeKey(compact.NewNodeID(0, 8)))
		}, 8, "no leaf"},
		{"tree nodes cut short", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "DELETE FROM audit_nodes WHERE id >= ?", nodeKey(compact.NewNodeID(0, 7)))
		}, 7, "no leaf"},
		{"node inserted beyond the tree", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "INSERT INTO audit_nodes (id, hash) VALUES (?, ?)", nodeCount(10), make([]byte, 32))
		}, 10, "inserted"},
		{"event and whole tree rewritten", func(t *testing.T, l *Ledger) {
			e := testEvent(6)
			e.Outcome = Denied
			h, _ := e.LeafHash()
			mustExec(t, l.db, "UPDATE audit_events SET outcome = 'denied', leaf_hash = ? WHERE seq = 6", h)
			rebuildTree(t, l)
		}, 4, "does not have the root signed"},
		{"first event rewritten with the tree", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "UPDATE audit_events SET reason = 'x', leaf_hash = ? WHERE seq = 0", leafWithReason(0, "x"))
			rebuildTree(t, l)
		}, 0, "does not have the root signed"},
		{"tail cut off", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "DELETE FROM audit_events WHERE seq >= 7")
			rebuildTree(t, l)
		}, 7, "removed from the end"},
		{"stored root altered", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "UPDATE audit_tree SET root = ?", make([]byte, 32))
		}, 10, "stored root"},
		{"checkpoint root column altered", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "UPDATE audit_checkpoints SET root = ? WHERE size = 4", make([]byte, 32))
		}, 0, "was altered"},
		{"checkpoint note forged", func(t *testing.T, l *Ledger) {
			mustExec(t, l.db, "UPDATE audit_checkpoints SET note = replace(note, '\n10\n', '\n11\n') WHERE size = 10")
		}, 4, "does not verify"},
	}
	for _, d := range storetest.Dialects {
		for _, tt := range tests {
			t.Run(string(d)+"/"+tt.name, func(t *testing.T) {
				l := tamperedLedger(t, storetest.MustOpen(t, d))
				tt.tamper(t, l)
				_, err := l.Verify(context.Background(), nil)
				var te *TamperError
				if !errors.As(err, &te) {
					t.Fatalf("Verify = %v, want a *TamperError", err)
				}
				if te.Seq != tt.seq || !strings.Contains(te.Problem, tt.problem) {
					t.Errorf("Verify = %v; want event %d and %q", err, tt.seq, tt.problem)
				}
			})
		}
	}
}

// leafWithReason returns the leaf hash of test event i with its reason
// replaced.
func leafWithReason(i int, reason string) []byte {
	e := testEvent(i)
	e.Reason = reason
	h, _ := e.LeafHash()
	return h
}
