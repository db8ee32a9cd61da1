package exchange

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/bus"
	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
)

// A Node is one exchange node: headquarters or a mission. It holds the
// node's identity (id, keys, trust anchor), the global configuration it
// enforces, and the sessions it shares with its peers; the transport
// (asynchronous messages) and the gateway (synchronous requests) run on
// it.

// Defaults of NodeOptions.
const (
	DefaultHQNodeID  = "hq"
	DefaultRetention = 30 * 24 * time.Hour
	// keyPurpose is the keyring purpose that seals the node's private
	// encryption key and the bodies in the message log.
	keyPurpose = "exchange"
)

// NodeOptions configure a Node. The zero value is usable for
// headquarters.
type NodeOptions struct {
	// Role is the node's role. OpenNode creates a headquarters node on
	// first start only when Role is RoleHQ; if empty, OpenNode opens
	// whatever node the database holds (for commands).
	Role NodeRole
	// ID is headquarters' node id, used when the node is created. If
	// empty, DefaultHQNodeID. A mission's id is given by headquarters at
	// enrolment.
	ID string
	// Domain is headquarters' JetStream domain. If empty, the node id.
	Domain string
	// Retention is how long message bodies are kept (sealed) in the
	// message log; digests stay for good. It is also the freshness window
	// of asynchronous messages: an older message is refused as stale,
	// so the log's ids are enough to catch every replay. If zero,
	// DefaultRetention.
	Retention time.Duration
	// SessionTTL is how long a session is used for sending. If zero,
	// DefaultSessionTTL.
	SessionTTL time.Duration
	// Now returns the current time. If nil, time.Now.
	Now func() time.Time
	// Logger receives the node's logs. If nil, slog.Default().
	Logger *slog.Logger
	// Registerer registers the node's Prometheus metrics. If nil, they
	// are kept for the monitoring page only.
	Registerer prometheus.Registerer
	// WebhookAllow lists the hosts ("host" or "host:port") webhooks may
	// point at although they resolve to internal addresses (loopback,
	// private, link-local); see AllowWebhookHosts. If empty, none.
	WebhookAllow []string
	// Egress checks each message's payload before it is sent (data-loss
	// prevention, internal/dlp): an error refuses the message, which is
	// then never queued. If nil, nothing is checked.
	Egress Egress
	// ReceiveLease, if positive, makes this node one of several replicas
	// sharing its database: what each source node sends is received by
	// one replica at a time, under a lease of this length named after
	// the source (internal/lease), so that each sender's messages are
	// committed in order. Another replica takes a source over within
	// about 1⅓ of it after the holder dies or loses the database. If
	// zero, this process receives from every source at once (a mission,
	// or headquarters on one replica).
	ReceiveLease time.Duration
}

// ReplicaReceiveLease is the ReceiveLease of headquarters' replicas: a
// source whose replica died is received again within about 13 s (10 s
// for the lease to run out, up to a third more for another replica's
// next try), and each replica renews or tries every source's lease
// every 3⅓ s.
const ReplicaReceiveLease = 10 * time.Second

// Egress checks what leaves through a way out: data, an item named name
// of media type mediaType classified at level, going to to. It returns
// nil if it may go, else the refusal (a held item's or a blocked one's)
// to give the sender.
type Egress interface {
	Check(ctx context.Context, to string, level authz.Level, name, mediaType string, data []byte) error
}

// ErrNotEnrolled is returned by OpenNode for a mission that has not
// enrolled with headquarters.
var ErrNotEnrolled = errors.New("exchange: this mission node has not enrolled with headquarters yet " +
	"(start it once with --join <headquarters URL> --token <enrolment token from the headquarters console>)")

// ErrNoNode is returned by OpenNode, when asked to open an existing node,
// for a database that holds none.
var ErrNoNode = errors.New("exchange: this database holds no exchange node yet (start chancery serve on it once)")

