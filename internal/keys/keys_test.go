package keys_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"chancery/internal/keys"
)

// MustLoad loads a Ring or fails the test.
func MustLoad(tb testing.TB, opts keys.Options) *keys.Ring {
	tb.Helper()
	r, err := keys.Load(context.Background(), opts)
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return r
}

// memOptions returns Options for a Ring in memory with a fresh master key.
func memOptions() keys.Options {
	return keys.Options{MasterKey: keys.GenerateMasterKey(), Store: &keys.MemStore{}}
}

func mustParse(tb testing.TB, s string) []byte {
	tb.Helper()
	k, err := keys.ParseMasterKey(s)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, memOptions())
	tests := []struct {
		name      string
		purpose   string
		plaintext []byte
		ad        []byte
	}{
		{"empty plaintext", keys.PurposeRecords, nil, nil},
		{"short text", keys.PurposeRecords, []byte("công văn mật"), nil},
		{"with additional data", keys.PurposeBlobs, []byte("blob"), []byte("blobs/2025/abc")},
		{"one MiB", keys.PurposeExchange, bytes.Repeat([]byte{0xA5}, 1<<20), []byte("envelope-1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := r.Seal(ctx, tt.purpose, tt.plaintext, tt.ad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if got, want := len(ct), len(tt.plaintext)+keys.Overhead; got != want {
				t.Errorf("ciphertext is %d bytes, want %d", got, want)
			}
			if len(tt.plaintext) > 16 && bytes.Contains(ct, tt.plaintext[:16]) {
				t.Error("ciphertext contains the plaintext")
			}
			got, err := r.Open(ctx, tt.purpose, ct, tt.ad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open returned %d bytes that differ from the plaintext", len(got))
			}
		})
	}
}

func TestSealTwiceGivesDifferentCiphertexts(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, memOptions())
	a, _ := r.Seal(ctx, keys.PurposeRecords, []byte("same"), nil)
	b, _ := r.Seal(ctx, keys.PurposeRecords, []byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are equal; nonces must be random")
	}
}

func TestRotateKeepsOldDataReadable(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, memOptions())
	var sealed [][]byte
	for i := range 3 {
		ct, err := r.Seal(ctx, keys.PurposeRecords, []byte{byte(i)}, []byte("doc"))
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, ct)
		if v, err := keys.CiphertextVersion(ct); err != nil || v != uint32(i+1) {
			t.Fatalf("CiphertextVersion = %d, %v; want %d", v, err, i+1)
		}
		if v, err := r.Rotate(ctx, keys.PurposeRecords); err != nil || v != uint32(i+2) {
			t.Fatalf("Rotate = %d, %v; want %d", v, err, i+2)
		}
	}
	for i, ct := range sealed {
		got, err := r.Open(ctx, keys.PurposeRecords, ct, []byte("doc"))
		if err != nil || !bytes.Equal(got, []byte{byte(i)}) {
			t.Errorf("Open(version %d) = %v, %v", i+1, got, err)
		}
	}
	var current []uint32
	versions := 0
	for _, k := range r.DataKeys() {
		if k.Purpose == keys.PurposeRecords {
			versions++
			if k.Current {
				current = append(current, k.Version)
			}
		}
	}
	if versions != 4 || len(current) != 1 || current[0] != 4 {
		t.Errorf("DataKeys for records: %d versions, current %v; want 4 versions, current [4]", versions, current)
	}
}

func TestRotateLeavesOtherPurposesAlone(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, memOptions())
	if _, err := r.Rotate(ctx, keys.PurposeRecords); err != nil {
		t.Fatal(err)
	}
	ct, _ := r.Seal(ctx, keys.PurposeBlobs, []byte("x"), nil)
	if v, _ := keys.CiphertextVersion(ct); v != 1 {
		t.Errorf("blobs sealed with version %d after rotating records, want 1", v)
	}
}

func TestRotateCreatesNewPurpose(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, memOptions())
	if v, err := r.Rotate(ctx, "insight.exports"); err != nil || v != 1 {
		t.Fatalf("Rotate(new purpose) = %d, %v; want 1", v, err)
	}
	if _, err := r.Seal(ctx, "insight.exports", []byte("x"), nil); err != nil {
		t.Fatalf("Seal: %v", err)
	}
}

