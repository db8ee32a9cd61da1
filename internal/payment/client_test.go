package payment

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/errs"
)

// TestClientCheckoutSendsTheOrderAndReturnsThePaymentAddress checks the
// request a merchant makes (path, key, JSON order with the callback URL)
// and that the gateway's payment address comes back.
func TestClientCheckoutSendsTheOrderAndReturnsThePaymentAddress(t *testing.T) {
	var got Order
	var auth string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/orders" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "wrong request", http.StatusBadRequest)
			return
		}
		auth = r.Header.Get("Authorization")
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(Created{OrderID: got.OrderID, PaymentURL: "https://pay.example/checkout/1"}) //nolint:errcheck
	}))
	defer gw.Close()
	c := NewClient(gw.URL+"/", "merchant-key", func() string { return "https://chancery.example/payments/v1/callback" })
	o := validOrder()
	o.CallbackURL = ""
	url, err := c.Checkout(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if url != "https://pay.example/checkout/1" {
		t.Errorf("payment address = %q", url)
	}
	if auth != "Bearer merchant-key" {
		t.Errorf("Authorization = %q; want the merchant's key as a bearer token", auth)
	}
	want := o
	want.CallbackURL = "https://chancery.example/payments/v1/callback"
	if got != want {
		t.Errorf("the gateway got %+v; want %+v", got, want)
	}
}

// TestClientCheckoutReportsAGatewayItCannotUse checks that every way a
// gateway can fail the merchant is ErrUnavailable with a message saying
// which.
func TestClientCheckoutReportsAGatewayItCannotUse(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"refused", http.StatusUnprocessableEntity, `{"detail":"amount too high"}`, "refused the order (422): {\"detail\":\"amount too high\"}"},
		{"no address", http.StatusCreated, `{"order_id":"x"}`, "no payment address"},
		{"not JSON", http.StatusOK, `<html>`, "no payment address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body)) //nolint:errcheck
			}))
			defer gw.Close()
			_, err := NewClient(gw.URL, "k", func() string { return "https://chancery.example/cb" }).Checkout(context.Background(), validOrder())
			if !errors.Is(err, errs.ErrUnavailable) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Checkout = %v; want ErrUnavailable saying %q", err, tt.want)
			}
		})
	}
	gw := httptest.NewServer(http.NotFoundHandler())
	gw.Close()
	_, err := NewClient(gw.URL, "k", func() string { return "" }).Checkout(context.Background(), validOrder())
	if !errors.Is(err, errs.ErrUnavailable) || !strings.Contains(err.Error(), "cannot be reached") {
		t.Errorf("Checkout at a closed gateway = %v; want ErrUnavailable saying it cannot be reached", err)
	}
}