// Node is an exchange node. Its methods are safe for concurrent use.
type Node struct {
	db     *store.DB
	ring   *keys.Ring
	ledger *audit.Ledger
	opts   NodeOptions
	now    func() time.Time
	log    *slog.Logger

	id       string
	role     NodeRole
	domain   string
	kem      *KEMPrivateKey
	anchor   ed25519.PublicKey
	hqURL    string
	leafURLs []string
	leafAuth leafCredentials // the mission's leaf user on headquarters' cluster, if enrolment gave one

	conf    atomic.Pointer[GlobalConf]
	confRaw atomic.Pointer[[]byte]
	confMu  sync.Mutex // serialises Install

	sessMu   sync.Mutex
	outgoing map[string]*Session // peer node id → current sending session; guarded by sessMu
	incoming *sessionCache

	expiredAlert atomic.Int64 // unix seconds of the last expiry alert
	// leafOnce starts, at headquarters, the service creating the
	// mission nodes' consumers (syncLeafLinks).
	leafOnce sync.Once

	metrics *metrics
	bus     *bus.Bus                  // set by Attach
	tr      atomic.Pointer[transport] // the running transport, while Run runs
	gw      *gatewayState             // the synchronous gateway's backend client and token cache
	// writer commits the node's writes to the message log in groups
	// while the transport runs (Node.writeTx); msglog is the log's
	// write-behind for synchronous calls.
	writer *store.Writer
	logSQL *logSQL
	msglog *logWriter
	hooks  *webhookGuard // where webhooks may point
	// replay is the anti-replay memory shared with the node's other
	// replicas, on the attached bus; nil leaves only the per-process
	// windows (no bus attached, or a benchmark's baseline).
	replay atomic.Pointer[sharedReplay]
	// arrived wakes the node's own inbox readers on delivery (Arrived).
	arrived arrivals
}

