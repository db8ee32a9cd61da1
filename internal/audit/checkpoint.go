package audit

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"chancery/internal/errs"
)

// Checkpoint is a signed statement of the tree's size and root hash, in
// the transparency-dev checkpoint format (c2sp.org/tlog-checkpoint): a
// signed note whose text is
//
//	<origin>
//	<size, in decimal>
//	<root hash, in standard base64>
//
// signed with the ledger's Ed25519 key under the key name <origin>.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
	// Note is the whole signed note: the text, the ledger's signature and
	// any cosignatures.
	Note []byte
	// Time is when the ledger stored the checkpoint; zero for one parsed
	// from elsewhere.
	Time time.Time
}

// maxCheckpointNote bounds a signed checkpoint accepted from outside: the
// text, the log's signature and a few dozen cosignatures.
const maxCheckpointNote = 16 << 10

// checkpointText returns the note text of a checkpoint.
func checkpointText(origin string, size uint64, root []byte) string {
	return origin + "\n" + strconv.FormatUint(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root) + "\n"
}

// ParseCheckpoint parses a signed checkpoint and checks that verifier
// signed it, under a key name equal to the checkpoint's origin (the
// convention of c2sp.org/tlog-checkpoint, which this ledger follows).
// Signatures by other keys, such as witnesses' cosignatures, are kept in
// Note but not checked. Extension lines after the root are allowed and
// ignored.
//
// ParseCheckpoint returns an error wrapping errs.ErrInvalid if signed is
// not a well-formed checkpoint signed by verifier.
func ParseCheckpoint(signed []byte, verifier note.Verifier) (Checkpoint, error) {
	if len(signed) > maxCheckpointNote {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint is %d bytes, more than %d", errs.ErrInvalid, len(signed), maxCheckpointNote)
	}
	n, err := note.Open(signed, note.VerifierList(verifier))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return Checkpoint{}, fmt.Errorf("%w: checkpoint is not signed by %s", errs.ErrInvalid, verifier.Name())
		}
		return Checkpoint{}, fmt.Errorf("%w: checkpoint: %v", errs.ErrInvalid, err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint has %d lines, want origin, size and root hash", errs.ErrInvalid, len(lines))
	}
	c := Checkpoint{Origin: lines[0], Note: bytes.Clone(signed)}
	if c.Origin != verifier.Name() {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint is for log %q, signed as %q", errs.ErrInvalid, c.Origin, verifier.Name())
	}
	if c.Size, err = parseSize(lines[1]); err != nil {
		return Checkpoint{}, err
	}
	c.Root, err = base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(c.Root) != hashSize || base64.StdEncoding.EncodeToString(c.Root) != lines[2] {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint root hash %.64q is not a base64 SHA-256 hash", errs.ErrInvalid, lines[2])
	}
	for i, ext := range lines[3:] {
		if ext == "" {
			return Checkpoint{}, fmt.Errorf("%w: checkpoint extension line %d is empty", errs.ErrInvalid, i+1)
		}
	}
	return c, nil
}

// parseSize parses a tree size in canonical decimal: no sign, no leading
// zeros.
func parseSize(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || s != strconv.FormatUint(n, 10) {
		return 0, fmt.Errorf("%w: checkpoint size %.32q is not a decimal number", errs.ErrInvalid, s)
	}
	if n > maxTreeSize {
		return 0, fmt.Errorf("%w: checkpoint size %d is larger than any ledger", errs.ErrInvalid, n)
	}
	return n, nil
}

// Signature algorithms of note keys (c2sp.org/signed-note).
const (
	algEd25519       = 0x01
	algCosignatureV1 = 0x04
)

