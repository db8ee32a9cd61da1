package records

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
)

// The extraction worker reads the text of documents' files off the
// request path: a document registered with a file and no text is found
// at once by its metadata, and by its file's words once a worker has
// read them. Jobs live in record_extract_jobs (queueExtraction), so they
// survive restarts and are shared by the nodes of one database: each
// claim is a lease, and a node that dies mid-way leaves its job to be
// claimed again when the lease ends.

// ExtractOptions configure an ExtractWorker. Every field is optional.
type ExtractOptions struct {
	// Extractor reads the files; nil: FindTools' (the tools on PATH).
	Extractor *Extractor
	// Name tells this node's claims apart in the queue; empty: the host
	// name and a random suffix.
	Name string
	// Poll is how long an idle worker waits before looking again.
	// Default 2 s.
	Poll time.Duration
	// Lease is how long a claim holds before another worker may take the
	// job over. Default 10 minutes (longer than the tools' timeouts).
	Lease time.Duration
	// Backoff is the wait after a first failure, growing fourfold with
	// each further one. Default 1 minute.
	Backoff time.Duration
	// MaxAttempts is how many times a job is tried before it is marked
	// failed. Default 5.
	MaxAttempts int
	// Log receives the failures; nil: slog.Default().
	Log *slog.Logger
}

// ExtractWorker reads queued documents' text and indexes it.
type ExtractWorker struct {
	svc  *Service
	x    *Extractor
	opts ExtractOptions
	log  *slog.Logger
}

// NewExtractWorker returns a worker of the service's queue, and the names
// of the tools missing on this machine (files needing them fail with
// ReasonToolMissing, retried, so installing them later helps).
func (s *Service) NewExtractWorker(opts ExtractOptions) (*ExtractWorker, []string) {
	var missing []string
	if opts.Extractor == nil {
		opts.Extractor, missing = FindTools()
	}
	if opts.Name == "" {
		host, _ := os.Hostname()
		suffix := make([]byte, 4)
		rand.Read(suffix)
		opts.Name = host + "-" + hex.EncodeToString(suffix)
	}
	opts.Poll = cmp.Or(opts.Poll, 2*time.Second)
	opts.Lease = cmp.Or(opts.Lease, 10*time.Minute)
	opts.Backoff = cmp.Or(opts.Backoff, time.Minute)
	opts.MaxAttempts = cmp.Or(opts.MaxAttempts, 5)
	return &ExtractWorker{svc: s, x: opts.Extractor, opts: opts, log: cmp.Or(opts.Log, slog.Default())}, missing
}

// Run works the queue with concurrency workers until ctx ends; it
// returns nil then. A concurrency below 1 runs none.
func (w *ExtractWorker) Run(ctx context.Context, concurrency int) error {
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				worked, err := w.Work(ctx)
				if err != nil && ctx.Err() == nil {
					w.log.Error("records: text extraction", "err", err)
				}
				if worked && err == nil {
					continue
				}
				select {
				case <-ctx.Done():
				case <-time.After(w.opts.Poll):
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// Work claims the job due first, if any, and carries it out: reads the
// file's text and, in one transaction, indexes it and ends the job. It
// reports whether there was a job. A failure to read the file is not an
// error of Work: the job is retried later with backoff, or after
// MaxAttempts marked failed with its reason for the records office.
func (w *ExtractWorker) Work(ctx context.Context) (bool, error) {
	var c claim
	var ok bool
	now := w.svc.now()
	err := w.svc.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		c, ok, err = claimJob(ctx, tx, w.opts.Name, now, now.Add(w.opts.Lease))
		return err
	})
	if err != nil || !ok {
		return false, err
	}
	text, source, err := w.read(ctx, c.docID)
	if ctx.Err() != nil {
		return true, ctx.Err() // the lease ends and another run takes the job
	}
	if err != nil {
		return true, w.fail(ctx, c, err)
	}
	now = w.svc.now()
	return true, w.svc.db.InTx(ctx, func(tx *store.Tx) error {
		held, err := endJob(ctx, tx, c, ExtractDone, now, source, "", "", now)
		if err != nil || !held {
			return err // a newer claim or file: its run writes the text
		}
		r, err := loadDocument(ctx, tx, c.docID, now, true)
		if err != nil {
			return err
		}
		if r.Classification > authz.Unclassified {
			return nil // classified since it was queued: its text stays out of the index
		}
		if err := saveText(ctx, tx, r.ID, text, source, now); err != nil {
			return err
		}
		return reindex(ctx, tx, r, text)
	})
}

