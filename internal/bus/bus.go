// Package bus is Chancery's messaging backbone: a NATS connection with
// JetStream, on which capabilities build store-and-forward delivery and
// work queues.
//
// In the all-in-one and mission shapes, Open starts a NATS server inside the
// process, keeps its JetStream store in the data directory and connects to
// it without a TCP socket. At headquarters, Open connects to an external NATS
// cluster instead. A mission's embedded server may join headquarters as a
// leaf node, so that messages published while the link is down are
// forwarded when it returns.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults used when the corresponding Options field is zero.
const (
	// DefaultConnectTimeout bounds the dial to an external NATS server.
	DefaultConnectTimeout = 5 * time.Second

	// DefaultReadyTimeout bounds how long Open waits for the embedded
	// server to accept connections.
	DefaultReadyTimeout = 10 * time.Second

	// DefaultJetStreamMaxMemory caps memory-backed JetStream streams of
	// the embedded server: enough for work queues, small enough to share
	// a mission's machine with the database.
	DefaultJetStreamMaxMemory = 256 << 20

	// AnyPort, as Options.Port or Options.LeafListenPort, listens on any
	// free port, which the log and LeafAddr tell.
	AnyPort = -1

	// DefaultJetStreamMaxStore caps file-backed JetStream streams of the
	// embedded server. Blobs live in blob storage, not on the bus, so
	// this holds days of queued envelopes for a disconnected mission.
	DefaultJetStreamMaxStore = 10 << 30

	// pingTimeout bounds Ping when its context carries no deadline.
	pingTimeout = 2 * time.Second

	// drainTimeout bounds how long Close waits for in-flight messages.
	drainTimeout = 5 * time.Second
)

// ErrClosed is returned by Ping after Close.
var ErrClosed = errors.New("bus: closed (the bus was shut down; open a new one)")

// Options configures Open. The zero value, with DataDir set, starts an
// embedded server reachable only from inside the process.
type Options struct {
	// DataDir is the data directory; the embedded server keeps its
	// JetStream store in DataDir/nats, created if missing. It is required
	// unless URL is set, and ignored when URL is set.
	DataDir string

	// URL, if non-empty, is the address of an external NATS cluster with
	// JetStream, such as "nats://nats-1:4222", or a comma-separated list of
	// its servers. Open then connects to it and starts no server; the
	// fields below marked "embedded only" are ignored.
	URL string

	// Host is the interface on which the embedded server listens for
	// leaf nodes when LeafListenPort is positive. If empty, "127.0.0.1"
	// is used. The client port (Port) always listens on 127.0.0.1 only:
	// it has no authentication, so it is for tools on the node's own
	// host, never for a network. Embedded only.
	Host string

	// Port is the embedded server's TCP port for clients. If zero, the
	// server listens on no port at all and the bus connects in-process,
	// so a demo never collides with another NATS on 4222; AnyPort picks
	// a free one. Embedded only.
	Port int

	// ServerName names the embedded server in its logs and to the leaf
	// node hub. If empty, the server's generated ID is used. Embedded
	// only; with URL it names the client connection instead.
	ServerName string

	// JetStreamDomain is the embedded server's JetStream domain. A mission
	// joining headquarters as a leaf node needs a domain of its own so
	// that its streams stay local while the link is down. With URL, it is
	// the domain whose JetStream API the bus addresses. If empty, the
	// default domain is used.
	JetStreamDomain string

	// JetStreamMaxMemory and JetStreamMaxStore cap, in bytes, what the
	// embedded server's memory and file streams may hold. If zero,
	// DefaultJetStreamMaxMemory and DefaultJetStreamMaxStore are used; if
	// negative, the server derives a limit from the machine's memory and
	// free disk. Embedded only.
	JetStreamMaxMemory int64
	JetStreamMaxStore  int64

	// LeafRemotes lists the headquarters hubs that the embedded server
	// joins as a leaf node. Each entry is one hub: a URL such as
	// "nats-leaf://hq.example:7422", or a comma-separated list of the
	// URLs of one hub cluster's servers, tried in turn. The server
	// reconnects on its own when a link drops. Embedded only.
	LeafRemotes []string

	// LeafListenPort, if positive or AnyPort, makes the embedded server
	// accept leaf node connections from missions on Host:LeafListenPort,
	// secured by LeafHub, which it requires. Embedded only.
	LeafListenPort int

	// LeafHub secures the leaf listener: TLS, and which leaf nodes are
	// admitted (see LeafHub). Embedded only.
	LeafHub *LeafHub

	// LeafDial secures the links to LeafRemotes, which require it.
	// Embedded only.
	LeafDial *LeafDial

	// LeafLocalStreams names the embedded server's streams whose
	// consumers all live on this server: their acknowledgements never
	// cross a link to LeafRemotes, either way (see leafDenyLocal). Every
	// stream but those a hub's consumers read belongs here. The bus's
	// own streams are added. Embedded only.
	LeafLocalStreams []string

	// LeafRedialAfter is how long the embedded server may go without
	// any link to LeafRemotes before the bus dials them anew (see
	// watchLeafs). If zero, DefaultLeafRedialAfter is used. Embedded
	// only.
	LeafRedialAfter time.Duration

	// ConnectTimeout bounds each dial to an external NATS server. If
	// zero, DefaultConnectTimeout is used. Open also stops at the
	// deadline of its context, whichever comes first.
	ConnectTimeout time.Duration

	// Replicas is how many servers of an external cluster keep each
	// stream Chancery creates (JetStream's R): 3 on a three-node cluster
	// keeps every stream through the loss of one server. Zero or one
	// keeps one copy, as an embedded server does. External only.
	Replicas int

	// Logger receives the bus's and the embedded server's logs. If nil,
	// slog.Default() is used.
	Logger *slog.Logger
}

