package exchange

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/store"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// apiServer serves n's exchange routes over real HTTP.
func apiServer(tb testing.TB, n *Node) string {
	tb.Helper()
	h, err := NewHandler(n, webtest.Shell(tb, Texts()))
	if err != nil {
		tb.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	srv := httptest.NewServer(authenticated(n, rt))
	tb.Cleanup(srv.Close)
	return srv.URL
}

// authenticated puts n's client-token authentication in front of h, as
// the app's middleware does.
func authenticated(n *Node, h http.Handler) http.Handler {
	return web.Authenticate(func(r *http.Request) (web.Principal, error) {
		p, _, err := n.Authenticate(r)
		return p, err
	})(h)
}

func call(tb testing.TB, method, url, token, contentType string, body []byte, headers ...string) (int, http.Header, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestAPISendsReadsAndAcknowledgesMessages(t *testing.T) {
	ln := newLinkedNet(t, store.SQLite, nil)
	ctx := testCtx()
	missionURL, hqURL := apiServer(t, ln.mission.Node), apiServer(t, ln.hq.Node)
	consularToken, err := ln.mission.IssueToken(ctx, consular, "consular system")
	if err != nil {
		t.Fatal(err)
	}
	proceduresToken, err := ln.hq.IssueToken(ctx, procedures, "procedures system")
	if err != nil {
		t.Fatal(err)
	}
	send := missionURL + "/api/v1/exchange/messages"
	payload := []byte(`{"dossier":"G12-250101-0001"}`)
	jsonBody, _ := json.Marshal(map[string]any{"service": reportSvc.String(), "level": "confidential", "content_type": "application/json", "payload": payload})

	// Bad input: each a problem document with the right status, and
	// nothing sent.
	for _, c := range []struct {
		name, token, ct string
		body            []byte
		headers         []string
		want            int
	}{
		{"no token", "", "application/json", jsonBody, nil, http.StatusUnauthorized},
		{"unknown token", "chx_nope", "application/json", jsonBody, nil, http.StatusUnauthorized},
		{"malformed JSON", consularToken, "application/json", []byte(`{"service":`), nil, http.StatusBadRequest},
		{"unknown field", consularToken, "application/json", []byte(`{"service":"a","x":1}`), nil, http.StatusBadRequest},
		{"bad service id", consularToken, "application/json", []byte(`{"service":"a/b","payload":""}`), nil, http.StatusBadRequest},
		{"bad level", consularToken, "", []byte("x"), []string{HeaderService, reportSvc.String(), HeaderLevel, "ultra"}, http.StatusBadRequest},
		{"no right", consularToken, "", []byte("x"), []string{HeaderService, noticeSvc.String()}, http.StatusForbidden},
		{"CR LF in the content type", consularToken, "application/json", []byte(`{"service":"` + reportSvc.String() + `","content_type":"text/plain\r\nX: 1","payload":"eA=="}`), nil, http.StatusBadRequest},
		{"no payload", consularToken, "application/json", []byte(`{"service":"` + reportSvc.String() + `"}`), nil, http.StatusBadRequest},
		{"an empty payload", consularToken, "application/json", []byte(`{"service":"` + reportSvc.String() + `","payload":""}`), nil, http.StatusBadRequest},
		{"an empty raw body", consularToken, "text/plain", nil, []string{HeaderService, reportSvc.String()}, http.StatusBadRequest},
		{"too large", consularToken, "application/octet-stream", make([]byte, ln.conf.MaxMessageBytes+1), []string{HeaderService, reportSvc.String()}, http.StatusRequestEntityTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := call(t, http.MethodPost, send, c.token, c.ct, c.body, c.headers...)
			if status != c.want || h.Get("Content-Type") != "application/problem+json" {
				t.Errorf("status %d (%s) %s, want %d problem+json", status, h.Get("Content-Type"), body, c.want)
			}
		})
	}

	status, _, body := call(t, http.MethodPost, send, consularToken, "application/json", jsonBody)
	if status != http.StatusAccepted {
		t.Fatalf("JSON send: %d %s", status, body)
	}
	var first SendResponse
	json.Unmarshal(body, &first) //nolint:errcheck
	status, _, body = call(t, http.MethodPost, send, consularToken, "text/plain", []byte("raw body"), HeaderService, reportSvc.String(), HeaderLevel, "secret")
	if status != http.StatusAccepted {
		t.Fatalf("raw send: %d %s", status, body)
	}
	var second SendResponse
	json.Unmarshal(body, &second) //nolint:errcheck

	waitInbox(t, ln.hq.Node, procedures, 2, 20*time.Second)
	status, _, body = call(t, http.MethodGet, hqURL+"/api/v1/exchange/inbox?limit=1", proceduresToken, "", nil)
	var page InboxPage
	if err := json.Unmarshal(body, &page); status != http.StatusOK || err != nil || len(page.Messages) != 1 {
		t.Fatalf("inbox: %d %s", status, body)
	}
	m := page.Messages[0]
	if m.ID != first.ID || !bytes.Equal(m.Payload, payload) || m.Sender != consular.String() || m.Level != "confidential" || m.ContentType != "application/json" {
		t.Errorf("first inbox message = %+v", m)
	}
	status, _, body = call(t, http.MethodGet, hqURL+"/api/v1/exchange/inbox?after="+page.Next, proceduresToken, "", nil)
	json.Unmarshal(body, &page) //nolint:errcheck
	if status != http.StatusOK || len(page.Messages) != 1 || page.Messages[0].ID != second.ID || string(page.Messages[0].Payload) != "raw body" ||
		page.Messages[0].Level != "secret" || page.Messages[0].ContentType != "text/plain" {
		t.Errorf("second page: %d %s", status, body)
	}
	for _, bad := range []string{"?after=-1", "?after=x", "?limit=0", "?limit=100000"} {
		if status, _, _ := call(t, http.MethodGet, hqURL+"/api/v1/exchange/inbox"+bad, proceduresToken, "", nil); status != http.StatusBadRequest {
			t.Errorf("inbox%s = %d, want 400", bad, status)
		}
	}
	ackBody, _ := json.Marshal(AckRequest{IDs: []string{first.ID, second.ID}})
	status, _, body = call(t, http.MethodPost, hqURL+"/api/v1/exchange/inbox/ack", proceduresToken, "application/json", ackBody)
	if status != http.StatusOK || !strings.Contains(string(body), `"acknowledged":2`) {
		t.Errorf("ack: %d %s", status, body)
	}
	if status, _, _ := call(t, http.MethodPost, hqURL+"/api/v1/exchange/inbox/ack", proceduresToken, "application/json", []byte(`{"ids":[]}`)); status != http.StatusBadRequest {
		t.Errorf("empty ack = %d, want 400", status)
	}
	// Proofs: the sender's of what it sent; nobody else's.
	waitFor(t, 10*time.Second, "a proof", func() bool {
		status, _, body = call(t, http.MethodGet, missionURL+"/api/v1/exchange/messages/"+first.ID+"/proof", consularToken, "", nil)
		return status == http.StatusOK && strings.Contains(string(body), `"log"`)
	})
	if status, _, _ := call(t, http.MethodGet, hqURL+"/api/v1/exchange/messages/"+first.ID+"/proof?direction=out", proceduresToken, "", nil); status != http.StatusNotFound {
		t.Errorf("proof of another system's message = %d, want 404", status)
	}
	if status, _, _ := call(t, http.MethodGet, hqURL+"/api/v1/exchange/messages/"+first.ID+"/proof?direction=in", proceduresToken, "", nil); status != http.StatusOK {
		t.Errorf("recipient's proof = %d, want 200", status)
	}
}

// hookReceiver is a webhook endpoint that fails its first failFirst
// calls and records the rest.
type hookReceiver struct {
	mu        sync.Mutex
	failFirst int
	calls     int
	got       []*http.Request
	bodies    [][]byte
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if h.calls <= h.failFirst {
		http.Error(w, "not now", http.StatusServiceUnavailable)
		return
	}
	h.got, h.bodies = append(h.got, r), append(h.bodies, b)
}

func TestWebhookPushesSignedMessagesInOrderAndRetriesAfterFailure(t *testing.T) {
	old := webhookBaseDelay
	webhookBaseDelay = 50 * time.Millisecond
	t.Cleanup(func() { webhookBaseDelay = old })
	ln := newLinkedNet(t, store.SQLite, nil)
	ctx := testCtx()
	recv := &hookReceiver{failFirst: 2}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	if _, err := ln.hq.SetWebhook(ctx, procedures, "ftp://x"); err == nil {
		t.Error("SetWebhook accepted an ftp URL")
	}
	ln.hq.AllowWebhookHosts(srv.Listener.Addr().String())
	secret, err := ln.hq.SetWebhook(ctx, procedures, srv.URL+"/inbox")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 5 {
		id, err := ln.mission.Send(ctx, report(strings.Repeat("m", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	waitFor(t, 30*time.Second, "five pushes", func() bool {
		recv.mu.Lock()
		defer recv.mu.Unlock()
		return len(recv.got) == 5
	})
	recv.mu.Lock()
	for i, r := range recv.got {
		body := recv.bodies[i]
		if r.Header.Get(HeaderMessageID) != ids[i] || string(body) != strings.Repeat("m", i+1) || r.Header.Get(HeaderSender) != consular.String() ||
			r.Header.Get(HeaderService) != reportSvc.String() || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("push %d: headers %v body %q", i, r.Header, body)
		}
		if !hmac.Equal([]byte(r.Header.Get(HeaderSignature)), []byte(WebhookSignature(secret, body))) {
			t.Errorf("push %d: signature %q does not verify", i, r.Header.Get(HeaderSignature))
		}
		if WebhookSignature("whsec_"+base64.RawURLEncoding.EncodeToString(make([]byte, 32)), body) == r.Header.Get(HeaderSignature) {
			t.Error("signature verifies under another secret")
		}
	}
	if recv.calls != 7 {
		t.Errorf("receiver called %d times, want 2 failures and 5 deliveries", recv.calls)
	}
	recv.mu.Unlock()
	// The receiver has the fifth push before the deliverer records its
	// acknowledgement, so the inbox empties a moment later.
	waitFor(t, 10*time.Second, "every pushed message acknowledged", func() bool {
		in, err := ln.hq.Inbox(ctx, procedures, 0, 10)
		return err == nil && len(in) == 0
	})
	// The deliverer resets the failure count after the last
	// acknowledgement, in a statement of its own.
	waitFor(t, 10*time.Second, "the webhook's failures reset after recovery", func() bool {
		w, err := ln.hq.Webhook(ctx, procedures)
		return err == nil && w.Failures == 0
	})
	if err := ln.hq.DeleteWebhook(ctx, procedures); err != nil {
		t.Fatal(err)
	}
	if err := ln.hq.DeleteWebhook(ctx, procedures); err == nil {
		t.Error("second DeleteWebhook succeeded")
	}
}

func TestLargeMessageTravelsInChunks(t *testing.T) {
	ln := newLinkedNet(t, store.SQLite, nil)
	ln.publish(t, func(c *GlobalConf) { c.MaxMessageBytes = 25 << 20 })
	ln.waitLinked(t)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16)
	id, err := ln.mission.Send(testCtx(), report(string(payload)))
	if err != nil {
		t.Fatal(err)
	}
	small, err := ln.mission.Send(testCtx(), report("after"))
	if err != nil {
		t.Fatal(err)
	}
	in := waitInbox(t, ln.hq.Node, procedures, 2, 30*time.Second)
	if in[0].ID != id || !bytes.Equal(in[0].Payload, payload) || in[1].ID != small {
		t.Errorf("got %s (%d bytes), %s; want %s (%d bytes) then %s", in[0].ID, len(in[0].Payload), in[1].ID, id, len(payload), small)
	}
}

func TestMonitorShowsLinksAndRendersThePage(t *testing.T) {
	ln := newLinkedNet(t, store.SQLite, nil)
	ln.waitLinked(t)
	waitFor(t, 10*time.Second, "the link seen up", func() bool {
		r, err := ln.hq.Monitor(testCtx())
		return err == nil && len(r.Links) == 1 && r.Links[0].Known && r.Links[0].Connected && r.Links[0].Peer == "mission-h01"
	})
	h, err := NewHandler(ln.hq.Node, webtest.Shell(t, Texts()))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.monitorPage(rec, httptest.NewRequest(http.MethodGet, "/console/exchange/monitor", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "mission-h01") || !strings.Contains(rec.Body.String(), "Đã kết nối") {
		t.Errorf("monitor page: %d\n%s", rec.Code, rec.Body.String())
	}
}
