package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// A loop of refused requests cannot flood the ledger: per actor and
// minute an identical refusal is written once and at most 30 different
// ones; what was left out is counted in the actor's next event.
func TestRefusalsAreCoalescedPerActorPerMinute(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		var mu sync.Mutex
		now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		l := fixtureLedger(t, db, fixtureRing(t), audit.Options{Now: clock})
		ds := audit.NewDenials(l)
		clerk := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.Staff(9, "clerk"), UnitID: 3, RequestID: "r1"})
		other := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.Staff(10, "other")})
		refusal := func(id int) web.Denial {
			return web.Denial{Route: "POST /api/v1/dossiers/{code}/actions", Decision: authz.Denied, Reason: authz.ReasonNoRole,
				Kind: "dossier", Action: "approve", ResourceID: fmt.Sprint("D-", id), Code: "no_role"}
		}
		record := func(ctx context.Context, d web.Denial) {
			t.Helper()
			if err := ds.Record(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		denied := func(actor string) []audit.Event {
			t.Helper()
			if _, err := l.Integrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			events, err := l.Search(context.Background(), audit.Query{Action: audit.DeniedAction, ActorID: actor, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return events
		}

		for range 100 {
			record(clerk, refusal(0))
		}
		record(other, refusal(0))
		if got := len(denied("9")); got != 1 {
			t.Fatalf("100 identical refusals in a minute wrote %d events, want 1", got)
		}
		if got := len(denied("10")); got != 1 {
			t.Fatalf("another actor's refusal wrote %d events, want 1 (actors are counted apart)", got)
		}
		for i := 1; i < 100; i++ {
			record(clerk, refusal(i))
		}
		if got := len(denied("9")); got != 30 {
			t.Fatalf("100 different refusals in a minute wrote %d events, want at most 30", got)
		}
		record(audit.WithOrigin(context.Background(), audit.Origin{}), refusal(0))

		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
		record(clerk, refusal(0))
		events := denied("9")
		if len(events) != 31 {
			t.Fatalf("a new minute wrote %d events in all, want 31", len(events))
		}
		e := events[0]
		// 99 identical + 70 over the budget were left out.
		if e.Attrs["suppressed"] != "169" || e.Reason != string(authz.ReasonNoRole) || e.ResourceType != "dossier" || e.ResourceID != "D-0" ||
			e.Outcome != audit.Denied || e.Attrs["route"] != "POST /api/v1/dossiers/{code}/actions" || e.Attrs["action"] != "approve" || e.UnitID != 3 {
			t.Errorf("the first refusal of the new minute is recorded as %+v", e)
		}
		if e := events[1]; e.Attrs["suppressed"] != "" {
			t.Errorf("an earlier event claims %s refusals left out", e.Attrs["suppressed"])
		}
	})
}
