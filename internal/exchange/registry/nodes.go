package registry

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/mlkem"
	"errors"
	"fmt"
	"time"

	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/identity"
	"chancery/internal/keys"
)

// Node is a node as the registry keeps it: its certified keys and, once
// revoked, when, why and by whom.
type Node struct {
	exchange.NodeInfo
	Revoked       time.Time `json:"revoked,omitzero"`
	RevokedReason string    `json:"revoked_reason,omitempty"`
	RevokedBy     string    `json:"revoked_by,omitempty"`
}

// Active reports whether the node's keys are in force.
func (n Node) Active() bool { return n.Revoked.IsZero() }

// maxNodeID bounds a node id or domain.
const maxNodeID = 64

// checkName checks a node's id or JetStream domain: lower-case letters,
// digits and '-', safe in NATS subjects, domains, URLs and file names.
func checkName(field, v string) error {
	if v == "" || len(v) > maxNodeID {
		return errs.Invalid(field, fmt.Sprintf("has 1 to %d characters", maxNodeID))
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return errs.Invalid(field, fmt.Sprintf("%q may hold only lower-case letters, digits and '-'", v))
		}
	}
	return nil
}

// x25519PublicKeySize is the X25519 half of exchange's hybrid public key.
const x25519PublicKeySize = exchange.KEMPublicKeySize - mlkem.EncapsulationKeySize768

// checkKeys checks a node's public keys: an Ed25519 signing key, and a
// hybrid encryption key whose X25519 and ML-KEM-768 halves both parse, so
// that no sender fails later on a key headquarters certified.
func checkKeys(signing, encryption []byte) error {
	if len(signing) != ed25519.PublicKeySize {
		return errs.Invalid("signing_key", fmt.Sprintf("is %d bytes, an Ed25519 public key has %d", len(signing), ed25519.PublicKeySize))
	}
	if len(encryption) != exchange.KEMPublicKeySize {
		return errs.Invalid("encryption_key", fmt.Sprintf("is %d bytes, a hybrid X25519 + ML-KEM-768 public key has %d", len(encryption), exchange.KEMPublicKeySize))
	}
	if _, err := ecdh.X25519().NewPublicKey(encryption[:x25519PublicKeySize]); err != nil {
		return errs.Invalid("encryption_key", "its X25519 half is not a valid public key")
	}
	if _, err := mlkem.NewEncapsulationKey768(encryption[x25519PublicKeySize:]); err != nil {
		return errs.Invalid("encryption_key", "its ML-KEM-768 half is not a valid encapsulation key")
	}
	return nil
}

// sameKeys reports whether two nodes have the same keys, member and
// domain.
func sameKeys(a, b exchange.NodeInfo) bool {
	return a.Member == b.Member && a.Domain == b.Domain && bytes.Equal(a.SigningKey, b.SigningKey) && bytes.Equal(a.EncryptionKey, b.EncryptionKey)
}

