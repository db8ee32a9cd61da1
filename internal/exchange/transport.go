package exchange

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
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
	fetchWait     = time.Second
	// maxAckPending bounds the batches a destination holds unacknowledged.
	maxAckPending = 4096
	ackWait       = 30 * time.Second
	// messageSkew is how far in the future a message's time may be.
	messageSkew = 5 * time.Minute
	// dupWindow is the stream's duplicate window on Nats-Msg-Id.
	dupWindow = 2 * time.Minute
	// confRefresh is how often a mission asks headquarters for the
	// configuration.
	confRefresh = 5 * time.Minute
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

// Outgoing is a message an information system sends through its node.
type Outgoing struct {
	// From is the sending subsystem, which this node must serve.
	From ClientID
	// To is the asynchronous service the message is for; its provider
	// receives it.
	To ServiceID
	// Level is the message's classification.
	Level authz.Level
	// ContentType is the payload's media type.
	ContentType string
	Payload     []byte
}

// transport is the running asynchronous transport of one node.
type transport struct {
	n        *Node
	nc       *nats.Conn
	js       jetstream.JetStream // this node's own domain
	maxWire  int                 // the largest message the bus takes, less headroom for headers
	ctx      context.Context
	wg       sync.WaitGroup
	mu       sync.Mutex
	writeMu  sync.Mutex                    // serialises the transport's writes on SQLite (writeTx)
	wconn    *sql.Conn                     // the connection of those writes; guarded by writeMu
	queueMu  sync.Mutex                    // guards queue
	queue    []*writeJob                   // writes waiting for writeMu, at most one per caller
	walKick  chan struct{}                 // a write committed: the WAL needs a checkpoint
	dests    map[string]*destination       // by destination node; guarded by mu, bounded by the configuration's nodes
	sources  map[string]context.CancelFunc // consumer loop of each source node; guarded by mu
	startSeq int64                         // the log's last seq when Run started: rows up to it are leftovers

	hookKick chan struct{} // wakes the webhook deliverer
	confKick chan struct{} // asks headquarters for the configuration
	links    linkTable
}

// transport returns the node's running transport, or nil.
func (n *Node) transport() *transport {
	return n.tr.Load()
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
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := &transport{n: n, nc: nc, js: js, ctx: ctx, dests: map[string]*destination{}, sources: map[string]context.CancelFunc{},
		maxWire: int(n.bus.MaxPayload()) - 8<<10, hookKick: make(chan struct{}, 1), confKick: make(chan struct{}, 1),
		walKick: make(chan struct{}, 1)}
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
	if !n.tr.CompareAndSwap(nil, t) {
		return errors.New("exchange: the node's transport is already running")
	}
	defer n.tr.Store(nil)
	subs, err := t.serveConf()
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range subs {
			s.Unsubscribe() //nolint:errcheck // the connection may be closing
		}
	}()
	if n.db.Dialect == store.SQLite {
		t.writeMu.Lock()
		err := t.openWriter(ctx)
		t.writeMu.Unlock()
		if err != nil {
			return failed(err)
		}
		t.spawn(func() { t.runCheckpoints(ctx) })
	}
	if err := t.resumePending(ctx); err != nil {
		return failed(err)
	}
	t.spawn(func() { n.RunLogSigner(ctx, 200*time.Millisecond) })
	t.spawn(func() { t.runRetention(ctx) })
	t.spawn(func() { t.runWebhooks(ctx) })
	t.spawn(func() { t.runMonitor(ctx) })
	if n.role != RoleHQ {
		t.spawn(func() { t.runConfRequests(ctx) })
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

// syncSources runs one consumer loop per node of the configuration,
// starting loops for new nodes and stopping those of nodes removed.
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
		if _, ok := t.sources[info.ID]; ok || t.ctx.Err() != nil {
			continue
		}
		ctx, cancel := context.WithCancel(t.ctx)
		t.sources[info.ID] = cancel
		src := info.ID
		t.spawn(func() { t.consume(ctx, src) })
	}
}

// Send checks a message against the global configuration, makes it
// durable in the message log and returns its id; the transport then
// delivers it, whether or not the destination is reachable now. A message
// the configuration does not allow is refused with a *RefusedError and
// never queued. Send returns ErrConfExpired when the node's configuration
// has expired, and ErrTransportStopped when Run is not running.
func (n *Node) Send(ctx context.Context, m Outgoing) (string, error) {
	conf, err := n.sendConf(ctx)
	if err != nil {
		return "", err
	}
	dest, err := checkOutgoing(conf, n.id, m)
	if err != nil {
		n.metrics.message("out", m.To, "refused", 1)
		return "", err
	}
	t := n.transport()
	if t == nil {
		return "", ErrTransportStopped
	}
	e := &Envelope{Header: Header{ID: NewMessageID(n.now()), Type: TypeMessage, Sender: m.From, Recipient: m.To.Provider(), Service: m.To,
		// The log keeps microseconds; the envelope must be rebuilt from
		// it with the same digest.
		Time:  n.now().UTC().Truncate(time.Microsecond),
		Level: m.Level, ContentType: m.ContentType}, Payload: m.Payload}
	body, err := n.ring.Seal(ctx, keyPurpose, m.Payload, bodyAD("out", e.ID))
	if err != nil {
		return "", fmt.Errorf("exchange: seal message body: %w", err)
	}
	req := &sendReq{out: outMsg{env: e, digest: Digest(e.Encode()), body: body}, done: make(chan error, 1)}
	d := t.destination(dest)
	select {
	case d.reqs <- req:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-t.ctx.Done():
		return "", ErrTransportStopped
	}
	select {
	case err := <-req.done:
		if err != nil {
			return "", err
		}
		return e.ID, nil
	case <-t.ctx.Done():
		return "", ErrTransportStopped
	}
}

