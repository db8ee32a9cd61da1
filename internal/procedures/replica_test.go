package procedures

import (
	"context"
	"errors"
	"sync"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// The payment gateway's callback is taken once across headquarters
// replicas: the same transaction reported to two replicas at once is
// recorded by exactly one, and refused as a replay by the other. The
// check is the payments table's key, not any replica's memory.
func TestAPaymentCallbackIsRecordedOnceAcrossReplicas(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		other, err := NewService(f.opts)
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.svc.CreateDraft(f.as(f.citizen), f.citizen, NewDraft{Procedure: "1.900001", UnitCode: consularCode, Form: legalizationForm()})
		if err != nil {
			t.Fatal(err)
		}
		pay := PaymentReport{TransactionID: "gw-42", OrderID: d.ID, Amount: d.FeeAmount, Currency: d.FeeCurrency, PaidAt: f.clock.Now()}
		results := make([]error, 2)
		var wg sync.WaitGroup
		for i, svc := range []*Service{f.svc, other} {
			wg.Go(func() { results[i] = svc.RecordPayment(context.Background(), pay) })
		}
		wg.Wait()
		ok, replays := 0, 0
		for _, err := range results {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, errs.ErrConflict):
				replays++
			default:
				t.Fatalf("recording the callback: %v", err)
			}
		}
		if ok != 1 || replays != 1 || f.count(t, "procedure_payments") != 1 {
			t.Fatalf("%d recorded, %d refused as replays, %d rows; want one of each and one row", ok, replays, f.count(t, "procedure_payments"))
		}
	})
}
