package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"gocloud.dev/blob"

	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
)

// DefaultOriginPrefix starts the origin of a ledger created without
// Options.Origin; the node's signing key id follows it.
const DefaultOriginPrefix = "chancery.mofa.gov.vn/audit/"

// Defaults for Options.
const (
	DefaultCheckpointInterval = 10 * time.Second
	DefaultIntegrateInterval  = time.Second
	DefaultMaxBatch           = 1000
)

// integrateBatch bounds the events one integration transaction takes, so
// that a backlog does not hold SQLite's write lock for long.
const integrateBatch = 8192

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit: ledger is closed")

// Options configure a Ledger. The zero value is usable.
type Options struct {
	// Origin names the ledger in its checkpoints and is the key name of
	// its signatures, such as "chancery.mofa.gov.vn/audit/hanoi". It is
	// fixed in the database on first use; a different Origin later is an
	// error. If empty, the stored origin is used, or on first use
	// DefaultOriginPrefix followed by the id of the node's signing key.
	Origin string

	// CheckpointInterval is how often Run signs a checkpoint when the
	// tree has grown. If zero, DefaultCheckpointInterval is used.
	CheckpointInterval time.Duration

	// IntegrateInterval is how often Run integrates events appended with
	// AppendTx or by other replicas. Append integrates right after each
	// group commit. If zero, DefaultIntegrateInterval is used.
	IntegrateInterval time.Duration

	// MaxBatch bounds how many Append calls one transaction commits. If
	// zero, DefaultMaxBatch is used.
	MaxBatch int

	// MaxBatchWait is how long a group commit waits for more Append calls
	// once it has one. If zero, it takes only the calls that arrived
	// while the previous batch was committing, which is what keeps both
	// latency and throughput high under concurrency.
	MaxBatchWait time.Duration

	// Archive is the blob storage that Archive moves old events to, and
	// that Verify reads them back from. It may be nil until events are
	// archived.
	Archive *blob.Bucket

	// Now returns the current time. If nil, time.Now is used.
	Now func() time.Time

	// Logger receives errors of background work. If nil, slog.Default()
	// is used.
	Logger *slog.Logger
}

// Ledger is the audit ledger: an append-only RFC 6962 Merkle log of
// events stored in the database, with signed checkpoints, inclusion and
// consistency proofs, full verification and archiving. It is safe for
// concurrent use, and several processes (PostgreSQL replicas) may share
// one database.
//
// Events are appended in two steps. Append and AppendTx store an event
// with a provisional id; the integrator then gives events their sequence
// numbers, contiguous and in the order their commits became visible, and
// adds them to the tree, under a lock that serialises integrators across
// processes. An event is durable when Append returns; it has a sequence
// number and proofs once integrated.
type Ledger struct {
	db     *store.DB
	ring   *keys.Ring
	origin string
	opts   Options
	now    func() time.Time
	log    *slog.Logger

	reqs      chan *appendReq
	sendMu    sync.RWMutex // guards closed, and sends on reqs against its closing
	closed    bool
	committed chan struct{} // closed when the committer has drained reqs
	kick      chan struct{} // wakes the integrator; buffered, so kicks coalesce
	stop      chan struct{} // tells the integrator to finish
	stopped   chan struct{} // closed when the integrator has finished
	// integrated is signalled (coalesced) after each integration that
	// gave events their sequence numbers: the stream publisher's wake-up.
	integrated chan struct{}

	intMu sync.Mutex     // serialises Integrate within this process
	edge  *compact.Range // the tree's right border as this process last integrated it; nil if unknown. Guarded by intMu.

	size atomic.Uint64 // the largest integrated size seen: proofs up to it need no read of the tree row
}

// Receipt acknowledges a durable Append.
type Receipt struct {
	// ID is the event's provisional id, which the integrator maps to a
	// sequence number.
	ID int64
	// Time is the event's time as recorded.
	Time time.Time
}

type appendReq struct {
	p    pendingEvent
	done chan appendResult
}

type appendResult struct {
	r   Receipt
	err error
}

