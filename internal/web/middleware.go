package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies middleware so the first listed runs first.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

type requestIDKey struct{}

// routeKey holds a *string in which the Router records the pattern that
// matched: middleware between Observe and the Router hands on copies of
// the request (r.WithContext), so Observe never sees r.Pattern set.
type routeKey struct{}

// RequestID returns the request's id, or "" outside a request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Observe gives each request an id (X-Request-Id, kept from the client
// when well-formed), a logger carrying it, a JSON log line when it ends,
// Prometheus counts and latency by route pattern and status, and turns a
// panic into a 500 problem without leaking the stack to the client.
func Observe(log *slog.Logger, m *Metrics) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get("X-Request-Id")
			if !validRequestID(id) {
				var b [8]byte
				rand.Read(b[:])
				id = hex.EncodeToString(b[:])
			}
			rl := log.With("request_id", id)
			ctx := context.WithValue(r.Context(), requestIDKey{}, id)
			ctx = context.WithValue(ctx, loggerKey{}, rl)
			var pattern string
			ctx = context.WithValue(ctx, routeKey{}, &pattern)
			r = r.WithContext(ctx)
			w.Header().Set("X-Request-Id", id)
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					rl.Error("panic serving request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
					if sw.status == 0 {
						Error(sw, r, fmt.Errorf("panic: %v", v))
					}
				}
				if pattern == "" {
					pattern = "unmatched"
				}
				if sw.status == 0 {
					sw.status = http.StatusOK // the handler wrote nothing: net/http sends 200
				}
				elapsed := time.Since(start)
				if m != nil {
					code := strconv.Itoa(sw.status)
					m.requests.WithLabelValues(pattern, code).Inc()
					m.latency.WithLabelValues(pattern).Observe(elapsed.Seconds())
				}
				level := slog.LevelInfo
				if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" || strings.HasPrefix(r.URL.Path, StaticPrefix) {
					level = slog.LevelDebug
				}
				// The route's pattern, never the path or the query: a path
				// may hold an identity number or a dossier code
				// (/exchange/v1/…/citizens/{id}), and logs are kept and
				// shipped where personal data must not go.
				rl.Log(r.Context(), level, "request", "method", r.Method, "route", pattern,
					"status", sw.status, "bytes", sw.bytes, "duration_ms", float64(elapsed.Microseconds())/1000,
					"remote", ClientAddr(r))
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// Metrics holds the HTTP collectors.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the HTTP collectors in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chancery_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "chancery_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// SecureHeaders sets the security headers every response carries: a CSP
// that allows no inline script or style, frame denial, no sniffing, and
// HSTS when the client came over TLS (here or at a trusted proxy).
func SecureHeaders(next http.Handler) http.Handler {
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if IsHTTPS(r) {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// LimitBody caps every request body at limit bytes; routes that take
// uploads raise it for themselves with http.MaxBytesReader.
func LimitBody(limit int64) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				Error(w, r, fmt.Errorf("%w: the body is %d bytes, over the limit of %d", errTooLarge, r.ContentLength, limit))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			next.ServeHTTP(w, r)
		})
	}
}

// Authenticate resolves the request's principal with authn and stores it
// in the context. A request with an invalid credential is refused; one
// with none goes on as anonymous. Static assets are the same for everyone
// and public, so they skip authn: a page's stylesheet and script would
// otherwise each cost a session lookup in the database.
func Authenticate(authn func(*http.Request) (Principal, error)) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, StaticPrefix) {
				next.ServeHTTP(w, r)
				return
			}
			p, err := authn(r)
			if err != nil {
				Error(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

// CSRFCookie names the double-submit cookie; CSRFField names the form
// field and CSRFHeader the header (for htmx) that must repeat it.
const (
	CSRFCookie = "chancery_csrf"
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

type csrfKey struct{}

// CSRFToken returns the token that forms on this request's page must
// carry in the CSRFField.
func CSRFToken(ctx context.Context) string {
	t, _ := ctx.Value(csrfKey{}).(string)
	return t
}

// CSRF protects state-changing requests made with ambient browser
// credentials. Two independent checks:
//   - the browser's own fetch metadata (http.CrossOriginProtection refuses
//     cross-origin unsafe requests), and
//   - a token every form and htmx request repeats. For a signed-in
//     browser it is the one bound to its session (Principal.CSRF), so a
//     token from another session, or one planted in the browser before
//     sign-in, is refused; before sign-in it is the value of the
//     CSRFCookie (double submit).
//
// Requests authenticated with a bearer token carry no ambient authority
// and are exempt; so are JSON requests and API requests that carry no
// session cookie (API clients signing in, callers with no credential at
// all, whom the route's guard answers 401), which a cross-site form
// cannot turn into anyone's authority.
func CSRF(sessionCookie string) Middleware {
	cop := http.NewCrossOriginProtection()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := PrincipalFrom(r.Context())
			token := p.CSRF
			if token == "" {
				token = preSessionToken(w, r)
			}
			r = r.WithContext(context.WithValue(r.Context(), csrfKey{}, token))
			if safeMethod(r.Method) || p.Bearer {
				next.ServeHTTP(w, r)
				return
			}
			if err := cop.Check(r); err != nil {
				Error(w, r, errCSRF)
				return
			}
			_, noSession := r.Cookie(sessionCookie)
			isJSON := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
			if noSession != nil && (isJSON || IsAPI(r)) {
				next.ServeHTTP(w, r)
				return
			}
			sent := r.Header.Get(CSRFHeader)
			if sent == "" {
				sent, r = formToken(r)
			}
			if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
				Error(w, r, errCSRF)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// preSessionToken returns the anti-forgery token of a browser without a
// session: its CSRFCookie, or a new one set now.
func preSessionToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(CSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	var b [32]byte
	rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: CookieSecure(r), SameSite: http.SameSiteLaxMode})
	return token
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