func TestPurposeNamesAreValidated(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, memOptions())
	for _, p := range []string{"", "Records", "1records", "a/b", "a b", strings.Repeat("a", 65)} {
		if _, err := r.Rotate(ctx, p); err == nil {
			t.Errorf("Rotate(%q) succeeded", p)
		}
		opts := memOptions()
		opts.Purposes = []string{p}
		if _, err := keys.Load(ctx, opts); err == nil {
			t.Errorf("Load with purpose %q succeeded", p)
		}
	}
}

func TestOpenRejectsTamperedCiphertext(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, memOptions())
	ad := []byte("record 42")
	ct, err := r.Seal(ctx, keys.PurposeRecords, []byte("top secret text"), ad)
	if err != nil {
		t.Fatal(err)
	}
	// Every single-bit flip, wherever it falls: format, version, nonce,
	// body or tag.
	for i := range ct {
		for bit := range 8 {
			bad := bytes.Clone(ct)
			bad[i] ^= 1 << bit
			if _, err := r.Open(ctx, keys.PurposeRecords, bad, ad); !errors.Is(err, keys.ErrCorrupt) {
				t.Fatalf("Open with byte %d bit %d flipped: err = %v, want ErrCorrupt", i, bit, err)
			}
		}
	}
	tests := []struct {
		name string
		ct   []byte
	}{
		{"empty", nil},
		{"header only", ct[:5]},
		{"shorter than overhead", ct[:keys.Overhead-1]},
		{"last byte cut", ct[:len(ct)-1]},
		{"byte appended", append(bytes.Clone(ct), 0)},
		{"version zero", func() []byte { b := bytes.Clone(ct); copy(b[1:5], []byte{0, 0, 0, 0}); return b }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.Open(ctx, keys.PurposeRecords, tt.ct, ad); !errors.Is(err, keys.ErrCorrupt) {
				t.Errorf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestOpenRejectsWrongAdditionalData(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, memOptions())
	tests := []struct {
		name         string
		sealAD, open []byte
	}{
		{"missing", []byte("a"), nil},
		{"added", nil, []byte("a")},
		{"changed", []byte("record 1"), []byte("record 2")},
		{"extended", []byte("record 1"), []byte("record 10")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := r.Seal(ctx, keys.PurposeRecords, []byte("x"), tt.sealAD)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Open(ctx, keys.PurposeRecords, ct, tt.open); !errors.Is(err, keys.ErrCorrupt) {
				t.Errorf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestOpenRejectsWrongPurpose(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, memOptions())
	ct, err := r.Seal(ctx, keys.PurposeRecords, []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		purpose string
		want    error
	}{
		{keys.PurposeBlobs, keys.ErrCorrupt},
		{keys.PurposeExchange, keys.ErrCorrupt},
		{"unheard-of", keys.ErrUnknownPurpose},
	}
	for _, tt := range tests {
		t.Run(tt.purpose, func(t *testing.T) {
			if _, err := r.Open(ctx, tt.purpose, ct, nil); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := r.Seal(ctx, "unheard-of", []byte("x"), nil); !errors.Is(err, keys.ErrUnknownPurpose) {
		t.Errorf("Seal with unknown purpose: err = %v, want ErrUnknownPurpose", err)
	}
}

func TestOpenPicksUpRotationByAnotherRing(t *testing.T) {
	ctx := context.Background()
	opts := memOptions()
	a, b := MustLoad(t, opts), MustLoad(t, opts)
	if _, err := a.Rotate(ctx, keys.PurposeExchange); err != nil {
		t.Fatal(err)
	}
	ct, _ := a.Seal(ctx, keys.PurposeExchange, []byte("x"), nil)
	if _, err := b.Open(ctx, keys.PurposeExchange, ct, nil); err != nil {
		t.Fatalf("Open of data sealed after another ring's rotation: %v", err)
	}
	// b's own rotation must build on a's, not overwrite it.
	if v, err := b.Rotate(ctx, keys.PurposeExchange); err != nil || v != 3 {
		t.Fatalf("Rotate on the second ring = %d, %v; want 3", v, err)
	}
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	// One key for each default purpose, and exchange's two rotations.
	if n := len(a.DataKeys()); n != 6 {
		t.Errorf("after reload the first ring holds %d data keys, want 6", n)
	}
}

func TestRotateMasterKeepsDataReadable(t *testing.T) {
	ctx := context.Background()
	opts := memOptions()
	r := MustLoad(t, opts)
	ct, _ := r.Seal(ctx, keys.PurposeRecords, []byte("kept"), nil)
	keyID, sig := r.Sign([]byte("msg"))

	newKey := keys.GenerateMasterKey()
	if err := r.RotateMaster(ctx, mustParse(t, newKey)); err != nil {
		t.Fatalf("RotateMaster: %v", err)
	}
	if got, err := r.Open(ctx, keys.PurposeRecords, ct, nil); err != nil || string(got) != "kept" {
		t.Fatalf("Open after RotateMaster = %q, %v", got, err)
	}

	_, err := keys.Load(ctx, opts)
	if !errors.Is(err, keys.ErrWrongMasterKey) {
		t.Errorf("Load with the old master key: err = %v, want ErrWrongMasterKey", err)
	}
	opts.MasterKey = newKey
	reloaded := MustLoad(t, opts)
	if got, err := reloaded.Open(ctx, keys.PurposeRecords, ct, nil); err != nil || string(got) != "kept" {
		t.Errorf("Open after reload with the new master key = %q, %v", got, err)
	}
	if err := reloaded.VerifyWithID(keyID, []byte("msg"), sig); err != nil {
		t.Errorf("signing key changed across master rotation: %v", err)
	}
	if err := reloaded.RotateMaster(ctx, mustParse(t, newKey)); err == nil {
		t.Error("RotateMaster to the current key succeeded")
	}
	if err := reloaded.RotateMaster(ctx, []byte("short")); err == nil {
		t.Error("RotateMaster to a short key succeeded")
	}
}

func TestRotateMasterReplacesKeyFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := MustLoad(t, keys.Options{DataDir: dir})
	ct, _ := r.Seal(ctx, keys.PurposeBlobs, []byte("kept"), nil)
	newKey := keys.GenerateMasterKey()
	if err := r.RotateMaster(ctx, mustParse(t, newKey)); err != nil {
		t.Fatalf("RotateMaster: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil || !bytes.Equal(mustParse(t, string(b)), mustParse(t, newKey)) {
		t.Fatalf("master.key does not hold the new key (err %v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key.next")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("master.key.next left behind: %v", err)
	}
	reloaded := MustLoad(t, keys.Options{DataDir: dir})
	if got, err := reloaded.Open(ctx, keys.PurposeBlobs, ct, nil); err != nil || string(got) != "kept" {
		t.Errorf("Open after reload = %q, %v", got, err)
	}
}

func TestLoadRecoversInterruptedMasterRotation(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// crash arranges the files as a crash during RotateMaster would
		// leave them and returns the key master.key must end up with.
		crash func(t *testing.T, dir string, oldKey []byte) []byte
	}{
		{"after keyring saved", func(t *testing.T, dir string, oldKey []byte) []byte {
			r := MustLoad(t, keys.Options{DataDir: dir})
			newKey := mustParse(t, keys.GenerateMasterKey())
			if err := r.RotateMaster(ctx, newKey); err != nil {
				t.Fatal(err)
			}
			writeKeyFile(t, filepath.Join(dir, "master.key.next"), newKey)
			writeKeyFile(t, filepath.Join(dir, "master.key"), oldKey)
			return newKey
		}},
		{"before keyring saved", func(t *testing.T, dir string, oldKey []byte) []byte {
			writeKeyFile(t, filepath.Join(dir, "master.key.next"), mustParse(t, keys.GenerateMasterKey()))
			return oldKey
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := MustLoad(t, keys.Options{DataDir: dir})
			ct, _ := r.Seal(ctx, keys.PurposeRecords, []byte("kept"), nil)
			oldKey := readKeyFile(t, filepath.Join(dir, "master.key"))
			want := tt.crash(t, dir, oldKey)

			r = MustLoad(t, keys.Options{DataDir: dir})
			if got, err := r.Open(ctx, keys.PurposeRecords, ct, nil); err != nil || string(got) != "kept" {
				t.Errorf("Open = %q, %v", got, err)
			}
			if got := readKeyFile(t, filepath.Join(dir, "master.key")); !bytes.Equal(got, want) {
				t.Error("master.key does not hold the key that wraps the keyring")
			}
			if _, err := os.Stat(filepath.Join(dir, "master.key.next")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("master.key.next left behind: %v", err)
			}
		})
	}
}

func writeKeyFile(t *testing.T, path string, key []byte) {
	t.Helper()
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readKeyFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, string(b))
}

func TestLoadRejectsWrongMasterKey(t *testing.T) {
	opts := memOptions()
	MustLoad(t, opts)
	opts.MasterKey = keys.GenerateMasterKey()
	_, err := keys.Load(context.Background(), opts)
	if !errors.Is(err, keys.ErrWrongMasterKey) {
		t.Fatalf("err = %v, want ErrWrongMasterKey", err)
	}
}

func TestLoadRefusesReadableMasterKeyFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	tests := []struct {
		mode    os.FileMode
		refused bool
	}{
		{0o600, false},
		{0o400, false},
		{0o640, true},
		{0o604, true},
		{0o644, true},
		{0o660, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "master.key")
			MustLoad(t, keys.Options{DataDir: dir})
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := keys.Load(context.Background(), keys.Options{DataDir: dir})
			if !tt.refused {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if !errors.Is(err, keys.ErrInsecureKeyFile) {
				t.Fatalf("err = %v, want ErrInsecureKeyFile", err)
			}
			if want := "chmod 600 " + path; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say how to fix it (%q)", err, want)
			}
		})
	}
}

func TestLoadFromDiskGivesSameKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := MustLoad(t, keys.Options{DataDir: dir})
	ct, _ := r.Seal(ctx, keys.PurposeRecords, []byte("v1"), nil)
	if _, err := r.Rotate(ctx, keys.PurposeRecords); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RotateSigner(ctx); err != nil {
		t.Fatal(err)
	}

	again := MustLoad(t, keys.Options{DataDir: dir})
	if got, err := again.Open(ctx, keys.PurposeRecords, ct, nil); err != nil || string(got) != "v1" {
		t.Errorf("Open after reload = %q, %v", got, err)
	}
	if !again.PublicKey().Equal(r.PublicKey()) {
		t.Error("PublicKey differs after reload")
	}
	if a, b := r.SigningKeys(), again.SigningKeys(); len(a) != 2 || len(b) != 2 || a[0].ID != b[0].ID || !a[0].Retired.Equal(b[0].Retired) {
		t.Errorf("SigningKeys differ after reload: %+v vs %+v", a, b)
	}
	if a, b := r.DataKeys(), again.DataKeys(); len(a) != len(b) || len(a) != 5 {
		t.Errorf("DataKeys: %d before reload, %d after; want 5", len(a), len(b))
	}

	for _, name := range []string{"master.key", "keyring.json"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	ring, _ := os.ReadFile(filepath.Join(dir, "keyring.json"))
	master, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	if bytes.Contains(ring, bytes.TrimSpace(master)) {
		t.Error("keyring.json contains the master key")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("data directory holds %d entries, want master.key and keyring.json only", len(entries))
	}
}

func TestLoadNeedsDataDirUnlessGivenKeyAndStore(t *testing.T) {
	tests := []struct {
		name string
		opts keys.Options
		ok   bool
	}{
		{"nothing", keys.Options{}, false},
		{"key only", keys.Options{MasterKey: keys.GenerateMasterKey()}, false},
		{"store only", keys.Options{Store: &keys.MemStore{}}, false},
		{"key and store", memOptions(), true},
		{"bad key", keys.Options{MasterKey: "not base64!", Store: &keys.MemStore{}}, false},
		{"short key", keys.Options{MasterKey: base64.StdEncoding.EncodeToString(make([]byte, 16)), Store: &keys.MemStore{}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keys.Load(context.Background(), tt.opts)
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestParseMasterKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, 32) // 0xfb makes the std and URL alphabets differ
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"standard", base64.StdEncoding.EncodeToString(raw), true},
		{"standard unpadded", base64.RawStdEncoding.EncodeToString(raw), true},
		{"URL alphabet", base64.URLEncoding.EncodeToString(raw), true},
		{"URL unpadded", base64.RawURLEncoding.EncodeToString(raw), true},
		{"surrounding space", "  " + base64.StdEncoding.EncodeToString(raw) + "\n", true},
		{"31 bytes", base64.StdEncoding.EncodeToString(raw[:31]), false},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(raw, 1)), false},
		{"not base64", "correct horse battery staple", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := keys.ParseMasterKey(tt.in)
			if !tt.ok {
				if err == nil {
					t.Errorf("ParseMasterKey(%q) succeeded", tt.in)
				}
				return
			}
			if err != nil || !bytes.Equal(k, raw) {
				t.Errorf("ParseMasterKey(%q) = %x, %v", tt.in, k, err)
			}
		})
	}
}

