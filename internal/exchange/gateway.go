package exchange

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
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
// (syncLogWriter). The one cost of that is a crash window: the rows of
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

// Call sends req to the REST service req.Service on behalf of client, a
// subsystem this node serves, and returns the backend's answer, whatever
// its status. The call ends at ctx's deadline, or after
// DefaultCallTimeout if ctx has none.
//
// A refusal, by this node or by the provider's, is a *RefusedError. Call
// returns ErrConfExpired or ErrNoConf when this node may not send, an
// error wrapping ErrProviderUnreachable when the provider's node cannot be
// reached, ErrGatewayTimeout when the call ran out of time and
// ErrBadGateway when the backend failed. Both envelopes are queued for
// the message log when Call returns an answer (see FlushLog).
func (n *Node) Call(ctx context.Context, client ClientID, req *Request) (*Response, error) {
	start := time.Now()
	resp, outcome, err := n.call(ctx, client, req)
	n.metrics.request("caller", req.Service, outcome, time.Since(start))
	return resp, err
}

func (n *Node) call(ctx context.Context, client ClientID, req *Request) (*Response, string, error) {
	conf, err := n.sendConf(ctx)
	if err != nil {
		return nil, "error", err
	}
	provider, err := n.checkCall(conf, client, req)
	if err != nil {
		var re *RefusedError
		if errors.As(err, &re) {
			n.recordRefusal(ctx, re, provider, "", client, req.Service)
			return nil, "refused", err
		}
		return nil, "error", err
	}
	if n.bus == nil {
		return nil, "error", errors.New("exchange: this node has no message bus (Attach one before calling services)")
	}
	s, err := n.session(conf, provider)
	if err != nil {
		return nil, "error", err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCallTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	e := &Envelope{Header: Header{
		ID: NewMessageID(n.now()), Type: TypeRequest, Sender: client, Recipient: req.Service.Provider(), Service: req.Service,
		Time: n.now().UTC(), Level: req.Level, ContentType: requestContentType,
	}}
	e.Payload = encodeRequest(req, time.Until(deadline))
	wire, digest := SealRequest(s, e)

	msg, err := n.bus.Conn().RequestWithContext(ctx, requestSubject(provider), wire)
	if err != nil {
		outcome, err := n.requestFailed(ctx, e, err)
		n.logCall(ctx, provider, e, digest, "failed", err.Error(), nil, nil)
		return nil, outcome, err
	}
	re, detail, sealed, err := decodeReply(msg.Data)
	if err == nil && sealed != nil {
		var reply *Envelope
		var replyDigest []byte
		if reply, replyDigest, err = OpenResponse(s, sealed); err == nil {
			if err = checkResponse(e, reply); err == nil {
				return n.finishCall(ctx, provider, e, digest, reply, replyDigest)
			}
		}
	}
	switch {
	case err != nil:
		err = fmt.Errorf("exchange: call %s: the provider's node %s sent an answer this node cannot read: %w", req.Service, provider, err)
	case re != nil:
		re.Detail = "the provider's node refused the request: " + re.Detail
		err = re
	default:
		err = fmt.Errorf("exchange: call %s: the provider's node %s could not take the request: %s: %w", req.Service, provider, detail, errs.ErrUnavailable)
	}
	n.logCall(ctx, provider, e, digest, callState(err), err.Error(), nil, nil)
	if re != nil {
		return nil, "refused", err
	}
	return nil, "error", err
}

// checkCall makes the caller's checks and returns the provider's node.
func (n *Node) checkCall(conf *GlobalConf, client ClientID, req *Request) (string, error) {
	svc, ok := conf.Service(req.Service)
	if !ok || svc.Kind != KindREST {
		return "", refuse(ReasonUnknownService, fmt.Sprintf("%s is not a REST service in the global configuration (see the service catalogue)", req.Service))
	}
	provider, _ := conf.NodeOf(svc.ID.Provider()) // index guarantees the provider's member
	if node, ok := conf.NodeOf(client); !ok || node != n.id {
		return provider, refuse(ReasonSpoofedSender, fmt.Sprintf("subsystem %s is not served by this node %s", client, n.id))
	}
	if !conf.Allowed(client, svc.ID) {
		return provider, refuse(ReasonNoRight, fmt.Sprintf("subsystem %s has no access right to %s (ask the service's owner to grant it at headquarters)", client, svc.ID))
	}
	if err := checkLevel(conf, client, svc, req.Level); err != nil {
		return provider, err
	}
	if limit := n.syncBodyLimit(conf); int64(len(req.Body)) > limit {
		return provider, refuse(ReasonTooLarge, fmt.Sprintf("the request body is %d bytes, over the %d-byte limit of synchronous calls (send larger data as an asynchronous message)", len(req.Body), limit))
	}
	if !gatewayMethod(req.Method) {
		return provider, errs.Invalid("method", fmt.Sprintf("method %q cannot be passed to a service; use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS", req.Method))
	}
	if err := checkBackendPath(req.Path); err != nil {
		return provider, err
	}
	if rv, ok := conf.Revocation(provider); ok {
		return provider, refuse(ReasonRevoked, fmt.Sprintf("the provider's node %s was revoked on %s: %s", provider, rv.At.Format(time.RFC3339), rv.Reason))
	}
	return provider, nil
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

// requestFailed turns a failed NATS request into the call's outcome and
// error.
func (n *Node) requestFailed(ctx context.Context, e *Envelope, err error) (string, error) {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return "error", fmt.Errorf("exchange: call %s: %w", e.Service, ErrProviderUnreachable)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout):
		return "timeout", fmt.Errorf("exchange: call %s: no answer from the provider's node in time: %w", e.Service, ErrGatewayTimeout)
	case ctx.Err() != nil:
		return "error", fmt.Errorf("exchange: call %s: %w", e.Service, ctx.Err())
	}
	return "error", fmt.Errorf("exchange: call %s: %w: %v", e.Service, ErrProviderUnreachable, err)
}

