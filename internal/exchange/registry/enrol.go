package registry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"chancery/internal/audit"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/identity"
	"chancery/internal/keys"
	"chancery/internal/store"
)

// A mission node enrols with a one-time token that an administrator at
// headquarters issues for the mission and hands over out of band. The
// token is "<secret>.<fingerprint>": the secret authenticates the mission
// to headquarters, and the fingerprint (the full SHA-256 of headquarters'
// signing key, keys.Fingerprint) names that key, so that
// the mission can check that the configuration it receives in return is
// signed by that key before it trusts it for good (trust on first use,
// bound to the token). Headquarters keeps only the token's SHA-256.

// The refusals of an enrolment. Each is recorded in the audit ledger.
var (
	// ErrEnrolmentUnknown reports a token that headquarters never
	// issued, or one mistyped.
	ErrEnrolmentUnknown = fmt.Errorf("%w: the enrolment token is not one headquarters issued; check that it was copied whole, or ask headquarters for a new one", errs.ErrUnauthenticated)
	// ErrEnrolmentUsed reports a token that has already enrolled a node.
	ErrEnrolmentUsed = fmt.Errorf("%w: the enrolment token has already been used; each token enrols one node, so ask headquarters for a new one", errs.ErrConflict)
	// ErrEnrolmentExpired reports a token past its expiry. It wraps
	// errs.ErrGone (410 Gone, not 401: the token was good and will never
	// be again).
	ErrEnrolmentExpired = fmt.Errorf("%w: the enrolment token has expired; ask headquarters for a new one", errs.ErrGone)
)

// secretBytes is the entropy of an enrolment token's secret.
const secretBytes = 20

// tokenEncoding writes a secret in base32 without padding: letters and
// digits only, easy to read out and to paste into a command line.
var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// hashToken returns the SHA-256 of a token, as the registry stores it.
func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// IssueEnrolment issues a one-time token with which the node of the
// mission member enrols, valid for Options.EnrolmentValidity, and records
// it ("exchange.enrolment.issue"); it publishes no configuration. The
// token is shown once: the registry keeps only its hash. It returns an errs.FieldError (ErrInvalid) when
// member is not an active mission (embassy, consulate general or
// permanent mission), and ErrConflict when the mission already has a node
// in service (revoke it first).
func (r *Registry) IssueEnrolment(ctx context.Context, member string) (token string, expires time.Time, err error) {
	var secret [secretBytes]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("issue enrolment: %w", err)
	}
	token = tokenEncoding.EncodeToString(secret[:]) + "." + keys.Fingerprint(r.ring.PublicKey())
	member = strings.TrimSpace(member)
	// A token is not part of the configuration: nothing to publish.
	err = r.writeUnpublished(ctx, func(c *change) error {
		if err := canEnrol(c, member); err != nil {
			return err
		}
		expires = c.now.Add(r.opts.EnrolmentValidity)
		id, err := insertEnrolment(c.ctx, c.tx, hashToken(token), member, c.actorName(), c.now, expires)
		if err != nil {
			return err
		}
		return c.record("exchange.enrolment.issue", resEnrolment, strconv.FormatInt(id, 10), map[string]string{
			"member": member, "expires": expires.Format(time.RFC3339)})
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue enrolment for %s: %w", member, err)
	}
	return token, expires, nil
}

// canEnrol checks that member may enrol a node now: an active mission
// without a node in service.
func canEnrol(c *change, member string) error {
	u, err := activeMember(c.units, "member", member)
	if err != nil {
		return err
	}
	if !u.Kind.Mission() {
		return errs.Invalid("member", fmt.Sprintf("%s is not a mission: only embassies, consulates general and permanent missions run nodes of their own; other members are served by headquarters' node", member))
	}
	n, err := activeMissionNode(c.ctx, c.tx, member)
	switch {
	case err == nil:
		return fmt.Errorf("%w: mission %s already has node %s in service; revoke it before enrolling another", errs.ErrConflict, member, n.ID)
	case !errors.Is(err, errs.ErrNotFound):
		return err
	}
	return nil
}

// EnrolmentCandidates returns the missions that may enrol a node now:
// the active embassies, consulates general and permanent missions without
// a node in service.
func (r *Registry) EnrolmentCandidates(ctx context.Context) ([]identity.Unit, error) {
	units, err := r.dir.AllUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the directory's units: %w", err)
	}
	nodes, err := listNodes(ctx, r.db)
	if err != nil {
		return nil, err
	}
	served := map[string]bool{}
	for _, n := range nodes {
		if n.Role == exchange.RoleMission && n.Active() {
			served[n.Member] = true
		}
	}
	var out []identity.Unit
	for _, u := range units {
		if u.Kind.Mission() && u.Status == identity.UnitActive && !served[u.Code] {
			out = append(out, u)
		}
	}
	return out, nil
}

// EnrolRequest is what an enrolling mission node sends with its token:
// its public keys.
type EnrolRequest struct {
	// SigningKey is the node's Ed25519 public key.
	SigningKey []byte
	// EncryptionKey is the node's hybrid public key (see
	// exchange.KEMPrivateKey.PublicKey).
	EncryptionKey []byte
}

