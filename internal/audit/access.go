package audit

import (
	"context"
	"strconv"

	"chancery/internal/authz"
)

// The ledger's readers are cleared for some levels only: an event is the
// record of an action on an item, and its level is the item's, so an
// event above a reader's clearance tells of an item the reader may not
// know (no read up, DESIGN.md §6). Every event the API, the pages and
// exports serve passes through mayRead; a search asks storage only for
// events at or below the reader's ceiling, so pages are full and neither
// a count nor a cursor tells of a hidden event.

// eventResource is e as authz.Decide sees it: an audit event, at its
// level. Audit events belong to no unit.
func eventResource(e Event) authz.Resource {
	return authz.Resource{Kind: authz.KindAuditEvent, Level: e.Level}
}

// mayRead returns nil if s may do a (Read or Export) to e, else the
// *authz.Refusal that Decide's answer makes: a Concealed one, which the
// web layer answers 404 like an event that does not exist.
func mayRead(s authz.Subject, a authz.Action, e Event) error {
	r := eventResource(e)
	d, reason := authz.Decide(s, a, r)
	if d == authz.Allowed {
		return nil
	}
	return authz.Refuse(d, reason, a, r, strconv.FormatUint(e.Seq, 10))
}

// ceiling returns the highest level at which Decide lets s do a to audit
// events, and false if it lets s do a at no level. It asks Decide rather
// than reading the clearance, so the rule stays in authz.
func ceiling(s authz.Subject, a authz.Action) (authz.Level, bool) {
	for l := authz.TopSecret; ; l-- {
		if d, _ := authz.Decide(s, a, authz.Resource{Kind: authz.KindAuditEvent, Level: l}); d == authz.Allowed {
			return l, true
		}
		if l == authz.Unclassified {
			return 0, false
		}
	}
}

// readableEvent returns event seq if s may do a to it, and an error
// wrapping errs.ErrNotFound both when there is no such event and when s
// may not see it.
func (l *Ledger) readableEvent(ctx context.Context, s authz.Subject, a authz.Action, seq uint64) (Event, error) {
	e, err := l.Event(ctx, seq)
	if err != nil {
		return Event{}, err
	}
	if err := mayRead(s, a, e); err != nil {
		return Event{}, err
	}
	return e, nil
}
