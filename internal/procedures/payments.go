package procedures

import (
	"context"
	"fmt"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// PaymentReport is a payment the gateway reports, its callback's
// signature already verified.
type PaymentReport struct {
	// TransactionID is the gateway's id of the payment; a second report
	// of one transaction is a replay and is refused.
	TransactionID string
	// OrderID is what was paid for: an application's draft id, or the
	// code of a dossier whose fee was requested (status 6).
	OrderID  string
	Amount   int64
	Currency string
	PaidAt   time.Time
}

// RecordPayment records a payment reported by the gateway: the draft it
// pays may then be submitted, or the dossier it pays resumes processing
// (status 6 → 4). It returns an error wrapping errs.ErrConflict for a
// transaction already recorded (a replayed callback) or an order already
// paid, errs.ErrNotFound for an unknown order and errs.ErrInvalid for an
// amount or currency other than the fee. Nothing changes on error.
func (s *Service) RecordPayment(ctx context.Context, r PaymentReport) error {
	ctx = systemOrigin(ctx, "payment-gateway")
	o, _ := s.origin(ctx)
	now := s.now()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		draftID, code := r.OrderID, ""
		if _, err := ParseDossierCode(r.OrderID); err == nil {
			draftID, code = "", r.OrderID
		}
		if err := insertPayment(ctx, tx, paymentRow{TransactionID: r.TransactionID, DraftID: draftID, DossierCode: code,
			Amount: r.Amount, Currency: r.Currency, Method: PaymentGateway, PaidAt: r.PaidAt, ReceivedAt: now}); err != nil {
			return err
		}
		e := o.Event("payment.record")
		e.ResourceType, e.ResourceID = "payment", r.TransactionID
		e.Attrs = map[string]string{"order": r.OrderID, "amount": fmt.Sprint(r.Amount), "currency": r.Currency, "method": PaymentGateway}
		if err := s.rec.Record(ctx, tx, e); err != nil {
			return err
		}
		if code != "" {
			d, err := s.load(ctx, tx, code)
			if err != nil {
				return err
			}
			if err := checkAmount(r, d.FeeAmount, d.FeeCurrency); err != nil {
				return err
			}
			return s.transition(ctx, tx, d, authz.Subject{Kind: authz.System}, ActionRequest{Action: ActPay})
		}
		d, _, err := loadDraft(ctx, tx, draftID)
		if err != nil {
			return err
		}
		if err := checkAmount(r, d.FeeAmount, d.FeeCurrency); err != nil {
			return err
		}
		ok, err := markDraftPaid(ctx, tx, draftID, r.TransactionID, r.PaidAt)
		if err == nil && !ok {
			err = fmt.Errorf("%w: the application was already paid", errs.ErrConflict)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("procedures: record payment %s for %s: %w", r.TransactionID, r.OrderID, err)
	}
	s.nudge()
	return nil
}

func checkAmount(r PaymentReport, amount int64, currency string) error {
	if r.Amount != amount || r.Currency != currency {
		return errs.Invalid("amount", fmt.Sprintf("paid %d %s, but the fee is %d %s", r.Amount, r.Currency, amount, currency))
	}
	return nil
}

// How a payment was recorded: the procedure_payments.method column.
const (
	// PaymentGateway is a payment the gateway reported in a signed callback.
	PaymentGateway = "gateway"
	// PaymentCounter is a fee a clerk took at the unit's counter and
	// recorded with the number of the receipt handed to the payer.
	PaymentCounter = "counter"
)

// maxReceiptNumber bounds a counter receipt's number, in bytes.
const maxReceiptNumber = 40

// checkReceiptNumber returns a counter receipt's number trimmed, or an
// error wrapping errs.ErrInvalid: it is required, short, and made of
// letters, digits and the separators receipt books print (- / .), so it
// reads the same in the ledger, the payment row and the dossier's history.
func checkReceiptNumber(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errs.Invalid("receipt", "give the number of the receipt handed to the payer: a fee taken at the counter is recorded with its receipt")
	}
	if len(s) > maxReceiptNumber {
		return "", errs.Invalid("receipt", fmt.Sprintf("is longer than %d characters", maxReceiptNumber))
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '/' || c == '.') {
			return "", errs.Invalid("receipt", "use only letters, digits and - / . as the receipt book prints the number")
		}
	}
	return s, nil
}

// recordCounterPayment records, inside tx, the fee of dossier d that the
// clerk o took at the counter against the receipt with number receipt
// (checked by checkReceiptNumber): the payment row and its audit event. A
// receipt number already recorded at the unit is a conflict.
func (s *Service) recordCounterPayment(ctx context.Context, tx *store.Tx, o audit.Origin, clerk int64, d *Dossier, receipt string, at time.Time) error {
	id := PaymentCounter + ":" + d.UnitCode + ":" + receipt
	if err := insertPayment(ctx, tx, paymentRow{TransactionID: id, DossierCode: d.Code, Amount: d.FeeAmount, Currency: d.FeeCurrency,
		Method: PaymentCounter, RecordedBy: clerk, PaidAt: at, ReceivedAt: at}); err != nil {
		return err
	}
	e := o.Event("payment.record")
	e.ResourceType, e.ResourceID = "payment", id
	if e.UnitID == 0 {
		e.UnitID = d.UnitID
	}
	e.Attrs = map[string]string{"order": d.Code, "amount": fmt.Sprint(d.FeeAmount), "currency": d.FeeCurrency,
		"method": PaymentCounter, "receipt": receipt}
	return s.rec.Record(ctx, tx, e)
}
