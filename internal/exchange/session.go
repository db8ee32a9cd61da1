package exchange

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"sync/atomic"
	"time"

	"chancery/internal/keys"
)

// A session is what two nodes share to encrypt messages from one to the
// other. The sender makes it alone, with no round trip, by encapsulating a
// fresh secret to the recipient's certified hybrid key and signing the
// result: a mission can start a session while headquarters is unreachable
// and the first batch carries it. Each batch and each request carries the
// session header (about 1.2 KB); the recipient verifies and decapsulates it
// once and caches the keys, so public-key work is paid per session, not
// per message.

// SessionIDSize is the size of a session id.
const SessionIDSize = 16

// DefaultSessionTTL is how long a sender uses one session before making
// a new one.
const DefaultSessionTTL = time.Hour

// sessionSkew is how far another node's clock may run ahead of this
// one's before what it signs is refused as made in the future.
const sessionSkew = 5 * time.Minute

// maxSessionTTL bounds a session's lifetime.
const maxSessionTTL = 7 * 24 * time.Hour

// Live reports whether the session may be used at t.
func (s *Session) Live(t time.Time) bool {
	return !t.Before(s.Created.Add(-sessionSkew)) && t.Before(s.Expires)
}

// sessionContext separates session signatures from the node key's other
// signatures.
const sessionContext = "chancery-exchange-session-v1\n"

// sessionVersion is the first byte of an encoded session header.
const sessionVersion = 1

// Session holds the keys of one session, from Sender to Recipient.
type Session struct {
	ID        [SessionIDSize]byte
	Sender    string
	Recipient string
	Created   time.Time
	Expires   time.Time
	// Header is the signed, encoded session header sent with each batch
	// and request.
	Header []byte

	peerKey []byte // the recipient's encryption key the session was made for

	forward cipher.AEAD // Sender → Recipient
	reply   cipher.AEAD // Recipient → Sender, for responses to requests

	// sent numbers the request frames the sender seals under the
	// session (from 1); recv is the recipient's anti-replay window over
	// those numbers. Each side has only its own.
	sent *atomic.Uint64
	recv *replayWindow
}

// NewSession starts a session from the node self, signing with signer, to
// peer.
func NewSession(self string, signer *keys.Signer, peer *NodeInfo, now time.Time, ttl time.Duration) (*Session, error) {
	secret, kemCT, err := encapsulate(peer.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("exchange: start session with node %s: %w", peer.ID, err)
	}
	s := &Session{Sender: self, Recipient: peer.ID, Created: now.UTC(), Expires: now.Add(ttl).UTC(), peerKey: peer.EncryptionKey,
		sent: new(atomic.Uint64)}
	if _, err := rand.Read(s.ID[:]); err != nil {
		return nil, err
	}
	body := s.appendBody(nil, kemCT, signer.KeyID())
	sig, err := signer.Sign(nil, append([]byte(sessionContext), body...), crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("exchange: sign session header: %w", err)
	}
	s.Header = appendBytes(body, sig)
	if err := s.derive(secret); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Session) appendBody(b, kemCT []byte, keyID string) []byte {
	b = append(b, sessionVersion)
	b = append(b, s.ID[:]...)
	b = appendString(b, s.Sender)
	b = appendString(b, s.Recipient)
	b = appendInt(b, s.Created.UnixNano())
	b = appendInt(b, s.Expires.UnixNano())
	b = appendBytes(b, kemCT)
	return appendString(b, keyID)
}

// derive makes the two directions' AEADs from the shared secret.
func (s *Session) derive(secret []byte) error {
	info := sessionContext + s.Sender + "\n" + s.Recipient
	okm, err := hkdf.Key(sha256.New, secret, s.ID[:], info, 64)
	if err != nil {
		return fmt.Errorf("exchange: derive session keys: %w", err)
	}
	if s.forward, err = gcm(okm[:32]); err != nil {
		return err
	}
	s.reply, err = gcm(okm[32:])
	return err
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("exchange: AES: %w", err)
	}
	return cipher.NewGCM(block)
}

// sessionHeader is a decoded, not yet verified session header.
type sessionHeader struct {
	s      Session
	kemCT  []byte
	keyID  string
	signed []byte // the bytes the signature covers, after the context
	sig    []byte
}