// A Bus is a NATS connection with JetStream, and the embedded server it
// talks to when there is one. Its methods are safe for concurrent use.
type Bus struct {
	log    *slog.Logger
	ns     *server.Server // nil when connected to an external cluster
	auth   *leafAuth      // the leaf listener's admission; nil without one
	nc     *nats.Conn
	js     jetstream.JetStream
	target string        // what the bus connected to, for error messages
	connCl chan struct{} // closed when nc is closed

	// fault is the embedded server's pending store write failure, slog
	// its logger, and watchStop and watchDone stop and await the watcher
	// that recovers from it (see recover.go); all nil with an external
	// cluster.
	fault     *storeFault
	slog      *serverLogger
	watchStop chan struct{}
	watchDone chan struct{}
	leafDone  chan struct{} // closed when watchLeafs returns; nil without leaf remotes
	ready     readyCache
	replicas  int // Options.Replicas with an external cluster, else 0

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error // set inside closeOnce
}

// Open starts the embedded NATS server with JetStream and connects to it,
// or, when opts.URL is set, connects to that external cluster. It returns
// once JetStream answers. The caller must Close the returned Bus.
func Open(ctx context.Context, opts Options) (*Bus, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bus: open: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "bus")

	b := &Bus{log: log, connCl: make(chan struct{})}
	if opts.URL != "" {
		b.replicas = opts.Replicas
		if err := b.connectExternal(ctx, opts); err != nil {
			return nil, err
		}
	} else {
		if err := b.startEmbedded(ctx, opts); err != nil {
			return nil, err
		}
	}

	// Prove that JetStream answers before declaring the bus open: an
	// external cluster without JetStream should fail here, not on the
	// first delivery.
	if err := b.accountInfo(ctx); err != nil {
		b.Close()
		if b.ns != nil {
			return nil, fmt.Errorf("bus: embedded JetStream in %s does not answer: %w", opts.DataDir, err)
		}
		return nil, fmt.Errorf("bus: JetStream at %s does not answer: %w (enable JetStream on the NATS cluster, or check --nats)", b.target, err)
	}
	return b, nil
}

