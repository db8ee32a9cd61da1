package govsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/errs"
	"chancery/internal/payment"
)

// merchant is a test merchant: it verifies every callback with the
// gateway's secret, records what it received, and refuses a transaction
// id it has seen, as Chancery does.
type merchant struct {
	url    string
	secret []byte
	now    func() time.Time
	// answer, if set, decides the status of each attempt (counted from 1)
	// before any check.
	answer func(attempt int) int

	mu       sync.Mutex
	attempts int
	raw      []delivery         // every request, in order
	paid     []payment.Callback // callbacks accepted
	seen     map[string]bool
	arrived  chan struct{} // receives once per request
}

type delivery struct {
	body   []byte
	header string
	status int
}

func newMerchant(tb testing.TB, secret []byte) *merchant {
	tb.Helper()
	m := &merchant{secret: secret, now: fixedClock, seen: map[string]bool{}, arrived: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(m.serve))
	tb.Cleanup(srv.Close)
	m.url = srv.URL
	return m
}

func (m *merchant) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	defer func() { m.mu.Unlock(); m.arrived <- struct{}{} }()
	m.attempts++
	d := delivery{body: body, header: r.Header.Get(payment.SignatureHeader)}
	switch c, err := payment.Verify(m.secret, d.header, body, m.now(), 0); {
	case m.answer != nil && m.answer(m.attempts) != 0:
		d.status = m.answer(m.attempts)
	case r.Header.Get("Content-Type") != "application/json":
		d.status = http.StatusUnsupportedMediaType
	case err != nil:
		d.status = http.StatusForbidden
	case m.seen[c.TransactionID]:
		d.status = http.StatusConflict
	default:
		m.seen[c.TransactionID] = true
		m.paid = append(m.paid, c)
		d.status = http.StatusNoContent
	}
	m.raw = append(m.raw, d)
	w.WriteHeader(d.status)
}

func (m *merchant) received() ([]delivery, []payment.Callback) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]delivery(nil), m.raw...), append([]payment.Callback(nil), m.paid...)
}

// waitFor waits until the merchant has had n requests.
func (m *merchant) waitFor(tb testing.TB, n int) {
	tb.Helper()
	for {
		if raw, _ := m.received(); len(raw) >= n {
			return
		}
		select {
		case <-m.arrived:
		case <-time.After(5 * time.Second):
			raw, _ := m.received()
			tb.Fatalf("the merchant had %d requests, want %d", len(raw), n)
		}
	}
}

// gatewayServer is a gateway simulator on the test clock with fast
// retries, and a client that does not follow redirects.
type gatewayServer struct {
	g      *Gateway
	url    string
	client *http.Client
}

func serveGateway(tb testing.TB, capacity int) gatewayServer {
	tb.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	g := newGateway(context.Background(), base, capacity, fixedClock, discard)
	g.backoff = []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond}
	srv.Config.Handler = g.handler()
	srv.Start()
	tb.Cleanup(func() { srv.Close(); g.stop() })
	return gatewayServer{g: g, url: base, client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (s gatewayServer) do(tb testing.TB, req *http.Request) (*http.Response, string) {
	tb.Helper()
	resp, err := s.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, string(b)
}

func (s gatewayServer) order(tb testing.TB, key string, o payment.Order) (*http.Response, string) {
	tb.Helper()
	body, err := json.Marshal(o)
	if err != nil {
		tb.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/orders", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return s.do(tb, req)
}

// created places o and returns the payment URL, failing unless 201.
func (s gatewayServer) created(tb testing.TB, o payment.Order) string {
	tb.Helper()
	resp, body := s.order(tb, s.g.MerchantKey(), o)
	if resp.StatusCode != http.StatusCreated {
		tb.Fatalf("POST /v1/orders = %d: %s", resp.StatusCode, body)
	}
	var c payment.Created
	if err := json.Unmarshal([]byte(body), &c); err != nil || c.OrderID != o.OrderID {
		tb.Fatalf("POST /v1/orders answered %s (%v)", body, err)
	}
	return c.PaymentURL
}

func (s gatewayServer) checkout(tb testing.TB, paymentURL, action string) (*http.Response, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, paymentURL, strings.NewReader(url.Values{"action": {action}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(tb, req)
}

func (s gatewayServer) page(tb testing.TB, paymentURL string) (*http.Response, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, paymentURL, nil)
	return s.do(tb, req)
}

func testOrder(m *merchant, id string) payment.Order {
	return payment.Order{OrderID: id, Amount: 30000, Currency: payment.VND, Description: "Lệ phí hợp pháp hóa lãnh sự <b>",
		ReturnURL: "https://chancery.example/portal/payments/return?draft=7", CallbackURL: m.url + "/payments/callback"}
}

func TestGatewayTakesAPaymentAndSendsASignedCallback(t *testing.T) {
	s := serveGateway(t, 10)
	m := newMerchant(t, s.g.Secret())
	const id = "000.00.03.G12-250310-0007"
	payURL := s.created(t, testOrder(m, id))
	if payURL != s.url+"/v1/checkout/"+id {
		t.Errorf("payment_url %q", payURL)
	}

	resp, page := s.page(t, payURL)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("checkout page = %d, X-Frame-Options %q", resp.StatusCode, resp.Header.Get("X-Frame-Options"))
	}
	for _, want := range []string{"mô phỏng", "30.000 ₫", id, "Lệ phí hợp pháp hóa lãnh sự &lt;b&gt;", `<form method="post">`,
		`name="action" value="pay"`, `name="action" value="cancel"`, merchantName} {
		if !strings.Contains(page, want) {
			t.Errorf("checkout page lacks %q", want)
		}
	}

	resp, _ = s.checkout(t, payURL, "pay")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay = %d, want 303", resp.StatusCode)
	}
	want := "https://chancery.example/portal/payments/return?draft=7&order=" + url.QueryEscape(id) + "&status=paid"
	if loc := resp.Header.Get("Location"); loc != want {
		t.Errorf("redirect to %q,\nwant       %q", loc, want)
	}
	// The first delivery is made before the redirect.
	raw, paid := m.received()
	if len(raw) != 1 || len(paid) != 1 {
		t.Fatalf("merchant received %d callbacks, accepted %d; want 1, 1", len(raw), len(paid))
	}
	c := paid[0]
	if c.OrderID != id || c.Amount != 30000 || c.Currency != payment.VND || c.Status != payment.StatusPaid ||
		!c.PaidAt.Equal(testNow) || !payment.ValidID(c.TransactionID) {
		t.Errorf("callback %+v", c)
	}

	// Paying twice is refused, and no second callback is sent.
	resp, page = s.checkout(t, payURL, "pay")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "đã được thanh toán") || !strings.Contains(page, `role="alert"`) {
		t.Errorf("paying again = %d:\n%s", resp.StatusCode, page)
	}
	if raw, _ := m.received(); len(raw) != 1 {
		t.Errorf("paying again sent a callback: %d requests", len(raw))
	}
	_, page = s.page(t, payURL)
	if !strings.Contains(page, "đã được thanh toán") || strings.Contains(page, "<form") {
		t.Errorf("the page of a paid order offers to pay:\n%s", page)
	}
}

