package keys

import (
	"context"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Hybrid sealing wraps small secrets (a document's data key) with HPKE
// (RFC 9180) over the MLKEM768-X25519 KEM ("X-Wing", draft-ietf-hpke-pq),
// from the standard library's crypto/hpke: the secret stays sealed as long
// as either ML-KEM-768 or X25519 holds, so what is wrapped today survives
// a future quantum computer without betting on a young algorithm alone.
// It is the same pairing the exchange's node keys use (internal/exchange,
// kem.go), through the standard construction rather than a second
// hand-written combiner.
//
// The recipient key of a purpose is derived from that purpose's data key
// (of the version named in the ciphertext), so it rotates with Rotate,
// is wrapped by the master key like every other key, and needs no new
// field in the stored keyring.

// Hybrid ciphertext layout, format 2:
//
//	format (1) | key version (4, big-endian) | HPKE encapsulated key | HPKE ciphertext and tag
const (
	formatHybrid = 2
	// HybridOverhead is the number of bytes HybridSeal adds to the
	// plaintext: the header, X-Wing's 1120-byte encapsulation and the
	// AES-256-GCM tag.
	HybridOverhead = headerLen + 1120 + gcmTag
)

// hybridKEMLabel separates the derivation of a purpose's KEM key from any
// other use of the purpose's data key.
const hybridKEMLabel = "chancery/keys/v1 hybrid kem"

// hybridKey returns the X-Wing private key derived from k.
func hybridKey(k *dataKey) (hpke.PrivateKey, error) {
	ikm, err := hkdf.Key(sha256.New, k.raw, nil, hybridKEMLabel+"\x00"+k.purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("keys: derive the hybrid key of %q: %w", k.purpose, err)
	}
	priv, err := hpke.MLKEM768X25519().DeriveKeyPair(ikm)
	if err != nil {
		return nil, fmt.Errorf("keys: derive the hybrid key of %q: %w", k.purpose, err)
	}
	return priv, nil
}

// hybridInfo binds a hybrid ciphertext's header, purpose and the caller's
// additional data into the HPKE key schedule, so none can be swapped.
func hybridInfo(header []byte, purpose string, additionalData []byte) []byte {
	return dataAD(append([]byte("chancery/keys/v1 hybrid\x00"), header...), purpose, additionalData)
}

// HybridSeal encrypts plaintext (a data key: it is meant for small
// secrets) to the hybrid ML-KEM-768 + X25519 key of purpose's current
// version, authenticating additionalData, which HybridOpen must be given
// unchanged. It returns an error wrapping ErrUnknownPurpose if the keyring
// has no key for purpose.
func (r *Ring) HybridSeal(ctx context.Context, purpose string, plaintext, additionalData []byte) ([]byte, error) {
	keys := r.current().data[purpose]
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w %q", ErrUnknownPurpose, purpose)
	}
	k := keys[len(keys)-1]
	priv, err := hybridKey(k)
	if err != nil {
		return nil, err
	}
	header := make([]byte, headerLen, HybridOverhead+len(plaintext))
	header[0] = formatHybrid
	binary.BigEndian.PutUint32(header[1:], k.version)
	sealed, err := hpke.Seal(priv.PublicKey(), hpke.HKDFSHA256(), hpke.AES256GCM(), hybridInfo(header, purpose, additionalData), plaintext)
	if err != nil {
		return nil, fmt.Errorf("keys: hybrid seal for %q: %w", purpose, err)
	}
	return append(header, sealed...), nil
}

// HybridOpen decrypts a ciphertext made by HybridSeal for purpose with the
// same additionalData. It returns an error wrapping ErrCorrupt if the
// ciphertext does not open, and one wrapping ErrUnknownPurpose if the
// keyring has no key for purpose.
func (r *Ring) HybridOpen(ctx context.Context, purpose string, ciphertext, additionalData []byte) ([]byte, error) {
	if len(ciphertext) < HybridOverhead || ciphertext[0] != formatHybrid {
		return nil, fmt.Errorf("%w: not a hybrid ciphertext", ErrCorrupt)
	}
	k, err := r.dataKey(ctx, purpose, binary.BigEndian.Uint32(ciphertext[1:headerLen]))
	if err != nil {
		return nil, err
	}
	priv, err := hybridKey(k)
	if err != nil {
		return nil, err
	}
	plain, err := hpke.Open(priv, hpke.HKDFSHA256(), hpke.AES256GCM(), hybridInfo(ciphertext[:headerLen], purpose, additionalData), ciphertext[headerLen:])
	if err != nil {
		return nil, fmt.Errorf("%w: hybrid authentication failed (tampered, or wrong purpose or additional data)", ErrCorrupt)
	}
	return plain, nil
}