// checkResponse makes sure a response answers request e.
func checkResponse(e, reply *Envelope) error {
	if reply.Type != TypeResponse || reply.ID != e.ID || reply.Sender != e.Recipient || reply.Recipient != e.Sender || reply.Service != e.Service {
		return refuse(ReasonMalformed, fmt.Sprintf("the response %s does not answer request %s", reply.ID, e.ID))
	}
	return nil
}

// finishCall logs a call whose response opened and returns its result.
func (n *Node) finishCall(ctx context.Context, provider string, e *Envelope, digest []byte, reply *Envelope, replyDigest []byte) (*Response, string, error) {
	resp, err := decodeResponse(reply.Payload)
	if err != nil {
		err = fmt.Errorf("exchange: call %s: the provider's node %s sent a malformed answer: %w", e.Service, provider, err)
	} else {
		resp.MessageID = e.ID
	}
	state, reason := "answered", ""
	if err != nil {
		state, reason = callState(err), err.Error()
	}
	if lerr := n.logCall(ctx, provider, e, digest, state, reason, reply, replyDigest); lerr != nil && err == nil {
		// The caller may not have an answer the log does not hold.
		return nil, "error", lerr
	}
	switch {
	case errors.Is(err, ErrRefused):
		return nil, "refused", err
	case errors.Is(err, ErrGatewayTimeout):
		return nil, "timeout", err
	case err != nil:
		return nil, "error", err
	}
	return resp, "ok", nil
}

// callState is the log state of a request that ended with err.
func callState(err error) string {
	if errors.Is(err, ErrRefused) {
		return "refused"
	}
	return "failed"
}

// logCall queues the log rows of a call on the caller's side: the request
// as sent (out) and the response as received (in), if there was one. It
// returns an error only if a body cannot be sealed for the log: a call
// whose log rows cannot be made has still been made.
func (n *Node) logCall(ctx context.Context, provider string, e *Envelope, digest []byte, state, reason string, reply *Envelope, replyDigest []byte) error {
	ctx = context.WithoutCancel(ctx)
	rows := make([]syncLogRow, 0, 2)
	row, err := n.newSyncLogRow(ctx, "out", provider, e, digest, state, reason)
	if err != nil {
		return err
	}
	rows = append(rows, row)
	if reply != nil {
		row, err := n.newSyncLogRow(ctx, "in", provider, reply, replyDigest, "delivered", "")
		if err != nil {
			return err
		}
		row.acked = true // handed to the caller at once: not in any inbox
		rows = append(rows, row)
	}
	n.gateway().log.add(rows...)
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

// ServeRequests answers the requests that other nodes (and this one) send
// to the REST services of the subsystems this node serves, until ctx ends;
// then it stops taking requests, lets the ones under way finish, flushes
// the message log and returns nil. Replicas of one node may all run it: they share the
// requests. It returns an error if it cannot subscribe.
func (n *Node) ServeRequests(ctx context.Context) error {
	if n.bus == nil {
		return errors.New("exchange: ServeRequests needs a message bus (Attach one first)")
	}
	nc := n.bus.Conn()
	ch := make(chan *nats.Msg, gatewayBacklog)
	sub, err := nc.ChanQueueSubscribe(requestSubject(n.id), requestQueue, ch)
	if err != nil {
		return fmt.Errorf("exchange: subscribe to requests for node %s: %w", n.id, err)
	}
	if err := nc.Flush(); err != nil {
		sub.Unsubscribe() //nolint:errcheck // the connection is failing anyway
		return fmt.Errorf("exchange: subscribe to requests for node %s: %w", n.id, err)
	}
	// Requests under way finish even when ctx ends: their own deadline,
	// set by the caller's budget, bounds them.
	work := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for range gatewayWorkers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case m := <-ch:
					n.serveRequest(work, m)
				}
			}
		})
	}
	<-ctx.Done()
	err = sub.Unsubscribe()
	wg.Wait()
	if err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("exchange: stop taking requests: %w", err)
	}
	fctx, cancel := context.WithTimeout(work, syncLogTimeout)
	defer cancel()
	return n.FlushLog(fctx)
}

// serveRequest answers one request frame.
func (n *Node) serveRequest(ctx context.Context, m *nats.Msg) {
	start := time.Now()
	reply, svc, outcome := n.answer(ctx, m.Data)
	if err := m.Respond(reply); err != nil {
		n.log.Warn("exchange: send a response", "service", svc.String(), "err", err)
	}
	// A frame that did not open names no service to count it under; it
	// is in the node's log and audit ledger.
	if svc != (ServiceID{}) {
		n.metrics.request("provider", svc, outcome, time.Since(start))
	}
}

