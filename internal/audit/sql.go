package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// The storage of the ledger. Every statement is written once with '?'
// placeholders; the few dialect differences are spelled out where they
// occur.

// eventColumns are the columns an event is stored in, in the order
// insertEvents binds them and scanEvent reads them.
const eventColumns = "time_us, actor_kind, actor_id, actor_name, unit_id, action, resource_type, resource_id, level, outcome, reason, request_id, attrs, leaf_hash"

const eventColumnCount = 14

// maxRowsPerInsert bounds one multi-row INSERT: 500 rows of events use
// 7,000 placeholders, under both SQLite's limit (32,766) and PostgreSQL's
// (65,535).
const maxRowsPerInsert = 500

// pendingEvent is an event ready to store: validated, timed, hashed.
type pendingEvent struct {
	ev    Event
	attrs string // ev.Attrs as a JSON object
	leaf  []byte
}

// insertEvents stores events and returns their provisional ids, in order.
func insertEvents(ctx context.Context, tx *store.Tx, events []*pendingEvent) ([]int64, error) {
	// On SQLite, a statement that writes several rows and could fail
	// halfway needs a statement journal, which spills to a temporary file
	// and costs a tenth of the append rate. OR ROLLBACK makes a failure
	// roll back the whole transaction instead, as the batch would be
	// anyway.
	insert := "INSERT INTO audit_events ("
	if tx.Dialect == store.SQLite {
		insert = "INSERT OR ROLLBACK INTO audit_events ("
	}
	ids := make([]int64, 0, len(events))
	for start := 0; start < len(events); start += maxRowsPerInsert {
		chunk := events[start:min(start+maxRowsPerInsert, len(events))]
		var b strings.Builder
		b.WriteString(insert + eventColumns + ") VALUES ")
		args := make([]any, 0, len(chunk)*eventColumnCount)
		for i, p := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
			e := &p.ev
			args = append(args, e.Time.UnixMicro(), string(e.Actor.Kind), e.Actor.ID, e.Actor.Name, e.UnitID,
				e.Action, e.ResourceType, e.ResourceID, int64(e.Level), string(e.Outcome), e.Reason, e.RequestID,
				p.attrs, p.leaf)
		}
		b.WriteString(" RETURNING id")
		rows, err := tx.QueryContext(ctx, tx.Rebind(b.String()), args...)
		if err != nil {
			return nil, fmt.Errorf("audit: store events: %w", err)
		}
		first := len(ids)
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("audit: store events: %w", err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("audit: store events: %w", err)
		}
		rows.Close()
		if len(ids)-first != len(chunk) {
			return nil, fmt.Errorf("audit: store events: %d ids returned for %d rows", len(ids)-first, len(chunk))
		}
		// Neither dialect promises RETURNING's order, but both draw the
		// ids of one statement in VALUES order from an increasing
		// sequence (SQLite holds the write lock throughout; PostgreSQL
		// calls nextval row by row), so sorted ids match the rows.
		slices.Sort(ids[first:])
	}
	return ids, nil
}

// encodeAttrs returns attrs as a JSON object; encoding/json sorts the
// keys, so equal maps give equal text.
func encodeAttrs(attrs map[string]string) string {
	if len(attrs) == 0 {
		return "{}"
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		// A map of strings always marshals.
		panic(fmt.Sprintf("audit: marshal attributes: %v", err))
	}
	return string(b)
}

// eventRow is an event as scanned from storage, with its stored leaf hash.
type eventRow struct {
	ev   Event
	seq  sql.NullInt64
	leaf []byte
	err  error // the row could not be decoded (a non-JSON attrs, say)
}

// selectEventColumns are the columns scanEvent reads.
const selectEventColumns = "id, seq, " + eventColumns

