package audit

import (
	"context"
	"errors"
	"fmt"

	"chancery/internal/errs"
	"chancery/internal/store"
)

// Recorder records a capability's changes, each inside the transaction
// of the change it records (DESIGN.md §6); *Ledger implements it. An
// error makes the change roll back.
type Recorder interface {
	AppendTx(ctx context.Context, tx *store.Tx, e Event) error
}

// The refusals of a change that could not say who made it or could not
// be recorded. ErrNoRecorder and ErrNoOrigin are programming errors, not
// the caller's: they carry no error kind, so they reach users as internal
// errors and are logged, and each says how to fix the program.
var (
	ErrNoRecorder = errors.New("no audit recorder was given to the service's constructor, and a service makes no change it cannot record; " +
		"the application must pass the audit ledger")
	ErrNoOrigin = errors.New("the context names no audit origin, so the change could not say who made it; " +
		"requests get one from the server's middleware (RequestOrigin), and commands and jobs must set one with audit.WithOrigin")
)

// Writer is how a capability that records its changes starts one: it
// decides who acts, by one rule for every capability, and appends the
// change's events. The zero Writer has no recorder and refuses every
// change.
type Writer struct {
	name string
	rec  Recorder
}

// NewWriter returns the writer of the capability name (used in error
// messages, such as "identity") recording with rec. A nil rec gives a
// writer that refuses every change with ErrNoRecorder.
func NewWriter(name string, rec Recorder) Writer { return Writer{name: name, rec: rec} }

// Recorder returns the writer's recorder; nil if it has none.
func (w Writer) Recorder() Recorder { return w.rec }

// Origin returns the origin whose actor a change on ctx's behalf is
// recorded with. The rule is the same for every capability:
//
//   - no recorder: ErrNoRecorder, an internal error (the program is
//     wired wrong);
//   - no origin on ctx: ErrNoOrigin, an internal error. Every request
//     carries one (the middleware sets it, anonymous or not) and every
//     command and job must set one, so a missing origin is a bug in the
//     program, never something the caller could fix by signing in;
//   - an anonymous origin (nobody signed in): errs.ErrUnauthenticated,
//     the caller's to fix.
func (w Writer) Origin(ctx context.Context) (Origin, error) {
	o, err := w.AnyOrigin(ctx)
	if err == nil && o.Anonymous() {
		return Origin{}, fmt.Errorf("%w: sign in to make this change", errs.ErrUnauthenticated)
	}
	return o, err
}

// AnyOrigin is Origin for the few changes a caller who has not signed in
// may make, such as a citizen's registration or a mission's enrolment
// with a token: it refuses as Origin does but returns an anonymous
// origin, whose actor the capability then names itself.
func (w Writer) AnyOrigin(ctx context.Context) (Origin, error) {
	if w.rec == nil {
		return Origin{}, w.wrap(ErrNoRecorder)
	}
	o, ok := OriginFrom(ctx)
	if !ok {
		return Origin{}, w.wrap(ErrNoOrigin)
	}
	return o, nil
}

// Record appends e inside tx. Whatever the ledger answers (even
// "invalid"), failing to record is the server's fault, never the caller's
// bad input: the error keeps the ledger's message but not its kind.
func (w Writer) Record(ctx context.Context, tx *store.Tx, e Event) error {
	if w.rec == nil {
		return w.wrap(ErrNoRecorder)
	}
	if err := w.rec.AppendTx(ctx, tx, e); err != nil {
		return RecordFailed(fmt.Sprintf("%s: record %s of %s %s in the audit ledger", w.name, e.Action, e.ResourceType, e.ResourceID), err)
	}
	return nil
}

// RecordFailed reports, as what, that an event could not be recorded. It
// keeps the ledger's message but not its error kind: failing to record
// is the server's fault, never the caller's bad input, whatever the
// ledger says. A database that is down or restarting (errs.IsUnavailable)
// is the exception it keeps, so that the client is told to retry (503)
// rather than shown an internal error.
func RecordFailed(what string, err error) error {
	if errs.IsUnavailable(err) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %v", what, err)
}

func (w Writer) wrap(err error) error {
	if w.name == "" {
		return err
	}
	return fmt.Errorf("%s: %w", w.name, err)
}