// checkOutgoing applies the configuration to a message the node self is
// asked to send, and returns the destination node.
func checkOutgoing(conf *GlobalConf, self string, m Outgoing) (string, error) {
	svc, ok := conf.Service(m.To)
	if !ok || svc.Kind != KindAsync {
		return "", refuse(ReasonUnknownService, fmt.Sprintf("%s is not an asynchronous service of the global configuration (find it in the service catalogue)", m.To))
	}
	if _, ok := conf.Subsystem(m.From); !ok {
		return "", refuse(ReasonUnknownSender, fmt.Sprintf("subsystem %s is not in the global configuration", m.From))
	}
	if node, _ := conf.NodeOf(m.From); node != self {
		return "", refuse(ReasonSpoofedSender, fmt.Sprintf("subsystem %s is served by node %s, not this node %s", m.From, node, self))
	}
	if !conf.Allowed(m.From, m.To) {
		return "", refuse(ReasonNoRight, fmt.Sprintf("subsystem %s has no access right to service %s (ask its provider to grant one)", m.From, m.To))
	}
	if !m.Level.Valid() {
		return "", refuse(ReasonMalformed, fmt.Sprintf("level %d is not a classification level", m.Level))
	}
	if m.ContentType != "" {
		if err := checkContentType(m.ContentType); err != nil {
			return "", err
		}
	}
	if m.Level > svc.MaxLevel {
		return "", refuse(ReasonClearance, fmt.Sprintf("service %s takes messages up to %s, not %s", m.To, svc.MaxLevel, m.Level))
	}
	provider, ok := conf.Subsystem(m.To.Provider())
	if !ok || m.Level > provider.Clearance {
		return "", refuse(ReasonClearance, fmt.Sprintf("the provider %s is not cleared for %s messages", m.To.Provider(), m.Level))
	}
	if int64(len(m.Payload)) > conf.MaxMessageBytes {
		return "", refuse(ReasonTooLarge, fmt.Sprintf("the payload of %d bytes is over the limit of %d bytes", len(m.Payload), conf.MaxMessageBytes))
	}
	dest, ok := conf.NodeOf(m.To.Provider())
	if !ok {
		return "", refuse(ReasonWrongRecipient, fmt.Sprintf("no node serves the provider %s", m.To.Provider()))
	}
	if rv, ok := conf.Revocation(dest); ok {
		return "", refuse(ReasonRevoked, fmt.Sprintf("node %s, which serves %s, was revoked on %s: %s", dest, m.To.Provider(), rv.At.Format(time.RFC3339), rv.Reason))
	}
	return dest, nil
}

// outMsg is an outgoing message on its way: its envelope, digest and
// sealed body, and its log row once written.
type outMsg struct {
	env    *Envelope
	digest []byte
	body   []byte
	seq    int64
}

type sendReq struct {
	out  outMsg
	done chan error
}

// destination is the sending side for one destination node: a committer
// that groups sends into one transaction each, and a publisher that seals
// and publishes the committed groups in order.
type destination struct {
	node   string
	reqs   chan *sendReq
	groups chan []outMsg
	// commitMu is held by the committer from a group's commit until it is
	// handed to the publisher, so that the forwarder sees every pending
	// row either in the channel or as a leftover, never in between.
	commitMu sync.Mutex
}

// destination returns the destination for node, starting its goroutines
// the first time.
func (t *transport) destination(node string) *destination {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.dests[node]
	if !ok {
		d = &destination{node: node, reqs: make(chan *sendReq, sendQueue), groups: make(chan []outMsg, 4)}
		t.dests[node] = d
		t.spawn(func() { t.commitLoop(d) })
		t.spawn(func() { t.publishLoop(d) })
	}
	return d
}

// commitLoop writes groups of sends to the log, one transaction each.
func (t *transport) commitLoop(d *destination) {
	for {
		var first *sendReq
		select {
		case <-t.ctx.Done():
			return
		case first = <-d.reqs:
		}
		// The group takes what is queued when its transaction runs,
		// without waiting for more: while the writer is busy, sends
		// gather, so groups grow with the load and a lone send is not
		// held back.
		group := []*sendReq{first}
		d.commitMu.Lock()
		err := t.commitOut(t.ctx, d.node, &group, d.reqs)
		msgs := make([]outMsg, len(group))
		for i, r := range group {
			r.done <- err
			msgs[i] = r.out
		}
		if err == nil {
			select {
			case d.groups <- msgs:
			case <-t.ctx.Done():
			}
		}
		d.commitMu.Unlock()
		if err == nil {
			for _, m := range msgs {
				t.n.metrics.message("out", m.env.Service, "sent", 1)
			}
		}
	}
}

// Log rows are written many to a statement: logRowsPerInsert rows of
// logRowCols values stay far below SQLite's 32766 and PostgreSQL's 65535
// parameters.
const (
	logRowCols       = 18
	logRowsPerInsert = 256
)

// insertLogRows returns the statement inserting k log rows, each of the
// logRowCols values of insertLogRow's columns, skipping ids already
// logged.
func insertLogRows(k int) string {
	return `INSERT INTO exchange_log (msg_id, direction, type, peer, sender, recipient, service, level, content_type, size,
	msg_time_us, logged_us, digest, state, reason, batch_id, batch_index, body) VALUES ` +
		strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", k-1) + "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" +
		` ON CONFLICT (direction, type, msg_id) DO NOTHING RETURNING seq, msg_id`
}