// scanEvent reads one row of selectEventColumns into r.
func scanEvent(rows interface{ Scan(...any) error }, r *eventRow) error {
	var (
		timeUS        int64
		kind, outcome string
		level         int64
		attrs         []byte
	)
	e := &r.ev
	err := rows.Scan(&e.ID, &r.seq, &timeUS, &kind, &e.Actor.ID, &e.Actor.Name, &e.UnitID, &e.Action,
		&e.ResourceType, &e.ResourceID, &level, &outcome, &e.Reason, &e.RequestID, &attrs, &r.leaf)
	if err != nil {
		return err
	}
	e.Seq = uint64(r.seq.Int64)
	e.Time = time.UnixMicro(timeUS).UTC()
	e.Actor.Kind = ActorKind(kind)
	e.Level = authz.Level(level)
	e.Outcome = Outcome(outcome)
	e.Attrs = nil
	r.err = nil
	if len(attrs) != 2 || string(attrs) != "{}" {
		if err := json.Unmarshal(attrs, &e.Attrs); err != nil {
			r.err = fmt.Errorf("attributes are not a JSON object of strings: %v", err)
		}
	}
	return nil
}

// selectEvents returns the events matching where (with '?' placeholders
// for args, the last of which is the limit), newest id first.
func selectEvents(ctx context.Context, db *store.DB, where string, args []any) ([]Event, error) {
	rows, err := db.QueryContext(ctx, db.Rebind("SELECT "+selectEventColumns+" FROM audit_events WHERE "+where+" ORDER BY id DESC LIMIT ?"), args...)
	if err != nil {
		return nil, fmt.Errorf("audit: search events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var r eventRow
		if err := scanEvent(rows, &r); err != nil {
			return nil, fmt.Errorf("audit: search events: %w", err)
		}
		if r.err != nil {
			return nil, fmt.Errorf("audit: search events: event %d: %w; run audit verify", r.ev.Seq, r.err)
		}
		out = append(out, r.ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: search events: %w", err)
	}
	return out, nil
}

// selectEvent returns the integrated event at seq, or an error wrapping
// errs.ErrNotFound.
func selectEvent(ctx context.Context, db *store.DB, seq uint64) (Event, error) {
	var r eventRow
	err := scanEvent(db.QueryRowContext(ctx, db.Rebind("SELECT "+selectEventColumns+" FROM audit_events WHERE seq = ?"), int64(seq)), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, fmt.Errorf("%w: no event %d in storage", errs.ErrNotFound, seq)
	}
	if err != nil {
		return Event{}, fmt.Errorf("audit: read event %d: %w", seq, err)
	}
	if r.err != nil {
		return Event{}, fmt.Errorf("audit: read event %d: %w", seq, r.err)
	}
	return r.ev, nil
}

// treeState is the integrated tree as stored.
type treeState struct {
	origin string
	size   uint64
	root   []byte
}

// readTree reads the tree row. With lock set it also takes the
// integrators' lock: PostgreSQL needs FOR UPDATE, while SQLite's writer
// already holds the database lock from BEGIN IMMEDIATE (see store.Open).
func readTree(ctx context.Context, q store.Queryer, dialect store.Dialect, lock bool) (treeState, error) {
	query := "SELECT origin, size, root FROM audit_tree WHERE id = 1"
	if lock && dialect == store.Postgres {
		query += " FOR UPDATE"
	}
	var (
		t    treeState
		size int64
	)
	if err := q.QueryRowContext(ctx, query).Scan(&t.origin, &size, &t.root); err != nil {
		return treeState{}, fmt.Errorf("audit: read tree state (is the database migrated?): %w", err)
	}
	t.size = uint64(size)
	return t, nil
}

// setOrigin stores origin as the ledger's origin unless one is stored
// already, and returns the stored one.
func setOrigin(ctx context.Context, db *store.DB, origin string) (string, error) {
	if _, err := db.ExecContext(ctx, db.Rebind("UPDATE audit_tree SET origin = ? WHERE id = 1 AND origin = ''"), origin); err != nil {
		return "", fmt.Errorf("audit: store origin: %w", err)
	}
	t, err := readTree(ctx, db, db.Dialect, false)
	return t.origin, err
}

// leafRef is an event waiting for integration.
type leafRef struct {
	id   int64
	leaf []byte
}

// selectPending returns up to limit events not yet integrated, oldest id
// first.
func selectPending(ctx context.Context, tx *store.Tx, limit int) ([]leafRef, error) {
	rows, err := tx.QueryContext(ctx, tx.Rebind("SELECT id, leaf_hash FROM audit_events WHERE seq IS NULL ORDER BY id LIMIT ?"), limit)
	if err != nil {
		return nil, fmt.Errorf("audit: read events to integrate: %w", err)
	}
	defer rows.Close()
	var out []leafRef
	for rows.Next() {
		var r leafRef
		if err := rows.Scan(&r.id, &r.leaf); err != nil {
			return nil, fmt.Errorf("audit: read events to integrate: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: read events to integrate: %w", err)
	}
	return out, nil
}

// maxRunsPerUpdate bounds the CASE arms of one UPDATE in assignSeqs.
const maxRunsPerUpdate = 64

// assignSeqs gives the events ids (ascending) the sequence numbers
// first, first+1, …. Ids of one group commit are consecutive, so the
// usual batch is a single run and a single statement: seq = id + offset
// for ids in [a, b].
func assignSeqs(ctx context.Context, tx *store.Tx, ids []int64, first uint64) error {
	type run struct{ lo, hi, offset int64 }
	var runs []run
	for i, id := range ids {
		if n := len(runs); n > 0 && runs[n-1].hi+1 == id {
			runs[n-1].hi = id
			continue
		}
		runs = append(runs, run{lo: id, hi: id, offset: int64(first) + int64(i) - id})
	}
	for start := 0; start < len(runs); start += maxRunsPerUpdate {
		chunk := runs[start:min(start+maxRunsPerUpdate, len(runs))]
		var set, where strings.Builder
		var setArgs, whereArgs []any
		set.WriteString("UPDATE audit_events SET seq = id + CASE")
		for i, r := range chunk {
			set.WriteString(" WHEN id BETWEEN ? AND ? THEN CAST(? AS BIGINT)")
			setArgs = append(setArgs, r.lo, r.hi, r.offset)
			if i > 0 {
				where.WriteString(" OR ")
			}
			where.WriteString("id BETWEEN ? AND ?")
			whereArgs = append(whereArgs, r.lo, r.hi)
		}
		set.WriteString(" END WHERE seq IS NULL AND (" + where.String() + ")")
		res, err := tx.ExecContext(ctx, tx.Rebind(set.String()), append(setArgs, whereArgs...)...)
		if err != nil {
			return fmt.Errorf("audit: assign sequence numbers: %w", err)
		}
		var want int64
		for _, r := range chunk {
			want += r.hi - r.lo + 1
		}
		if got, err := res.RowsAffected(); err != nil || got != want {
			return fmt.Errorf("audit: assign sequence numbers: %d rows changed, want %d (%v)", got, want, err)
		}
	}
	return nil
}

// node is a stored tree node: its post-order key and hash.
type node struct {
	key  int64
	hash []byte
}

// insertNodes stores tree nodes.
func insertNodes(ctx context.Context, q store.Queryer, nodes []node) error {
	for start := 0; start < len(nodes); start += maxRowsPerInsert {
		chunk := nodes[start:min(start+maxRowsPerInsert, len(nodes))]
		var b strings.Builder
		b.WriteString("INSERT INTO audit_nodes (id, hash) VALUES ")
		args := make([]any, 0, 2*len(chunk))
		for i, n := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?)")
			args = append(args, n.key, n.hash)
		}
		if _, err := q.ExecContext(ctx, q.Rebind(b.String()), args...); err != nil {
			return fmt.Errorf("audit: store tree nodes: %w", err)
		}
	}
	return nil
}

// updateTree records the integrated tree's new size and root.
func updateTree(ctx context.Context, tx *store.Tx, size uint64, root []byte) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE audit_tree SET size = ?, root = ? WHERE id = 1"), int64(size), root); err != nil {
		return fmt.Errorf("audit: update tree state: %w", err)
	}
	return nil
}

