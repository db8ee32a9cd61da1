package exchange

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
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
// path (DESIGN.md §8), and the log writes of concurrent requests share
// transactions.

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
	ErrGatewayTimeout = errors.New("exchange: the call timed out")
	// ErrBadGateway is wrapped by the error of a call whose backend
	// could not be reached or failed to answer properly.
	ErrBadGateway = errors.New("exchange: the provider's backend failed")
)

// The HTTP header fields that cross the gateway; every other field stays
// behind, so that neither side learns the other's cookies, credentials or
// internal addresses.
var (
	requestHeaders  = []string{"Content-Type", "Accept", "Accept-Language"}
	responseHeaders = []string{"Content-Type", "Content-Language", "Content-Disposition", "Cache-Control", "ETag", "Last-Modified"}
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
// ErrBadGateway when the backend failed. Both envelopes are in the
// message log when Call returns an answer.
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
		ID: NewMessageID(), Type: TypeRequest, Sender: client, Recipient: req.Service.Provider(), Service: req.Service,
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

// logCall logs a call on the caller's side: the request as sent (out) and
// the response as received (in), if there was one. It logs and returns
// its error: a call whose log write failed has still been made.
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
	if _, err := n.gateway().log.write(&syncLogOp{rows: rows}); err != nil {
		n.log.Error("exchange: log a synchronous call", "id", e.ID, "service", e.Service.String(), "err", err)
		return err
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

// ServeRequests answers the requests that other nodes (and this one) send
// to the REST services of the subsystems this node serves, until ctx ends;
// then it stops taking requests, lets the ones under way finish and
// returns nil. Replicas of one node may all run it: they share the
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
	return nil
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
	if err != nil {
		var re *RefusedError
		if !errors.As(err, &re) {
			re = refuse(ReasonMalformed, err.Error())
		}
		peer := ""
		if s != nil {
			peer = s.Sender
		}
		n.recordRefusal(ctx, re, peer, "", ClientID{}, ServiceID{})
		return encodeRefusal(re), ServiceID{}, "refused"
	}
	req, svc, err := n.checkRequest(conf, s, e)
	if err == nil {
		var fresh bool
		if fresh, err = n.logReceived(ctx, s.Sender, e, digest); err != nil {
			return n.failed(ctx, s, e, digest, http.StatusServiceUnavailable, "the provider's node could not log the request; try again", false), e.Service, "error"
		} else if !fresh {
			err = refuse(ReasonReplay, fmt.Sprintf("request %s was received before", e.ID))
		}
	}
	if err != nil {
		var re *RefusedError
		if !errors.As(err, &re) {
			re = refuse(ReasonMalformed, err.Error())
		}
		n.recordRefusal(ctx, re, s.Sender, e.ID, e.Sender, e.Service)
		return n.reply(ctx, s, e, digest, encodeRefusalPayload(re), "refused", string(re.Reason)+": "+re.Detail, re.Reason != ReasonReplay), e.Service, "refused"
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
		return n.failed(ctx, s, e, digest, status, detail, true), e.Service, outcome
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

// failed answers a request whose backend did not: status is 502 or 504
// (503 when this node could not log), detail says why; logRequest is as
// for reply.
func (n *Node) failed(ctx context.Context, s *Session, e *Envelope, digest []byte, status int, detail string, logRequest bool) []byte {
	return n.reply(ctx, s, e, digest, encodeFailure(status, detail), "failed", detail, logRequest)
}

// reply seals the response to e with payload, logs it and, if
// logRequest, the request's final state (or, for a refused request, its
// row), and returns the reply frame.
func (n *Node) reply(ctx context.Context, s *Session, e *Envelope, digest, payload []byte, state, reason string, logRequest bool) []byte {
	resp := &Envelope{Header: Header{
		ID: e.ID, Type: TypeResponse, Sender: e.Recipient, Recipient: e.Sender, Service: e.Service,
		Time: n.now().UTC(), Level: e.Level, ContentType: responseContentType,
	}, Payload: payload}
	wire, respDigest := SealResponse(s, resp)
	op := &syncLogOp{}
	row, err := n.newSyncLogRow(ctx, "out", s.Sender, resp, respDigest, "sent", "")
	if err == nil {
		op.rows = append(op.rows, row)
		switch {
		case !logRequest:
		case state == "refused":
			// A refused request has no row yet (the replay check
			// inserts it only for requests that pass the checks).
			row, err = n.newSyncLogRow(ctx, "in", s.Sender, e, digest, state, cutText(reason, 1024))
			op.rows = append(op.rows, row)
		default:
			op.updates = append(op.updates, syncLogUpdate{msgID: e.ID, state: state, reason: cutText(reason, 1024)})
		}
	}
	if err == nil {
		_, err = n.gateway().log.write(op)
	}
	if err != nil {
		n.log.Error("exchange: log a response", "id", e.ID, "service", e.Service.String(), "err", err)
		return encodeUnavailable("the provider's node could not log its response; try again")
	}
	return append([]byte{replySealed}, wire...)
}

// logReceived inserts the row of a request that passed the checks, and
// reports whether its id was new: the log's unique index is the replay
// guard, so the row is written before the backend is called.
func (n *Node) logReceived(ctx context.Context, peer string, e *Envelope, digest []byte) (bool, error) {
	row, err := n.newSyncLogRow(ctx, "in", peer, e, digest, "failed", "no answer was recorded (the node stopped while the backend was called)")
	if err != nil {
		return false, err
	}
	inserted, err := n.gateway().log.write(&syncLogOp{rows: []syncLogRow{row}})
	if err != nil {
		return false, err
	}
	return inserted[0], nil
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
// the backends, with its pool of kept-alive connections, and the group
// commit writer of the message log.
type gatewayState struct {
	backend *http.Client
	log     *syncLogWriter
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
		log: newSyncLogWriter(n.db),
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

// The message log of synchronous calls. Each request writes its rows
// through one writer per node, which commits the rows of all the requests
// waiting at that moment in one transaction (group commit): the log is
// signed later in batches anyway (SignLog), so a transaction per request
// would buy nothing but latency.

const (
	// syncLogQueue bounds the writes waiting for a commit; further
	// writers wait for room.
	syncLogQueue = 4096
	// syncLogBatch bounds the writes one transaction commits.
	syncLogBatch = 256
	// syncLogGather and syncLogYields: before a commit, the writer
	// yields the processor up to syncLogYields times while fewer than
	// syncLogGather writes wait.
	syncLogGather = 16
	syncLogYields = 4
	// syncLogTimeout bounds one commit.
	syncLogTimeout = 30 * time.Second
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

// syncLogUpdate sets the final state of a received request.
type syncLogUpdate struct {
	msgID, state, reason string
}

// syncLogOp is one request's write: updates, then inserts that skip rows
// whose id the log already holds.
type syncLogOp struct {
	rows    []syncLogRow
	updates []syncLogUpdate

	inserted []bool // whether each row was new; set by the commit
	err      error
	done     chan struct{}
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

// syncLogWriter is the group-commit writer. A drain goroutine runs while
// writes are waiting and ends when there are none, so an idle node keeps
// no goroutine for it.
type syncLogWriter struct {
	db    *store.DB
	slots chan struct{} // one per waiting write: bounds the queue

	mu    sync.Mutex
	queue []*syncLogOp // guarded by mu
	busy  bool         // a drain goroutine runs; guarded by mu

	// stmts holds the prepared statements: the update at 0, the insert
	// of k rows at k. They are used by the one drain goroutine running at
	// a time.
	stmts [syncLogChunk + 1]*sql.Stmt
}

// queued returns the number of writes waiting.
func (w *syncLogWriter) queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

func newSyncLogWriter(db *store.DB) *syncLogWriter {
	return &syncLogWriter{db: db, slots: make(chan struct{}, syncLogQueue)}
}

// write commits op with whatever else is waiting and reports, for each of
// its rows, whether it was inserted (false: the id was logged before).
// It waits for the commit whatever happens to the request, since the
// answer depends on it.
func (w *syncLogWriter) write(op *syncLogOp) ([]bool, error) {
	w.slots <- struct{}{}
	op.done = make(chan struct{})
	w.mu.Lock()
	w.queue = append(w.queue, op)
	if !w.busy {
		w.busy = true
		go w.drain()
	}
	w.mu.Unlock()
	<-op.done
	return op.inserted, op.err
}

func (w *syncLogWriter) drain() {
	for {
		// Let the requests that are about to write join this commit: a
		// commit of many writes costs little more than a commit of one,
		// and on a busy node the writes are seldom more than a few
		// scheduling slices apart.
		for i := 0; i < syncLogYields && w.queued() < syncLogGather; i++ {
			runtime.Gosched()
		}
		w.mu.Lock()
		k := min(len(w.queue), syncLogBatch)
		if k == 0 {
			w.busy = false
			w.mu.Unlock()
			return
		}
		batch := slices.Clone(w.queue[:k])
		w.queue = slices.Delete(w.queue, 0, k)
		w.mu.Unlock()
		err := w.commit(batch)
		for _, op := range batch {
			if err != nil {
				op.inserted, op.err = nil, err
			}
			close(op.done)
			<-w.slots
		}
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

const syncLogSetState = `UPDATE exchange_log SET state = ?, reason = ? WHERE direction = 'in' AND type = ? AND msg_id = ?`

// args returns the row's values in the order of syncLogColumns.
func (r *syncLogRow) args(dst []any) []any {
	var acked any
	if r.acked {
		acked = r.logged
	}
	return append(dst, r.msgID, r.direction, int64(r.typ), r.peer, r.sender, r.recipient, r.service,
		int64(r.level), r.contentType, int64(r.size), r.msgTime, r.logged, r.digest, r.state, r.reason, r.body, acked)
}

// syncLogKey is a row's key in the log's unique index.
type syncLogKey struct {
	direction string
	typ       int64
	msgID     string
}

// commit writes a batch in one transaction: the state updates, then every
// row in as few insert statements as the chunk size allows, each telling
// through RETURNING which rows were new. Fewer statements matter most on
// PostgreSQL, where each is a round trip.
func (w *syncLogWriter) commit(batch []*syncLogOp) error {
	ctx, cancel := context.WithTimeout(context.Background(), syncLogTimeout)
	defer cancel()
	var (
		rows  []*syncLogRow
		flags []*bool
	)
	for _, op := range batch {
		op.inserted = make([]bool, len(op.rows))
		for i := range op.rows {
			rows, flags = append(rows, &op.rows[i]), append(flags, &op.inserted[i])
		}
	}
	err := w.db.InTx(ctx, func(tx *store.Tx) error {
		for _, op := range batch {
			for _, u := range op.updates {
				upd, err := w.stmt(ctx, 0)
				if err != nil {
					return err
				}
				if _, err := tx.StmtContext(ctx, upd).ExecContext(ctx, u.state, u.reason, int64(TypeRequest), u.msgID); err != nil {
					return err
				}
			}
		}
		for start := 0; start < len(rows); start += syncLogChunk {
			end := min(start+syncLogChunk, len(rows))
			if err := w.insertRows(ctx, tx, rows[start:end], flags[start:end]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("exchange: write the message log: %w", err)
	}
	return nil
}

// insertRows inserts rows with one statement and sets each flag to
// whether its row was new. Two rows with one key (a replay within the
// batch) leave only the first new.
func (w *syncLogWriter) insertRows(ctx context.Context, tx *store.Tx, rows []*syncLogRow, flags []*bool) error {
	stmt, err := w.stmt(ctx, len(rows))
	if err != nil {
		return err
	}
	args := make([]any, 0, len(rows)*syncLogColumnCount)
	for _, r := range rows {
		args = r.args(args)
	}
	res, err := tx.StmtContext(ctx, stmt).QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer res.Close()
	fresh := make(map[syncLogKey]int, len(rows))
	for res.Next() {
		var k syncLogKey
		if err := res.Scan(&k.direction, &k.typ, &k.msgID); err != nil {
			return err
		}
		fresh[k]++
	}
	if err := res.Err(); err != nil {
		return err
	}
	for i, r := range rows {
		k := syncLogKey{r.direction, int64(r.typ), r.msgID}
		if fresh[k] > 0 {
			*flags[i] = true
			fresh[k]--
		}
	}
	return nil
}

// stmt returns the prepared insert of k rows, or the state update for k
// = 0, preparing it on first use.
func (w *syncLogWriter) stmt(ctx context.Context, k int) (*sql.Stmt, error) {
	if s := w.stmts[k]; s != nil {
		return s, nil
	}
	query := syncLogSetState
	if k > 0 {
		var b strings.Builder
		b.WriteString("INSERT INTO exchange_log (" + syncLogColumns + ") VALUES ")
		tuple := "(" + strings.Repeat("?, ", syncLogColumnCount-1) + "?)"
		for i := range k {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
		}
		b.WriteString(" ON CONFLICT (direction, type, msg_id) DO NOTHING RETURNING direction, type, msg_id")
		query = b.String()
	}
	s, err := w.db.PrepareContext(ctx, w.db.Rebind(query))
	if err != nil {
		return nil, fmt.Errorf("exchange: prepare a message log statement: %w", err)
	}
	w.stmts[k] = s
	return s, nil
}
