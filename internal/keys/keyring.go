package keys

import (
	"crypto/cipher"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// state is one snapshot of the keyring, unwrapped. Once published to readers
// it is never modified: changes work on a clone.
type state struct {
	rev      uint64 // the Store revision this state was loaded from or saved as
	masterID string // masterKeyID of the master key that wraps the keys
	// data holds each purpose's keys, version i at index i-1; the last is
	// current.
	data map[string][]*dataKey
	// signing holds the signing keys, version i at index i-1; the last is
	// current.
	signing []*signingKey
}

type dataKey struct {
	purpose string
	version uint32
	created time.Time
	raw     []byte      // the key itself, kept to rewrap it under a new master key
	aead    cipher.AEAD // AES-256-GCM under raw
	wrapped []byte      // raw sealed by the master key
}

type signingKey struct {
	version uint32
	id      string
	pub     ed25519.PublicKey
	priv    ed25519.PrivateKey
	created time.Time
	retired time.Time // zero while current
	wrapped []byte    // the seed sealed by the master key
}

// clone returns a copy of st whose maps and slices may be changed without
// touching st. The keys themselves are shared; a change to one must replace
// it with a copy.
func (st *state) clone() *state {
	next := &state{
		rev:      st.rev,
		masterID: st.masterID,
		data:     make(map[string][]*dataKey, len(st.data)),
		signing:  slices.Clone(st.signing),
	}
	for p, keys := range st.data {
		next.data[p] = slices.Clone(keys)
	}
	return next
}

// The stored form of the keyring. Secrets appear only wrapped.
type document struct {
	Format      int             `json:"format"`
	MasterKeyID string          `json:"master_key_id"`
	DataKeys    []docDataKey    `json:"data_keys"`
	SigningKeys []docSigningKey `json:"signing_keys"`
}

type docDataKey struct {
	Purpose string    `json:"purpose"`
	Version uint32    `json:"version"`
	Created time.Time `json:"created"`
	Wrapped []byte    `json:"wrapped"`
}

type docSigningKey struct {
	Version   uint32    `json:"version"`
	ID        string    `json:"id"`
	PublicKey []byte    `json:"public_key"`
	Created   time.Time `json:"created"`
	Retired   time.Time `json:"retired,omitzero"`
	Wrapped   []byte    `json:"wrapped_seed"`
}

const documentFormat = 1

func (st *state) encode() ([]byte, error) {
	doc := document{Format: documentFormat, MasterKeyID: st.masterID, DataKeys: []docDataKey{}, SigningKeys: []docSigningKey{}}
	for _, p := range slices.Sorted(maps.Keys(st.data)) {
		for _, k := range st.data[p] {
			doc.DataKeys = append(doc.DataKeys, docDataKey{Purpose: p, Version: k.version, Created: k.created, Wrapped: k.wrapped})
		}
	}
	for _, k := range st.signing {
		doc.SigningKeys = append(doc.SigningKeys, docSigningKey{
			Version: k.version, ID: k.id, PublicKey: k.pub, Created: k.created, Retired: k.retired, Wrapped: k.wrapped,
		})
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("keys: encode keyring: %w", err)
	}
	return data, nil
}

// storedMasterID returns the id of the master key that wrapped a stored
// keyring, or "" if data does not parse.
func storedMasterID(data []byte) string {
	var doc struct {
		MasterKeyID string `json:"master_key_id"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return ""
	}
	return doc.MasterKeyID
}

// decodeState parses a stored keyring and unwraps its keys with kek, the
// AEAD of the master key whose id is masterID. It returns an error wrapping
// ErrWrongMasterKey if the keyring was wrapped by another master key.
func decodeState(data []byte, masterID string, kek cipher.AEAD) (*state, error) {
	var doc document
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("keys: keyring is damaged: %w", err)
	}
	if doc.Format != documentFormat {
		return nil, fmt.Errorf("keys: keyring has format %d; this version reads format %d", doc.Format, documentFormat)
	}
	if doc.MasterKeyID != masterID {
		return nil, fmt.Errorf("%w: the keyring was wrapped by master key %s, this is %s (is CHANCERY_MASTER_KEY or master.key the one used before?)",
			ErrWrongMasterKey, doc.MasterKeyID, masterID)
	}
	st := &state{masterID: masterID, data: map[string][]*dataKey{}}
	for _, d := range doc.DataKeys {
		if err := checkPurpose(d.Purpose); err != nil {
			return nil, fmt.Errorf("keys: keyring is damaged: %w", err)
		}
		if want := uint32(len(st.data[d.Purpose])) + 1; d.Version != want {
			return nil, fmt.Errorf("keys: keyring is damaged: %q key version %d where %d was expected", d.Purpose, d.Version, want)
		}
		raw, err := kek.Open(nil, nil, d.Wrapped, dataWrapAD(d.Purpose, d.Version))
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("keys: keyring is damaged: %q key version %d does not unwrap", d.Purpose, d.Version)
		}
		st.data[d.Purpose] = append(st.data[d.Purpose], &dataKey{
			purpose: d.Purpose, version: d.Version, created: d.Created, raw: raw, aead: newAEAD(raw), wrapped: d.Wrapped,
		})
	}
	for _, d := range doc.SigningKeys {
		if want := uint32(len(st.signing)) + 1; d.Version != want {
			return nil, fmt.Errorf("keys: keyring is damaged: signing key version %d where %d was expected", d.Version, want)
		}
		seed, err := kek.Open(nil, nil, d.Wrapped, signingWrapAD(d.Version))
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("keys: keyring is damaged: signing key version %d does not unwrap", d.Version)
		}
		priv := ed25519.NewKeyFromSeed(seed)
		pub := priv.Public().(ed25519.PublicKey)
		if !pub.Equal(ed25519.PublicKey(d.PublicKey)) || KeyID(pub) != d.ID {
			return nil, fmt.Errorf("keys: keyring is damaged: signing key version %d does not match its public key", d.Version)
		}
		st.signing = append(st.signing, &signingKey{
			version: d.Version, id: d.ID, pub: pub, priv: priv, created: d.Created, retired: d.Retired, wrapped: d.Wrapped,
		})
	}
	return st, nil
}

// rewrap returns a copy of st with every key wrapped by kek, the AEAD of the
// master key whose id is masterID.
func (st *state) rewrap(masterID string, kek cipher.AEAD) *state {
	next := st.clone()
	next.masterID = masterID
	for p, keys := range next.data {
		for i, k := range keys {
			c := *k
			c.wrapped = kek.Seal(nil, nil, k.raw, dataWrapAD(k.purpose, k.version))
			next.data[p][i] = &c
		}
	}
	for i, k := range next.signing {
		c := *k
		c.wrapped = kek.Seal(nil, nil, k.priv.Seed(), signingWrapAD(k.version))
		next.signing[i] = &c
	}
	return next
}

// The additional data that binds a wrapped key to its place in the keyring,
// so that a wrapped key moved to another purpose or version fails to unwrap.
func dataWrapAD(purpose string, version uint32) []byte {
	ad := append([]byte("chancery/keys/v1 data\x00"), purpose...)
	ad = append(ad, 0)
	return binary.BigEndian.AppendUint32(ad, version)
}

func signingWrapAD(version uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte("chancery/keys/v1 signing\x00"), version)
}
