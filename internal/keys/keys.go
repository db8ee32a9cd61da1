// Package keys holds the node's key material and the envelope encryption
// built on it.
//
// The hierarchy has three levels. A 32-byte master key (the key-encryption
// key) comes from the operator, through CHANCERY_MASTER_KEY, or from the file
// master.key in the data directory. The master key wraps, and only wraps, the
// keys in the keyring: per-purpose data-encryption keys ("records", "blobs",
// "exchange", …) and the node's Ed25519 signing keys. The keyring is stored
// wrapped through a Store, so it may live in a file or in the database while
// the master key lives elsewhere.
//
// Data is sealed with the current version of its purpose's key. A ciphertext
// names the version that sealed it, so rotating a purpose key (Rotate) or the
// master key (RotateMaster) never makes old data unreadable, and rotating the
// master key rewrites only the small keyring, never the data.
//
// A Ring is safe for concurrent use. Seal and Open never wait for storage:
// changes build a new snapshot of the keyring, save it, and only then publish
// it to readers.
package keys

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Errors returned by this package. Compare with errors.Is; the returned
// errors wrap these with the details.
var (
	// ErrCorrupt reports a ciphertext that cannot be opened: truncated,
	// altered, sealed for another purpose or with other additional data, or
	// naming a key version the keyring does not hold. AES-GCM cannot tell
	// these apart, and an attacker should not learn which it was.
	ErrCorrupt = errors.New("keys: corrupt ciphertext")
	// ErrUnknownPurpose reports a purpose the keyring has no key for.
	ErrUnknownPurpose = errors.New("keys: unknown key purpose")
	// ErrUnknownKey reports a signing key id the keyring does not hold.
	ErrUnknownKey = errors.New("keys: unknown signing key")
	// ErrBadSignature reports a signature that does not verify.
	ErrBadSignature = errors.New("keys: signature does not verify")
	// ErrWrongMasterKey reports a master key other than the one that
	// wrapped the stored keyring.
	ErrWrongMasterKey = errors.New("keys: master key does not open the keyring")
	// ErrInsecureKeyFile reports a master key file that users other than
	// its owner may read.
	ErrInsecureKeyFile = errors.New("keys: master key file is readable by group or others")
	// ErrNoKeyring is returned by Store.Load when nothing has been saved.
	ErrNoKeyring = errors.New("keys: no keyring stored")
	// ErrConflict is returned by Store.Save when another writer saved
	// first.
	ErrConflict = errors.New("keys: keyring changed by another writer")
)

// The purposes Chancery seals data for. Any name matching
// [a-z][a-z0-9._-]{0,63} may be used.
const (
	PurposeRecords  = "records"
	PurposeBlobs    = "blobs"
	PurposeExchange = "exchange"
	// PurposeProcedures seals application forms and their attachments.
	PurposeProcedures = "procedures"
)

// MasterKeySize is the length in bytes of a master key.
const MasterKeySize = 32

// Ciphertext layout, format 1:
//
//	format (1) | key version (4, big-endian) | nonce (12) | AES-GCM ciphertext and tag (16)
//
// The header is authenticated as part of the additional data, together with
// the purpose, so neither can be swapped without Open failing.
const (
	formatV1  = 1
	headerLen = 1 + 4
	gcmNonce  = 12
	gcmTag    = 16
	// Overhead is the number of bytes Seal adds to the plaintext.
	Overhead = headerLen + gcmNonce + gcmTag
)

// missReloadInterval bounds how often Open reloads the keyring on meeting a
// key version it does not hold, so a stream of forged versions cannot turn
// into a stream of storage reads.
const missReloadInterval = time.Second

// Options configure Load.
type Options struct {
	// MasterKey is the master key, encoded in base64 (standard or URL
	// alphabet, padded or not), as read from CHANCERY_MASTER_KEY. If empty,
	// the key is read from master.key in DataDir, which is created with a
	// fresh random key, mode 0600, on first use.
	MasterKey string

	// DataDir is the node's data directory. It is required unless both
	// MasterKey and Store are set.
	DataDir string

	// Store holds the wrapped keyring. If nil, a FileStore at
	// keyring.json in DataDir is used.
	Store Store

	// Purposes are the data-key purposes that must exist; Load creates a
	// first key for each one missing. If nil, PurposeRecords, PurposeBlobs
	// PurposeExchange and PurposeProcedures are used.
	Purposes []string

	// Now returns the current time. If nil, time.Now is used.
	Now func() time.Time
}

