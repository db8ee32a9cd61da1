// Package payment is the protocol between Chancery (the merchant) and a
// payment gateway that collects procedure fees from citizens: the order
// the merchant asks the gateway to collect, and the signed callback the
// gateway POSTs back when the payer has paid or cancelled.
//
// The protocol follows the shape of Vietnamese gateways and of Stripe's
// webhooks. The merchant creates an Order with its key; the gateway
// answers with a payment URL to send the browser to; once the payer has
// decided, the gateway POSTs a Callback, as JSON, to the order's callback
// URL with a SignatureHeader of the form
//
//	Chancery-Payment-Signature: t=1735689600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// where v1 is the hex HMAC-SHA256, under the merchant's callback secret,
// of the decimal timestamp, a dot and the exact body. Verify checks it.
// The browser is redirected to the order's return URL, but only the
// signed callback is proof of payment: a return URL can be typed by
// anyone.
//
// Replay: Verify refuses a callback whose timestamp is more than its
// tolerance away from the merchant's clock, which bounds how long a
// captured callback stays usable; within that window the merchant must
// also refuse a transaction id it has already recorded.
//
// internal/govsim holds a simulator of the gateway's side.
package payment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"chancery/internal/errs"
)

// The currencies a gateway collects in.
const (
	VND = "VND" // Vietnamese đồng; amounts in đồng, which has no minor unit
	USD = "USD" // US dollars; amounts in whole dollars, as consular fees abroad are set
)

// The outcomes a callback reports.
const (
	StatusPaid      = "paid"
	StatusCancelled = "cancelled"
)

// MaxAmount bounds an amount in any currency; a fee is far below it, and
// the bound keeps sums and formatting clear of int64 overflow.
const MaxAmount = 1_000_000_000_000

// The bounds of an order's text fields, in bytes for identifiers and
// URLs and in characters for the description.
const (
	maxIDLen       = 64
	maxDescription = 255
	maxURLLen      = 2048
)

// idPattern is the shape of an order id and a transaction id: ASCII that
// can stand in a URL path and a query without escaping.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Order is what a merchant asks the gateway to collect, the body of the
// gateway's POST /v1/orders.
type Order struct {
	// OrderID is the merchant's reference: 1 to 64 ASCII letters, digits,
	// dots, underscores and hyphens, starting with a letter or digit, such
	// as a dossier code. An order is created once per id.
	OrderID string `json:"order_id"`
	// Amount is in whole units of Currency, at least 1 and at most
	// MaxAmount.
	Amount int64 `json:"amount"`
	// Currency is VND or USD.
	Currency string `json:"currency"`
	// Description is shown to the payer; at most 255 characters, no
	// control characters.
	Description string `json:"description"`
	// ReturnURL is where the gateway sends the payer's browser afterwards,
	// with ?order=<id>&status=paid|cancelled added.
	ReturnURL string `json:"return_url"`
	// CallbackURL is where the gateway POSTs the signed Callback.
	CallbackURL string `json:"callback_url"`
}

// Validate reports the first field of o that breaks the protocol's rules,
// as an *errs.FieldError naming it; nil if there is none.
func (o Order) Validate() error {
	if err := checkID("order_id", o.OrderID); err != nil {
		return err
	}
	if err := checkAmount(o.Amount, o.Currency); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(o.Description) == "":
		return errs.Invalid("description", "is required: the payer is shown what the fee is for")
	case !utf8.ValidString(o.Description) || strings.IndexFunc(o.Description, unicode.IsControl) >= 0:
		return errs.Invalid("description", "must be UTF-8 text without control characters such as line breaks")
	case utf8.RuneCountInString(o.Description) > maxDescription:
		return errs.Invalid("description", fmt.Sprintf("is longer than %d characters", maxDescription))
	}
	if err := checkURL("return_url", o.ReturnURL); err != nil {
		return err
	}
	return checkURL("callback_url", o.CallbackURL)
}

// DecodeOrder decodes and validates an order sent as JSON. It refuses,
// with an error wrapping errs.ErrInvalid, a body that is not one JSON
// object of Order's fields (unknown fields are refused) or that Validate
// refuses.
func DecodeOrder(body []byte) (Order, error) {
	var o Order
	if err := decodeStrict(body, &o, "order"); err != nil {
		return Order{}, err
	}
	return o, o.Validate()
}

// Created is the gateway's answer to a new order: the URL of the checkout
// page to send the payer's browser to.
type Created struct {
	OrderID    string `json:"order_id"`
	PaymentURL string `json:"payment_url"`
}

