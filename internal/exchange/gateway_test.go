package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/bus"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// gwBackend is a REST backend that records what reaches it.
type gwBackend struct {
	mu     sync.Mutex
	calls  []*http.Request // guarded by mu
	bodies [][]byte        // guarded by mu
}

func (b *gwBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.calls = append(b.calls, r)
	b.bodies = append(b.bodies, body)
	b.mu.Unlock()
	if r.URL.Path == "/slow" {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", `"v7"`)
	w.Header().Set("Set-Cookie", "backend-session=secret")
	w.Header().Set("X-Internal-Host", "db-3.internal")
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusCreated
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"path":%q,"query":%q,"client":%q}`, r.URL.Path, r.URL.RawQuery, r.Header.Get(HeaderClient))
}

// last returns the last request to path, and its body.
func (b *gwBackend) last(path string) (*http.Request, []byte, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var (
		req   *http.Request
		body  []byte
		count int
	)
	for i, r := range b.calls {
		if r.URL.Path == path {
			req, body, count = r, b.bodies[i], count+1
		}
	}
	return req, body, count
}

// gwNet is the test network on two real buses, headquarters' server with
// a leaf listener and the mission's joining it, both nodes answering
// requests, headquarters' lookup service backed by a real HTTP backend,
// and the mission's gateway on a real HTTP server.
type gwNet struct {
	*testNet
	hqBus, missionBus *bus.Bus
	backend           *gwBackend
	backendURL        string
	gateway           *httptest.Server
	token             string
	stopHQ            func()
}

func newGwNet(tb testing.TB, d store.Dialect) *gwNet {
	tb.Helper()
	g := &gwNet{testNet: newTestNet(tb, d), backend: &gwBackend{}}
	srv := httptest.NewServer(g.backend)
	tb.Cleanup(srv.Close)
	g.backendURL = srv.URL
	g.publish(tb, func(c *GlobalConf) { setGwBackend(c, lookupSvc, srv.URL) })

	leafPort := freePort(tb)
	g.hqBus = hubBus(tb, g.hq.Node, leafPort)
	g.missionBus = openBus(tb, missionBusOptions(tb, g.mission.Node, fmt.Sprintf("nats-leaf://127.0.0.1:%d", leafPort)))
	g.mission.Attach(g.missionBus)
	g.stopHQ = serveRequests(tb, g.hq.Node)
	serveRequests(tb, g.mission.Node)

	var err error
	if g.token, err = g.mission.IssueToken(testCtx(), consular, "test"); err != nil {
		tb.Fatal(err)
	}
	rt := web.NewRouter()
	registerGateway(rt, &Handler{n: g.mission.Node})
	g.gateway = httptest.NewServer(authenticated(g.mission.Node, rt))
	tb.Cleanup(g.gateway.Close)

	// The leaf link and headquarters' interest in its subject take a
	// moment to reach the mission.
	waitFor(tb, 15*time.Second, "headquarters to answer the mission's calls", func() bool {
		ctx, cancel := context.WithTimeout(testCtx(), 2*time.Second)
		defer cancel()
		_, err := g.mission.Call(ctx, consular, &Request{Service: lookupSvc, Method: http.MethodGet, Path: "/warm-up"})
		return err == nil
	})
	return g
}

func setGwBackend(c *GlobalConf, id ServiceID, url string) {
	for i := range c.Services {
		if c.Services[i].ID == id {
			c.Services[i].Backend = url
		}
	}
}

// serveRequests runs n.ServeRequests until the returned stop is called or
// the test ends.
func serveRequests(tb testing.TB, n *Node) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(testCtx())
	done := make(chan error, 1)
	go func() { done <- n.ServeRequests(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("ServeRequests(%s): %v", n.ID(), err)
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// do sends a request to the mission's gateway with the consular system's
// token and returns the response with its body.
func (g *gwNet) do(tb testing.TB, method, path string, body []byte, header http.Header) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, g.gateway.URL+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+g.token)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res, data
}

// gwLogRow is what a test reads back from exchange_log.
type gwLogRow struct {
	digest, body []byte
	state        string
	peer         string
}

// readGwLogRow flushes n's message log and reads a row of it.
func readGwLogRow(tb testing.TB, n *testNode, direction string, t EnvelopeType, id string) gwLogRow {
	tb.Helper()
	if err := n.FlushLog(testCtx()); err != nil {
		tb.Fatal(err)
	}
	var r gwLogRow
	err := n.db.QueryRowContext(context.Background(), n.db.Rebind(`SELECT digest, body, state, peer FROM exchange_log WHERE direction = ? AND type = ? AND msg_id = ?`),
		direction, int64(t), id).Scan(&r.digest, &r.body, &r.state, &r.peer)
	if err != nil {
		tb.Fatalf("%s: log row %s/%d/%s: %v", n.ID(), direction, t, id, err)
	}
	return r
}

func TestGatewayCallAnswersThroughBothNodesAndLogsBothEnds(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			g := newGwNet(t, d)
			ctx := testCtx()
			res, body := g.do(t, http.MethodPost, GatewayPath+lookupSvc.String()+"/citizens/079?full=1", []byte(`{"q":"Nguyễn"}`), http.Header{
				"Content-Type":    {"application/json"},
				"Accept-Language": {"vi"},
				"Cookie":          {"console=secret"},
				"X-Forwarded-For": {"10.1.2.3"},
			})
			if res.StatusCode != http.StatusCreated {
				t.Fatalf("status %d, body %s", res.StatusCode, body)
			}
			if want := `{"path":"/citizens/079","query":"full=1","client":"` + consular.String() + `"}`; string(body) != want {
				t.Errorf("body %s, want %s", body, want)
			}
			if got := res.Header.Get("ETag"); got != `"v7"` {
				t.Errorf("ETag %q, want the backend's", got)
			}
			for _, h := range []string{"Set-Cookie", "X-Internal-Host"} {
				if v := res.Header.Get(h); v != "" {
					t.Errorf("the backend's %s crossed the gateway: %q", h, v)
				}
			}
			id := res.Header.Get(HeaderMessageID)
			if len(id) != 32 {
				t.Fatalf("%s = %q, want a message id", HeaderMessageID, id)
			}

			seen, seenBody, _ := g.backend.last("/citizens/079")
			if seen == nil {
				t.Fatal("the backend never saw the request")
			}
			if seen.Method != http.MethodPost || string(seenBody) != `{"q":"Nguyễn"}` || seen.URL.RawQuery != "full=1" {
				t.Errorf("backend saw %s ?%s %q", seen.Method, seen.URL.RawQuery, seenBody)
			}
			for h, want := range map[string]string{HeaderClient: consular.String(), HeaderMessageID: id,
				"Content-Type": "application/json", "Accept-Language": "vi", "Cookie": "", "X-Forwarded-For": "", "Authorization": ""} {
				if got := seen.Header.Get(h); got != want {
					t.Errorf("backend saw %s = %q, want %q", h, got, want)
				}
			}

			// Both ends logged both envelopes, with equal digests and
			// bodies sealed under each node's own keyring.
			pairs := []struct {
				caller, provider string
				typ              EnvelopeType
			}{{"out", "in", TypeRequest}, {"in", "out", TypeResponse}}
			for _, p := range pairs {
				c := readGwLogRow(t, g.mission, p.caller, p.typ, id)
				pr := readGwLogRow(t, g.hq, p.provider, p.typ, id)
				if !bytes.Equal(c.digest, pr.digest) {
					t.Errorf("type %d: the caller logged digest %x, the provider %x", p.typ, c.digest, pr.digest)
				}
				if c.peer != "hq" || pr.peer != "mission-h01" {
					t.Errorf("type %d: peers %q and %q", p.typ, c.peer, pr.peer)
				}
				for _, side := range []struct {
					n   *testNode
					dir string
					row gwLogRow
				}{{g.mission, p.caller, c}, {g.hq, p.provider, pr}} {
					if _, err := side.n.ring.Open(ctx, keyPurpose, side.row.body, bodyAD(side.dir, id)); err != nil {
						t.Errorf("%s: the logged body does not open: %v", side.n.ID(), err)
					}
				}
			}
			if st := readGwLogRow(t, g.hq, "in", TypeRequest, id).state; st != "answered" {
				t.Errorf("provider's request row is %q, want answered", st)
			}
			if st := readGwLogRow(t, g.mission, "out", TypeRequest, id).state; st != "answered" {
				t.Errorf("caller's request row is %q, want answered", st)
			}

			// Once the log is signed, each row proves its inclusion.
			for _, n := range []*testNode{g.hq, g.mission} {
				if _, err := n.SignLog(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range []struct {
				n   *testNode
				dir string
				typ EnvelopeType
			}{{g.mission, "out", TypeRequest}, {g.mission, "in", TypeResponse}, {g.hq, "in", TypeRequest}, {g.hq, "out", TypeResponse}} {
				p, err := c.n.Proof(ctx, c.dir, c.typ, id)
				if err != nil {
					t.Fatalf("%s Proof(%s, %d): %v", c.n.ID(), c.dir, c.typ, err)
				}
				if p.Log == nil {
					t.Fatalf("%s: %s envelope %d has no log proof after SignLog", c.n.ID(), c.dir, c.typ)
				}
				if err := VerifyBatchProof(p.Digest, p.Log.Index, p.Log.Size, p.Log.Path, p.Log.Root); err != nil {
					t.Errorf("%s: proof of %s envelope %d: %v", c.n.ID(), c.dir, c.typ, err)
				}
			}
		})
	}
}

func TestGatewaySameNodeCallsTakeTheSamePath(t *testing.T) {
	g := newGwNet(t, store.SQLite)
	// Headquarters calls a REST service of its own subsystem.
	self := ServiceID{ClientID: procedures, Service: "self-lookup", Version: "v1"}
	g.publish(t, func(c *GlobalConf) {
		c.Services = append(c.Services, Service{ID: self, Kind: KindREST, Title: "Self", Backend: g.backendURL, MaxLevel: authz.Secret})
		c.Rights = append(c.Rights, Right{Service: self, Client: procedures})
	})
	resp, err := g.hq.Call(testCtx(), procedures, &Request{Service: self, Method: http.MethodGet, Path: "/here"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `"client":"`+procedures.String()) {
		t.Errorf("answer %d %s", resp.Status, resp.Body)
	}
	out, in := readGwLogRow(t, g.hq, "out", TypeRequest, resp.MessageID), readGwLogRow(t, g.hq, "in", TypeRequest, resp.MessageID)
	if !bytes.Equal(out.digest, in.digest) || out.peer != "hq" {
		t.Errorf("same-node call logged %x (peer %s) out and %x in", out.digest, out.peer, in.digest)
	}
}