// EnsureHQNode registers headquarters' own node with its public keys, or
// updates them when they changed (a rotated key), and records it
// ("exchange.node.certify"). An empty Member is the ministry's, the root
// of the directory; an empty Domain is the node id. The HQ node calls it at every start, with the
// keyring's current signing key as its signing key, since that key signs
// the global configuration. It publishes a configuration when something
// changed or none was published yet, and otherwise changes nothing.
//
// It returns an errs.FieldError (ErrInvalid) for a malformed id, role or
// key, and ErrConflict when another node is registered as headquarters.
func (r *Registry) EnsureHQNode(ctx context.Context, info exchange.NodeInfo) error {
	if err := r.checkHQNode(info); err != nil {
		return fmt.Errorf("register headquarters' node: %w", err)
	}
	info.SigningKeyID = keys.KeyID(info.SigningKey)
	if info.Domain == "" {
		info.Domain = info.ID
	}
	err := r.write(ctx, func(c *change) error {
		if info.Member == "" {
			root, ok := ministry(c.units)
			if !ok {
				return errs.Invalid("member", "is required: the directory has no ministry unit to run headquarters' node")
			}
			info.Member = root.Code
		}
		old, err := hqNode(c.ctx, c.tx)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			info.Certified = c.now
			if err := insertNode(c.ctx, c.tx, info); err != nil {
				return err
			}
		case err != nil:
			return err
		case old.ID != info.ID:
			return fmt.Errorf("%w: headquarters' node is registered as %q, not %q; a registry has one headquarters node, whose id never changes", errs.ErrConflict, old.ID, info.ID)
		case sameKeys(old.NodeInfo, info):
			if published, err := hasConf(c.ctx, c.tx); err != nil || !published {
				return err // nil: publish the first configuration
			}
			return errUnchanged
		default:
			info.Certified = c.now
			if err := updateNodeKeys(c.ctx, c.tx, info); err != nil {
				return err
			}
		}
		return c.record("exchange.node.certify", resNode, info.ID, map[string]string{
			"role": string(info.Role), "member": info.Member, "signing_key_id": info.SigningKeyID})
	})
	if err != nil {
		return fmt.Errorf("register headquarters' node: %w", err)
	}
	return nil
}

// ministry returns the root unit of the directory.
func ministry(units []identity.Unit) (identity.Unit, bool) {
	for _, u := range units {
		if u.Kind == identity.KindMinistry {
			return u, true
		}
	}
	return identity.Unit{}, false
}

// checkHQNode checks what EnsureHQNode is given.
func (r *Registry) checkHQNode(info exchange.NodeInfo) error {
	if info.Role != exchange.RoleHQ {
		return errs.Invalid("role", fmt.Sprintf("headquarters' node has the role %q, not %q", exchange.RoleHQ, info.Role))
	}
	if err := checkName("id", info.ID); err != nil {
		return err
	}
	if info.Domain != "" {
		if err := checkName("domain", info.Domain); err != nil {
			return err
		}
	}
	if err := checkKeys(info.SigningKey, info.EncryptionKey); err != nil {
		return err
	}
	if !bytes.Equal(info.SigningKey, r.ring.PublicKey()) {
		return errs.Invalid("signing_key", "headquarters' node must sign with the keyring's current signing key, which signs the global configuration")
	}
	return nil
}

// Nodes returns every node, headquarters first, revoked ones included.
func (r *Registry) Nodes(ctx context.Context) ([]Node, error) {
	nodes, err := listNodes(ctx, r.db)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return nodes, nil
}

// RevokeNode withdraws a mission node's keys for reason and records it
// ("exchange.node.revoke"): from the next configuration on, nothing is
// sent to the node and nothing from it is accepted, and its member is
// served by headquarters' node until the mission enrols a new one. It
// returns ErrNotFound for an unknown node, an errs.FieldError
// (ErrInvalid) without a reason or for headquarters' node, and
// ErrConflict when the node is already revoked.
func (r *Registry) RevokeNode(ctx context.Context, id, reason string) error {
	reason, err := cleanText("reason", reason, 1, maxReason, false)
	if err != nil {
		return fmt.Errorf("revoke node %s: %w", id, err)
	}
	err = r.write(ctx, func(c *change) error {
		n, err := nodeByID(c.ctx, c.tx, id)
		switch {
		case err != nil:
			return err
		case n.Role == exchange.RoleHQ:
			return errs.Invalid("id", "headquarters' node cannot be revoked: it signs the global configuration; rotate its keys instead")
		case !n.Active():
			return fmt.Errorf("%w: node %s was already revoked on %s", errs.ErrConflict, id, n.Revoked.Format(time.DateOnly))
		}
		if err := revokeNode(c.ctx, c.tx, id, reason, c.actorName(), c.now); err != nil {
			return err
		}
		return c.record("exchange.node.revoke", resNode, id, map[string]string{"member": n.Member, "reason": reason})
	})
	if err != nil {
		return fmt.Errorf("revoke node %s: %w", id, err)
	}
	return nil
}
