package insight

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// submissionArrival is unit code's report in round r, as the exchange
// hands it to headquarters, with message id id.
func submissionArrival(t testing.TB, f *fixture, r Round, code, id string, passports int) Arrival {
	t.Helper()
	p, err := json.Marshal(parcel{Type: "submission", From: code, Submission: &wireFiling{RoundUID: r.UID, UID: newUID(), Unit: code,
		By: "officer", Status: Submitted, At: f.clock.now(), Values: map[string]string{"passports": fmt.Sprint(passports), "on_time": "97.5", "fees": "1200.5"}}})
	if err != nil {
		t.Fatal(err)
	}
	return Arrival{Sender: code, MessageID: id, Payload: p}
}

// TestAPageOfParcelsIsTakenInOnceInOneTransaction pins ReceiveAll: a page
// holding a forged parcel stores nothing of the page (the inbox loop then
// takes it one at a time, which refuses the forged one alone); a good
// page is stored whole, and taken in by two replicas at once, and again
// after a crash before its acknowledgement, it is still stored once,
// each report with one ledger event.
func TestAPageOfParcelsIsTakenInOnceInOneTransaction(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		r := f.openRound(t)
		page := []Arrival{submissionArrival(t, f, r, parisCode, "m1", 7), submissionArrival(t, f, r, tokyoCode, "m2", 9)}
		forged := submissionArrival(t, f, r, tokyoCode, "m3", 1)
		forged.Sender = parisCode // Paris filing for Tokyo
		if err := f.svc.ReceiveAll(system, append(page[:1:1], forged, page[1])); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("a page with a forged parcel: %v; want it refused", err)
		}
		counted := func() int {
			t.Helper()
			a, err := f.svc.Aggregate(as(f.head), f.head, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			return a.Counted
		}
		if k, ev := counted(), f.ledgerActions(t, "report.submit"); k != 0 || len(ev) != 0 {
			t.Fatalf("after the refused page: %d counted, events %v; want nothing stored", k, ev)
		}

		// Two replicas take the same page at once; one that loses the
		// race (a unique uid on PostgreSQL) takes it again, as its next
		// pass does.
		var wg sync.WaitGroup
		errc := make(chan error, 2)
		for range 2 {
			wg.Go(func() {
				var err error
				for range 3 {
					if err = f.svc.ReceiveAll(system, page); err == nil {
						break
					}
				}
				errc <- err
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatalf("a replica taking the page: %v", err)
			}
		}
		if err := f.svc.ReceiveAll(system, page); err != nil { // delivered again after a crash
			t.Fatal(err)
		}
		if k, ev := counted(), f.ledgerActions(t, "report.submit"); k != 2 || len(ev) != 2 {
			t.Fatalf("after the page: %d counted, events %v; want 2 reports, each recorded once", k, ev)
		}
	})
}