// gwProblem is the part of a problem document the tests check.
type gwProblem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func TestGatewayMapsEachFailureToItsProblem(t *testing.T) {
	g := newGwNet(t, store.SQLite)
	svcPath := GatewayPath + lookupSvc.String()
	rights := g.conf.Rights
	tests := []struct {
		name           string
		change, undo   func(*GlobalConf)
		method, path   string
		header         http.Header
		body           []byte
		noToken        bool
		status         int
		code, inDetail string
	}{
		{name: "no token", noToken: true, path: svcPath + "/x", status: 401, code: "unauthenticated", inDetail: "client token"},
		{name: "unknown token", header: http.Header{"Authorization": {"Bearer chx_unknown"}}, path: svcPath + "/x", status: 401, code: "unauthenticated"},
		{name: "unknown service", path: GatewayPath + "VN/GOV/000.00.00.G12/procedures/nothing/v1/x", status: 404, code: "unknown_service",
			inDetail: "VN/GOV/000.00.00.G12/procedures/nothing/v1"},
		{name: "malformed service id", path: GatewayPath + "VN/GOV", status: 404, code: "unknown_service", inDetail: "VN/GOV"},
		{name: "no access right", change: func(c *GlobalConf) { c.Rights = []Right{{Service: reportSvc, Client: consular}} },
			undo: func(c *GlobalConf) { c.Rights = rights }, path: svcPath + "/x", status: 403, code: "no_access_right"},
		{name: "above the caller's clearance", path: svcPath + "/x", header: http.Header{HeaderLevel: {"secret"}}, status: 403, code: "above_clearance"},
		{name: "unknown level", path: svcPath + "/x", header: http.Header{HeaderLevel: {"cosmic"}}, status: 400, code: "invalid"},
		{name: "body over the limit", method: http.MethodPost, path: svcPath + "/x", body: make([]byte, 1<<20), status: 413, code: "too_large"},
		{name: "expired configuration", change: func(c *GlobalConf) { c.Expires = time.Now().Add(-time.Hour).UTC() },
			undo: func(c *GlobalConf) { c.Expires = time.Time{} }, path: svcPath + "/x", status: 503, code: "conf_expired", inDetail: "expired"},
		{name: "backend down", change: func(c *GlobalConf) { setGwBackend(c, lookupSvc, "http://127.0.0.1:1") },
			undo: func(c *GlobalConf) { setGwBackend(c, lookupSvc, g.backendURL) }, path: svcPath + "/x", status: 502, code: "backend_failed", inDetail: "could not be reached"},
		{name: "backend too slow", path: svcPath + "/slow", header: http.Header{HeaderTimeout: {"1"}}, status: 504, code: "timeout"},
		{name: "bad timeout", path: svcPath + "/x", header: http.Header{HeaderTimeout: {"90"}}, status: 400, code: "invalid"},
		{name: "method not passed on", method: "TRACE", path: svcPath + "/x", status: 405, code: "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.change != nil {
				g.publish(t, tt.change)
				defer g.publish(t, tt.undo)
			}
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, g.gateway.URL+tt.path, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.noToken {
				req.Header.Set("Authorization", "Bearer "+g.token)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var p gwProblem
			if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
				t.Fatalf("status %d: not a problem document: %v", res.StatusCode, err)
			}
			if res.StatusCode != tt.status || p.Status != tt.status || p.Code != tt.code || !strings.Contains(p.Detail, tt.inDetail) {
				t.Errorf("got %d %+v, want %d code %q with %q in the detail", res.StatusCode, p, tt.status, tt.code, tt.inDetail)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}

	t.Run("provider's node unreachable", func(t *testing.T) {
		// Headquarters' server routes the mission's requests to its
		// gateway whether or not the gateway runs, so only the link's
		// end tells the mission at once that nobody answers.
		g.stopHQ()
		g.hqBus.Close()
		waitFor(t, 15*time.Second, "the mission to see that nobody answers", func() bool {
			ctx, cancel := context.WithTimeout(testCtx(), time.Second)
			defer cancel()
			_, err := g.mission.Call(ctx, consular, &Request{Service: lookupSvc, Method: http.MethodGet, Path: "/x"})
			return errors.Is(err, ErrProviderUnreachable)
		})
		res, body := g.do(t, http.MethodGet, svcPath+"/x", nil, nil)
		var p gwProblem
		json.Unmarshal(body, &p) //nolint:errcheck // checked below
		if res.StatusCode != 503 || p.Code != "provider_unreachable" || !strings.Contains(p.Detail, "synchronous services need the link") {
			t.Errorf("got %d %s", res.StatusCode, body)
		}
	})
}

// sendFrame seals a request from the mission to headquarters' lookup
// service, lets change alter it first, sends it on the bus as a peer
// would, and returns the request, the frame sent and the reply frame.
func (g *gwNet) sendFrame(tb testing.TB, change func(*Envelope, *Request), tamper func(wire []byte)) (s *Session, e *Envelope, wire, reply []byte) {
	tb.Helper()
	conf, _ := g.mission.Conf()
	s, err := g.mission.session(conf, "hq")
	if err != nil {
		tb.Fatal(err)
	}
	req := &Request{Method: http.MethodGet, Path: "/frame", Header: http.Header{}}
	e = &Envelope{Header: Header{ID: NewMessageID(time.Now()), Type: TypeRequest, Sender: consular, Recipient: procedures, Service: lookupSvc,
		Time: time.Now().UTC(), Level: authz.Confidential, ContentType: requestContentType}}
	if change != nil {
		change(e, req)
	}
	e.Payload = encodeRequest(req, 10*time.Second)
	wire, _ = SealRequest(s, e)
	if tamper != nil {
		tamper(wire)
	}
	return s, e, wire, g.resend(tb, wire)
}

func (g *gwNet) resend(tb testing.TB, wire []byte) []byte {
	tb.Helper()
	msg, err := g.missionBus.Conn().Request(requestSubject("hq"), wire, 10*time.Second)
	if err != nil {
		tb.Fatalf("request frame: %v", err)
	}
	return msg.Data
}

// openReply reads a reply frame as Call does.
func openReply(s *Session, data []byte) (*Response, error) {
	re, detail, sealed, err := decodeReply(data)
	switch {
	case err != nil:
		return nil, err
	case re != nil:
		return nil, re
	case sealed == nil:
		return nil, errors.New(detail)
	}
	reply, _, err := OpenResponse(s, sealed)
	if err != nil {
		return nil, err
	}
	return decodeResponse(reply.Payload)
}

func TestProviderRefusesBadFramesAndAuditsThem(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			g := newGwNet(t, d)
			visa := ClientID{DefaultInstance, ClassGOV, missionMember, "visa"}
			tests := []struct {
				name   string
				change func(*Envelope, *Request)
				tamper func([]byte)
				reason Reason
				logged bool // the refused request has a log row
			}{
				{name: "flipped bit in the ciphertext", tamper: func(w []byte) { w[len(w)-5] ^= 1 }, reason: ReasonBadCiphertext},
				{name: "flipped bit in the session signature", tamper: func(w []byte) { w[1+2+600] ^= 1 }, reason: ReasonBadSignature},
				{name: "stale time", change: func(e *Envelope, _ *Request) { e.Time = time.Now().Add(-10 * time.Minute).UTC() }, reason: ReasonStale, logged: true},
				{name: "time from the future", change: func(e *Envelope, _ *Request) { e.Time = time.Now().Add(10 * time.Minute).UTC() }, reason: ReasonStale, logged: true},
				{name: "sender of another node", change: func(e *Envelope, _ *Request) { e.Sender = procedures }, reason: ReasonSpoofedSender, logged: true},
				{name: "sender without the right", change: func(e *Envelope, _ *Request) { e.Sender = visa }, reason: ReasonNoRight, logged: true},
				{name: "unknown service", change: func(e *Envelope, _ *Request) { e.Service.Version = "v9" }, reason: ReasonUnknownService, logged: true},
				{name: "asynchronous service", change: func(e *Envelope, _ *Request) { e.Service = reportSvc }, reason: ReasonUnknownService, logged: true},
				{name: "above the service's level", change: func(e *Envelope, _ *Request) { e.Level = authz.Secret }, reason: ReasonClearance, logged: true},
				{name: "body over the limit", change: func(_ *Envelope, r *Request) { r.Method, r.Body = http.MethodPost, make([]byte, 1000<<10) },
					reason: ReasonTooLarge, logged: true},
				{name: "path climbing out of the backend", change: func(_ *Envelope, r *Request) { r.Path = "/a/../../admin" }, reason: ReasonMalformed, logged: true},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					s, e, _, reply := g.sendFrame(t, tt.change, tt.tamper)
					_, err := openReply(s, reply)
					var re *RefusedError
					if !errors.As(err, &re) || re.Reason != tt.reason {
						t.Fatalf("reply: %v, want a %s refusal", err, tt.reason)
					}
					if tt.logged {
						if row := readGwLogRow(t, g.hq, "in", TypeRequest, e.ID); row.state != "refused" {
							t.Errorf("request row state %q, want refused", row.state)
						}
					}
					checkRefusalAudited(t, g.hq, tt.reason)
				})
			}

			t.Run("replayed frame", func(t *testing.T) {
				s, e, wire, reply := g.sendFrame(t, func(_ *Envelope, r *Request) { r.Path = "/replayed" }, nil)
				resp, err := openReply(s, reply)
				if err != nil || resp.Status != http.StatusOK {
					t.Fatalf("first delivery: %v %+v", err, resp)
				}
				_, err = openReply(s, g.resend(t, wire))
				var re *RefusedError
				if !errors.As(err, &re) || re.Reason != ReasonReplay {
					t.Fatalf("second delivery: %v, want a replay refusal", err)
				}
				if _, _, n := g.backend.last("/replayed"); n != 1 {
					t.Errorf("the backend was called %d times, want once", n)
				}
				if st := readGwLogRow(t, g.hq, "in", TypeRequest, e.ID).state; st != "answered" {
					t.Errorf("the replay changed the request's row to %q", st)
				}
				checkRefusalAudited(t, g.hq, ReasonReplay)
			})
		})
	}
}