func decodeSessionHeader(h []byte) (*sessionHeader, error) {
	r := &reader{b: h}
	if v := r.byte("version"); r.err == nil && v != sessionVersion {
		return nil, fmt.Errorf("exchange: session header version %d is not supported (upgrade this node)", v)
	}
	d := &sessionHeader{}
	copy(d.s.ID[:], r.fixed("session id", SessionIDSize))
	d.s.Sender = r.string("sender")
	d.s.Recipient = r.string("recipient")
	d.s.Created = time.Unix(0, r.int("created")).UTC()
	d.s.Expires = time.Unix(0, r.int("expires")).UTC()
	d.kemCT = r.bytes("key encapsulation")
	d.keyID = r.string("key id")
	d.signed = h[:len(h)-len(r.b)]
	d.sig = r.bytes("signature")
	if err := r.done("session header"); err != nil {
		return nil, err
	}
	d.s.Header = h
	return d, nil
}

// OpenSession verifies a session header that a peer sent to the node self
// and recovers the session's keys. It checks that the header is addressed
// to self, signed by the sender's certified key, that the sender is not
// revoked, and that the session was not made in the future of now. Errors
// say which check failed and wrap ErrRefused.
//
// It does not refuse a session past its expiry: a mission cut off for a
// day seals its queue under sessions that expired before headquarters saw
// them. Whether a session may be used is judged where its use is known:
// a batch by its signed creation time (OpenBatch), a request by the
// current time (OpenRequest).
func OpenSession(header []byte, self string, kem *KEMPrivateKey, conf *GlobalConf, now time.Time) (*Session, error) {
	d, err := decodeSessionHeader(header)
	if err != nil {
		return nil, refuse(ReasonMalformed, err.Error())
	}
	if d.s.Recipient != self {
		return nil, refuse(ReasonWrongRecipient, fmt.Sprintf("session is for node %s, not this node %s", d.s.Recipient, self))
	}
	node, ok := conf.Node(d.s.Sender)
	if !ok {
		return nil, refuse(ReasonUnknownSender, fmt.Sprintf("node %s is not in the global configuration", d.s.Sender))
	}
	if rv, ok := conf.Revocation(node.ID); ok {
		return nil, refuse(ReasonRevoked, fmt.Sprintf("node %s was revoked on %s: %s", node.ID, rv.At.Format(time.RFC3339), rv.Reason))
	}
	if d.keyID != node.SigningKeyID || !ed25519.Verify(node.SigningKey, append([]byte(sessionContext), d.signed...), d.sig) {
		return nil, refuse(ReasonBadSignature, fmt.Sprintf("session header does not carry a valid signature of node %s", node.ID))
	}
	if d.s.Created.After(now.Add(sessionSkew)) {
		return nil, refuse(ReasonStale, fmt.Sprintf("session was made at %s, in the future of this node's clock (%s); check both clocks",
			d.s.Created.Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}
	if !d.s.Expires.After(d.s.Created) || d.s.Expires.Sub(d.s.Created) > maxSessionTTL {
		return nil, refuse(ReasonMalformed, fmt.Sprintf("session lifetime %s to %s is not allowed", d.s.Created.Format(time.RFC3339), d.s.Expires.Format(time.RFC3339)))
	}
	secret, err := kem.decapsulate(d.kemCT)
	if err != nil {
		return nil, refuse(ReasonBadCiphertext, err.Error())
	}
	s := d.s
	if err := s.derive(secret); err != nil {
		return nil, err
	}
	s.recv = newReplayWindow(now)
	return &s, nil
}

// Same reports whether header is the header s was opened from, so a
// cached session is reused only for the identical signed header.
func (s *Session) Same(header []byte) bool { return bytes.Equal(s.Header, header) }

// seal encrypts plaintext under the direction's key with a random nonce,
// returning nonce ‖ ciphertext. Random 96-bit nonces are safe for far
// more messages than a session carries before it is replaced.
func seal(aead cipher.AEAD, plaintext, ad []byte) []byte {
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		panic("exchange: crypto/rand: " + err.Error()) // crypto/rand never fails on supported systems
	}
	return aead.Seal(out, out, plaintext, ad)
}

func open(aead cipher.AEAD, data, ad []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(data) < n+aead.Overhead() {
		return nil, refuse(ReasonBadCiphertext, "ciphertext is shorter than a nonce and a tag")
	}
	pt, err := aead.Open(nil, data[:n], data[n:], ad)
	if err != nil {
		return nil, refuse(ReasonBadCiphertext, "ciphertext does not authenticate under the session key (altered in transit, or not from this session)")
	}
	return pt, nil
}
