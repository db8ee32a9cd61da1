package audit

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/sync/errgroup"

	"chancery/internal/store"
)

// TamperError reports a ledger whose storage does not match what was
// recorded: an event edited, deleted, inserted or moved, a tree node or
// checkpoint altered, or the tree rewound. Seq is the first sequence
// number found bad. For a problem found only through a checkpoint (the
// events and their stored hashes were rewritten together), Seq is the
// first event the last good checkpoint does not cover: the change is at
// Seq or after it.
type TamperError struct {
	Seq     uint64
	Problem string
}

// Error returns a message naming the sequence number and the problem.
func (e *TamperError) Error() string {
	return fmt.Sprintf("audit: the ledger does not verify at event %d: %s", e.Seq, e.Problem)
}

// VerifyReport describes a ledger that verified.
type VerifyReport struct {
	// Size and Root describe the tree that was verified: every event
	// below Size was rehashed and every stored node and checkpoint up to
	// it checked.
	Size uint64
	Root []byte
	// Archived is how many of the events were read back from the archive.
	Archived uint64
	// Checkpoints is the number of signed checkpoints checked, and
	// Latest the newest of them (zero if there is none).
	Checkpoints int
	Latest      Checkpoint
	// Pending is the number of events appended but not yet integrated.
	Pending uint64
}

// verifyBatch is how many events travel together through the pipeline.
const verifyBatch = 1024

// leafItem is an event rehashed for verification.
type leafItem struct {
	seq      uint64
	hash     []byte // recomputed from the event's fields
	rowLeaf  []byte // the leaf hash stored beside the event; nil if archived
	archived bool
	problem  string // why the event could not be rehashed
}

// Verify recomputes the whole ledger from storage and checks it: every
// event's leaf hash from its fields (archived ones read back from the
// archive), every stored tree node, the stored root, and every stored
// checkpoint's signature and root. Events are streamed in order, so memory
// stays small however long the ledger. progress, if not nil, is called
// with the number of events checked so far, now and then and at the end.
//
// Verify returns a *TamperError for the first problem found, and other
// errors if storage could not be read. It does not write anything.
func (l *Ledger) Verify(ctx context.Context, progress func(done uint64)) (VerifyReport, error) {
	t, err := readTree(ctx, l.db, l.db.Dialect, false)
	if err != nil {
		return VerifyReport{}, err
	}
	archives, err := listArchives(ctx, l.db)
	if err != nil {
		return VerifyReport{}, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	leaves := make(chan []leafItem, 8)
	nodes := make(chan []node, 8)
	checkpoints := make(chan []checkedCheckpoint, 2)
	logKeys := l.verifiers()
	// The streams close their channel only when complete, so that a read
	// error is never mistaken for missing rows.
	g.Go(func() error {
		err := l.streamLeaves(gctx, archives, t.size, leaves)
		if err == nil {
			close(leaves)
		}
		return err
	})
	g.Go(func() error {
		err := streamNodes(gctx, l.db, nodeCount(t.size), nodes)
		if err == nil {
			close(nodes)
		}
		return err
	})
	g.Go(func() error {
		err := l.streamCheckpoints(gctx, t.size, logKeys, checkpoints)
		if err == nil {
			close(checkpoints)
		}
		return err
	})

	v := &verifier{nodes: nodes, checkpoints: checkpoints, rng: rangeFactory.NewEmptyRange(0)}
	report, verr := v.run(gctx, t, leaves, progress)
	cancel()
	gerr := g.Wait()
	var tamper *TamperError
	switch {
	case errors.As(verr, &tamper):
		return VerifyReport{}, tamper
	case gerr != nil && !errors.Is(gerr, context.Canceled):
		return VerifyReport{}, gerr
	case verr != nil:
		return VerifyReport{}, verr
	}
	report.Archived = v.archived
	return l.verifyTail(context.WithoutCancel(ctx), report)
}

// verifyTail checks what lies beyond the verified tree: checkpoints that
// claim more events, rows and nodes that claim a place beyond it.
func (l *Ledger) verifyTail(ctx context.Context, report VerifyReport) (VerifyReport, error) {
	// The integrator may have grown the tree since; anything beyond its
	// current size was put there by hand, or the tree was cut short. The
	// tree's row and the rows beyond it are read by separate statements,
	// between which another replica may integrate and sign: a finding is
	// believed only if the tree has not grown meanwhile.
	for attempt := 0; ; attempt++ {
		now, err := readTree(ctx, l.db, l.db.Dialect, false)
		if err != nil {
			return report, err
		}
		out, err := l.verifyBeyond(ctx, report, now)
		var tamper *TamperError
		if !errors.As(err, &tamper) || attempt == 50 {
			return out, err
		}
		again, rerr := readTree(ctx, l.db, l.db.Dialect, false)
		if rerr != nil {
			return report, rerr
		}
		if again.size == now.size {
			return out, err
		}
	}
}

// verifyBeyond checks that no checkpoint, event or node lies beyond the
// tree of now's size.
func (l *Ledger) verifyBeyond(ctx context.Context, report VerifyReport, now treeState) (VerifyReport, error) {
	var extra *int64
	if err := l.db.QueryRowContext(ctx, "SELECT MAX(size) FROM audit_checkpoints").Scan(&extra); err != nil {
		return report, fmt.Errorf("audit: verify: %w", err)
	}
	if extra != nil && uint64(*extra) > now.size {
		return report, &TamperError{Seq: now.size, Problem: fmt.Sprintf(
			"a checkpoint was signed at size %d, but the tree holds %d events: events were removed from the end", *extra, now.size)}
	}
	if err := l.db.QueryRowContext(ctx, l.db.Rebind("SELECT MIN(seq) FROM audit_events WHERE seq >= ?"), int64(now.size)).Scan(&extra); err != nil {
		return report, fmt.Errorf("audit: verify: %w", err)
	}
	if extra != nil {
		return report, &TamperError{Seq: uint64(*extra), Problem: fmt.Sprintf("an event has sequence number %d, beyond the tree's %d events: it was inserted", *extra, now.size)}
	}
	if err := l.db.QueryRowContext(ctx, l.db.Rebind("SELECT MIN(id) FROM audit_nodes WHERE id >= ?"), nodeCount(now.size)).Scan(&extra); err != nil {
		return report, fmt.Errorf("audit: verify: %w", err)
	}
	if extra != nil {
		return report, &TamperError{Seq: now.size, Problem: fmt.Sprintf("the tree holds node %d, beyond its %d events: it was inserted", *extra, now.size)}
	}
	var pending int64
	if err := l.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_events WHERE seq IS NULL").Scan(&pending); err != nil {
		return report, fmt.Errorf("audit: verify: %w", err)
	}
	report.Pending = uint64(pending)
	return report, nil
}

