package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// refusingReceiver is a webhook endpoint that refuses, with 400 and a
// hostile body, every message whose body contains "junk", and takes the
// rest.
type refusingReceiver struct {
	mu      sync.Mutex
	got     []string // bodies taken, in order
	refused int      // refusals answered
	calls   map[string]int
	takeAll bool
}

func (h *refusingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls[string(b)]++
	if strings.Contains(string(b), "junk") && !h.takeAll {
		h.refused++
		http.Error(w, "bad payload\x00\r\nsecond line", http.StatusBadRequest)
		return
	}
	h.got = append(h.got, string(b))
}

func (h *refusingReceiver) taken() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// TestDeadLettersLetTheQueueGoOn pins issue 14 item 2: one message its
// receiver refused (or one that could never be sent) blocked every later
// message of the subsystem for good. Now a refused message is tried a
// bounded number of times, then becomes a dead letter with the
// receiver's answer — alerted by an audit event and a metric — and the
// messages behind it are delivered in order; one that can never be sent
// dies at once. An operator resends or discards a dead letter, audited,
// as authz allows; on both databases.
func TestDeadLettersLetTheQueueGoOn(t *testing.T) {
	fastWebhookRetries(t)
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ln := newLinkedNet(t, d, nil)
			ctx := testCtx()
			hq := ln.hq
			ids := map[string]string{}
			for _, body := range []string{"m1", "junk", "bad", "m2", "m3"} {
				id, err := ln.mission.Send(ctx, report(body))
				if err != nil {
					t.Fatal(err)
				}
				ids[body] = id
			}
			waitInbox(t, hq.Node, procedures, 5, 30*time.Second)
			// A message taken in before the door refused such content
			// types: it can never be given to the webhook.
			if _, err := hq.db.ExecContext(ctx, hq.db.Rebind(`UPDATE exchange_log SET content_type = ? WHERE direction = 'in' AND msg_id = ?`),
				"text/plain\r\nX-Injected: 1", ids["bad"]); err != nil {
				t.Fatal(err)
			}

			recv := &refusingReceiver{calls: map[string]int{}}
			srv := httptest.NewServer(recv)
			t.Cleanup(srv.Close)
			hq.AllowWebhookHosts(srv.Listener.Addr().String())
			if _, err := hq.SetWebhook(ctx, procedures, srv.URL+"/inbox"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 30*time.Second, "the messages behind the refused ones", func() bool { return len(recv.taken()) == 3 })
			if got := recv.taken(); strings.Join(got, ",") != "m1,m2,m3" {
				t.Errorf("receiver took %v, want m1, m2, m3 in order", got)
			}
			recv.mu.Lock()
			if recv.calls["junk"] != webhookMaxRefusals || recv.calls["bad"] != 0 {
				t.Errorf("the refused message was posted %d times (want %d), the unsendable one %d (want 0)", recv.calls["junk"], webhookMaxRefusals, recv.calls["bad"])
			}
			recv.mu.Unlock()

			dls, err := hq.DeadLetters(ctx, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(dls) != 2 || dls[0].ID != ids["junk"] || dls[1].ID != ids["bad"] {
				t.Fatalf("dead letters = %+v, want the refused and the unsendable message", dls)
			}
			if a := dls[0].Answer; !strings.HasPrefix(a, "400 Bad Request: bad payload") || strings.ContainsAny(a, "\x00\r\n") {
				t.Errorf("the receiver's answer is kept as %q", a)
			}
			if dls[0].Recipient != procedures.String() || dls[0].Sender != consular.String() || dls[0].Level != authz.Confidential || dls[0].Died.IsZero() {
				t.Errorf("dead letter = %+v", dls[0])
			}
			// The deliverer acknowledges a message after the receiver's
			// answer, which the receiver counted already.
			waitFor(t, 10*time.Second, "the inbox to be empty", func() bool {
				in, err := hq.Inbox(ctx, procedures, 0, 10)
				return err == nil && len(in) == 0
			})
			var dead dto.Metric
			if err := hq.metrics.messages.WithLabelValues("in", reportSvc.String(), "dead").Write(&dead); err != nil || dead.GetCounter().GetValue() != 2 {
				v := dead.GetCounter().GetValue()
				t.Errorf("dead-letter metric = %v, want 2", v)
			}
			checkAudited(t, hq, "exchange.message.dead", 2)

			// Operators, through the API: the dead letters are
			// confidential, so an uncleared operator learns nothing.
			api := staffServer(t, hq.Node)
			cleared := staffPrincipal(authz.Confidential, authz.Administrator)
			uncleared := staffPrincipal(authz.Unclassified, authz.Administrator)
			clerk := staffPrincipal(authz.Secret, authz.Clerk)
			var page deadLetterPage
			if code := api.do(t, cleared, "GET", "/api/v1/exchange/dead-letters", &page); code != 200 || len(page.Items) != 2 || page.Items[0].Answer == "" {
				t.Errorf("cleared list = %d %+v", code, page)
			}
			if code := api.do(t, cleared, "GET", "/api/v1/exchange/dead-letters?limit=1", &page); code != 200 || len(page.Items) != 1 || page.Next == "" {
				t.Errorf("first page = %d %+v", code, page)
			}
			if code := api.do(t, cleared, "GET", "/api/v1/exchange/dead-letters?limit=1&after="+page.Next, &page); code != 200 || len(page.Items) != 1 || page.Items[0].ID != ids["bad"] {
				t.Errorf("second page = %d %+v", code, page)
			}
			if code := api.do(t, cleared, "GET", "/api/v1/exchange/dead-letters?limit=0", nil); code != http.StatusBadRequest {
				t.Errorf("limit=0 = %d, want 400", code)
			}
			if code := api.do(t, uncleared, "GET", "/api/v1/exchange/dead-letters", &page); code != 200 || len(page.Items) != 0 {
				t.Errorf("uncleared list = %d %+v, want it empty", code, page)
			}
			junk := "/api/v1/exchange/dead-letters/" + ids["junk"]
			for _, c := range []struct {
				who    web.Principal
				method string
				path   string
				want   int
			}{
				{clerk, "POST", junk + "/resend", http.StatusForbidden},
				{clerk, "DELETE", junk, http.StatusForbidden},
				{uncleared, "POST", junk + "/resend", http.StatusNotFound},
				{cleared, "POST", "/api/v1/exchange/dead-letters/nope/resend", http.StatusNotFound},
				{cleared, "POST", "/api/v1/exchange/dead-letters/ab%00cd/resend", http.StatusBadRequest}, // refused at the door: not a 500 from PostgreSQL
				{cleared, "DELETE", "/api/v1/exchange/dead-letters/ab%0D%0Acd", http.StatusBadRequest},
			} {
				if code := api.do(t, c.who, c.method, c.path, nil); code != c.want {
					t.Errorf("%s %s by %v = %d, want %d", c.method, c.path, c.who.Subject.Roles.Names(), code, c.want)
				}
			}
			if page := api.page(t, cleared, "/console/exchange/monitor"); !strings.Contains(page, ids["junk"]) ||
				!strings.Contains(page, `action="/console/exchange/dead-letters/`+ids["junk"]+`/resend"`) || !strings.Contains(page, "bad payload") {
				t.Errorf("the monitoring page does not offer the dead letter:\n%s", page)
			}

			// The receiver is fixed: the resent message is pushed; the
			// unsendable one is discarded.
			recv.mu.Lock()
			recv.takeAll = true
			recv.mu.Unlock()
			if code := api.do(t, cleared, "POST", junk+"/resend", nil); code != http.StatusNoContent {
				t.Fatalf("resend = %d", code)
			}
			waitFor(t, 30*time.Second, "the resent message", func() bool { return len(recv.taken()) == 4 })
			if code := api.do(t, cleared, "DELETE", "/api/v1/exchange/dead-letters/"+ids["bad"], nil); code != http.StatusNoContent {
				t.Fatalf("discard = %d", code)
			}
			if dls, _ := hq.DeadLetters(ctx, 0, 10); len(dls) != 0 {
				t.Errorf("dead letters after resend and discard: %+v", dls)
			}
			if err := hq.ResendDeadLetter(ctx, ids["bad"]); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("resending a discarded message: %v, want not found", err)
			}
			checkAudited(t, hq, "exchange.message.resend", 1)

			// Hostile ids on the client routes are refused at the door
			// (internal/web), on both databases alike.
			token, err := hq.IssueToken(ctx, procedures, "test")
			if err != nil {
				t.Fatal(err)
			}
			base := apiServer(t, hq.Node)
			if code, _, body := call(t, "GET", base+"/api/v1/exchange/messages/ab%00cd/proof?direction=in", token, "", nil); code != http.StatusBadRequest {
				t.Errorf("proof of a NUL id = %d %s, want 400", code, body)
			}
			if code, _, body := call(t, "POST", base+"/api/v1/exchange/inbox/ack", token, "application/json", []byte(`{"ids":["ab\u0000cd","x"]}`)); code != http.StatusBadRequest {
				t.Errorf("ack of a NUL id = %d %s, want 400", code, body)
			}
			checkAudited(t, hq, "exchange.message.discard", 1)
		})
	}
}

