package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/store"
	"chancery/internal/web"
)

// Recorder records the directory's changes in the audit ledger, each
// inside the transaction of the change it records; *audit.Ledger
// implements it. An error makes the change roll back.
type Recorder interface {
	AppendTx(ctx context.Context, tx *store.Tx, e audit.Event) error
}

// SetRecorder makes the directory record every change with r, in the
// change's own transaction (DESIGN.md §6). Until it is called every
// change fails, so a directory wired without the ledger cannot change
// anything unrecorded. Call it before the service is used: it is not safe
// to call concurrently with other methods.
func (s *Service) SetRecorder(r Recorder) { s.rec = r }

// The refusals of a change that could not be recorded. They are
// programming errors, not the caller's, so they carry no error kind and
// reach users as internal errors.
var (
	errNoRecorder = errors.New("identity: no audit recorder is set, and the directory makes no change it cannot record; " +
		"the application must call SetRecorder with the audit ledger")
	errNoOrigin = errors.New("identity: the context names no audit origin, so the change could not say who made it; " +
		"requests get one from the server's middleware, and commands must set one with audit.WithOrigin")
	errAnonymous = errors.New("identity: a caller who has not signed in cannot change the directory")
)

// Resource types of the directory's events.
const (
	resUnit    = "unit"
	resStaff   = "staff"
	resCitizen = "citizen"
)

// change is one write transaction of the directory, with the origin whose
// actor its events name.
type change struct {
	ctx    context.Context
	tx     *store.Tx
	rec    Recorder
	origin audit.Origin
}

// origin returns the origin of the change ctx asks for, refusing when it
// could not be recorded: no recorder, or no origin on ctx.
func (s *Service) origin(ctx context.Context) (audit.Origin, error) {
	if s.rec == nil {
		return audit.Origin{}, errNoRecorder
	}
	o, ok := audit.OriginFrom(ctx)
	if !ok {
		return audit.Origin{}, errNoOrigin
	}
	return o, nil
}

// write runs fn in one transaction on behalf of ctx's signed-in (or
// system) actor; the events fn records commit or roll back with it.
func (s *Service) write(ctx context.Context, fn func(c *change) error) error {
	o, err := s.origin(ctx)
	if err != nil {
		return err
	}
	if o.Anonymous() {
		return errAnonymous
	}
	return s.inTx(ctx, o, fn)
}

// inTx runs fn in one transaction whose events name o's actor.
func (s *Service) inTx(ctx context.Context, o audit.Origin, fn func(c *change) error) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		return fn(&change{ctx: ctx, tx: tx, rec: s.rec, origin: o})
	})
}

// record appends an event of action on the resource of type typ and id,
// with attrs, in c's transaction.
func (c *change) record(action, typ string, id int64, attrs map[string]string) error {
	e := c.origin.Event(action)
	e.ResourceType, e.ResourceID, e.Attrs = typ, strconv.FormatInt(id, 10), attrs
	if err := c.rec.AppendTx(c.ctx, c.tx, e); err != nil {
		// %v, not %w: whatever the ledger says (even "invalid"), failing to
		// record is the server's fault, never the caller's bad input.
		return fmt.Errorf("record %s of %s %d in the audit ledger: %v", action, typ, id, err)
	}
	return nil
}

// fieldChange is one field a change sets: its name, and the old and new
// values as shown in the history and the ledger.
type fieldChange struct {
	field, old, new string
	// personal marks personal data (a person's name or address), which
	// the ledger records as changed without its value: the ledger keeps
	// everything forever and should hold only references to people.
	personal bool
}

// changeAttrs returns the ledger attributes of a change: "changed" lists
// the fields, and each field that is not personal data has its new value.
func changeAttrs(changes []fieldChange) map[string]string {
	attrs := make(map[string]string, len(changes)+1)
	names := make([]string, len(changes))
	for i, c := range changes {
		names[i] = c.field
		if !c.personal {
			attrs[c.field] = audit.AttrValue(c.new)
		}
	}
	attrs["changed"] = strings.Join(names, ",")
	return attrs
}

// day formats an effective time as the day it falls on in the ministry's
// zone, as effective dates are given.
func day(t time.Time) string { return t.In(web.MinistryZone()).Format(time.DateOnly) }

// unitAttrs returns the ledger attributes of a new unit u under parent
// (the zero Unit for the root).
func unitAttrs(u, parent Unit) map[string]string {
	attrs := map[string]string{"code": u.Code, "kind": string(u.Kind), "country": u.Country, "time_zone": u.TimeZone,
		"name_vi": audit.AttrValue(u.NameVI), "name_en": audit.AttrValue(u.NameEN)}
	if parent.Code != "" {
		attrs["parent"] = parent.Code
	}
	return attrs
}
