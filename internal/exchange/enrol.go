package exchange

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
)

// Enrolment makes a mission a node. Headquarters issues a one-time token
// "<secret>.<fingerprint>" on its console, the fingerprint being the full
// SHA-256 of headquarters' signing key (keys.Fingerprint); the mission
// sends the secret with its new public keys to headquarters, which
// certifies them and answers with the mission's node id, the signed global
// configuration and the leaf-node URLs to join. The mission trusts the
// configuration only if it is signed by the key the token fingerprints,
// so a man in the middle of the first contact cannot make the mission
// trust another key; and it pins that key for the leaf link's TLS. A
// 64-bit key id would not do: finding a key with the same id is within
// reach of an attacker with a cluster.

// EnrolRequest is what a mission sends to headquarters.
type EnrolRequest struct {
	Token         string `json:"token"`
	SigningKey    []byte `json:"signing_key"`
	EncryptionKey []byte `json:"encryption_key"`
}

// EnrolResponse is headquarters' answer.
type EnrolResponse struct {
	NodeID   string          `json:"node_id"`
	Conf     json.RawMessage `json:"conf"`
	LeafURLs []string        `json:"leaf_urls"`
	// LeafUser and LeafPassword, when headquarters runs on a stock NATS
	// cluster with an account per mission (deploy/nats), are the
	// mission's leaf user there; its own hub checks the node key instead
	// and sends none.
	LeafUser     string `json:"leaf_user,omitempty"`
	LeafPassword string `json:"leaf_password,omitempty"`
}

// maxLeafCredential bounds a leaf user's name and password.
const maxLeafCredential = 256

// leafCredentials is a mission's leaf user on headquarters' cluster,
// stored sealed by the keyring (exchange_node.leaf_sealed).
type leafCredentials struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// check refuses credentials a NATS leaf CONNECT cannot carry as given.
func (c leafCredentials) check() error {
	if (c.User == "") != (c.Password == "") {
		return errors.New("exchange: headquarters sent a leaf user without a password, or a password without a user")
	}
	for _, v := range []string{c.User, c.Password} {
		if len(v) > maxLeafCredential || strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
			return fmt.Errorf("exchange: headquarters sent leaf credentials that are over %d bytes or hold spaces or control characters", maxLeafCredential)
		}
	}
	return nil
}

// leafAD binds a node's sealed leaf credentials to its id.
func leafAD(node string) []byte { return []byte("exchange-leaf:" + node) }

// EnrolPath is where headquarters takes enrolments.
const EnrolPath = "/exchange/v1/enrol"

// TokenFingerprint returns the fingerprint of headquarters' signing key
// that a token carries: 64 lower-case hex digits.
func TokenFingerprint(token string) (string, error) {
	i := strings.LastIndexByte(token, '.')
	if i <= 0 || i == len(token)-1 {
		return "", errs.Invalid("token", "the enrolment token is not of the form <secret>.<key fingerprint>; copy it whole from the headquarters console")
	}
	fp := token[i+1:]
	switch {
	case len(fp) == 16 && isLowerHex(fp):
		return "", errs.Invalid("token", "the enrolment token names headquarters' key by its short id, which is too weak to trust; "+
			"ask headquarters for a new token (tokens now carry the key's full SHA-256 fingerprint)")
	case len(fp) != 2*sha256.Size || !isLowerHex(fp):
		return "", errs.Invalid("token", "the enrolment token does not end in headquarters' key fingerprint (64 hex digits); copy it whole from the headquarters console")
	}
	return fp, nil
}