// verifier rebuilds the tree from rehashed events and compares it with the
// stored nodes and checkpoints.
type verifier struct {
	nodes       <-chan []node
	buf         []node // the current batch of stored nodes
	checkpoints <-chan []checkedCheckpoint
	cpBuf       []checkedCheckpoint // the current batch of checkpoints
	rng         *compact.Range
	err         error  // the first problem found while appending to rng
	lastGood    uint64 // the size of the last checkpoint that verified
	report      VerifyReport
	archived    uint64
}

func (v *verifier) run(ctx context.Context, t treeState, leaves <-chan []leafItem, progress func(uint64)) (VerifyReport, error) {
	if err := v.checkpointsAt(ctx, 0); err != nil {
		return VerifyReport{}, err
	}
	visit := func(id compact.NodeID, hash []byte) {
		if id.Level > 0 && v.err == nil { // leaves are checked before they are appended
			v.err = v.checkNode(ctx, id, hash)
		}
	}
	next := uint64(0)
	for {
		var batch []leafItem
		select {
		case b, ok := <-leaves:
			if !ok {
				return v.finish(next, t, progress)
			}
			batch = b
		case <-ctx.Done():
			return VerifyReport{}, ctx.Err()
		}
		for i := range batch {
			it := &batch[i]
			if err := v.checkLeaf(ctx, next, it, t.size); err != nil {
				return VerifyReport{}, err
			}
			if err := v.rng.Append(it.hash, visit); err != nil {
				return VerifyReport{}, err
			}
			if v.err != nil {
				return VerifyReport{}, v.err
			}
			if it.archived {
				v.archived++
			}
			next++
			if err := v.checkpointsAt(ctx, next); err != nil {
				return VerifyReport{}, err
			}
			if progress != nil && next%(1<<16) == 0 {
				progress(next)
			}
		}
	}
}

