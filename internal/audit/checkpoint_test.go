package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestNoteSignerMatchesNote checks that a signer built from a
// crypto.Signer signs as note.NewSigner does from the private key
// encoding of the same key.
func TestNoteSignerMatchesNote(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "example.org/log")
	if err != nil {
		t.Fatal(err)
	}
	want, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	// skey is PRIVATE+KEY+name+hash+base64(0x01 || seed).
	parts := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil {
		t.Fatal(err)
	}
	got, err := NewNoteSigner("example.org/log", ed25519.NewKeyFromSeed(raw[1:]))
	if err != nil {
		t.Fatal(err)
	}
	if got.KeyHash() != want.KeyHash() || got.Name() != want.Name() {
		t.Errorf("key %s+%08x, want %s+%08x", got.Name(), got.KeyHash(), want.Name(), want.KeyHash())
	}
	msg := []byte("example.org/log\n1\nAAAA\n")
	s1, _ := got.Sign(msg)
	s2, _ := want.Sign(msg)
	if !bytes.Equal(s1, s2) {
		t.Errorf("signatures differ")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	if vk, _ := VerifierKey("example.org/log", pub); vk != vkey {
		t.Errorf("VerifierKey = %s, want %s", vk, vkey)
	}
}

func TestCheckpointSignsTheTree(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := mustLedger(t, db, mustRing(t), Options{Origin: "chancery.mofa.gov.vn/audit/test"})
		if _, err := l.LatestCheckpoint(ctx); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("LatestCheckpoint on a new ledger = %v, want ErrNotFound", err)
		}
		appendEvents(t, l, 0, 7)
		cp, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		size, root, _ := l.Head(ctx)
		if cp.Size != 7 || size != 7 || !bytes.Equal(cp.Root, root) || cp.Origin != "chancery.mofa.gov.vn/audit/test" {
			t.Errorf("Checkpoint = %d %x %q; tree %d %x", cp.Size, cp.Root, cp.Origin, size, root)
		}
		vkey, err := l.VerifierKey()
		if err != nil {
			t.Fatal(err)
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := ParseCheckpoint(cp.Note, v)
		if err != nil || parsed.Size != 7 || !bytes.Equal(parsed.Root, root) {
			t.Errorf("ParseCheckpoint = %+v, %v", parsed, err)
		}
		again, err := l.Checkpoint(ctx)
		if err != nil || !bytes.Equal(again.Note, cp.Note) {
			t.Errorf("a second Checkpoint of the same tree signed a new note: %v", err)
		}
	})
}

func TestCheckpointsSignedBeforeAKeyRotationStillVerify(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t, store.SQLite)
	ring := mustRing(t)
	l := mustLedger(t, db, ring, Options{})
	appendEvents(t, l, 0, 3)
	old, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring.RotateSigner(ctx); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, l, 3, 6)
	cp, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := l.Verifier()
	if _, err := ParseCheckpoint(old.Note, v); err == nil {
		t.Errorf("the old checkpoint verifies with the new key")
	}
	if _, err := ParseCheckpoint(cp.Note, v); err != nil {
		t.Errorf("the new checkpoint: %v", err)
	}
	r, err := l.Verify(ctx, nil)
	if err != nil || r.Checkpoints != 2 {
		t.Errorf("Verify = %+v, %v; want both checkpoints checked", r, err)
	}
}

func TestOriginIsFixedOnFirstUse(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t, store.SQLite)
	ring := mustRing(t)
	l := mustLedger(t, db, ring, Options{})
	if !strings.HasPrefix(l.Origin(), DefaultOriginPrefix) {
		t.Errorf("default origin %q", l.Origin())
	}
	if _, err := New(ctx, db, ring, Options{Origin: "example.org/other"}); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("New with another origin = %v, want ErrConflict", err)
	}
	if _, err := New(ctx, db, ring, Options{Origin: "has space"}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("New with an invalid origin = %v, want ErrInvalid", err)
	}
	l2 := mustLedger(t, db, ring, Options{})
	if l2.Origin() != l.Origin() {
		t.Errorf("reopened origin %q, want %q", l2.Origin(), l.Origin())
	}
}

