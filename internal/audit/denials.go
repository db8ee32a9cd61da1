package audit

import (
	"context"
	"strconv"
	"sync"
	"time"

	"chancery/internal/web"
)

// DeniedAction is the action of the event that records a refusal of a
// signed-in caller.
const DeniedAction = "access.denied"

// The bounds on recording refusals, so that a loop of refused requests
// cannot flood the ledger: per actor and per window, an identical refusal
// (same route, reason, item) is written once, and at most
// maxDenialsPerWindow different ones. The refusals left out are counted,
// and the actor's first event of a later window says how many
// ("suppressed"), so the ledger still shows that they happened.
const (
	denialWindow        = time.Minute
	maxDenialsPerWindow = 30
	// pruneDenialsAbove is how many actors' windows are kept before the
	// expired ones are dropped.
	pruneDenialsAbove = 1024
)

// Denials writes refusals of signed-in callers to the ledger as
// access.denied events: install its Record with web.RecordDenials. Safe
// for concurrent use.
type Denials struct {
	l   *Ledger
	now func() time.Time

	mu      sync.Mutex
	windows map[Actor]*denialWindowState // guarded by mu
}

// denialWindowState is what an actor's window has written and left out.
type denialWindowState struct {
	start      time.Time
	written    map[web.Denial]bool
	suppressed int
	// carried is the count left out in the actor's previous window, to be
	// told by the next event written.
	carried int
}

// NewDenials returns the recorder of refusals into l.
func NewDenials(l *Ledger) *Denials {
	return &Denials{l: l, now: l.now, windows: map[Actor]*denialWindowState{}}
}

// Record appends the access.denied event of d, by the caller whose
// origin ctx carries (see RequestOrigin), and returns once it is durable,
// or at once when d repeats a refusal already written in the actor's
// window, or the window's budget is spent. A caller with no actor (not
// signed in) is not recorded.
func (ds *Denials) Record(ctx context.Context, d web.Denial) error {
	o, ok := OriginFrom(ctx)
	if !ok || o.Anonymous() {
		return nil
	}
	suppressed, write := ds.admit(o.Actor, d)
	if !write {
		return nil
	}
	e := o.Event(DeniedAction)
	e.Outcome = Denied
	e.Reason = string(d.Reason)
	e.Level = d.Level
	e.Attrs = map[string]string{"route": AttrValue(d.Route), "decision": d.Decision.String()}
	if d.Kind != "" {
		e.ResourceType, e.ResourceID = d.Kind, AttrValue(d.ResourceID)
		e.Attrs["action"] = d.Action
	}
	if d.Code != "" {
		e.Attrs["code"] = AttrValue(d.Code)
	}
	if suppressed > 0 {
		e.Attrs["suppressed"] = strconv.Itoa(suppressed)
	}
	_, err := ds.l.Append(ctx, e)
	return err
}

// admit decides whether d by actor is written, and returns the count of
// the actor's refusals left out before it that its event must tell.
func (ds *Denials) admit(actor Actor, d web.Denial) (suppressed int, write bool) {
	now := ds.now()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	w := ds.windows[actor]
	if w == nil || now.Sub(w.start) >= denialWindow || now.Before(w.start) {
		next := &denialWindowState{start: now, written: map[web.Denial]bool{}}
		if w != nil {
			next.carried = w.carried + w.suppressed
		}
		if len(ds.windows) >= pruneDenialsAbove {
			ds.pruneLocked(now)
		}
		ds.windows[actor], w = next, next
	}
	if w.written[d] || len(w.written) >= maxDenialsPerWindow {
		w.suppressed++
		return 0, false
	}
	w.written[d] = true
	suppressed, w.carried = w.carried, 0
	return suppressed, true
}

// pruneLocked drops the windows that have ended and owe no count.
func (ds *Denials) pruneLocked(now time.Time) {
	for a, w := range ds.windows {
		if now.Sub(w.start) >= denialWindow && w.suppressed == 0 && w.carried == 0 {
			delete(ds.windows, a)
		}
	}
}
