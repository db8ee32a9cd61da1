package system

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// balancer is the load balancer in front of the replicas, as HAProxy
// would be configured: round robin over the replicas whose /readyz
// answers 200 (checked every 250 ms), and a request whose connection a
// replica refused (it is down; nothing reached it) tried on the next one.
// It records every /readyz answer it saw, so the test can say whether
// readiness told the truth.
type balancer struct {
	t    testing.TB
	url  string
	srv  *http.Server
	next atomic.Uint64
	tr   *http.Transport
	// limit, if positive, sends requests to the first limit replicas
	// only (the benchmarks' one-replica figures).
	limit atomic.Int32

	// leafFor maps an enrolment token to the leaf URL the enrolling
	// mission is to use (its own link, see link): the balancer puts it in
	// headquarters' answer, so the test can cut one mission's link.
	leafFor sync.Map

	mu       sync.Mutex
	backends []*backendState
	stop     chan struct{}
	wg       sync.WaitGroup
}

type backendState struct {
	r  *replica
	up atomic.Bool

	mu     sync.Mutex
	probes []probe // every /readyz answer, in order
}

// probe is one /readyz answer: status 0 when the replica did not answer.
// It keeps when it was asked as well as when it was answered: on a loaded
// machine an answer may take the client's whole 3 s to arrive, and what
// it says holds from (at most 2 s, the replica's cache) before it was
// asked; only a probe asked and answered while a dependency was down
// must say so.
type probe struct {
	asked, answered time.Time
	status          int
}

func newBalancer(t testing.TB) *balancer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{t: t, url: "http://" + l.Addr().String(), stop: make(chan struct{}),
		tr: &http.Transport{MaxIdleConnsPerHost: 64, ResponseHeaderTimeout: 2 * time.Minute}}
	b.srv = &http.Server{Handler: b}
	go b.srv.Serve(l)
	t.Cleanup(func() {
		close(b.stop)
		b.wg.Wait()
		b.srv.Close()
		b.tr.CloseIdleConnections()
	})
	return b
}

// add puts a replica behind the balancer, up at once (it was just
// checked ready), and starts checking it.
func (b *balancer) add(r *replica) {
	s := &backendState{r: r}
	s.up.Store(true)
	b.mu.Lock()
	b.backends = append(b.backends, s)
	b.mu.Unlock()
	b.wg.Add(1)
	go b.check(s)
}

func (b *balancer) check(s *backendState) {
	defer b.wg.Done()
	c := &http.Client{Timeout: 3 * time.Second}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		status, asked := 0, time.Now()
		if resp, err := c.Get(s.r.url() + "/readyz"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			status = resp.StatusCode
		}
		s.up.Store(status == http.StatusOK)
		s.mu.Lock()
		s.probes = append(s.probes, probe{asked, time.Now(), status})
		s.mu.Unlock()
	}
}

// probesOf returns the /readyz probes of replica r asked from from and
// answered by to.
func (b *balancer) probesOf(r *replica, from, to time.Time) []probe {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.backends {
		if s.r != r {
			continue
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		var out []probe
		for _, p := range s.probes {
			if !p.asked.Before(from) && !p.answered.After(to) {
				out = append(out, p)
			}
		}
		return out
	}
	return nil
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	backends := append([]*backendState(nil), b.backends...)
	b.mu.Unlock()
	if k := int(b.limit.Load()); k > 0 && k < len(backends) {
		backends = backends[:k]
	}
	n := len(backends)
	first := int(b.next.Add(1))
	// Up replicas first, in turn; if none is up, try them all.
	var order []*backendState
	for i := range n {
		if s := backends[(first+i)%n]; s.up.Load() {
			order = append(order, s)
		}
	}
	if len(order) == 0 {
		for i := range n {
			order = append(order, backends[(first+i)%n])
		}
	}
	for _, s := range order {
		out, err := http.NewRequest(r.Method, s.r.url()+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out.Header = r.Header.Clone()
		out.ContentLength = int64(len(body))
		resp, err := b.tr.RoundTrip(out)
		if err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				s.up.Store(false)
				continue // nothing reached it: the next replica may take it
			}
			http.Error(w, "load balancer: "+err.Error(), http.StatusBadGateway)
			return
		}
		if r.URL.Path == "/exchange/v1/enrol" && resp.StatusCode == http.StatusOK {
			resp = b.rewriteEnrolment(body, resp)
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "load balancer: no replica answers", http.StatusServiceUnavailable)
}

// rewriteEnrolment puts the mission's own link in place of the leaf URLs
// of headquarters' enrolment answer (they are not signed: the leaf TLS
// certificate is what the mission checks).
func (b *balancer) rewriteEnrolment(reqBody []byte, resp *http.Response) *http.Response {
	var req struct{ Token string }
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil || json.Unmarshal(reqBody, &req) != nil {
		return resp
	}
	leaf, ok := b.leafFor.Load(req.Token)
	if !ok {
		return resp
	}
	var answer map[string]json.RawMessage
	if json.Unmarshal(data, &answer) != nil {
		return resp
	}
	answer["leaf_urls"], _ = json.Marshal([]string{leaf.(string)})
	data, _ = json.Marshal(answer)
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.Header.Del("Content-Length")
	resp.ContentLength = int64(len(data))
	return resp
}

// link is a mission's network link to the NATS cluster's leaf listeners:
// a TCP relay to the first server that accepts, which the test may cut
// (every connection closed, new ones refused) and restore.
type link struct {
	l       net.Listener
	targets func() []string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
}

func newLink(t testing.TB, targets func() []string) *link {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := &link{l: l, targets: targets, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { l.Close(); k.setCut(true) })
	go k.serve()
	return k
}

func (k *link) addr() string { return k.l.Addr().String() }

func (k *link) serve() {
	for {
		c, err := k.l.Accept()
		if err != nil {
			return
		}
		go k.relay(c)
	}
}

func (k *link) relay(c net.Conn) {
	var up net.Conn
	for _, t := range k.targets() {
		if d, err := net.DialTimeout("tcp", t, 2*time.Second); err == nil {
			up = d
			break
		}
	}
	if up == nil || !k.track(c, up) {
		c.Close()
		if up != nil {
			up.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	k.mu.Lock()
	delete(k.conns, c)
	delete(k.conns, up)
	k.mu.Unlock()
}

func (k *link) track(c ...net.Conn) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cut {
		return false
	}
	for _, x := range c {
		k.conns[x] = true
	}
	return true
}

// setCut cuts the link (closing what is open) or restores it.
func (k *link) setCut(cut bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cut = cut
	if cut {
		for c := range k.conns {
			c.Close()
		}
		clear(k.conns)
	}
}