// startEmbedded starts the embedded server and connects to it.
func (b *Bus) startEmbedded(ctx context.Context, opts Options) error {
	sopts, err := serverOptions(opts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(sopts.StoreDir, 0o700); err != nil {
		return fmt.Errorf("bus: create JetStream store %s: %w (check --data)", sopts.StoreDir, err)
	}
	if opts.LeafHub != nil && sopts.LeafNode.Port != 0 {
		b.auth = &leafAuth{hub: opts.LeafHub, log: b.log}
		sopts.CustomClientAuthentication = b.auth
	}
	ns, err := server.NewServer(sopts)
	if err != nil {
		return fmt.Errorf("bus: configure embedded NATS server: %w", err)
	}
	if b.auth != nil {
		b.auth.ns = ns
	}
	sl := newServerLogger(b.log.With("nats", "server"))
	b.fault, b.slog = newStoreFault(), sl
	sl.onWriteFailure = b.fault.report
	ns.SetLoggerV2(sl, sl.debug, sl.trace, false)
	sl.starting.Store(true)
	ns.Start()
	err = waitReady(ctx, ns, sl)
	sl.starting.Store(false)
	if err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fmt.Errorf("bus: start embedded NATS server in %s: %w", sopts.StoreDir, err)
	}
	b.ns = ns
	b.target = "embedded server"
	if sopts.DontListen {
		b.target += " (in-process)"
	} else {
		b.target += " on " + ns.ClientURL()
	}

	name := opts.ServerName
	if name == "" {
		name = "chancery"
	}
	nc, err := nats.Connect(ns.ClientURL(), b.natsOptions(name, nats.InProcessServer(ns))...)
	if err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fmt.Errorf("bus: connect to %s: %w", b.target, err)
	}
	b.nc = nc
	if b.js, err = jetstream.New(nc); err != nil {
		b.Close()
		return fmt.Errorf("bus: JetStream on %s: %w", b.target, err)
	}
	attrs := []any{"version", server.VERSION, "name", ns.Name(), "store", sopts.StoreDir,
		"max_memory", sopts.JetStreamMaxMemory, "max_store", sopts.JetStreamMaxStore}
	if sopts.DontListen {
		attrs = append(attrs, "listen", "in-process only")
	} else {
		attrs = append(attrs, "listen", ns.ClientURL())
	}
	if sopts.JetStreamDomain != "" {
		attrs = append(attrs, "domain", sopts.JetStreamDomain)
	}
	if sopts.LeafNode.Port != 0 {
		attrs = append(attrs, "leaf_listen", b.LeafAddr())
	}
	if n := len(sopts.LeafNode.Remotes); n > 0 {
		attrs = append(attrs, "leaf_remotes", n)
	}
	b.log.Info("embedded NATS server started", attrs...)
	b.watchStop, b.watchDone = make(chan struct{}), make(chan struct{})
	go b.watch(sopts, b.watchStop, b.watchDone)
	if len(sopts.LeafNode.Remotes) > 0 {
		b.leafDone = make(chan struct{})
		go b.watchLeafs(sopts, leafRedialAfter(opts), b.watchStop, b.leafDone)
	}
	return nil
}

// waitReady waits until ns accepts connections, returning early with the
// server's own complaint if it reports a fatal error (such as a port in use)
// or if ctx ends.
func waitReady(ctx context.Context, ns *server.Server, l *serverLogger) error {
	timeout := DefaultReadyTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	deadline := time.Now().Add(timeout)
	for {
		if ns.ReadyForConnections(50 * time.Millisecond) {
			return nil
		}
		if msg := l.fatal(); msg != "" {
			hint := "check --nats-port, where 0 picks any free port, and --data"
			if strings.Contains(msg, "leafnode") {
				hint = "check --leaf-addr: is another program, or another chancery, listening there? Port 0 picks any free port"
			}
			return fmt.Errorf("%s (%s)", msg, hint)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready for connections after %s", timeout)
		}
	}
}