// answer opens, checks and answers a request frame, returning the reply,
// the service asked for (zero if unknown) and the outcome for the
// metrics.
func (n *Node) answer(ctx context.Context, wire []byte) ([]byte, ServiceID, string) {
	conf, err := n.Conf()
	if err != nil {
		return encodeUnavailable(err.Error()), ServiceID{}, "error"
	}
	s, e, digest, err := OpenRequest(wire, n.openSession(conf))
	var re *RefusedError
	switch {
	case err == nil:
	case !errors.As(err, &re):
		n.log.Warn("exchange: cannot take a request", "err", err)
		return encodeUnavailable(err.Error()), ServiceID{}, "error"
	case re.Reason == ReasonReplay && e != nil:
		// The frame opened under its session, so the refusal can be
		// sealed; the request's rows are those of its first delivery.
		n.recordRefusal(ctx, re, s.Sender, e.ID, e.Sender, e.Service)
		return n.reply(ctx, s, e, digest, encodeRefusalPayload(re), "", "", false), e.Service, "refused"
	default:
		peer := ""
		if s != nil {
			peer = s.Sender
		}
		n.recordRefusal(ctx, re, peer, "", ClientID{}, ServiceID{})
		return encodeRefusal(re), ServiceID{}, "refused"
	}
	req, svc, err := n.checkRequest(conf, s, e)
	if err != nil {
		if !errors.As(err, &re) {
			re = refuse(ReasonMalformed, err.Error())
		}
		n.recordRefusal(ctx, re, s.Sender, e.ID, e.Sender, e.Service)
		return n.reply(ctx, s, e, digest, encodeRefusalPayload(re), "refused", string(re.Reason)+": "+re.Detail, true), e.Service, "refused"
	}

	budget := time.Duration(req.budgetMS) * time.Millisecond
	if budget <= 0 || budget > DefaultCallTimeout {
		budget = DefaultCallTimeout
	}
	bctx, cancel := context.WithTimeout(ctx, max(budget-backendMargin, budget/2))
	defer cancel()
	resp, status, detail := n.callBackend(bctx, svc, e, &req.Request, n.syncBodyLimit(conf))
	if resp == nil {
		outcome := "error"
		if status == http.StatusGatewayTimeout {
			outcome = "timeout"
		}
		return n.reply(ctx, s, e, digest, encodeFailure(status, detail), "failed", detail, true), e.Service, outcome
	}
	return n.reply(ctx, s, e, digest, encodeResponse(resp), "answered", "", true), e.Service, "ok"
}

// checkRequest makes the provider's checks on an opened request and
// decodes its payload.
func (n *Node) checkRequest(conf *GlobalConf, s *Session, e *Envelope) (*wireRequest, *Service, error) {
	if e.Type != TypeRequest {
		return nil, nil, refuse(ReasonMalformed, fmt.Sprintf("envelope %s is not a request", e.ID))
	}
	svc, ok := conf.Service(e.Service)
	if !ok || svc.Kind != KindREST {
		return nil, nil, refuse(ReasonUnknownService, fmt.Sprintf("%s is not a REST service in the global configuration", e.Service))
	}
	if e.Recipient != svc.ID.Provider() {
		return nil, nil, refuse(ReasonWrongRecipient, fmt.Sprintf("request for %s is addressed to %s, not to the service's provider", e.Service, e.Recipient))
	}
	if node, _ := conf.NodeOf(e.Recipient); node != n.id {
		return nil, nil, refuse(ReasonWrongRecipient, fmt.Sprintf("subsystem %s is served by node %s, not by this node %s", e.Recipient, node, n.id))
	}
	if node, ok := conf.NodeOf(e.Sender); !ok || node != s.Sender {
		return nil, nil, refuse(ReasonSpoofedSender, fmt.Sprintf("node %s sent a request in the name of %s, which it does not serve", s.Sender, e.Sender))
	}
	if !conf.Allowed(e.Sender, svc.ID) {
		return nil, nil, refuse(ReasonNoRight, fmt.Sprintf("subsystem %s has no access right to %s", e.Sender, svc.ID))
	}
	if err := checkLevel(conf, e.Sender, svc, e.Level); err != nil {
		return nil, nil, err
	}
	if now := n.now(); e.Time.Before(now.Add(-requestSkew)) || e.Time.After(now.Add(requestSkew)) {
		return nil, nil, refuse(ReasonStale, fmt.Sprintf("request %s is dated %s, more than %s from this node's clock (%s)",
			e.ID, e.Time.Format(time.RFC3339), requestSkew, now.UTC().Format(time.RFC3339)))
	}
	if e.ContentType != requestContentType {
		return nil, nil, refuse(ReasonMalformed, fmt.Sprintf("request %s has content type %q, not %q", e.ID, e.ContentType, requestContentType))
	}
	req, err := decodeRequest(e.Payload)
	if err != nil {
		return nil, nil, refuse(ReasonMalformed, err.Error())
	}
	req.Service = e.Service
	req.Level = e.Level
	if limit := n.syncBodyLimit(conf); int64(len(req.Body)) > limit {
		return nil, nil, refuse(ReasonTooLarge, fmt.Sprintf("the request body is %d bytes, over the %d-byte limit", len(req.Body), limit))
	}
	if !gatewayMethod(req.Method) {
		return nil, nil, refuse(ReasonMalformed, fmt.Sprintf("method %q is not passed to services", req.Method))
	}
	if err := checkBackendPath(req.Path); err != nil {
		return nil, nil, refuse(ReasonMalformed, err.Error())
	}
	return req, svc, nil
}