// OpenNode loads this node's identity from db, creating it for
// headquarters on first start. A mission must have enrolled (see Enrol);
// otherwise OpenNode returns ErrNotEnrolled.
func OpenNode(ctx context.Context, db *store.DB, ring *keys.Ring, ledger *audit.Ledger, opts NodeOptions) (*Node, error) {
	n := &Node{db: db, ring: ring, ledger: ledger, opts: opts, now: opts.Now, log: opts.Logger,
		outgoing: map[string]*Session{}, incoming: newSessionCache(4096), metrics: newMetrics(opts.Registerer)}
	if n.now == nil {
		n.now = time.Now
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	n.log = n.log.With("component", "exchange")
	n.writer = store.NewWriter(db, n.log)
	n.logSQL = newLogSQL(db)
	n.msglog = newLogWriter(n.writer, n.logSQL, n.log, syncLogQueue, syncLogBatch, syncLogInterval)
	n.msglog.sign = n.signInserted
	n.gw = newGatewayState(n)
	n.hooks = newWebhookGuard(opts.WebhookAllow)
	if n.opts.Retention <= 0 {
		n.opts.Retention = DefaultRetention
	}
	if n.opts.SessionTTL <= 0 {
		n.opts.SessionTTL = DefaultSessionTTL
	}
	err := n.load(ctx)
	if errors.Is(err, errs.ErrNotFound) {
		switch n.opts.Role {
		case RoleMission:
			return nil, ErrNotEnrolled
		case "":
			return nil, ErrNoNode
		}
		if err = n.createHQ(ctx); err == nil {
			err = n.load(ctx)
		}
	}
	if err != nil {
		return nil, err
	}
	if n.opts.Role != "" && n.role != n.opts.Role {
		return nil, fmt.Errorf("exchange: this data directory holds a %s node, not a %s node (use another --data, or --role %s)", n.role, n.opts.Role, n.role)
	}
	return n, nil
}

// load reads the node row; errs.ErrNotFound if there is none.
func (n *Node) load(ctx context.Context) error {
	var (
		sealed, anchor, conf, leafSealed []byte
		leaf                             string
	)
	err := n.db.QueryRowContext(ctx, `SELECT node_id, role, kem_sealed, anchor, hq_url, leaf_urls, conf, leaf_sealed FROM exchange_node WHERE id = 1`).
		Scan(&n.id, &n.role, &sealed, &anchor, &n.hqURL, &leaf, &conf, &leafSealed)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("exchange: no node identity: %w", errs.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("exchange: read node identity: %w", err)
	}
	raw, err := n.ring.Open(ctx, keyPurpose, sealed, []byte("exchange-kem:"+n.id))
	if err != nil {
		return fmt.Errorf("exchange: unseal node %s encryption key: %w", n.id, err)
	}
	if n.kem, err = ParseKEMPrivateKey(raw); err != nil {
		return err
	}
	n.anchor = ed25519.PublicKey(anchor)
	if leafSealed != nil {
		plain, err := n.ring.Open(ctx, keyPurpose, leafSealed, leafAD(n.id))
		if err != nil {
			return fmt.Errorf("exchange: unseal node %s leaf credentials: %w", n.id, err)
		}
		if err := json.Unmarshal(plain, &n.leafAuth); err != nil {
			return fmt.Errorf("exchange: node %s leaf credentials: %w", n.id, err)
		}
	}
	if leaf != "" {
		n.leafURLs = strings.Split(leaf, ",")
	}
	n.domain = n.id
	if n.role == RoleHQ && n.opts.Domain != "" {
		n.domain = n.opts.Domain
	}
	if conf != nil {
		c, err := ParseConf(conf, n.trustAnchor())
		if err != nil {
			return fmt.Errorf("exchange: the stored global configuration does not verify: %w", err)
		}
		n.conf.Store(c)
		n.confRaw.Store(&conf)
	}
	return nil
}

// trustAnchor is the key the node trusts to sign configurations:
// headquarters' own signing key at headquarters, which follows its
// rotation, and the key fixed at enrolment on a mission.
func (n *Node) trustAnchor() ed25519.PublicKey {
	if n.role == RoleHQ {
		return n.ring.PublicKey()
	}
	return n.anchor
}

func (n *Node) createHQ(ctx context.Context) error {
	id := n.opts.ID
	if id == "" {
		id = DefaultHQNodeID
	}
	return n.saveIdentity(ctx, id, RoleHQ, n.ring.PublicKey(), "", nil, nil)
}

// saveIdentity creates the node row with a fresh encryption key.
func (n *Node) saveIdentity(ctx context.Context, id string, role NodeRole, anchor ed25519.PublicKey, hqURL string, leafURLs []string, kem *KEMPrivateKey) error {
	var err error
	if kem == nil {
		if kem, err = GenerateKEMKey(); err != nil {
			return err
		}
	}
	sealed, err := n.ring.Seal(ctx, keyPurpose, kem.Bytes(), []byte("exchange-kem:"+id))
	if err != nil {
		return fmt.Errorf("exchange: seal node encryption key: %w", err)
	}
	_, err = n.db.ExecContext(ctx, n.db.Rebind(`INSERT INTO exchange_node (id, node_id, role, kem_sealed, anchor, hq_url, leaf_urls, updated_us) VALUES (1, ?, ?, ?, ?, ?, ?, ?)`),
		id, string(role), sealed, []byte(anchor), hqURL, strings.Join(leafURLs, ","), n.now().UnixMicro())
	if err != nil {
		return fmt.Errorf("exchange: save node identity: %w", err)
	}
	return nil
}

// Attach gives the node the message bus its transport and gateway run
// on. Call it once, before they start. At headquarters it routes the
// mission nodes' subjects on the bus's leaf listener, if it has one.
func (n *Node) Attach(b *bus.Bus) {
	n.bus = b
	n.replay.Store(&sharedReplay{bus: b})
	n.syncLeafLinks()
}

// Stats returns the node's per-service counts since it started.
func (n *Node) Stats() []ServiceStats { return n.metrics.Stats() }

// ID returns the node's id.
func (n *Node) ID() string { return n.id }

// Role returns the node's role.
func (n *Node) Role() NodeRole { return n.role }

// Domain returns the JetStream domain of the node's server.
func (n *Node) Domain() string { return n.domain }

// LeafURLs returns the headquarters leaf-node URLs a mission connects to;
// nil at headquarters.
func (n *Node) LeafURLs() []string { return n.leafURLs }

// HQURL returns the headquarters web address a mission enrolled with.
func (n *Node) HQURL() string { return n.hqURL }

// Info returns the node's certifiable public information, which
// headquarters lists in the global configuration.
func (n *Node) Info() NodeInfo {
	pub := n.ring.PublicKey()
	return NodeInfo{ID: n.id, Role: n.role, Domain: n.domain, SigningKey: pub, SigningKeyID: keys.KeyID(pub),
		EncryptionKey: n.kem.PublicKey()}
}

// Conf returns the global configuration the node holds, expired or not,
// or ErrNoConf.
func (n *Node) Conf() (*GlobalConf, error) {
	c := n.conf.Load()
	if c == nil {
		return nil, ErrNoConf
	}
	return c, nil
}

// SignedConf returns the signed configuration the node holds, or
// ErrNoConf.
func (n *Node) SignedConf() ([]byte, error) {
	raw := n.confRaw.Load()
	if raw == nil {
		return nil, ErrNoConf
	}
	return *raw, nil
}

// sendConf returns the configuration to send new messages on: it must be
// present and unexpired. An expired one is refused with ErrConfExpired
// and raises an alert (a log error and an audit event, at most hourly),
// so that the operators learn of it before the users do.
func (n *Node) sendConf(ctx context.Context) (*GlobalConf, error) {
	c, err := n.Conf()
	if err != nil {
		return nil, err
	}
	now := n.now()
	if !c.Expired(now) {
		return c, nil
	}
	last := n.expiredAlert.Load()
	if now.Unix()-last >= 3600 && n.expiredAlert.CompareAndSwap(last, now.Unix()) {
		n.log.Error("exchange: the global configuration has expired; new messages are refused until a fresh one arrives",
			"serial", c.Serial, "expired", c.Expires)
		if n.ledger != nil {
			e := audit.Event{Actor: audit.System("exchange"), Action: "exchange.conf.expired", ResourceType: "exchange_conf",
				ResourceID: fmt.Sprint(c.Serial), Outcome: audit.Failed, Reason: "global configuration expired at " + c.Expires.Format(time.RFC3339)}
			if _, err := n.ledger.Append(context.WithoutCancel(ctx), e); err != nil {
				n.log.Error("exchange: record configuration expiry", "err", err)
			}
		}
	}
	return nil, ErrConfExpired
}

// Install verifies a signed global configuration and, if its serial is
// higher than the one held, stores it and starts enforcing it. A copy
// with the same serial is accepted and ignored; a lower serial is refused
// (a replay of an old configuration could restore revoked rights).
func (n *Node) Install(ctx context.Context, signed []byte) error {
	c, err := ParseConf(signed, n.trustAnchor())
	if err != nil {
		return err
	}
	n.confMu.Lock()
	defer n.confMu.Unlock()
	if cur := n.conf.Load(); cur != nil {
		switch {
		case c.Serial == cur.Serial:
			return nil
		case c.Serial < cur.Serial:
			return fmt.Errorf("exchange: global configuration %d is older than the one held (%d): %w", c.Serial, cur.Serial, errs.ErrConflict)
		}
	}
	if _, ok := c.Node(n.id); !ok {
		return fmt.Errorf("exchange: global configuration %d does not list this node %s", c.Serial, n.id)
	}
	_, err = n.db.ExecContext(ctx, n.db.Rebind(`UPDATE exchange_node SET conf = ?, conf_serial = ?, updated_us = ? WHERE id = 1 AND conf_serial < ?`),
		signed, int64(c.Serial), n.now().UnixMicro(), int64(c.Serial))
	if err != nil {
		return fmt.Errorf("exchange: save global configuration %d: %w", c.Serial, err)
	}
	n.conf.Store(c)
	n.confRaw.Store(&signed)
	n.dropRevokedSessions(c)
	n.syncLeafLinks()
	n.log.Info("exchange: global configuration installed", "serial", c.Serial, "expires", c.Expires,
		"members", len(c.Members), "services", len(c.Services), "nodes", len(c.Nodes))
	return nil
}

// dropRevokedSessions forgets sessions with nodes that are revoked or
// whose keys changed, so nothing more is sent under them.
func (n *Node) dropRevokedSessions(c *GlobalConf) {
	n.sessMu.Lock()
	defer n.sessMu.Unlock()
	for peer, s := range n.outgoing {
		info, ok := c.Node(peer)
		_, revoked := c.Revocation(peer)
		if !ok || revoked || !bytes.Equal(info.EncryptionKey, s.peerKey) {
			delete(n.outgoing, peer)
		}
	}
	n.incoming.purge(func(s *Session) bool {
		_, revoked := c.Revocation(s.Sender)
		return revoked
	})
}

// session returns the session for sending to peer, starting a new one
// when there is none or the current one is past its time.
func (n *Node) session(conf *GlobalConf, peer string) (*Session, error) {
	now := n.now()
	n.sessMu.Lock()
	defer n.sessMu.Unlock()
	if s, ok := n.outgoing[peer]; ok && now.Before(s.Expires.Add(-n.opts.SessionTTL/4)) {
		return s, nil
	}
	info, ok := conf.Node(peer)
	if !ok {
		return nil, refuse(ReasonWrongRecipient, fmt.Sprintf("node %s is not in the global configuration", peer))
	}
	if rv, ok := conf.Revocation(peer); ok {
		return nil, refuse(ReasonRevoked, fmt.Sprintf("node %s was revoked on %s: %s", peer, rv.At.Format(time.RFC3339), rv.Reason))
	}
	s, err := NewSession(n.id, n.ring.Signer(), info, now, n.opts.SessionTTL)
	if err != nil {
		return nil, err
	}
	n.outgoing[peer] = s
	return s, nil
}

// openSession returns the session a peer's header names, verifying and
// decapsulating it the first time it is seen.
func (n *Node) openSession(conf *GlobalConf) Sessions {
	return func(header []byte) (*Session, error) {
		d, err := decodeSessionHeader(header)
		if err != nil {
			return nil, refuse(ReasonMalformed, err.Error())
		}
		if s, ok := n.incoming.get(d.s.ID); ok && s.Same(header) {
			if _, revoked := conf.Revocation(s.Sender); revoked {
				return nil, refuse(ReasonRevoked, fmt.Sprintf("node %s is revoked", s.Sender))
			}
			return s, nil
		}
		s, err := OpenSession(header, n.id, n.kem, conf, n.now())
		if err != nil {
			return nil, err
		}
		if err := n.incoming.put(s, n.now()); err != nil {
			return nil, err
		}
		return s, nil
	}
}

// sessionCache is a bounded map of opened sessions; when full, it drops
// an arbitrary entry whose anti-replay window may be forgotten (see
// replayWindow.retire), which costs at most one more decapsulation.
type sessionCache struct {
	mu  sync.Mutex
	max int
	m   map[[SessionIDSize]byte]*Session // guarded by mu
}

func newSessionCache(max int) *sessionCache {
	return &sessionCache{max: max, m: map[[SessionIDSize]byte]*Session{}}
}

func (c *sessionCache) get(id [SessionIDSize]byte) (*Session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[id]
	return s, ok
}

// put caches s. It returns an error wrapping errs.ErrUnavailable when
// the cache is full of sessions whose windows must still be kept.
func (c *sessionCache) put(s *Session, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[s.ID]; !ok && len(c.m) >= c.max {
		evicted := false
		for k, old := range c.m {
			if old.recv.retire(now) {
				delete(c.m, k)
				evicted = true
				break
			}
		}
		if !evicted {
			return fmt.Errorf("exchange: this node holds %d sessions that received requests in the last %s; try again later: %w",
				c.max, replayMemory, errs.ErrUnavailable)
		}
	}
	c.m[s.ID] = s
	return nil
}

func (c *sessionCache) purge(drop func(*Session) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.m {
		if drop(s) {
			delete(c.m, k)
		}
	}
}
