package procedures

import (
	"fmt"
	"io"
	"net/http"

	"chancery/internal/errs"
	"chancery/internal/payment"
	"chancery/internal/web"
)

// errAPINoPaymentSecret answers callbacks on a node that has no secret to
// check them with. It is a 503, so the gateway retries once the node is
// configured rather than dropping the payment.
var errAPINoPaymentSecret = fmt.Errorf("%w: this node is not configured to take payment callbacks (no payment secret)", errs.ErrUnavailable)

// apiPaymentCallback records a payment the gateway reports, server to
// server. The signature authenticates the gateway; the transaction id
// makes a replay within the signature's tolerance a 409. The gateway
// retries on 5xx only, so every refusal of what it sent is a 4xx and a
// failure of this node's a 5xx.
func (h *Handler) apiPaymentCallback(w http.ResponseWriter, r *http.Request) {
	if len(h.opts.PaymentSecret) == 0 {
		web.Error(w, r, errAPINoPaymentSecret)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, payment.MaxCallbackBytes+1))
	if err != nil {
		web.Error(w, r, apiBodyError(err))
		return
	}
	c, err := payment.Verify(h.opts.PaymentSecret, r.Header.Get(payment.SignatureHeader), body, h.svc.now(), 0)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if c.Status != payment.StatusPaid {
		// The payer cancelled: nothing to record, and nothing to retry.
		web.JSON(w, r, http.StatusOK, map[string]bool{"recorded": false})
		return
	}
	err = h.svc.RecordPayment(r.Context(), PaymentReport{TransactionID: c.TransactionID, OrderID: c.OrderID,
		Amount: c.Amount, Currency: c.Currency, PaidAt: c.PaidAt})
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, map[string]bool{"recorded": true})
}
