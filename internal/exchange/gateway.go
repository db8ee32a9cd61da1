package exchange

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
)

// The synchronous gateway: X-Road's core job. An information system calls
// a REST service through its own node; the node seals the HTTP request
// into a request envelope under its session with the provider's node and
// sends it with a NATS request to "chx.req.<provider node>"; the provider's
// node opens it, checks it against the global configuration, calls the
// service's backend and seals the backend's answer back. Both nodes log
// both envelopes (digest and sealed body) in their message logs, which the
// log signer then signs in batches: public-key work stays off the request
// path (DESIGN.md §8).
//
// Nothing on the request path waits for the database: a replayed frame
// is refused by the session's anti-replay window (replayWindow), client
// tokens are cached for a moment (tokenCache), and the log rows are
// written behind the answers, many requests to a transaction
// (msglog.go logWriter). The one cost of that is a crash window: the rows of
// the last syncLogInterval (100 ms) before a crash may be lost, although
// their answers were sent. A node that stops in order loses nothing.

// Defaults and bounds of the synchronous gateway.
const (
	// DefaultCallTimeout bounds a call whose context has no deadline, and
	// is the longest a client may ask for.
	DefaultCallTimeout = 30 * time.Second

	// requestSubjectPrefix starts the subject a node answers requests on;
	// the node id follows.
	requestSubjectPrefix = "chx.req."
	// requestQueue is the queue group of the subscribers, so that the
	// replicas of one node share its requests.
	requestQueue = "chancery"
	// requestSkew is how far a request's time may be from the
	// provider's clock.
	requestSkew = 2 * time.Minute
	// gatewayWorkers bounds the requests a node answers at once; most of
	// their time is spent waiting for backends.
	gatewayWorkers = 64
	// gatewayBacklog bounds the requests waiting for a worker; past it
	// NATS drops requests (their callers time out) rather than let
	// memory grow.
	gatewayBacklog = 1024
	// frameReserve is the room left in one NATS message for what is not
	// the body: the session header (about 1.2 KB), the envelope header,
	// the HTTP headers and the encryption overhead.
	frameReserve = 64 << 10
	// maxHTTPHeaders bounds the header fields an encoded request or
	// response carries.
	maxHTTPHeaders = 64
	// backendMargin is kept from the caller's time budget so that the
	// provider's answer (a timeout included) reaches the caller before
	// the caller gives up.
	backendMargin = 250 * time.Millisecond
)

// Content types of the payloads of request and response envelopes.
const (
	requestContentType  = "application/vnd.chancery.http-request.v1"
	responseContentType = "application/vnd.chancery.http-response.v1"
)

// Errors of synchronous calls that are not refusals.
var (
	// ErrProviderUnreachable is returned when no node answers on the
	// provider's subject: the provider's node is down, or the link
	// between the nodes is.
	ErrProviderUnreachable = fmt.Errorf("exchange: the provider's node is unreachable; synchronous services need the link "+
		"(try again when it is back, or use an asynchronous service): %w", errs.ErrUnavailable)
	// ErrGatewayTimeout is wrapped by the error of a call that did not
	// complete in time.
	ErrGatewayTimeout = fmt.Errorf("exchange: the call: %w", errs.ErrTimeout)
	// ErrBadGateway is wrapped by the error of a call whose backend
	// could not be reached or failed to answer properly.
	ErrBadGateway = fmt.Errorf("exchange: the provider's backend failed: %w", errs.ErrBadGateway)
)

// The HTTP header fields that cross the gateway; every other field stays
// behind, so that neither side learns the other's cookies, credentials or
// internal addresses.
var (
	requestHeaders  = []string{"Content-Type", "Accept", "Accept-Language", HeaderUserID, HeaderIssue}
	responseHeaders = []string{"Content-Type", "Content-Language", "Content-Disposition", "Cache-Control", "ETag", "Last-Modified"}
)

// Header fields a caller sets to say who asked and why, as X-Road's
// X-Road-UserId and X-Road-Issue: the end user on whose behalf a system
// calls (a citizen's or a clerk's account) and the purpose or case of the
// call. The exchange carries both to the provider's backend, inside the
// sealed request that both nodes keep in their message logs, so the
// provider's own log knows who asked for its data and why. The names are
// in Go's canonical form (X-Road writes X-Road-UserId; field names are
// case-insensitive), as the lists of fields that cross the gateway are.
const (
	HeaderUserID = "X-Road-Userid"
	HeaderIssue  = "X-Road-Issue"
)

// Header fields the provider's node adds to the backend request.
const (
	// HeaderClient carries the calling subsystem's id to the backend.
	HeaderClient = "X-Chancery-Client"
	// HeaderMessageID carries the request envelope's id, to the backend
	// and back to the calling system.
	HeaderMessageID = "X-Chancery-Message-Id"
)

