package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/identity"
	"chancery/internal/keys"
)

// errNoHQ reports a registry asked to publish before headquarters' node
// registered its keys: no configuration can name its signer.
var errNoHQ = fmt.Errorf("%w: headquarters' node has not registered its keys yet, so no global configuration can be published; it registers them when it starts", errs.ErrUnavailable)

// Publish publishes a new global configuration of the registry as it is
// now, signed with headquarters' key, records it
// ("exchange.conf.publish"), and returns it. Changes publish by
// themselves; Publish is for a configuration nearing expiry (see Refresh)
// or an operator's explicit request.
func (r *Registry) Publish(ctx context.Context) ([]byte, error) {
	o, err := r.rec.Origin(ctx)
	if err != nil {
		return nil, err
	}
	signed, err := r.inTx(ctx, o, func(*change) error { return nil })
	if err != nil {
		return nil, fmt.Errorf("publish the global configuration: %w", err)
	}
	return signed, nil
}

// publish builds, signs and stores the configuration of serial c.serial
// from the state c's transaction sees, and records it.
func (r *Registry) publish(c *change) ([]byte, error) {
	nodes, err := listNodes(c.ctx, c.tx)
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 || nodes[0].Role != exchange.RoleHQ {
		return nil, errNoHQ
	}
	signer := r.ring.Signer()
	if err := r.followRotation(c, &nodes[0], signer); err != nil {
		return nil, err
	}
	subs, err := listSubsystems(c.ctx, c.tx, c.instance, "")
	if err != nil {
		return nil, err
	}
	services, err := listServices(c.ctx, c.tx, c.instance)
	if err != nil {
		return nil, err
	}
	rights, err := activeRights(c.ctx, c.tx, c.instance)
	if err != nil {
		return nil, err
	}
	conf := &exchange.GlobalConf{
		Instance: c.instance, Serial: c.serial, Issued: c.now, Expires: c.now.Add(r.opts.ConfValidity),
		HQ: nodes[0].ID, MaxMessageBytes: r.opts.MaxMessageBytes,
		Subsystems: subs, Services: services, Rights: rights,
		Members: members(c.units, c.instance, nodes, subs),
	}
	for _, n := range nodes {
		conf.Nodes = append(conf.Nodes, n.NodeInfo)
		if !n.Active() {
			conf.Revoked = append(conf.Revoked, exchange.Revocation{Node: n.ID, At: n.Revoked, Reason: n.RevokedReason})
		}
	}
	if err := conf.Build(); err != nil {
		return nil, fmt.Errorf("registry: the registry's state does not make a consistent global configuration: %w", err)
	}
	signed, err := exchange.SignConf(conf, signer)
	if err != nil {
		return nil, err
	}
	if err := insertConf(c.ctx, c.tx, conf, signed, keepConfs); err != nil {
		return nil, err
	}
	digest := sha256.Sum256(signed)
	return signed, c.record("exchange.conf.publish", resConf, strconv.FormatUint(c.serial, 10), map[string]string{
		"sha256": hex.EncodeToString(digest[:]), "key_id": signer.KeyID(), "expires": conf.Expires.Format(time.RFC3339)})
}

// followRotation makes headquarters' registered signing key the keyring's
// current one, which signs the configuration, when the keyring was
// rotated since the node registered: a configuration whose headquarters
// node names another key than its signature's verifies nowhere.
func (r *Registry) followRotation(c *change, hq *Node, signer *keys.Signer) error {
	pub := r.ring.PublicKey()
	if bytes.Equal(hq.SigningKey, pub) {
		return nil
	}
	hq.SigningKey, hq.SigningKeyID, hq.Certified = pub, signer.KeyID(), c.now
	if err := updateNodeKeys(c.ctx, c.tx, hq.NodeInfo); err != nil {
		return err
	}
	return c.record("exchange.node.certify", resNode, hq.ID, map[string]string{
		"role": string(hq.Role), "member": hq.Member, "signing_key_id": hq.SigningKeyID, "cause": "keyring rotation"})
}

// members lists the exchange's members: every active unit of the
// directory, and any merged unit whose subsystems or nodes are still
// registered, so that the configuration stays consistent. A member is
// served by its mission's node when one is enrolled and in force, and by
// headquarters' node otherwise.
func members(units []identity.Unit, instance string, nodes []Node, subs []exchange.Subsystem) []exchange.Member {
	hq := nodes[0].ID
	served := map[string]string{}
	for _, n := range nodes {
		if n.Role == exchange.RoleMission && n.Active() {
			served[n.Member] = n.ID
		}
	}
	referenced := map[string]bool{}
	for _, s := range subs {
		referenced[s.ID.Member] = true
	}
	for _, n := range nodes {
		referenced[n.Member] = true
	}
	var out []exchange.Member
	for _, u := range units {
		if u.Status != identity.UnitActive && !referenced[u.Code] {
			continue
		}
		node, ok := served[u.Code]
		if !ok {
			node = hq
		}
		out = append(out, exchange.Member{Instance: instance, Class: exchange.ClassGOV, Code: u.Code,
			NameVI: u.NameVI, NameEN: u.NameEN, Kind: string(u.Kind), Country: u.Country, TimeZone: u.TimeZone, Node: node})
	}
	return out
}

// Latest returns the latest published signed configuration, or an error
// wrapping ErrNotFound when none was published yet.
func (r *Registry) Latest(ctx context.Context) ([]byte, error) {
	conf, err := latestConf(ctx, r.db)
	if err != nil {
		return nil, fmt.Errorf("latest global configuration: %w", err)
	}
	return conf.data, nil
}

// Refresh publishes a new configuration when the latest is past half its
// validity, or when none was published, so that nodes in touch with
// headquarters never hold an expired copy and one cut off has half a
// validity to spare. The application calls it periodically, with an audit
// origin naming the system as the actor.
func (r *Registry) Refresh(ctx context.Context) error {
	latest, err := latestConf(ctx, r.db)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return fmt.Errorf("refresh the global configuration: %w", err)
	}
	if err == nil && r.clock().Before(latest.issued.Add(latest.expires.Sub(latest.issued)/2)) {
		return nil
	}
	_, err = r.Publish(ctx)
	return err
}