// serverOptions translates opts into the embedded server's options.
func serverOptions(opts Options) (*server.Options, error) {
	if opts.DataDir == "" {
		return nil, errors.New("bus: no data directory for the embedded NATS server (set --data, or --nats to use an external cluster)")
	}
	if opts.Port < AnyPort || opts.Port > 65535 {
		return nil, fmt.Errorf("bus: NATS port %d is not a port number (check --nats-port)", opts.Port)
	}
	if opts.LeafListenPort < AnyPort || opts.LeafListenPort > 65535 {
		return nil, fmt.Errorf("bus: leaf node port %d is not a port number", opts.LeafListenPort)
	}
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	sopts := &server.Options{
		ServerName:         opts.ServerName,
		JetStream:          true,
		JetStreamDomain:    opts.JetStreamDomain,
		JetStreamMaxMemory: orDefault(opts.JetStreamMaxMemory, DefaultJetStreamMaxMemory),
		JetStreamMaxStore:  orDefault(opts.JetStreamMaxStore, DefaultJetStreamMaxStore),
		StoreDir:           filepath.Join(opts.DataDir, "nats"),
		// The process owns signals; the server must not exit or
		// reload behind Chancery's back.
		NoSigs: true,
	}
	// AnyPort is the server's own RANDOM_PORT, for either port.
	if opts.Port == 0 {
		sopts.DontListen = true
	} else {
		sopts.Host, sopts.Port = "127.0.0.1", opts.Port
	}
	if opts.LeafListenPort != 0 {
		if h := opts.LeafHub; h == nil || h.TLS == nil || h.Admit == nil {
			return nil, errors.New("bus: a leaf node listener needs TLS and an admission check (LeafHub); an open one would let anyone who reaches it into the hub")
		}
		sopts.LeafNode.Host, sopts.LeafNode.Port = host, opts.LeafListenPort
		sopts.LeafNode.TLSConfig = opts.LeafHub.TLS.Clone()
		// The server's authorisation timeout follows, a second longer.
		sopts.LeafNode.TLSTimeout = leafHandshakeTimeout.Seconds()
		sopts.LeafNode.Compression = server.CompressionOpts{Mode: leafCompression}
	}
	for _, remote := range opts.LeafRemotes {
		r, err := leafRemote(remote)
		if err != nil {
			return nil, err
		}
		if d := opts.LeafDial; d == nil || d.TLS == nil || d.Sign == nil || opts.ServerName == "" {
			return nil, errors.New("bus: a leaf node link needs TLS, a signer (LeafDial) and a server name; the hub admits no one without them")
		}
		leafRemoteAuth(r, opts.LeafDial)
		if r.DenyImports, err = leafDenyLocal(opts.LeafLocalStreams); err != nil {
			return nil, err
		}
		r.DenyExports = r.DenyImports
		r.Compression = server.CompressionOpts{Mode: leafCompression}
		sopts.LeafNode.Remotes = append(sopts.LeafNode.Remotes, r)
	}
	return sopts, nil
}

// orDefault returns v, def when v is zero, or -1 (the server's "derive it
// from the machine") when v is negative.
func orDefault(v, def int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return -1
	}
	return v
}

// leafCompression is how each end of a leaf link compresses what it
// sends: S2 at its fast level. The exchange's batches are sealed, and
// ciphertext does not compress, so only the protocol and the global
// configuration gain; NATS's default, s2_auto, picks its best (and
// slowest) level once the link's round trip passes 100 ms, which a busy
// machine's loopback reaches as well as a far mission's link, and then
// spends the CPU compressing ciphertext (a third of it, with 20 missions
// on one machine).
const leafCompression = server.CompressionS2Fast