func TestGatewayReportsACancelledPayment(t *testing.T) {
	s := serveGateway(t, 10)
	m := newMerchant(t, s.g.Secret())
	payURL := s.created(t, testOrder(m, "A-1"))
	if resp, page := s.checkout(t, payURL, "steal"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `value="pay"`) {
		t.Errorf("an unknown action = %d, want 400 and the page again", resp.StatusCode)
	}
	resp, _ := s.checkout(t, payURL, "cancel")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "&order=A-1&status=cancelled") {
		t.Fatalf("cancel = %d to %q", resp.StatusCode, loc)
	}
	if _, paid := m.received(); len(paid) != 1 || paid[0].Status != payment.StatusCancelled {
		t.Errorf("callbacks %+v, want one cancelled", paid)
	}
	if resp, _ := s.checkout(t, payURL, "pay"); resp.StatusCode != http.StatusConflict {
		t.Errorf("paying a cancelled order = %d, want 409", resp.StatusCode)
	}
}

func TestGatewayRefusesBadOrders(t *testing.T) {
	s := serveGateway(t, 10)
	m := newMerchant(t, s.g.Secret())
	s.created(t, testOrder(m, "A-1"))
	other := testOrder(m, "A-1")
	other.Amount = 30001
	noURL := testOrder(m, "A-2")
	noURL.CallbackURL = "/relative"
	tests := []struct {
		name   string
		key    string
		order  payment.Order
		status int
	}{
		{"no key", "", testOrder(m, "B-1"), http.StatusUnauthorized},
		{"wrong key", s.g.MerchantKey() + "x", testOrder(m, "B-1"), http.StatusUnauthorized},
		{"same id, another amount", s.g.MerchantKey(), other, http.StatusConflict},
		{"relative callback URL", s.g.MerchantKey(), noURL, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := s.order(t, tt.key, tt.order)
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("POST /v1/orders = %d %s: %s, want %d problem+json", resp.StatusCode, resp.Header.Get("Content-Type"), body, tt.status)
			}
		})
	}
	// The same order again is answered as the first time.
	if again := s.created(t, testOrder(m, "A-1")); again != s.url+"/v1/checkout/A-1" {
		t.Errorf("repeated order: payment_url %q", again)
	}
	if _, err := s.g.order("B-1"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("a refused order was stored: %v", err)
	}
}

