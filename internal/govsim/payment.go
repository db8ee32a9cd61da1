package govsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"chancery/internal/errs"
	"chancery/internal/payment"
	"chancery/internal/web"
)

// PaymentCapacity is how many orders the payment gateway simulator
// keeps; past it, the oldest created is forgotten first.
const PaymentCapacity = 10_000

// merchantName is the one merchant the gateway simulator serves, as its
// checkout page names it.
const merchantName = "Bộ Ngoại giao — Chancery (Ministry of Foreign Affairs)"

// The delivery of callbacks: each attempt is bounded by callbackTimeout;
// after the first, made while the payer waits, a merchant that did not
// answer 2xx, 3xx or 4xx is tried again after each of callbackBackoff.
const callbackTimeout = 10 * time.Second

var callbackBackoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}

// maxOrderBody bounds an order's body; a real one is a few hundred bytes.
const maxOrderBody = 16 << 10

// orderOpen is the state of an order the payer has not decided;
// payment.StatusPaid and payment.StatusCancelled are the others.
const orderOpen = "open"

// gatewayOrder is an order the gateway simulator holds.
type gatewayOrder struct {
	payment.Order
	state string // orderOpen, payment.StatusPaid or payment.StatusCancelled
	// body and header are the callback last sent, exactly; nil while
	// open.
	body   []byte
	header string
}

// Gateway is the payment gateway simulator (Cổng thanh toán, mô phỏng):
// it takes orders from its one merchant, shows the payer a checkout page,
// and POSTs the signed payment.Callback to the order's callback URL. It
// stands for a real gateway in demo mode; it moves no money. It is safe
// for concurrent use.
type Gateway struct {
	base     string // the gateway's URL, such as http://127.0.0.1:41234/payment
	key      string // the merchant's API key
	secret   []byte // the merchant's callback secret
	now      func() time.Time
	capacity int
	log      *slog.Logger
	client   *http.Client
	backoff  []time.Duration
	page     *template.Template

	// life bounds background deliveries; stop ends it and waits for them.
	life       context.Context
	stopLife   context.CancelFunc
	deliveries sync.WaitGroup

	mu sync.Mutex
	// stopped is set by stop; no delivery starts after it, so that
	// deliveries.Add never races deliveries.Wait. Guarded by mu.
	stopped bool
	orders  map[string]*gatewayOrder // guarded by mu
	// ids holds the order ids in the order created, oldest at ids[oldest]
	// once full; guarded by mu.
	ids    []string
	oldest int // guarded by mu
}

// newGateway returns a gateway simulator serving at base, with a new
// merchant key and callback secret. Deliveries in the background end
// with ctx or stop.
func newGateway(ctx context.Context, base string, capacity int, now func() time.Time, log *slog.Logger) *Gateway {
	page := template.Must(template.ParseFS(templates, "templates/payment/checkout.html"))
	life, stop := context.WithCancel(ctx)
	return &Gateway{
		base: base, key: "govsim_sk_" + rand.Text(), secret: payment.NewSecret(), now: now, capacity: capacity, log: log,
		client:  &http.Client{Timeout: callbackTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		backoff: callbackBackoff, page: page, life: life, stopLife: stop, orders: map[string]*gatewayOrder{},
	}
}

// stop ends the retries in the background and waits for them.
func (g *Gateway) stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	g.stopLife()
	g.deliveries.Wait()
}

// MerchantKey returns the merchant's API key, sent as
// "Authorization: Bearer <key>" with every order.
func (g *Gateway) MerchantKey() string { return g.key }

// Secret returns a copy of the merchant's callback secret, with which the
// merchant verifies callbacks (payment.Verify).
func (g *Gateway) Secret() []byte { return bytes.Clone(g.secret) }

// checkoutURL returns the checkout page of order id.
func (g *Gateway) checkoutURL(id string) string { return g.base + "/v1/checkout/" + id }

// create stores o, or finds the order of the same id. It returns an
// errs.ErrConflict error if that order has another amount or currency; a
// repeated order otherwise changes nothing, so a merchant may retry.
func (g *Gateway) create(o payment.Order) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if old, ok := g.orders[o.OrderID]; ok {
		if old.Amount != o.Amount || old.Currency != o.Currency {
			return fmt.Errorf("%w: order %s already exists for %s; an order's amount cannot change, create a new order id", errs.ErrConflict, o.OrderID, payment.FormatAmount(old.Amount, old.Currency))
		}
		return nil
	}
	g.orders[o.OrderID] = &gatewayOrder{Order: o, state: orderOpen}
	if len(g.ids) < g.capacity {
		g.ids = append(g.ids, o.OrderID)
		return nil
	}
	delete(g.orders, g.ids[g.oldest])
	g.ids[g.oldest] = o.OrderID
	g.oldest = (g.oldest + 1) % len(g.ids)
	return nil
}

var errNoOrder = fmt.Errorf("%w: the gateway holds no such order; it may have been forgotten, ask the merchant to start the payment again", errs.ErrNotFound)