// reply seals the response to e with payload and returns the reply
// frame. If log, it queues the log rows of the request, in its final
// state with reason, and of the response.
func (n *Node) reply(ctx context.Context, s *Session, e *Envelope, digest, payload []byte, state, reason string, log bool) []byte {
	resp := &Envelope{Header: Header{
		ID: e.ID, Type: TypeResponse, Sender: e.Recipient, Recipient: e.Sender, Service: e.Service,
		Time: n.now().UTC(), Level: e.Level, ContentType: responseContentType,
	}, Payload: payload}
	wire, respDigest := SealResponse(s, resp)
	if log {
		in, err := n.newSyncLogRow(ctx, "in", s.Sender, e, digest, state, cutText(reason, 1024))
		var out syncLogRow
		if err == nil {
			out, err = n.newSyncLogRow(ctx, "out", s.Sender, resp, respDigest, "sent", "")
		}
		if err != nil {
			n.log.Error("exchange: log a response", "id", e.ID, "service", e.Service.String(), "err", err)
			return encodeUnavailable("the provider's node could not log its response; try again")
		}
		n.gateway().log.add(in, out)
	}
	frame := make([]byte, 1+len(wire))
	frame[0] = replySealed
	copy(frame[1:], wire)
	return frame
}

// callBackend calls the service's backend. It returns the response, or
// nil with the status to answer (502 or 504) and a detail for the caller,
// which names no internal address.
func (n *Node) callBackend(ctx context.Context, svc *Service, e *Envelope, req *Request, limit int64) (*Response, int, string) {
	base, err := url.Parse(svc.Backend)
	if err != nil || base.Host == "" {
		n.log.Error("exchange: service has no usable backend URL", "service", svc.ID.String(), "backend", svc.Backend)
		return nil, http.StatusBadGateway, "the service has no usable backend address (its owner must fix it at headquarters)"
	}
	u := *base
	u.Path = strings.TrimSuffix(base.Path, "/") + req.Path
	u.RawPath = ""
	u.RawQuery = req.RawQuery
	var body io.Reader = http.NoBody
	if len(req.Body) > 0 {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), body)
	if err != nil {
		n.log.Warn("exchange: make a backend request", "service", svc.ID.String(), "id", e.ID, "err", err)
		return nil, http.StatusBadGateway, "the request cannot be passed to the service's backend"
	}
	for _, k := range requestHeaders {
		if v := req.Header.Values(k); len(v) > 0 {
			hr.Header[k] = v
		}
	}
	hr.Header.Set(HeaderClient, e.Sender.String())
	hr.Header.Set(HeaderMessageID, e.ID)
	res, err := n.gateway().backend.Do(hr)
	if err != nil {
		n.log.Warn("exchange: backend call failed", "service", svc.ID.String(), "id", e.ID, "err", err)
		if errors.Is(err, context.DeadlineExceeded) || isNetTimeout(err) {
			return nil, http.StatusGatewayTimeout, "the service's backend did not answer in time"
		}
		return nil, http.StatusBadGateway, "the service's backend could not be reached"
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	switch {
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || isNetTimeout(err)):
		return nil, http.StatusGatewayTimeout, "the service's backend did not finish its answer in time"
	case err != nil:
		n.log.Warn("exchange: read backend answer", "service", svc.ID.String(), "id", e.ID, "err", err)
		return nil, http.StatusBadGateway, "the service's backend broke off its answer"
	case int64(len(data)) > limit:
		return nil, http.StatusBadGateway, fmt.Sprintf("the service's backend answered with a body over the %d-byte limit of synchronous calls", limit)
	}
	resp := &Response{MessageID: e.ID, Status: res.StatusCode, Header: http.Header{}, Body: data}
	for _, k := range responseHeaders {
		if v := res.Header.Values(k); len(v) > 0 {
			resp.Header[k] = v
		}
	}
	return resp, 0, ""
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// gatewayState is what the gateway keeps for one node: the HTTP client of
// the backends, with its pool of kept-alive connections, the write-behind
// writer of the message log and the client-token cache.
type gatewayState struct {
	backend *http.Client
	log     *syncLogWriter
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
		log:    newSyncLogWriter(n.db, n.log, syncLogQueue, syncLogBatch, syncLogInterval),
		tokens: newTokenCache(),
	}
}

// gateway returns the node's gateway state.
func (n *Node) gateway() *gatewayState { return n.gw }

// The payloads of request and response envelopes, and the reply frames,
// use the codec's length-prefixed encoding: no JSON, no base64 of bodies.

// syncPayloadVersion is the first byte of a request or response payload.
const syncPayloadVersion = 1

// Kinds of response payloads.
const (
	responseAnswer  byte = 0 // the backend's answer
	responseRefused byte = 1 // the provider's node refused the request
	responseFailed  byte = 2 // the backend could not answer
)

// Kinds of reply frames.
const (
	// replySealed: a response envelope sealed under the session.
	replySealed byte = 0
	// replyRefused: a refusal in clear, for a request whose session or
	// envelope could not be opened (there is no key to seal it with).
	replyRefused byte = 1
	// replyUnavailable: the provider's node cannot take requests now.
	replyUnavailable byte = 2
)

// wireRequest is a request as the provider's node decodes it, with the
// caller's time budget.
type wireRequest struct {
	Request
	budgetMS int64
}

