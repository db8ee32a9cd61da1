package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A Writer is a database's group-commit writer, for a capability that
// writes often from many goroutines (the exchange's message log does, at
// thousands of transactions a second).
//
// SQLite takes one writer at a time. Writers that each begin their own
// transaction wait for one another in SQLite's busy handler, which polls
// with sleeps of milliseconds and stalls a pipeline under load. A started
// Writer queues them instead: whoever takes the writer runs every write
// queued by then in one transaction (a group commit), each write in a
// savepoint of its own so that one failing undoes none of the others, on
// a connection of the Writer's whose commits never checkpoint the WAL.
// The automatic checkpoint runs inside the commit that crosses 1000
// pages and waits for two fsyncs, holding every writer for a quarter of
// a second each time; the Writer checkpoints beside the writes instead,
// in passive mode, and restarts the WAL holding them off only when
// readers kept it growing past walMaxFrames.
//
// On PostgreSQL, and on SQLite while the Writer is not started, InTx is
// DB.InTx.
type Writer struct {
	db  *DB
	log *slog.Logger

	open    atomic.Bool   // conn is taken: InTx queues
	startMu sync.Mutex    // guards users and stopped
	users   int           // Starts not yet ended; guarded by startMu
	stopped chan struct{} // closed when the last user's checkpointer ends; guarded by startMu
	cancel  context.CancelFunc
	mu      sync.Mutex    // held by whoever runs queued writes; guards conn
	conn    *sql.Conn     // the connection of the group commits; guarded by mu
	queueMu sync.Mutex    // guards queue
	queue   []*writeJob   // writes waiting for mu, at most one per caller
	kick    chan struct{} // a write committed: the WAL needs a checkpoint
}

// The Writer's checkpoints and connection settings.
const (
	walCheckpointEvery = time.Second
	walMaxFrames       = 64 << 10 // pages: 256 MiB at SQLite's default page size
	walAutoCheckpoint  = 1000     // SQLite's default, given back to the connection at stop
	// writerCache is the writer connection's page cache, in KiB: the
	// pages of the tables' tails and indexes stay in it between commits
	// instead of being read back from the WAL.
	writerCache  = 32 << 10
	defaultCache = 2000 // SQLite's default, in KiB
)

// NewWriter returns a Writer of db that logs its failures to log. It
// queues nothing until Start.
func NewWriter(db *DB, log *slog.Logger) *Writer {
	if log == nil {
		log = slog.Default()
	}
	return &Writer{db: db, log: log, kick: make(chan struct{}, 1)}
}

// Start takes the Writer's connection on SQLite and checkpoints the WAL
// beside the writes until ctx ends; then the connection goes back to the
// pool as it was, with a last checkpoint, and InTx is DB.InTx again. Several
// users may start one Writer (a node's transport and its gateway do): it
// runs until the last one's ctx ends. The caller runs wait (in a goroutine
// of its own, or after ctx ends) to know when its use is over and, for the
// last one, the connection is back. On PostgreSQL Start does nothing.
func (w *Writer) Start(ctx context.Context) (wait func(), err error) {
	if w.db.Dialect != SQLite {
		return func() {}, nil
	}
	w.startMu.Lock()
	defer w.startMu.Unlock()
	if w.users == 0 {
		if w.stopped != nil {
			<-w.stopped // the previous run's checkpointer is closing the connection
		}
		w.mu.Lock()
		err = w.openConn(ctx)
		w.mu.Unlock()
		if err != nil {
			return nil, err
		}
		run, cancel := context.WithCancel(context.WithoutCancel(ctx))
		stopped := make(chan struct{})
		w.cancel, w.stopped = cancel, stopped
		go func() {
			defer close(stopped)
			w.checkpoints(run)
		}()
	}
	w.users++
	stopped := w.stopped
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		w.startMu.Lock()
		w.users--
		last := w.users == 0
		if last {
			w.cancel()
		}
		w.startMu.Unlock()
		if last {
			<-stopped // the connection is back in the pool
		}
	}()
	return func() { <-done }, nil
}

// InTx runs fn in a transaction, as DB.InTx does: committed when fn
// returns nil, undone when it returns an error, whose value InTx returns
// unchanged. While the Writer is started on SQLite, fn runs in the group
// commit of the writes queued with it. fn must not call InTx.
func (w *Writer) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if !w.open.Load() {
		return w.db.InTx(ctx, fn)
	}
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan struct{})}
	w.queueMu.Lock()
	w.queue = append(w.queue, j)
	w.queueMu.Unlock()
	w.runQueued()
	<-j.done // run by this or an earlier holder of mu
	return j.err
}

// writeJob is a write waiting in InTx.
type writeJob struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	err  error
	done chan struct{}
}

// runQueued takes the writer and runs the writes queued by then.
func (w *Writer) runQueued() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.queueMu.Lock()
	jobs := w.queue
	w.queue = nil
	w.queueMu.Unlock()
	if len(jobs) > 0 {
		w.runJobs(jobs)
	}
}

// errGroupFailed is the error of the writes that shared a transaction
// with one that panicked.
var errGroupFailed = errors.New("store: a write of the same transaction failed; nothing of this one was written")

