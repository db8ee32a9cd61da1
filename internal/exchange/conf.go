package exchange

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/keys"
)

// The global configuration is what headquarters tells every node about the
// exchange: who the members are, which subsystems and services exist, who
// may call what, and which node keys are certified or revoked. It is
// signed by headquarters and expires; nodes cache it and enforce it
// offline, so a mission cut off from headquarters keeps working on its
// last copy until that copy expires.

// ServiceKind says how a service is called.
type ServiceKind string

const (
	// KindREST is a synchronous REST service: a request through the
	// gateway is answered by the provider's backend at once.
	KindREST ServiceKind = "rest"
	// KindAsync is an asynchronous message type: messages are stored and
	// forwarded to the provider's inbox.
	KindAsync ServiceKind = "async"
)

// Valid reports whether k is a known kind.
func (k ServiceKind) Valid() bool { return k == KindREST || k == KindAsync }

// NodeRole says what a node is.
type NodeRole string

const (
	// RoleHQ is the headquarters node, which runs the registry and signs
	// the global configuration.
	RoleHQ NodeRole = "hq"
	// RoleMission is a mission's node, a leaf of headquarters.
	RoleMission NodeRole = "mission"
)

// Member is an organisation taking part in the exchange: a ministry unit,
// a mission or an outside agency, by its electronic agency code.
type Member struct {
	Instance string `json:"instance"`
	Class    string `json:"class"`
	Code     string `json:"code"`
	NameVI   string `json:"name_vi"`
	NameEN   string `json:"name_en"`
	// Kind is the unit kind (identity.UnitKind), Country its ISO 3166-1
	// code and TimeZone its IANA zone, so that a mission node can set up
	// its own unit from the configuration alone.
	Kind     string `json:"kind,omitempty"`
	Country  string `json:"country,omitempty"`
	TimeZone string `json:"time_zone,omitempty"`
	// Node is the id of the node that serves the member's subsystems.
	Node string `json:"node"`
}

// Key returns "instance/class/code".
func (m Member) Key() string { return m.Instance + "/" + m.Class + "/" + m.Code }

// Subsystem is one information system of a member: the party that sends,
// receives and calls.
type Subsystem struct {
	ID    ClientID `json:"id"`
	Title string   `json:"title"`
	// Clearance is the highest classification the subsystem is cleared
	// to receive; a message above it is refused.
	Clearance authz.Level `json:"clearance"`
}

// Service is a service offered by a subsystem.
type Service struct {
	ID          ServiceID   `json:"id"`
	Kind        ServiceKind `json:"kind"`
	Title       string      `json:"title"`
	Description string      `json:"description,omitempty"`
	// Backend is the base URL the provider's node calls for a REST
	// service; empty for an asynchronous one.
	Backend string `json:"backend,omitempty"`
	// MaxLevel is the highest classification a message to the service
	// may carry.
	MaxLevel authz.Level `json:"max_level"`
	// OpenAPI is the REST service's OpenAPI 3 description, so that the
	// catalogue on every node can show it; empty for asynchronous
	// services.
	OpenAPI string `json:"openapi,omitempty"`
}

// Right grants a client subsystem the use of a service. There are no
// other rights: everything not granted is denied.
type Right struct {
	Service ServiceID `json:"service"`
	Client  ClientID  `json:"client"`
}

// NodeInfo is a node's certified public keys.
type NodeInfo struct {
	ID   string   `json:"id"`
	Role NodeRole `json:"role"`
	// Member is the member code of the unit that runs the node.
	Member string `json:"member"`
	// Domain is the JetStream domain of the node's embedded server (or
	// of headquarters' cluster), where its outgoing stream lives.
	Domain string `json:"domain"`
	// SigningKey is the node's Ed25519 public key, and SigningKeyID its
	// keys.KeyID.
	SigningKey   []byte `json:"signing_key"`
	SigningKeyID string `json:"signing_key_id"`
	// EncryptionKey is the node's hybrid X25519 + ML-KEM-768 public key
	// (see KEMPublicKey).
	EncryptionKey []byte    `json:"encryption_key"`
	Certified     time.Time `json:"certified"`
}

// Revocation withdraws a node's keys: nothing is sent to it and nothing
// from it is accepted.
type Revocation struct {
	Node   string    `json:"node"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// GlobalConf is the exchange's global configuration.
type GlobalConf struct {
	Instance string `json:"instance"`
	// Serial grows with every configuration headquarters publishes; a
	// node never replaces its copy with a lower serial.
	Serial  uint64    `json:"serial"`
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires"`
	// HQ is the id of the node that signs the configuration.
	HQ string `json:"hq"`
	// MaxMessageBytes bounds the payload of one message.
	MaxMessageBytes int64 `json:"max_message_bytes"`

	Members    []Member     `json:"members"`
	Subsystems []Subsystem  `json:"subsystems"`
	Services   []Service    `json:"services"`
	Rights     []Right      `json:"rights"`
	Nodes      []NodeInfo   `json:"nodes"`
	Revoked    []Revocation `json:"revoked"`

	// Lookup indexes, built by index.
	members    map[string]*Member
	subsystems map[ClientID]*Subsystem
	services   map[ServiceID]*Service
	rights     map[Right]bool
	nodes      map[string]*NodeInfo
	revoked    map[string]*Revocation
	linked     map[[2]string]bool // pairs of mission nodes a right links; see Linked
}

