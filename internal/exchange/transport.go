package exchange

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/errs"
	"chancery/internal/lease"
)

// The asynchronous transport is JetStream's leaf-node store-and-forward
// pattern. Each node keeps one stream, EXCHANGE, in its own JetStream
// domain, holding what it sends: subject chx.out.<source>.<destination>.
// A send is durable once its log row is committed (the log is the
// outbox); the node then seals the message into a signed batch and
// publishes it to its own stream, which works while the link is down.
// Each destination pulls from every source's stream, across the leaf
// link, with a durable consumer of its own, and acknowledges a batch only
// after its delivery is committed, so a crash in between redelivers it
// and the log's unique message ids drop the copy: at least once on the
// wire, exactly once to the receiving system, in order per sender.
//
// The subjects carry the source node as well as the destination because
// leaf links propagate interest: with subjects naming the destination
// only, a mission's publication would also land in headquarters' stream.

// Transport names and limits.
const (
	streamName     = "EXCHANGE"
	subjectPrefix  = "chx.out."
	confSubject    = "chx.conf"
	confGetSubject = "chx.conf.get"

	// sendGroupMax bounds how many sends one transaction commits.
	sendGroupMax = 1024
	// sendQueue bounds the sends waiting for a destination's committer;
	// beyond it Send blocks, which is the backpressure.
	sendQueue = 1024
	// batchTarget is the wire size a batch is cut at; a message above
	// chunkAbove bytes travels alone, in chunks if the bus needs it.
	batchTarget = 256 << 10
	// fetchMax and fetchWait bound one pull from a source's stream.
	fetchMax = 512
	// fetchMaxBytes bounds the bytes one pull brings into memory.
	fetchMaxBytes = 4 << 20
	//
	// A pull's deliveries that reach this node after its fetch has given
	// up (fetchWait plus a second without a message) are lost on the way,
	// and come again only after a resynchronisation. Round trips across
	// headquarters' cluster and a leaf link took 1.5 to 3.5 s at load 80,
	// which a wait of one second turned into a resynchronisation on
	// nearly every pull.
	fetchWait = 5 * time.Second
	// consumerTimeout bounds the making of a consumer on a source's
	// stream: reading it, and deleting and creating it again. At
	// headquarters each is a Raft commit of the cluster, which takes
	// seconds on a loaded one; createForLeaf's own bound is below it.
	consumerTimeout = 20 * time.Second
	// maxAckPending bounds the batches a destination holds unacknowledged.
	maxAckPending = 4096
	ackWait       = 30 * time.Second
	// messageSkew is how far in the future a message's time may be.
	messageSkew = 5 * time.Minute
	// dupWindow is the stream's duplicate window on Nats-Msg-Id.
	dupWindow = 2 * time.Minute
	// confRefresh is how often a mission asks headquarters whether it
	// has a newer configuration (an empty answer when not).
	confRefresh = 30 * time.Second
	// confFollow is how often a headquarters replica looks in the
	// database for a configuration another replica installed, in case
	// the publication on the bus did not reach it (a reconnecting
	// connection misses it, and nothing else would bring it before the
	// next hourly renewal).
	confFollow = 5 * time.Second
	// retentionEvery is how often bodies past the retention are erased.
	retentionEvery = 10 * time.Minute
	// forwardEvery is how often a destination re-sends what is pending.
	forwardEvery = 5 * time.Second
	// maxBackoff caps the wait between tries to reach a peer.
	maxBackoff = 10 * time.Second
	// chunk headers.
	hdrChunk = "Chx-Chunk" // "<index>/<count>"
	hdrBatch = "Chx-Batch" // hex batch id
)

// ErrTransportStopped is returned by Send when the node's transport is
// not running (Run has not started, or has returned).
var ErrTransportStopped = fmt.Errorf("exchange: the message transport of this node is not running (start the node, or wait for it to finish starting): %w", errs.ErrUnavailable)

