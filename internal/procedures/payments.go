package procedures

import (
	"context"
	"fmt"
	"time"

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
	o, _ := actorOf(ctx)
	now := s.now()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		draftID, code := r.OrderID, ""
		if _, err := ParseDossierCode(r.OrderID); err == nil {
			draftID, code = "", r.OrderID
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO procedure_payments
			(transaction_id, draft_id, dossier_code, amount, currency, paid_us, received_us) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			r.TransactionID, draftID, code, r.Amount, r.Currency, us(r.PaidAt), us(now)); err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("%w: transaction %s was already recorded; a callback is accepted once", errs.ErrConflict, r.TransactionID)
			}
			return err
		}
		e := o.Event("payment.record")
		e.ResourceType, e.ResourceID = "payment", r.TransactionID
		e.Attrs = map[string]string{"order": r.OrderID, "amount": fmt.Sprint(r.Amount), "currency": r.Currency}
		if err := s.opts.Recorder.AppendTx(ctx, tx, e); err != nil {
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