// New opens the ledger stored in db, which must be migrated, signing with
// the node's keys. It starts the group committer and the integrator, which
// Close stops; Run does the periodic work.
//
// New returns an error wrapping errs.ErrConflict if opts.Origin differs
// from the origin the ledger was created with.
func New(ctx context.Context, db *store.DB, ring *keys.Ring, opts Options) (*Ledger, error) {
	l := &Ledger{db: db, ring: ring, opts: opts, now: opts.Now, log: opts.Logger}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.opts.CheckpointInterval <= 0 {
		l.opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if l.opts.IntegrateInterval <= 0 {
		l.opts.IntegrateInterval = DefaultIntegrateInterval
	}
	if l.opts.MaxBatch <= 0 {
		l.opts.MaxBatch = DefaultMaxBatch
	}
	origin := opts.Origin
	if origin == "" {
		origin = DefaultOriginPrefix + keys.KeyID(ring.PublicKey())
	}
	if !validKeyName(origin) || origin == "cosignature/v1" {
		return nil, fmt.Errorf("%w: audit origin %q must be non-empty with no spaces and no '+', such as %shanoi", errs.ErrInvalid, origin, DefaultOriginPrefix)
	}
	stored, err := setOrigin(ctx, db, origin)
	if err != nil {
		return nil, err
	}
	if opts.Origin != "" && stored != opts.Origin {
		return nil, fmt.Errorf("%w: this audit ledger's origin is %q, not %q; its checkpoints name it, so it cannot change", errs.ErrConflict, stored, opts.Origin)
	}
	l.origin = stored

	l.reqs = make(chan *appendReq, 4*l.opts.MaxBatch)
	l.committed = make(chan struct{})
	l.kick = make(chan struct{}, 1)
	l.stop = make(chan struct{})
	l.stopped = make(chan struct{})
	l.integrated = make(chan struct{}, 1)
	go l.commitLoop()
	go l.integrateLoop()
	return l, nil
}

// Close stops accepting appends, commits those already made, integrates
// what it can and stops the background goroutines. It does not close the
// database, which must stay open until Close returns.
func (l *Ledger) Close() error {
	l.sendMu.Lock()
	if l.closed {
		l.sendMu.Unlock()
		return nil
	}
	l.closed = true
	close(l.reqs)
	l.sendMu.Unlock()
	<-l.committed
	close(l.stop)
	<-l.stopped
	return nil
}

// Run integrates events, signs checkpoints and thins old ones (Thin)
// periodically until ctx is done (see Options), then returns nil. Run it
// in one goroutine per process.
func (l *Ledger) Run(ctx context.Context) error {
	integrate := time.NewTicker(l.opts.IntegrateInterval)
	defer integrate.Stop()
	checkpoint := time.NewTicker(l.opts.CheckpointInterval)
	defer checkpoint.Stop()
	thin := time.NewTicker(thinInterval)
	defer thin.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-integrate.C:
			if _, err := l.Integrate(ctx); err != nil && ctx.Err() == nil {
				l.log.Error("audit: integrate", "err", err)
			}
		case <-checkpoint.C:
			if _, err := l.Checkpoint(ctx); err != nil && ctx.Err() == nil {
				l.log.Error("audit: checkpoint", "err", err)
			}
		case <-thin.C:
			if _, err := l.Thin(ctx); err != nil && ctx.Err() == nil {
				l.log.Error("audit: thin old checkpoints", "err", err)
			}
		}
	}
}

// prepare validates e, sets its time and computes its leaf hash.
func (l *Ledger) prepare(e Event) (pendingEvent, error) {
	if err := e.Validate(); err != nil {
		return pendingEvent{}, err
	}
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	e.Seq = 0
	leaf, err := e.LeafHash()
	if err != nil {
		return pendingEvent{}, err
	}
	return pendingEvent{ev: e, attrs: encodeAttrs(e.Attrs), leaf: leaf}, nil
}

// AppendTx appends e inside the caller's transaction, so that the event
// commits or rolls back with the action it records. The integrator picks
// it up after the commit: at the next Append, or within
// Options.IntegrateInterval when Run is running.
//
// AppendTx returns an error wrapping errs.ErrInvalid if e breaks a rule
// of Event.Validate. On any error the caller must roll back: the action
// may not be done without its record (on SQLite a failed insert has
// rolled the transaction back already).
func (l *Ledger) AppendTx(ctx context.Context, tx *store.Tx, e Event) error {
	p, err := l.prepare(e)
	if err != nil {
		return err
	}
	if _, err := insertEvents(ctx, tx, []*pendingEvent{&p}); err != nil {
		return err
	}
	l.wake()
	return nil
}