// order returns a copy of order id.
func (g *Gateway) order(id string) (gatewayOrder, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	o, ok := g.orders[id]
	if !ok {
		return gatewayOrder{}, errNoOrder
	}
	return *o, nil
}

// decide records the payer's decision on an open order and returns the
// callback to send. It returns an errs.ErrConflict error, with the order,
// if the order was already decided.
func (g *Gateway) decide(id, status string) (gatewayOrder, payment.Callback, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	o, ok := g.orders[id]
	if !ok {
		return gatewayOrder{}, payment.Callback{}, errNoOrder
	}
	if o.state != orderOpen {
		return *o, payment.Callback{}, fmt.Errorf("%w: order %s is already %s", errs.ErrConflict, id, o.state)
	}
	o.state = status
	c := payment.Callback{TransactionID: "SIM-" + rand.Text(), OrderID: id, Amount: o.Amount, Currency: o.Currency,
		Status: status, PaidAt: g.now().UTC().Truncate(time.Second)}
	return *o, c, nil
}

// sign signs body now and records it as order id's last callback.
func (g *Gateway) sign(id string, body []byte) string {
	header := payment.Sign(g.secret, body, g.now())
	g.mu.Lock()
	defer g.mu.Unlock()
	if o, ok := g.orders[id]; ok {
		o.body, o.header = body, header
	}
	return header
}

// errPermanent marks a merchant's answer that retrying will not change.
var errPermanent = errors.New("not retried")

// post sends a callback body with its signature header to url and
// returns the merchant's status; an answer other than 2xx is an error,
// wrapping errPermanent for 3xx and 4xx.
func (g *Gateway) post(ctx context.Context, url string, body []byte, header string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: callback URL %s: %v", errPermanent, url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(payment.SignatureHeader, header)
	req.Header.Set("User-Agent", "chancery-govsim/payment (simulator)")
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post callback to %s: %w", url, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // only the status matters
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, nil
	case resp.StatusCode < 500:
		return resp.StatusCode, fmt.Errorf("%w: the merchant answered the callback %d", errPermanent, resp.StatusCode)
	}
	return resp.StatusCode, fmt.Errorf("the merchant answered the callback %d", resp.StatusCode)
}

// deliver sends callback c of order o: once now, while the payer waits
// for the redirect, so that the merchant has usually heard before the
// browser returns; then, if the merchant was down or answered 5xx, again
// in the background after each backoff. Each attempt is signed afresh,
// as a late retry would otherwise arrive stale.
func (g *Gateway) deliver(ctx context.Context, o gatewayOrder, c payment.Callback) {
	body, err := c.MarshalJSON()
	if err != nil {
		g.log.Error("payment simulator: encode callback", "order", c.OrderID, "err", err)
		return
	}
	attempt := func(ctx context.Context) bool {
		_, err := g.post(ctx, o.CallbackURL, body, g.sign(c.OrderID, body))
		if err == nil {
			g.log.Info("payment simulator: callback delivered", "order", c.OrderID, "status", c.Status)
			return true
		}
		g.log.Warn("payment simulator: callback not delivered", "order", c.OrderID, "err", err)
		return errors.Is(err, errPermanent)
	}
	if attempt(ctx) {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		g.log.Warn("payment simulator: shutting down; the callback will not be retried", "order", c.OrderID)
		return
	}
	g.deliveries.Go(func() {
		for _, wait := range g.backoff {
			select {
			case <-g.life.Done():
				return
			case <-time.After(wait):
			}
			if attempt(g.life) {
				return
			}
		}
		g.log.Error("payment simulator: gave up delivering a callback", "order", c.OrderID, "attempts", len(g.backoff)+1)
	})
}

// Replay resends order id's last callback exactly as it was sent, body
// and signature header alike, as an attacker who captured it would, and
// returns the merchant's status. A merchant should refuse it (its
// transaction id is recorded, and after the tolerance its timestamp is
// stale). It returns an errs.ErrNotFound error for an unknown order, an
// errs.ErrConflict error for an order no callback was sent for, and an
// error if the merchant could not be reached.
func (g *Gateway) Replay(ctx context.Context, id string) (int, error) {
	o, err := g.order(id)
	if err != nil {
		return 0, err
	}
	if o.body == nil {
		return 0, fmt.Errorf("%w: order %s is %s: no callback was sent for it", errs.ErrConflict, id, o.state)
	}
	status, err := g.post(ctx, o.CallbackURL, o.body, o.header)
	if status != 0 {
		return status, nil
	}
	return 0, err
}

// checkoutData is the view of the checkout page.
type checkoutData struct {
	Merchant    string
	OrderID     string
	Amount      string // formatted, such as 30.000 ₫
	Description string
	// State is open, paid or cancelled; empty when there is no order.
	State string
	// Conflict reports whether the payer just tried to decide an order
	// already decided.
	Conflict bool
	// ReturnURL is where the "back to the merchant" link of a decided
	// order leads.
	ReturnURL string
}