// Errors of the configuration. They wrap errs kinds so that the gateway
// maps them to the right HTTP status.
var (
	ErrConfExpired  = fmt.Errorf("exchange: the global configuration has expired; this node refuses new messages until headquarters sends a fresh one (check the link to headquarters): %w", errs.ErrUnavailable)
	ErrNoConf       = fmt.Errorf("exchange: this node has no global configuration yet (enrol it with headquarters first): %w", errs.ErrUnavailable)
	ErrBadSignature = errors.New("exchange: signature does not verify")
)

// Member returns the member with the key "instance/class/code".
func (c *GlobalConf) Member(key string) (*Member, bool) { m, ok := c.members[key]; return m, ok }

// Subsystem returns the subsystem with the given id.
func (c *GlobalConf) Subsystem(id ClientID) (*Subsystem, bool) {
	s, ok := c.subsystems[id]
	return s, ok
}

// Service returns the service with the given id.
func (c *GlobalConf) Service(id ServiceID) (*Service, bool) { s, ok := c.services[id]; return s, ok }

// Allowed reports whether client may use service.
func (c *GlobalConf) Allowed(client ClientID, service ServiceID) bool {
	return c.rights[Right{Service: service, Client: client}]
}

// Linked reports whether messages may pass between nodes a and b, so
// that each pulls from the other's stream and headquarters routes
// between them: a node and itself (a circular's recipient may be on the
// sender's node), headquarters and any other node; two missions only
// when a right links a subsystem one serves to a service the other
// serves, either way (the receiver answers with receipts). Not every
// mission with every other: that would make the consumers and routes
// grow with the square of the missions (95 missions, 9,000 pulls a
// second).
func (c *GlobalConf) Linked(a, b string) bool {
	return a == b || a == c.HQ || b == c.HQ || c.linked[nodePair(a, b)]
}

func nodePair(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

// Node returns the node with the given id, revoked or not.
func (c *GlobalConf) Node(id string) (*NodeInfo, bool) { n, ok := c.nodes[id]; return n, ok }

// Revocation returns the node's revocation, if it is revoked.
func (c *GlobalConf) Revocation(node string) (*Revocation, bool) {
	r, ok := c.revoked[node]
	return r, ok
}

// NodeOf returns the id of the node that serves client's member.
func (c *GlobalConf) NodeOf(client ClientID) (string, bool) {
	m, ok := c.members[client.MemberKey()]
	if !ok {
		return "", false
	}
	return m.Node, true
}

// Expired reports whether the configuration has expired at now.
func (c *GlobalConf) Expired(now time.Time) bool { return !now.Before(c.Expires) }

// index builds the lookup maps and checks that every reference resolves.
func (c *GlobalConf) index() error {
	c.members = make(map[string]*Member, len(c.Members))
	c.subsystems = make(map[ClientID]*Subsystem, len(c.Subsystems))
	c.services = make(map[ServiceID]*Service, len(c.Services))
	c.rights = make(map[Right]bool, len(c.Rights))
	c.nodes = make(map[string]*NodeInfo, len(c.Nodes))
	c.revoked = make(map[string]*Revocation, len(c.Revoked))
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if n.ID == "" || len(n.SigningKey) != ed25519.PublicKeySize || len(n.EncryptionKey) != KEMPublicKeySize {
			return fmt.Errorf("exchange: configuration node %q has malformed keys", n.ID)
		}
		if n.Role != RoleHQ && n.Role != RoleMission {
			return fmt.Errorf("exchange: configuration node %q has unknown role %q", n.ID, n.Role)
		}
		c.nodes[n.ID] = n
	}
	if _, ok := c.nodes[c.HQ]; !ok {
		return fmt.Errorf("exchange: configuration names headquarters node %q, which it does not list", c.HQ)
	}
	for i := range c.Members {
		m := &c.Members[i]
		if _, ok := c.nodes[m.Node]; !ok {
			return fmt.Errorf("exchange: configuration member %s is served by unknown node %q", m.Key(), m.Node)
		}
		c.members[m.Key()] = m
	}
	for i := range c.Subsystems {
		s := &c.Subsystems[i]
		if _, ok := c.members[s.ID.MemberKey()]; !ok {
			return fmt.Errorf("exchange: configuration subsystem %s belongs to no listed member", s.ID)
		}
		c.subsystems[s.ID] = s
	}
	for i := range c.Services {
		s := &c.Services[i]
		if _, ok := c.subsystems[s.ID.Provider()]; !ok {
			return fmt.Errorf("exchange: configuration service %s is offered by no listed subsystem", s.ID)
		}
		if !s.Kind.Valid() {
			return fmt.Errorf("exchange: configuration service %s has unknown kind %q", s.ID, s.Kind)
		}
		c.services[s.ID] = s
	}
	for _, r := range c.Rights {
		if _, ok := c.services[r.Service]; !ok {
			return fmt.Errorf("exchange: configuration grants a right on unknown service %s", r.Service)
		}
		if _, ok := c.subsystems[r.Client]; !ok {
			return fmt.Errorf("exchange: configuration grants a right to unknown client %s", r.Client)
		}
		c.rights[r] = true
	}
	c.linked = make(map[[2]string]bool)
	for _, r := range c.Rights {
		if a, ok := c.NodeOf(r.Client); ok {
			if b, ok := c.NodeOf(r.Service.Provider()); ok && a != b {
				c.linked[nodePair(a, b)] = true
			}
		}
	}
	for i := range c.Revoked {
		c.revoked[c.Revoked[i].Node] = &c.Revoked[i]
	}
	return nil
}

