package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
