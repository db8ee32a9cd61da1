package exchange

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"chancery/internal/audit"
	"chancery/internal/errs"
)

// A webhook is a URL an information system gives the node, which the node
// then POSTs to from inside the ministry's network: pointed at a loopback,
// private or link-local address (a cloud's metadata service at
// 169.254.169.254, an internal admin page), it would make the node a
// proxy into places the system cannot reach itself (server-side request
// forgery). So a webhook must resolve to public addresses only, checked
// when it is set and again on every connection (the name may resolve to
// another address by then: DNS rebinding), unless an administrator
// allowed its host (--webhook-allow; the demo allows its own simulators).

// ErrInternalWebhook is returned (wrapped, with errs.ErrInvalid) for a
// webhook URL whose host resolves to an internal address.
var ErrInternalWebhook = errors.New("exchange: the webhook's host resolves to an internal address")

// internalPrefixes are the IPv4 ranges internalAddr refuses beyond what
// netip.Addr's predicates name: "this network" and carrier-grade NAT's
// shared address space, both unreachable from the public Internet.
var internalPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("255.255.255.255/32"),
}

// internalAddr reports whether ip is an address a webhook may not reach:
// loopback, private (RFC 1918, IPv6 unique local fc00::/7), link-local
// (169.254.0.0/16 with the metadata services, fe80::/10), unspecified,
// multicast, and the ranges of internalPrefixes, IPv4-mapped IPv6 included.
func internalAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range internalPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// webhookGuard decides where webhooks may point, and dials them.
type webhookGuard struct {
	mu    sync.RWMutex
	allow map[string]bool // lower-case "host" or "host:port"; guarded by mu
	// lookup resolves a host name; net.DefaultResolver's in production.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

func newWebhookGuard(allow []string) *webhookGuard {
	g := &webhookGuard{allow: map[string]bool{}, lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}}
	g.add(allow...)
	return g
}

func (g *webhookGuard) add(hosts ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, h := range hosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			g.allow[h] = true
		}
	}
}

// allowed reports whether an administrator allowed hostport ("host:port"),
// by its host alone or with its port.
func (g *webhookGuard) allowed(hostport string) bool {
	hostport = strings.ToLower(hostport)
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.allow[hostport] || g.allow[host] || g.allow["["+host+"]"]
}

// check refuses a webhook URL u whose host is, or resolves to, an
// internal address, unless the host is allowed.
func (g *webhookGuard) check(ctx context.Context, u *url.URL) error {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if g.allowed(net.JoinHostPort(u.Hostname(), port)) {
		return nil
	}
	host := u.Hostname()
	addrs := []netip.Addr{}
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = append(addrs, ip)
	} else {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if addrs, err = g.lookup(ctx, host); err != nil {
			return errs.Invalid("url", fmt.Sprintf("the webhook's host %q does not resolve (%v); give a host name the node can look up", host, err))
		}
	}
	for _, ip := range addrs {
		if internalAddr(ip) {
			return fmt.Errorf("%w: %w", errs.Invalid("url", fmt.Sprintf("the webhook's host %q resolves to %s, an internal address (loopback, private, link-local, "+
				"multicast or unspecified) the node may not post to; give a public address, or ask an administrator to allow the host (--webhook-allow)", host, ip)), ErrInternalWebhook)
		}
	}
	return nil
}

// control is the dialer's check of the address it is about to connect
// to, after name resolution: a host that resolved to a public address
// when the webhook was set and to an internal one now is refused.
func control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot read the address %q", ErrInternalWebhook, address)
	}
	if internalAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrInternalWebhook, ap.Addr())
	}
	return nil
}

// dialContext dials a webhook's host: with control's check unless the
// host is allowed.
func (g *webhookGuard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: webhookTimeout}
	if !g.allowed(addr) {
		d.Control = control
	}
	return d.DialContext(ctx, network, addr)
}

// client returns the HTTP client that posts to webhooks: no proxy from
// the environment (it would dial on the guard's behalf), no redirects
// (a redirect could lead anywhere), connections through dialContext.
func (g *webhookGuard) client() *http.Client {
	return &http.Client{
		Timeout:       webhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			Proxy: nil, DialContext: g.dialContext, ForceAttemptHTTP2: true,
			MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second,
		},
	}
}

// AllowWebhookHosts lets webhooks point at hosts ("host" or "host:port")
// even when they resolve to internal addresses. The server allows the
// hosts of --webhook-allow; the demo allows its simulators on loopback.
func (n *Node) AllowWebhookHosts(hosts ...string) { n.hooks.add(hosts...) }

// recordWebhook records a change of client's webhook, or its refusal, in
// the audit ledger, by the client's member with the request's id.
func (n *Node) recordWebhook(ctx context.Context, client ClientID, action string, outcome audit.Outcome, reason, host string) {
	if n.ledger == nil {
		return
	}
	o, _ := audit.OriginFrom(ctx)
	ev := audit.Event{Actor: audit.Member(client.Member, client.String()), Action: action, ResourceType: "exchange_webhook",
		ResourceID: cutText(client.String(), 256), Outcome: outcome, Reason: cutText(reason, 1024), RequestID: o.RequestID,
		Attrs: map[string]string{"node": n.id}}
	if host != "" {
		ev.Attrs["host"] = cutText(host, 256)
	}
	if _, err := n.ledger.Append(context.WithoutCancel(ctx), ev); err != nil {
		n.log.Error("exchange: record a webhook change in the audit ledger", "err", err)
	}
}