// SignedConf is the global configuration as distributed: the exact bytes
// that were signed, and the signature of the headquarters node.
type SignedConf struct {
	Conf      json.RawMessage `json:"conf"`
	KeyID     string          `json:"key_id"`
	Signature []byte          `json:"signature"`
}

// confContext separates configuration signatures from every other
// signature the node key makes.
const confContext = "chancery-exchange-conf-v1\n"

// SignConf encodes and signs conf with the headquarters node's key.
func SignConf(conf *GlobalConf, signer *keys.Signer) ([]byte, error) {
	body, err := json.Marshal(conf)
	if err != nil {
		return nil, fmt.Errorf("exchange: encode global configuration: %w", err)
	}
	sig, err := signer.Sign(nil, append([]byte(confContext), body...), crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("exchange: sign global configuration: %w", err)
	}
	return json.Marshal(SignedConf{Conf: body, KeyID: signer.KeyID(), Signature: sig})
}

// maxConfBytes bounds a configuration document, so that a hostile peer
// cannot make a node parse gigabytes.
const maxConfBytes = 16 << 20

// ParseConf decodes a signed configuration and verifies it against the
// trusted headquarters key anchor. It returns an error if the document is
// malformed, not signed by anchor, inconsistent, or signed by a key that
// does not belong to the headquarters node it names. It does not check
// expiry: a node keeps and reports an expired copy, and refuses to send on
// it.
func ParseConf(data []byte, anchor ed25519.PublicKey) (*GlobalConf, error) {
	if len(data) > maxConfBytes {
		return nil, fmt.Errorf("exchange: global configuration of %d bytes is over the %d-byte limit", len(data), maxConfBytes)
	}
	var sc SignedConf
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("exchange: global configuration is not a signed document: %w", err)
	}
	if len(anchor) != ed25519.PublicKeySize || sc.KeyID != keys.KeyID(anchor) {
		return nil, fmt.Errorf("exchange: global configuration is signed by key %q, not by the trusted headquarters key %q: %w", sc.KeyID, keys.KeyID(anchor), ErrBadSignature)
	}
	if !ed25519.Verify(anchor, append([]byte(confContext), sc.Conf...), sc.Signature) {
		return nil, fmt.Errorf("exchange: global configuration: %w", ErrBadSignature)
	}
	conf := new(GlobalConf)
	dec = json.NewDecoder(bytes.NewReader(sc.Conf))
	dec.DisallowUnknownFields()
	if err := dec.Decode(conf); err != nil {
		return nil, fmt.Errorf("exchange: decode global configuration: %w", err)
	}
	if err := conf.index(); err != nil {
		return nil, err
	}
	hq := conf.nodes[conf.HQ]
	if !bytes.Equal(hq.SigningKey, anchor) {
		return nil, fmt.Errorf("exchange: global configuration is signed by a key that is not its headquarters node's: %w", ErrBadSignature)
	}
	return conf, nil
}

// Build checks and indexes a configuration assembled by the registry,
// sorting its lists so that equal configurations encode equally.
func (c *GlobalConf) Build() error {
	slices.SortFunc(c.Members, func(a, b Member) int { return strings.Compare(a.Key(), b.Key()) })
	slices.SortFunc(c.Subsystems, func(a, b Subsystem) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	slices.SortFunc(c.Services, func(a, b Service) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	slices.SortFunc(c.Rights, func(a, b Right) int {
		if d := strings.Compare(a.Service.String(), b.Service.String()); d != 0 {
			return d
		}
		return strings.Compare(a.Client.String(), b.Client.String())
	})
	slices.SortFunc(c.Nodes, func(a, b NodeInfo) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(c.Revoked, func(a, b Revocation) int { return strings.Compare(a.Node, b.Node) })
	return c.index()
}