// checkRefusalAudited checks that n's ledger holds a refused request with
// reason.
func checkRefusalAudited(tb testing.TB, n *testNode, reason Reason) {
	tb.Helper()
	if _, err := n.ledger.Integrate(testCtx()); err != nil {
		tb.Fatal(err)
	}
	evs, err := n.ledger.Search(testCtx(), audit.Query{Action: "exchange.request.refused", Outcome: audit.Denied, Limit: audit.MaxSearchLimit})
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range evs {
		if strings.HasPrefix(e.Reason, string(reason)+":") {
			return
		}
	}
	tb.Errorf("no audited refusal with reason %s among %d", reason, len(evs))
}

func TestCallRefusesLocallyBeforeSending(t *testing.T) {
	g := newGwNet(t, store.SQLite)
	visa := ClientID{DefaultInstance, ClassGOV, missionMember, "visa"}
	tests := []struct {
		name   string
		client ClientID
		req    Request
		reason Reason
	}{
		{"client of another node", procedures, Request{Service: lookupSvc, Method: "GET", Path: "/"}, ReasonSpoofedSender},
		{"client without the right", visa, Request{Service: lookupSvc, Method: "GET", Path: "/"}, ReasonNoRight},
		{"asynchronous service", consular, Request{Service: reportSvc, Method: "GET", Path: "/"}, ReasonUnknownService},
		{"body over the limit", consular, Request{Service: lookupSvc, Method: "POST", Path: "/", Body: make([]byte, 2<<20)}, ReasonTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := g.mission.Call(testCtx(), tt.client, &tt.req)
			var re *RefusedError
			if !errors.As(err, &re) || re.Reason != tt.reason {
				t.Fatalf("Call: %v, want a %s refusal", err, tt.reason)
			}
			checkRefusalAudited(t, g.mission, tt.reason)
		})
	}
	if _, err := g.mission.Call(testCtx(), consular, &Request{Service: lookupSvc, Method: "GET", Path: "/../etc"}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("path climbing out: %v, want invalid input", err)
	}
}