// EnrolResult is what an enrolled node receives.
type EnrolResult struct {
	// NodeID is the id headquarters gave the node.
	NodeID string
	// SignedConf is the global configuration that certifies the node's
	// keys, signed by the key the token named.
	SignedConf []byte
	// LeafURLs are headquarters' NATS leaf-node URLs (Options.LeafURLs).
	LeafURLs []string
	// LeafUser and LeafPassword are the node's leaf user on a stock NATS
	// cluster (Options.LeafPasswords), else empty; LeafHash is the
	// password's bcrypt hash, for the cluster's configuration.
	LeafUser, LeafPassword, LeafHash string
}

// leafPasswordBytes is the entropy of a mission's leaf password.
const leafPasswordBytes = 24

// leafHashCost is the bcrypt cost of a leaf password's hash: the least.
// A slow hash protects a password a person chose; one of 192 random bits
// cannot be guessed at any cost, while each leaf link's CONNECT makes a
// NATS server check the hash. At the default cost (10) a server whose
// peer was killed, taking the links of twenty missions at once on a
// loaded machine, spent longer than its 5 s authorisation timeout on the
// checks, and every retry began another (the whole-system test at full
// size on deploy/nats's accounts: no mission rejoined for minutes).
const leafHashCost = bcrypt.MinCost

// newLeafPassword makes a mission's leaf password and its bcrypt hash,
// which nats-server's leafnodes.authorization takes in place of the
// password, so that headquarters keeps no password a mission uses.
func newLeafPassword() (password, hash string, err error) {
	var b [leafPasswordBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	password = base64.RawURLEncoding.EncodeToString(b[:])
	h, err := bcrypt.GenerateFromPassword([]byte(password), leafHashCost)
	if err != nil {
		return "", "", fmt.Errorf("hash the leaf password: %w", err)
	}
	return password, string(h), nil
}

// sysRegistry is the actor of a refused enrolment: no one is known to
// have acted, since the token did not say who.
var sysRegistry = audit.System("exchange-registry")

// Enrol enrols a mission node with a token from IssueEnrolment: it
// certifies the node's keys under a new node id, uses the token up, and
// publishes the configuration that names the node, all in one
// transaction, recorded as done by the mission ("exchange.enrol"). ctx
// needs an audit origin for the request id; the caller need not be signed
// in, since the token authenticates.
//
// It returns ErrEnrolmentUnknown, ErrEnrolmentUsed or ErrEnrolmentExpired
// for a bad token, an errs.FieldError (ErrInvalid) for malformed keys, and
// ErrConflict when the mission meanwhile has a node in service, headquarters'
// key changed since the token was issued, or another node has the same
// signing key. Each refusal is recorded in the audit ledger.
func (r *Registry) Enrol(ctx context.Context, token string, req EnrolRequest) (EnrolResult, error) {
	o, err := r.rec.AnyOrigin(ctx)
	if err != nil {
		return EnrolResult{}, err
	}
	res, enrolment, err := r.enrol(ctx, o, token, req)
	if err != nil && (errors.Is(err, errs.ErrUnauthenticated) || errors.Is(err, errs.ErrGone) || errors.Is(err, errs.ErrConflict) || errors.Is(err, errs.ErrInvalid)) {
		if rerr := r.refused(ctx, o, enrolment, err); rerr != nil {
			return EnrolResult{}, rerr
		}
	}
	if err != nil {
		return EnrolResult{}, fmt.Errorf("enrol: %w", err)
	}
	return res, nil
}

// enrol does Enrol's work and returns, with any error, the enrolment the
// token names (zero when it names none), for the record of a refusal.
func (r *Registry) enrol(ctx context.Context, o audit.Origin, token string, req EnrolRequest) (EnrolResult, enrolment, error) {
	_, keyID, ok := strings.Cut(token, ".") // the key's fingerprint
	if !ok || len(token) > 200 {
		return EnrolResult{}, enrolment{}, ErrEnrolmentUnknown
	}
	e, err := enrolmentByHash(ctx, r.db, hashToken(token))
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return EnrolResult{}, e, ErrEnrolmentUnknown
	case err != nil:
		return EnrolResult{}, e, err
	case !e.used.IsZero():
		return EnrolResult{}, e, ErrEnrolmentUsed
	case !r.clock().Before(e.expires):
		return EnrolResult{}, e, ErrEnrolmentExpired
	case len(keyID) != 64:
		return EnrolResult{}, e, fmt.Errorf("%w: the token names headquarters' key by a short id, which is too weak for the mission to trust; ask headquarters for a new token", errs.ErrConflict)
	case keyID != keys.Fingerprint(r.ring.PublicKey()):
		return EnrolResult{}, e, fmt.Errorf("%w: headquarters' signing key has changed since the token was issued, so the token cannot vouch for it; ask headquarters for a new token", errs.ErrConflict)
	}
	if err := checkKeys(req.SigningKey, req.EncryptionKey); err != nil {
		return EnrolResult{}, e, err
	}
	var leafPassword, leafHash string
	if r.opts.LeafPasswords {
		if leafPassword, leafHash, err = newLeafPassword(); err != nil {
			return EnrolResult{}, e, err
		}
	}
	info := exchange.NodeInfo{Role: exchange.RoleMission, Member: e.member, SigningKey: req.SigningKey,
		SigningKeyID: keys.KeyID(req.SigningKey), EncryptionKey: req.EncryptionKey}
	// The mission is the actor: the token proves who it is.
	o.Actor = audit.Member(e.member, "")
	signed, err := r.inTx(ctx, o, func(c *change) error {
		if u, ok := unitByCode(c.units, e.member); ok {
			c.origin.Actor.Name = u.NameEN
		}
		if err := canEnrol(c, e.member); err != nil {
			return err
		}
		if other, err := nodeBySigningKey(c.ctx, c.tx, info.SigningKey); err == nil {
			return fmt.Errorf("%w: node %s already has this signing key; generate fresh keys for a new node", errs.ErrConflict, other.ID)
		} else if !errors.Is(err, errs.ErrNotFound) {
			return err
		}
		var err error
		if info.ID, err = freeNodeID(c.ctx, c.tx, e.member); err != nil {
			return err
		}
		// A mission's embedded server runs the JetStream domain of its
		// node's name, as exchange.Node does.
		info.Domain = info.ID
		info.Certified = c.now
		if err := useEnrolment(c.ctx, c.tx, e.id, info.ID, leafHash, c.now); err != nil {
			return err
		}
		if err := insertNode(c.ctx, c.tx, info); err != nil {
			return err
		}
		details := map[string]string{"member": e.member, "enrolment": strconv.FormatInt(e.id, 10), "signing_key_id": info.SigningKeyID}
		if leafHash != "" {
			// What the operator puts in the cluster's leaf users; the
			// hash of 192 random bits tells nobody the password.
			details["leaf_user"], details["leaf_hash"] = info.ID, leafHash
		}
		if err := c.record("exchange.enrol", resNode, info.ID, details); err != nil {
			return err
		}
		return r.provision(c, info)
	})
	if err != nil {
		return EnrolResult{}, e, err
	}
	res := EnrolResult{NodeID: info.ID, SignedConf: signed, LeafURLs: append([]string(nil), r.opts.LeafURLs...)}
	if leafHash != "" {
		res.LeafUser, res.LeafPassword, res.LeafHash = info.ID, leafPassword, leafHash
	}
	return res, e, nil
}

