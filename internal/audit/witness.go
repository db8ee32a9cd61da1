package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"chancery/internal/errs"
	"chancery/internal/store"
)

// Source is another node's ledger as a witness reaches it: over the API,
// or directly for a ledger in the same process (see Ledger.Source).
type Source interface {
	// Latest returns the ledger's newest signed checkpoint.
	Latest(ctx context.Context) ([]byte, error)
	// Consistency returns the proof that the tree of size from is a
	// prefix of the tree of size to.
	Consistency(ctx context.Context, from, to uint64) ([][]byte, error)
}

// Source returns the ledger as a Source, for a witness in the same
// process.
func (l *Ledger) Source() Source { return ledgerSource{l} }

type ledgerSource struct{ l *Ledger }

func (s ledgerSource) Latest(ctx context.Context) ([]byte, error) {
	c, err := s.l.LatestCheckpoint(ctx)
	return c.Note, err
}

func (s ledgerSource) Consistency(ctx context.Context, from, to uint64) ([][]byte, error) {
	return s.l.ConsistencyProof(ctx, from, to)
}

// InconsistentError reports a checkpoint a witness refused because it
// contradicts one the witness countersigned before: the log was rewritten
// (a fork) or rewound. Both checkpoints are signed by the log, so together
// they prove it; the witness keeps them (see Witness.Conflicts).
type InconsistentError struct {
	Origin  string
	Known   uint64 // size of the last checkpoint witnessed
	Offered uint64 // size of the refused checkpoint
	Problem string
}

// Error returns a message naming the log, both sizes and the problem.
func (e *InconsistentError) Error() string {
	return fmt.Sprintf("audit: witness refuses the checkpoint of %s at size %d (last witnessed: size %d): %s", e.Origin, e.Offered, e.Known, e.Problem)
}

// Conflict is the evidence of an InconsistentError: the checkpoint the
// witness knew and the one it refused, both signed by the log.
type Conflict struct {
	Origin  string
	Known   []byte
	Offered []byte
	Problem string
	Found   time.Time
}

// WitnessOptions configure a Witness.
type WitnessOptions struct {
	// Log verifies the witnessed log's checkpoints; its name is the log's
	// origin. Required.
	Log note.Verifier
	// Cosigner countersigns accepted checkpoints, such as NewCosigner
	// makes from the witnessing node's key. Required.
	Cosigner note.Signer
	// Now returns the current time. If nil, time.Now is used.
	Now func() time.Time
	// OnConflict, if set, is told of each inconsistency the witness
	// finds, once its evidence is stored: the node raises an alert.
	OnConflict func(context.Context, Conflict)
}

// Witness follows another node's ledger: it fetches each new checkpoint,
// checks that it extends the last one it accepted (with a consistency
// proof), stores it and countersigns it. A log that rewrites or rewinds
// its history is then caught by every witness that saw it before.
// Witness is safe for concurrent use.
type Witness struct {
	db       *store.DB
	log      note.Verifier
	cosigner note.Signer
	now      func() time.Time
	// onConflict is WitnessOptions.OnConflict.
	onConflict func(context.Context, Conflict)
	mu         sync.Mutex // serialises Update and AddCheckpoint, so each checks against the latest
}

// NewWitness returns a Witness of the log opts.Log, storing what it
// witnesses in db.
func NewWitness(db *store.DB, opts WitnessOptions) (*Witness, error) {
	if opts.Log == nil || opts.Cosigner == nil {
		return nil, errors.New("audit: a witness needs the log's verifier and its own cosigner")
	}
	w := &Witness{db: db, log: opts.Log, cosigner: opts.Cosigner, now: opts.Now, onConflict: opts.OnConflict}
	if w.now == nil {
		w.now = time.Now
	}
	return w, nil
}

