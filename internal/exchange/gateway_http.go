package exchange

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// The HTTP side of the synchronous gateway. An information system calls
//
//	ANY /exchange/v1/{service id}/{path…}
//
// on its own node with its client token, and gets the backend's answer:
// status, the header fields that cross the gateway, the body, and
// X-Chancery-Message-Id, the id under which both nodes logged the call.
// The request may carry HeaderLevel and HeaderTimeout. Errors are problem+json documents whose code says what
// happened.

// GatewayPath is where the gateway's route starts.
const GatewayPath = "/exchange/v1/"

// Request header fields the gateway reads.
const (
	// HeaderLevel is the classification of a request (none,
	// confidential, secret, top_secret, or 0–3); if absent, none.
	HeaderLevel = "X-Chancery-Level"
	// HeaderTimeout shortens the call's time limit, in seconds (such as
	// "2.5"), up to DefaultCallTimeout.
	HeaderTimeout = "X-Chancery-Timeout"
)

// registerGateway registers the gateway's route, for information
// systems: a call to a service is a request message the client sends.
func registerGateway(rt *web.Router, h *Handler) {
	rt.Handle(GatewayPath+"{rest...}", web.Client(authz.KindMessage, authz.Create), &gatewayHandler{n: h.n})
}

// gatewayHandler serves the gateway's route for one node.
type gatewayHandler struct{ n *Node }

// bodyBuffers recycles request body buffers: Call keeps no reference to
// the body once it returns.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (g *gatewayHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	client, err := clientOf(r)
	if err != nil {
		gatewayError(w, r, err)
		return
	}
	conf, err := g.n.Conf()
	if err != nil {
		gatewayError(w, r, err)
		return
	}
	svc, path, err := resolveService(conf, r.PathValue("rest"))
	if err != nil {
		gatewayError(w, r, err)
		return
	}
	req := &Request{Service: svc, Method: r.Method, Path: path, RawQuery: r.URL.RawQuery, Header: r.Header}
	if !gatewayMethod(r.Method) {
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
		gatewayProblem(w, r, http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("method %s cannot be passed to a service; use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS", r.Method))
		return
	}
	if v := r.Header.Get(HeaderLevel); v != "" {
		if req.Level, err = authz.ParseLevel(v); err != nil {
			gatewayError(w, r, errs.Invalid("level", fmt.Sprintf("%s: %v", HeaderLevel, err)))
			return
		}
	}
	timeout := DefaultCallTimeout
	if v := r.Header.Get(HeaderTimeout); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || !(s > 0) || s > DefaultCallTimeout.Seconds() {
			gatewayError(w, r, errs.Invalid("timeout", fmt.Sprintf("%s must be a number of seconds above 0 and at most %g, not %q",
				HeaderTimeout, DefaultCallTimeout.Seconds(), v)))
			return
		}
		timeout = time.Duration(s * float64(time.Second))
	}

	limit := g.n.syncBodyLimit(conf)
	if r.ContentLength > limit {
		gatewayError(w, r, bodyTooLarge(limit))
		return
	}
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer func() {
		// A buffer grown for a large body is left to the collector, so
		// the pool holds only small ones.
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			bodyBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			gatewayError(w, r, bodyTooLarge(limit))
			return
		}
		gatewayError(w, r, errs.Invalid("body", "the request body could not be read: "+err.Error()))
		return
	}
	req.Body = buf.Bytes()

	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := g.n.Call(cctx, client, req)
	if err != nil {
		gatewayError(w, r, err)
		return
	}
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	h.Set(HeaderMessageID, resp.MessageID)
	noBody := resp.Status < 200 || resp.Status == http.StatusNoContent || resp.Status == http.StatusNotModified
	if !noBody {
		h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	}
	w.WriteHeader(resp.Status)
	if !noBody && r.Method != http.MethodHead {
		w.Write(resp.Body) //nolint:errcheck // the client went away
	}
}

func bodyTooLarge(limit int64) error {
	return refuse(ReasonTooLarge, fmt.Sprintf("the request body is over the %d-byte limit of synchronous calls (send larger data as an asynchronous message)", limit))
}

// resolveService splits the route's rest into a service id and the
// backend path. A service id has five or six segments (the version is
// optional): the six-segment reading wins when the configuration has such
// a service. It returns a refusal naming the id when neither exists.
func resolveService(conf *GlobalConf, rest string) (ServiceID, string, error) {
	segs := strings.Split(rest, "/")
	tryID := func(k int) (ServiceID, bool) {
		if len(segs) < k {
			return ServiceID{}, false
		}
		id, err := ParseServiceID(strings.Join(segs[:k], "/"))
		if err != nil {
			return ServiceID{}, false
		}
		_, ok := conf.Service(id)
		return id, ok
	}
	for _, k := range []int{6, 5} {
		if id, ok := tryID(k); ok {
			path := "/" + strings.Join(segs[k:], "/")
			if err := checkBackendPath(path); err != nil {
				return ServiceID{}, "", err
			}
			return id, path, nil
		}
	}
	what := "no service " + strings.Join(segs[:min(len(segs), 5)], "/")
	if len(segs) > 5 {
		what = "neither service " + strings.Join(segs[:6], "/") + " nor " + strings.Join(segs[:5], "/")
	}
	return ServiceID{}, "", refuse(ReasonUnknownService, "the global configuration lists "+what+
		" (a service id is instance/class/member/subsystem/service[/version]; see the service catalogue)")
}

// gatewayError writes err as a problem document, with the status of
// web's one table (web.Status) and a code for the gateway's clients.
// Unlike the console's API, the gateway names what it did not find: the
// service catalogue is no secret.
func gatewayError(w http.ResponseWriter, r *http.Request, err error) {
	status := web.Status(err)
	detail := err.Error()
	var re *RefusedError
	if errors.As(err, &re) {
		detail = re.Detail
	}
	if status == http.StatusInternalServerError {
		web.Logger(r.Context()).Error("exchange gateway: internal error", "err", err)
		detail = "Something went wrong on this node. Quote the request id when you report it."
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="chancery-exchange"`)
	}
	gatewayProblem(w, r, status, gatewayCode(err, status), detail)
}

func gatewayProblem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	web.Problem(w, r, web.ProblemDetails{Status: status, Code: code, Detail: detail})
}

// gatewayCode names err for the gateway's clients in snake_case, as
// every problem code is: a refusal by its reason, a missing or stale configuration and an unreachable provider
// by name, anything else by its status.
func gatewayCode(err error, status int) string {
	var re *RefusedError
	switch {
	case errors.As(err, &re):
		// Problem codes are snake_case everywhere; the reasons keep
		// their kebab-case names on the wire and in the message log.
		return strings.ReplaceAll(string(re.Reason), "-", "_")
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, ErrConfExpired):
		return "conf_expired"
	case errors.Is(err, ErrNoConf):
		return "no_conf"
	case errors.Is(err, ErrProviderUnreachable):
		return "provider_unreachable"
	}
	switch status {
	case http.StatusGatewayTimeout:
		return "timeout"
	case http.StatusBadGateway:
		return "backend_failed"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	}
	return "internal"
}
