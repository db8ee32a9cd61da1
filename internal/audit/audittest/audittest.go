// Package audittest gives tests a real audit ledger: on a test database,
// under a keyring held in memory, closed when the test ends.
//
// The audit package's own internal tests cannot import it (it imports
// audit) and keep their helpers beside them.
package audittest

import (
	"context"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/keys"
	"chancery/internal/store"
)

// MustRing returns a keyring held in memory under a fresh master key.
func MustRing(tb testing.TB) *keys.Ring {
	tb.Helper()
	r, err := keys.Load(context.Background(), keys.Options{MasterKey: keys.GenerateMasterKey(), Store: &keys.MemStore{}})
	if err != nil {
		tb.Fatalf("keys.Load: %v", err)
	}
	return r
}

// MustLedger opens the audit ledger on db with default options, under a
// keyring of its own held in memory, and closes it when tb ends.
func MustLedger(tb testing.TB, db *store.DB) *audit.Ledger {
	tb.Helper()
	return MustLedgerWith(tb, db, MustRing(tb), audit.Options{})
}

// MustLedgerWith opens the audit ledger on db under ring with opts, and
// closes it when tb ends.
func MustLedgerWith(tb testing.TB, db *store.DB, ring *keys.Ring, opts audit.Options) *audit.Ledger {
	tb.Helper()
	l, err := audit.New(context.Background(), db, ring, opts)
	if err != nil {
		tb.Fatalf("audit.New: %v", err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}
