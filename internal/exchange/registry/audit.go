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
	rec      audit.Writer
	origin   audit.Origin
	now      time.Time
	units    []identity.Unit
	instance string
	serial   uint64
}

// write runs fn as a change on behalf of ctx's signed-in (or system)
// actor, refused by audit.Writer's one rule otherwise, and publishes the
// configuration that results.
func (r *Registry) write(ctx context.Context, fn func(c *change) error) error {
	return r.writeWith(ctx, true, fn)
}

// writeUnpublished runs fn as write does, for a change of what no
// configuration holds (an enrolment token): under the registry's write
// lock and recorded, but publishing nothing, since every publication
// rebuilds and signs the whole configuration for nothing new.
func (r *Registry) writeUnpublished(ctx context.Context, fn func(c *change) error) error {
	return r.writeWith(ctx, false, fn)
}

// writeWith is write, publishing nothing unless publish.
func (r *Registry) writeWith(ctx context.Context, publish bool, fn func(c *change) error) error {
	o, err := r.rec.Origin(ctx)
	if err != nil {
		return err
	}
	_, err = r.inTxWith(ctx, o, publish, fn)
	return err
}

// inTx runs fn in one transaction whose events name o's actor, then
// publishes the global configuration in the same transaction, so that
// what is published is exactly what was committed; the publish hook runs
// after the commit. It returns the signed configuration, or nil when fn
// found nothing to change (errUnchanged).
func (r *Registry) inTx(ctx context.Context, o audit.Origin, fn func(c *change) error) ([]byte, error) {
	return r.inTxWith(ctx, o, true, fn)
}

// inTxWith is inTx, publishing nothing unless publish.
func (r *Registry) inTxWith(ctx context.Context, o audit.Origin, publish bool, fn func(c *change) error) ([]byte, error) {
	if r.rec.Recorder() == nil {
		return nil, fmt.Errorf("registry: %w", audit.ErrNoRecorder)
	}
	// The directory is read before the transaction begins, so that no
	// other database work runs while the registry holds its write lock.
	units, err := r.dir.AllUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the directory's units: %w", err)
	}
	var signed []byte
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		serial, err := lockRegistry(ctx, tx, publish)
		if err != nil {
			return err
		}
		c := &change{ctx: ctx, tx: tx, rec: r.rec, origin: o, now: r.clock(), units: units, instance: r.opts.Instance, serial: serial}
		if err := fn(c); err != nil || !publish {
			return err
		}
		signed, err = r.publish(c)
		return err
	})
	if errors.Is(err, errUnchanged) {
		return nil, nil
	}
	if err != nil || !publish {
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
	return c.rec.Record(c.ctx, c.tx, e)
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
