package exchange

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// A node's encryption key is hybrid: an X25519 key and an ML-KEM-768 key.
// A session key derived from both stays secret as long as either holds,
// so traffic recorded today stays safe against a future quantum computer
// (ML-KEM) without betting everything on a young algorithm (X25519).

// Sizes of the hybrid key encoding.
const (
	x25519KeySize = 32
	// KEMPublicKeySize is the size of a node's public encryption key:
	// the X25519 public key followed by the ML-KEM-768 encapsulation key.
	KEMPublicKeySize = x25519KeySize + mlkem.EncapsulationKeySize768
	// kemPrivateKeySize is the X25519 private key followed by the
	// ML-KEM-768 seed.
	kemPrivateKeySize = x25519KeySize + mlkem.SeedSize
	// kemCiphertextSize is the ephemeral X25519 public key followed by
	// the ML-KEM-768 ciphertext.
	kemCiphertextSize = x25519KeySize + mlkem.CiphertextSize768
)

// KEMPrivateKey is a node's private hybrid encryption key.
type KEMPrivateKey struct {
	x *ecdh.PrivateKey
	m *mlkem.DecapsulationKey768
}

// GenerateKEMKey returns a new random key pair.
func GenerateKEMKey() (*KEMPrivateKey, error) {
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("exchange: generate X25519 key: %w", err)
	}
	m, err := mlkem.GenerateKey768()
	if err != nil {
		return nil, fmt.Errorf("exchange: generate ML-KEM-768 key: %w", err)
	}
	return &KEMPrivateKey{x: x, m: m}, nil
}

// ParseKEMPrivateKey decodes a key encoded by Bytes.
func ParseKEMPrivateKey(b []byte) (*KEMPrivateKey, error) {
	if len(b) != kemPrivateKeySize {
		return nil, fmt.Errorf("exchange: private encryption key is %d bytes, want %d", len(b), kemPrivateKeySize)
	}
	x, err := ecdh.X25519().NewPrivateKey(b[:x25519KeySize])
	if err != nil {
		return nil, fmt.Errorf("exchange: private X25519 key: %w", err)
	}
	m, err := mlkem.NewDecapsulationKey768(b[x25519KeySize:])
	if err != nil {
		return nil, fmt.Errorf("exchange: private ML-KEM-768 key: %w", err)
	}
	return &KEMPrivateKey{x: x, m: m}, nil
}

// Bytes encodes the private key; keep it sealed.
func (k *KEMPrivateKey) Bytes() []byte {
	return append(append(make([]byte, 0, kemPrivateKeySize), k.x.Bytes()...), k.m.Bytes()...)
}

// PublicKey returns the public key, KEMPublicKeySize bytes.
func (k *KEMPrivateKey) PublicKey() []byte {
	return append(append(make([]byte, 0, KEMPublicKeySize), k.x.PublicKey().Bytes()...), k.m.EncapsulationKey().Bytes()...)
}

// kemLabel binds the combined secret to this construction.
const kemLabel = "chancery-exchange-hybrid-kem-v1"

// encapsulate makes a fresh shared secret for the holder of pub, and the
// ciphertext from which only that holder can recover it.
func encapsulate(pub []byte) (secret, ciphertext []byte, err error) {
	if len(pub) != KEMPublicKeySize {
		return nil, nil, fmt.Errorf("exchange: public encryption key is %d bytes, want %d", len(pub), KEMPublicKeySize)
	}
	xPub, err := ecdh.X25519().NewPublicKey(pub[:x25519KeySize])
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: public X25519 key: %w", err)
	}
	mPub, err := mlkem.NewEncapsulationKey768(pub[x25519KeySize:])
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: public ML-KEM-768 key: %w", err)
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: ephemeral X25519 key: %w", err)
	}
	xSecret, err := eph.ECDH(xPub)
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: X25519: %w", err)
	}
	mSecret, mCT := mPub.Encapsulate()
	ciphertext = append(append(make([]byte, 0, kemCiphertextSize), eph.PublicKey().Bytes()...), mCT...)
	return combine(mSecret, xSecret, ciphertext, pub), ciphertext, nil
}

// errDecapsulate hides which half failed: an attacker learns nothing from
// the error.
var errDecapsulate = errors.New("exchange: key encapsulation does not open with this node's key")

// decapsulate recovers the shared secret from a ciphertext made by
// encapsulate for k's public key.
func (k *KEMPrivateKey) decapsulate(ciphertext []byte) ([]byte, error) {
	if len(ciphertext) != kemCiphertextSize {
		return nil, errDecapsulate
	}
	ephPub, err := ecdh.X25519().NewPublicKey(ciphertext[:x25519KeySize])
	if err != nil {
		return nil, errDecapsulate
	}
	xSecret, err := k.x.ECDH(ephPub)
	if err != nil {
		return nil, errDecapsulate
	}
	mSecret, err := k.m.Decapsulate(ciphertext[x25519KeySize:])
	if err != nil {
		return nil, errDecapsulate
	}
	return combine(mSecret, xSecret, ciphertext, k.PublicKey()), nil
}

// combine derives one secret from both halves, binding the ciphertext and
// the recipient's public key, as the X-Wing combiner does, so that
// neither half can be swapped for another exchange's.
func combine(mSecret, xSecret, ciphertext, pub []byte) []byte {
	ikm := append(append([]byte{}, mSecret...), xSecret...)
	h := sha256.New()
	h.Write(ciphertext)
	h.Write(pub)
	out, err := hkdf.Key(sha256.New, ikm, nil, kemLabel+string(h.Sum(nil)), 32)
	if err != nil {
		panic("exchange: hkdf: " + err.Error()) // only for lengths far beyond 32 bytes
	}
	return out
}