// finish checks the rebuilt tree of next leaves against the stored tree t.
func (v *verifier) finish(next uint64, t treeState, progress func(uint64)) (VerifyReport, error) {
	if next < t.size {
		return VerifyReport{}, &TamperError{Seq: next, Problem: fmt.Sprintf("event %d is missing: its row was deleted", next)}
	}
	root, err := v.rng.GetRootHash(nil)
	if err != nil {
		return VerifyReport{}, err
	}
	if t.size == 0 {
		root = rfc6962.DefaultHasher.EmptyRoot()
	}
	if !bytes.Equal(root, t.root) {
		return VerifyReport{}, &TamperError{Seq: v.lastGood, Problem: fmt.Sprintf("the stored root of the tree of size %d differs from the root recomputed from its events", t.size)}
	}
	if progress != nil {
		progress(next)
	}
	v.report.Size, v.report.Root = t.size, root
	return v.report, nil
}

// checkLeaf checks that item is event want and that its hash is the leaf
// stored at want. On a mismatch it works out what happened to the row.
func (v *verifier) checkLeaf(ctx context.Context, want uint64, it *leafItem, size uint64) error {
	switch {
	case it.seq > want:
		return &TamperError{Seq: want, Problem: fmt.Sprintf("event %d is missing: its row was deleted", want)}
	case it.seq < want:
		return &TamperError{Seq: it.seq, Problem: fmt.Sprintf("event %d appears twice: a row was inserted", it.seq)}
	case it.problem != "":
		return &TamperError{Seq: want, Problem: it.problem}
	}
	stored, err := v.nextNode(ctx)
	if err != nil && !errors.Is(err, errNoMoreNodes) {
		return err
	}
	key := nodeKey(compact.NewNodeID(0, want))
	if stored.key != key {
		return &TamperError{Seq: want, Problem: fmt.Sprintf("the tree has no leaf for event %d: tree nodes were deleted", want)}
	}
	if bytes.Equal(stored.hash, it.hash) {
		return nil
	}
	if it.archived {
		return &TamperError{Seq: want, Problem: fmt.Sprintf("archived event %d does not match its leaf in the tree: the archive was altered", want)}
	}
	if !bytes.Equal(it.rowLeaf, it.hash) {
		return &TamperError{Seq: want, Problem: fmt.Sprintf("event %d was edited after it was recorded: its fields no longer match its leaf hash", want)}
	}
	// The row is self-consistent but is not the event integrated here.
	if at, ok, err := v.findLeaf(ctx, it.hash, want+1, size); err != nil {
		return err
	} else if ok {
		return &TamperError{Seq: want, Problem: fmt.Sprintf("the row at event %d holds event %d: rows were reordered or renumbered", want, at)}
	}
	return &TamperError{Seq: want, Problem: fmt.Sprintf("event %d was replaced: the row is not the event integrated at this position (inserted, or edited together with its leaf hash)", want)}
}

// findLeaf looks for a stored leaf with hash among events [from, size),
// consuming the node stream; it is only used once a problem is found.
func (v *verifier) findLeaf(ctx context.Context, hash []byte, from, size uint64) (uint64, bool, error) {
	for seq := from; seq < size; seq++ {
		key := nodeKey(compact.NewNodeID(0, seq))
		for {
			n, err := v.nextNode(ctx)
			if errors.Is(err, errNoMoreNodes) {
				return 0, false, nil
			}
			if err != nil || n.key > key {
				return 0, false, err
			}
			if n.key == key {
				if bytes.Equal(n.hash, hash) {
					return seq, true, nil
				}
				break
			}
		}
	}
	return 0, false, nil
}

// checkNode compares an inner node recomputed by the range with the next
// stored node.
func (v *verifier) checkNode(ctx context.Context, id compact.NodeID, hash []byte) error {
	begin, end := id.Coverage()
	stored, err := v.nextNode(ctx)
	switch {
	case err != nil && !errors.Is(err, errNoMoreNodes):
		return err
	case err != nil || stored.key != nodeKey(id):
		return &TamperError{Seq: begin, Problem: fmt.Sprintf("the tree node over events %d to %d is missing: tree nodes were deleted", begin, end-1)}
	case !bytes.Equal(stored.hash, hash):
		return &TamperError{Seq: begin, Problem: fmt.Sprintf(
			"the tree node over events %d to %d differs from the one recomputed from them: the node was altered, or events below it were rewritten together with their leaves", begin, end-1)}
	}
	return nil
}

