package exchange

import (
	"crypto"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/keys"
)

// EnvelopeType says what an envelope is.
type EnvelopeType byte

const (
	// TypeMessage is an asynchronous message.
	TypeMessage EnvelopeType = 1
	// TypeRequest is a synchronous request to a REST service.
	TypeRequest EnvelopeType = 2
	// TypeResponse is the answer to a request; it has the request's id.
	TypeResponse EnvelopeType = 3
	// TypeReceipt is a recipient node's signed receipt for a message
	// that asked for one (a circular's copy): delivered or dead
	// (receipt.go). It travels back as asynchronous messages do.
	TypeReceipt EnvelopeType = 4
)

// Header is what every envelope says about itself. The whole envelope,
// header included, travels encrypted: the relays between nodes learn only
// which node talks to which.
type Header struct {
	// ID is the message id, 32 hex digits of randomness; receivers drop
	// a second envelope with an id they have seen.
	ID          string
	Type        EnvelopeType
	Sender      ClientID
	Recipient   ClientID
	Service     ServiceID
	Time        time.Time
	Level       authz.Level
	ContentType string
	// Receipt asks the recipient's node for a receipt (receipt.go): set
	// on the copies of a circular, so that the sender learns who has
	// them.
	Receipt bool
}

// Envelope is a header and its payload.
type Envelope struct {
	Header
	Payload []byte
}

