package exchange

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"chancery/internal/errs"
)

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