func encodeRequest(req *Request, budget time.Duration) []byte {
	b := make([]byte, 0, 96+len(req.Path)+len(req.RawQuery)+len(req.Body))
	b = append(b, syncPayloadVersion)
	b = appendString(b, req.Method)
	b = appendString(b, req.Path)
	b = appendString(b, req.RawQuery)
	b = appendInt(b, budget.Milliseconds())
	b = appendHeader(b, req.Header, requestHeaders)
	return appendBytes(b, req.Body)
}

func decodeRequest(p []byte) (*wireRequest, error) {
	r := &reader{b: p}
	if v := r.byte("version"); r.err == nil && v != syncPayloadVersion {
		return nil, fmt.Errorf("exchange: request payload version %d is not supported (upgrade this node)", v)
	}
	req := &wireRequest{}
	req.Method = r.string("method")
	req.Path = r.string("path")
	req.RawQuery = r.string("query")
	req.budgetMS = r.int("budget")
	req.Header = decodeHeader(r, requestHeaders)
	req.Body = r.bytes("body")
	if err := r.done("request payload"); err != nil {
		return nil, err
	}
	return req, nil
}

func encodeResponse(resp *Response) []byte {
	b := make([]byte, 0, 64+len(resp.Body))
	b = append(b, syncPayloadVersion, responseAnswer)
	b = appendInt(b, int64(resp.Status))
	b = appendHeader(b, resp.Header, responseHeaders)
	return appendBytes(b, resp.Body)
}

func encodeRefusalPayload(re *RefusedError) []byte {
	b := append(make([]byte, 0, 32+len(re.Detail)), syncPayloadVersion, responseRefused)
	b = appendString(b, string(re.Reason))
	return appendString(b, re.Detail)
}

func encodeFailure(status int, detail string) []byte {
	b := append(make([]byte, 0, 16+len(detail)), syncPayloadVersion, responseFailed)
	b = appendInt(b, int64(status))
	return appendString(b, detail)
}

// decodeResponse returns the backend's answer, or the refusal or failure
// the response carries as an error: a *RefusedError, or one wrapping
// ErrGatewayTimeout, ErrBadGateway or errs.ErrUnavailable.
func decodeResponse(p []byte) (*Response, error) {
	r := &reader{b: p}
	if v := r.byte("version"); r.err == nil && v != syncPayloadVersion {
		return nil, fmt.Errorf("exchange: response payload version %d is not supported (upgrade this node)", v)
	}
	switch kind := r.byte("kind"); {
	case r.err != nil:
	case kind == responseAnswer:
		resp := &Response{Status: int(r.int("status"))}
		resp.Header = decodeHeader(r, responseHeaders)
		resp.Body = r.bytes("body")
		if err := r.done("response payload"); err != nil {
			return nil, err
		}
		if resp.Status < 100 || resp.Status > 599 {
			return nil, fmt.Errorf("exchange: malformed response payload: status %d", resp.Status)
		}
		return resp, nil
	case kind == responseRefused:
		re := &RefusedError{Reason: Reason(r.string("reason")), Detail: r.string("detail")}
		if err := r.done("response payload"); err != nil {
			return nil, err
		}
		re.Detail = "the provider's node refused the request: " + re.Detail
		return nil, re
	case kind == responseFailed:
		status, detail := r.int("status"), r.string("detail")
		if err := r.done("response payload"); err != nil {
			return nil, err
		}
		switch status {
		case http.StatusGatewayTimeout:
			return nil, fmt.Errorf("%w: %s", ErrGatewayTimeout, detail)
		case http.StatusServiceUnavailable:
			return nil, fmt.Errorf("exchange: the provider's node cannot answer now: %s: %w", detail, errs.ErrUnavailable)
		}
		return nil, fmt.Errorf("%w: %s", ErrBadGateway, detail)
	default:
		return nil, fmt.Errorf("exchange: malformed response payload: unknown kind %d", kind)
	}
	return nil, r.done("response payload")
}

// appendHeader encodes h's fields named in allow, at most maxHTTPHeaders
// values.
func appendHeader(b []byte, h http.Header, allow []string) []byte {
	count := 0
	for _, k := range allow {
		count += len(h[k])
	}
	count = min(count, maxHTTPHeaders)
	b = binary.AppendUvarint(b, uint64(count))
	for _, k := range allow {
		for _, v := range h[k] {
			if count == 0 {
				return b
			}
			b = appendString(appendString(b, k), v)
			count--
		}
	}
	return b
}

// decodeHeader decodes what appendHeader wrote, keeping only the fields
// named in allow: a peer cannot slip other fields through.
func decodeHeader(r *reader, allow []string) http.Header {
	count := r.uint("header count")
	if r.err == nil && count > maxHTTPHeaders {
		r.fail("header count", fmt.Errorf("%d fields, at most %d allowed", count, maxHTTPHeaders))
	}
	if r.err != nil || count == 0 {
		return http.Header{}
	}
	h := make(http.Header, count)
	for range count {
		k, v := r.string("header name"), r.string("header value")
		if slices.Contains(allow, k) {
			h[k] = append(h[k], v)
		}
	}
	return h
}

func encodeRefusal(re *RefusedError) []byte {
	b := append(make([]byte, 0, 32+len(re.Detail)), replyRefused)
	b = appendString(b, string(re.Reason))
	return appendString(b, re.Detail)
}