// leafHandshakeTimeout bounds the wait for the hub's first INFO and for
// the TLS handshake of a leaf link; nats-server's defaults are 1 s and
// 2 s. A mission on a satellite link (600 ms and more a round trip, with
// loss) needs longer, and so does any mission when a hub takes the links
// of many at once (its peer killed): a handshake cut short is begun
// again from scratch, repeating the work that made it late (at full size
// the survivors logged hundreds of "TLS Handshake Failure" a minute, and
// no mission rejoined for minutes). What a leaf cannot wait longer for
// is the hub's answer to its CONNECT, 2 s fixed in nats-server
// (connectProcessTimeout): a link's round trip, with the hub's check of
// the mission, must stay under it (TestAMissionOnASlowLinkJoinsItsHub).
const leafHandshakeTimeout = 10 * time.Second

// leafRemote parses one hub's comma-separated URLs.
func leafRemote(s string) (*server.RemoteLeafOpts, error) {
	// Only the configured hub addresses: a hub advertises the
	// addresses its cluster sees itself at, which from a mission may
	// be unreachable internal ones, or a way around the proxy or
	// firewall the operator put in the path.
	r := &server.RemoteLeafOpts{IgnoreDiscoveredServers: true,
		TLSTimeout: leafHandshakeTimeout.Seconds(), FirstInfoTimeout: leafHandshakeTimeout}
	for raw := range strings.SplitSeq(s, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("bus: leaf node remote %q is not a URL such as nats-leaf://hq.example:7422", raw)
		}
		r.URLs = append(r.URLs, u)
	}
	if len(r.URLs) == 0 {
		return nil, fmt.Errorf("bus: leaf node remote %q names no URL", s)
	}
	return r, nil
}

// connectExternal connects to the cluster at opts.URL.
func (b *Bus) connectExternal(ctx context.Context, opts Options) error {
	b.target = opts.URL
	timeout := opts.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	name := opts.ServerName
	if name == "" {
		name = "chancery"
	}
	if host, err := os.Hostname(); err == nil {
		name += "@" + host
	}

	// nats.Connect takes no context; run it aside so that a cancelled
	// ctx returns at once. The dial itself is bounded by timeout.
	type result struct {
		nc  *nats.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		nc, err := nats.Connect(opts.URL, b.natsOptions(name,
			nats.Timeout(timeout),
			// Once connected, never give up on the cluster: the bus is
			// the node's lifeline and reconnecting is NATS's job.
			nats.MaxReconnects(-1),
		)...)
		done <- result{nc, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		go func() {
			if r := <-done; r.nc != nil {
				r.nc.Close()
			}
		}()
		return fmt.Errorf("bus: connect to external NATS at %s: %w (check --nats)", opts.URL, ctx.Err())
	}
	if res.err != nil {
		return fmt.Errorf("bus: connect to external NATS at %s: %w (check --nats)", opts.URL, res.err)
	}
	b.nc = res.nc
	var err error
	if opts.JetStreamDomain != "" {
		b.js, err = jetstream.NewWithDomain(b.nc, opts.JetStreamDomain)
	} else {
		b.js, err = jetstream.New(b.nc)
	}
	if err != nil {
		b.Close()
		return fmt.Errorf("bus: JetStream at %s: %w (check --nats)", opts.URL, err)
	}
	b.log.Info("connected to external NATS", "url", b.nc.ConnectedUrlRedacted(), "server", b.nc.ConnectedServerName())
	return nil
}

// natsOptions returns the client options common to both modes.
func (b *Bus) natsOptions(name string, extra ...nats.Option) []nats.Option {
	return append([]nats.Option{
		nats.Name(name),
		nats.DrainTimeout(drainTimeout),
		nats.ClosedHandler(func(*nats.Conn) { close(b.connCl) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil && !b.closed.Load() {
				b.log.Warn("NATS connection lost; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("NATS connection restored", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				b.log.Error("NATS asynchronous error", "subject", sub.Subject, "err", err)
				return
			}
			b.log.Error("NATS asynchronous error", "err", err)
		}),
	}, extra...)
}

// Conn returns the bus's NATS connection, for core publish and subscribe.
// The Bus owns it: callers must not close or drain it.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// JetStream returns the JetStream context for streams, consumers and
// key-value buckets.
func (b *Bus) JetStream() jetstream.JetStream { return b.Replicated(b.js) }

// Replicated returns js, whose streams, when created or updated without
// a replica count, are kept by Options.Replicas servers of the external
// cluster. Every stream Chancery creates goes through it, so that one
// setting makes them all survive the loss of a server.
func (b *Bus) Replicated(js jetstream.JetStream) jetstream.JetStream {
	if b.replicas <= 1 {
		return js
	}
	return replicatedJS{JetStream: js, replicas: b.replicas}
}

// replicatedJS sets the replica count of the streams it creates.
type replicatedJS struct {
	jetstream.JetStream
	replicas int
}

func (r replicatedJS) fill(cfg jetstream.StreamConfig) jetstream.StreamConfig {
	if cfg.Replicas == 0 {
		cfg.Replicas = r.replicas
	}
	return cfg
}

func (r replicatedJS) CreateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	return r.JetStream.CreateStream(ctx, r.fill(cfg))
}

func (r replicatedJS) CreateOrUpdateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	return r.JetStream.CreateOrUpdateStream(ctx, r.fill(cfg))
}

