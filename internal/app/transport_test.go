package app

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/config"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// get sends GET url with the given headers and returns the status and
// body.
func get(t *testing.T, url string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetricsAreServedOnlyWithTheScrapeTokenOrOnTheirOwnAddress(t *testing.T) {
	_, open := MustStart(t, testConfig(t, false))
	if status, body := get(t, open.URL+"/metrics", nil); status == http.StatusOK || strings.Contains(body, "go_goroutines") {
		t.Errorf("without --metrics-token, public /metrics = %d %.200s; want it not served", status, body)
	}

	cfg := testConfig(t, false)
	cfg.MetricsToken = "scrape-0123456789abcdef"
	_, srv := MustStart(t, cfg)
	for _, h := range []http.Header{nil, {"Authorization": {"Bearer scrape-0123456789abcdeX"}}, {"Authorization": {"Bearer " + cfg.MetricsToken + "x"}},
		{"Authorization": {"Basic " + cfg.MetricsToken}}} {
		if status, body := get(t, srv.URL+"/metrics", h); status == http.StatusOK || strings.Contains(body, "go_goroutines") {
			t.Errorf("/metrics with %v = %d %.200s; want refused", h, status, body)
		}
	}
	if status, body := get(t, srv.URL+"/metrics", http.Header{"Authorization": {"Bearer " + cfg.MetricsToken}}); status != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics with the token = %d %.200s", status, body)
	}

	cfg = testConfig(t, false)
	cfg.MetricsAddr = "127.0.0.1:0"
	a, addr := serveForReal(t, cfg)
	metricsAddr, _ := a.metricsBound.Load().(string)
	if status, body := get(t, "http://"+metricsAddr+"/metrics", nil); status != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("the metrics address %s answers %d %.200s", metricsAddr, status, body)
	}
	if status, _ := get(t, "http://"+metricsAddr+"/console/login", nil); status != http.StatusNotFound {
		t.Errorf("the metrics address serves the console: %d", status)
	}
	if status, _ := get(t, "http://"+addr.String()+"/metrics", nil); status == http.StatusOK {
		t.Errorf("with --metrics-addr the public address still serves /metrics")
	}
}

// Behind a TLS-terminating proxy, the node sees the proxy's address and
// plain HTTP; with --trusted-proxies it believes the proxy's headers.
func TestBehindATrustedProxyCookiesAreSecureAndClientsKeepTheirAddress(t *testing.T) {
	cfg := testConfig(t, false)
	cfg.TrustedProxies = "127.0.0.1/32"
	cfg.TrustedProxyNets = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	cfg.SecureCookies = true // what ParseServe sets with --trusted-proxies
	cfg.LogLevel = "info"
	var logs syncBuffer
	a, err := New(context.Background(), cfg, newLogger(cfg, &logs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if _, err := a.bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptestServer(t, a)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/console/login", nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.23")
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) == 0 {
		t.Fatal("the sign-in page set no cookie")
	}
	for _, c := range resp.Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s is not Secure behind a TLS-terminating proxy", c.Name)
		}
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS for a client that came over HTTPS")
	}
	// The request log names the client, not the proxy. The middleware
	// writes the line after the handler returns, so the client may hold
	// the response before the line is in the log.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), `"remote":"198.51.100.23"`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if log := logs.String(); !strings.Contains(log, `"remote":"198.51.100.23"`) || strings.Contains(log, `"remote":"127.0.0.1"`) {
		t.Errorf("the request log does not name the client behind the proxy:\n%s", log)
	}
}

// serveForReal builds the node for cfg and runs Serve, on the configured
// address, until the test ends; it returns the node and the address it
// listens on.
func serveForReal(t *testing.T, cfg config.Config) (*App, net.Addr) {
	t.Helper()
	a, err := New(context.Background(), cfg, newLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, func(addr net.Addr) { addrc <- addr }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case addr := <-addrc:
		return a, addr
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	return nil, nil
}