func encodeUnavailable(detail string) []byte {
	return appendString([]byte{replyUnavailable}, detail)
}

// decodeReply splits a reply frame into a refusal in clear, an
// unavailability detail, or a sealed response.
func decodeReply(data []byte) (re *RefusedError, detail string, sealed []byte, err error) {
	if len(data) == 0 {
		return nil, "", nil, errors.New("exchange: empty reply frame")
	}
	r := &reader{b: data[1:]}
	switch data[0] {
	case replySealed:
		return nil, "", data[1:], nil
	case replyRefused:
		re = &RefusedError{Reason: Reason(r.string("reason")), Detail: r.string("detail")}
	case replyUnavailable:
		detail = r.string("detail")
	default:
		return nil, "", nil, fmt.Errorf("exchange: reply frame of unknown kind %d", data[0])
	}
	if err := r.done("reply frame"); err != nil {
		return nil, "", nil, err
	}
	return re, detail, nil, nil
}

// The message log of synchronous calls is written behind the answers:
// each request queues its rows with the node's writer and goes on, and the
// writer commits what has gathered every syncLogInterval (sooner when
// syncLogBatch rows wait) in one transaction. The log is signed later in
// batches anyway (SignLog), so a commit on the request path would buy
// nothing but latency. The queue is bounded: when it is full, requests
// wait for the writer (backpressure), and no row is ever dropped.
//
// The price is a crash window: rows queued in the last flush interval
// before a crash (the process killed, the machine down) are lost, though
// their answers were sent. Replay protection does not depend on the log
// (see replayWindow); the log's unique index still refuses a second row
// for one message id. A node that stops in order flushes the queue
// (FlushLog, and ServeRequests on its way out).

const (
	// syncLogQueue bounds the rows waiting for a commit; further
	// requests wait for room.
	syncLogQueue = 8192
	// syncLogBatch bounds the rows one transaction commits; a queue this
	// long is committed without waiting for the interval.
	syncLogBatch = 1024
	// syncLogInterval is how long the writer lets rows gather before a
	// commit.
	syncLogInterval = 100 * time.Millisecond
	// syncLogTimeout bounds one commit.
	syncLogTimeout = 30 * time.Second
	// syncLogRetry is the first pause after a failed commit; it doubles
	// up to syncLogTimeout.
	syncLogRetry = 100 * time.Millisecond
)

// syncLogRow is one exchange_log row.
type syncLogRow struct {
	msgID, direction, peer, sender, recipient, service, contentType, state, reason string
	typ                                                                            EnvelopeType
	level                                                                          authz.Level
	size                                                                           int
	msgTime, logged                                                                int64 // microseconds
	digest, body                                                                   []byte
	acked                                                                          bool
}

// newSyncLogRow makes e's log row, sealing its payload.
func (n *Node) newSyncLogRow(ctx context.Context, direction, peer string, e *Envelope, digest []byte, state, reason string) (syncLogRow, error) {
	body, err := n.ring.Seal(ctx, keyPurpose, e.Payload, bodyAD(direction, e.ID))
	if err != nil {
		return syncLogRow{}, fmt.Errorf("exchange: seal the body of %s for the log: %w", e.ID, err)
	}
	return syncLogRow{
		msgID: e.ID, direction: direction, peer: peer, sender: e.Sender.String(), recipient: e.Recipient.String(),
		service: e.Service.String(), contentType: e.ContentType, state: state, reason: reason, typ: e.Type, level: e.Level,
		size: len(e.Payload), msgTime: e.Time.UnixMicro(), logged: n.now().UnixMicro(), digest: digest, body: body,
	}, nil
}

// syncLogWriter is the write-behind writer. A drain goroutine runs while
// rows are waiting and ends when there are none, so an idle node keeps no
// goroutine for it.
type syncLogWriter struct {
	db       *store.DB
	log      *slog.Logger
	batch    int           // rows per commit
	interval time.Duration // gathering time before a commit
	slots    chan struct{} // one per queued row: bounds the queue
	wake     chan struct{} // tells the drain goroutine not to wait

	mu       sync.Mutex
	queue    []syncLogRow  // guarded by mu
	busy     bool          // a drain goroutine runs; guarded by mu
	added    uint64        // rows ever queued; guarded by mu
	written  uint64        // rows ever committed; guarded by mu
	flushing uint64        // rows flush waits for: commit without waiting up to there; guarded by mu
	progress chan struct{} // closed and replaced at each commit; guarded by mu

	// stmts holds the prepared inserts of k rows at k, used by the one
	// drain goroutine running at a time.
	stmts [syncLogChunk + 1]*sql.Stmt
}

func newSyncLogWriter(db *store.DB, log *slog.Logger, queue, batch int, interval time.Duration) *syncLogWriter {
	return &syncLogWriter{db: db, log: log, batch: batch, interval: interval, slots: make(chan struct{}, queue),
		wake: make(chan struct{}, 1), progress: make(chan struct{})}
}

// add queues rows for the next commit, waiting for room while the queue
// is full.
func (w *syncLogWriter) add(rows ...syncLogRow) {
	for range rows {
		w.slots <- struct{}{}
	}
	w.mu.Lock()
	w.queue = append(w.queue, rows...)
	w.added += uint64(len(rows))
	full := len(w.queue) >= w.batch
	if !w.busy {
		w.busy = true
		go w.drain()
	}
	w.mu.Unlock()
	if full {
		w.nudge()
	}
}