// Ring is the node's keyring: its data-encryption keys, its signing keys and
// the master key that wraps them. Create one with Load.
type Ring struct {
	store      Store
	now        func() time.Time
	masterPath string // the master key file; "" when the key came from Options

	// writeMu serializes changes and reloads so that each one starts from
	// the latest saved state. Seal and Open never take it, except Open on
	// an unknown key version.
	writeMu    sync.Mutex
	kek        cipher.AEAD // guarded by writeMu
	lastMissAt time.Time   // guarded by writeMu

	mu sync.RWMutex
	st *state // guarded by mu; a published state is never modified
}

// Load opens the keyring described by opts, creating it on first use: the
// master key file (unless opts.MasterKey is set), a first key for each of
// opts.Purposes that has none, and a first signing key.
//
// Load returns an error wrapping ErrWrongMasterKey if the master key did not
// wrap the stored keyring, and one wrapping ErrInsecureKeyFile if master.key
// may be read by group or others.
func Load(ctx context.Context, opts Options) (*Ring, error) {
	purposes := opts.Purposes
	if purposes == nil {
		purposes = []string{PurposeRecords, PurposeBlobs, PurposeExchange, PurposeProcedures}
	}
	for _, p := range purposes {
		if err := checkPurpose(p); err != nil {
			return nil, err
		}
	}
	if opts.DataDir == "" && (opts.MasterKey == "" || opts.Store == nil) {
		return nil, errors.New("keys: Options.DataDir is required unless both MasterKey and Store are set")
	}
	r := &Ring{store: opts.Store, now: opts.Now}
	if r.now == nil {
		r.now = time.Now
	}
	if r.store == nil {
		r.store = NewFileStore(filepath.Join(opts.DataDir, "keyring.json"))
	}

	var master []byte
	if opts.MasterKey != "" {
		k, err := ParseMasterKey(opts.MasterKey)
		if err != nil {
			return nil, err
		}
		master = k
	} else {
		r.masterPath = filepath.Join(opts.DataDir, masterFileName)
		k, err := loadOrCreateMasterFile(r.masterPath)
		if err != nil {
			return nil, err
		}
		master = k
	}

	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.kek = newAEAD(master)
	st, err := r.loadLocked(ctx, master)
	if err != nil {
		return nil, err
	}
	r.publish(st)

	// Create what is missing in one save, so a first start writes the
	// keyring once.
	var missing []string
	for _, p := range purposes {
		if len(st.data[p]) == 0 && !slices.Contains(missing, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 || len(st.signing) == 0 {
		err := r.updateLocked(ctx, func(next *state) error {
			now := r.now().UTC()
			for _, p := range missing {
				if len(next.data[p]) == 0 {
					next.data[p] = []*dataKey{r.newDataKeyLocked(p, 1, now)}
				}
			}
			if len(next.signing) == 0 {
				next.signing = []*signingKey{r.newSigningKeyLocked(1, now)}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

// loadLocked reads the stored keyring and unwraps it with master. For a
// master key kept in a file, it also finishes or discards a master key
// rotation that a crash interrupted. r.writeMu must be held.
func (r *Ring) loadLocked(ctx context.Context, master []byte) (*state, error) {
	data, rev, err := r.store.Load(ctx)
	if errors.Is(err, ErrNoKeyring) {
		return &state{masterID: masterKeyID(master), data: map[string][]*dataKey{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keys: load keyring: %w", err)
	}
	st, err := decodeState(data, masterKeyID(master), r.kek)
	if r.masterPath != "" {
		next, found, nerr := readPendingMaster(r.masterPath)
		switch {
		case nerr != nil:
			return nil, nerr
		case errors.Is(err, ErrWrongMasterKey) && found:
			// The keyring was saved under the new key but the crash came
			// before master.key was replaced: finish the rotation.
			kek := newAEAD(next)
			if st, err = decodeState(data, masterKeyID(next), kek); err == nil {
				if err = commitPendingMaster(r.masterPath); err != nil {
					return nil, err
				}
				r.kek = kek
			}
		case err == nil && found:
			// The crash came before the keyring was saved: the pending
			// key was never used.
			if err := discardPendingMaster(r.masterPath); err != nil {
				return nil, err
			}
		}
	}
	if err != nil {
		return nil, err
	}
	st.rev = rev
	return st, nil
}

// Reload reads the keyring from its Store, picking up keys that other
// processes sharing the Store have added since Load.
func (r *Ring) Reload(ctx context.Context) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	return r.reloadLocked(ctx)
}

func (r *Ring) reloadLocked(ctx context.Context) error {
	data, rev, err := r.store.Load(ctx)
	if err != nil {
		return fmt.Errorf("keys: reload keyring: %w", err)
	}
	st, err := decodeState(data, r.current().masterID, r.kek)
	if err != nil {
		return err
	}
	st.rev = rev
	r.publish(st)
	return nil
}

// current returns the published state.
func (r *Ring) current() *state {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.st
}

func (r *Ring) publish(st *state) {
	r.mu.Lock()
	r.st = st
	r.mu.Unlock()
}

// maxUpdateAttempts bounds how often a change is retried after losing a race
// with another writer of the same Store.
const maxUpdateAttempts = 5

// updateLocked applies change to a copy of the current state, saves the copy
// and publishes it. If another writer saved first, it reloads and applies
// change again, so change must be safe to repeat. r.writeMu must be held.
func (r *Ring) updateLocked(ctx context.Context, change func(next *state) error) error {
	for attempt := 1; ; attempt++ {
		cur := r.current()
		next := cur.clone()
		if err := change(next); err != nil {
			return err
		}
		data, err := next.encode()
		if err != nil {
			return err
		}
		rev, err := r.store.Save(ctx, data, cur.rev)
		if errors.Is(err, ErrConflict) && attempt < maxUpdateAttempts {
			if err := r.reloadLocked(ctx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("keys: save keyring: %w", err)
		}
		next.rev = rev
		r.publish(next)
		return nil
	}
}

// Seal encrypts and authenticates plaintext with the current key of purpose,
// and authenticates additionalData, which Open must be given unchanged. The
// result names the key version, so it still opens after Rotate. Seal does no
// I/O; ctx is taken for symmetry with Open.
//
// Seal returns an error wrapping ErrUnknownPurpose if the keyring has no key
// for purpose.
func (r *Ring) Seal(ctx context.Context, purpose string, plaintext, additionalData []byte) ([]byte, error) {
	keys := r.current().data[purpose]
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w %q", ErrUnknownPurpose, purpose)
	}
	k := keys[len(keys)-1]
	out := make([]byte, headerLen, Overhead+len(plaintext))
	out[0] = formatV1
	binary.BigEndian.PutUint32(out[1:headerLen], k.version)
	return k.aead.Seal(out, nil, plaintext, dataAD(out[:headerLen], purpose, additionalData)), nil
}

// Open authenticates and decrypts a ciphertext made by Seal for purpose with
// the same additionalData, using whichever key version sealed it. If that
// version is newer than any the Ring holds, Open reloads the keyring once, in
// case another process sharing the Store rotated the key.
//
// Open returns an error wrapping ErrUnknownPurpose if the keyring has no key
// for purpose, and one wrapping ErrCorrupt if the ciphertext does not open.
//
// Open also opens a stream made by SealWriter (format 2), whole.
func (r *Ring) Open(ctx context.Context, purpose string, ciphertext, additionalData []byte) ([]byte, error) {
	version, err := CiphertextVersion(ciphertext)
	if err != nil {
		return nil, err
	}
	if ciphertext[0] == formatStream {
		plain, err := r.OpenReader(ctx, purpose, bytes.NewReader(ciphertext), additionalData)
		if err != nil {
			return nil, err
		}
		return io.ReadAll(plain)
	}
	k, err := r.dataKey(ctx, purpose, version)
	if err != nil {
		return nil, err
	}
	plain, err := k.aead.Open(nil, nil, ciphertext[headerLen:], dataAD(ciphertext[:headerLen], purpose, additionalData))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (tampered, or wrong purpose or additional data)", ErrCorrupt)
	}
	return plain, nil
}

// dataKey returns version of purpose's key, reloading the keyring if the
// version is newer than the newest held.
func (r *Ring) dataKey(ctx context.Context, purpose string, version uint32) (*dataKey, error) {
	keys := r.current().data[purpose]
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w %q", ErrUnknownPurpose, purpose)
	}
	if version > uint32(len(keys)) && r.reloadOnMiss(ctx) {
		keys = r.current().data[purpose]
	}
	if version == 0 || version > uint32(len(keys)) {
		return nil, fmt.Errorf("%w: names version %d of the %q key, which the keyring does not hold", ErrCorrupt, version, purpose)
	}
	return keys[version-1], nil
}

// reloadOnMiss reloads the keyring unless it did so in the last
// missReloadInterval, and reports whether it reloaded.
func (r *Ring) reloadOnMiss(ctx context.Context) bool {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	now := r.now()
	if !r.lastMissAt.IsZero() && now.Sub(r.lastMissAt) < missReloadInterval {
		return false
	}
	r.lastMissAt = now
	return r.reloadLocked(ctx) == nil
}

// CiphertextVersion returns the key version that sealed ciphertext, so that
// a background job can find data to re-seal after a Rotate. It returns an
// error wrapping ErrCorrupt if ciphertext is not in a format Seal or
// SealWriter produces.
func CiphertextVersion(ciphertext []byte) (uint32, error) {
	minimum := Overhead
	if len(ciphertext) > 0 && ciphertext[0] == formatStream {
		minimum = streamHeaderLen + gcmTag
	}
	if len(ciphertext) < minimum {
		return 0, fmt.Errorf("%w: %d bytes, shorter than the %d-byte minimum", ErrCorrupt, len(ciphertext), minimum)
	}
	if ciphertext[0] != formatV1 && ciphertext[0] != formatStream {
		return 0, fmt.Errorf("%w: unknown format %d", ErrCorrupt, ciphertext[0])
	}
	return binary.BigEndian.Uint32(ciphertext[1:headerLen]), nil
}

// dataAD returns the additional data AES-GCM authenticates for a data
// ciphertext: its header, the purpose (length-prefixed, so that the boundary
// with the caller's data is unambiguous) and the caller's additional data.
func dataAD(header []byte, purpose string, additionalData []byte) []byte {
	ad := make([]byte, 0, len(header)+1+len(purpose)+len(additionalData))
	ad = append(ad, header...)
	ad = append(ad, byte(len(purpose)))
	ad = append(ad, purpose...)
	return append(ad, additionalData...)
}

// Rotate creates a new version of purpose's key, which Seal uses from then
// on; older versions stay in the keyring so that Open still opens data they
// sealed. Rotate creates the first version of a purpose the keyring does not
// yet have. It returns the new version.
func (r *Ring) Rotate(ctx context.Context, purpose string) (uint32, error) {
	if err := checkPurpose(purpose); err != nil {
		return 0, err
	}
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	var version uint32
	err := r.updateLocked(ctx, func(next *state) error {
		keys := next.data[purpose]
		version = uint32(len(keys)) + 1
		next.data[purpose] = append(slices.Clip(keys), r.newDataKeyLocked(purpose, version, r.now().UTC()))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("keys: rotate %q key: %w", purpose, err)
	}
	return version, nil
}

// DataKey describes one version of a data-encryption key. It holds no
// secret.
type DataKey struct {
	Purpose string
	Version uint32
	Created time.Time
	// Current reports whether Seal uses this version.
	Current bool
}

// DataKeys lists every version of every data-encryption key, ordered by
// purpose and then version.
func (r *Ring) DataKeys() []DataKey {
	st := r.current()
	var out []DataKey
	for _, p := range slices.Sorted(maps.Keys(st.data)) {
		keys := st.data[p]
		for i, k := range keys {
			out = append(out, DataKey{Purpose: p, Version: k.version, Created: k.created, Current: i == len(keys)-1})
		}
	}
	return out
}

// newDataKeyLocked returns a fresh random key, wrapped with the master key.
// r.writeMu must be held.
func (r *Ring) newDataKeyLocked(purpose string, version uint32, now time.Time) *dataKey {
	raw := make([]byte, 32)
	rand.Read(raw)
	return &dataKey{
		purpose: purpose,
		version: version,
		created: now,
		raw:     raw,
		aead:    newAEAD(raw),
		wrapped: r.kek.Seal(nil, nil, raw, dataWrapAD(purpose, version)),
	}
}

// newSigningKeyLocked returns a fresh Ed25519 key, wrapped with the master
// key. r.writeMu must be held.
func (r *Ring) newSigningKeyLocked(version uint32, now time.Time) *signingKey {
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	return &signingKey{
		version: version,
		id:      KeyID(pub),
		pub:     pub,
		priv:    priv,
		created: now,
		wrapped: r.kek.Seal(nil, nil, seed, signingWrapAD(version)),
	}
}

// newAEAD returns AES-256-GCM with random nonces under key, which must be 32
// bytes.
func newAEAD(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("keys: " + err.Error()) // unreachable: callers pass 32 bytes
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic("keys: " + err.Error())
	}
	return aead
}

// checkPurpose reports whether p is a well-formed purpose name.
func checkPurpose(p string) error {
	ok := len(p) >= 1 && len(p) <= 64 && p[0] >= 'a' && p[0] <= 'z'
	for i := 0; ok && i < len(p); i++ {
		c := p[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return fmt.Errorf("keys: invalid purpose %q: want [a-z][a-z0-9._-]{0,63}", p)
	}
	return nil
}
