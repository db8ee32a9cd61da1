package bus_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/bus"
	"chancery/internal/store/storetest"
)

// testLogger writes the bus's logs to the test's output, shown with -v or
// on failure.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// mustOpen opens a bus with opts, filling in a logger, and closes it when
// the test ends.
func mustOpen(tb testing.TB, opts bus.Options) *bus.Bus {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(tb)
	}
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return b
}

// silentServer returns the URL of a TCP server that accepts connections
// and never speaks, the way a wrong port or a hung peer behaves: a client
// waits for NATS's INFO line until its own timeout.
func silentServer(tb testing.TB) string {
	tb.Helper()
	var mu sync.Mutex
	var conns []net.Conn
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "nats://" + listenLocal(tb, func(c net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		conns = append(conns, c)
	})
}

// listenLocal listens on 127.0.0.1 until the test ends, handing each
// connection to serve, and returns the address.
func listenLocal(tb testing.TB, serve func(net.Conn)) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil { // the listener closed at cleanup
				return
			}
			serve(c)
		}
	}()
	return l.Addr().String()
}

// mustStream creates a file-backed stream capturing "<name>.>".
func mustStream(tb testing.TB, js jetstream.JetStream, name string) jetstream.Stream {
	tb.Helper()
	s, err := js.CreateOrUpdateStream(tb.Context(), jetstream.StreamConfig{
		Name:     name,
		Subjects: []string{name + ".>"},
		Storage:  jetstream.FileStorage,
	})
	if err != nil {
		tb.Fatalf("create stream %s: %v", name, err)
	}
	return s
}