func (r replicatedJS) UpdateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	return r.JetStream.UpdateStream(ctx, r.fill(cfg))
}

// CreateOrUpdateKeyValue keeps a key-value bucket, a stream underneath,
// on as many servers as the other streams.
func (r replicatedJS) CreateOrUpdateKeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if cfg.Replicas == 0 {
		cfg.Replicas = r.replicas
	}
	return r.JetStream.CreateOrUpdateKeyValue(ctx, cfg)
}

// Embedded reports whether the bus runs its own NATS server rather than
// connecting to an external cluster.
func (b *Bus) Embedded() bool { return b.ns != nil }

// LeafAddr returns where the embedded server listens for leaf nodes, as
// host:port (the port it chose when asked for AnyPort), or "" when it
// listens for none.
func (b *Bus) LeafAddr() string {
	if b.ns == nil {
		return ""
	}
	v, err := b.ns.Varz(nil)
	if err != nil || v.LeafNode.Port <= 0 {
		return ""
	}
	return net.JoinHostPort(v.LeafNode.Host, strconv.Itoa(v.LeafNode.Port))
}

// Ping reports whether the bus works: a round trip to the NATS server and a
// JetStream account lookup both succeed before ctx ends. If ctx has no
// deadline, Ping gives up after two seconds. After Close, Ping returns
// ErrClosed.
func (b *Bus) Ping(ctx context.Context) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pingTimeout)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		if b.closed.Load() {
			return ErrClosed
		}
		return fmt.Errorf("bus: round trip to %s: %w (%s)", b.target, err, b.nc.Status())
	}
	if err := b.accountInfo(ctx); err != nil {
		return fmt.Errorf("bus: JetStream at %s: %w", b.target, err)
	}
	return nil
}

func (b *Bus) accountInfo(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pingTimeout)
		defer cancel()
	}
	_, err := b.js.AccountInfo(ctx)
	return err
}

// Close drains the connection, letting in-flight messages and
// acknowledgements finish for up to five seconds, then shuts down the
// embedded server, if any, and waits until it has stopped. Calling Close
// again returns the first call's result.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.close() })
	return b.closeErr
}

func (b *Bus) close() error {
	b.closed.Store(true)
	var err error
	if b.nc != nil {
		if derr := b.nc.Drain(); derr != nil {
			// Not connected (reconnecting, or already closed): there
			// is nothing to drain.
			b.nc.Close()
		}
		select {
		case <-b.connCl:
		case <-time.After(drainTimeout + time.Second):
			b.nc.Close()
			err = fmt.Errorf("bus: close: connection to %s did not drain within %s", b.target, drainTimeout)
		}
	}
	if b.watchStop != nil {
		// Before the server stops: its JetStream going off then is
		// no failure to recover from.
		close(b.watchStop)
		<-b.watchDone
		if b.leafDone != nil {
			<-b.leafDone
		}
	}
	if b.ns != nil {
		b.ns.Shutdown()
		b.ns.WaitForShutdown()
	}
	return err
}