// Update fetches src's latest checkpoint and, if it is consistent with
// the last one witnessed, stores it with the witness's cosignature and
// returns it. The first checkpoint is accepted on trust. A checkpoint no
// larger than the last one witnessed changes nothing when the witness has
// seen it before.
//
// Update returns an *InconsistentError, after recording the evidence, for
// a checkpoint with the same size as one witnessed but another root, a
// smaller one not witnessed before (rewound), or a larger one that the
// consistency proof does not connect (rewritten). It returns an error
// wrapping errs.ErrInvalid for a checkpoint that is malformed or not
// signed by the log, and src's error if it fails.
func (w *Witness) Update(ctx context.Context, src Source) (Checkpoint, error) {
	signed, err := src.Latest(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: witness %s: fetch latest checkpoint: %w", w.log.Name(), err)
	}
	cp, err := ParseCheckpoint(signed, w.log)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: witness %s: %w", w.log.Name(), err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	known, err := latestWitnessed(ctx, w.db, cp.Origin)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return w.accept(ctx, cp)
	case err != nil:
		return Checkpoint{}, err
	}
	knownCP, err := ParseCheckpoint(known.note, w.log)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: witness %s: stored checkpoint at size %d: %w", cp.Origin, known.size, err)
	}
	knownCP.Time = known.at
	refuse := func(problem string) (Checkpoint, error) {
		if err := w.keepConflict(ctx, known.note, cp.Note, problem); err != nil {
			return Checkpoint{}, err
		}
		return Checkpoint{}, &InconsistentError{Origin: cp.Origin, Known: known.size, Offered: cp.Size, Problem: problem}
	}
	switch {
	case cp.Size < known.size:
		root, err := witnessedRoot(ctx, w.db, cp.Origin, cp.Size)
		if err == nil && bytes.Equal(root, cp.Root) {
			return knownCP, nil // an old checkpoint, seen before
		}
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return Checkpoint{}, err
		}
		return refuse(fmt.Sprintf("the log went back from %d to %d events: it was rewound", known.size, cp.Size))
	case cp.Size == known.size:
		if bytes.Equal(cp.Root, knownCP.Root) {
			return knownCP, nil
		}
		return refuse(fmt.Sprintf("two different roots at size %d: the log's history was rewritten", cp.Size))
	}
	if known.size > 0 {
		proof, err := src.Consistency(ctx, known.size, cp.Size)
		if err != nil {
			return Checkpoint{}, fmt.Errorf("audit: witness %s: fetch consistency proof from %d to %d: %w", cp.Origin, known.size, cp.Size, err)
		}
		if err := VerifyConsistency(known.size, cp.Size, proof, knownCP.Root, cp.Root); err != nil {
			return refuse(fmt.Sprintf("the tree of size %d does not extend the one of size %d: the log's history was rewritten", cp.Size, known.size))
		}
	}
	return w.accept(ctx, cp)
}

// accept countersigns cp and stores it. w.mu must be held.
func (w *Witness) accept(ctx context.Context, cp Checkpoint) (Checkpoint, error) {
	n, err := note.Open(cp.Note, note.VerifierList(w.log))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: witness %s: %w", cp.Origin, err)
	}
	cosigned, err := note.Sign(n, w.cosigner)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: witness %s: cosign: %w", cp.Origin, err)
	}
	cp.Note, cp.Time = cosigned, w.now().UTC()
	if err := insertWitnessed(ctx, w.db, cp.Origin, witnessed{size: cp.Size, root: cp.Root, note: cosigned, at: cp.Time}); err != nil {
		return Checkpoint{}, err
	}
	return cp, nil
}

// Latest returns the newest checkpoint witnessed, with the witness's
// cosignature, or an error wrapping errs.ErrNotFound if there is none.
func (w *Witness) Latest(ctx context.Context) (Checkpoint, error) {
	known, err := latestWitnessed(ctx, w.db, w.log.Name())
	if err != nil {
		return Checkpoint{}, err
	}
	cp, err := ParseCheckpoint(known.note, w.log)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: witness %s: stored checkpoint at size %d: %w", w.log.Name(), known.size, err)
	}
	cp.Time = known.at
	return cp, nil
}

// Conflicts returns the evidence of every checkpoint the witness refused,
// newest first.
func (w *Witness) Conflicts(ctx context.Context) ([]Conflict, error) {
	return selectConflicts(ctx, w.db, w.log.Name())
}