func TestOpenEmbeddedStartsQuicklyAndRoundTripsThroughAStream(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	b := mustOpen(t, bus.Options{DataDir: dir})
	t.Logf("Open (embedded, in-process, JetStream in a fresh store) took %s", time.Since(start))

	if !b.Embedded() {
		t.Error("Embedded() = false for a bus without URL")
	}
	if err := b.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	ctx := t.Context()
	js := b.JetStream()
	s := mustStream(t, js, "ROUNDTRIP")
	if _, err := js.Publish(ctx, "ROUNDTRIP.hello", []byte("xin chào")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	cons, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "reader", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("CreateOrUpdateConsumer: %v", err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	var got []string
	for m := range batch.Messages() {
		got = append(got, m.Subject()+"="+string(m.Data()))
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
	if err := batch.Error(); err != nil {
		t.Fatalf("Fetch batch: %v", err)
	}
	if want := "ROUNDTRIP.hello=xin chào"; len(got) != 1 || got[0] != want {
		t.Fatalf("consumed %q, want [%q]", got, want)
	}

	// Core NATS works on the same connection too.
	sub, err := b.Conn().SubscribeSync("core.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Conn().Publish("core.test", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.NextMsg(2 * time.Second); err != nil {
		t.Fatalf("core round trip: %v", err)
	}
}

func TestOpenEmbeddedStoresJetStreamUnderDataDirNats(t *testing.T) {
	dir := t.TempDir()
	b := mustOpen(t, bus.Options{DataDir: dir})
	mustStream(t, b.JetStream(), "WHERE")
	matches, err := filepath.Glob(dir + "/nats/jetstream/*/streams/WHERE")
	if err != nil || len(matches) != 1 {
		t.Fatalf("stream directory under %s/nats: %v %v", dir, matches, err)
	}
}

func TestOpenEmbeddedKeepsStoredMessagesAcrossCloseAndReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()

	first, err := bus.Open(ctx, bus.Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	mustStream(t, first.JetStream(), "KEPT")
	ack, err := first.JetStream().Publish(ctx, "KEPT.envelope", []byte("stored before close"))
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	start := time.Now()
	second := mustOpen(t, bus.Options{DataDir: dir})
	t.Logf("Open (embedded, reopening a store with one stream) took %s", time.Since(start))
	s, err := second.JetStream().Stream(ctx, "KEPT")
	if err != nil {
		t.Fatalf("stream after reopen: %v", err)
	}
	msg, err := s.GetMsg(ctx, ack.Sequence)
	if err != nil {
		t.Fatalf("GetMsg(%d) after reopen: %v", ack.Sequence, err)
	}
	if string(msg.Data) != "stored before close" || msg.Subject != "KEPT.envelope" {
		t.Fatalf("after reopen got %s=%q, want KEPT.envelope=%q", msg.Subject, msg.Data, "stored before close")
	}
}

func TestPingFailsWithErrClosedAfterCloseAndCloseTwiceIsSafe(t *testing.T) {
	b, err := bus.Open(t.Context(), bus.Options{DataDir: t.TempDir(), Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := b.Ping(t.Context()); err != nil {
		t.Fatalf("Ping before Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	err = b.Ping(t.Context())
	if !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("Ping after Close = %v, want ErrClosed", err)
	}
	if !strings.HasPrefix(err.Error(), "bus: ") {
		t.Errorf("Ping error %q lacks the bus: prefix", err)
	}
}

func TestOpenWithURLConnectsToAnExternalServer(t *testing.T) {
	port := storetest.FreePort(t)
	hq := mustOpen(t, bus.Options{DataDir: t.TempDir(), Port: port, ServerName: "hq"})

	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	start := time.Now()
	client := mustOpen(t, bus.Options{URL: url})
	t.Logf("Open (external, %s) took %s", url, time.Since(start))

	if client.Embedded() {
		t.Error("Embedded() = true for a bus with URL")
	}
	if err := client.Ping(t.Context()); err != nil {
		t.Fatalf("Ping over TCP: %v", err)
	}

	// What the client stores, the server's own connection reads.
	ctx := t.Context()
	mustStream(t, client.JetStream(), "SHARED")
	if _, err := client.JetStream().Publish(ctx, "SHARED.x", []byte("over tcp")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	s, err := hq.JetStream().Stream(ctx, "SHARED")
	if err != nil {
		t.Fatalf("stream seen from the server side: %v", err)
	}
	msg, err := s.GetLastMsgForSubject(ctx, "SHARED.x")
	if err != nil || string(msg.Data) != "over tcp" {
		t.Fatalf("GetLastMsgForSubject = %v, %v; want %q", msg, err, "over tcp")
	}
}

func TestOpenWithABadURLFailsFastWithAClearError(t *testing.T) {
	refused := fmt.Sprintf("nats://127.0.0.1:%d", storetest.FreePort(t))
	tests := []struct {
		name string
		url  string
	}{
		{"nothing listens", refused},
		{"not a URL", "nats://exa mple:4222"},
		{"server never answers", silentServer(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			b, err := bus.Open(t.Context(), bus.Options{URL: tt.url, ConnectTimeout: 300 * time.Millisecond, Logger: testLogger(t)})
			elapsed := time.Since(start)
			if err == nil {
				b.Close()
				t.Fatalf("Open(%q) succeeded", tt.url)
			}
			t.Logf("failed in %s: %v", elapsed, err)
			if elapsed > 3*time.Second {
				t.Errorf("Open(%q) took %s to fail", tt.url, elapsed)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "bus: connect to external NATS at "+tt.url) || !strings.Contains(msg, "check --nats") {
				t.Errorf("error %q does not name the URL and the --nats flag", msg)
			}
		})
	}
}

func TestOpenWithURLStopsAtTheContextDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := bus.Open(ctx, bus.Options{URL: silentServer(t), Logger: testLogger(t)})
	if err == nil {
		t.Fatal("Open succeeded")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Open ignored the context deadline: took %s (%v)", elapsed, err)
	}
}

func TestOpenEmbeddedOnAPortInUseFailsFastWithAClearError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	start := time.Now()
	b, err := bus.Open(t.Context(), bus.Options{DataDir: t.TempDir(), Port: port, Logger: testLogger(t)})
	elapsed := time.Since(start)
	if err == nil {
		b.Close()
		t.Fatalf("Open on busy port %d succeeded", port)
	}
	t.Logf("failed in %s: %v", elapsed, err)
	if elapsed > 3*time.Second {
		t.Errorf("took %s to fail", elapsed)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "bus: start embedded NATS server") || !strings.Contains(msg, "--nats-port") {
		t.Errorf("error %q does not say what failed and which flag to check", msg)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		opts bus.Options
		want string
	}{
		{"no data directory", bus.Options{}, "bus: no data directory"},
		{"negative port", bus.Options{DataDir: dir, Port: -2}, "bus: NATS port -2"},
		{"port too large", bus.Options{DataDir: dir, Port: 70000}, "bus: NATS port 70000"},
		{"leaf remote not a URL", bus.Options{DataDir: dir, LeafRemotes: []string{"hq:7422"}}, `bus: leaf node remote "hq:7422"`},
		{"empty leaf remote", bus.Options{DataDir: dir, LeafRemotes: []string{" , "}}, "names no URL"},
		{"open leaf listener", bus.Options{DataDir: dir, LeafListenPort: 7422}, "needs TLS and an admission check"},
		{"leaf remote without TLS or signer", bus.Options{DataDir: dir, ServerName: "m", LeafRemotes: []string{"nats-leaf://hq:7422"}}, "needs TLS, a signer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Logger = testLogger(t)
			b, err := bus.Open(t.Context(), tt.opts)
			if err == nil {
				b.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// leafPair is a hub's LeafHub and a leaf's LeafDial for the test: TLS
// with a self-signed certificate the leaf pins, and an Ed25519 key of the
// leaf's that the hub admits while admit allows it.
func leafPair(tb testing.TB, name string, admit *atomic.Bool) (*bus.LeafHub, *bus.LeafDial) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hub"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	hub := &bus.LeafHub{
		TLS: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS13},
		Admit: func(n string, nonce, sig []byte) error {
			if n != name || !admit.Load() || !ed25519.Verify(pub, nonce, sig) {
				return errors.New("not admitted")
			}
			return nil
		},
	}
	dial := &bus.LeafDial{
		TLS: &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true, //nolint:gosec // pinned below
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, der) {
					return errors.New("not the hub's certificate")
				}
				return nil
			}},
		Sign: func(nonce []byte) ([]byte, error) { return ed25519.Sign(priv, nonce), nil },
	}
	return hub, dial
}

// openHub opens headquarters' bus with a leaf listener on a free port,
// which admits the mission named, and returns it, the port and the
// mission's way to dial it.
func openHub(t *testing.T, mission string) (*bus.Bus, int, *bus.LeafDial) {
	t.Helper()
	port := storetest.FreePort(t)
	admit := new(atomic.Bool)
	admit.Store(true)
	hub, dial := leafPair(t, mission, admit)
	hq := mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "hq", JetStreamDomain: "hq", LeafListenPort: port, LeafHub: hub})
	return hq, port, dial
}

func TestMissionLeafNodeForwardsToHeadquartersOnlyWhatIsGranted(t *testing.T) {
	leafPort := storetest.FreePort(t)
	var admit atomic.Bool
	admit.Store(true)
	hub, dial := leafPair(t, "mission-tokyo", &admit)
	hq := mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "hq", JetStreamDomain: "hq", LeafListenPort: leafPort, LeafHub: hub})
	if err := hq.GrantLeaf([]bus.LeafService{{Caller: "mission-tokyo", Provider: bus.HubAccount, Subject: "exchange.hq"}}, nil); err != nil {
		t.Fatalf("GrantLeaf: %v", err)
	}
	mission := mustOpen(t, bus.Options{
		DataDir:         t.TempDir(),
		ServerName:      "mission-tokyo",
		JetStreamDomain: "tokyo",
		LeafRemotes:     []string{fmt.Sprintf("nats-leaf://127.0.0.1:%d", leafPort)},
		LeafDial:        dial,
	})

	sub, err := hq.Conn().SubscribeSync("exchange.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := hq.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	// The leaf link and the subscription interest take a moment to
	// propagate; publish until headquarters hears it. The subject not
	// granted never crosses.
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, subj := range []string{"exchange.other", "exchange.hq"} {
			if err := mission.Conn().Publish(subj, []byte("from tokyo")); err != nil {
				t.Fatal(err)
			}
		}
		if m, err := sub.NextMsg(100 * time.Millisecond); err == nil {
			if m.Subject != "exchange.hq" || string(m.Data) != "from tokyo" {
				t.Fatalf("hq got %s %q", m.Subject, m.Data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("headquarters never received the mission's message over the leaf node")
		}
	}

	// Both ends compress at S2's fast level, whatever the round trip:
	// what the link carries is mostly ciphertext.
	for name, b := range map[string]*bus.Bus{"hq": hq, "mission": mission} {
		links, err := b.LeafLinks()
		if err != nil || len(links) != 1 {
			t.Fatalf("%s's leaf links: %+v, %v", name, links, err)
		}
		if links[0].Compression != "s2_fast" {
			t.Errorf("%s compresses its leaf link with %q, want s2_fast", name, links[0].Compression)
		}
	}

	// The mission's JetStream stays its own, and headquarters' is out of
	// its reach.
	mustStream(t, mission.JetStream(), "OUTBOX")
	if _, err := hq.JetStream().Stream(t.Context(), "OUTBOX"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("headquarters sees the mission's stream: %v", err)
	}
	mustStream(t, hq.JetStream(), "HQ")
	hqJS, err := jetstream.NewWithDomain(mission.Conn(), "hq")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := hqJS.DeleteStream(ctx, "HQ"); err == nil {
		t.Error("the mission deleted headquarters' stream")
	}

	// Disconnected and no longer admitted, it stays out.
	admit.Store(false)
	if n, err := hq.DisconnectLeaf("mission-tokyo"); err != nil || n != 1 {
		t.Fatalf("DisconnectLeaf = %d, %v; want 1 link closed", n, err)
	}
	time.Sleep(2500 * time.Millisecond) // the leaf retries every second
	if l, err := hq.LeafLinks(); err != nil || len(l) != 0 {
		t.Fatalf("after the disconnection the hub has links %+v, %v", l, err)
	}
}

func TestServerLogsGoToSlogAtSaneLevels(t *testing.T) {
	open := func(level slog.Level) string {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))
		b, err := bus.Open(t.Context(), bus.Options{DataDir: t.TempDir(), Logger: log})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		b.Close()
		return buf.String()
	}

	info := open(slog.LevelInfo)
	for _, want := range []string{
		`level=INFO msg="embedded NATS server started"`, // one summary line instead of the banner
		`level=INFO msg="Server Exiting.."`,             // notices after startup are Info
	} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO log lacks %s:\n%s", want, info)
		}
	}
	for _, unwanted := range []string{"level=DEBUG", "Starting nats-server", "JETSTREAM"} {
		if strings.Contains(info, unwanted) {
			t.Errorf("INFO log contains %q:\n%s", unwanted, info)
		}
	}

	debug := open(slog.LevelDebug)
	if !strings.Contains(debug, `level=DEBUG msg="Starting nats-server"`) {
		t.Errorf("DEBUG log lacks the server's startup banner:\n%s", debug)
	}
}