// insertLogRowsTx inserts len(args)/logRowCols log rows and returns the
// seq of each row inserted, by message id; ids already logged are not in
// it.
func insertLogRowsTx(ctx context.Context, tx *store.Tx, args []any) (map[string]int64, error) {
	k := len(args) / logRowCols
	rows, err := tx.QueryContext(ctx, tx.Rebind(insertLogRows(k)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	seqs := make(map[string]int64, k)
	for rows.Next() {
		var (
			seq int64
			id  string
		)
		if err := rows.Scan(&seq, &id); err != nil {
			return nil, err
		}
		seqs[id] = seq
	}
	return seqs, rows.Err()
}

// commitOut writes the log rows of the group, with the sends queued in
// more when its transaction begins (up to sendGroupMax), as 'pending'.
func (t *transport) commitOut(ctx context.Context, dest string, groupp *[]*sendReq, more <-chan *sendReq) error {
	return t.writeTx(ctx, func(tx *store.Tx) error {
		group := *groupp
	collect:
		for len(group) < sendGroupMax {
			select {
			case r := <-more:
				group = append(group, r)
			default:
				break collect
			}
		}
		*groupp = group
		now := t.n.now().UnixMicro()
		args := make([]any, 0, min(len(group), logRowsPerInsert)*logRowCols)
		for part := range slices.Chunk(group, logRowsPerInsert) {
			args = args[:0]
			for _, r := range part {
				e := r.out.env
				args = append(args, e.ID, "out", int64(TypeMessage), dest, e.Sender.String(), e.Recipient.String(), e.Service.String(),
					int64(e.Level), e.ContentType, int64(len(e.Payload)), e.Time.UnixMicro(), now, r.out.digest, "pending", "", nil, nil, r.out.body)
			}
			seqs, err := insertLogRowsTx(ctx, tx, args)
			if err != nil {
				return fmt.Errorf("exchange: write %d outgoing messages: %w", len(part), err)
			}
			for _, r := range part {
				seq, ok := seqs[r.out.env.ID]
				if !ok {
					return fmt.Errorf("exchange: write outgoing message %s: its id is already in the log", r.out.env.ID)
				}
				r.out.seq = seq
			}
		}
		return nil
	})
}

// writeTx runs fn in a transaction of the node's database. On SQLite,
// which takes one writer at a time, the transport's writers queue on
// writeMu instead of in SQLite's busy handler, which polls with sleeps
// of milliseconds and would stall the pipeline under load, and whoever
// takes writeMu runs every write queued by then in one transaction (a
// group commit, each write in a savepoint of its own so that one
// failing does not undo the others), on a connection of the transport's
// whose commits never checkpoint the WAL: runCheckpoints does that
// beside them. fn must not call writeTx.
func (t *transport) writeTx(ctx context.Context, fn func(tx *store.Tx) error) error {
	if t.n.db.Dialect != store.SQLite {
		return t.n.db.InTx(ctx, fn)
	}
	w := &writeJob{ctx: ctx, fn: fn, done: make(chan struct{})}
	t.queueMu.Lock()
	t.queue = append(t.queue, w)
	t.queueMu.Unlock()
	t.runQueued()
	<-w.done // run by this or an earlier holder of writeMu
	return w.err
}

// runQueued takes the writer and runs the writes queued by then.
func (t *transport) runQueued() {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	t.queueMu.Lock()
	jobs := t.queue
	t.queue = nil
	t.queueMu.Unlock()
	if len(jobs) > 0 {
		t.runWrites(jobs)
	}
}

// writeJob is a write waiting in writeTx.
type writeJob struct {
	ctx  context.Context
	fn   func(tx *store.Tx) error
	err  error
	done chan struct{}
}

// runWrites runs jobs in one transaction; writeMu must be held.
func (t *transport) runWrites(jobs []*writeJob) {
	ran := 0
	defer func() {
		for _, w := range jobs[ran:] { // a fn panicked: the panic goes on, the other callers get an error
			w.err = errors.New("exchange: a write of the same transaction failed")
			close(w.done)
		}
	}()
	if t.wconn == nil { // the transport is stopping
		for _, w := range jobs {
			w.err = t.n.db.InTx(w.ctx, w.fn)
			close(w.done)
			ran++
		}
		return
	}
	err := t.groupTx(jobs)
	for _, w := range jobs {
		if w.err == nil {
			w.err = err
		}
		close(w.done)
		ran++
	}
	if err == nil {
		kick(t.walKick)
	}
}

// groupTx runs jobs in one transaction of the writer connection, each in
// a savepoint when there are several, and returns the commit's error;
// each job's own error is in its err.
func (t *transport) groupTx(jobs []*writeJob) error {
	// The transaction is everyone's: no one caller's cancellation ends it.
	sqlTx, err := t.wconn.BeginTx(context.WithoutCancel(t.ctx), nil)
	if err != nil {
		t.reopenWriter()
		return fmt.Errorf("exchange: begin a transaction: %w", err)
	}
	defer sqlTx.Rollback() //nolint:errcheck // a no-op after Commit
	tx := &store.Tx{Tx: sqlTx, Dialect: store.SQLite}
	ok := 0
	for _, w := range jobs {
		if w.err = w.ctx.Err(); w.err != nil {
			continue
		}
		if len(jobs) == 1 {
			if w.err = w.fn(tx); w.err == nil {
				ok++
			}
			break
		}
		if _, err := tx.ExecContext(w.ctx, `SAVEPOINT write`); err != nil {
			w.err = fmt.Errorf("exchange: begin a write: %w", err)
			continue
		}
		if w.err = w.fn(tx); w.err != nil {
			if _, err := tx.ExecContext(context.WithoutCancel(w.ctx), `ROLLBACK TO write`); err != nil {
				return fmt.Errorf("exchange: undo a failed write: %w", err)
			}
		}
		if _, err := tx.ExecContext(context.WithoutCancel(w.ctx), `RELEASE write`); err != nil {
			return fmt.Errorf("exchange: end a write: %w", err)
		}
		if w.err == nil {
			ok++
		}
	}
	if ok == 0 {
		return nil // nothing to commit; the rollback undoes what failed
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("exchange: commit: %w", err)
	}
	return nil
}

// The transport's writers commit on SQLite at a rate where the WAL's
// automatic checkpoint, which runs inside the commit that crosses 1000
// pages and waits for two fsyncs, held every writer of the pipeline for
// a quarter of a second each time. Their connection therefore does not
// checkpoint; runCheckpoints does, in passive mode, beside the writers,
// and restarts the WAL while holding them off only if it has grown past
// walMaxFrames (readers kept it from restarting).
const (
	walCheckpointEvery = time.Second
	walMaxFrames       = 64 << 10 // pages: 256 MiB at SQLite's default page size
	walAutoCheckpoint  = 1000     // SQLite's default, given back to the connection at stop
	// writerCache is the writer connection's page cache, in KiB: the
	// pages of the log's tail and indexes stay in it between commits
	// instead of being read back from the WAL.
	writerCache  = 32 << 10
	defaultCache = 2000 // SQLite's default, in KiB
)

// openWriter takes the connection the transport writes with on SQLite.
func (t *transport) openWriter(ctx context.Context) error {
	c, err := t.n.db.Conn(ctx)
	if err == nil {
		for _, p := range []string{`PRAGMA wal_autocheckpoint = 0`, `PRAGMA cache_size = -` + strconv.Itoa(writerCache)} {
			if _, err = c.ExecContext(ctx, p); err != nil {
				c.Close()
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("exchange: open the transport's database connection: %w", err)
	}
	t.wconn = c
	return nil
}

// reopenWriter replaces a writer connection that failed; writeMu must be
// held. The next writeTx retries on the new one.
func (t *transport) reopenWriter() {
	t.closeWriter()
	if err := t.openWriter(t.ctx); err != nil {
		t.n.log.Error("exchange: reopen the transport's database connection", "err", err)
	}
}

// closeWriter gives the writer connection back to the pool as it was;
// writeMu must be held.
func (t *transport) closeWriter() {
	if t.wconn == nil {
		return
	}
	for _, p := range []string{`PRAGMA wal_autocheckpoint = ` + strconv.Itoa(walAutoCheckpoint), `PRAGMA cache_size = -` + strconv.Itoa(defaultCache)} {
		t.wconn.ExecContext(context.Background(), p) //nolint:errcheck // the connection may be broken
	}
	t.wconn.Close()
	t.wconn = nil
}

// runCheckpoints checkpoints the WAL after commits, at most every
// walCheckpointEvery, until ctx ends, then once more.
func (t *transport) runCheckpoints(ctx context.Context) {
	tick := time.NewTicker(walCheckpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			t.writeMu.Lock()
			t.closeWriter()
			t.writeMu.Unlock()
			t.checkpoint(context.WithoutCancel(ctx), "PASSIVE")
			return
		case <-tick.C:
		}
		select {
		case <-t.walKick:
		default:
			continue // nothing committed
		}
		if frames := t.checkpoint(ctx, "PASSIVE"); frames > walMaxFrames {
			t.writeMu.Lock()
			t.checkpoint(ctx, "RESTART")
			t.writeMu.Unlock()
		}
	}
}

// checkpoint runs a checkpoint of the given mode and returns the WAL's
// size in pages.
func (t *transport) checkpoint(ctx context.Context, mode string) int {
	var busy, frames, done int
	if err := t.n.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &done); err != nil {
		if ctx.Err() == nil {
			t.n.log.Warn("exchange: checkpoint the database's WAL", "mode", mode, "err", err)
		}
		return 0
	}
	return frames
}

// writeTx runs fn in a transaction, queued with the transport's writers
// while the transport runs.
func (n *Node) writeTx(ctx context.Context, fn func(tx *store.Tx) error) error {
	if t := n.transport(); t != nil {
		return t.writeTx(ctx, fn)
	}
	return n.db.InTx(ctx, fn)
}

// publishLoop publishes the committed groups in order, and re-sends what
// is left pending: rows from before a restart, or from a failed publish.
func (t *transport) publishLoop(d *destination) {
	tick := time.NewTicker(forwardEvery)
	defer tick.Stop()
	var bo backoff
	retry := true // the first pass takes leftovers from before the start
	// behind says that rows older than the groups in the channel are
	// pending (leftovers, or a publish that failed): the groups are
	// pending in the log too, so they are dropped and re-read with the
	// older rows, in order, rather than published ahead of them.
	behind := true
	for {
		if retry {
			if ok := d.commitMu.TryLock(); ok {
				for behind && len(d.groups) > 0 {
					<-d.groups
				}
				var rows []outMsg
				var err error
				if len(d.groups) == 0 {
					rows, err = t.pendingRows(t.ctx, d.node)
				}
				d.commitMu.Unlock()
				if err == nil && len(rows) > 0 {
					err = t.publish(t.ctx, d.node, rows)
				}
				switch {
				case err != nil && t.ctx.Err() == nil:
					t.n.log.Warn("exchange: re-send pending messages", "destination", d.node, "err", err)
					if !sleep(t.ctx, bo.next()) {
						return
					}
					continue
				case len(rows) == logBatchMax:
					continue // more are waiting
				}
				bo.reset()
				retry, behind = false, false
			}
		}
		select {
		case <-t.ctx.Done():
			return
		case g := <-d.groups:
			if behind {
				continue // the retry above takes it from the log, in order
			}
			// Publish every group already committed at once: fewer,
			// fuller batches and one transaction to mark them sent.
		gather:
			for {
				select {
				case more := <-d.groups:
					g = append(g, more...)
				default:
					break gather
				}
			}
			if err := t.publish(t.ctx, d.node, g); err != nil {
				if t.ctx.Err() != nil {
					return
				}
				t.n.log.Warn("exchange: publish messages; they stay pending and are sent again", "destination", d.node, "err", err)
				retry, behind = true, true
			}
		case <-tick.C:
			retry = true
		}
	}
}

// pendingRows reads up to logBatchMax messages still pending for dest,
// rebuilding their envelopes from the log.
func (t *transport) pendingRows(ctx context.Context, dest string) ([]outMsg, error) {
	rows, err := t.n.db.QueryContext(ctx, t.n.db.Rebind(`SELECT seq, msg_id, sender, recipient, service, level, content_type, msg_time_us, digest, body
		FROM exchange_log WHERE peer = ? AND state = 'pending' AND direction = 'out' ORDER BY seq LIMIT ?`), dest, logBatchMax)
	if err != nil {
		return nil, fmt.Errorf("exchange: read pending messages for %s: %w", dest, err)
	}
	defer rows.Close()
	var out []outMsg
	for rows.Next() {
		var (
			m                          outMsg
			sender, recipient, service string
			level, timeUS              int64
			e                          = &Envelope{Header: Header{Type: TypeMessage}}
		)
		if err := rows.Scan(&m.seq, &e.ID, &sender, &recipient, &service, &level, &e.ContentType, &timeUS, &m.digest, &m.body); err != nil {
			return nil, fmt.Errorf("exchange: read pending messages for %s: %w", dest, err)
		}
		e.Level, e.Time = authz.Level(level), time.UnixMicro(timeUS).UTC()
		if e.Sender, err = ParseClientID(sender); err == nil {
			if e.Recipient, err = ParseClientID(recipient); err == nil {
				e.Service, err = ParseServiceID(service)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("exchange: pending message %s has a malformed id: %w", e.ID, err)
		}
		if e.Payload, err = t.n.ring.Open(ctx, keyPurpose, m.body, bodyAD("out", e.ID)); err != nil {
			return nil, fmt.Errorf("exchange: unseal pending message %s: %w", e.ID, err)
		}
		if string(Digest(e.Encode())) != string(m.digest) {
			return nil, fmt.Errorf("exchange: pending message %s does not match its logged digest", e.ID)
		}
		m.env = e
		out = append(out, m)
	}
	return out, rows.Err()
}

// resumePending notes the destinations with messages left pending, so
// that their publishers start and re-send them.
func (t *transport) resumePending(ctx context.Context) error {
	rows, err := t.n.db.QueryContext(ctx, `SELECT DISTINCT peer FROM exchange_log WHERE state = 'pending' AND direction = 'out'`)
	if err != nil {
		return fmt.Errorf("exchange: read pending messages: %w", err)
	}
	var peers []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return fmt.Errorf("exchange: read pending messages: %w", err)
		}
		peers = append(peers, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("exchange: read pending messages: %w", err)
	}
	for _, p := range peers {
		t.destination(p)
	}
	return nil
}

// sealedOut is one batch ready to publish, with the rows it carries.
type sealedOut struct {
	sb   *SealedBatch
	msgs []outMsg
}

// publish seals msgs into batches for dest, publishes them to this
// node's stream, waits for the stream's acknowledgements, then records
// the batches and marks the rows sent.
func (t *transport) publish(ctx context.Context, dest string, msgs []outMsg) error {
	// The server would drop the publications without an answer.
	if err := t.n.bus.StoreErr(); err != nil {
		return fmt.Errorf("exchange: publish to stream %s: %w", streamName, err)
	}
	conf, err := t.n.Conf()
	if err != nil {
		return err
	}
	s, err := t.n.session(conf, dest)
	if err != nil {
		var re *RefusedError
		if errors.As(err, &re) {
			return t.failRows(ctx, msgs, re)
		}
		return err
	}
	signer := t.n.ring.Signer()
	var batches []sealedOut
	flush := func(group []outMsg) error {
		if len(group) == 0 {
			return nil
		}
		envs := make([]*Envelope, len(group))
		for i, m := range group {
			envs[i] = m.env
		}
		sb, err := SealBatch(s, signer, envs, t.n.now())
		if err != nil {
			return err
		}
		batches = append(batches, sealedOut{sb: sb, msgs: group})
		return nil
	}
	start, size := 0, 0
	for i, m := range msgs {
		sz := len(m.env.Payload) + 256
		if i > start && (size+sz > batchTarget || i-start == MaxBatch || sz > batchTarget) {
			if err := flush(msgs[start:i]); err != nil {
				return err
			}
			start, size = i, 0
		}
		size += sz
	}
	if err := flush(msgs[start:]); err != nil {
		return err
	}
	subject := subjectFor(t.n.id, dest)
	storeChanged := t.n.bus.StoreChanged()
	var futures []jetstream.PubAckFuture
	for _, b := range batches {
		fs, err := t.publishWire(subject, b.sb)
		futures = append(futures, fs...)
		if err != nil {
			return err
		}
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("exchange: publish to stream %s: %w", streamName, err)
		case <-timeout.C:
			return fmt.Errorf("exchange: publish to stream %s: no acknowledgement within 30s", streamName)
		case <-storeChanged:
			return fmt.Errorf("exchange: publish to stream %s: JetStream failed to write its store, or restarted after it did, and dropped what was not acknowledged; sending it again", streamName)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return t.markSent(ctx, dest, batches)
}

// publishWire publishes one sealed batch, in chunks when it is larger
// than the bus takes in one message.
func (t *transport) publishWire(subject string, sb *SealedBatch) ([]jetstream.PubAckFuture, error) {
	id := hex.EncodeToString(sb.ID[:])
	if len(sb.Wire) <= t.maxWire {
		f, err := t.js.PublishMsgAsync(&nats.Msg{Subject: subject, Data: sb.Wire}, jetstream.WithMsgID(id))
		if err != nil {
			return nil, fmt.Errorf("exchange: publish batch %s: %w", id, err)
		}
		return []jetstream.PubAckFuture{f}, nil
	}
	count := (len(sb.Wire) + t.maxWire - 1) / t.maxWire
	futures := make([]jetstream.PubAckFuture, 0, count)
	for i := range count {
		part := sb.Wire[i*t.maxWire : min((i+1)*t.maxWire, len(sb.Wire))]
		m := nats.NewMsg(subject)
		m.Data = part
		m.Header.Set(hdrBatch, id)
		m.Header.Set(hdrChunk, strconv.Itoa(i)+"/"+strconv.Itoa(count))
		f, err := t.js.PublishMsgAsync(m, jetstream.WithMsgID(id+"."+strconv.Itoa(i)))
		if err != nil {
			return futures, fmt.Errorf("exchange: publish batch %s part %d: %w", id, i, err)
		}
		futures = append(futures, f)
	}
	return futures, nil
}

// markSent records the published batches and marks their rows sent.
func (t *transport) markSent(ctx context.Context, dest string, batches []sealedOut) error {
	now := t.n.now()
	return t.writeTx(ctx, func(tx *store.Tx) error {
		for _, b := range batches {
			if err := insertBatch(ctx, tx, b.sb.ID, "out", dest, t.n.id, b.sb.KeyID, b.sb.Root, b.sb.Sig, b.sb.Digests, now); err != nil {
				return err
			}
			// One statement per batch: each row's seq with its index.
			args := make([]any, 0, 2*len(b.msgs)+1)
			for i, m := range b.msgs {
				args = append(args, m.seq, i)
			}
			args = append(args, b.sb.ID[:])
			q := `WITH v (s, i) AS (VALUES ` + strings.Repeat("(CAST(? AS BIGINT), CAST(? AS BIGINT)), ", len(b.msgs)-1) + `(CAST(? AS BIGINT), CAST(? AS BIGINT)))
				UPDATE exchange_log SET state = 'sent', batch_id = ?, batch_index = v.i FROM v WHERE exchange_log.seq = v.s AND exchange_log.state = 'pending'`
			if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
				return fmt.Errorf("exchange: mark the %d messages of batch %x sent: %w", len(b.msgs), b.sb.ID, err)
			}
		}
		return nil
	})
}

// failRows marks messages that can no longer be sent (their destination
// was revoked after they were accepted) as failed, with the reason.
func (t *transport) failRows(ctx context.Context, msgs []outMsg, re *RefusedError) error {
	return t.writeTx(ctx, func(tx *store.Tx) error {
		for _, m := range msgs {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE exchange_log SET state = 'failed', reason = ? WHERE seq = ? AND state = 'pending'`),
				string(re.Reason)+": "+re.Detail, m.seq); err != nil {
				return fmt.Errorf("exchange: mark message %s failed: %w", m.env.ID, err)
			}
		}
		t.n.log.Error("exchange: messages can no longer be sent", "count", len(msgs), "reason", re.Reason, "detail", re.Detail)
		return nil
	})
}

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

// EraseExpiredBodies erases the sealed bodies of log entries older than
// the node's retention, keeping their digests (and so their proofs), and
// reports how many it erased. Messages still pending or unacknowledged
// are erased too: the retention is also the freshness window, so they
// could not be delivered any more.
func (n *Node) EraseExpiredBodies(ctx context.Context) (int64, error) {
	res, err := n.db.ExecContext(ctx, n.db.Rebind(`UPDATE exchange_log SET body = NULL WHERE body IS NOT NULL AND logged_us < ?`),
		n.now().Add(-n.opts.Retention).UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("exchange: erase message bodies: %w", err)
	}
	return res.RowsAffected()
}

// Distribution of the global configuration. Core NATS crosses leaf
// links, so headquarters publishes each new configuration on chx.conf
// and answers requests on chx.conf.get; missions install what they
// receive (Install verifies it) and ask at start, every few minutes and
// whenever their link to headquarters comes back.

// PublishConf installs a signed configuration on this headquarters node
// and publishes it to the missions. Missions that are offline get it
// when they ask on reconnecting.
func (n *Node) PublishConf(ctx context.Context, signed []byte) error {
	if n.role != RoleHQ {
		return fmt.Errorf("exchange: only headquarters publishes the global configuration: %w", errs.ErrForbidden)
	}
	if err := n.Install(ctx, signed); err != nil {
		return err
	}
	if n.bus == nil {
		return nil
	}
	if err := n.bus.Conn().Publish(confSubject, signed); err != nil {
		return fmt.Errorf("exchange: publish the global configuration: %w", err)
	}
	if t := n.transport(); t != nil {
		t.syncSources()
	}
	return nil
}

// serveConf subscribes to the configuration subjects of the node's role.
func (t *transport) serveConf() ([]*nats.Subscription, error) {
	if t.n.role == RoleHQ {
		sub, err := t.nc.Subscribe(confGetSubject, func(m *nats.Msg) {
			raw, err := t.n.SignedConf()
			if err != nil {
				return
			}
			if err := m.Respond(raw); err != nil {
				t.n.log.Warn("exchange: answer a configuration request", "err", err)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("exchange: serve the global configuration: %w", err)
		}
		return []*nats.Subscription{sub}, nil
	}
	sub, err := t.nc.Subscribe(confSubject, func(m *nats.Msg) { t.installConf(m.Data) })
	if err != nil {
		return nil, fmt.Errorf("exchange: subscribe to the global configuration: %w", err)
	}
	return []*nats.Subscription{sub}, nil
}

// installConf installs a configuration received from headquarters.
func (t *transport) installConf(signed []byte) {
	err := t.n.Install(t.ctx, signed)
	switch {
	case err == nil:
		t.syncSources()
	case errors.Is(err, errs.ErrConflict):
		t.n.log.Debug("exchange: ignored an older global configuration", "err", err)
	default:
		t.n.log.Error("exchange: refused a global configuration", "err", err)
	}
}

// runConfRequests asks headquarters for the configuration at start,
// every confRefresh, and when the link comes back.
func (t *transport) runConfRequests(ctx context.Context) {
	tick := time.NewTicker(confRefresh)
	defer tick.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		m, err := t.nc.RequestWithContext(rctx, confGetSubject, nil)
		cancel()
		if err == nil {
			t.installConf(m.Data)
		} else if ctx.Err() == nil {
			t.n.log.Debug("exchange: ask headquarters for the configuration", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-t.confKick:
		}
	}
}

// splitChunk parses a chunk header "<index>/<count>".
func splitChunk(h string) (int, int, bool) {
	a, b, ok := strings.Cut(h, "/")
	i, err1 := strconv.Atoi(a)
	c, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || c < 2 || i < 0 || i >= c || c > maxField/(256<<10) {
		return 0, 0, false
	}
	return i, c, true
}

// The receiving side: one consumer loop per source node.

// consume pulls what src sends to this node, in stream order, until ctx
// ends. While src is unreachable it retries with backoff.
//
// Order needs care: a batch the source delivered while the link was
// going down, or before the reply subject's interest crossed a link
// that just came back, is lost on the way and would come again only
// after the ack wait, behind newer ones. The loop therefore watches the
// consumer's delivery sequence and, at a gap (and at start, for what a
// previous run left unacknowledged), deletes and recreates its durable
// consumer: a work-queue stream keeps every unacknowledged batch, and a
// new consumer delivers them again from the first, in order.
func (t *transport) consume(ctx context.Context, src string) {
	var (
		bo      backoff
		cons    jetstream.Consumer
		asm     assembly
		lastSeq uint64 // consumer sequence of the last delivery taken
	)
	for ctx.Err() == nil {
		if cons == nil {
			var err error
			if cons, err = t.consumer(ctx, src); err != nil {
				if ctx.Err() == nil {
					t.n.log.Debug("exchange: reach the stream of a source node", "source", src, "err", err)
				}
				sleep(ctx, bo.next())
				continue
			}
			lastSeq = cons.CachedInfo().Delivered.Consumer
			asm.reset()
		}
		began := time.Now()
		// Bounded in bytes, not messages: a pull of large messages
		// must not hold a backlog's worth of them in memory.
		batch, err := cons.FetchBytes(fetchMaxBytes, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			cons = nil
			sleep(ctx, bo.next())
			continue
		}
		got, gap := 0, false
		group := make([]jetstream.Msg, 0, 64)
		for m := range batch.Messages() {
			if gap {
				continue // redelivered after the resync
			}
			if meta, err := m.Metadata(); err == nil {
				if meta.Sequence.Consumer != lastSeq+1 {
					gap = true
					continue
				}
				lastSeq = meta.Sequence.Consumer
			}
			got++
			group = append(group, m)
			// Commit what has arrived whenever the pull pauses, so that
			// one transaction covers as many batches as are at hand.
			if len(batch.Messages()) == 0 || len(group) >= fetchMax {
				if !t.receive(ctx, src, group, &asm) {
					cons = nil
					gap = true
				}
				group = group[:0]
			}
		}
		if len(group) > 0 && !t.receive(ctx, src, group, &asm) {
			cons = nil
		}
		if gap || got == 0 && cons != nil && t.lostDeliveries(ctx, cons, lastSeq) {
			t.n.log.Info("exchange: resynchronising with a source node after a lost delivery", "source", src)
			cons = nil
		}
		switch err := batch.Error(); {
		case got > 0 && cons != nil:
			bo.reset()
		case cons == nil:
			sleep(ctx, bo.next())
		case err != nil && time.Since(began) < fetchWait/2:
			// An error at once (no responders: the link is down) must
			// not spin.
			cons = nil
			sleep(ctx, bo.next())
		}
	}
}

// lostDeliveries reports whether cons has delivered more than the loop
// took, after a pull that brought nothing: deliveries lost on the way
// with none after them, which no gap would reveal before the ack wait.
func (t *transport) lostDeliveries(ctx context.Context, cons jetstream.Consumer, lastSeq uint64) bool {
	cctx, cancel := context.WithTimeout(ctx, fetchWait)
	defer cancel()
	info, err := cons.Info(cctx)
	return err == nil && info.Delivered.Consumer > lastSeq
}

// consumer recreates this node's durable consumer on src's stream, in
// src's domain, so that it delivers from the first unacknowledged batch.
func (t *transport) consumer(ctx context.Context, src string) (jetstream.Consumer, error) {
	conf, err := t.n.Conf()
	if err != nil {
		return nil, err
	}
	info, ok := conf.Node(src)
	if !ok {
		return nil, fmt.Errorf("node %s is not in the global configuration", src)
	}
	js, err := jetstream.NewWithDomain(t.nc, info.Domain)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := js.DeleteConsumer(cctx, streamName, consumerName(src, t.n.id)); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	return js.CreateOrUpdateConsumer(cctx, streamName, consumerConfig(src, t.n.id))
}

// consumerConfig is the durable consumer with which dest pulls what src
// sends it from src's stream. Headquarters creates a mission's consumer
// with it too, whatever the mission asked for (see createForLeaf).
func consumerConfig(src, dest string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       consumerName(src, dest),
		Description:   "Chancery exchange: what node " + dest + " receives",
		FilterSubject: subjectFor(src, dest),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxAckPending: maxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// assembly reassembles a batch published in chunks. A source publishes a
// batch's chunks one after the other, so there is at most one under way
// per source; a different batch before the last chunk means the source
// gave up on it (and will send its messages again in a new batch).
type assembly struct {
	id    string
	count int
	wire  []byte
	msgs  []jetstream.Msg
}

func (a *assembly) reset() { *a = assembly{} }

// inBatch is one batch received: its wire form and every JetStream
// message that carried it.
type inBatch struct {
	wire []byte
	msgs []jetstream.Msg
}

// receive handles one group of messages from src's stream: it opens and
// checks every batch, commits the deliveries and refusals in one
// transaction, and only then acknowledges the messages. It reports false
// when the group must be fetched again (the database failed), after
// asking for redelivery.
func (t *transport) receive(ctx context.Context, src string, group []jetstream.Msg, asm *assembly) bool {
	var (
		batches []inBatch
		drop    []jetstream.Msg // abandoned chunks
	)
	for _, m := range group {
		h := m.Headers()
		idx, count, chunked := 0, 0, false
		if c := h.Get(hdrChunk); c != "" {
			if idx, count, chunked = splitChunk(c); !chunked {
				drop = append(drop, m)
				continue
			}
		}
		if !chunked {
			if asm.id != "" {
				drop = append(drop, asm.msgs...)
				asm.reset()
			}
			batches = append(batches, inBatch{wire: m.Data(), msgs: []jetstream.Msg{m}})
			continue
		}
		id := h.Get(hdrBatch)
		if asm.id != id || asm.count != count || len(asm.msgs) != idx {
			if idx != 0 {
				// A chunk without its beginning: part of an abandoned
				// batch, or redelivered after it was handled.
				drop = append(drop, append(asm.msgs, m)...)
				asm.reset()
				continue
			}
			drop = append(drop, asm.msgs...)
			*asm = assembly{id: id, count: count}
		}
		asm.wire = append(asm.wire, m.Data()...)
		asm.msgs = append(asm.msgs, m)
		if len(asm.wire) > maxField {
			drop = append(drop, asm.msgs...)
			asm.reset()
			continue
		}
		if len(asm.msgs) == count {
			batches = append(batches, inBatch{wire: asm.wire, msgs: asm.msgs})
			asm.reset()
		}
	}
	for _, m := range asm.msgs {
		m.InProgress() //nolint:errcheck // at worst the chunk is redelivered
	}
	conf, err := t.n.Conf()
	if err != nil {
		t.nakAll(batches)
		return false
	}
	var (
		opened  []*openedIn
		refused []inBatch
	)
	for _, b := range batches {
		ob, err := OpenBatch(b.wire, t.n.openSession(conf), conf)
		if err != nil {
			t.refuseBatch(ctx, src, b, err)
			refused = append(refused, b)
			continue
		}
		opened = append(opened, t.checkBatch(ctx, conf, src, ob, b))
	}
	if len(opened) > 0 {
		if err := t.commitIn(ctx, src, opened); err != nil {
			if ctx.Err() == nil {
				t.n.log.Error("exchange: record received messages; they will be fetched again", "source", src, "err", err)
			}
			for _, o := range opened {
				for _, m := range o.msgs {
					m.NakWithDelay(time.Second) //nolint:errcheck // redelivered after AckWait anyway
				}
			}
			return false
		}
	}
	for _, o := range opened {
		for _, m := range o.msgs {
			m.Ack() //nolint:errcheck // a lost ack means a redelivery, which the log drops
		}
		for i, r := range o.results {
			e := o.ob.Envelopes[i]
			switch {
			case r.refusal != nil:
				t.n.metrics.message("in", e.Service, "refused", 1)
			case r.duplicate:
				t.n.metrics.message("in", e.Service, "duplicate", 1)
			default:
				t.n.metrics.message("in", e.Service, "delivered", 1)
			}
		}
	}
	for _, b := range refused {
		for _, m := range b.msgs {
			m.Term() //nolint:errcheck // a refused batch must not come back
		}
	}
	for _, m := range drop {
		m.Term() //nolint:errcheck // abandoned chunks are sent again in a new batch
	}
	if len(opened) > 0 {
		kick(t.hookKick)
	}
	return true
}

func (t *transport) nakAll(batches []inBatch) {
	for _, b := range batches {
		for _, m := range b.msgs {
			m.NakWithDelay(time.Second) //nolint:errcheck // redelivered after AckWait anyway
		}
	}
}

// openedIn is a batch that verified, with what the checks decided for
// each envelope and the sealed bodies of those to deliver.
type openedIn struct {
	ob      *OpenedBatch
	msgs    []jetstream.Msg
	results []inResult
}

type inResult struct {
	refusal   *RefusedError
	body      []byte // sealed payload, for a delivery
	duplicate bool   // set by commitIn: already delivered from this very batch
}

// refuseBatch records the refusal of a whole batch: it proves nothing
// about any envelope in it, so only an audit event says what came.
func (t *transport) refuseBatch(ctx context.Context, src string, b inBatch, err error) {
	var re *RefusedError
	if !errors.As(err, &re) {
		re = refuse(ReasonMalformed, err.Error())
	}
	t.n.log.Warn("exchange: refused a batch", "source", src, "reason", re.Reason, "detail", re.Detail)
	if t.n.ledger == nil {
		return
	}
	e := audit.Event{Actor: audit.System("exchange"), Action: "exchange.batch.refused", ResourceType: "exchange_batch",
		ResourceID: b.msgs[0].Headers().Get(nats.MsgIdHdr), Outcome: audit.Denied, Reason: string(re.Reason) + ": " + re.Detail,
		Attrs: map[string]string{"node": t.n.id, "sender_node": src, "reason": string(re.Reason)}}
	if _, err := t.n.ledger.Append(context.WithoutCancel(ctx), e); err != nil {
		t.n.log.Error("exchange: record a refused batch in the audit ledger", "err", err)
	}
}

// checkBatch applies the receiving node's policy to each envelope of a
// batch that verified, and seals the bodies of those it accepts.
func (t *transport) checkBatch(ctx context.Context, conf *GlobalConf, src string, ob *OpenedBatch, b inBatch) *openedIn {
	o := &openedIn{ob: ob, msgs: b.msgs, results: make([]inResult, len(ob.Envelopes))}
	now := t.n.now()
	for i, e := range ob.Envelopes {
		if re := t.checkIncoming(conf, src, e, now); re != nil {
			o.results[i].refusal = re
			continue
		}
		body, err := t.n.ring.Seal(ctx, keyPurpose, e.Payload, bodyAD("in", e.ID))
		if err != nil {
			o.results[i].refusal = refuse(ReasonMalformed, "the body could not be sealed: "+err.Error())
			continue
		}
		o.results[i].body = body
	}
	return o
}

// checkIncoming applies the configuration to an envelope that src's
// signed batch carried to this node.
func (t *transport) checkIncoming(conf *GlobalConf, src string, e *Envelope, now time.Time) *RefusedError {
	if e.Type != TypeMessage {
		return refuse(ReasonMalformed, fmt.Sprintf("envelope %s is not an asynchronous message", e.ID))
	}
	senderNode, ok := conf.NodeOf(e.Sender)
	if _, known := conf.Subsystem(e.Sender); !ok || !known {
		return refuse(ReasonUnknownSender, fmt.Sprintf("sender %s is not in the global configuration", e.Sender))
	}
	if senderNode != src {
		return refuse(ReasonSpoofedSender, fmt.Sprintf("sender %s is served by node %s, but node %s sent the message", e.Sender, senderNode, src))
	}
	svc, ok := conf.Service(e.Service)
	if !ok || svc.Kind != KindAsync {
		return refuse(ReasonUnknownService, fmt.Sprintf("%s is not an asynchronous service of the global configuration", e.Service))
	}
	if e.Recipient != e.Service.Provider() {
		return refuse(ReasonWrongRecipient, fmt.Sprintf("recipient %s does not provide service %s", e.Recipient, e.Service))
	}
	if node, _ := conf.NodeOf(e.Recipient); node != t.n.id {
		return refuse(ReasonWrongRecipient, fmt.Sprintf("recipient %s is served by node %s, not this node %s", e.Recipient, node, t.n.id))
	}
	if !conf.Allowed(e.Sender, e.Service) {
		return refuse(ReasonNoRight, fmt.Sprintf("%s has no access right to service %s", e.Sender, e.Service))
	}
	recipient, ok := conf.Subsystem(e.Recipient)
	if !ok || e.Level > recipient.Clearance {
		return refuse(ReasonClearance, fmt.Sprintf("recipient %s is not cleared for %s messages", e.Recipient, e.Level))
	}
	if e.Level > svc.MaxLevel {
		return refuse(ReasonClearance, fmt.Sprintf("service %s takes messages up to %s, not %s", e.Service, svc.MaxLevel, e.Level))
	}
	if int64(len(e.Payload)) > conf.MaxMessageBytes {
		return refuse(ReasonTooLarge, fmt.Sprintf("payload of %d bytes is over the limit of %d bytes", len(e.Payload), conf.MaxMessageBytes))
	}
	if e.ContentType != "" && checkContentType(e.ContentType) != nil {
		// It could never be handed to the recipient's webhook.
		return refuse(ReasonMalformed, fmt.Sprintf("content type %q is not a media type of printable ASCII", e.ContentType))
	}
	if e.Time.Before(now.Add(-t.n.opts.Retention)) || e.Time.After(now.Add(messageSkew)) {
		return refuse(ReasonStale, fmt.Sprintf("message time %s is outside the accepted window", e.Time.Format(time.RFC3339)))
	}
	return nil
}

// commitIn records the batches and their envelopes (delivered or
// refused) in one transaction, with an audit event for each refusal. A
// message id already in the log is dropped: silently when it came in
// the same batch (a redelivery after a crash), as a replay otherwise.
func (t *transport) commitIn(ctx context.Context, src string, opened []*openedIn) error {
	now := t.n.now()
	return t.writeTx(ctx, func(tx *store.Tx) error {
		var args []any
		for _, o := range opened {
			ob := o.ob
			if err := insertBatch(ctx, tx, ob.ID, "in", src, src, ob.KeyID, ob.Root, ob.Sig, ob.Digests, now); err != nil {
				return err
			}
			for start := 0; start < len(ob.Envelopes); start += logRowsPerInsert {
				end := min(start+logRowsPerInsert, len(ob.Envelopes))
				args = args[:0]
				for i, e := range ob.Envelopes[start:end] {
					i += start
					r := &o.results[i]
					r.duplicate = false
					state, reason := "delivered", ""
					var body []byte
					if r.refusal != nil {
						state, reason = "refused", string(r.refusal.Reason)+": "+r.refusal.Detail
					} else {
						body = r.body
					}
					args = append(args, e.ID, "in", int64(e.Type), src, e.Sender.String(), e.Recipient.String(), e.Service.String(),
						int64(e.Level), e.ContentType, int64(len(e.Payload)), e.Time.UnixMicro(), now.UnixMicro(), ob.Digests[i], state, reason,
						ob.ID[:], int64(i), body)
				}
				inserted, err := insertLogRowsTx(ctx, tx, args)
				if err != nil {
					return fmt.Errorf("exchange: record %d received messages of batch %x: %w", end-start, ob.ID, err)
				}
				if err := t.settleIn(ctx, tx, src, o, start, end, inserted, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// settleIn decides, after their rows were inserted, the fate of the
// envelopes start..end of a received batch: an id that was not inserted
// was logged before, and is a duplicate when it came in this very batch
// (a redelivery, or a second copy inside the batch) and a replay
// otherwise; every refusal is audited in the same transaction.
func (t *transport) settleIn(ctx context.Context, tx *store.Tx, src string, o *openedIn, start, end int, inserted map[string]int64, now time.Time) error {
	ob := o.ob
	for i, e := range ob.Envelopes[start:end] {
		r := &o.results[start+i]
		if _, ok := inserted[e.ID]; ok {
			delete(inserted, e.ID) // a second copy in the batch is a duplicate
		} else {
			var prior []byte
			if err := tx.QueryRowContext(ctx, tx.Rebind(`SELECT batch_id FROM exchange_log WHERE direction = 'in' AND type = ? AND msg_id = ?`),
				int64(e.Type), e.ID).Scan(&prior); err != nil {
				return fmt.Errorf("exchange: read earlier copy of message %s: %w", e.ID, err)
			}
			if string(prior) == string(ob.ID[:]) {
				r.duplicate = true
				continue
			}
			r.refusal = refuse(ReasonReplay, fmt.Sprintf("message %s was received before, in another batch", e.ID))
		}
		if r.refusal != nil && t.n.ledger != nil {
			if err := t.n.ledger.AppendTx(ctx, tx, refusalEvent(t.n.id, src, e, r.refusal, now)); err != nil {
				return fmt.Errorf("exchange: record refusal of message %s in the audit ledger: %w", e.ID, err)
			}
		}
	}
	return nil
}

// refusalEvent is the audit event of a refused envelope.
func refusalEvent(self, src string, e *Envelope, re *RefusedError, now time.Time) audit.Event {
	return audit.Event{Time: now, Actor: audit.Member(e.Sender.Member, e.Sender.String()), Action: "exchange.message.refused",
		ResourceType: "exchange_message", ResourceID: e.ID, Level: e.Level, Outcome: audit.Denied,
		Reason: string(re.Reason) + ": " + re.Detail,
		Attrs: map[string]string{"node": self, "sender_node": src, "sender": e.Sender.String(), "recipient": e.Recipient.String(),
			"service": e.Service.String(), "reason": string(re.Reason)}}
}
