package procedures

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// paymentRows returns the method and clerk of the payments recorded for
// an order (a dossier's code), in the order they were recorded.
func (f *fixture) paymentRows(t testing.TB, code string) (methods []string, clerks []int64) {
	t.Helper()
	rows, err := f.db.QueryContext(context.Background(), f.db.Rebind(`SELECT method, recorded_by FROM procedure_payments
		WHERE dossier_code = ? ORDER BY received_us, transaction_id`), code)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		var c int64
		if err := rows.Scan(&m, &c); err != nil {
			t.Fatal(err)
		}
		methods, clerks = append(methods, m), append(clerks, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return methods, clerks
}

// awaitingPayment returns a dossier entered unpaid whose unit has
// requested its fee (status 6).
func (f *fixture) awaitingPayment(t *testing.T) *Dossier {
	t.Helper()
	d, err := f.svc.Submit(f.as(f.clerk), f.clerk, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelPostal, Form: legalizationForm()})
	if err != nil {
		t.Fatal(err)
	}
	f.act(t, f.officer, d.Code, ActionRequest{Action: ActAssign})
	return f.act(t, f.officer, d.Code, ActionRequest{Action: ActRequestPayment})
}

// TestOnlyTheGatewayOrACounterReceiptPaysAFee pins issue 10's first
// hole: a "pay" moved a dossier from 6 to 4 and marked it paid with no
// payment behind it (the applicant's word is refused by the lifecycle and
// TestAPICitizenCannotSkipPaying). Now a clerk pays only with a receipt number (recorded as a payment, once per
// receipt), and the gateway's callback pays online.
func TestOnlyTheGatewayOrACounterReceiptPaysAFee(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.awaitingPayment(t)
		if _, err := f.svc.Act(f.as(f.officer), f.officer, d.Code, ActionRequest{Action: ActPay, Receipt: "BL-1"}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an officer marking the fee paid = %v, want forbidden", err)
		}
		if _, err := f.svc.Act(f.as(f.clerk), f.clerk, d.Code, ActionRequest{Action: ActPay}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a clerk paying without a receipt = %v, want invalid", err)
		}
		if _, err := f.svc.Act(f.as(f.clerk), f.clerk, d.Code, ActionRequest{Action: ActPay, Receipt: "BL\r\n42"}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a receipt number with CR LF = %v, want invalid", err)
		}
		got, err := f.svc.Get(f.as(f.clerk), f.clerk, d.Code)
		if err != nil {
			t.Fatal(err)
		}
		if methods, _ := f.paymentRows(t, d.Code); got.Status != StatusPaymentRequested || got.Paid || len(methods) != 0 {
			t.Fatalf("after refused payments: status %d paid %v payments %v", got.Status, got.Paid, methods)
		}

		paid := f.act(t, f.clerk, d.Code, ActionRequest{Action: ActPay, Receipt: " BL-2025/0042 "})
		if paid.Status != StatusProcessing || !paid.Paid || paid.PaidOnline {
			t.Errorf("paid at the counter: status %d paid %v online %v", paid.Status, paid.Paid, paid.PaidOnline)
		}
		if methods, clerks := f.paymentRows(t, d.Code); len(methods) != 1 || methods[0] != PaymentCounter || clerks[0] != f.clerk.ID {
			t.Errorf("counter payment rows = %v by %v, want one counter payment by the clerk %d", methods, clerks, f.clerk.ID)
		}

		// One receipt pays one fee.
		other := f.awaitingPayment(t)
		if _, err := f.svc.Act(f.as(f.clerk), f.clerk, other.Code, ActionRequest{Action: ActPay, Receipt: "BL-2025/0042"}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("a receipt recorded twice = %v, want a conflict", err)
		}
		// The gateway's signed callback pays online.
		if err := f.svc.RecordPayment(context.Background(), PaymentReport{TransactionID: "gw-1", OrderID: other.Code,
			Amount: other.FeeAmount, Currency: other.FeeCurrency, PaidAt: f.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		online, err := f.svc.Get(f.as(f.clerk), f.clerk, other.Code)
		if err != nil {
			t.Fatal(err)
		}
		if methods, _ := f.paymentRows(t, other.Code); online.Status != StatusProcessing || !online.PaidOnline || len(methods) != 1 || methods[0] != PaymentGateway {
			t.Errorf("paid through the gateway: status %d online %v payments %v", online.Status, online.PaidOnline, methods)
		}
	})
}

