package exchange

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/bus"
	"chancery/internal/keys"
)

// The leaf link between a mission's NATS server and headquarters' is
// secured with what enrolment already established, and nothing new to
// hand out or store:
//
//   - TLS: headquarters serves a certificate for a short-lived key,
//     signed by its node signing key. A mission accepts it only if that
//     signature verifies with the headquarters key it trusted at
//     enrolment (the key whose fingerprint the token carried), so a
//     server that is not headquarters cannot take the link. An operator
//     may serve a certificate of their own CA instead (LeafTLSFiles).
//   - Authentication: the mission signs the server's nonce with its node
//     signing key, which headquarters certified at enrolment and lists in
//     the global configuration. Headquarters admits an active mission
//     node only; a revoked one is refused and its link closed at once.
//   - Isolation: each mission's link is bound to an account of its own,
//     into which only the mission's own subjects are routed (leafGrants):
//     its consumers on the streams of the nodes it receives from, the
//     consumers of the nodes that receive from it on its stream, the
//     requests of its gateway, and the global configuration. Nothing
//     else of headquarters' is reachable, and of its JetStream API only
//     the mission's own consumers, which headquarters creates itself.

// leafAuthContext separates the signature of a leaf's nonce from every
// other signature of the node's key.
const leafAuthContext = "chancery-exchange-leaf-auth-v1\x00"

// leafCertValidity is how long a headquarters leaf certificate is served;
// a fresh one is made when half of it has passed.
const leafCertValidity = 30 * 24 * time.Hour

// LeafTLSFiles names a certificate and key (PEM) headquarters serves on
// its leaf listener instead of one signed by its node key, or a CA
// bundle a mission verifies headquarters' certificate with instead of
// the key it pinned at enrolment.
type LeafTLSFiles struct {
	CertFile, KeyFile string // headquarters
	CAFile            string // a mission
}

// LeafHub returns the security of headquarters' leaf listener: TLS with a
// certificate from the node key (or files), and admission of the active
// mission nodes of the global configuration only. Attach then routes
// their subjects.
func (n *Node) LeafHub(files LeafTLSFiles) (*bus.LeafHub, error) {
	if n.role != RoleHQ {
		return nil, errors.New("exchange: only headquarters accepts leaf nodes")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS13}
	if files.CertFile != "" || files.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(files.CertFile, files.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("exchange: leaf TLS certificate: %w (check --leaf-tls-cert and --leaf-tls-key)", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	} else {
		lc := &leafCert{ring: n.ring, now: n.now}
		if _, err := lc.get(nil); err != nil {
			return nil, err
		}
		cfg.GetCertificate = lc.get
	}
	return &bus.LeafHub{TLS: cfg, Admit: n.admitLeaf}, nil
}

// admitLeaf admits a mission node of the current configuration that is
// not revoked and signed the nonce with its certified key.
func (n *Node) admitLeaf(name string, nonce, sig []byte) error {
	conf, err := n.Conf()
	if err != nil {
		return err
	}
	info, ok := conf.Node(name)
	switch {
	case !ok:
		return fmt.Errorf("node %q is not in the global configuration", name)
	case info.Role != RoleMission:
		return fmt.Errorf("node %q is not a mission", name)
	}
	if rv, revoked := conf.Revocation(name); revoked {
		return fmt.Errorf("node %q was revoked on %s", name, rv.At.Format(time.RFC3339))
	}
	if len(info.SigningKey) != ed25519.PublicKeySize || !ed25519.Verify(info.SigningKey, leafAuthMessage(nonce), sig) {
		return fmt.Errorf("the signature is not by node %q's certified key", name)
	}
	return nil
}

func leafAuthMessage(nonce []byte) []byte {
	return append([]byte(leafAuthContext), nonce...)
}

// LeafDial returns how a mission's server joins headquarters: TLS that
// accepts only a certificate signed by the headquarters key trusted at
// enrolment (or one the CA file vouches for), and the node's signature of
// the hub's nonce. The bus's server name must be the node id.
func (n *Node) LeafDial(files LeafTLSFiles) (*bus.LeafDial, error) {
	if n.role != RoleMission {
		return nil, errors.New("exchange: only a mission joins headquarters as a leaf node")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS13}
	if files.CAFile != "" {
		pem, err := os.ReadFile(files.CAFile)
		if err != nil {
			return nil, fmt.Errorf("exchange: leaf TLS CA: %w (check --leaf-tls-ca)", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("exchange: leaf TLS CA %s holds no PEM certificate (check --leaf-tls-ca)", files.CAFile)
		}
		cfg.RootCAs = pool
	} else {
		anchor, now := n.trustAnchor(), n.now
		// The chain and name checks of a public CA do not apply: the
		// certificate is headquarters' own, and its signature by the
		// pinned key is the check (VerifyConnection runs all the same).
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyLeafCert(cs.PeerCertificates, anchor, now())
		}
	}
	ring := n.ring
	sign := func(nonce []byte) ([]byte, error) {
		return ring.Signer().Sign(nil, leafAuthMessage(nonce), crypto.Hash(0))
	}
	// A stock NATS cluster checks the leaf user enrolment gave the
	// mission; Chancery's hub checks the signature.
	return &bus.LeafDial{TLS: cfg, Sign: sign, User: n.leafAuth.User, Password: n.leafAuth.Password}, nil
}

// verifyLeafCert checks that headquarters' leaf certificate is signed by
// the pinned headquarters key and valid now.
func verifyLeafCert(chain []*x509.Certificate, anchor ed25519.PublicKey, now time.Time) error {
	if len(chain) == 0 {
		return errors.New("exchange: headquarters presented no leaf certificate")
	}
	c := chain[0]
	if c.SignatureAlgorithm != x509.PureEd25519 || len(anchor) != ed25519.PublicKeySize ||
		!ed25519.Verify(anchor, c.RawTBSCertificate, c.Signature) {
		return fmt.Errorf("exchange: the leaf certificate is not signed by the headquarters key %s trusted at enrolment; "+
			"this server may not be headquarters (or it serves a certificate of its own CA: set --leaf-tls-ca)", keys.KeyID(anchor))
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return fmt.Errorf("exchange: headquarters' leaf certificate is valid from %s to %s, not now (check the clocks)", c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))
	}
	return nil
}