// TestClientPortListensOnLoopbackOnly pins that --nats-port exposes the
// embedded server's client port, which has no authentication, to the
// node's own host only, whatever interface the leaf listener uses.
func TestClientPortListensOnLoopbackOnly(t *testing.T) {
	var outside net.IP
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			outside = n.IP
			break
		}
	}
	if outside == nil {
		t.Skip("this host has no address but loopback to try the client port from")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	b, err := bus.Open(t.Context(), bus.Options{DataDir: t.TempDir(), Host: "0.0.0.0", Port: port, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(port)), 2*time.Second); err != nil {
		t.Fatalf("the client port does not answer on loopback: %v", err)
	} else {
		c.Close()
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(outside.String(), fmt.Sprint(port)), 2*time.Second); err == nil {
		c.Close()
		t.Fatalf("the client port answers on %s: it has no authentication and must listen on loopback only", outside)
	}
}

// A stock nats-server hub (deploy/nats: an account per mission, leafnode
// authorization with one user per mission) admits the mission that
// presents its leaf user, binds it to its account, and refuses a wrong
// password; it cannot check the node key's signature.
func TestMissionJoinsStockNATSServerWithItsLeafUser(t *testing.T) {
	leafPort := storetest.FreePort(t)
	var admit atomic.Bool
	hub, dial := leafPair(t, "mission-tokyo", &admit)
	tokyo := server.NewAccount("MISSION_TOKYO")
	sopts := &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, NoLog: true,
		Accounts: []*server.Account{tokyo}, Users: []*server.User{{Username: "hq", Password: "hq", Account: tokyo}}}
	sopts.LeafNode.Host, sopts.LeafNode.Port = "127.0.0.1", leafPort
	sopts.LeafNode.TLSConfig = hub.TLS.Clone()
	sopts.LeafNode.Users = []*server.User{{Username: "mission-tokyo", Password: "s3cret", Account: tokyo}}
	stock, err := server.NewServer(sopts)
	if err != nil {
		t.Fatal(err)
	}
	stock.Start()
	t.Cleanup(stock.Shutdown)
	if !stock.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	// Headquarters' side: a client in the mission's account (deploy's HQ
	// account reaches it through imports and exports).
	hqConn, err := nats.Connect(stock.ClientURL(), nats.UserInfo("hq", "hq"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hqConn.Close)
	sub, err := hqConn.SubscribeSync("exchange.hq")
	if err != nil {
		t.Fatal(err)
	}
	if err := hqConn.Flush(); err != nil {
		t.Fatal(err)
	}

	wrong := *dial
	wrong.User, wrong.Password = "mission-tokyo", "guess"
	bad := mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "mission-tokyo", JetStreamDomain: "tokyo",
		LeafRemotes: []string{fmt.Sprintf("nats-leaf://127.0.0.1:%d", leafPort)}, LeafDial: &wrong})
	time.Sleep(1500 * time.Millisecond) // one attempt at least
	if n := stock.NumLeafNodes(); n != 0 {
		t.Fatalf("the stock hub admitted a wrong password: %d leaf links", n)
	}
	bad.Close()

	right := *dial
	right.User, right.Password = "mission-tokyo", "s3cret"
	mission := mustOpen(t, bus.Options{DataDir: t.TempDir(), ServerName: "mission-tokyo", JetStreamDomain: "tokyo",
		LeafRemotes: []string{fmt.Sprintf("nats-leaf://127.0.0.1:%d", leafPort)}, LeafDial: &right})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := mission.Conn().Publish("exchange.hq", []byte("from tokyo")); err != nil {
			t.Fatal(err)
		}
		if m, err := sub.NextMsg(100 * time.Millisecond); err == nil {
			if string(m.Data) != "from tokyo" {
				t.Fatalf("hq got %q", m.Data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stock hub never carried the mission's message")
		}
	}
}
