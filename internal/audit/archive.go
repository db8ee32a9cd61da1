package audit

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"chancery/internal/errs"
	"chancery/internal/store"
)

// archiveChunk is the number of events in one archive file.
const archiveChunk = 1 << 16

// maxArchiveLine bounds one JSON line of an archive file; an event's
// fields are bounded far below it.
const maxArchiveLine = 1 << 20

// archiveRange is a row of audit_archives: events [first, end) in blob key.
type archiveRange struct {
	first, end uint64
	key        string
}

// archiveKey names the archive file of events [first, end). Zero padding
// keeps a listing in ledger order.
func archiveKey(first, end uint64) string {
	return fmt.Sprintf("audit/events-%020d-%020d.jsonl", first, end)
}

// Archive moves the events with sequence numbers below upTo that are not
// archived yet to the blob storage in Options.Archive, as JSON Lines files
// of at most 65,536 events each (one Event, with its seq, per line), and
// deletes their rows. Their leaves and tree nodes stay, so proofs remain
// valid; Event and Verify read archived events back from the bucket. It
// returns the number of events archived.
//
// Archive first checks each event against its leaf in the tree, and
// refuses to archive a range that does not verify. It returns an error
// wrapping errs.ErrInvalid if no bucket is configured or upTo is beyond
// the integrated tree.
func (l *Ledger) Archive(ctx context.Context, upTo uint64) (uint64, error) {
	if l.opts.Archive == nil {
		return 0, fmt.Errorf("%w: no archive storage is configured for the audit ledger", errs.ErrInvalid)
	}
	if err := l.checkTreeSize(ctx, upTo); err != nil {
		return 0, err
	}
	archives, err := listArchives(ctx, l.db)
	if err != nil {
		return 0, err
	}
	from := uint64(0)
	if n := len(archives); n > 0 {
		from = archives[n-1].end
	}
	var done uint64
	for from < upTo {
		to := min(from+archiveChunk, upTo)
		if err := l.archiveRange(ctx, from, to); err != nil {
			return done, err
		}
		done += to - from
		from = to
	}
	return done, nil
}

// archiveRange archives events [from, to). The file is written before
// the rows are deleted, and under a name fixed by the range, so a crash in
// between leaves the rows in place and a retry overwrites the file.
func (l *Ledger) archiveRange(ctx context.Context, from, to uint64) error {
	leaves, err := selectLeaves(ctx, l.db, from, to)
	if err != nil {
		return err
	}
	rows, err := l.db.QueryContext(ctx, l.db.Rebind("SELECT "+selectEventColumns+" FROM audit_events WHERE seq >= ? AND seq < ? ORDER BY seq"), int64(from), int64(to))
	if err != nil {
		return fmt.Errorf("audit: archive: read events: %w", err)
	}
	defer rows.Close()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	next := from
	for rows.Next() {
		var r eventRow
		if err := scanEvent(rows, &r); err != nil {
			return fmt.Errorf("audit: archive: read events: %w", err)
		}
		h, err := r.ev.LeafHash()
		if r.err != nil || err != nil || r.ev.Seq != next || !bytes.Equal(h, leaves[next-from]) {
			return fmt.Errorf("audit: archive: event %d does not match the tree; run audit verify before archiving", next)
		}
		if err := enc.Encode(&r.ev); err != nil {
			return fmt.Errorf("audit: archive: encode event %d: %w", next, err)
		}
		next++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: archive: read events: %w", err)
	}
	if next != to {
		return fmt.Errorf("audit: archive: event %d is missing; run audit verify before archiving", next)
	}
	key := archiveKey(from, to)
	if err := store.WriteBlob(ctx, l.opts.Archive, key, buf.Bytes(), nil); err != nil {
		return fmt.Errorf("audit: archive: write %s: %w", key, err)
	}
	return l.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO audit_archives (first_seq, end_seq, blob_key, created_us) VALUES (?, ?, ?, ?)"),
			int64(from), int64(to), key, l.now().UnixMicro()); err != nil {
			return fmt.Errorf("audit: archive: record %s: %w", key, err)
		}
		res, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM audit_events WHERE seq >= ? AND seq < ?"), int64(from), int64(to))
		if err != nil {
			return fmt.Errorf("audit: archive: delete archived rows: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(to-from) {
			return fmt.Errorf("audit: archive: deleted %d rows, want %d (%v)", n, to-from, err)
		}
		return nil
	})
}

// listArchives returns the archived ranges in ledger order.
func listArchives(ctx context.Context, db *store.DB) ([]archiveRange, error) {
	rows, err := db.QueryContext(ctx, "SELECT first_seq, end_seq, blob_key FROM audit_archives ORDER BY first_seq")
	if err != nil {
		return nil, fmt.Errorf("audit: read archive index: %w", err)
	}
	defer rows.Close()
	var out []archiveRange
	for rows.Next() {
		var (
			a          archiveRange
			first, end int64
		)
		if err := rows.Scan(&first, &end, &a.key); err != nil {
			return nil, fmt.Errorf("audit: read archive index: %w", err)
		}
		a.first, a.end = uint64(first), uint64(end)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: read archive index: %w", err)
	}
	return out, nil
}

// archiveOf returns the archived range holding seq, or an error wrapping
// errs.ErrNotFound.
func (l *Ledger) archiveOf(ctx context.Context, seq uint64) (archiveRange, error) {
	var (
		a          archiveRange
		first, end int64
	)
	err := l.db.QueryRowContext(ctx, l.db.Rebind("SELECT first_seq, end_seq, blob_key FROM audit_archives WHERE first_seq <= ? AND end_seq > ?"),
		int64(seq), int64(seq)).Scan(&first, &end, &a.key)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("%w: event %d is not archived", errs.ErrNotFound, seq)
	}
	if err != nil {
		return a, fmt.Errorf("audit: read archive index: %w", err)
	}
	a.first, a.end = uint64(first), uint64(end)
	return a, nil
}

// archivedEvent reads event seq back from archive a.
func (l *Ledger) archivedEvent(ctx context.Context, a archiveRange, seq uint64) (Event, error) {
	var found *Event
	errFound := errors.New("found")
	err := l.readArchive(ctx, a, func(e *Event, _ error) error {
		if e.Seq == seq {
			found = e
			return errFound
		}
		return nil
	})
	if found != nil {
		return *found, nil
	}
	if err == nil {
		err = fmt.Errorf("%w: event %d is not in its archive file %s", errs.ErrNotFound, seq, a.key)
	}
	return Event{}, err
}

// readArchive calls fn with each event of archive a, in file order, with
// a non-nil error for a line that does not decode. It stops at the first
// error fn returns.
func (l *Ledger) readArchive(ctx context.Context, a archiveRange, fn func(e *Event, lineErr error) error) error {
	if l.opts.Archive == nil {
		return fmt.Errorf("audit: events %d to %d are archived in %s, but no archive storage is configured", a.first, a.end-1, a.key)
	}
	r, err := l.opts.Archive.NewReader(ctx, a.key, nil)
	if err != nil {
		return fmt.Errorf("audit: open archive %s: %w", a.key, err)
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxArchiveLine)
	for sc.Scan() {
		var e Event
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		lineErr := dec.Decode(&e)
		if lineErr == nil && dec.More() {
			lineErr = errors.New("trailing data after the event")
		}
		if err := fn(&e, lineErr); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("audit: read archive %s: %w", a.key, err)
	}
	return nil
}