// leafCert makes and renews headquarters' leaf certificate: a fresh
// ECDSA key each time, certified by the node's signing key, which never
// signs a TLS handshake itself.
type leafCert struct {
	ring *keys.Ring
	now  func() time.Time

	mu   sync.Mutex
	cert *tls.Certificate // guarded by mu
	made time.Time        // guarded by mu
}

func (l *leafCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.cert != nil && now.Sub(l.made) < leafCertValidity/2 && l.cert.Leaf != nil &&
		bytes.Equal(l.cert.Leaf.AuthorityKeyId, authorityKeyID(l.ring.PublicKey())) {
		return l.cert, nil
	}
	cert, err := newLeafCert(l.ring, now)
	if err != nil {
		return nil, err
	}
	l.cert, l.made = cert, now
	return cert, nil
}

// authorityKeyID names the signing key in the certificates it signs.
func authorityKeyID(pub ed25519.PublicKey) []byte {
	return []byte(keys.KeyID(pub))
}

// newLeafCert makes a leaf certificate for a fresh key, signed by the
// ring's current signing key.
func newLeafCert(ring *keys.Ring, now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("exchange: leaf TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	signer := ring.Signer()
	pub := ring.PublicKey()
	issuer := pkix.Name{CommonName: "Chancery headquarters " + keys.Fingerprint(pub)}
	tmpl := &x509.Certificate{
		SerialNumber:   serial,
		Subject:        pkix.Name{CommonName: "Chancery headquarters leaf node listener"},
		NotBefore:      now.Add(-time.Hour),
		NotAfter:       now.Add(leafCertValidity),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		AuthorityKeyId: authorityKeyID(pub),
	}
	parent := &x509.Certificate{Subject: issuer, PublicKey: pub, SubjectKeyId: authorityKeyID(pub)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("exchange: sign the leaf TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// syncLeafLinks, at headquarters, routes the subjects of the active
// nodes of the configuration between their leaf accounts and closes the
// links of revoked nodes. It runs when the bus is attached and after
// each configuration installed, so a revocation takes effect at once.
//
// On an external cluster, whose accounts the operator configures
// (deploy/nats), headquarters' replicas only serve the consumer
// creations, which each mission's account imports under the creation
// subject's name: one replica answers each (a queue group).
func (n *Node) syncLeafLinks() {
	if n.role != RoleHQ || n.bus == nil {
		return
	}
	n.leafOnce.Do(func() {
		sub, err := n.bus.Conn().QueueSubscribe(hubCreatePrefix+"*.*", requestQueue, func(m *nats.Msg) { go n.createForLeaf(m) })
		if err != nil {
			n.log.Error("exchange: serve the mission nodes' consumer creations", "err", err)
			return
		}
		sub.SetPendingLimits(1024, 1<<20) //nolint:errcheck // a subscription of a live connection
	})
	if !n.bus.AcceptsLeafs() {
		return
	}
	conf, err := n.Conf()
	if err != nil {
		return
	}
	services, feeds := leafGrants(conf, n.id)
	if err := n.bus.GrantLeaf(services, feeds); err != nil {
		n.log.Error("exchange: route the subjects of the mission nodes", "err", err)
	}
	for _, rv := range conf.Revoked {
		if k, err := n.bus.DisconnectLeaf(rv.Node); err != nil {
			n.log.Error("exchange: disconnect a revoked node", "node", rv.Node, "err", err)
		} else if k > 0 {
			n.log.Warn("exchange: disconnected the leaf link of a revoked node", "node", rv.Node, "links", k)
		}
	}
}

// leafGrants lists what each pair of linked active nodes
// (GlobalConf.Linked) needs of each other across headquarters' server,
// and nothing more. For a receiver R and a
// source S: R's durable consumer on S's stream in S's JetStream domain
// (create it with its one filter, delete it, read it, pull from it and
// acknowledge), and R's requests to S's gateway. For each mission: the
// configuration headquarters publishes, and asking for it.
func leafGrants(conf *GlobalConf, hq string) ([]bus.LeafService, []bus.LeafFeed) {
	account := func(id string) string {
		if id == hq {
			return bus.HubAccount
		}
		return id
	}
	var active []*NodeInfo
	for i := range conf.Nodes {
		if _, revoked := conf.Revocation(conf.Nodes[i].ID); !revoked {
			active = append(active, &conf.Nodes[i])
		}
	}
	var (
		services []bus.LeafService
		feeds    []bus.LeafFeed
	)
	for _, r := range active {
		for _, s := range active {
			if r.ID == s.ID || !conf.Linked(r.ID, s.ID) {
				continue
			}
			caller, provider := account(r.ID), account(s.ID)
			cons := streamName + "." + consumerName(s.ID, r.ID)
			// Headquarters' server maps a leaf's requests to its domain
			// ($JS.<hq>.API.…) onto $JS.API.… in the leaf's account, as
			// its own JetStream API answers them.
			api := "$JS." + s.Domain + ".API."
			if s.ID == hq {
				api = "$JS.API."
			}
			create := api + "CONSUMER.CREATE." + cons + "." + subjectFor(s.ID, r.ID)
			switch {
			case r.ID == hq:
				services = append(services, bus.LeafService{Caller: caller, Provider: provider, Subject: create})
			default:
				// A consumer's configuration could deliver what it reads
				// anywhere in the source's account, its JetStream API
				// included: a mission's creation goes to headquarters,
				// which creates the consumer the transport uses instead.
				services = append(services, bus.LeafService{Caller: caller, Provider: bus.HubAccount, Subject: create,
					Target: hubCreatePrefix + subjectToken(s.ID) + "." + subjectToken(r.ID)})
				if s.ID != hq {
					services = append(services, bus.LeafService{Caller: bus.HubAccount, Provider: provider, Subject: create})
				}
			}
			for _, op := range []string{"CONSUMER.DELETE." + cons, "CONSUMER.INFO." + cons, "CONSUMER.MSG.NEXT." + cons} {
				services = append(services, bus.LeafService{Caller: caller, Provider: provider, Subject: api + op,
					Streamed: op == "CONSUMER.MSG.NEXT."+cons})
			}
			services = append(services,
				bus.LeafService{Caller: caller, Provider: provider, Subject: "$JS.ACK." + cons + ".>"},
				bus.LeafService{Caller: caller, Provider: provider, Subject: requestSubject(s.ID)})
		}
		if r.ID != hq {
			feeds = append(feeds, bus.LeafFeed{Reader: r.ID, Publisher: bus.HubAccount, Subject: confSubject})
			services = append(services, bus.LeafService{Caller: r.ID, Provider: bus.HubAccount, Subject: confGetSubject})
		}
	}
	return services, feeds
}

// hubCreatePrefix starts the subject on which headquarters creates a
// mission's consumer: hubCreatePrefix + "<source>.<receiver>".
const hubCreatePrefix = "chx.hub.create."

// createForLeaf answers a mission's request to create its consumer on a
// source's stream: headquarters creates the consumer the transport uses
// (consumerConfig), whatever the request's configuration says, and
// relays JetStream's answer.
func (n *Node) createForLeaf(m *nats.Msg) {
	src, dest, _ := strings.Cut(strings.TrimPrefix(m.Subject, hubCreatePrefix), ".")
	conf, err := n.Conf()
	if err != nil {
		return
	}
	info, ok := conf.Node(src)
	if _, revoked := conf.Revocation(dest); !ok || revoked || subjectToken(src) != src || subjectToken(dest) != dest {
		return // no consumer to create; the request times out
	}
	var req struct {
		Stream string `json:"stream_name"`
	}
	if err := json.Unmarshal(m.Data, &req); err != nil || req.Stream != streamName {
		return
	}
	cfg := consumerConfig(src, dest)
	body, err := json.Marshal(struct {
		Stream string                   `json:"stream_name"`
		Config jetstream.ConsumerConfig `json:"config"`
	}{streamName, cfg})
	if err != nil {
		return
	}
	// Within the mission's own bound on the whole (consumerTimeout),
	// which also covers the hops to and from this replica.
	ctx, cancel := context.WithTimeout(context.Background(), consumerTimeout*3/4)
	defer cancel()
	subject := "$JS." + info.Domain + ".API.CONSUMER.CREATE." + streamName + "." + cfg.Durable + "." + cfg.FilterSubject
	reply, err := n.bus.Conn().RequestWithContext(ctx, subject, body)
	if err != nil {
		n.log.Debug("exchange: create a mission node's consumer", "source", src, "receiver", dest, "err", err)
		return
	}
	if err := m.Respond(reply.Data); err != nil {
		n.log.Debug("exchange: answer a mission node's consumer creation", "err", err)
	}
}
