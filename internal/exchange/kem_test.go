package exchange

import (
	"bytes"
	"testing"
)

func TestKEMRoundTripAndKeyEncoding(t *testing.T) {
	k, err := GenerateKEMKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(k.PublicKey()) != KEMPublicKeySize {
		t.Fatalf("public key is %d bytes, want %d", len(k.PublicKey()), KEMPublicKeySize)
	}
	secret, ct, err := encapsulate(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 32 || len(ct) != kemCiphertextSize {
		t.Fatalf("secret %d bytes, ciphertext %d bytes", len(secret), len(ct))
	}
	got, err := k.decapsulate(ct)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("decapsulate = %x, %v; want %x", got, err, secret)
	}
	// A key restored from its encoding opens the same ciphertext.
	k2, err := ParseKEMPrivateKey(k.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k2.decapsulate(ct); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("restored key: decapsulate = %x, %v", got, err)
	}
	if !bytes.Equal(k2.PublicKey(), k.PublicKey()) {
		t.Error("restored key has another public key")
	}
	// Two encapsulations to one key give unrelated secrets.
	if s2, _, _ := encapsulate(k.PublicKey()); bytes.Equal(s2, secret) {
		t.Error("two encapsulations gave the same secret")
	}
}

func TestKEMWrongKeyOrEitherTamperedHalfGivesNoSecret(t *testing.T) {
	k, _ := GenerateKEMKey()
	other, _ := GenerateKEMKey()
	secret, ct, err := encapsulate(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	flip := func(at int) []byte { b := bytes.Clone(ct); b[at] ^= 0x04; return b }
	for _, tc := range []struct {
		name string
		key  *KEMPrivateKey
		ct   []byte
	}{
		{"other node's key", other, ct},
		{"X25519 half tampered", k, flip(5)},
		{"ML-KEM half tampered", k, flip(x25519KeySize + 100)},
		{"ML-KEM half's last byte tampered", k, flip(len(ct) - 1)},
		{"truncated", k, ct[:len(ct)-1]},
		{"empty", k, nil},
	} {
		got, err := tc.key.decapsulate(tc.ct)
		if err == nil && bytes.Equal(got, secret) {
			t.Errorf("%s: decapsulate recovered the secret", tc.name)
		}
	}
}

func TestKEMRefusesMalformedKeys(t *testing.T) {
	k, _ := GenerateKEMKey()
	if _, _, err := encapsulate(k.PublicKey()[1:]); err == nil {
		t.Error("encapsulate to a short public key succeeded")
	}
	if _, err := ParseKEMPrivateKey(k.Bytes()[1:]); err == nil {
		t.Error("ParseKEMPrivateKey of a short key succeeded")
	}
}