// errNoMoreNodes ends the node stream early.
var errNoMoreNodes = errors.New("audit: the tree has fewer nodes than events")

// nextNode returns the next stored node in key order.
func (v *verifier) nextNode(ctx context.Context) (node, error) {
	for len(v.buf) == 0 {
		select {
		case b, ok := <-v.nodes:
			if !ok {
				return node{key: -1}, errNoMoreNodes
			}
			v.buf = b
		case <-ctx.Done():
			return node{key: -1}, ctx.Err()
		}
	}
	n := v.buf[0]
	v.buf = v.buf[1:]
	return n, nil
}

// checkedCheckpoint is a stored checkpoint whose signature was checked.
type checkedCheckpoint struct {
	stored  storedCheckpoint
	cp      Checkpoint
	problem string // why it does not verify
}

// checkpointsAt checks the stored checkpoints of size n against the
// rebuilt tree, which has n leaves.
func (v *verifier) checkpointsAt(ctx context.Context, n uint64) error {
	for {
		for len(v.cpBuf) == 0 {
			if v.checkpoints == nil {
				return nil
			}
			select {
			case b, ok := <-v.checkpoints:
				if !ok {
					v.checkpoints = nil
					return nil
				}
				v.cpBuf = b
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		c := v.cpBuf[0]
		if c.stored.size != n {
			return nil
		}
		v.cpBuf = v.cpBuf[1:]
		if c.problem != "" {
			return &TamperError{Seq: v.lastGood, Problem: fmt.Sprintf("the checkpoint at size %d does not verify: %s", n, c.problem)}
		}
		root := rfc6962.DefaultHasher.EmptyRoot()
		if n > 0 {
			var err error
			if root, err = v.rng.GetRootHash(nil); err != nil {
				return err
			}
		}
		if c.cp.Size != n || !bytes.Equal(c.cp.Root, c.stored.root) {
			return &TamperError{Seq: v.lastGood, Problem: fmt.Sprintf("the stored checkpoint at size %d does not match its signed note: it was altered", n)}
		}
		if !bytes.Equal(c.cp.Root, root) {
			return &TamperError{Seq: v.lastGood, Problem: fmt.Sprintf(
				"the tree of size %d does not have the root signed in its checkpoint: events before %d were rewritten together with their hashes", n, n)}
		}
		v.lastGood = n
		v.report.Checkpoints++
		v.report.Latest = c.cp
	}
}

// streamCheckpoints sends the stored checkpoints of sizes up to size, in
// order, with their signatures checked against keys. Checking signatures
// here, beside the rebuild, keeps their cost off its path.
func (l *Ledger) streamCheckpoints(ctx context.Context, size uint64, keys []note.Verifier, out chan<- []checkedCheckpoint) error {
	rows, err := l.db.QueryContext(ctx, l.db.Rebind(checkpointQuery+" WHERE size <= ? ORDER BY size"), int64(size))
	if err != nil {
		return fmt.Errorf("audit: verify: read checkpoints: %w", err)
	}
	defer rows.Close()
	batch := make([]checkedCheckpoint, 0, 64)
	flush := func() error {
		select {
		case out <- batch:
			batch = make([]checkedCheckpoint, 0, 64)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return fmt.Errorf("audit: verify: read checkpoints: %w", err)
		}
		item := checkedCheckpoint{stored: c}
		if item.cp, err = parseCheckpointWith(c.note, l.origin, keys); err != nil {
			item.problem = err.Error()
		}
		item.cp.Time = c.created
		if batch = append(batch, item); len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: verify: read checkpoints: %w", err)
	}
	if len(batch) > 0 {
		return flush()
	}
	return nil
}

// streamLeaves sends the rehashed events below size in order, archived
// ones first, in batches.
func (l *Ledger) streamLeaves(ctx context.Context, archives []archiveRange, size uint64, out chan<- []leafItem) error {
	send := func(b []leafItem) error {
		select {
		case out <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	from := uint64(0)
	for _, a := range archives {
		if a.first != from {
			return send([]leafItem{{seq: from, problem: fmt.Sprintf("event %d is missing: no row and no archive holds it", from)}})
		}
		batch := make([]leafItem, 0, verifyBatch)
		err := l.readArchive(ctx, a, func(e *Event, lineErr error) error {
			it := leafItem{seq: e.Seq, archived: true}
			if lineErr != nil {
				it.seq, it.problem = from, fmt.Sprintf("archived event %d in %s does not decode: %v", from, a.key, lineErr)
			} else if it.hash, lineErr = e.LeafHash(); lineErr != nil {
				it.problem = fmt.Sprintf("archived event %d cannot be encoded: %v", e.Seq, lineErr)
			}
			from++
			batch = append(batch, it)
			if len(batch) == verifyBatch {
				if err := send(batch); err != nil {
					return err
				}
				batch = make([]leafItem, 0, verifyBatch)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(batch) > 0 {
			if err := send(batch); err != nil {
				return err
			}
		}
		if from < a.end {
			return send([]leafItem{{seq: from, problem: fmt.Sprintf("event %d is missing from its archive file %s", from, a.key)}})
		}
	}
	return l.streamRows(ctx, from, size, send)
}

// streamRows sends the events [from, size) stored as rows, rehashed in a
// goroutine of their own so that reading and hashing overlap.
func (l *Ledger) streamRows(ctx context.Context, from, size uint64, send func([]leafItem) error) error {
	rows, err := l.db.QueryContext(ctx, l.db.Rebind("SELECT "+selectEventColumns+" FROM audit_events WHERE seq >= ? AND seq < ? ORDER BY seq"), int64(from), int64(size))
	if err != nil {
		return fmt.Errorf("audit: verify: read events: %w", err)
	}
	defer rows.Close()
	g, gctx := errgroup.WithContext(ctx)
	scanned := make(chan []eventRow, 4)
	g.Go(func() error {
		buf := make([]byte, 0, 512)
		for b := range scanned {
			items := make([]leafItem, len(b))
			for i := range b {
				r := &b[i]
				it := &items[i]
				it.seq, it.rowLeaf = r.ev.Seq, r.leaf
				if r.err != nil {
					it.problem = fmt.Sprintf("event %d was edited: %v", r.ev.Seq, r.err)
					continue
				}
				var err error
				if buf, err = appendLeaf(buf[:0], &r.ev); err != nil {
					it.problem = fmt.Sprintf("event %d was edited: %v", r.ev.Seq, err)
					continue
				}
				it.hash = rfc6962.DefaultHasher.HashLeaf(buf)
			}
			if err := send(items); err != nil {
				return err
			}
		}
		return nil
	})
	g.Go(func() error {
		defer close(scanned)
		batch := make([]eventRow, 0, verifyBatch)
		for rows.Next() {
			batch = batch[:len(batch)+1]
			if err := scanEvent(rows, &batch[len(batch)-1]); err != nil {
				return fmt.Errorf("audit: verify: read events: %w", err)
			}
			if len(batch) == verifyBatch {
				select {
				case scanned <- batch:
				case <-gctx.Done():
					return gctx.Err()
				}
				batch = make([]eventRow, 0, verifyBatch)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("audit: verify: read events: %w", err)
		}
		if len(batch) > 0 {
			select {
			case scanned <- batch:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	return g.Wait()
}

// streamNodes sends the stored nodes with keys below end, in key order.
func streamNodes(ctx context.Context, db *store.DB, end int64, out chan<- []node) error {
	rows, err := db.QueryContext(ctx, db.Rebind("SELECT id, hash FROM audit_nodes WHERE id < ? ORDER BY id"), end)
	if err != nil {
		return fmt.Errorf("audit: verify: read tree nodes: %w", err)
	}
	defer rows.Close()
	// The hashes of a batch share one allocation: there are two nodes per
	// event, and allocating each one separately is a tenth of the run.
	const perBatch = 2 * verifyBatch
	batch := make([]node, 0, perBatch)
	slab := make([]byte, 0, perBatch*hashSize)
	var raw sql.RawBytes
	for rows.Next() {
		var n node
		if err := rows.Scan(&n.key, &raw); err != nil {
			return fmt.Errorf("audit: verify: read tree nodes: %w", err)
		}
		slab = append(slab, raw...)
		n.hash = slab[len(slab)-len(raw) : len(slab) : len(slab)]
		batch = append(batch, n)
		if len(batch) == cap(batch) {
			select {
			case out <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch = make([]node, 0, perBatch)
			slab = make([]byte, 0, perBatch*hashSize)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: verify: read tree nodes: %w", err)
	}
	if len(batch) > 0 {
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
