package exchange

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"chancery/internal/errs"
)

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
	rows := make([]logRow, 0, 2)
	row, err := n.sealedRow(ctx, "out", provider, e, digest, state, reason)
	if err != nil {
		return err
	}
	rows = append(rows, row)
	if reply != nil {
		row, err := n.sealedRow(ctx, "in", provider, reply, replyDigest, "delivered", "")
		if err != nil {
			return err
		}
		row.acked = true // handed to the caller at once: not in any inbox
		rows = append(rows, row)
	}
	n.msglog.add(rows...)
	return nil
}