// signedCheckpoint signs text as the key named origin.
func signedCheckpoint(t testing.TB, priv ed25519.PrivateKey, origin, text string) []byte {
	t.Helper()
	s, err := NewNoteSigner(origin, priv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseCheckpointRefusesMalformedCheckpoints(t *testing.T) {
	const origin = "example.org/log"
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	v, err := NewNoteVerifier(origin, pub)
	if err != nil {
		t.Fatal(err)
	}
	root := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	good := origin + "\n12\n" + root + "\n"
	if c, err := ParseCheckpoint(signedCheckpoint(t, priv, origin, good), v); err != nil || c.Size != 12 || c.Origin != origin {
		t.Fatalf("a good checkpoint: %+v, %v", c, err)
	}
	if _, err := ParseCheckpoint(signedCheckpoint(t, priv, origin, good+"extension\n"), v); err != nil {
		t.Errorf("a checkpoint with an extension line: %v", err)
	}
	tests := []struct {
		name   string
		signed []byte
	}{
		{"other key", signedCheckpoint(t, otherPriv, origin, good)},
		{"other origin", signedCheckpoint(t, priv, origin, "example.org/other\n12\n"+root+"\n")},
		{"two lines", signedCheckpoint(t, priv, origin, origin+"\n12\n")},
		{"leading zero", signedCheckpoint(t, priv, origin, origin+"\n012\n"+root+"\n")},
		{"negative size", signedCheckpoint(t, priv, origin, origin+"\n-1\n"+root+"\n")},
		{"size with plus", signedCheckpoint(t, priv, origin, origin+"\n+1\n"+root+"\n")},
		{"huge size", signedCheckpoint(t, priv, origin, origin+"\n18446744073709551615\n"+root+"\n")},
		{"short root", signedCheckpoint(t, priv, origin, origin+"\n12\nAAAA\n")},
		{"root not base64", signedCheckpoint(t, priv, origin, origin+"\n12\n"+strings.Repeat("!", 44)+"\n")},
		{"empty extension", signedCheckpoint(t, priv, origin, good+"\n")},
		{"unsigned", []byte(good)},
		{"body altered", bytes.Replace(signedCheckpoint(t, priv, origin, good), []byte("\n12\n"), []byte("\n13\n"), 1)},
		{"too big", append(signedCheckpoint(t, priv, origin, good), bytes.Repeat([]byte("x"), maxCheckpointNote)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := ParseCheckpoint(tt.signed, v); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("ParseCheckpoint = %+v, %v; want ErrInvalid", c, err)
			}
		})
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	const origin = "example.org/log"
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	v, err := NewNoteVerifier(origin, pub)
	if err != nil {
		f.Fatal(err)
	}
	root := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	for _, text := range []string{
		origin + "\n12\n" + root + "\n",
		origin + "\n0\n" + root + "\next\n",
		origin + "\n12\n",
	} {
		f.Add([]byte(text), true)
		f.Add(signedCheckpoint(f, priv, origin, text), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, sign bool) {
		in := data
		if sign {
			// Sign the input as a text, so the fuzzer reaches the body
			// parser with valid signatures.
			if len(data) == 0 || data[len(data)-1] != '\n' {
				return
			}
			s, _ := NewNoteSigner(origin, priv)
			signed, err := note.Sign(&note.Note{Text: string(data)}, s)
			if err != nil {
				return
			}
			in = signed
		}
		c, err := ParseCheckpoint(in, v)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		// An accepted checkpoint says exactly what its text says.
		if !bytes.HasPrefix(c.Note, []byte(checkpointText(c.Origin, c.Size, c.Root))) || c.Origin != origin || len(c.Root) != hashSize {
			t.Fatalf("accepted %q as %+v", in, c)
		}
	})
}

func TestCosignatureVerifies(t *testing.T) {
	const name = "chancery.mofa.gov.vn/witness/paris"
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Date(2025, 5, 1, 9, 30, 0, 0, time.UTC)
	cosigner, err := NewCosigner(name, priv, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	logSigner, _ := NewNoteSigner(name, priv)
	if cosigner.KeyHash() == logSigner.KeyHash() {
		t.Errorf("a cosigner key has the key hash of a plain Ed25519 note key")
	}
	v, err := NewCosignatureVerifier(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: "example.org/log\n3\nAAAA\n"}, cosigner)
	if err != nil {
		t.Fatal(err)
	}
	if at, ok := CosignatureTime(signed, v); !ok || !at.Equal(now) {
		t.Errorf("CosignatureTime = %v, %v; want %v", at, ok, now)
	}
	altered := bytes.Replace(signed, []byte("\n3\n"), []byte("\n4\n"), 1)
	if _, err := note.Open(altered, note.VerifierList(v)); err == nil {
		t.Errorf("a cosignature verifies over an altered checkpoint")
	}
}