// nudge wakes the drain goroutine if it waits.
func (w *syncLogWriter) nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// flush waits until the rows queued before it was called are committed,
// or ctx ends.
func (w *syncLogWriter) flush(ctx context.Context) error {
	w.mu.Lock()
	target := w.added
	defer w.mu.Unlock()
	for w.written < target {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("exchange: flush the message log (%d rows still queued): %w", target-w.written, err)
		}
		w.flushing = max(w.flushing, target)
		progress := w.progress
		w.mu.Unlock()
		w.nudge()
		select {
		case <-progress:
		case <-ctx.Done():
		}
		w.mu.Lock()
	}
	return nil
}

func (w *syncLogWriter) drain() {
	timer := time.NewTimer(w.interval)
	defer timer.Stop()
	for {
		w.mu.Lock()
		if w.written >= w.flushing && len(w.queue) < w.batch {
			w.mu.Unlock()
			timer.Reset(w.interval)
			select {
			case <-timer.C:
			case <-w.wake:
			}
			w.mu.Lock()
		}
		k := min(len(w.queue), w.batch)
		if k == 0 {
			w.busy = false
			w.mu.Unlock()
			return
		}
		batch := slices.Clone(w.queue[:k])
		w.queue = slices.Delete(w.queue, 0, k)
		w.mu.Unlock()

		for pause := syncLogRetry; ; pause = min(2*pause, syncLogTimeout) {
			err := w.commit(batch)
			if err == nil {
				break
			}
			// Rows are never dropped: the queue stays full and requests
			// wait until the database takes them again.
			w.log.Error("exchange: write the message log; retrying", "rows", k, "retry_in", pause, "err", err)
			time.Sleep(pause)
		}
		for range k {
			<-w.slots
		}
		w.mu.Lock()
		w.written += uint64(k)
		close(w.progress)
		w.progress = make(chan struct{})
		w.mu.Unlock()
	}
}

// syncLogColumns are the columns an insert fills, in the order of
// syncLogRow.args.
const syncLogColumns = `msg_id, direction, type, peer, sender, recipient, service, level, content_type, size,
	msg_time_us, logged_us, digest, state, reason, body, acked_us`

// syncLogColumnCount is the number of syncLogColumns.
const syncLogColumnCount = 17

// syncLogChunk bounds the rows of one insert statement, well inside both
// dialects' limits on bound parameters.
const syncLogChunk = 64

// args returns the row's values in the order of syncLogColumns.
func (r *syncLogRow) args(dst []any) []any {
	var acked any
	if r.acked {
		acked = r.logged
	}
	return append(dst, r.msgID, r.direction, int64(r.typ), r.peer, r.sender, r.recipient, r.service,
		int64(r.level), r.contentType, int64(r.size), r.msgTime, r.logged, r.digest, r.state, r.reason, r.body, acked)
}