// provision registers, in the enrolment's change c, what
// Options.Provision says the enrolled node needs, recorded as done by the
// registry (the mission asked for none of it) for the enrolment's request.
func (r *Registry) provision(c *change, node exchange.NodeInfo) error {
	if r.opts.Provision == nil {
		return nil
	}
	hq, ok := ministry(c.units)
	if !ok {
		return nil // no ministry to provision against: the periodic Ensure does it later
	}
	mission := c.origin
	c.origin = audit.Origin{Actor: sysRegistry, RequestID: mission.RequestID}
	defer func() { c.origin = mission }()
	if _, err := r.opts.Provision(hq.Code, node).apply(c); err != nil {
		// Headquarters' plan is wrong, not the mission's request: an
		// internal error (%v drops the refusal's kind), and no enrolment.
		return fmt.Errorf("registry: provision node %s: %v", node.ID, err)
	}
	return nil
}

// refused records a refused enrolment (outcome failed, cause's message as
// the reason) in a transaction of its own, since the enrolment's rolled
// back. A refusal that cannot be recorded becomes that internal error: a
// refusal that leaves no trace would let guessing go unseen.
func (r *Registry) refused(ctx context.Context, o audit.Origin, e enrolment, cause error) error {
	ev := audit.Origin{Actor: sysRegistry, RequestID: o.RequestID}.Event("exchange.enrol")
	ev.Outcome, ev.Reason = audit.Failed, audit.AttrValue(cause.Error())
	if e.id != 0 {
		ev.ResourceType, ev.ResourceID = resEnrolment, strconv.FormatInt(e.id, 10)
		ev.Attrs = map[string]string{"member": e.member}
	}
	return r.db.InTx(ctx, func(tx *store.Tx) error { return r.rec.Record(ctx, tx, ev) })
}

// missionNodeID is the id of a mission's node: "mission-" and the member
// code made a slug, such as "mission-000-01-02-g12".
func missionNodeID(member string) string {
	slug := strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			return c
		case c >= 'A' && c <= 'Z':
			return c - 'A' + 'a'
		}
		return '-'
	}, member)
	return "mission-" + slug
}

// freeNodeID returns the mission's node id, with a number after it when a
// revoked node of the mission had it: node ids are never reused, so no
// message or signature of the old node can pass for the new one's.
func freeNodeID(ctx context.Context, q store.Queryer, member string) (string, error) {
	base := missionNodeID(member)
	for i := 1; ; i++ {
		id := base
		if i > 1 {
			id = base + "-" + strconv.Itoa(i)
		}
		if _, err := nodeByID(ctx, q, id); errors.Is(err, errs.ErrNotFound) {
			return id, nil
		} else if err != nil {
			return "", err
		}
	}
}
