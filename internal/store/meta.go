package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"chancery/internal/errs"
)

// Meta returns the value stored under key in the meta table, or an error
// wrapping errs.ErrNotFound.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.QueryRowContext(ctx, db.Rebind("SELECT value FROM meta WHERE key = ?"), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("meta %q: %w", key, errs.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: read meta %q: %w", key, err)
	}
	return v, nil
}

// SetMeta stores value under key, replacing any earlier value.
func SetMeta(ctx context.Context, q Queryer, key, value string) error {
	_, err := q.ExecContext(ctx, q.Rebind(
		"INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"), key, value)
	if err != nil {
		return fmt.Errorf("store: write meta %q: %w", key, err)
	}
	return nil
}

// probeKey is the meta row CheckWritable rewrites.
const probeKey = "ready_probe"

// CheckWritable commits a small write (the meta row "ready_probe", set to
// the time) and returns an error if the database does not take it: its
// disk is full, it turned read-only (a standby after a failover), or the
// connection is gone. A readiness probe needs it: a database that answers
// reads but takes no writes cannot serve. errs.IsStorageFull tells a full
// disk from the rest.
func (db *DB) CheckWritable(ctx context.Context) error {
	err := db.InTx(ctx, func(tx *Tx) error {
		return SetMeta(ctx, tx, probeKey, Now().Format(time.RFC3339Nano))
	})
	if err != nil {
		return fmt.Errorf("store: the database %s takes no writes: %w", db.Location, err)
	}
	return nil
}
