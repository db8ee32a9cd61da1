package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddressAndSchemeAreBelievedOnlyFromTrustedProxies(t *testing.T) {
	proxies := Transport{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}
	tests := []struct {
		name   string
		t      Transport
		peer   string
		header http.Header
		addr   string
		https  bool
	}{
		{"no proxies configured: headers ignored", Transport{}, "203.0.113.9:5000",
			http.Header{"X-Forwarded-For": {"198.51.100.1"}, "X-Forwarded-Proto": {"https"}}, "203.0.113.9", false},
		{"an untrusted peer forges headers", proxies, "203.0.113.9:5000",
			http.Header{"X-Forwarded-For": {"198.51.100.1"}, "X-Forwarded-Proto": {"https"}, "Forwarded": {"for=198.51.100.1;proto=https"}}, "203.0.113.9", false},
		{"one trusted proxy", proxies, "10.0.0.2:40000",
			http.Header{"X-Forwarded-For": {"198.51.100.1"}, "X-Forwarded-Proto": {"https"}}, "198.51.100.1", true},
		{"a client's forged entry is left of the real one", proxies, "10.0.0.2:40000",
			http.Header{"X-Forwarded-For": {"1.2.3.4, 198.51.100.1"}, "X-Forwarded-Proto": {"https"}}, "198.51.100.1", true},
		{"trusted hops are skipped right to left", proxies, "10.0.0.2:40000",
			http.Header{"X-Forwarded-For": {"1.2.3.4, 198.51.100.1", "10.9.9.9"}, "X-Forwarded-Proto": {"http, https, https"}}, "198.51.100.1", true},
		{"a proxy that reached us by http", proxies, "10.0.0.2:40000",
			http.Header{"X-Forwarded-For": {"198.51.100.1"}, "X-Forwarded-Proto": {"http"}}, "198.51.100.1", false},
		{"Forwarded wins, with IPv6 and ports", proxies, "[fd00::1]:443",
			http.Header{"Forwarded": {`for="[2001:db8::7]:1234";proto=https, for=10.3.3.3;proto=http`}, "X-Forwarded-For": {"9.9.9.9"}}, "2001:db8::7", true},
		{"an unreadable hop stops at the last trusted proxy", proxies, "10.0.0.2:40000",
			http.Header{"X-Forwarded-For": {"1.2.3.4, unknown, 10.7.7.7"}}, "10.7.7.7", false},
		{"a trusted proxy that says nothing", proxies, "10.0.0.2:40000", http.Header{}, "10.0.0.2", false},
		{"IPv4 in IPv6 from a trusted proxy", proxies, "[::ffff:10.0.0.2]:40000",
			http.Header{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addr string
			var https, secure bool
			h := Forwarding(tt.t)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				addr, https, secure = ClientAddr(r), IsHTTPS(r), CookieSecure(r)
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for k, v := range tt.header {
				r.Header[k] = v
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if addr != tt.addr || https != tt.https || secure != tt.https {
				t.Errorf("client %s https %v secure cookies %v; want %s %v %v", addr, https, secure, tt.addr, tt.https, tt.https)
			}
		})
	}
}

func TestSecureCookiesSwitchMarksEveryCookieSecure(t *testing.T) {
	h := Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetLangCookie(w, r, "en")
	}), Forwarding(Transport{SecureCookies: true}), SecureHeaders, CSRF("session"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "http://chancery.example/", nil))
	cookies := w.Result().Cookies()
	if len(cookies) != 2 {
		t.Fatalf("cookies %v, want the CSRF and language cookies", cookies)
	}
	for _, c := range cookies {
		if !c.Secure {
			t.Errorf("cookie %s is not Secure with SecureCookies on", c.Name)
		}
	}
	// Behind a trusted proxy that terminated TLS, HSTS is sent too.
	h = Chain(http.NotFoundHandler(), Forwarding(Transport{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}), SecureHeaders)
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:1234"
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS for a client that came over HTTPS through a trusted proxy")
	}
}
