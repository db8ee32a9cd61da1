package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Transport is how requests reach the node: directly, or through reverse
// proxies (load balancers, TLS terminators) whose forwarding headers may
// be believed.
type Transport struct {
	// TrustedProxies are the networks of the proxies in front of the
	// node. Only a request whose peer is in one of them has its
	// Forwarded, X-Forwarded-For and X-Forwarded-Proto headers read; from
	// anyone else they are ignored, since anyone can write them. If
	// empty, the peer is the client.
	TrustedProxies []netip.Prefix
	// SecureCookies marks every cookie Secure, whatever the request's
	// scheme looks like: for a deployment reached over HTTPS only. If
	// false, a cookie is Secure when its request came over TLS, here or
	// (as a trusted proxy says) at the proxy.
	SecureCookies bool
}

// client is what Forwarding learned of a request's client.
type client struct {
	addr          string
	https         bool
	secureCookies bool
}

type clientKey struct{}

// Forwarding resolves each request's client address and scheme as t says
// (see ClientAddr, IsHTTPS and CookieSecure). It goes first, before
// Observe, so that the request log shows the client, not the proxy.
func Forwarding(t Transport) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			addr, https := t.resolve(r)
			c := client{addr: addr, https: https, secureCookies: t.SecureCookies}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)))
		})
	}
}

// trusts reports whether a is the address of a trusted proxy.
func (t Transport) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// hop is one address a proxy reported, with the scheme the request
// reached that proxy by ("" when not said).
type hop struct {
	addr  netip.Addr
	proto string
}

// resolve returns r's client address and whether the client used HTTPS.
// The hops the proxies reported are read right to left, from the proxy
// nearest the node: each trusted hop is skipped, and the first one not
// trusted is the client. A hop that cannot be read ("unknown", an
// obfuscated name) stops the walk at the last trusted proxy, which is then
// taken as the client: nothing before it can be believed.
func (t Transport) resolve(r *http.Request) (string, bool) {
	peer := peerAddr(r)
	https := r.TLS != nil
	ip, err := netip.ParseAddr(peer)
	if err != nil || !t.trusts(ip) {
		return peer, https
	}
	hops, ok := forwardedHops(r.Header)
	if !ok {
		hops, ok = xForwardedHops(r.Header)
	}
	if !ok {
		return peer, https
	}
	client := hop{addr: ip.Unmap(), proto: hops[len(hops)-1].proto}
	for i := len(hops) - 1; i >= 0; i-- {
		h := hops[i]
		if !h.addr.IsValid() {
			break
		}
		client = hop{addr: h.addr.Unmap(), proto: h.proto}
		if !t.trusts(h.addr) {
			break
		}
	}
	if client.proto != "" {
		https = strings.EqualFold(client.proto, "https")
	}
	return client.addr.String(), https
}

// forwardedHops reads the RFC 7239 Forwarded header: one element per hop,
// for= the address that connected to it, proto= the scheme it came by.
func forwardedHops(h http.Header) ([]hop, bool) {
	lines := h.Values("Forwarded")
	if len(lines) == 0 {
		return nil, false
	}
	var hops []hop
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			var hp hop
			for pair := range strings.SplitSeq(elem, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
				v = strings.Trim(v, `"`)
				switch strings.ToLower(k) {
				case "for":
					hp.addr = parseHopAddr(v)
				case "proto":
					hp.proto = v
				}
			}
			hops = append(hops, hp)
		}
	}
	return hops, len(hops) > 0
}

// xForwardedHops reads X-Forwarded-For and X-Forwarded-Proto. Each proxy
// appends to both; when they have as many entries, a hop's scheme is the
// entry at its place, else only the nearest proxy's (the last) is known.
func xForwardedHops(h http.Header) ([]hop, bool) {
	fors := splitList(h.Values("X-Forwarded-For"))
	if len(fors) == 0 {
		return nil, false
	}
	protos := splitList(h.Values("X-Forwarded-Proto"))
	hops := make([]hop, len(fors))
	for i, f := range fors {
		hops[i].addr = parseHopAddr(f)
		if len(protos) == len(fors) {
			hops[i].proto = protos[i]
		}
	}
	if len(protos) > 0 && len(protos) != len(fors) {
		hops[len(hops)-1].proto = protos[len(protos)-1]
	}
	return hops, true
}

// splitList splits comma-separated header values into trimmed entries.
func splitList(lines []string) []string {
	var out []string
	for _, line := range lines {
		for v := range strings.SplitSeq(line, ",") {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// parseHopAddr parses a hop's address: an IP, an IP with a port, or a
// bracketed IPv6 with or without a port. Anything else is the zero Addr.
func parseHopAddr(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr()
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a
	}
	return netip.Addr{}
}

// peerAddr returns the address of the connection's other end, without
// port.
func peerAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return strings.Trim(r.RemoteAddr, "[]")
}

// ClientAddr returns the client's IP address (without port): the peer's,
// or behind a trusted proxy the one the proxies report (see Forwarding).
func ClientAddr(r *http.Request) string {
	if c, ok := r.Context().Value(clientKey{}).(client); ok {
		return c.addr
	}
	return peerAddr(r)
}

// IsHTTPS reports whether the client reached the node over TLS: here, or
// at a trusted proxy that says so.
func IsHTTPS(r *http.Request) bool {
	if c, ok := r.Context().Value(clientKey{}).(client); ok {
		return c.https
	}
	return r.TLS != nil
}

// CookieSecure reports whether cookies set in answer to r are marked
// Secure: always with Transport.SecureCookies, else when the client came
// over HTTPS. Every cookie Chancery sets takes its Secure flag from here.
func CookieSecure(r *http.Request) bool {
	if c, ok := r.Context().Value(clientKey{}).(client); ok && c.secureCookies {
		return true
	}
	return IsHTTPS(r)
}