// Callback is the body of the gateway's signed POST to an order's
// callback URL, telling the merchant how the payer decided.
type Callback struct {
	// TransactionID is the gateway's unique id of this outcome, in the
	// shape of an order id. A merchant records it and refuses a callback
	// carrying one it has seen: that is a replay.
	TransactionID string `json:"transaction_id"`
	OrderID       string `json:"order_id"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	// Status is StatusPaid or StatusCancelled.
	Status string `json:"status"`
	// PaidAt is when the payer paid, or cancelled; RFC 3339 on the wire,
	// in UTC once decoded.
	PaidAt time.Time `json:"paid_at"`
}

// Validate reports the first field of c that breaks the protocol's
// rules, as an *errs.FieldError naming it; nil if there is none.
func (c Callback) Validate() error {
	if err := checkID("transaction_id", c.TransactionID); err != nil {
		return err
	}
	if err := checkID("order_id", c.OrderID); err != nil {
		return err
	}
	if err := checkAmount(c.Amount, c.Currency); err != nil {
		return err
	}
	if c.Status != StatusPaid && c.Status != StatusCancelled {
		return errs.Invalid("status", fmt.Sprintf("must be %q or %q, not %q", StatusPaid, StatusCancelled, c.Status))
	}
	if y := c.PaidAt.Year(); y < 2000 || y > 9999 {
		return errs.Invalid("paid_at", "is required: an RFC 3339 time from the year 2000 on, such as 2025-03-01T08:30:00+07:00")
	}
	return nil
}

// callbackWire is Callback as JSON carries it: the time as text, so that
// only RFC 3339 is accepted, and every field a pointer, so that a missing
// one is told from a zero one.
type callbackWire struct {
	TransactionID *string `json:"transaction_id"`
	OrderID       *string `json:"order_id"`
	Amount        *int64  `json:"amount"`
	Currency      *string `json:"currency"`
	Status        *string `json:"status"`
	PaidAt        *string `json:"paid_at"`
}

// DecodeCallback decodes and validates a callback body. It refuses, with
// an error wrapping errs.ErrInvalid, a body that is not one JSON object
// of exactly Callback's fields, each present, or that Validate refuses.
// It does not check the signature: call Verify on what came over the
// network.
func DecodeCallback(body []byte) (Callback, error) {
	if len(body) > MaxCallbackBytes {
		return Callback{}, fmt.Errorf("payment: %w: the callback body is over the limit of %d bytes", errs.ErrTooLarge, MaxCallbackBytes)
	}
	var w callbackWire
	if err := decodeStrict(body, &w, "callback"); err != nil {
		return Callback{}, err
	}
	for _, f := range []struct {
		name    string
		missing bool
	}{
		{"transaction_id", w.TransactionID == nil}, {"order_id", w.OrderID == nil}, {"amount", w.Amount == nil},
		{"currency", w.Currency == nil}, {"status", w.Status == nil}, {"paid_at", w.PaidAt == nil},
	} {
		if f.missing {
			return Callback{}, errs.Invalid(f.name, "is required")
		}
	}
	at, err := time.Parse(time.RFC3339, *w.PaidAt)
	if err != nil {
		return Callback{}, errs.Invalid("paid_at", "must be an RFC 3339 time with its offset, such as 2025-03-01T08:30:00+07:00")
	}
	c := Callback{TransactionID: *w.TransactionID, OrderID: *w.OrderID, Amount: *w.Amount, Currency: *w.Currency, Status: *w.Status, PaidAt: at.UTC()}
	return c, c.Validate()
}

// MarshalJSON writes c with PaidAt in RFC 3339, as DecodeCallback reads
// it.
func (c Callback) MarshalJSON() ([]byte, error) {
	at := c.PaidAt.Format(time.RFC3339Nano)
	type wire callbackWire
	return json.Marshal(wire{&c.TransactionID, &c.OrderID, &c.Amount, &c.Currency, &c.Status, &at})
}

// decodeStrict decodes body, which must be exactly one JSON object of
// dst's fields, into dst. what names the body in errors.
func decodeStrict(body []byte, dst any, what string) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("payment: %w: the %s is not valid UTF-8", errs.ErrInvalid, what)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if typ, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && typ.Field != "" {
			return errs.Invalid(typ.Field, fmt.Sprintf("has the wrong JSON type (%s)", typ.Value))
		}
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return errs.Invalid(strings.Trim(field, `"`), "is not a field of the "+what)
		}
		return fmt.Errorf("payment: %w: the %s is not one JSON object of its fields: %v", errs.ErrInvalid, what, err)
	}
	// Not dec.More: it reports false before a stray "}" or "]".
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("payment: %w: the %s holds more than one JSON value", errs.ErrInvalid, what)
	}
	return nil
}

func checkID(field, id string) error {
	if !idPattern.MatchString(id) {
		return errs.Invalid(field, fmt.Sprintf("must be 1 to %d ASCII letters, digits, dots, underscores or hyphens, starting with a letter or digit", maxIDLen))
	}
	return nil
}

// ValidID reports whether id has the shape of an order id or a
// transaction id, so that a handler can refuse a path early.
func ValidID(id string) bool { return idPattern.MatchString(id) }

func checkAmount(amount int64, currency string) error {
	if currency != VND && currency != USD {
		return errs.Invalid("currency", fmt.Sprintf("must be %s or %s, not %q", VND, USD, currency))
	}
	if amount < 1 || amount > MaxAmount {
		return errs.Invalid("amount", fmt.Sprintf("must be a whole number of %s from 1 to %d, not %d", currency, int64(MaxAmount), amount))
	}
	return nil
}

// checkURL accepts an absolute http or https URL without credentials or
// fragment.
func checkURL(field, s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return errs.Invalid(field, "is required")
	case len(s) > maxURLLen:
		return errs.Invalid(field, fmt.Sprintf("is longer than %d bytes", maxURLLen))
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		return errs.Invalid(field, "must be an absolute http or https URL, such as https://chancery.example/payments/return")
	case u.User != nil:
		return errs.Invalid(field, "must not carry a user name or password")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return errs.Invalid(field, "must not have a #fragment")
	}
	return nil
}

// FormatAmount writes amount in currency as a payer reads it in Viet Nam:
// thousands grouped with dots and the currency's sign after, such as
// "30.000 ₫" or "25 US$".
func FormatAmount(amount int64, currency string) string {
	digits := strconv.FormatInt(amount, 10)
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(d)
	}
	switch currency {
	case VND:
		b.WriteString(" ₫")
	case USD:
		b.WriteString(" US$")
	default:
		b.WriteString(" " + currency)
	}
	return b.String()
}
