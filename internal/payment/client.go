package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"chancery/internal/errs"
)

// maxAnswer bounds the gateway's answer to an order that is read: a
// payment address and an id, or a short refusal.
const maxAnswer = 64 << 10

// Client is the merchant's side of the protocol: it creates orders at a
// gateway. It is safe for concurrent use.
type Client struct {
	api, key string
	callback func() string
	http     *http.Client
}

// NewClient returns a client of the gateway whose API is at api (such as
// https://pay.example/), authenticating with the merchant's key. callback
// returns the URL the gateway POSTs its signed callbacks to; it is asked
// on each order, since a server's own address may be known only once it
// listens.
func NewClient(api, key string, callback func() string) *Client {
	return &Client{api: strings.TrimSuffix(api, "/"), key: key, callback: callback,
		http: &http.Client{Timeout: 15 * time.Second}}
}

// Checkout creates order o at the gateway, with the client's callback
// URL, and returns the address of the gateway's checkout page to send the
// payer's browser to. A gateway that cannot be reached, refuses the order
// or answers without a payment address gives an error wrapping
// errs.ErrUnavailable that says which.
func (c *Client) Checkout(ctx context.Context, o Order) (string, error) {
	o.CallbackURL = c.callback()
	body, err := json.Marshal(o)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.api+"/v1/orders", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: the payment gateway cannot be reached: %v", errs.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return "", fmt.Errorf("%w: the payment gateway's answer was cut off: %v", errs.ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: the payment gateway refused the order (%d): %s", errs.ErrUnavailable, resp.StatusCode, bytes.TrimSpace(raw))
	}
	var created Created
	if err := json.Unmarshal(raw, &created); err != nil || created.PaymentURL == "" {
		return "", errors.Join(fmt.Errorf("%w: the payment gateway's answer has no payment address", errs.ErrUnavailable), err)
	}
	return created.PaymentURL, nil
}