// read decrypts a document's file and its attachments (the other files
// of its edXML package) and reads their text, the main file's first. A
// document that became classified, or whose file is gone or destroyed,
// has none to read (no error).
func (w *ExtractWorker) read(ctx context.Context, docID int64) (text, source string, err error) {
	r, err := loadDocument(ctx, w.svc.db, docID, w.svc.now(), false)
	if err != nil {
		return "", "", err
	}
	if r.Classification > authz.Unclassified {
		return "", "", nil
	}
	sc, ok, err := loadContent(ctx, w.svc.db, docID)
	if err != nil || !ok || !sc.Shredded.IsZero() {
		return "", "", err
	}
	data, err := openContent(ctx, w.svc.opts.Ring, docID, &sc)
	if err != nil {
		return "", "", err
	}
	others, err := w.svc.attachmentFiles(ctx, w.svc.db, docID, sc)
	if err != nil {
		return "", "", err
	}
	return w.extractAll(ctx, append([]Attachment{{Name: sc.Filename, MediaType: sc.MediaType, Data: data}}, others...))
}

// extractAll reads the text of a document's files, joined in order
// within the extractor's bound; the source is the first file's read. A
// file with no text to read (of a type none is read from, corrupt) is
// passed over, unless no file has any; a passing failure (a tool
// missing, timing out) fails them all, to be tried again.
func (w *ExtractWorker) extractAll(ctx context.Context, files []Attachment) (string, string, error) {
	var texts []string
	var source string
	var skipped error
	for _, f := range files {
		text, src, err := w.x.Extract(ctx, f.Data, f.MediaType)
		var xe *ExtractError
		if err != nil && errors.As(err, &xe) && xe.Permanent {
			skipped = cmp.Or(skipped, err)
			continue
		} else if err != nil {
			return "", "", err
		}
		source = cmp.Or(source, src)
		texts = append(texts, text)
	}
	if len(texts) == 0 && skipped != nil {
		return "", "", skipped
	}
	return clip(strings.Join(texts, "\n\n"), w.x.maxText()), source, nil
}

// fail records a failed attempt: the job waits Backoff × 4^(attempt-1)
// for its next, or is marked failed after MaxAttempts or a permanent
// failure, with the reason for the records office.
func (w *ExtractWorker) fail(ctx context.Context, c claim, cause error) error {
	reason := ReasonToolFailed
	var xe *ExtractError
	final := c.attempt >= w.opts.MaxAttempts
	if errors.As(cause, &xe) {
		reason, final = xe.Code, final || xe.Permanent
	}
	state, now := ExtractPending, w.svc.now()
	next := now.Add(w.opts.Backoff << (2 * min(c.attempt-1, 10)))
	if final {
		state, next = ExtractFailed, now
	}
	w.log.Warn("records: text extraction failed", "document", c.docID, "attempt", c.attempt, "final", final, "reason", reason, "err", cause)
	return w.svc.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := endJob(ctx, tx, c, state, next, "", reason, clip(cause.Error(), maxLine), now)
		return err
	})
}

// reindex puts a document's row in the full-text index anew, with text
// as its file's text.
func reindex(ctx context.Context, tx *store.Tx, r *row, text string) error {
	t, err := LookupType(r.Type)
	if err != nil {
		return err
	}
	return indexDocument(ctx, tx, r.ID, indexText(t, r, text))
}

// keepText is the text part of storing a new file for r: a text the
// caller supplied is kept (and indexed by the caller, with the file); a
// file without one whose text extraction can read is queued for the
// worker. A classified document's text is neither kept nor extracted
// (indexText leaves it out of the plaintext index); declassifying it
// queues its file then (textOnRelevel).
func keepText(ctx context.Context, tx *store.Tx, r *row, c *Content, now time.Time) error {
	switch {
	case r.Classification > authz.Unclassified:
		return nil
	case c.Text != "":
		return saveText(ctx, tx, r.ID, c.Text, SourceCaller, now)
	case Sniff(c.Data, c.MediaType) != KindNone:
		return queueExtraction(ctx, tx, r.ID, now)
	}
	return nil
}

// textOnRelevel keeps the index and the queue true to a document's new
// level: its index row's visibility tokens carry the level; raised above
// unclassified, its file's text leaves the index and the store; lowered
// to unclassified, its file is queued for extraction.
func textOnRelevel(ctx context.Context, tx *store.Tx, r *row, from authz.Level, now time.Time) error {
	switch {
	case r.Classification > authz.Unclassified && from == authz.Unclassified:
		if err := dropText(ctx, tx, r.ID); err != nil {
			return err
		}
	case r.Classification == authz.Unclassified && from > authz.Unclassified:
		sc, ok, err := loadContent(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if ok && sc.Shredded.IsZero() {
			if err := queueExtraction(ctx, tx, r.ID, now); err != nil {
				return err
			}
		}
	}
	return indexWithText(ctx, tx, r)
}

// indexWithText re-indexes r keeping its file's stored text: for the
// changes that alter what the index holds of the metadata (issuance's
// number).
func indexWithText(ctx context.Context, tx *store.Tx, r *row) error {
	text := ""
	if r.Classification == authz.Unclassified {
		var err error
		if text, err = storedText(ctx, tx, r.ID); err != nil {
			return err
		}
	}
	return reindex(ctx, tx, r, text)
}