// runJobs runs jobs in one transaction; mu must be held.
func (w *Writer) runJobs(jobs []*writeJob) {
	ran := 0
	defer func() {
		for _, j := range jobs[ran:] { // a fn panicked: the panic goes on, the other callers get an error
			j.err = errGroupFailed
			close(j.done)
		}
	}()
	if w.conn == nil { // the Writer is stopping
		for _, j := range jobs {
			j.err = w.db.InTx(j.ctx, j.fn)
			close(j.done)
			ran++
		}
		return
	}
	err := w.groupTx(jobs)
	for _, j := range jobs {
		if j.err == nil {
			j.err = err
		}
		close(j.done)
		ran++
	}
	if err == nil {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// groupTx runs jobs in one transaction of the Writer's connection, each
// in a savepoint when there are several, and returns the commit's error;
// each job's own error is in its err.
func (w *Writer) groupTx(jobs []*writeJob) error {
	// The transaction is everyone's: no one caller's cancellation ends it.
	sqlTx, err := w.conn.BeginTx(context.WithoutCancel(jobs[0].ctx), nil)
	if err != nil {
		w.reopenConn()
		return fmt.Errorf("store: begin a transaction: %w", err)
	}
	defer sqlTx.Rollback() //nolint:errcheck // a no-op after Commit
	tx := &Tx{Tx: sqlTx, Dialect: SQLite}
	ok := 0
	for _, j := range jobs {
		if j.err = j.ctx.Err(); j.err != nil {
			continue
		}
		if len(jobs) == 1 {
			if j.err = j.fn(tx); j.err == nil {
				ok++
			}
			break
		}
		if _, err := tx.ExecContext(j.ctx, `SAVEPOINT write`); err != nil {
			j.err = fmt.Errorf("store: begin a write: %w", err)
			continue
		}
		if j.err = j.fn(tx); j.err != nil {
			if _, err := tx.ExecContext(context.WithoutCancel(j.ctx), `ROLLBACK TO write`); err != nil {
				return fmt.Errorf("store: undo a failed write: %w", err)
			}
		}
		if _, err := tx.ExecContext(context.WithoutCancel(j.ctx), `RELEASE write`); err != nil {
			return fmt.Errorf("store: end a write: %w", err)
		}
		if j.err == nil {
			ok++
		}
	}
	if ok == 0 {
		return nil // nothing to commit; the rollback undoes what failed
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// openConn takes the Writer's connection; mu must be held.
func (w *Writer) openConn(ctx context.Context) error {
	c, err := w.db.Conn(ctx)
	if err == nil {
		// The savepoints of a group commit keep their statement journal
		// in memory, not in a temporary file written at every statement.
		for _, p := range []string{`PRAGMA wal_autocheckpoint = 0`, `PRAGMA cache_size = -` + strconv.Itoa(writerCache), `PRAGMA temp_store = MEMORY`} {
			if _, err = c.ExecContext(ctx, p); err != nil {
				c.Close()
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("store: open the writer's database connection: %w", err)
	}
	w.conn = c
	w.open.Store(true)
	return nil
}

// reopenConn replaces a connection that failed; mu must be held. The
// next InTx runs on the new one, or on the pool if it cannot be opened.
func (w *Writer) reopenConn() {
	w.closeConn()
	if err := w.openConn(context.Background()); err != nil {
		w.log.Error("store: reopen the writer's database connection", "err", err)
	}
}

// closeConn gives the connection back to the pool as it was; mu must be
// held.
func (w *Writer) closeConn() {
	w.open.Store(false)
	if w.conn == nil {
		return
	}
	for _, p := range []string{`PRAGMA wal_autocheckpoint = ` + strconv.Itoa(walAutoCheckpoint), `PRAGMA cache_size = -` + strconv.Itoa(defaultCache), `PRAGMA temp_store = DEFAULT`} {
		w.conn.ExecContext(context.Background(), p) //nolint:errcheck // the connection may be broken
	}
	w.conn.Close()
	w.conn = nil
}

// checkpoints checkpoints the WAL after commits, at most every
// walCheckpointEvery, until ctx ends; then it closes the connection and
// checkpoints once more.
func (w *Writer) checkpoints(ctx context.Context) {
	tick := time.NewTicker(walCheckpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			w.mu.Lock()
			w.closeConn()
			w.mu.Unlock()
			w.checkpoint(context.WithoutCancel(ctx), "PASSIVE")
			return
		case <-tick.C:
		}
		select {
		case <-w.kick:
		default:
			continue // nothing committed
		}
		if frames := w.checkpoint(ctx, "PASSIVE"); frames > walMaxFrames {
			w.mu.Lock()
			w.checkpoint(ctx, "RESTART")
			w.mu.Unlock()
		}
	}
}

// checkpoint runs a checkpoint of the given mode and returns the WAL's
// size in pages.
func (w *Writer) checkpoint(ctx context.Context, mode string) int {
	var busy, frames, done int
	if err := w.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &done); err != nil {
		if ctx.Err() == nil {
			w.log.Warn("store: checkpoint the database's WAL", "mode", mode, "err", err)
		}
		return 0
	}
	return frames
}