func TestSignaturesVerifyAcrossSignerRotation(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, memOptions())
	msg := []byte("checkpoint 17")
	oldID, oldSig := r.Sign(msg)
	if oldID != keys.KeyID(r.PublicKey()) {
		t.Fatalf("Sign named key %s, want KeyID(PublicKey()) = %s", oldID, keys.KeyID(r.PublicKey()))
	}
	oldSigner := r.Signer()

	nk, err := r.RotateSigner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	newID, newSig := r.Sign(msg)
	if newID == oldID || newID != nk.ID || !r.PublicKey().Equal(nk.PublicKey) {
		t.Fatalf("after RotateSigner: Sign used %s, RotateSigner returned %s, old was %s", newID, nk.ID, oldID)
	}

	tests := []struct {
		name  string
		id    string
		msg   []byte
		sig   []byte
		wantE error
	}{
		{"retired key", oldID, msg, oldSig, nil},
		{"current key", newID, msg, newSig, nil},
		{"other message", newID, []byte("checkpoint 18"), newSig, keys.ErrBadSignature},
		{"signature under the other key's id", oldID, msg, newSig, keys.ErrBadSignature},
		{"truncated signature", newID, msg, newSig[:10], keys.ErrBadSignature},
		{"unknown id", "0011223344556677", msg, newSig, keys.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.VerifyWithID(tt.id, tt.msg, tt.sig); !errors.Is(err, tt.wantE) {
				t.Errorf("err = %v, want %v", err, tt.wantE)
			}
		})
	}

	list := r.SigningKeys()
	if len(list) != 2 || list[0].ID != oldID || list[0].Retired.IsZero() || list[1].ID != newID || !list[1].Retired.IsZero() {
		t.Errorf("SigningKeys = %+v; want the old key retired, then the new one current", list)
	}

	// A Signer keeps its key after rotation and works as a crypto.Signer.
	var s crypto.Signer = oldSigner
	sig, err := s.Sign(nil, msg, crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	pub := s.Public().(ed25519.PublicKey)
	if !ed25519.Verify(pub, msg, sig) || keys.KeyID(pub) != oldSigner.KeyID() || oldSigner.KeyID() != oldID {
		t.Error("Signer from before the rotation does not sign with the old key")
	}
}

