package exchange

import (
	"errors"
	"testing"
	"time"

	"chancery/internal/errs"
	"chancery/internal/store"
)

// TestSendRefusesWhatCanNeverBeDelivered pins issue 14 items 2 and 8: a
// message whose content type holds CR LF or NUL, or is no media type,
// was accepted (202) and then blocked its recipient's webhook for good;
// one with a missing or empty payload was accepted although the API's
// schema requires it. Both are refused at the door with 400.
func TestSendRefusesWhatCanNeverBeDelivered(t *testing.T) {
	ok := SendRequest{Service: reportSvc.String(), ContentType: "application/json; charset=utf-8", Payload: []byte(`{}`)}
	if _, err := ok.outgoing(consular); err != nil {
		t.Fatalf("a good message is refused: %v", err)
	}
	for _, c := range []struct {
		name, field string
		change      func(*SendRequest)
	}{
		{"CR LF in the content type", "content_type", func(r *SendRequest) { r.ContentType = "text/plain\r\nX-Injected: 1" }},
		{"NUL in the content type", "content_type", func(r *SendRequest) { r.ContentType = "text/plain\x00" }},
		{"a tab in the content type", "content_type", func(r *SendRequest) { r.ContentType = "text/plain;\tcharset=utf-8" }},
		{"non-ASCII in the content type", "content_type", func(r *SendRequest) { r.ContentType = "text/plâin" }},
		{"not a media type", "content_type", func(r *SendRequest) { r.ContentType = "json" }},
		{"a media type with a broken parameter", "content_type", func(r *SendRequest) { r.ContentType = "text/plain; charset" }},
		{"a missing payload", "payload", func(r *SendRequest) { r.Payload = nil }},
		{"an empty payload", "payload", func(r *SendRequest) { r.Payload = []byte{} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := ok
			c.change(&req)
			_, err := req.outgoing(consular)
			var fe *errs.FieldError
			if !errors.Is(err, errs.ErrInvalid) || !errors.As(err, &fe) || fe.Field != c.field {
				t.Errorf("outgoing = %v, want invalid %s", err, c.field)
			}
		})
	}
}

// TestTheTransportRefusesUndeliverableContentTypes keeps the same rule
// for every sender (Node.Send from Go as well as the API) and for a
// message arriving from another node, which is refused rather than left
// to block the recipient's queue.
func TestTheTransportRefusesUndeliverableContentTypes(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	m := Outgoing{From: consular, To: reportSvc, ContentType: "text/plain\r\nX: 1", Payload: []byte("x")}
	if _, err := checkOutgoing(tn.conf, tn.mission.ID(), m); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("checkOutgoing = %v, want invalid", err)
	}
	e := testEnvelope(1, nil)
	e.ContentType = "text/plain\x00"
	tr := &transport{n: tn.hq.Node}
	if re := tr.checkIncoming(tn.conf, tn.mission.ID(), e, time.Now()); re == nil || re.Reason != ReasonMalformed {
		t.Errorf("checkIncoming = %v, want refused as malformed", re)
	}
	e.ContentType = "application/json"
	if re := tr.checkIncoming(tn.conf, tn.mission.ID(), e, time.Now()); re != nil {
		t.Errorf("checkIncoming of a good message = %v", re)
	}
}
