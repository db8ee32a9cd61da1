package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"chancery/internal/store"
)

// The states of an extraction job.
const (
	ExtractPending = "pending"
	ExtractRunning = "running"
	ExtractDone    = "done"
	ExtractFailed  = "failed"
)

// queueExtraction puts a document's file in the queue of texts to
// extract, due now; a job already there (an earlier file's) starts over
// under a new generation, so that a run still working on the old file
// cannot write its text.
func queueExtraction(ctx context.Context, tx *store.Tx, docID int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_extract_jobs (document_id, state, next_us, created_us, updated_us)
		VALUES (?, 'pending', ?, ?, ?)
		ON CONFLICT (document_id) DO UPDATE SET generation = record_extract_jobs.generation + 1, state = 'pending', attempts = 0,
			next_us = excluded.next_us, worker = '', reason = '', detail = '', source = '', updated_us = excluded.updated_us`),
		docID, store.Micros(now), store.Micros(now), store.Micros(now))
	if err != nil {
		return fmt.Errorf("records: queue the text extraction of document %d: %w", docID, err)
	}
	return nil
}

// claim is a job a worker holds: the document, the job's generation and
// the attempt, which together fence the worker's result against a newer
// claim of the same job.
type claim struct {
	docID      int64
	generation int64
	attempt    int
}

// claimJob takes the job due first (a pending one, or a running one
// whose claimant's lease ran out: a node that died mid-way), marking it
// running under a lease until leaseEnd. On PostgreSQL concurrent
// claimants skip each other's locked rows (SKIP LOCKED); SQLite has one
// writer at a time (its write lock is taken at BEGIN), so two claims
// never see the same row as free.
func claimJob(ctx context.Context, tx *store.Tx, worker string, now, leaseEnd time.Time) (claim, bool, error) {
	pick := `SELECT document_id FROM record_extract_jobs WHERE state IN ('pending', 'running') AND next_us <= ? ORDER BY next_us LIMIT 1`
	if tx.Dialect == store.Postgres {
		pick += ` FOR UPDATE SKIP LOCKED`
	}
	var c claim
	err := tx.QueryRowContext(ctx, tx.Rebind(`UPDATE record_extract_jobs SET state = 'running', attempts = attempts + 1, next_us = ?, worker = ?, updated_us = ?
		WHERE document_id = (`+pick+`) RETURNING document_id, generation, attempts`),
		store.Micros(leaseEnd), worker, store.Micros(now), store.Micros(now)).Scan(&c.docID, &c.generation, &c.attempt)
	if errors.Is(err, sql.ErrNoRows) {
		return claim{}, false, nil
	}
	if err != nil {
		return claim{}, false, fmt.Errorf("records: claim a text extraction: %w", err)
	}
	return c, true, nil
}

// endJob ends a claimed job in state (done, failed, or pending again
// at next), and reports whether the claim still held: false when the
// job was claimed anew after its lease ran out, or its file changed.
func endJob(ctx context.Context, tx *store.Tx, c claim, state string, next time.Time, source, reason, detail string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE record_extract_jobs SET state = ?, next_us = ?, source = ?, reason = ?, detail = ?, updated_us = ?
		WHERE document_id = ? AND generation = ? AND attempts = ? AND state = 'running'`),
		state, store.Micros(next), source, reason, detail, store.Micros(now), c.docID, c.generation, c.attempt)
	if err != nil {
		return false, fmt.Errorf("records: end the text extraction of document %d: %w", c.docID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// saveText keeps a document's text (unclassified documents only: see
// indexText), replacing any earlier one.
func saveText(ctx context.Context, tx *store.Tx, docID int64, body, source string, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_texts (document_id, body, source, at_us) VALUES (?, ?, ?, ?)
		ON CONFLICT (document_id) DO UPDATE SET body = excluded.body, source = excluded.source, at_us = excluded.at_us`),
		docID, body, source, store.Micros(now))
	if err != nil {
		return fmt.Errorf("records: keep the text of document %d: %w", docID, err)
	}
	return nil
}

// dropText forgets a document's text and any extraction of it.
func dropText(ctx context.Context, tx *store.Tx, docID int64) error {
	for _, q := range []string{`DELETE FROM record_texts WHERE document_id = ?`, `DELETE FROM record_extract_jobs WHERE document_id = ?`} {
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), docID); err != nil {
			return fmt.Errorf("records: forget the text of document %d: %w", docID, err)
		}
	}
	return nil
}

// storedText returns a document's kept text, "" when none is.
func storedText(ctx context.Context, q store.Queryer, docID int64) (string, error) {
	var body string
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT body FROM record_texts WHERE document_id = ?`), docID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("records: the text of document %d: %w", docID, err)
	}
	return body, nil
}

// Extraction is where the reading of a document's file for the search
// index stands, as the records office sees it on the document.
type Extraction struct {
	// State is pending, running, done or failed.
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	// Source is what read the text, once done: pdftotext, ocr, office or
	// plain.
	Source string `json:"source,omitempty"`
	// Reason is the last failure's code (see ExtractError), Detail its
	// words.
	Reason    string    `json:"reason,omitempty"`
	Detail    string    `json:"detail,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// loadExtraction returns a document's extraction job, nil when it has
// none (no file, a caller-supplied text, or a classified document).
func loadExtraction(ctx context.Context, q store.Queryer, docID int64) (*Extraction, error) {
	var e Extraction
	var at int64
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT state, attempts, source, reason, detail, updated_us FROM record_extract_jobs WHERE document_id = ?`), docID).
		Scan(&e.State, &e.Attempts, &e.Source, &e.Reason, &e.Detail, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // no extraction is a state, not a missing item
	}
	if err != nil {
		return nil, fmt.Errorf("records: the text extraction of document %d: %w", docID, err)
	}
	e.UpdatedAt = store.FromMicros(at)
	return &e, nil
}