// keyHash computes a note key hash as c2sp.org/signed-note defines it: the
// first four bytes of SHA-256(name || "\n" || algorithm || public key).
func keyHash(name string, alg byte, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', alg})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// validKeyName applies note's rule for key names: non-empty UTF-8 with no
// spaces and no '+'.
func validKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

// ed25519Public returns s's public key if it is an Ed25519 key.
func ed25519Public(s crypto.Signer) (ed25519.PublicKey, error) {
	pub, ok := s.Public().(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("audit: note keys must be Ed25519, got %T", s.Public())
	}
	return pub, nil
}

// noteSigner is a note.Signer backed by a crypto.Signer, so that the
// private key never leaves internal/keys.
type noteSigner struct {
	name string
	hash uint32
	sign func(msg []byte) ([]byte, error)
}

func (s *noteSigner) Name() string                    { return s.name }
func (s *noteSigner) KeyHash() uint32                 { return s.hash }
func (s *noteSigner) Sign(msg []byte) ([]byte, error) { return s.sign(msg) }

// NewNoteSigner returns a note.Signer that signs notes with s, an Ed25519
// key such as keys.Ring.Signer returns, under the key name name. Its
// signatures are those note.NewSigner would make from the same key's
// "PRIVATE+KEY+name+hash+keydata" encoding, which NewNoteVerifier (or
// note.NewVerifier with the vkey from VerifierKey) checks.
func NewNoteSigner(name string, s crypto.Signer) (note.Signer, error) {
	if !validKeyName(name) {
		return nil, fmt.Errorf("audit: invalid note key name %q: it must have no spaces and no '+'", name)
	}
	pub, err := ed25519Public(s)
	if err != nil {
		return nil, err
	}
	return &noteSigner{
		name: name,
		hash: keyHash(name, algEd25519, pub),
		sign: func(msg []byte) ([]byte, error) { return s.Sign(nil, msg, crypto.Hash(0)) },
	}, nil
}

// VerifierKey returns the note verifier key ("name+hash+keydata") of the
// Ed25519 public key pub under the key name name: what a witness or an
// outside verifier is configured with.
func VerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	return note.NewEd25519VerifierKey(name, pub)
}

// NewNoteVerifier returns the note.Verifier of the Ed25519 public key pub
// under the key name name.
func NewNoteVerifier(name string, pub ed25519.PublicKey) (note.Verifier, error) {
	vkey, err := VerifierKey(name, pub)
	if err != nil {
		return nil, fmt.Errorf("audit: verifier for %q: %w", name, err)
	}
	return note.NewVerifier(vkey)
}

// cosignatureLen is the length of a cosignature/v1 signature: a 64-bit
// timestamp and an Ed25519 signature.
const cosignatureLen = 8 + ed25519.SignatureSize

// cosignedMessage returns what a cosignature/v1 signs for the note text
// text at time ts (c2sp.org/tlog-cosignature).
func cosignedMessage(ts uint64, text []byte) []byte {
	m := make([]byte, 0, 32+len(text))
	m = append(m, "cosignature/v1\ntime "...)
	m = strconv.AppendUint(m, ts, 10)
	m = append(m, '\n')
	return append(m, text...)
}

// NewCosigner returns a note.Signer that adds a witness cosignature
// (cosignature/v1 of c2sp.org/tlog-cosignature) made with s, an Ed25519
// key, under the key name name: a statement that, at the time now returns,
// the checkpoint is the largest consistent one the witness has seen of its
// log. If now is nil, time.Now is used.
//
// A cosigner key should serve one cosigner name only: the signed message
// does not include the name.
func NewCosigner(name string, s crypto.Signer, now func() time.Time) (note.Signer, error) {
	if !validKeyName(name) {
		return nil, fmt.Errorf("audit: invalid cosigner name %q: it must have no spaces and no '+'", name)
	}
	pub, err := ed25519Public(s)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &noteSigner{
		name: name,
		hash: keyHash(name, algCosignatureV1, pub),
		sign: func(msg []byte) ([]byte, error) {
			ts := uint64(now().Unix())
			sig, err := s.Sign(nil, cosignedMessage(ts, msg), crypto.Hash(0))
			if err != nil {
				return nil, err
			}
			return append(binary.BigEndian.AppendUint64(make([]byte, 0, cosignatureLen), ts), sig...), nil
		},
	}, nil
}

// cosignatureVerifier checks cosignature/v1 signatures.
type cosignatureVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.hash }

func (v *cosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != cosignatureLen {
		return false
	}
	ts := binary.BigEndian.Uint64(sig)
	if ts > 1<<63-1 {
		return false
	}
	return ed25519.Verify(v.pub, cosignedMessage(ts, msg), sig[8:])
}

// NewCosignatureVerifier returns the note.Verifier of the cosignatures
// that NewCosigner makes with the Ed25519 key pub under name.
func NewCosignatureVerifier(name string, pub ed25519.PublicKey) (note.Verifier, error) {
	if !validKeyName(name) {
		return nil, fmt.Errorf("audit: invalid cosigner name %q: it must have no spaces and no '+'", name)
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("audit: cosigner key for %q is %d bytes, want %d", name, len(pub), ed25519.PublicKeySize)
	}
	return &cosignatureVerifier{name: name, hash: keyHash(name, algCosignatureV1, pub), pub: pub}, nil
}