func TestGatewayAnswersUnknownOrders404(t *testing.T) {
	s := serveGateway(t, 10)
	for _, path := range []string{"/v1/checkout/NOPE", "/v1/checkout/..%2F..%2Fetc", "/v1/checkout/%3Cscript%3E"} {
		resp, page := s.page(t, s.url+path)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "Không tìm thấy đơn hàng") || strings.Contains(page, "<script>") {
			t.Errorf("GET %s = %d:\n%s", path, resp.StatusCode, page)
		}
		if resp, _ := s.checkout(t, s.url+path, "pay"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestGatewayForgetsTheOldestOrderPastItsCapacity(t *testing.T) {
	s := serveGateway(t, 2)
	m := newMerchant(t, s.g.Secret())
	first := s.created(t, testOrder(m, "O-1"))
	s.created(t, testOrder(m, "O-2"))
	third := s.created(t, testOrder(m, "O-3"))
	if resp, _ := s.page(t, first); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the oldest order is still held past the capacity: %d", resp.StatusCode)
	}
	if resp, _ := s.page(t, third); resp.StatusCode != http.StatusOK {
		t.Errorf("the newest order = %d", resp.StatusCode)
	}
}

func TestGatewayRetriesAMerchantThatIsDownButNotOneThatRefuses(t *testing.T) {
	tests := []struct {
		name     string
		answer   func(int) int
		requests int
		accepted int
	}{
		{"down twice, then up", func(n int) int {
			if n <= 2 {
				return http.StatusServiceUnavailable
			}
			return 0
		}, 3, 1},
		{"always down: gives up after the backoff", func(int) int { return http.StatusBadGateway }, 4, 0},
		{"refuses with 400: not retried", func(int) int { return http.StatusBadRequest }, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serveGateway(t, 10)
			m := newMerchant(t, s.g.Secret())
			m.answer = tt.answer
			payURL := s.created(t, testOrder(m, "R-1"))
			if resp, _ := s.checkout(t, payURL, "pay"); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("pay = %d: the payer is sent back whether the merchant heard or not", resp.StatusCode)
			}
			m.waitFor(t, tt.requests)
			s.g.deliveries.Wait()
			raw, paid := m.received()
			if len(raw) != tt.requests || len(paid) != tt.accepted {
				t.Errorf("merchant had %d requests, accepted %d; want %d, %d", len(raw), len(paid), tt.requests, tt.accepted)
			}
		})
	}
}

func TestReplayResendsTheCallbackExactlyAndTheMerchantRefusesIt(t *testing.T) {
	s := serveGateway(t, 10)
	m := newMerchant(t, s.g.Secret())
	payURL := s.created(t, testOrder(m, "P-1"))
	if _, err := s.g.Replay(t.Context(), "P-1"); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("Replay of an open order = %v, want ErrConflict", err)
	}
	if _, err := s.g.Replay(t.Context(), "NOPE"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Replay of an unknown order = %v, want ErrNotFound", err)
	}
	s.checkout(t, payURL, "pay")
	status, err := s.g.Replay(t.Context(), "P-1")
	if err != nil || status != http.StatusConflict {
		t.Errorf("Replay = %d, %v; want the merchant's 409", status, err)
	}
	raw, paid := m.received()
	if len(raw) != 2 || len(paid) != 1 {
		t.Fatalf("merchant had %d requests, accepted %d; want 2, 1", len(raw), len(paid))
	}
	if !bytes.Equal(raw[0].body, raw[1].body) || raw[0].header != raw[1].header {
		t.Errorf("the replay differs from the original:\n%s %s\n%s %s", raw[0].header, raw[0].body, raw[1].header, raw[1].body)
	}
	// Past the tolerance the same callback is stale as well.
	m.mu.Lock()
	m.now = func() time.Time { return testNow.Add(payment.DefaultTolerance + time.Second) }
	m.seen = map[string]bool{}
	m.mu.Unlock()
	if status, err := s.g.Replay(t.Context(), "P-1"); err != nil || status != http.StatusForbidden {
		t.Errorf("stale Replay = %d, %v; want the merchant's 403", status, err)
	}
}

func TestStartServesThePaymentGateway(t *testing.T) {
	srv := startServer(t)
	if !strings.HasSuffix(srv.PaymentURL(), "/payment") || len(srv.PaymentSecret()) != payment.SecretSize || srv.PaymentMerchantKey() == "" {
		t.Fatalf("PaymentURL %q, secret %d bytes, key %q", srv.PaymentURL(), len(srv.PaymentSecret()), srv.PaymentMerchantKey())
	}
	m := newMerchant(t, srv.PaymentSecret())
	m.now = time.Now
	s := gatewayServer{g: srv.Payment(), url: srv.PaymentURL(), client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	payURL := s.created(t, testOrder(m, "S-1"))
	if !strings.HasPrefix(payURL, srv.PaymentURL()+"/v1/checkout/") {
		t.Errorf("payment_url %q is not under %s", payURL, srv.PaymentURL())
	}
	if resp, _ := s.checkout(t, payURL, "pay"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay = %d", resp.StatusCode)
	}
	if _, paid := m.received(); len(paid) != 1 {
		t.Errorf("the merchant accepted %d callbacks, want 1", len(paid))
	}
	if status, err := srv.ReplayPaymentCallback(t.Context(), "S-1"); err != nil || status != http.StatusConflict {
		t.Errorf("ReplayPaymentCallback = %d, %v; want 409", status, err)
	}
}