// Append appends e in a transaction of its own and returns once that
// transaction has committed. Concurrent calls share transactions (group
// commit): up to Options.MaxBatch events per commit, so many callers pay
// for one commit.
//
// Append returns an error wrapping errs.ErrInvalid if e breaks a rule of
// Event.Validate, and ErrClosed after Close. If ctx ends first, Append
// returns ctx's error, and the event may or may not have been recorded.
func (l *Ledger) Append(ctx context.Context, e Event) (Receipt, error) {
	p, err := l.prepare(e)
	if err != nil {
		return Receipt{}, err
	}
	req := &appendReq{p: p, done: make(chan appendResult, 1)}
	l.sendMu.RLock()
	if l.closed {
		l.sendMu.RUnlock()
		return Receipt{}, ErrClosed
	}
	select {
	case l.reqs <- req:
	case <-ctx.Done():
		l.sendMu.RUnlock()
		return Receipt{}, fmt.Errorf("audit: append: %w", ctx.Err())
	}
	l.sendMu.RUnlock()
	select {
	case res := <-req.done:
		return res.r, res.err
	case <-ctx.Done():
		return Receipt{}, fmt.Errorf("audit: append: %w (the event may still be recorded)", ctx.Err())
	}
}

// commitTimeout bounds one group commit, which no single caller's context
// may cancel.
const commitTimeout = 30 * time.Second

// commitLoop commits batches of Append calls until reqs is closed and
// drained.
func (l *Ledger) commitLoop() {
	defer close(l.committed)
	batch := make([]*appendReq, 0, l.opts.MaxBatch)
	events := make([]*pendingEvent, 0, l.opts.MaxBatch)
	for {
		first, ok := <-l.reqs
		if !ok {
			return
		}
		batch = l.fill(append(batch[:0], first))
		events = events[:0]
		for _, r := range batch {
			events = append(events, &r.p)
		}
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		var ids []int64
		err := l.db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			ids, err = insertEvents(ctx, tx, events)
			return err
		})
		cancel()
		for i, r := range batch {
			if err != nil {
				r.done <- appendResult{err: err}
			} else {
				r.done <- appendResult{r: Receipt{ID: ids[i], Time: r.p.ev.Time}}
			}
		}
		l.wake()
	}
}

// fill adds to batch the requests waiting in reqs, and those arriving
// within MaxBatchWait, up to MaxBatch.
func (l *Ledger) fill(batch []*appendReq) []*appendReq {
	var deadline <-chan time.Time
	if l.opts.MaxBatchWait > 0 {
		t := time.NewTimer(l.opts.MaxBatchWait)
		defer t.Stop()
		deadline = t.C
	}
	for len(batch) < l.opts.MaxBatch {
		select {
		case r, ok := <-l.reqs:
			if !ok {
				return batch
			}
			batch = append(batch, r)
			continue
		default:
		}
		if deadline == nil {
			return batch
		}
		select {
		case r, ok := <-l.reqs:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		case <-deadline:
			return batch
		}
	}
	return batch
}

// wake asks the integrator to run.
func (l *Ledger) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// integrateLoop integrates whenever woken, and once more when stopped.
func (l *Ledger) integrateLoop() {
	defer close(l.stopped)
	for {
		select {
		case <-l.kick:
		case <-l.stop:
			ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
			if _, err := l.Integrate(ctx); err != nil {
				l.log.Error("audit: integrate on close", "err", err)
			}
			cancel()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		if _, err := l.Integrate(ctx); err != nil {
			l.log.Error("audit: integrate", "err", err)
		}
		cancel()
	}
}

// Integrate gives every committed event without a sequence number the
// next one, adds the events to the tree and returns the new tree size.
// Events are taken in provisional-id order among those visible, which on
// PostgreSQL may differ from commit order; sequence numbers stay
// contiguous either way. It is safe to call from several processes at
// once.
func (l *Ledger) Integrate(ctx context.Context) (uint64, error) {
	l.intMu.Lock()
	defer l.intMu.Unlock()
	for {
		n, size, err := l.integrateOnce(ctx)
		if err != nil {
			l.edge = nil
			return 0, err
		}
		l.noteSize(size)
		if n < integrateBatch {
			return size, nil
		}
	}
}

// integrateOnce integrates up to integrateBatch events in one
// transaction, and returns how many and the new tree size. l.intMu must
// be held.
func (l *Ledger) integrateOnce(ctx context.Context) (int, uint64, error) {
	var (
		n    int
		size uint64
		next *compact.Range
	)
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, size, next, err = l.integrateTx(ctx, tx)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("audit: integrate: %w", err)
	}
	if next != nil {
		l.edge = next
	}
	if n > 0 {
		l.noteIntegrated()
	}
	return n, size, nil
}