// CosignatureTime returns when the cosigner v signed the checkpoint
// signed, and reports whether signed carries a valid cosignature by v.
func CosignatureTime(signed []byte, v note.Verifier) (time.Time, bool) {
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return time.Time{}, false
	}
	for _, s := range n.Sigs {
		raw, err := base64.StdEncoding.DecodeString(s.Base64)
		if err == nil && len(raw) == 4+cosignatureLen {
			return time.Unix(int64(binary.BigEndian.Uint64(raw[4:])), 0).UTC(), true
		}
	}
	return time.Time{}, false
}

// Checkpoint signs and stores a checkpoint of the integrated tree and
// returns it. If the newest stored checkpoint already has the tree's
// size, that one is returned. Integrate first to cover events appended
// since the last integration.
func (l *Ledger) Checkpoint(ctx context.Context) (Checkpoint, error) {
	t, err := readTree(ctx, l.db, l.db.Dialect, false)
	if err != nil {
		return Checkpoint{}, err
	}
	latest, err := latestCheckpoint(ctx, l.db)
	switch {
	case err == nil && latest.size == t.size:
		return l.parseStored(latest)
	case err != nil && !errors.Is(err, errs.ErrNotFound):
		return Checkpoint{}, err
	}
	signer, err := NewNoteSigner(l.origin, l.ring.Signer())
	if err != nil {
		return Checkpoint{}, err
	}
	signed, err := note.Sign(&note.Note{Text: checkpointText(l.origin, t.size, t.root)}, signer)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	// Two replicas may sign the same size; both notes say the same, and
	// the first stored is kept.
	if err := insertCheckpoint(ctx, l.db, storedCheckpoint{size: t.size, root: t.root, note: signed, created: l.now().UTC()}); err != nil {
		return Checkpoint{}, err
	}
	return l.LatestCheckpoint(ctx)
}

// LatestCheckpoint returns the newest stored checkpoint, or an error
// wrapping errs.ErrNotFound if there is none yet.
func (l *Ledger) LatestCheckpoint(ctx context.Context) (Checkpoint, error) {
	c, err := latestCheckpoint(ctx, l.db)
	if err != nil {
		return Checkpoint{}, err
	}
	return l.parseStored(c)
}

// parseStored parses a stored checkpoint, checking its signature against
// every signing key the node has had.
func (l *Ledger) parseStored(c storedCheckpoint) (Checkpoint, error) {
	cp, err := parseCheckpointWith(c.note, l.origin, l.verifiers())
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: stored checkpoint at size %d: %w; run audit verify", c.size, err)
	}
	cp.Time = c.created
	return cp, nil
}

// verifiers returns the note verifiers of all the node's signing keys,
// current and retired, under the ledger's origin.
func (l *Ledger) verifiers() []note.Verifier {
	var vs []note.Verifier
	for _, k := range l.ring.SigningKeys() {
		if v, err := NewNoteVerifier(l.origin, k.PublicKey); err == nil {
			vs = append(vs, v)
		}
	}
	return vs
}

// parseCheckpointWith parses signed with whichever of verifiers matches
// its signature, so checkpoints signed before a key rotation still parse.
func parseCheckpointWith(signed []byte, origin string, verifiers []note.Verifier) (Checkpoint, error) {
	err := fmt.Errorf("%w: no signing key for %s", errs.ErrInvalid, origin)
	for i := len(verifiers) - 1; i >= 0; i-- {
		var c Checkpoint
		if c, err = ParseCheckpoint(signed, verifiers[i]); err == nil {
			return c, nil
		}
	}
	return Checkpoint{}, err
}

// Origin returns the ledger's origin, the first line of its checkpoints
// and the key name of its signatures.
func (l *Ledger) Origin() string { return l.origin }

// Verifier returns the note.Verifier of the ledger's current signing key,
// for ParseCheckpoint and witnesses.
func (l *Ledger) Verifier() (note.Verifier, error) {
	return NewNoteVerifier(l.origin, l.ring.PublicKey())
}

// VerifierKey returns the verifier key ("origin+hash+keydata") of the
// ledger's current signing key, to publish for witnesses and outside
// verifiers.
func (l *Ledger) VerifierKey() (string, error) {
	return VerifierKey(l.origin, l.ring.PublicKey())
}