// NewMessageID returns a fresh message id made at now: 32 hex digits, the
// first 12 the time in milliseconds and the other 20 random. Ids logged
// one after the other then sit side by side in the log's unique index on
// both nodes: with wholly random ids every row of a commit dirtied an
// index page of its own, and index pages were most of what each commit
// wrote. 80 random bits per millisecond keep ids unguessable and, for all
// practical purposes, unique.
func NewMessageID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(b[6:]); err != nil {
		panic("exchange: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// envelopeVersion is the first byte of an encoded envelope. Version 2
// follows it with a byte of flags (flagReceipt); an envelope without
// flags is encoded as version 1, so that its digest, and every digest
// logged before flags existed, stays what it was.
const (
	envelopeVersion  = 1
	envelopeVersion2 = 2
	flagReceipt      = 1
)

// Encode returns the envelope's canonical encoding, which its digest
// covers.
func (e *Envelope) Encode() []byte {
	b := make([]byte, 0, 256+len(e.Payload))
	if e.Receipt {
		b = append(b, envelopeVersion2, flagReceipt)
	} else {
		b = append(b, envelopeVersion)
	}
	b = append(b, byte(e.Type))
	b = appendString(b, e.ID)
	b = appendString(b, e.Sender.String())
	b = appendString(b, e.Recipient.String())
	b = appendString(b, e.Service.String())
	b = appendInt(b, e.Time.UnixNano())
	b = append(b, byte(e.Level))
	b = appendString(b, e.ContentType)
	return appendBytes(b, e.Payload)
}

// DecodeEnvelope parses an encoded envelope. The payload aliases data.
func DecodeEnvelope(data []byte) (*Envelope, error) {
	r := &reader{b: data}
	e := &Envelope{}
	switch v := r.byte("version"); {
	case r.err != nil, v == envelopeVersion:
	case v == envelopeVersion2:
		flags := r.byte("flags")
		if r.err == nil && (flags&^flagReceipt != 0 || flags == 0) {
			// No flags is version 1's encoding: one envelope, one
			// encoding, one digest.
			return nil, fmt.Errorf("exchange: malformed envelope: flags %#x are unknown or none (upgrade this node)", flags)
		}
		e.Receipt = flags&flagReceipt != 0
	default:
		return nil, fmt.Errorf("exchange: envelope version %d is not supported (upgrade this node)", v)
	}
	e.Type = EnvelopeType(r.byte("type"))
	e.ID = r.string("id")
	sender, recipient, service := r.string("sender"), r.string("recipient"), r.string("service")
	e.Time = time.Unix(0, r.int("time")).UTC()
	e.Level = authz.Level(r.byte("level"))
	e.ContentType = r.string("content type")
	e.Payload = r.bytes("payload")
	if err := r.done("envelope"); err != nil {
		return nil, err
	}
	if e.Type < TypeMessage || e.Type > TypeReceipt {
		return nil, fmt.Errorf("exchange: malformed envelope: unknown type %d", e.Type)
	}
	if len(e.ID) != 32 || strings.Trim(e.ID, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("exchange: malformed envelope: id %q is not 32 hex digits", e.ID)
	}
	if !e.Level.Valid() {
		return nil, fmt.Errorf("exchange: malformed envelope: unknown level %d", e.Level)
	}
	var err error
	if e.Sender, err = ParseClientID(sender); err != nil {
		return nil, fmt.Errorf("exchange: malformed envelope: sender: %w", err)
	}
	if e.Recipient, err = ParseClientID(recipient); err != nil {
		return nil, fmt.Errorf("exchange: malformed envelope: recipient: %w", err)
	}
	if e.Service, err = ParseServiceID(service); err != nil {
		return nil, fmt.Errorf("exchange: malformed envelope: service: %w", err)
	}
	return e, nil
}

// Digest returns the RFC 6962 leaf hash of the encoded envelope: the
// value that batch roots, the message log and the audit ledger commit to.
func Digest(encoded []byte) []byte { return rfc6962.DefaultHasher.HashLeaf(encoded) }

// Reasons a node refuses an envelope, a batch or a session.
type Reason string

const (
	ReasonMalformed      Reason = "malformed"
	ReasonBadSignature   Reason = "bad-signature"
	ReasonBadCiphertext  Reason = "bad-ciphertext"
	ReasonStale          Reason = "stale"
	ReasonReplay         Reason = "replay"
	ReasonRevoked        Reason = "revoked-node"
	ReasonWrongRecipient Reason = "wrong-recipient"
	ReasonUnknownSender  Reason = "unknown-sender"
	ReasonSpoofedSender  Reason = "spoofed-sender"
	ReasonUnknownService Reason = "unknown-service"
	ReasonNoRight        Reason = "no-access-right"
	ReasonClearance      Reason = "above-clearance"
	ReasonTooLarge       Reason = "too-large"
)

// ErrRefused is wrapped by every RefusedError.
var ErrRefused = errors.New("exchange: refused")

// RefusedError says why a node refused something from a peer or a
// client.
type RefusedError struct {
	Reason Reason
	Detail string
}

func refuse(r Reason, detail string) *RefusedError { return &RefusedError{Reason: r, Detail: detail} }

// Error returns "exchange: refused (reason): detail".
func (e *RefusedError) Error() string {
	return "exchange: refused (" + string(e.Reason) + "): " + e.Detail
}

// Unwrap returns ErrRefused and the error kind that the reason maps to,
// so that a refusal reaches a client with the right HTTP status.
func (e *RefusedError) Unwrap() []error {
	kind := errs.ErrInvalid
	switch e.Reason {
	case ReasonNoRight, ReasonClearance, ReasonRevoked, ReasonSpoofedSender:
		kind = errs.ErrForbidden
	case ReasonUnknownService:
		kind = errs.ErrNotFound
	case ReasonTooLarge:
		kind = errs.ErrTooLarge
	case ReasonReplay:
		kind = errs.ErrConflict
	}
	return []error{ErrRefused, kind}
}

// Batches: the sender signs a batch of envelopes once, over the Merkle
// root of their digests; each envelope keeps an inclusion proof into the
// signed root, which gives non-repudiation per message at the price of
// one signature per batch.

// batchVersion is the first byte of an encoded batch.
const batchVersion = 1

// batchContext separates batch signatures from the node key's others.
const batchContext = "chancery-exchange-batch-v1\n"

// MaxBatch bounds the envelopes in one batch.
const MaxBatch = 1024

// SealedBatch is a batch as the sender made it.
type SealedBatch struct {
	ID      [16]byte
	Wire    []byte   // what goes on the transport
	Digests [][]byte // each envelope's digest, in order
	Root    []byte
	KeyID   string
	Sig     []byte
}

// SealBatch encrypts envs for the session's recipient and signs the batch.
func SealBatch(s *Session, signer *keys.Signer, envs []*Envelope, now time.Time) (*SealedBatch, error) {
	if len(envs) == 0 || len(envs) > MaxBatch {
		return nil, fmt.Errorf("exchange: a batch holds 1 to %d envelopes, not %d", MaxBatch, len(envs))
	}
	sb := &SealedBatch{Digests: make([][]byte, len(envs)), KeyID: signer.KeyID()}
	if _, err := rand.Read(sb.ID[:]); err != nil {
		return nil, err
	}
	created := now.UnixNano()
	items := make([][]byte, len(envs))
	size := 0
	for i, e := range envs {
		enc := e.Encode()
		sb.Digests[i] = Digest(enc)
		items[i] = seal(s.forward, enc, itemAD(s.ID, sb.ID, i))
		size += len(items[i]) + 8
	}
	root, err := merkleRoot(sb.Digests)
	if err != nil {
		return nil, err
	}
	sb.Root = root
	signed := batchSigned(s.ID, sb.ID, created, len(envs), root)
	if sb.Sig, err = signer.Sign(nil, signed, crypto.Hash(0)); err != nil {
		return nil, fmt.Errorf("exchange: sign batch: %w", err)
	}
	w := make([]byte, 0, len(s.Header)+size+200)
	w = append(w, batchVersion)
	w = appendBytes(w, s.Header)
	w = append(w, sb.ID[:]...)
	w = appendInt(w, created)
	w = appendInt(w, int64(len(items)))
	for _, it := range items {
		w = appendBytes(w, it)
	}
	w = appendBytes(w, root)
	w = appendString(w, sb.KeyID)
	sb.Wire = appendBytes(w, sb.Sig)
	return sb, nil
}

// itemAD binds an item to its session, batch and position, so that items
// cannot be moved between batches or reordered unnoticed.
func itemAD(session, batch [16]byte, i int) []byte {
	ad := make([]byte, 0, 40)
	ad = append(ad, session[:]...)
	ad = append(ad, batch[:]...)
	return appendInt(ad, int64(i))
}

func batchSigned(session, batch [16]byte, created int64, n int, root []byte) []byte {
	b := append([]byte(batchContext), session[:]...)
	b = append(b, batch[:]...)
	b = appendInt(b, created)
	b = appendInt(b, int64(n))
	return append(b, root...)
}

// OpenedBatch is a batch that verified: signature, root and every
// envelope's encryption. The policy checks on each envelope are the
// receiving node's to make.
type OpenedBatch struct {
	Session   *Session
	ID        [16]byte
	Created   time.Time
	Envelopes []*Envelope
	Digests   [][]byte
	Root      []byte
	KeyID     string
	Sig       []byte
}

// Sessions finds or opens the session a batch names; nodes cache opened
// sessions behind it.
type Sessions func(header []byte) (*Session, error)

// OpenBatch decodes and verifies a batch. Every error is a *RefusedError
// saying what failed: the whole batch is refused, since a batch whose
// signature or root does not verify proves nothing about any envelope in
// it.
func OpenBatch(wire []byte, sessions Sessions, conf *GlobalConf) (*OpenedBatch, error) {
	r := &reader{b: wire}
	if v := r.byte("version"); r.err == nil && v != batchVersion {
		return nil, refuse(ReasonMalformed, fmt.Sprintf("batch version %d is not supported", v))
	}
	header := r.bytes("session header")
	ob := &OpenedBatch{}
	copy(ob.ID[:], r.fixed("batch id", 16))
	created := r.int("created")
	n := r.int("count")
	if r.err == nil && (n < 1 || n > MaxBatch) {
		return nil, refuse(ReasonMalformed, fmt.Sprintf("batch claims %d envelopes", n))
	}
	items := make([][]byte, 0, max(0, min(n, MaxBatch)))
	for i := int64(0); i < n && r.err == nil; i++ {
		items = append(items, r.bytes("item"))
	}
	ob.Root = r.bytes("root")
	ob.KeyID = r.string("key id")
	ob.Sig = r.bytes("signature")
	if err := r.done("batch"); err != nil {
		return nil, refuse(ReasonMalformed, err.Error())
	}
	s, err := sessions(header)
	if err != nil {
		return nil, err
	}
	ob.Session, ob.Created = s, time.Unix(0, created).UTC()
	sender, _ := conf.Node(s.Sender) // OpenSession found it
	if sender == nil || ob.KeyID != sender.SigningKeyID ||
		!ed25519.Verify(sender.SigningKey, batchSigned(s.ID, ob.ID, created, len(items), ob.Root), ob.Sig) {
		return nil, refuse(ReasonBadSignature, fmt.Sprintf("batch %x does not carry a valid signature of node %s", ob.ID, s.Sender))
	}
	if !s.Live(ob.Created) {
		return nil, refuse(ReasonStale, fmt.Sprintf("batch %x was made at %s, outside its session's lifetime (%s to %s)",
			ob.ID, ob.Created.Format(time.RFC3339), s.Created.Format(time.RFC3339), s.Expires.Format(time.RFC3339)))
	}
	ob.Envelopes = make([]*Envelope, len(items))
	ob.Digests = make([][]byte, len(items))
	for i, it := range items {
		pt, err := open(s.forward, it, itemAD(s.ID, ob.ID, i))
		if err != nil {
			return nil, fmt.Errorf("batch %x item %d: %w", ob.ID, i, err)
		}
		if ob.Envelopes[i], err = DecodeEnvelope(pt); err != nil {
			return nil, refuse(ReasonMalformed, fmt.Sprintf("batch %x item %d: %v", ob.ID, i, err))
		}
		ob.Digests[i] = Digest(pt)
	}
	root, err := merkleRoot(ob.Digests)
	if err != nil || string(root) != string(ob.Root) {
		return nil, refuse(ReasonBadSignature, fmt.Sprintf("batch %x: the envelopes do not hash to the signed root", ob.ID))
	}
	return ob, nil
}

var rangeFactory = &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// merkleRoot returns the RFC 6962 root over leaf hashes.
func merkleRoot(leaves [][]byte) ([]byte, error) {
	r := rangeFactory.NewEmptyRange(0)
	for _, l := range leaves {
		if err := r.Append(l, nil); err != nil {
			return nil, err
		}
	}
	return r.GetRootHash(nil)
}

// BatchProof returns the inclusion proof of leaf index among leaves.
func BatchProof(leaves [][]byte, index uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, uint64(len(leaves)))
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		begin, end := id.Coverage()
		if hashes[i], err = merkleRoot(leaves[begin:min(end, uint64(len(leaves)))]); err != nil {
			return nil, err
		}
	}
	return nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
}