// commit writes rows in one transaction, in as few insert statements as
// the chunk size allows: fewer statements matter most on PostgreSQL,
// where each is a round trip. A row whose key the log already holds is
// skipped (the first row of an id stays) and reported.
func (w *syncLogWriter) commit(rows []syncLogRow) error {
	ctx, cancel := context.WithTimeout(context.Background(), syncLogTimeout)
	defer cancel()
	var skipped int64
	err := w.db.InTx(ctx, func(tx *store.Tx) error {
		skipped = 0
		args := make([]any, 0, min(len(rows), syncLogChunk)*syncLogColumnCount)
		for start := 0; start < len(rows); start += syncLogChunk {
			chunk := rows[start:min(start+syncLogChunk, len(rows))]
			stmt, err := w.stmt(ctx, len(chunk))
			if err != nil {
				return err
			}
			args = args[:0]
			for i := range chunk {
				args = chunk[i].args(args)
			}
			res, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
			if err != nil {
				return err
			}
			inserted, err := res.RowsAffected()
			if err != nil {
				return err
			}
			skipped += int64(len(chunk)) - inserted
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("exchange: write the message log: %w", err)
	}
	if skipped > 0 {
		// The caller's node sealed two requests with one id (a replay
		// by anyone else is refused by the window), or a test did.
		w.log.Warn("exchange: message log rows skipped: their message ids were logged before", "rows", skipped)
	}
	return nil
}

// stmt returns the prepared insert of k rows, preparing it on first use.
func (w *syncLogWriter) stmt(ctx context.Context, k int) (*sql.Stmt, error) {
	if s := w.stmts[k]; s != nil {
		return s, nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO exchange_log (" + syncLogColumns + ") VALUES ")
	tuple := "(" + strings.Repeat("?, ", syncLogColumnCount-1) + "?)"
	for i := range k {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	b.WriteString(" ON CONFLICT (direction, type, msg_id) DO NOTHING")
	s, err := w.db.PrepareContext(ctx, w.db.Rebind(b.String()))
	if err != nil {
		return nil, fmt.Errorf("exchange: prepare a message log statement: %w", err)
	}
	w.stmts[k] = s
	return s, nil
}

// FlushLog waits until the message log rows of the synchronous calls
// made so far are committed, or ctx ends. A process that stops calls it
// after its last call; ServeRequests calls it on its way out.
func (n *Node) FlushLog(ctx context.Context) error { return n.gateway().log.flush(ctx) }

// Anti-replay of request frames. Each request frame carries its session's
// next sequence number, authenticated with the envelope, and the
// provider's node keeps, per incoming session, the window of RFC 4303
// §3.4.3: the highest number accepted and a bitmap of the
// replayWindowSize numbers below it. A frame whose number is set, or
// below the window, is refused with ReasonReplay, before its request is
// checked or logged: replay protection costs no database write.
//
// The windows live in the cached sessions, so their memory is bounded
// with the cache. A session evicted from the cache and opened again would
// start a fresh window; the cache therefore evicts only a session that
// accepted no frame for replayMemory, and refuses to cache a new session
// (the request is answered "unavailable", to be retried) while every
// cached one is more recent. That is sound because of the freshness
// check: a frame accepted at t carried a time no later than
// t+requestSkew, so replayed at or after t+replayMemory it is more than
// requestSkew old and refused as stale, whatever window it meets.

const (
	// replayWindowSize is how many sequence numbers below the highest
	// accepted one a window remembers; requests running at once on one
	// session arrive at most this far out of order.
	replayWindowSize = 4096
	// replayMemory is how long after its last accepted frame a
	// session's window must be kept.
	replayMemory = 2*requestSkew + time.Second
)

// replayWindow is the anti-replay window of one incoming session.
type replayWindow struct {
	mu      sync.Mutex
	top     uint64                        // highest accepted number; guarded by mu
	bits    [replayWindowSize / 64]uint64 // bit seq%replayWindowSize: seq accepted; guarded by mu
	last    time.Time                     // when a frame was last accepted, or the session opened; guarded by mu
	retired bool                          // evicted from the cache; guarded by mu
}

func newReplayWindow(opened time.Time) *replayWindow { return &replayWindow{last: opened} }

// errRetiredSession is returned for a frame that raced with its session's
// eviction from the cache: the window is forgotten, so the frame cannot
// be taken, but sending it again opens the session anew.
var errRetiredSession = fmt.Errorf("exchange: the request's session was just dropped from this node's cache; send it again: %w", errs.ErrUnavailable)

// accept takes sequence number seq, received at now, or refuses it.
func (w *replayWindow) accept(seq uint64, now time.Time) error {
	if seq == 0 {
		return refuse(ReasonMalformed, "request frame has sequence number 0")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.retired:
		return errRetiredSession
	case seq > w.top:
		if seq-w.top >= replayWindowSize {
			clear(w.bits[:])
		} else {
			for s := w.top + 1; s < seq; s++ {
				w.bits[s/64%uint64(len(w.bits))] &^= 1 << (s % 64)
			}
		}
		w.top = seq
	case w.top-seq >= replayWindowSize:
		return refuse(ReasonReplay, fmt.Sprintf("request frame %d is more than %d frames behind the newest of its session (%d): "+
			"too old to tell from a replay", seq, replayWindowSize, w.top))
	case w.bits[seq/64%uint64(len(w.bits))]&(1<<(seq%64)) != 0:
		return refuse(ReasonReplay, fmt.Sprintf("request frame %d of this session was received before", seq))
	}
	w.bits[seq/64%uint64(len(w.bits))] |= 1 << (seq % 64)
	if now.After(w.last) {
		w.last = now
	}
	return nil
}

// retire marks the window forgotten and reports true if it accepted no
// frame for replayMemory before now; a window of a session this node
// sends on (nil) is always forgettable.
func (w *replayWindow) retire(now time.Time) bool {
	if w == nil {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.Sub(w.last) < replayMemory {
		return false
	}
	w.retired = true
	return true
}

// Client-token lookups are cached for tokenCacheTTL: a token is checked
// on every gateway call, and its database read cost more than the rest
// of the caller's work. RevokeTokens empties this process's cache at
// once; another process serving the same node (a replica) keeps a revoked
// token working for at most tokenCacheTTL.

const (
	// tokenCacheTTL is how long a looked-up token is trusted.
	tokenCacheTTL = 2 * time.Second
	// tokenCacheSize bounds the cached tokens.
	tokenCacheSize = 1024
)

// tokenCache maps the hashes of valid client tokens to their subsystems.
type tokenCache struct {
	mu  sync.Mutex
	gen uint64                         // bumped by each revocation; guarded by mu
	m   map[[sha256.Size]byte]tokenHit // guarded by mu
}

type tokenHit struct {
	client  ClientID
	expires time.Time
}

func newTokenCache() *tokenCache { return &tokenCache{m: map[[sha256.Size]byte]tokenHit{}} }

// get returns the subsystem of the token hashing to h, if cached, and
// the generation to pass to put after a database lookup.
func (c *tokenCache) get(h [sha256.Size]byte, now time.Time) (ClientID, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	hit, ok := c.m[h]
	if ok && now.Before(hit.expires) {
		return hit.client, c.gen, true
	}
	return ClientID{}, c.gen, false
}

// put caches a lookup that started at generation gen, unless a
// revocation came since: the lookup may have read the token before it
// was revoked.
func (c *tokenCache) put(h [sha256.Size]byte, client ClientID, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= tokenCacheSize {
		for k, hit := range c.m {
			if !now.Before(hit.expires) || len(c.m) >= tokenCacheSize {
				delete(c.m, k)
			}
		}
	}
	c.m[h] = tokenHit{client: client, expires: now.Add(tokenCacheTTL)}
}

// revoked forgets every cached token; revocations are rare.
func (c *tokenCache) revoked() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}
