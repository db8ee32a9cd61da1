package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
)

// Migrations live beside this file, one directory per dialect, numbered
// NNNNN_name.sql. Each capability adds its own files; a change to a
// released migration is a new file, never an edit. Every migration has a
// file of the same name in both directories, and parity_test.go fails
// when the schemas they build differ (tables, columns, type families,
// nullability, keys, indexes, foreign keys) beyond the differences it
// lists with their reasons.
//
//go:embed migrations
var migrations embed.FS

// MigrationStatus describes where a database stands against the binary.
type MigrationStatus struct {
	Current int64 // the database's applied version (0 for an empty one)
	Latest  int64 // the newest version this binary carries
}

// ErrNewerDatabase reports a database migrated by a newer Chancery than
// this binary; running an older binary on it could corrupt data.
var ErrNewerDatabase = errors.New("store: the database is newer than this binary")

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return nil, fmt.Errorf("store: migrations for %s: %w", db.Dialect, err)
	}
	dialect := goose.DialectSQLite3
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	// Out of order: a migration numbered below the database's version
	// but never applied to it (branches merged in another order than they
	// were numbered) is applied, not skipped in silence.
	p, err := goose.NewProvider(dialect, db.DB, sub, goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true))
	if err != nil {
		return nil, fmt.Errorf("store: load migrations: %w", err)
	}
	return p, nil
}

// Status reports the database's version and the newest one embedded.
func (db *DB) Status(ctx context.Context) (MigrationStatus, error) {
	p, err := db.provider()
	if err != nil {
		return MigrationStatus{}, err
	}
	var st MigrationStatus
	srcs := p.ListSources()
	if len(srcs) > 0 {
		st.Latest = srcs[len(srcs)-1].Version
	}
	st.Current, err = currentVersion(ctx, db)
	return st, err
}

// Pending lists the embedded migrations the database has not applied,
// lowest first: what `chancery migrate` would apply (chancery doctor
// reports them).
func (db *DB) Pending(ctx context.Context) ([]int64, error) {
	p, err := db.provider()
	if err != nil {
		return nil, err
	}
	sts, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status of %s: %w", db.Location, err)
	}
	var pending []int64
	for _, st := range sts {
		if st.State == goose.StatePending {
			pending = append(pending, st.Source.Version)
		}
	}
	return pending, nil
}

// currentVersion reads goose's version table directly: goose's own
// GetDBVersion refuses versions it has no file for, and those are exactly
// the ones we must recognise to refuse a newer database.
func currentVersion(ctx context.Context, db *DB) (int64, error) {
	var v sql.NullInt64
	err := db.QueryRowContext(ctx, "SELECT MAX(version_id) FROM goose_db_version WHERE is_applied").Scan(&v)
	if err != nil {
		// No version table yet: an empty database.
		var exists bool
		q := "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type='table' AND name='goose_db_version'"
		if db.Dialect == Postgres {
			q = "SELECT to_regclass('goose_db_version') IS NOT NULL"
		}
		if err2 := db.QueryRowContext(ctx, q).Scan(&exists); err2 == nil && !exists {
			return 0, nil
		}
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	return v.Int64, nil
}

// Migrate brings the database up to the newest embedded version, applying
// every embedded migration it has not applied, a lower-numbered one too. It
// refuses, with ErrNewerDatabase, a database whose version is above the
// binary's, and changes nothing in that case.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	st, err := db.Status(ctx)
	if err != nil {
		return err
	}
	if st.Current > st.Latest {
		return fmt.Errorf("%w: database %s is at schema version %d, this chancery knows up to %d; run the newer chancery release (or restore a backup)",
			ErrNewerDatabase, db.Location, st.Current, st.Latest)
	}
	p, err := db.provider()
	if err != nil {
		return err
	}
	if pending, err := p.HasPending(ctx); err != nil {
		return fmt.Errorf("store: migrations pending on %s: %w", db.Location, err)
	} else if !pending {
		return nil
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate %s: %w", db.Location, err)
	}
	for _, r := range results {
		if log != nil {
			log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
		}
	}
	return nil
}
