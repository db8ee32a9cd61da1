package store

import (
	"context"
	"fmt"
)

// bulkKey is the context key of a bulk load's transaction (WithBulk).
type bulkKey struct{}

// bulkLoad is a transaction of db that DB.InTx runs inside.
type bulkLoad struct {
	db *DB
	tx *Tx
}

// WithBulk returns a context in which db.InTx runs fn inside tx, in a
// savepoint of its own, instead of beginning and committing a
// transaction: a bulk load (the demo's year of documents) calls a
// service's methods, each of which commits its own change, many times in
// one transaction, and pays for one commit instead of thousands. A
// change that fails is undone alone, as its own transaction would be;
// nothing is durable until tx commits. While tx is open it holds
// SQLite's write lock: keep a bulk load short, and let nothing wait on
// another connection's write meanwhile.
func WithBulk(ctx context.Context, db *DB, tx *Tx) context.Context {
	return context.WithValue(ctx, bulkKey{}, bulkLoad{db: db, tx: tx})
}

// inBulk runs fn in a savepoint of ctx's bulk load of db, if there is
// one; ok is false when there is none.
func (db *DB) inBulk(ctx context.Context, fn func(tx *Tx) error) (ok bool, err error) {
	b, found := ctx.Value(bulkKey{}).(bulkLoad)
	if !found || b.db != db {
		return false, nil
	}
	if _, err := b.tx.ExecContext(ctx, `SAVEPOINT bulk`); err != nil {
		return true, fmt.Errorf("store: begin a change of the bulk load: %w", err)
	}
	if err := fn(b.tx); err != nil {
		if _, rerr := b.tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT bulk`); rerr != nil {
			return true, fmt.Errorf("store: undo a change of the bulk load: %w (after %w)", rerr, err)
		}
		if _, rerr := b.tx.ExecContext(ctx, `RELEASE SAVEPOINT bulk`); rerr != nil {
			return true, fmt.Errorf("store: undo a change of the bulk load: %w (after %w)", rerr, err)
		}
		return true, err
	}
	if _, err := b.tx.ExecContext(ctx, `RELEASE SAVEPOINT bulk`); err != nil {
		return true, fmt.Errorf("store: end a change of the bulk load: %w", err)
	}
	return true, nil
}
