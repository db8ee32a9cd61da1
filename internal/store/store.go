// Package store opens Chancery's database — embedded SQLite by default,
// PostgreSQL in production — applies the embedded migrations and runs
// transactions. Capabilities write their SQL once with '?' placeholders;
// the DB rebinds it for PostgreSQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Dialect names the SQL engine behind a DB.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database with its dialect. It is safe for concurrent use.
type DB struct {
	*sql.DB
	Dialect Dialect
	// Location is where the data lives, for messages: a file path for
	// SQLite, the URL without its password for PostgreSQL.
	Location string
}

// Open opens the database named by dsn. An empty dsn opens (creating it if
// needed) the SQLite file chancery.db in dataDir; a postgres:// or
// postgresql:// URL opens PostgreSQL; a sqlite:// URL or a path ending in
// .db opens that SQLite file. Open pings the database, so a wrong address
// fails here with a clear message rather than on the first request.
// Open does not migrate; call Migrate.
func Open(ctx context.Context, dsn, dataDir string) (*DB, error) {
	if path, ok := sqlitePath(dsn, dataDir); ok {
		if dsn == "" {
			if err := PrivateDir(dataDir); err != nil {
				return nil, err
			}
		}
		return openSQLite(ctx, path)
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("store: unsupported database %q: use a postgres://user@host/db URL, or leave it empty for SQLite in the data directory", redact(dsn))
}

// sqlitePath returns the SQLite file that dsn and dataDir name (see
// Open), and false when dsn names no SQLite file.
func sqlitePath(dsn, dataDir string) (string, bool) {
	switch {
	case dsn == "":
		return filepath.Join(dataDir, "chancery.db"), true
	case strings.HasPrefix(dsn, "sqlite://"):
		return strings.TrimPrefix(dsn, "sqlite://"), true
	case strings.HasSuffix(dsn, ".db") && !strings.Contains(dsn, "://"):
		return dsn, true
	}
	return "", false
}

// ErrNoData says that a database holds no Chancery data: its SQLite file
// does not exist, or it has no schema yet.
var ErrNoData = errors.New("no Chancery data")

// OpenExisting opens the database that dsn and dataDir name, as Open
// does, only if it holds Chancery's schema, for the commands that read
// data: it creates no directory, file or schema, so a command run in the
// wrong directory says so instead of leaving an empty data directory
// behind. Its error wraps ErrNoData when there is none. It does not
// migrate; call Migrate.
func OpenExisting(ctx context.Context, dsn, dataDir string) (*DB, error) {
	if path, ok := sqlitePath(dsn, dataDir); ok {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist", ErrNoData, path)
		} else if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	db, err := Open(ctx, dsn, dataDir)
	if err != nil {
		return nil, err
	}
	v, err := currentVersion(ctx, db)
	if err == nil && v == 0 {
		err = fmt.Errorf("%w: %s has no Chancery schema", ErrNoData, db.Location)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// PrivateDir creates dir, or takes an existing one, readable by the
// process's user only (0700): a data directory made by an older version
// or by hand is tightened here.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store: create data directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("store: make data directory %s private (chmod 0700): %w", dir, err)
	}
	return nil
}

// privateDatabase creates the SQLite file at path readable by the
// process's user only (0600), or tightens an existing one and its
// write-ahead log and shared-memory index. SQLite gives the journal files
// it creates the database file's mode, so they follow.
func privateDatabase(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: create SQLite %s: %w (is the data directory writable?)", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: make %s private (chmod 0600): %w", p, err)
		}
	}
	return nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if err := privateDatabase(path); err != nil {
		return nil, err
	}
	// WAL lets readers run beside the one writer; busy_timeout makes
	// writers queue instead of failing; _txlock=immediate takes the write
	// lock at BEGIN, so two transactions never deadlock upgrading a read
	// lock. synchronous=NORMAL is durable across process crashes in WAL
	// mode (a power loss may drop the last commits, never corrupt).
	// mmap_size lets readers read the file's pages in place from the
	// operating system's cache (up to 1 GiB of it) rather than copying
	// each through a read call into every connection's small page cache:
	// a search at a million documents spent a third of its CPU time in
	// those calls (BenchmarkSearch in internal/records). Writes still go
	// through the WAL.
	q := "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_pragma=mmap_size(1073741824)&_time_format=sqlite&_txlock=immediate"
	db, err := sql.Open("sqlite", "file:"+path+q)
	if err != nil {
		return nil, fmt.Errorf("store: open SQLite %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open SQLite %s: %w (is the data directory writable?)", path, err)
	}
	return &DB{DB: db, Dialect: SQLite, Location: path}, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	connector, err := newPGConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open PostgreSQL %s: %w", redact(dsn), err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL %s: %w (check --db / CHANCERY_DB and that the server is running)", redact(dsn), err)
	}
	return &DB{DB: db, Dialect: Postgres, Location: redact(dsn)}, nil
}

// redact hides the password in a database URL.
func redact(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":***" + dsn[at:]
	}
	return dsn
}

// Rebind rewrites a query written with '?' placeholders for the DB's
// dialect: PostgreSQL gets $1, $2, …. Question marks inside quoted strings
// and identifiers are left alone.
func (db *DB) Rebind(query string) string { return rebind(db.Dialect, query) }

func rebind(d Dialect, query string) string {
	if d != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Queryer is what storage helpers need from a DB or a Tx: both satisfy it,
// so a helper can run inside or outside a transaction.
type Queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	Rebind(query string) string
}

// Tx is a transaction that rebinds queries like its DB.
type Tx struct {
	*sql.Tx
	Dialect Dialect
}

// Rebind rewrites '?' placeholders for the transaction's dialect.
func (tx *Tx) Rebind(query string) string { return rebind(tx.Dialect, query) }

// InTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise (and on panic). The error of fn is returned unchanged, so
// callers can test it with errors.Is.
//
// On PostgreSQL, a transaction the server chose as a deadlock's victim or
// refused as a serialization failure is run again, fn included, up to
// txAttempts times: the server undid all of it, and running it again is
// what PostgreSQL asks of its clients. So fn must change nothing outside
// the transaction that a second run would change twice (it assigns its
// results rather than accumulating them). SQLite takes its write lock at
// BEGIN and never deadlocks.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if ok, err := db.inBulk(ctx, fn); ok {
		return err // a change of a bulk load (WithBulk)
	}
	for attempt := 1; ; attempt++ {
		err := db.inTxOnce(ctx, fn)
		if err == nil || attempt == txAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		// A short random pause, so that the transactions that met do not
		// meet again in the same order.
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

// txAttempts is how many times InTx runs a transaction PostgreSQL undid
// for a deadlock or a serialization failure.
const txAttempts = 4

// retryable reports whether PostgreSQL undid a transaction for a deadlock
// (40P01) or a serialization failure (40001): a conflict with another
// transaction, not a fault of this one.
func retryable(err error) bool {
	var coded interface{ SQLState() string }
	if !errors.As(err, &coded) {
		return false
	}
	code := coded.SQLState()
	return code == "40P01" || code == "40001"
}

// inTxOnce is one run of InTx's transaction.
func (db *DB) inTxOnce(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin transaction: %w", err)
	}
	tx := &Tx{Tx: sqlTx, Dialect: db.Dialect}
	defer sqlTx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either dialect, so services can turn it into errs.ErrConflict.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		return coded.SQLState() == "23505"
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "constraint failed: UNIQUE")
}

// Now returns the current time truncated to microseconds in UTC, the
// precision both dialects store, so a value read back equals the one
// written.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