// VerifyBatchProof checks that digest is leaf index of a batch of size
// leaves with the given root.
func VerifyBatchProof(digest []byte, index, size uint64, p [][]byte, root []byte) error {
	return proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, digest, p, root)
}

// Frames carry synchronous requests and responses. They are encrypted
// under the session like batches, but not signed one by one: the session
// header is signed, only the two nodes hold the session keys, and both
// log every frame's digest into batches they sign (see the message log),
// which keeps public-key work off the request path.

// frameVersion is the first byte of an encoded request frame. Version 2
// added the frame's sequence number.
const frameVersion = 2

// SealRequest encrypts a request envelope for the session's recipient.
// Each frame carries the next of the session's sequence numbers,
// authenticated with the envelope, for the recipient's anti-replay
// window.
func SealRequest(s *Session, e *Envelope) (wire, digest []byte) {
	enc := e.Encode()
	seq := s.sent.Add(1)
	w := append(make([]byte, 0, len(s.Header)+len(enc)+96), frameVersion)
	w = appendBytes(w, s.Header)
	w = binary.AppendUvarint(w, seq)
	return appendBytes(w, seal(s.forward, enc, requestAD(s.ID, seq))), Digest(enc)
}

// OpenRequest decrypts a request frame, finding its session through
// sessions, and passes its sequence number through the session's
// anti-replay window: a frame seen before, or too far behind the newest,
// is refused with ReasonReplay (with the session and envelope, which did
// open).
func OpenRequest(wire []byte, sessions Sessions) (*Session, *Envelope, []byte, error) {
	s, e, digest, _, err := openRequest(wire, sessions)
	return s, e, digest, err
}

