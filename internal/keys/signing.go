package keys

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"time"
)

// KeyID returns the id that names an Ed25519 public key beside the
// signatures it verifies: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Fingerprint returns the SHA-256 of an Ed25519 public key, in hex: the
// whole digest, where KeyID keeps 64 bits of it. A key is trusted by its
// fingerprint (an enrolment token carries headquarters'); KeyID only
// names a key beside its signatures.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:])
}

// SigningKey describes one of the node's signing keys. It holds no secret.
type SigningKey struct {
	ID        string // KeyID(PublicKey)
	Version   uint32
	PublicKey ed25519.PublicKey
	Created   time.Time
	// Retired is when RotateSigner replaced the key; zero for the current
	// key. A retired key signs nothing new, but its signatures stay valid.
	Retired time.Time
}

// Signer is a crypto.Signer backed by one of the node's Ed25519 keys. It
// keeps the private key unexported, so it cannot leak through a log line or
// a type assertion.
type Signer struct {
	id   string
	priv ed25519.PrivateKey
}

// Public returns the ed25519.PublicKey of the signer.
func (s *Signer) Public() crypto.PublicKey { return s.priv.Public() }

// Sign signs message as ed25519.PrivateKey.Sign does: opts must be
// crypto.Hash(0) for plain Ed25519, and rand is ignored.
func (s *Signer) Sign(rand io.Reader, message []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.priv.Sign(rand, message, opts)
}

// KeyID returns the id of the signer's public key.
func (s *Signer) KeyID() string { return s.id }

// Signer returns the current signing key. The Signer keeps signing with that
// key after a RotateSigner; call Signer again to follow the rotation.
func (r *Ring) Signer() *Signer {
	k := r.currentSigning()
	return &Signer{id: k.id, priv: k.priv}
}

// PublicKey returns the public half of the current signing key.
func (r *Ring) PublicKey() ed25519.PublicKey {
	return r.currentSigning().pub
}

// Sign signs msg with the current signing key and returns the key's id with
// the signature; VerifyWithID checks them.
func (r *Ring) Sign(msg []byte) (keyID string, sig []byte) {
	k := r.currentSigning()
	return k.id, ed25519.Sign(k.priv, msg)
}

// VerifyWithID checks that sig is a signature of msg by the signing key
// named keyID, current or retired. It returns an error wrapping
// ErrUnknownKey if the keyring holds no key with that id, and one wrapping
// ErrBadSignature if the signature does not verify.
func (r *Ring) VerifyWithID(keyID string, msg, sig []byte) error {
	for _, k := range r.current().signing {
		if k.id == keyID {
			if !ed25519.Verify(k.pub, msg, sig) {
				return fmt.Errorf("%w (key %s)", ErrBadSignature, keyID)
			}
			return nil
		}
	}
	return fmt.Errorf("%w %q", ErrUnknownKey, keyID)
}

// SigningKeys lists the node's signing keys, oldest first; the last is
// current.
func (r *Ring) SigningKeys() []SigningKey {
	st := r.current()
	out := make([]SigningKey, len(st.signing))
	for i, k := range st.signing {
		out[i] = SigningKey{ID: k.id, Version: k.version, PublicKey: slices.Clone(k.pub), Created: k.created, Retired: k.retired}
	}
	return out
}

// RotateSigner creates a new signing key, which Signer and Sign use from
// then on, and marks the previous one retired. Retired keys stay in the
// keyring, so VerifyWithID still verifies what they signed. It returns the
// new key.
func (r *Ring) RotateSigner(ctx context.Context) (SigningKey, error) {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	var nk *signingKey
	err := r.updateLocked(ctx, func(next *state) error {
		now := r.now().UTC()
		if n := len(next.signing); n > 0 {
			retired := *next.signing[n-1]
			retired.retired = now
			next.signing[n-1] = &retired
		}
		nk = r.newSigningKeyLocked(uint32(len(next.signing))+1, now)
		next.signing = append(next.signing, nk)
		return nil
	})
	if err != nil {
		return SigningKey{}, fmt.Errorf("keys: rotate signing key: %w", err)
	}
	return SigningKey{ID: nk.id, Version: nk.version, PublicKey: slices.Clone(nk.pub), Created: nk.created}, nil
}

// currentSigning returns the current signing key. Load guarantees there is
// one.
func (r *Ring) currentSigning() *signingKey {
	s := r.current().signing
	return s[len(s)-1]
}