// selectNodes returns the hashes of the nodes with the given keys, in the
// keys' order, in one query. A missing node is an error: the tree holds
// every node below its size.
func selectNodes(ctx context.Context, q store.Queryer, keys []int64) ([][]byte, error) {
	if len(keys) == 0 {
		return [][]byte{}, nil
	}
	var b strings.Builder
	b.WriteString("SELECT id, hash FROM audit_nodes WHERE id IN (")
	args := make([]any, len(keys))
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('?')
		args[i] = k
	}
	b.WriteByte(')')
	rows, err := q.QueryContext(ctx, q.Rebind(b.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("audit: read tree nodes: %w", err)
	}
	defer rows.Close()
	out := make([][]byte, len(keys))
	for rows.Next() {
		var (
			key  int64
			hash []byte
		)
		if err := rows.Scan(&key, &hash); err != nil {
			return nil, fmt.Errorf("audit: read tree nodes: %w", err)
		}
		for i, k := range keys {
			if k == key {
				out[i] = hash
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: read tree nodes: %w", err)
	}
	for i, h := range out {
		if len(h) != hashSize {
			return nil, fmt.Errorf("audit: tree node %d is missing or malformed; run audit verify", keys[i])
		}
	}
	return out, nil
}

// selectLeaves returns the stored leaf hashes of events [from, to), from
// one range scan of the nodes table.
func selectLeaves(ctx context.Context, q store.Queryer, from, to uint64) ([][]byte, error) {
	if from >= to {
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, q.Rebind("SELECT id, hash FROM audit_nodes WHERE id >= ? AND id <= ? ORDER BY id"),
		nodeKey(compact.NewNodeID(0, from)), nodeKey(compact.NewNodeID(0, to-1)))
	if err != nil {
		return nil, fmt.Errorf("audit: read leaves: %w", err)
	}
	defer rows.Close()
	out := make([][]byte, 0, to-from)
	want := nodeKey(compact.NewNodeID(0, from))
	for rows.Next() {
		var (
			key  int64
			hash []byte
		)
		if err := rows.Scan(&key, &hash); err != nil {
			return nil, fmt.Errorf("audit: read leaves: %w", err)
		}
		if key != want {
			continue // an inner node between two leaves
		}
		out = append(out, hash)
		want = nodeKey(compact.NewNodeID(0, from+uint64(len(out))))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: read leaves: %w", err)
	}
	if uint64(len(out)) != to-from {
		return nil, fmt.Errorf("audit: leaf %d is missing from the tree; run audit verify", from+uint64(len(out)))
	}
	return out, nil
}

// storedCheckpoint is a row of audit_checkpoints.
type storedCheckpoint struct {
	size    uint64
	root    []byte
	note    []byte
	created time.Time
}

// insertCheckpoint stores c unless a checkpoint of its size exists.
func insertCheckpoint(ctx context.Context, db *store.DB, c storedCheckpoint) error {
	_, err := db.ExecContext(ctx, db.Rebind(
		"INSERT INTO audit_checkpoints (size, root, note, created_us) VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING"),
		int64(c.size), c.root, string(c.note), c.created.UnixMicro())
	if err != nil {
		return fmt.Errorf("audit: store checkpoint: %w", err)
	}
	return nil
}

// checkpointQuery selects checkpoints; callers add WHERE and ORDER BY.
const checkpointQuery = "SELECT size, root, note, created_us FROM audit_checkpoints"

func scanCheckpoint(row interface{ Scan(...any) error }) (storedCheckpoint, error) {
	var (
		c         storedCheckpoint
		size, cus int64
		note      string
	)
	if err := row.Scan(&size, &c.root, &note, &cus); err != nil {
		return storedCheckpoint{}, err
	}
	c.size, c.note, c.created = uint64(size), []byte(note), time.UnixMicro(cus).UTC()
	return c, nil
}

// latestCheckpoint returns the largest stored checkpoint, or an error
// wrapping errs.ErrNotFound.
func latestCheckpoint(ctx context.Context, db *store.DB) (storedCheckpoint, error) {
	c, err := scanCheckpoint(db.QueryRowContext(ctx, checkpointQuery+" ORDER BY size DESC LIMIT 1"))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: the ledger has no checkpoint yet", errs.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("audit: read latest checkpoint: %w", err)
	}
	return c, nil
}

// witnessed is a row of audit_witnessed.
type witnessed struct {
	size uint64
	root []byte
	note []byte
	at   time.Time
}

// latestWitnessed returns the largest checkpoint of origin witnessed, or
// an error wrapping errs.ErrNotFound.
func latestWitnessed(ctx context.Context, db *store.DB, origin string) (witnessed, error) {
	var (
		w        witnessed
		size, at int64
		note     string
	)
	err := db.QueryRowContext(ctx, db.Rebind("SELECT size, root, note, witnessed_us FROM audit_witnessed WHERE origin = ? ORDER BY size DESC LIMIT 1"), origin).
		Scan(&size, &w.root, &note, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("%w: no checkpoint of %s witnessed yet", errs.ErrNotFound, origin)
	}
	if err != nil {
		return w, fmt.Errorf("audit: read witnessed checkpoint of %s: %w", origin, err)
	}
	w.size, w.note, w.at = uint64(size), []byte(note), time.UnixMicro(at).UTC()
	return w, nil
}

// insertWitnessed stores a cosigned checkpoint of origin.
func insertWitnessed(ctx context.Context, db *store.DB, origin string, w witnessed) error {
	_, err := db.ExecContext(ctx, db.Rebind(
		"INSERT INTO audit_witnessed (origin, size, root, note, witnessed_us) VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin, size) DO NOTHING"),
		origin, int64(w.size), w.root, string(w.note), w.at.UnixMicro())
	if err != nil {
		return fmt.Errorf("audit: store witnessed checkpoint of %s: %w", origin, err)
	}
	return nil
}

// insertConflict keeps the evidence of an inconsistent checkpoint.
func insertConflict(ctx context.Context, db *store.DB, c Conflict) error {
	_, err := db.ExecContext(ctx, db.Rebind(
		"INSERT INTO audit_witness_conflicts (origin, known_note, offered_note, problem, found_us) VALUES (?, ?, ?, ?, ?)"),
		c.Origin, string(c.Known), string(c.Offered), c.Problem, c.Found.UnixMicro())
	if err != nil {
		return fmt.Errorf("audit: store witness conflict for %s: %w", c.Origin, err)
	}
	return nil
}

// selectConflicts returns the conflicts recorded for origin, newest first.
func selectConflicts(ctx context.Context, db *store.DB, origin string) ([]Conflict, error) {
	rows, err := db.QueryContext(ctx, db.Rebind(
		"SELECT origin, known_note, offered_note, problem, found_us FROM audit_witness_conflicts WHERE origin = ? ORDER BY id DESC"), origin)
	if err != nil {
		return nil, fmt.Errorf("audit: read witness conflicts: %w", err)
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		var (
			c              Conflict
			known, offered string
			found          int64
		)
		if err := rows.Scan(&c.Origin, &known, &offered, &c.Problem, &found); err != nil {
			return nil, fmt.Errorf("audit: read witness conflicts: %w", err)
		}
		c.Known, c.Offered, c.Found = []byte(known), []byte(offered), time.UnixMicro(found).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: read witness conflicts: %w", err)
	}
	return out, nil
}

// witnessedRoot returns the root of the checkpoint of origin witnessed at
// size, or an error wrapping errs.ErrNotFound.
func witnessedRoot(ctx context.Context, db *store.DB, origin string, size uint64) ([]byte, error) {
	var root []byte
	err := db.QueryRowContext(ctx, db.Rebind("SELECT root FROM audit_witnessed WHERE origin = ? AND size = ?"), origin, int64(size)).Scan(&root)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no checkpoint of %s witnessed at size %d", errs.ErrNotFound, origin, size)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read witnessed checkpoint of %s: %w", origin, err)
	}
	return root, nil
}

// recentCheckpoints returns the newest n stored checkpoints, newest
// first, each with its signature checked.
func (l *Ledger) recentCheckpoints(ctx context.Context, n int) ([]Checkpoint, error) {
	rows, err := l.db.QueryContext(ctx, l.db.Rebind(checkpointQuery+" ORDER BY size DESC LIMIT ?"), n)
	if err != nil {
		return nil, fmt.Errorf("audit: read checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: read checkpoints: %w", err)
		}
		cp, err := l.parseStored(c)
		if err != nil {
			return nil, err
		}
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: read checkpoints: %w", err)
	}
	return out, nil
}