// TestAClerksEntryIsPaidOnlyWithAReceipt pins the counter's entry: the
// fee is paid when the clerk gives the receipt's number, which is recorded
// as a payment; without one the dossier is registered unpaid.
func TestAClerksEntryIsPaidOnlyWithAReceipt(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		paid, err := f.svc.Submit(f.as(f.clerk), f.clerk, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelInPerson,
			Form: legalizationForm(), Receipt: "BL-7"})
		if err != nil {
			t.Fatal(err)
		}
		if methods, _ := f.paymentRows(t, paid.Code); !paid.Paid || len(methods) != 1 || methods[0] != PaymentCounter {
			t.Errorf("entry with a receipt: paid %v payments %v", paid.Paid, methods)
		}
		unpaid, err := f.svc.Submit(f.as(f.clerk), f.clerk, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelInPerson,
			Form: legalizationForm()})
		if err != nil {
			t.Fatal(err)
		}
		if methods, _ := f.paymentRows(t, unpaid.Code); unpaid.Paid || len(methods) != 0 {
			t.Errorf("entry without a receipt: paid %v payments %v", unpaid.Paid, methods)
		}
		before := f.count(t, "dossiers")
		if _, err := f.svc.Submit(f.as(f.clerk), f.clerk, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelInPerson,
			Form: legalizationForm(), Receipt: "BL-7"}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("an entry with a receipt already recorded = %v, want a conflict", err)
		}
		if n := f.count(t, "dossiers"); n != before {
			t.Errorf("the refused entry left a dossier: %d, want %d", n, before)
		}
	})
}

// TestAPICitizenCannotSkipPaying pins the API's two ways round the fee:
// a fee-bearing dossier sent whole as JSON, and the applicant's "pay"
// action. Both are refused and change nothing.
func TestAPICitizenCannotSkipPaying(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		whole := map[string]any{"procedure_code": "1.900001", "agency_code": consularCode, "form": legalizationForm()}
		if rec := a.callJSON(t, a.citizen, "POST", "/api/v1/dossiers", whole); rec.Code != http.StatusConflict {
			t.Errorf("a fee-bearing dossier sent whole by a citizen = %d %s, want 409", rec.Code, rec.Body)
		}
		if n := a.count(t, "dossiers"); n != 0 {
			t.Errorf("the refused submission registered %d dossiers", n)
		}
		d := a.submitOnline(t)
		a.act(t, a.clerk, d.Code, ActionRequest{Action: ActReceive})
		a.act(t, a.officer, d.Code, ActionRequest{Action: ActAssign})
		a.act(t, a.officer, d.Code, ActionRequest{Action: ActRequestPayment})
		if rec := a.callJSON(t, a.citizen, "POST", "/api/v1/dossiers/"+d.Code+"/actions", map[string]string{"action": "pay"}); rec.Code != http.StatusForbidden {
			t.Errorf("the applicant's pay action = %d %s, want 403", rec.Code, rec.Body)
		}
		got, err := a.svc.Get(a.as(a.citizen), a.citizen, d.Code)
		if err != nil {
			t.Fatal(err)
		}
		if methods, _ := a.paymentRows(t, d.Code); got.Status != StatusPaymentRequested || len(methods) != 0 {
			t.Errorf("after the refused pay action: status %d, payments %v", got.Status, methods)
		}
	})
}
