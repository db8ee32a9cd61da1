package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"chancery/internal/keys"
)

// KeyringStore keeps the node's wrapped keyring in the database, so every
// replica of a headquarters deployment shares one keyring and a rotation
// by one is seen by all. It implements keys.Store.
type KeyringStore struct{ db *DB }

// NewKeyringStore returns the keyring store of db.
func NewKeyringStore(db *DB) *KeyringStore { return &KeyringStore{db: db} }

// Load returns the stored keyring and its revision, or an error wrapping
// keys.ErrNoKeyring when none has been saved.
func (s *KeyringStore) Load(ctx context.Context) ([]byte, uint64, error) {
	var data []byte
	var rev int64
	err := s.db.QueryRowContext(ctx, "SELECT data, rev FROM keyring WHERE id = 1").Scan(&data, &rev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, keys.ErrNoKeyring
	}
	if err != nil {
		return nil, 0, fmt.Errorf("store: load keyring: %w", err)
	}
	return data, uint64(rev), nil
}

// Save stores data if the stored revision is still prev (0 when nothing
// is stored) and returns the new revision; another writer's save in
// between gives an error wrapping keys.ErrConflict.
func (s *KeyringStore) Save(ctx context.Context, data []byte, prev uint64) (uint64, error) {
	next := prev + 1
	var res sql.Result
	var err error
	if prev == 0 {
		res, err = s.db.ExecContext(ctx, s.db.Rebind("INSERT INTO keyring (id, data, rev) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING"), data, int64(next))
	} else {
		res, err = s.db.ExecContext(ctx, s.db.Rebind("UPDATE keyring SET data = ?, rev = ? WHERE id = 1 AND rev = ?"), data, int64(next), int64(prev))
	}
	if err != nil {
		return 0, fmt.Errorf("store: save keyring: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, fmt.Errorf("store: save keyring: %w", err)
	} else if n == 0 {
		return 0, keys.ErrConflict
	}
	return next, nil
}
