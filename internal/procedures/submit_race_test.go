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

// TestConcurrentSubmissionsOfOneDraftMakeOneDossier pins issue 14's first
// finding: ten parallel submissions of one paid draft made two to four
// dossiers, one payment covering them all. Now the draft's delete is the
// claim: exactly one submission wins, with the draft's file; the others
// are refused (a conflict, or not found once the winner has committed)
// and leave nothing behind: no dossier, history, audit event, portal
// report or file.
func TestConcurrentSubmissionsOfOneDraftMakeOneDossier(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.citizen)
		const rounds, racers = 10, 10
		for round := range rounds {
			d, err := f.svc.CreateDraft(ctx, f.citizen, NewDraft{Procedure: "1.900001", UnitCode: consularCode, Form: legalizationForm()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.AttachToDraft(ctx, f.citizen, d.ID, Upload{DocumentKey: "paper", Filename: "paper.pdf", MediaType: MediaPDF, Content: pdf}); err != nil {
				t.Fatal(err)
			}
			if d.FeeAmount == 0 {
				t.Fatal("the test needs a procedure with a fee")
			}
			if err := f.svc.RecordPayment(context.Background(), PaymentReport{TransactionID: "tx-" + d.ID, OrderID: d.ID, Amount: d.FeeAmount, Currency: d.FeeCurrency, PaidAt: f.clock.Now()}); err != nil {
				t.Fatal(err)
			}
			before := map[string]int{}
			tables := []string{"dossiers", "dossier_events", "dossier_attachments", "audit_events", "national_portal_outbox"}
			for _, tb := range tables {
				before[tb] = f.count(t, tb)
			}
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				mu    sync.Mutex
				won   []*Dossier
				other []error
			)
			for range racers {
				wg.Go(func() {
					<-start
					ds, err := f.svc.SubmitDraft(ctx, f.citizen, d.ID)
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						won = append(won, ds)
					} else {
						other = append(other, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if len(won) != 1 {
				t.Fatalf("round %d: %d submissions won (errors %v), want exactly one", round, len(won), other)
			}
			for _, err := range other {
				if !errors.Is(err, errs.ErrConflict) && !errors.Is(err, errs.ErrNotFound) {
					t.Errorf("round %d: a losing submission = %v, want a conflict (or not found once the winner committed)", round, err)
				}
			}
			// One dossier, its first history entry, its submit event
			// (the payment's event came before), one national portal report; the
			// file moved, not copied.
			want := map[string]int{"dossiers": 1, "dossier_events": 1, "dossier_attachments": 0, "audit_events": 1, "national_portal_outbox": 1}
			for _, tb := range tables {
				if got := f.count(t, tb) - before[tb]; got != want[tb] {
					t.Errorf("round %d: %s grew by %d, want %d", round, tb, got, want[tb])
				}
			}
			ds := won[0]
			if len(ds.Attachments) != 1 || ds.Attachments[0].DocumentKey != "paper" || !ds.Paid {
				t.Fatalf("round %d: winner's attachments %+v paid %v, want the draft's file, paid", round, ds.Attachments, ds.Paid)
			}
			_, content, err := f.svc.Attachment(ctx, f.citizen, ds.Code, ds.Attachments[0].ID)
			if err != nil || string(content) != string(pdf) {
				t.Fatalf("round %d: the winner's file = %q, %v", round, content, err)
			}
		}
	})
}