// transport is the running asynchronous transport of one node.
type transport struct {
	n        *Node
	nc       *nats.Conn
	js       jetstream.JetStream // this node's own domain
	maxWire  int                 // the largest message the bus takes, less headroom for headers
	ctx      context.Context
	wg       sync.WaitGroup
	mu       sync.Mutex
	dests    map[string]*destination       // by destination node; guarded by mu, bounded by the configuration's nodes
	sources  map[string]context.CancelFunc // consumer loop of each source node; guarded by mu
	startSeq int64                         // the log's last seq when Run started: rows up to it are leftovers

	// leases, when the node is one of several replicas (ReceiveLease),
	// runs each source's consumer loop on one replica at a time.
	leases *lease.Runner

	hookKick chan struct{} // wakes the webhook deliverer
	confKick chan struct{} // asks headquarters for the configuration
	confPub  chan struct{} // at headquarters, wakes the configuration's publisher
	confOut  atomic.Pointer[[]byte]
	asks     confAsks // the requests for the configuration (conflatest.go)
	links    linkTable
}

// transport returns the node's running transport, or nil.
func (n *Node) transport() *transport {
	return n.tr.Load()
}

// Run runs the node's asynchronous transport until ctx ends: the stream,
// a consumer loop per source node, the senders and forwarders, the
// webhook deliverer, the log signer, the retention of bodies, the link
// monitor and the distribution of the global configuration. It returns
// after stopping all of them, with nil when ctx ended and an error if the
// transport could not start. The node must have a bus (Attach).
func (n *Node) Run(ctx context.Context) error {
	if n.bus == nil {
		return errors.New("exchange: the node has no message bus; call Attach before Run")
	}
	nc := n.bus.Conn()
	js, err := jetstream.NewWithDomain(nc, n.domain, jetstream.WithPublishAsyncMaxPending(4*maxAckPending))
	if err != nil {
		return fmt.Errorf("exchange: JetStream of domain %s: %w", n.domain, err)
	}
	js = n.bus.Replicated(js)
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := &transport{n: n, nc: nc, js: js, ctx: ctx, dests: map[string]*destination{}, sources: map[string]context.CancelFunc{},
		maxWire: int(n.bus.MaxPayload()) - 8<<10, hookKick: make(chan struct{}, 1), confKick: make(chan struct{}, 1),
		confPub: make(chan struct{}, 1)}
	if n.opts.ReceiveLease > 0 {
		t.leases = lease.NewRunner(n.db, lease.Options{TTL: n.opts.ReceiveLease, Log: n.log})
	}
	// failed stops what started before a failure, and reports it unless
	// ctx ended meanwhile: a transport stopped while it started is not
	// broken.
	failed := func(err error) error {
		cancel()
		t.wg.Wait()
		if parent.Err() != nil {
			return nil
		}
		return err
	}
	if err := t.createStream(ctx); err != nil {
		return failed(err)
	}
	if err := n.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM exchange_log`).Scan(&t.startSeq); err != nil {
		return failed(fmt.Errorf("exchange: read the message log: %w", err))
	}
	subs, err := t.serveConf()
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range subs {
			s.Unsubscribe() //nolint:errcheck // the connection may be closing
		}
	}()
	// The server holds the subscriptions before the transport counts as
	// running, so a configuration another replica publishes from then on
	// reaches this one.
	if err := t.nc.Flush(); err != nil {
		n.log.Warn("exchange: flush the configuration's subscriptions", "err", err)
	}
	if !n.tr.CompareAndSwap(nil, t) {
		return errors.New("exchange: the node's transport is already running")
	}
	defer n.tr.Store(nil)
	// The transport's writers commit in groups while it runs (see
	// store.Writer).
	waitWriter, err := n.writer.Start(ctx)
	if err != nil {
		return failed(fmt.Errorf("exchange: %w", err))
	}
	t.spawn(waitWriter)
	if err := t.resumePending(ctx); err != nil {
		return failed(err)
	}
	t.spawn(func() { n.RunLogSigner(ctx, 200*time.Millisecond) })
	t.spawn(func() { t.runRetention(ctx) })
	t.spawn(func() { t.runWebhooks(ctx) })
	t.spawn(func() { t.runMonitor(ctx) })
	if n.role != RoleHQ {
		t.spawn(func() { t.runConfRequests(ctx) })
	} else {
		t.spawn(func() { t.runConfPublisher(ctx) })
		t.spawn(func() { t.runConfFollower(ctx) })
	}
	t.syncSources()
	n.log.Info("exchange: transport running", "node", n.id, "domain", n.domain)
	<-ctx.Done()
	t.wg.Wait()
	return nil
}

func (t *transport) spawn(f func()) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f()
	}()
}

// createStream creates or updates the node's outgoing stream.
func (t *transport) createStream(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := t.js.CreateOrUpdateStream(cctx, jetstream.StreamConfig{
		Name:        streamName,
		Description: "Chancery exchange: batches this node sends, by destination node",
		Subjects:    []string{subjectPrefix + subjectToken(t.n.id) + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.WorkQueuePolicy,
		Duplicates:  dupWindow,
		Discard:     jetstream.DiscardNew,
	})
	if err != nil {
		return fmt.Errorf("exchange: create stream %s in domain %s: %w", streamName, t.n.domain, err)
	}
	return nil
}

// syncSources runs one consumer loop per node of the configuration this
// node is linked with (GlobalConf.Linked), starting loops for new links
// and stopping those of nodes removed. A loop stays when a right is
// withdrawn: what was sent before is still taken (and refused).
func (t *transport) syncSources() {
	conf, err := t.n.Conf()
	if err != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, stop := range t.sources {
		if _, ok := conf.Node(id); !ok {
			stop()
			delete(t.sources, id)
		}
	}
	for _, info := range conf.Nodes {
		if _, ok := t.sources[info.ID]; ok || t.ctx.Err() != nil || !conf.Linked(t.n.id, info.ID) {
			continue
		}
		ctx, cancel := context.WithCancel(t.ctx)
		t.sources[info.ID] = cancel
		src := info.ID
		t.spawn(func() { t.receiveFrom(ctx, src) })
	}
}

// receiveFrom runs the consumer loop of src until ctx ends: at once on a
// node that receives alone, under src's lease on one of several
// replicas. Several replicas pulling one consumer would each commit
// what they were handed, so a sender's later message could be committed
// before an earlier one that another replica still held.
func (t *transport) receiveFrom(ctx context.Context, src string) {
	if t.leases == nil {
		t.consume(ctx, src, nil)
		return
	}
	t.leases.Run(ctx, receiveLeaseName(src), func(ctx context.Context, l lease.Lease) { t.consume(ctx, src, &l) })
}

// receiveLeaseName names the lease under which a replica receives what
// src sends.
func receiveLeaseName(src string) string { return "exchange.receive." + subjectToken(src) }

// runRetention erases message bodies older than the retention.
func (t *transport) runRetention(ctx context.Context) {
	tick := time.NewTicker(retentionEvery)
	defer tick.Stop()
	for {
		if _, err := t.n.EraseExpiredBodies(ctx); err != nil && ctx.Err() == nil {
			t.n.log.Error("exchange: erase message bodies past the retention", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// kick wakes a goroutine waiting on c without ever blocking.
func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// subjectToken makes a node id safe as one NATS subject token and in a
// consumer name; ids of letters, digits, '-' and '_' stay as they are.
func subjectToken(id string) string {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "~" + hex.EncodeToString([]byte(id))
		}
	}
	return id
}

func subjectFor(source, dest string) string {
	return subjectPrefix + subjectToken(source) + "." + subjectToken(dest)
}

// consumerName names dest's durable consumer on src's stream. The name
// must differ from every other consumer's on any node's stream: all the
// streams are called EXCHANGE, and JetStream's acknowledgement subjects
// ($JS.ACK.<stream>.<consumer>...) carry no domain and cross leaf links,
// so two consumers of one name on two nodes would each take the other's
// acknowledgements for their own, and a work-queue stream drops what is
// acknowledged. A token has a '~' only in first place, so the name
// "in-<dest>~<source>" gives back both ids.
func consumerName(src, dest string) string {
	return "in-" + subjectToken(dest) + "~" + subjectToken(src)
}

// bodyAD binds a sealed body to its direction and message id.
func bodyAD(direction, msgID string) []byte {
	return []byte("exchange-body:" + direction + ":" + msgID)
}

// backoff doubles a wait from 100 ms up to maxBackoff, with jitter.
type backoff struct{ d time.Duration }

func (b *backoff) next() time.Duration {
	if b.d == 0 {
		b.d = 100 * time.Millisecond
	} else {
		b.d = min(2*b.d, maxBackoff)
	}
	return b.d/2 + rand.N(b.d/2+1)
}

func (b *backoff) reset() { b.d = 0 }

// sleep waits d or until ctx ends, reporting whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