func TestStoresRefuseStaleSave(t *testing.T) {
	ctx := context.Background()
	stores := map[string]keys.Store{
		"MemStore":  &keys.MemStore{},
		"FileStore": keys.NewFileStore(filepath.Join(t.TempDir(), "sub", "keyring.json")),
	}
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			if _, _, err := s.Load(ctx); !errors.Is(err, keys.ErrNoKeyring) {
				t.Fatalf("Load of empty store: err = %v, want ErrNoKeyring", err)
			}
			rev, err := s.Save(ctx, []byte(`{"a":1}`), 0)
			if err != nil || rev != 1 {
				t.Fatalf("first Save = %d, %v", rev, err)
			}
			if _, err := s.Save(ctx, []byte(`{"a":2}`), 0); !errors.Is(err, keys.ErrConflict) {
				t.Errorf("stale Save: err = %v, want ErrConflict", err)
			}
			if rev, err = s.Save(ctx, []byte(`{"a":3}`), 1); err != nil || rev != 2 {
				t.Fatalf("second Save = %d, %v", rev, err)
			}
			data, rev, err := s.Load(ctx)
			if err != nil || rev != 2 || !strings.Contains(string(data), "3") {
				t.Errorf("Load = %s, %d, %v; want the second save", data, rev, err)
			}
		})
	}
}

