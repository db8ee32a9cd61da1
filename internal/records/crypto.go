package records

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"strconv"

	"chancery/internal/authz"
	"chancery/internal/keys"
)

// Each document's content is sealed with AES-256-GCM under a data key of
// its own, drawn at random; the data key is kept only wrapped by the
// keyring, under the purpose of the document's level (wrapPurpose), so a
// level's keys rotate and are guarded apart, and a top-secret item's data
// key is wrapped with the hybrid ML-KEM-768 + X25519 seal
// (keys.Ring.HybridSeal). Destroying the wrapped data key destroys the
// content (crypto-shredding) without touching backups' other rows.

// The keyring purposes that wrap documents' data keys, one per level.
const (
	PurposeUnclassified = keys.PurposeRecords
	PurposeConfidential = "records.confidential"
	PurposeSecret       = "records.secret"
	PurposeTopSecret    = "records.top_secret"
)

// Purposes lists the keyring purposes records needs; the composition root
// passes them to keys.Load.
func Purposes() []string {
	return []string{PurposeUnclassified, PurposeConfidential, PurposeSecret, PurposeTopSecret}
}

// wrapPurpose returns the purpose that wraps the data keys of level l.
func wrapPurpose(l authz.Level) string {
	return Purposes()[min(int(l), int(authz.TopSecret))]
}

// contentAD and keyAD bind a sealed content and a wrapped key to their
// document, so neither can be moved to another.
func contentAD(docID int64) []byte { return []byte("records/content:" + strconv.FormatInt(docID, 10)) }
func keyAD(docID int64) []byte     { return []byte("records/data-key:" + strconv.FormatInt(docID, 10)) }

// sealContent seals plaintext for document docID at level l under a fresh
// data key, and returns it with the wrapped key and its purpose.
func sealContent(ctx context.Context, ring *keys.Ring, docID int64, l authz.Level, plaintext []byte) (sealed, wrapped []byte, purpose string, err error) {
	dek := make([]byte, 32)
	rand.Read(dek)
	aead, err := dataAEAD(dek)
	if err != nil {
		return nil, nil, "", err
	}
	sealed = aead.Seal(nil, nil, plaintext, contentAD(docID))
	purpose, wrapped, err = wrapKey(ctx, ring, docID, l, dek)
	return sealed, wrapped, purpose, err
}

// wrapKey wraps a data key for level l.
func wrapKey(ctx context.Context, ring *keys.Ring, docID int64, l authz.Level, dek []byte) (string, []byte, error) {
	purpose := wrapPurpose(l)
	var wrapped []byte
	var err error
	if l == authz.TopSecret {
		wrapped, err = ring.HybridSeal(ctx, purpose, dek, keyAD(docID))
	} else {
		wrapped, err = ring.Seal(ctx, purpose, dek, keyAD(docID))
	}
	if err != nil {
		return "", nil, fmt.Errorf("records: wrap the data key of document %d: %w", docID, err)
	}
	return purpose, wrapped, nil
}

// unwrapKey recovers a data key wrapped under purpose.
func unwrapKey(ctx context.Context, ring *keys.Ring, docID int64, purpose string, wrapped []byte) ([]byte, error) {
	var dek []byte
	var err error
	if purpose == PurposeTopSecret {
		dek, err = ring.HybridOpen(ctx, purpose, wrapped, keyAD(docID))
	} else {
		dek, err = ring.Open(ctx, purpose, wrapped, keyAD(docID))
	}
	if err != nil {
		return nil, fmt.Errorf("records: unwrap the data key of document %d: %w", docID, err)
	}
	return dek, nil
}

// openContent opens a document's sealed content.
func openContent(ctx context.Context, ring *keys.Ring, docID int64, c *sealedContent) ([]byte, error) {
	dek, err := unwrapKey(ctx, ring, docID, c.purpose, c.wrapped)
	if err != nil {
		return nil, err
	}
	aead, err := dataAEAD(dek)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, nil, c.sealed, contentAD(docID))
	if err != nil {
		return nil, fmt.Errorf("records: the content of document %d does not open (%w)", docID, keys.ErrCorrupt)
	}
	return plain, nil
}

// rewrap re-wraps a document's data key for a new level: the content is
// not re-encrypted, only its key moves to the new level's purpose.
func rewrap(ctx context.Context, ring *keys.Ring, docID int64, c *sealedContent, to authz.Level) (string, []byte, error) {
	dek, err := unwrapKey(ctx, ring, docID, c.purpose, c.wrapped)
	if err != nil {
		return "", nil, err
	}
	return wrapKey(ctx, ring, docID, to, dek)
}

func dataAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("records: data key: %w", err)
	}
	return cipher.NewGCMWithRandomNonce(block)
}