// integrateTx integrates up to integrateBatch events in tx and returns
// how many, the new tree size and its new right border (nil if nothing
// changed), which the caller installs in l.edge once tx commits. l.intMu
// must be held.
func (l *Ledger) integrateTx(ctx context.Context, tx *store.Tx) (int, uint64, *compact.Range, error) {
	t, err := readTree(ctx, tx, tx.Dialect, true)
	if err != nil {
		return 0, 0, nil, err
	}
	pending, err := selectPending(ctx, tx, integrateBatch)
	if err != nil || len(pending) == 0 {
		return 0, t.size, nil, err
	}
	edge, err := l.edgeAt(ctx, tx, t)
	if err != nil {
		return 0, 0, nil, err
	}
	if t.size+uint64(len(pending)) > maxTreeSize {
		return 0, 0, nil, errors.New("audit: the ledger is full")
	}
	// Work on a copy, so a failed transaction leaves l.edge as stored.
	next, err := rangeFactory.NewRange(0, edge.End(), slices.Clone(edge.Hashes()))
	if err != nil {
		return 0, 0, nil, err
	}
	nodes := make([]node, 0, 2*len(pending)+64)
	visit := func(id compact.NodeID, hash []byte) { nodes = append(nodes, node{key: nodeKey(id), hash: hash}) }
	ids := make([]int64, len(pending))
	for i, p := range pending {
		if len(p.leaf) != hashSize {
			return 0, 0, nil, fmt.Errorf("audit: event id %d has a malformed leaf hash; it cannot be integrated (run audit verify)", p.id)
		}
		ids[i] = p.id
		if err := next.Append(p.leaf, visit); err != nil {
			return 0, 0, nil, err
		}
	}
	root, err := next.GetRootHash(nil)
	if err != nil {
		return 0, 0, nil, err
	}
	if err := assignSeqs(ctx, tx, ids, t.size); err != nil {
		return 0, 0, nil, err
	}
	if err := insertNodes(ctx, tx, nodes); err != nil {
		return 0, 0, nil, err
	}
	if err := updateTree(ctx, tx, next.End(), root); err != nil {
		return 0, 0, nil, err
	}
	return len(pending), next.End(), next, nil
}

// edgeAt returns the right border of the tree t: the cached one if it is
// at t's size, otherwise (another process integrated, or this one just
// started) the one read from the stored nodes and checked against t's
// root. l.intMu must be held.
func (l *Ledger) edgeAt(ctx context.Context, tx *store.Tx, t treeState) (*compact.Range, error) {
	if l.edge != nil && l.edge.End() == t.size {
		return l.edge, nil
	}
	hashes, err := selectNodes(ctx, tx, nodeKeys(compact.RangeNodes(0, t.size, nil)))
	if err != nil {
		return nil, err
	}
	edge, err := rangeFactory.NewRange(0, t.size, hashes)
	if err != nil {
		return nil, err
	}
	root, err := edge.GetRootHash(nil)
	if err != nil {
		return nil, err
	}
	if t.size > 0 && string(root) != string(t.root) {
		return nil, fmt.Errorf("audit: the stored tree nodes do not match the stored root at size %d; run audit verify", t.size)
	}
	l.edge = edge
	return edge, nil
}

// noteSize records that the tree has reached size n.
func (l *Ledger) noteSize(n uint64) {
	for {
		cur := l.size.Load()
		if n <= cur || l.size.CompareAndSwap(cur, n) {
			return
		}
	}
}

// Head returns the integrated tree's size and root hash.
func (l *Ledger) Head(ctx context.Context) (size uint64, root []byte, err error) {
	t, err := readTree(ctx, l.db, l.db.Dialect, false)
	if err != nil {
		return 0, nil, err
	}
	l.noteSize(t.size)
	return t.size, t.root, nil
}

// Event returns the integrated event with sequence number seq, reading it
// back from the archive if it was archived. It returns an error wrapping
// errs.ErrNotFound if there is no such event.
func (l *Ledger) Event(ctx context.Context, seq uint64) (Event, error) {
	e, err := selectEvent(ctx, l.db, seq)
	if !errors.Is(err, errs.ErrNotFound) {
		return e, err
	}
	if a, aerr := l.archiveOf(ctx, seq); aerr == nil {
		return l.archivedEvent(ctx, a, seq)
	} else if !errors.Is(aerr, errs.ErrNotFound) {
		return Event{}, aerr
	}
	size, _, serr := l.Head(ctx)
	if serr != nil {
		return Event{}, serr
	}
	if seq >= size {
		return Event{}, fmt.Errorf("%w: no event %d: the ledger has %d integrated events", errs.ErrNotFound, seq, size)
	}
	return Event{}, fmt.Errorf("%w: event %d is missing from storage although the tree holds it; run audit verify", errs.ErrNotFound, seq)
}
