package exchange

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

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
	// The log's write-behind commits in the node's group commits until
	// the last rows are flushed (store.Writer).
	wctx, stopWriter := context.WithCancel(work)
	waitWriter, err := n.writer.Start(wctx)
	if err != nil {
		stopWriter()
		sub.Unsubscribe() //nolint:errcheck // nothing was taken yet
		return fmt.Errorf("exchange: %w", err)
	}
	defer func() { stopWriter(); waitWriter() }()
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
	s, e, digest, seq, err := openRequest(wire, n.openSession(conf))
	if err == nil {
		err = n.claimFrame(ctx, s, e, seq)
	}
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
		in, err := n.sealedRow(ctx, "in", s.Sender, e, digest, state, cutText(reason, 1024))
		var out logRow
		if err == nil {
			out, err = n.sealedRow(ctx, "out", s.Sender, resp, respDigest, "sent", "")
		}
		if err != nil {
			n.log.Error("exchange: log a response", "id", e.ID, "service", e.Service.String(), "err", err)
			return encodeUnavailable("the provider's node could not log its response; try again")
		}
		n.msglog.add(in, out)
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