// Run with -race: Seal and Open must never see a half-built keyring while
// Rotate, RotateSigner and RotateMaster change it.
func TestConcurrentSealOpenAndRotate(t *testing.T) {
	ctx := context.Background()
	r := MustLoad(t, keys.Options{DataDir: t.TempDir()})
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	for w := range 8 {
		wg.Go(func() {
			purpose := []string{keys.PurposeRecords, keys.PurposeBlobs}[w%2]
			for i := range 200 {
				ad := []byte{byte(w), byte(i)}
				ct, err := r.Seal(ctx, purpose, ad, ad)
				if err == nil {
					var got []byte
					got, err = r.Open(ctx, purpose, ct, ad)
					if err == nil && !bytes.Equal(got, ad) {
						err = errors.New("round trip changed the data")
					}
				}
				if err == nil {
					id, sig := r.Sign(ad)
					err = r.VerifyWithID(id, ad, sig)
				}
				if err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 10 {
			var err error
			switch i % 4 {
			case 0, 1:
				_, err = r.Rotate(ctx, []string{keys.PurposeRecords, keys.PurposeBlobs}[i%2])
			case 2:
				_, err = r.RotateSigner(ctx)
			case 3:
				err = r.RotateMaster(ctx, mustParse(t, keys.GenerateMasterKey()))
			}
			if err != nil {
				errc <- err
				return
			}
			_ = r.DataKeys()
			_ = r.SigningKeys()
		}
	})
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

func BenchmarkSeal1KiB(b *testing.B) {
	ctx := context.Background()
	r := MustLoad(b, memOptions())
	msg := make([]byte, 1024)
	ad := []byte("record 42")
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := r.Seal(ctx, keys.PurposeRecords, msg, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen1KiB(b *testing.B) {
	ctx := context.Background()
	r := MustLoad(b, memOptions())
	ad := []byte("record 42")
	ct, _ := r.Seal(ctx, keys.PurposeRecords, make([]byte, 1024), ad)
	b.SetBytes(1024)
	for b.Loop() {
		if _, err := r.Open(ctx, keys.PurposeRecords, ct, ad); err != nil {
			b.Fatal(err)
		}
	}
}

// flakyStore is a Store whose saves fail while fail is set.
type flakyStore struct {
	keys.Store
	fail bool
}

func (s *flakyStore) Save(ctx context.Context, data []byte, prev uint64) (uint64, error) {
	if s.fail {
		return 0, errors.New("disk full")
	}
	return s.Store.Save(ctx, data, prev)
}

func TestRotateMasterFailureKeepsOldKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := &flakyStore{Store: keys.NewFileStore(filepath.Join(dir, "keyring.json"))}
	r := MustLoad(t, keys.Options{DataDir: dir, Store: store})
	ct, _ := r.Seal(ctx, keys.PurposeRecords, []byte("kept"), nil)
	oldKey := readKeyFile(t, filepath.Join(dir, "master.key"))

	store.fail = true
	if err := r.RotateMaster(ctx, mustParse(t, keys.GenerateMasterKey())); err == nil {
		t.Fatal("RotateMaster succeeded though the keyring could not be saved")
	}
	if !bytes.Equal(readKeyFile(t, filepath.Join(dir, "master.key")), oldKey) {
		t.Error("master.key changed by a failed rotation")
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key.next")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("master.key.next left behind by a rotation known not to have saved: %v", err)
	}
	if got, err := r.Open(ctx, keys.PurposeRecords, ct, nil); err != nil || string(got) != "kept" {
		t.Errorf("Open after failed rotation = %q, %v", got, err)
	}

	store.fail = false
	writeKeyFile(t, filepath.Join(dir, "master.key.next"), mustParse(t, keys.GenerateMasterKey()))
	if err := r.RotateMaster(ctx, mustParse(t, keys.GenerateMasterKey())); err == nil || !strings.Contains(err.Error(), "restart") {
		t.Errorf("RotateMaster with an unfinished rotation pending: err = %v, want a refusal saying to restart", err)
	}
	again := MustLoad(t, keys.Options{DataDir: dir, Store: store})
	if got, err := again.Open(ctx, keys.PurposeRecords, ct, nil); err != nil || string(got) != "kept" {
		t.Errorf("Open after reload = %q, %v", got, err)
	}
}