func TestResolveServiceReadsTheVersionOnlyWhenTheServiceHasOne(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	search := ServiceID{ClientID: procedures, Service: "search"}
	tn.publish(t, func(c *GlobalConf) {
		c.Services = append(c.Services, Service{ID: search, Kind: KindREST, Title: "Search", Backend: "http://backend.invalid", MaxLevel: authz.Secret})
	})
	conf, _ := tn.hq.Conf()
	tests := []struct {
		rest    string
		service ServiceID
		path    string
		err     Reason
	}{
		{rest: lookupSvc.String(), service: lookupSvc, path: "/"},
		{rest: lookupSvc.String() + "/", service: lookupSvc, path: "/"},
		{rest: lookupSvc.String() + "/citizens/079/", service: lookupSvc, path: "/citizens/079/"},
		{rest: search.String(), service: search, path: "/"},
		{rest: search.String() + "/v1/items", service: search, path: "/v1/items"},
		{rest: lookupSvc.ClientID.String() + "/lookup/v2/x", err: ReasonUnknownService},
		{rest: "VN/GOV", err: ReasonUnknownService},
		{rest: lookupSvc.String() + "/a/../../admin", err: ""},
	}
	for _, tt := range tests {
		svc, path, err := resolveService(conf, tt.rest)
		var re *RefusedError
		switch {
		case tt.err != "":
			if !errors.As(err, &re) || re.Reason != tt.err {
				t.Errorf("%s: err %v, want a %s refusal", tt.rest, err, tt.err)
			}
		case tt.service == ServiceID{}:
			if !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%s: err %v, want invalid input", tt.rest, err)
			}
		case err != nil || svc != tt.service || path != tt.path:
			t.Errorf("%s: got %s %q %v, want %s %q", tt.rest, svc, path, err, tt.service, tt.path)
		}
	}
}
