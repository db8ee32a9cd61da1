package exchange

import (
	"bytes"
	"net/http"
	"slices"
	"testing"
	"time"
)

func FuzzDecodeSyncPayloads(f *testing.F) {
	f.Add(encodeRequest(&Request{Method: "POST", Path: "/a", RawQuery: "b=c", Header: http.Header{"Content-Type": {"text/plain"}, "Accept": {"*/*"}}, Body: []byte("body")}, time.Second))
	f.Add(encodeResponse(&Response{Status: 200, Header: http.Header{"Etag": {"x"}, "Content-Type": {"a/b"}}, Body: []byte("{}")}))
	f.Add(encodeRefusalPayload(refuse(ReasonNoRight, "no")))
	f.Add(encodeFailure(http.StatusGatewayTimeout, "slow"))
	f.Add(encodeRefusal(refuse(ReasonStale, "old")))
	f.Add(encodeUnavailable("down"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if req, err := decodeRequest(data); err == nil {
			for k := range req.Header {
				if !slices.Contains(requestHeaders, k) {
					t.Fatalf("decoded request carries header %q", k)
				}
			}
			if again, err := decodeRequest(encodeRequest(&req.Request, time.Duration(req.budgetMS)*time.Millisecond)); err != nil ||
				again.Method != req.Method || again.Path != req.Path || !bytes.Equal(again.Body, req.Body) {
				t.Fatalf("request does not survive a round trip: %v", err)
			}
		}
		if resp, err := decodeResponse(data); err == nil && (resp.Status < 100 || resp.Status > 599) {
			t.Fatalf("decoded status %d", resp.Status)
		}
		decodeReply(data) //nolint:errcheck // must only not panic
	})
}
