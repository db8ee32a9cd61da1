package exchange

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestWebhooksMayNotPointAtInternalAddresses pins issue 10 item 15: a
// system could point its webhook at the node's own network (loopback,
// private ranges, the cloud metadata service) and have the node post
// there. Such a URL is refused with a clear 400 and the refusal audited,
// unless an administrator allowed the host.
func TestWebhooksMayNotPointAtInternalAddresses(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) { testWebhookTargets(t, d) })
	}
}

func testWebhookTargets(t *testing.T, d store.Dialect) {
	tn := newTestNet(t, d)
	n := tn.hq
	n.hooks.lookup = func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "intranet.example":
			return []netip.Addr{netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("10.1.2.3")}, nil
		case "public.example":
			return []netip.Addr{netip.MustParseAddr("203.0.113.7")}, nil
		}
		return nil, errors.New("no such host")
	}
	ctx := testCtx()
	for _, u := range []string{
		"http://127.0.0.1/inbox", "http://127.1.2.3:8080/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
		"http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/", "http://100.64.0.1/",
		"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://[fc00::1]/", "http://[fd12:3456::1]/",
		"http://0.0.0.0/", "http://[::]/", "http://224.0.0.1/", "http://[ff02::1]/", "http://255.255.255.255/",
		"http://intranet.example/inbox", // one of its addresses is private
	} {
		t.Run(u, func(t *testing.T) {
			_, err := n.SetWebhook(ctx, procedures, u)
			var fe *errs.FieldError
			if !errors.Is(err, ErrInternalWebhook) || !errors.As(err, &fe) || fe.Field != "url" {
				t.Errorf("SetWebhook(%s) = %v, want an invalid url wrapping ErrInternalWebhook", u, err)
			}
		})
	}
	if _, err := n.SetWebhook(ctx, procedures, "http://nowhere.example/"); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("a host that does not resolve: %v, want invalid", err)
	}
	if _, err := n.SetWebhook(ctx, procedures, "https://user:pw@public.example/"); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("a URL with credentials: %v, want invalid", err)
	}
	for _, u := range []string{"https://public.example/inbox", "http://203.0.113.9:8443/x"} {
		if _, err := n.SetWebhook(ctx, procedures, u); err != nil {
			t.Errorf("SetWebhook(%s) = %v, want it set", u, err)
		}
	}

	// An administrator allows a host, by itself or with its port.
	n.AllowWebhookHosts("127.0.0.1:9999", "Intranet.Example")
	for _, u := range []string{"http://127.0.0.1:9999/inbox", "https://intranet.example/inbox"} {
		if _, err := n.SetWebhook(ctx, procedures, u); err != nil {
			t.Errorf("SetWebhook(%s) of an allowed host = %v", u, err)
		}
	}
	if _, err := n.SetWebhook(ctx, procedures, "http://127.0.0.1:9998/"); !errors.Is(err, ErrInternalWebhook) {
		t.Errorf("another port of an allowed host: %v, want refused", err)
	}

	if _, err := n.ledger.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
	denied, err := n.ledger.Search(ctx, audit.Query{Action: "exchange.webhook.set", Outcome: audit.Denied, Limit: audit.MaxSearchLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(denied) != 20 { // the 18 above, the host that does not resolve and the other port
		t.Errorf("%d audited refusals, want 20", len(denied))
	}
	set, _ := n.ledger.Search(ctx, audit.Query{Action: "exchange.webhook.set", Outcome: audit.OK, Limit: audit.MaxSearchLimit})
	if len(set) != 4 {
		t.Errorf("%d audited changes, want 4", len(set))
	}
}

// TestWebhookDialsCheckTheResolvedAddress pins the second half of the
// rule: a name that resolved to a public address when the webhook was set
// may resolve to an internal one when the node posts (DNS rebinding), so
// the dialer checks the address it connects to, every time.
func TestWebhookDialsCheckTheResolvedAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	g := newWebhookGuard(nil)
	// "localhost" stands for a rebound name: its address is loopback.
	target := "http://localhost:" + u.Port() + "/inbox"
	resp, err := g.client().Post(target, "text/plain", nil)
	if err == nil {
		resp.Body.Close()
		t.Fatal("the webhook client connected to a loopback address")
	}
	if !errors.Is(err, ErrInternalWebhook) {
		t.Errorf("dial error %v, want ErrInternalWebhook", err)
	}
	for _, addr := range []string{"169.254.169.254:80", "[::1]:443", "10.0.0.8:8080", "[::ffff:192.168.0.1]:80"} {
		if err := control("tcp", addr, nil); !errors.Is(err, ErrInternalWebhook) {
			t.Errorf("control(%s) = %v, want refused", addr, err)
		}
	}
	if err := control("tcp", "203.0.113.7:443", nil); err != nil {
		t.Errorf("control of a public address = %v", err)
	}
	g.add("localhost:" + u.Port())
	resp, err = g.client().Post(target, "text/plain", nil)
	if err != nil {
		t.Fatalf("an allowed host: %v", err)
	}
	resp.Body.Close()
}
