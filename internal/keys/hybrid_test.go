package keys_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"chancery/internal/keys"
)

// A hybrid ciphertext opens with the same purpose and additional data,
// after a rotation too, and fails as corrupt when anything is changed.
func TestHybridSealOpen(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, memOptions())
	secret := bytes.Repeat([]byte{7}, 32)
	ct, err := r.HybridSeal(ctx, keys.PurposeRecords, secret, []byte("doc:1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ct) != keys.HybridOverhead+len(secret) {
		t.Fatalf("ciphertext is %d bytes, want %d", len(ct), keys.HybridOverhead+len(secret))
	}
	if _, err := r.Rotate(ctx, keys.PurposeRecords); err != nil {
		t.Fatal(err)
	}
	got, err := r.HybridOpen(ctx, keys.PurposeRecords, ct, []byte("doc:1"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("HybridOpen = %x, %v; want the secret", got, err)
	}
	flipped := bytes.Clone(ct)
	flipped[len(flipped)-1] ^= 1
	for name, try := range map[string]func() ([]byte, error){
		"other additional data": func() ([]byte, error) { return r.HybridOpen(ctx, keys.PurposeRecords, ct, []byte("doc:2")) },
		"other purpose":         func() ([]byte, error) { return r.HybridOpen(ctx, keys.PurposeBlobs, ct, []byte("doc:1")) },
		"flipped bit":           func() ([]byte, error) { return r.HybridOpen(ctx, keys.PurposeRecords, flipped, []byte("doc:1")) },
		"truncated":             func() ([]byte, error) { return r.HybridOpen(ctx, keys.PurposeRecords, ct[:40], []byte("doc:1")) },
		"a plain Seal ciphertext": func() ([]byte, error) {
			plain, _ := r.Seal(ctx, keys.PurposeRecords, secret, []byte("doc:1"))
			return r.HybridOpen(ctx, keys.PurposeRecords, plain, []byte("doc:1"))
		},
	} {
		if _, err := try(); !errors.Is(err, keys.ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
	// Another keyring (another master key) cannot open it.
	other := MustLoad(t, memOptions())
	if _, err := other.HybridOpen(ctx, keys.PurposeRecords, ct, []byte("doc:1")); !errors.Is(err, keys.ErrCorrupt) {
		t.Errorf("another keyring: err = %v, want ErrCorrupt", err)
	}
}
