package identity

import (
	"context"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/store"
	"chancery/internal/web"
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
	rec    audit.Writer
	origin audit.Origin
}

// write runs fn in one transaction on behalf of ctx's signed-in (or
// system) actor, refused by audit.Writer's one rule otherwise; the events
// fn records commit or roll back with it.
func (s *Service) write(ctx context.Context, fn func(c *change) error) error {
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return err
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
	return c.rec.Record(c.ctx, c.tx, e)
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