// checkAudited checks that n's ledger holds k events of action.
// fastWebhookRetries makes a refused webhook try again within
// milliseconds until the test ends, so that a message dies quickly.
func fastWebhookRetries(t *testing.T) {
	old := webhookBaseDelay
	webhookBaseDelay = 5 * time.Millisecond
	t.Cleanup(func() { webhookBaseDelay = old })
}

func checkAudited(tb testing.TB, n *testNode, action string, k int) {
	tb.Helper()
	if _, err := n.ledger.Integrate(testCtx()); err != nil {
		tb.Fatal(err)
	}
	evs, err := n.ledger.Search(testCtx(), audit.Query{Action: action, Limit: audit.MaxSearchLimit})
	if err != nil {
		tb.Fatal(err)
	}
	if len(evs) != k {
		tb.Errorf("%d %s events in the ledger, want %d", len(evs), action, k)
	}
}

func staffPrincipal(clearance authz.Level, roles ...authz.Role) web.Principal {
	return web.Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 7, Unit: 1, Roles: authz.RolesOf(roles...), Clearance: clearance},
		Username: "operator", Name: "Vũ Văn Vận", Stage: "full"}
}

// staffAPI serves a node's exchange routes to a signed-in staff member,
// with the audit origin the server's middleware gives.
type staffAPI struct {
	rt    *web.Router
	shell *web.Shell
}

func staffServer(tb testing.TB, n *Node) *staffAPI {
	shell := webtest.Shell(tb, Texts())
	h, err := NewHandler(n, shell)
	if err != nil {
		tb.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return &staffAPI{rt: rt, shell: shell}
}

func (s *staffAPI) serve(p web.Principal, method, path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	r = r.WithContext(web.WithPrincipal(context.Background(), p))
	w := httptest.NewRecorder()
	s.shell.Language(audit.RequestOrigin(s.rt)).ServeHTTP(w, r)
	return w
}

func (s *staffAPI) do(tb testing.TB, p web.Principal, method, path string, out any) int {
	tb.Helper()
	w := s.serve(p, method, path)
	if out != nil && w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			tb.Fatalf("%s %s: %v: %s", method, path, err, w.Body)
		}
	}
	return w.Code
}

func (s *staffAPI) page(tb testing.TB, p web.Principal, path string) string {
	tb.Helper()
	w := s.serve(p, "GET", path)
	if w.Code != http.StatusOK {
		tb.Fatalf("GET %s = %d: %s", path, w.Code, w.Body)
	}
	return w.Body.String()
}