// returnURL is the order's return URL with order and status added to its
// query.
func returnURL(o payment.Order, status string) string {
	u, err := url.Parse(o.ReturnURL)
	if err != nil { // Validate accepted it when the order was created
		return o.ReturnURL
	}
	q := u.Query()
	q.Set("order", o.OrderID)
	q.Set("status", status)
	u.RawQuery = q.Encode()
	return u.String()
}

func (g *Gateway) checkoutData(o gatewayOrder) checkoutData {
	d := checkoutData{Merchant: merchantName, OrderID: o.OrderID, Amount: payment.FormatAmount(o.Amount, o.Currency),
		Description: o.Description, State: o.state}
	if o.state != orderOpen {
		d.ReturnURL = returnURL(o.Order, o.state)
	}
	return d
}

// render writes the checkout page. The page is the gateway's own site: it
// shares nothing with Chancery's layout, and it may not be framed, lest a
// site overlay its Pay button.
func (g *Gateway) render(w http.ResponseWriter, status int, d checkoutData) {
	var buf bytes.Buffer
	if err := g.page.Execute(&buf, d); err != nil {
		g.log.Error("payment simulator: render checkout", "err", err)
		http.Error(w, "The simulator could not show the page.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}

// handler serves the gateway simulator, relative to its base URL.
func (g *Gateway) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/orders", g.createOrder)
	mux.Handle("/v1/orders", methodNotAllowed("POST"))
	mux.HandleFunc("GET /v1/checkout/{order}", g.showCheckout)
	mux.HandleFunc("POST /v1/checkout/{order}", g.submitCheckout)
	mux.Handle("/v1/checkout/{order}", methodNotAllowed("GET, HEAD, POST"))
	mux.Handle("/", noRoute("POST /v1/orders, GET and POST /v1/checkout/{order}"))
	return simulatorHeader("payment", mux)
}

func (g *Gateway) createOrder(w http.ResponseWriter, r *http.Request) {
	key, ok := bytes.CutPrefix([]byte(r.Header.Get("Authorization")), []byte("Bearer "))
	if !ok || subtle.ConstantTimeCompare(key, []byte(g.key)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="govsim-payment"`)
		problem(w, r, g.log, fmt.Errorf("%w: send the merchant key as Authorization: Bearer <key>", errs.ErrUnauthenticated))
		return
	}
	o, err := g.readOrder(w, r)
	if err == nil {
		err = g.create(o)
	}
	if err != nil {
		problem(w, r, g.log, err)
		return
	}
	g.log.Info("payment simulator: order", "order", o.OrderID, "amount", o.Amount, "currency", o.Currency)
	web.JSON(w, r, http.StatusCreated, payment.Created{OrderID: o.OrderID, PaymentURL: g.checkoutURL(o.OrderID)})
}

// readOrder reads and checks the body of POST /v1/orders.
func (g *Gateway) readOrder(w http.ResponseWriter, r *http.Request) (payment.Order, error) {
	if ct := r.Header.Get("Content-Type"); !bytes.HasPrefix([]byte(ct), []byte("application/json")) {
		return payment.Order{}, fmt.Errorf("%w: the body must be application/json, not %q", errs.ErrInvalid, ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOrderBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return payment.Order{}, fmt.Errorf("%w: the body is over the limit of %d bytes", errs.ErrTooLarge, maxOrderBody)
		}
		return payment.Order{}, fmt.Errorf("%w: read body: %v", errs.ErrInvalid, err)
	}
	return payment.DecodeOrder(body)
}

// pathOrder returns the order the path names; an id of the wrong shape
// is no order at all.
func (g *Gateway) pathOrder(r *http.Request) (gatewayOrder, error) {
	id := r.PathValue("order")
	if !payment.ValidID(id) {
		return gatewayOrder{}, errNoOrder
	}
	return g.order(id)
}

func (g *Gateway) showCheckout(w http.ResponseWriter, r *http.Request) {
	o, err := g.pathOrder(r)
	if err != nil {
		g.render(w, http.StatusNotFound, checkoutData{Merchant: merchantName})
		return
	}
	g.render(w, http.StatusOK, g.checkoutData(o))
}

// maxCheckoutForm bounds the checkout form's body: one button's value.
const maxCheckoutForm = 1 << 10

func (g *Gateway) submitCheckout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxCheckoutForm)
	status := ""
	if err := r.ParseForm(); err == nil {
		switch r.PostForm.Get("action") {
		case "pay":
			status = payment.StatusPaid
		case "cancel":
			status = payment.StatusCancelled
		}
	}
	o, err := g.pathOrder(r)
	if err != nil {
		g.render(w, http.StatusNotFound, checkoutData{Merchant: merchantName})
		return
	}
	if status == "" {
		// Only a crafted request lacks the button: show the page again.
		g.render(w, http.StatusBadRequest, g.checkoutData(o))
		return
	}
	o, c, err := g.decide(o.OrderID, status)
	if err != nil {
		d := g.checkoutData(o)
		d.Conflict = errors.Is(err, errs.ErrConflict)
		g.render(w, web.Status(err), d)
		return
	}
	g.deliver(r.Context(), o, c)
	http.Redirect(w, r, returnURL(o.Order, status), http.StatusSeeOther)
}
