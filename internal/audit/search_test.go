package audit

import (
	"context"
	"errors"
	"testing"
	"time"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestSearchFiltersAndPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := mustLedger(t, db, mustRing(t), Options{})
		const n = 60
		appendEvents(t, l, 0, n)
		matches := func(q Query, e Event) bool {
			return (q.ActorID == "" || e.Actor.ID == q.ActorID) && (q.UnitID == 0 || e.UnitID == q.UnitID) &&
				(q.Action == "" || e.Action == q.Action) && (q.ResourceID == "" || e.ResourceID == q.ResourceID) &&
				(q.Outcome == "" || e.Outcome == q.Outcome) &&
				(q.From.IsZero() || !e.Time.Before(q.From)) && (q.To.IsZero() || e.Time.Before(q.To))
		}
		start := testEvent(0).Time
		tests := []struct {
			name string
			q    Query
		}{
			{"everything", Query{}},
			{"actor", Query{ActorKind: ActorStaff, ActorID: "103"}},
			{"unit and outcome", Query{UnitID: 2, Outcome: Denied}},
			{"action", Query{Action: "record.export"}},
			{"resource", Query{ResourceType: "record", ResourceID: "2025-0042"}},
			{"time range", Query{From: start.Add(10 * 1500 * time.Microsecond), To: start.Add(20 * 1500 * time.Microsecond)}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var want []int
				for i := n - 1; i >= 0; i-- {
					if matches(tt.q, testEvent(i)) {
						want = append(want, i)
					}
				}
				// Page through seven at a time.
				var got []Event
				q := tt.q
				q.Limit = 7
				for {
					page, err := l.Search(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, page...)
					if len(page) < q.Limit {
						break
					}
					q.Before = page[len(page)-1].ID
				}
				if len(got) != len(want) {
					t.Fatalf("Search found %d events, want %d", len(got), len(want))
				}
				for k, e := range got {
					if !sameEvent(e, testEvent(want[k])) || e.Seq != uint64(want[k]) {
						t.Errorf("result %d is event %d (%s), want %d", k, e.Seq, e.RequestID, want[k])
					}
				}
			})
		}
		for _, q := range []Query{{Limit: MaxSearchLimit + 1}, {Limit: -1}, {From: start, To: start}} {
			if _, err := l.Search(ctx, q); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("Search(%+v) = %v, want ErrInvalid", q, err)
			}
		}
	})
}
