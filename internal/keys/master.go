package keys

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

const (
	masterFileName = "master.key"
	// pendingSuffix names the file that holds a new master key while
	// RotateMaster saves the keyring under it.
	pendingSuffix = ".next"
)

// GenerateMasterKey returns a new random master key, encoded in base64 as
// Options.MasterKey and CHANCERY_MASTER_KEY expect.
func GenerateMasterKey() string {
	k := make([]byte, MasterKeySize)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// ParseMasterKey decodes a base64 master key (standard or URL alphabet,
// padded or not, surrounding space ignored). It returns an error unless the
// key decodes to MasterKeySize bytes.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		k, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(k) != MasterKeySize {
			return nil, fmt.Errorf("keys: master key is %d bytes, want %d; generate one with: openssl rand -base64 32", len(k), MasterKeySize)
		}
		return k, nil
	}
	return nil, errors.New("keys: master key is not valid base64; generate one with: openssl rand -base64 32")
}

// masterKeyID returns a public fingerprint of a master key, stored in the
// keyring so that a wrong key is reported as such rather than as damage.
func masterKeyID(key []byte) string {
	h := sha256.New()
	h.Write([]byte("chancery/keys/v1 master key id\x00"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// RotateMaster rewraps every key in the keyring under newKey, which must be
// MasterKeySize bytes, and saves the keyring; data sealed with the keys is
// untouched and opens as before.
//
// If the master key came from master.key, RotateMaster replaces the file,
// in an order that survives a crash at any point: Load finishes or undoes an
// interrupted rotation. If it came from Options.MasterKey, the caller must
// store newKey where that came from (CHANCERY_MASTER_KEY) before the next
// Load, which the old key no longer opens.
func (r *Ring) RotateMaster(ctx context.Context, newKey []byte) error {
	if len(newKey) != MasterKeySize {
		return fmt.Errorf("keys: rotate master key: new key is %d bytes, want %d", len(newKey), MasterKeySize)
	}
	newID := masterKeyID(newKey)
	kek := newAEAD(newKey)

	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	if r.current().masterID == newID {
		return errors.New("keys: rotate master key: the new key is the current one")
	}
	oldID := r.current().masterID
	pending := r.masterPath + pendingSuffix
	if r.masterPath != "" {
		if _, err := os.Stat(pending); err == nil {
			return fmt.Errorf("keys: rotate master key: %s is left from a rotation that did not finish; restart to complete or undo it", pending)
		}
		if err := writeFileAtomic(pending, encodeMasterFile(newKey)); err != nil {
			return fmt.Errorf("keys: rotate master key: %w", err)
		}
	}
	err := r.updateLocked(ctx, func(next *state) error {
		*next = *next.rewrap(newID, kek)
		return nil
	})
	if err != nil {
		// A failed save may still have reached storage (a sync after the
		// rename, a commit whose reply was lost). Only when the stored
		// keyring is known to be under the old key is the pending key
		// useless; otherwise it stays for Load to sort out.
		if r.masterPath != "" {
			if data, _, lerr := r.store.Load(ctx); lerr == nil && storedMasterID(data) == oldID {
				os.Remove(pending)
			}
		}
		return fmt.Errorf("keys: rotate master key: %w", err)
	}
	r.kek = kek
	if r.masterPath != "" {
		// The keyring is saved under the new key; if this fails, the next
		// Load finds the pending file and completes the rotation.
		if err := commitPendingMaster(r.masterPath); err != nil {
			return fmt.Errorf("keys: rotate master key: keyring saved, but %w; the next start completes the rotation", err)
		}
	}
	return nil
}

func encodeMasterFile(key []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(key) + "\n")
}

// loadOrCreateMasterFile reads the master key from path, creating the file
// with a random key if it does not exist.
func loadOrCreateMasterFile(path string) ([]byte, error) {
	k, err := readMasterFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("keys: create data directory: %w", err)
	}
	k, err = ParseMasterKey(GenerateMasterKey())
	if err != nil {
		return nil, err
	}
	err = createFileAtomic(path, encodeMasterFile(k))
	if errors.Is(err, fs.ErrExist) {
		// Another process created it first; use theirs.
		return readMasterFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: create master key: %w", err)
	}
	return k, nil
}

// readMasterFile reads a master key file, refusing one that group or others
// may read. Its error wraps fs.ErrNotExist if there is no file.
func readMasterFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keys: read master key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keys: read master key: %w", err)
	}
	// Windows has no such mode bits; its ACLs are the administrator's job.
	if mode := fi.Mode().Perm(); runtime.GOOS != "windows" && mode&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; fix it with: chmod 600 %s", ErrInsecureKeyFile, path, mode, path)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("keys: read master key %s: %w", path, err)
	}
	k, err := ParseMasterKey(buf.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// readPendingMaster reads the new master key of an interrupted rotation, and
// reports whether there was one.
func readPendingMaster(masterPath string) (key []byte, found bool, err error) {
	k, err := readMasterFile(masterPath + pendingSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// commitPendingMaster makes the pending master key the master key.
func commitPendingMaster(masterPath string) error {
	if err := os.Rename(masterPath+pendingSuffix, masterPath); err != nil {
		return fmt.Errorf("replace master key file: %w", err)
	}
	return syncDir(filepath.Dir(masterPath))
}

// discardPendingMaster removes the pending key of a rotation that never
// saved the keyring.
func discardPendingMaster(masterPath string) error {
	if err := os.Remove(masterPath + pendingSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("keys: remove unused pending master key: %w", err)
	}
	return nil
}