// openRequest is OpenRequest that also returns the frame's sequence
// number, for the replicas' shared anti-replay claim (sharedReplay).
func openRequest(wire []byte, sessions Sessions) (*Session, *Envelope, []byte, uint64, error) {
	r := &reader{b: wire}
	if v := r.byte("version"); r.err == nil && v != frameVersion {
		return nil, nil, nil, 0, refuse(ReasonMalformed, fmt.Sprintf("request frame version %d is not supported", v))
	}
	header, seq, item := r.bytes("session header"), r.uint("sequence number"), r.bytes("item")
	if err := r.done("request frame"); err != nil {
		return nil, nil, nil, 0, refuse(ReasonMalformed, err.Error())
	}
	s, err := sessions(header)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	// A request is answered now, so its session must be live now,
	// unlike a batch that waited in a queue.
	now := time.Now()
	if !s.Live(now) {
		return nil, nil, nil, 0, refuse(ReasonStale, fmt.Sprintf("session expired at %s", s.Expires.Format(time.RFC3339)))
	}
	if s.recv == nil {
		return nil, nil, nil, 0, refuse(ReasonWrongRecipient, "the session was made by this node, not sent to it")
	}
	e, digest, err := openFrame(s.forward, item, requestAD(s.ID, seq))
	if err != nil {
		return s, nil, nil, 0, err
	}
	// Only a frame that authenticated moves the window.
	return s, e, digest, seq, s.recv.accept(seq, now)
}

// requestAD is the additional data of a request frame: the session, the
// type and the sequence number.
func requestAD(session [16]byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(frameAD(session, TypeRequest), seq)
}

// SealResponse encrypts a response envelope back to the session's sender.
func SealResponse(s *Session, e *Envelope) (wire, digest []byte) {
	enc := e.Encode()
	return seal(s.reply, enc, frameAD(s.ID, TypeResponse)), Digest(enc)
}

// OpenResponse decrypts a response frame on the session's sender.
func OpenResponse(s *Session, wire []byte) (*Envelope, []byte, error) {
	return openFrame(s.reply, wire, frameAD(s.ID, TypeResponse))
}

func openFrame(aead cipher.AEAD, item, ad []byte) (*Envelope, []byte, error) {
	pt, err := open(aead, item, ad)
	if err != nil {
		return nil, nil, err
	}
	e, err := DecodeEnvelope(pt)
	if err != nil {
		return nil, nil, refuse(ReasonMalformed, err.Error())
	}
	return e, Digest(pt), nil
}

func frameAD(session [16]byte, t EnvelopeType) []byte {
	return append(append([]byte("frame"), session[:]...), byte(t))
}