func isLowerHex(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Enrolled reports whether db already holds a node identity.
func Enrolled(ctx context.Context, db *store.DB) (bool, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM exchange_node`).Scan(&n); err != nil {
		return false, fmt.Errorf("exchange: read node identity: %w", err)
	}
	return n > 0, nil
}

// Enrol enrols this data directory as a mission node with the
// headquarters at hqURL, using a one-time token. It is done once: a
// directory that holds a node identity is refused with errs.ErrConflict.
func Enrol(ctx context.Context, db *store.DB, ring *keys.Ring, hqURL, token string, client *http.Client) error {
	if ok, err := Enrolled(ctx, db); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("exchange: this data directory is already an enrolled node; drop --token, or use a new --data: %w", errs.ErrConflict)
	}
	fingerprint, err := TokenFingerprint(token)
	if err != nil {
		return err
	}
	u, err := url.Parse(hqURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errs.Invalid("join", fmt.Sprintf("--join %q is not a headquarters web address such as https://hq.example", hqURL))
	}
	kem, err := GenerateKEMKey()
	if err != nil {
		return err
	}
	body, _ := json.Marshal(EnrolRequest{Token: token, SigningKey: ring.PublicKey(), EncryptionKey: kem.PublicKey()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(hqURL, "/")+EnrolPath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("exchange: reach headquarters at %s: %w (check --join and the network)", hqURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxConfBytes+1<<16))
	if err != nil {
		return fmt.Errorf("exchange: read headquarters' answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var p struct{ Title, Detail string }
		_ = json.Unmarshal(data, &p)
		return fmt.Errorf("exchange: headquarters refused the enrolment (%s): %s %s", resp.Status, p.Title, p.Detail)
	}
	var er EnrolResponse
	if err := json.Unmarshal(data, &er); err != nil {
		return fmt.Errorf("exchange: headquarters' answer is not an enrolment response: %w", err)
	}
	anchor, err := confSignerKey(er.Conf, fingerprint)
	if err != nil {
		return err
	}
	conf, err := ParseConf(er.Conf, anchor)
	if err != nil {
		return err
	}
	info, ok := conf.Node(er.NodeID)
	if !ok {
		return fmt.Errorf("exchange: headquarters certified node %q but its configuration does not list it", er.NodeID)
	}
	if !bytes.Equal(info.SigningKey, ring.PublicKey()) || !bytes.Equal(info.EncryptionKey, kem.PublicKey()) {
		return fmt.Errorf("exchange: headquarters certified other keys for node %q than this node sent; enrol again with a new token", er.NodeID)
	}
	leaf := leafCredentials{User: er.LeafUser, Password: er.LeafPassword}
	if err := leaf.check(); err != nil {
		return err
	}
	var leafSealed []byte
	if leaf.User != "" {
		plain, _ := json.Marshal(leaf)
		if leafSealed, err = ring.Seal(ctx, keyPurpose, plain, leafAD(er.NodeID)); err != nil {
			return fmt.Errorf("exchange: seal the leaf credentials: %w", err)
		}
	}
	n := &Node{db: db, ring: ring, now: time.Now}
	if err := n.saveIdentity(ctx, er.NodeID, RoleMission, anchor, hqURL, er.LeafURLs, kem); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, db.Rebind(`UPDATE exchange_node SET conf = ?, conf_serial = ?, leaf_sealed = ? WHERE id = 1`), []byte(er.Conf), int64(conf.Serial), leafSealed)
	if err != nil {
		return fmt.Errorf("exchange: save global configuration: %w", err)
	}
	return nil
}

// confSignerKey finds, in a signed configuration not yet verified, the
// headquarters signing key, and checks that it is the key the token
// fingerprints. ParseConf then verifies the signature with it.
func confSignerKey(signed []byte, fingerprint string) (ed25519.PublicKey, error) {
	var sc SignedConf
	if err := json.Unmarshal(signed, &sc); err != nil {
		return nil, fmt.Errorf("exchange: headquarters sent no signed configuration: %w", err)
	}
	var c struct {
		HQ    string     `json:"hq"`
		Nodes []NodeInfo `json:"nodes"`
	}
	if err := json.Unmarshal(sc.Conf, &c); err != nil {
		return nil, fmt.Errorf("exchange: headquarters sent a malformed configuration: %w", err)
	}
	for _, n := range c.Nodes {
		if n.ID == c.HQ && len(n.SigningKey) == ed25519.PublicKeySize {
			if got := keys.Fingerprint(n.SigningKey); subtle.ConstantTimeCompare([]byte(got), []byte(fingerprint)) != 1 {
				return nil, fmt.Errorf("exchange: the configuration is signed by key %s, but the token names key %s; "+
					"do not join this server (it may not be your headquarters): %w", got, fingerprint, ErrBadSignature)
			}
			return ed25519.PublicKey(n.SigningKey), nil
		}
	}
	return nil, errors.New("exchange: the configuration from headquarters lists no headquarters key")
}