// Request is an HTTP request to a REST service.
type Request struct {
	Service ServiceID
	// Method is the HTTP method; Path the path below the service's
	// backend URL, starting with "/"; RawQuery the query without '?'.
	Method, Path, RawQuery string
	// Header holds the client's header fields; only Content-Type,
	// Accept and Accept-Language are passed on.
	Header http.Header
	Body   []byte
	// Level is the classification of the request and its answer.
	Level authz.Level
}

// Response is the backend's answer to a Request.
type Response struct {
	// MessageID is the id of the request envelope and of its response.
	MessageID string
	Status    int
	// Header holds the backend's header fields that cross the gateway.
	Header http.Header
	Body   []byte
}

// requestSubject returns the subject node answers requests on.
func requestSubject(node string) string { return requestSubjectPrefix + node }

// syncBodyLimit returns the largest request or response body one frame
// carries: the configuration's message limit, capped by what fits in one
// NATS message.
func (n *Node) syncBodyLimit(conf *GlobalConf) int64 {
	limit := conf.MaxMessageBytes
	if n.bus != nil {
		if fit := n.bus.Conn().MaxPayload() - frameReserve; fit > 0 && (limit <= 0 || fit < limit) {
			limit = fit
		}
	}
	return limit
}

// gatewayMethod reports whether m is a method the gateway passes on.
func gatewayMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// checkBackendPath refuses a backend path that could climb out of the service's
// base URL.
func checkBackendPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return errs.Invalid("path", fmt.Sprintf("backend path %q must start with '/'", p))
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == ".." || seg == "." {
			return errs.Invalid("path", fmt.Sprintf("backend path %q must not hold '.' or '..' segments", p))
		}
	}
	return nil
}

// checkLevel refuses a request classified above what the service takes or
// the calling subsystem is cleared for (the answer comes back at the
// request's level).
func checkLevel(conf *GlobalConf, client ClientID, svc *Service, level authz.Level) error {
	if !level.Valid() {
		return refuse(ReasonMalformed, fmt.Sprintf("unknown classification level %d", level))
	}
	if level > svc.MaxLevel {
		return refuse(ReasonClearance, fmt.Sprintf("the request is classified %s, above the %s that %s takes", level, svc.MaxLevel, svc.ID))
	}
	if sub, ok := conf.Subsystem(client); !ok || level > sub.Clearance {
		return refuse(ReasonClearance, fmt.Sprintf("the request is classified %s, above the clearance of subsystem %s", level, client))
	}
	return nil
}

// recordRefusal records a refusal in the node's log and its audit ledger.
func (n *Node) recordRefusal(ctx context.Context, re *RefusedError, peer, msgID string, sender ClientID, service ServiceID) {
	n.log.Warn("exchange: request refused", "reason", string(re.Reason), "detail", re.Detail, "peer", peer,
		"id", msgID, "sender", sender.String(), "service", service.String())
	if n.ledger == nil {
		return
	}
	ev := audit.Event{Actor: audit.System("exchange"), Action: "exchange.request.refused", ResourceType: "exchange_request",
		ResourceID: msgID, Outcome: audit.Denied, Reason: cutText(string(re.Reason)+": "+re.Detail, 1024),
		Attrs: map[string]string{"node": n.id}}
	if peer != "" {
		ev.Attrs["peer"] = cutText(peer, 256)
	}
	if sender != (ClientID{}) {
		ev.Attrs["sender"] = cutText(sender.String(), 256)
	}
	if service != (ServiceID{}) {
		ev.Attrs["service"] = cutText(service.String(), 256)
	}
	if _, err := n.ledger.Append(context.WithoutCancel(ctx), ev); err != nil {
		n.log.Error("exchange: record a refused request in the audit ledger", "err", err)
	}
}

// cutText cuts s to at most max bytes, on a rune boundary.
func cutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && s[max]&0xC0 == 0x80 {
		max--
	}
	return s[:max]
}

// gatewayState is what the gateway keeps for one node: the HTTP client of
// the backends, with its pool of kept-alive connections, and the
// client-token cache. (The message log's write-behind is the node's
// msglog.)
type gatewayState struct {
	backend *http.Client
	tokens  *tokenCache
}

func newGatewayState(n *Node) *gatewayState {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   gatewayWorkers,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// The backend's answer goes back as it came.
		DisableCompression: true,
	}
	return &gatewayState{
		backend: &http.Client{
			Transport: transport,
			// A redirect is the backend's answer to pass on, not to
			// follow: it may point anywhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		tokens: newTokenCache(),
	}
}

// gateway returns the node's gateway state.
func (n *Node) gateway() *gatewayState { return n.gw }
