package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"chancery/internal/audit"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// Recorder records the registry's changes in the audit ledger, each
// inside the transaction of the change it records; *audit.Ledger
// implements it. An error makes the change roll back.
type Recorder interface {
	AppendTx(ctx context.Context, tx *store.Tx, e audit.Event) error
}

// SetRecorder makes the registry record every change with rec, in the
// change's own transaction (DESIGN.md §6). Until it is called every change
// fails, so a registry wired without the ledger cannot change anything
// unrecorded. Call it before the registry is used: it is not safe to call
// concurrently with other methods.
func (r *Registry) SetRecorder(rec Recorder) { r.rec = rec }

// The refusals of a change that could not be recorded. They are
// programming errors, not the caller's, so they carry no error kind and
// reach users as internal errors.
var (
	errNoRecorder = errors.New("registry: no audit recorder is set, and the registry makes no change it cannot record; " +
		"the application must call SetRecorder with the audit ledger")
	errNoOrigin = errors.New("registry: the context names no audit origin, so the change could not say who made it; " +
		"requests get one from the server's middleware, and commands and jobs must set one with audit.WithOrigin")
	errAnonymous = errors.New("registry: a caller who has not signed in cannot change the registry")
)

// errUnchanged is returned by a change that finds nothing to do: the
// transaction rolls back, nothing is published, and the caller sees
// success.
var errUnchanged = errors.New("registry: nothing to change")

// Resource types of the registry's events.
const (
	resSubsystem = "exchange_subsystem"
	resService   = "exchange_service"
	resNode      = "exchange_node"
	resEnrolment = "exchange_enrolment"
	resConf      = "exchange_conf"
)

// change is one write transaction of the registry: the origin whose actor
// its events name, the time it happens at, the directory's units as they
// were when it began, and the serial of the configuration it publishes.
type change struct {
	ctx      context.Context
	tx       *store.Tx
	rec      Recorder
	origin   audit.Origin
	now      time.Time
	units    []identity.Unit
	instance string
	serial   uint64
}

// origin returns the origin of the change ctx asks for, refusing one that
// could not be recorded: no recorder, no origin, or nobody signed in.
func (r *Registry) origin(ctx context.Context) (audit.Origin, error) {
	if r.rec == nil {
		return audit.Origin{}, errNoRecorder
	}
	o, ok := audit.OriginFrom(ctx)
	if !ok {
		return audit.Origin{}, errNoOrigin
	}
	if o.Anonymous() {
		return audit.Origin{}, errAnonymous
	}
	return o, nil
}

// write runs fn as a change on behalf of ctx's signed-in (or system)
// actor, and publishes the configuration that results.
func (r *Registry) write(ctx context.Context, fn func(c *change) error) error {
	o, err := r.origin(ctx)
	if err != nil {
		return err
	}
	_, err = r.inTx(ctx, o, fn)
	return err
}

// inTx runs fn in one transaction whose events name o's actor, then
// publishes the global configuration in the same transaction, so that
// what is published is exactly what was committed; the publish hook runs
// after the commit. It returns the signed configuration, or nil when fn
// found nothing to change (errUnchanged).
func (r *Registry) inTx(ctx context.Context, o audit.Origin, fn func(c *change) error) ([]byte, error) {
	if r.rec == nil {
		return nil, errNoRecorder
	}
	// The directory is read before the transaction begins, so that no
	// other database work runs while the registry holds its write lock.
	units, err := r.dir.AllUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the directory's units: %w", err)
	}
	var signed []byte
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		serial, err := nextSerial(ctx, tx)
		if err != nil {
			return err
		}
		c := &change{ctx: ctx, tx: tx, rec: r.rec, origin: o, now: r.clock(), units: units, instance: r.opts.Instance, serial: serial}
		if err := fn(c); err != nil {
			return err
		}
		signed, err = r.publish(c)
		return err
	})
	if errors.Is(err, errUnchanged) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if r.opts.OnPublish != nil {
		r.opts.OnPublish(ctx, signed)
	}
	return signed, nil
}

// record appends an event of action on the resource of type typ and id,
// with attrs, in c's transaction.
func (c *change) record(action, typ, id string, attrs map[string]string) error {
	e := c.origin.Event(action)
	e.Time = c.now
	e.ResourceType, e.ResourceID = typ, id
	if len(attrs) > 0 {
		e.Attrs = make(map[string]string, len(attrs))
		for k, v := range attrs {
			e.Attrs[k] = audit.AttrValue(v)
		}
	}
	if err := c.rec.AppendTx(c.ctx, c.tx, e); err != nil {
		// %v, not %w: whatever the ledger says (even "invalid"), failing to
		// record is the server's fault, never the caller's bad input.
		return fmt.Errorf("record %s of %s %s in the audit ledger: %v", action, typ, id, err)
	}
	return nil
}

// actorName is how the registry's tables name who acted: a person's name
// as the ledger has it, or the actor's kind and id.
func (c *change) actorName() string {
	a := c.origin.Actor
	if a.Name != "" {
		return a.Name
	}
	return string(a.Kind) + ":" + a.ID
}
