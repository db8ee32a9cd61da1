package exchange

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
)

func TestBatchSealedByOneNodeOpensOnlyOnItsRecipient(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	conf, _ := tn.mission.Conf()
	s, err := tn.mission.session(conf, "hq")
	if err != nil {
		t.Fatal(err)
	}
	envs := []*Envelope{testEnvelope(1, []byte("a")), testEnvelope(2, bytes.Repeat([]byte("b"), 1000)), testEnvelope(3, nil)}
	sb, err := SealBatch(s, tn.mission.ring.Signer(), envs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hqConf, _ := tn.hq.Conf()
	ob, err := OpenBatch(sb.Wire, tn.hq.openSession(hqConf), hqConf)
	if err != nil {
		t.Fatalf("OpenBatch on the recipient: %v", err)
	}
	for i, e := range ob.Envelopes {
		if e.ID != envs[i].ID || !bytes.Equal(e.Payload, envs[i].Payload) || e.Service != envs[i].Service || !e.Time.Equal(envs[i].Time) {
			t.Errorf("envelope %d = %+v, want %+v", i, e.Header, envs[i].Header)
		}
		p, err := BatchProof(ob.Digests, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyBatchProof(sb.Digests[i], uint64(i), uint64(len(envs)), p, ob.Root); err != nil {
			t.Errorf("proof of envelope %d: %v", i, err)
		}
	}
	// The sender cannot open what it sent to another node.
	_, err = OpenBatch(sb.Wire, tn.mission.openSession(conf), conf)
	var re *RefusedError
	if !errors.As(err, &re) || re.Reason != ReasonWrongRecipient {
		t.Errorf("OpenBatch on the sender = %v, want a wrong-recipient refusal", err)
	}
	// Every flipped bit is caught.
	for _, at := range []int{len(s.Header) / 2, len(s.Header) + 40, len(sb.Wire) - 10, len(sb.Wire) - 70} {
		bad := bytes.Clone(sb.Wire)
		bad[at] ^= 0x10
		if _, err := OpenBatch(bad, tn.hq.openSession(hqConf), hqConf); !errors.Is(err, ErrRefused) {
			t.Errorf("flipped bit at %d: err = %v, want a refusal", at, err)
		}
	}
}

// fullEnvelope sets every header field to a value other than its zero.
func fullEnvelope(typ EnvelopeType, payload []byte) *Envelope {
	return &Envelope{Header: Header{
		ID: NewMessageID(time.Now()), Type: typ, Sender: consular, Recipient: procedures,
		Service: ServiceID{ClientID: procedures, Service: "lookup"}, // unversioned
		Time:    time.Date(2025, 4, 5, 6, 7, 8, 123456789, time.UTC), Level: authz.Secret, ContentType: "application/xml; charset=utf-8",
	}, Payload: payload}
}

func TestEnvelopeEncodingRoundTripsEveryField(t *testing.T) {
	for _, e := range []*Envelope{
		fullEnvelope(TypeMessage, []byte("<a>Xin chào</a>")),
		fullEnvelope(TypeRequest, nil),
		fullEnvelope(TypeResponse, bytes.Repeat([]byte{0}, 70000)),
		testEnvelope(1, nil),
	} {
		enc := e.Encode()
		got, err := DecodeEnvelope(enc)
		if err != nil {
			t.Fatalf("DecodeEnvelope: %v", err)
		}
		if !reflect.DeepEqual(got.Header, e.Header) || !bytes.Equal(got.Payload, e.Payload) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got.Header, e.Header)
		}
		if !bytes.Equal(got.Encode(), enc) {
			t.Error("re-encoding differs")
		}
		if !bytes.Equal(Digest(enc), Digest(got.Encode())) || len(Digest(enc)) != 32 {
			t.Error("digest is not a stable 32-byte hash")
		}
	}
}

func TestDecodeEnvelopeRefusesMalformedInput(t *testing.T) {
	good := fullEnvelope(TypeMessage, []byte("x"))
	mutate := func(change func(e *Envelope)) []byte {
		e := *good
		change(&e)
		return e.Encode()
	}
	enc := good.Encode()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "version"},
		{"unknown version", append([]byte{3}, enc[1:]...), "version 3"},
		{"truncated", enc[:len(enc)-1], "payload"},
		{"trailing byte", append(bytes.Clone(enc), 0), "after its end"},
		{"unknown type", mutate(func(e *Envelope) { e.Type = TypeReceipt + 1 }), "unknown type"},
		{"type zero", mutate(func(e *Envelope) { e.Type = 0 }), "unknown type"},
		{"short id", mutate(func(e *Envelope) { e.ID = "abc" }), "32 hex digits"},
		{"id of 32 non-hex characters", mutate(func(e *Envelope) { e.ID = strings.Repeat("z/", 16) }), "32 hex digits"},
		{"id in capitals", mutate(func(e *Envelope) { e.ID = strings.ToUpper(e.ID) + "" }), "32 hex digits"},
		{"unknown level", mutate(func(e *Envelope) { e.Level = 200 }), "unknown level"},
		{"bad sender", mutate(func(e *Envelope) { e.Sender.Member = "" }), "sender"},
		{"bad recipient", mutate(func(e *Envelope) { e.Recipient.Subsystem = "a b" }), "recipient"},
		{"bad service", mutate(func(e *Envelope) { e.Service.Service = "" }), "service"},
	} {
		if tc.name == "id in capitals" && strings.ToUpper(good.ID) == good.ID {
			continue // all digits: nothing to capitalise
		}
		if _, err := DecodeEnvelope(tc.data); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: DecodeEnvelope = %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}

// sealTestBatch seals envs from the mission to headquarters.
func sealTestBatch(tb testing.TB, tn *testNet, envs []*Envelope) (*Session, *SealedBatch) {
	tb.Helper()
	conf, _ := tn.mission.Conf()
	s, err := tn.mission.session(conf, "hq")
	if err != nil {
		tb.Fatal(err)
	}
	sb, err := SealBatch(s, tn.mission.ring.Signer(), envs, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return s, sb
}

// batchParts splits a batch's wire into its fields, for tests that build
// altered batches.
type batchParts struct {
	header  []byte
	id      []byte
	created int64
	items   [][]byte
	root    []byte
	keyID   string
	sig     []byte
}

func splitBatch(tb testing.TB, wire []byte) batchParts {
	tb.Helper()
	r := &reader{b: wire}
	r.byte("version")
	p := batchParts{header: r.bytes("header"), id: r.fixed("id", 16), created: r.int("created")}
	n := r.int("count")
	for i := int64(0); i < n; i++ {
		p.items = append(p.items, r.bytes("item"))
	}
	p.root, p.keyID, p.sig = r.bytes("root"), r.string("key id"), r.bytes("sig")
	if err := r.done("batch"); err != nil {
		tb.Fatal(err)
	}
	return p
}

func (p batchParts) wire(count int) []byte {
	w := appendBytes([]byte{batchVersion}, p.header)
	w = append(w, p.id...)
	w = appendInt(w, p.created)
	w = appendInt(w, int64(count))
	for _, it := range p.items {
		w = appendBytes(w, it)
	}
	w = appendBytes(w, p.root)
	w = appendString(w, p.keyID)
	return appendBytes(w, p.sig)
}

func TestOpenBatchRefusesAlteredBatches(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	envs := []*Envelope{testEnvelope(1, nil), testEnvelope(2, nil), testEnvelope(3, nil)}
	s, sb := sealTestBatch(t, tn, envs)
	_, other := sealTestBatch(t, tn, []*Envelope{testEnvelope(4, nil), testEnvelope(5, nil), testEnvelope(6, nil)})
	p, q := splitBatch(t, sb.Wire), splitBatch(t, other.Wire)
	if !bytes.Equal(p.header, q.header) {
		t.Fatal("both batches should share the session")
	}
	hqConf, _ := tn.hq.Conf()

	// A batch signed with a key that is not the sender's: a stranger's
	// key under the sender's key id, and the stranger's own key id.
	stranger := mustRing(t).Signer()
	resigned := func(keyID string) []byte {
		r := p
		var id [16]byte
		copy(id[:], r.id)
		sig, err := stranger.Sign(nil, batchSigned(s.ID, id, r.created, len(r.items), r.root), crypto.Hash(0))
		if err != nil {
			t.Fatal(err)
		}
		r.keyID, r.sig = keyID, sig
		return r.wire(len(r.items))
	}
	with := func(change func(r *batchParts)) batchParts {
		r := p
		r.items = slices.Clone(p.items)
		change(&r)
		return r
	}
	for _, tc := range []struct {
		name string
		wire []byte
		want Reason
	}{
		{"items reordered", with(func(r *batchParts) { r.items[0], r.items[1] = r.items[1], r.items[0] }).wire(3), ReasonBadCiphertext},
		{"item moved from another batch", with(func(r *batchParts) { r.items[2] = q.items[2] }).wire(3), ReasonBadCiphertext},
		{"item dropped, count kept", with(func(r *batchParts) { r.items = r.items[:2] }).wire(3), ReasonMalformed},
		{"item dropped, count fixed", with(func(r *batchParts) { r.items = r.items[:2] }).wire(2), ReasonBadSignature},
		{"count above the items", p.wire(4), ReasonMalformed},
		{"count below the items", p.wire(2), ReasonMalformed},
		{"count zero", p.wire(0), ReasonMalformed},
		{"count over the maximum", p.wire(MaxBatch + 1), ReasonMalformed},
		{"truncated", sb.Wire[:len(sb.Wire)-1], ReasonMalformed},
		{"truncated in the header", sb.Wire[:100], ReasonMalformed},
		{"empty", nil, ReasonMalformed},
		{"unknown version", append([]byte{7}, sb.Wire[1:]...), ReasonMalformed},
		{"created time changed", with(func(r *batchParts) { r.created++ }).wire(3), ReasonBadSignature},
		{"batch id of another batch", with(func(r *batchParts) { r.id = q.id }).wire(3), ReasonBadSignature},
		{"root of another batch", with(func(r *batchParts) { r.root = q.root }).wire(3), ReasonBadSignature},
		{"signature of another batch", with(func(r *batchParts) { r.sig = q.sig }).wire(3), ReasonBadSignature},
		{"signed by a stranger under the sender's key id", resigned(p.keyID), ReasonBadSignature},
		{"signed by a stranger under its own key id", resigned(stranger.KeyID()), ReasonBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ob, err := OpenBatch(tc.wire, tn.hq.openSession(hqConf), hqConf)
			var re *RefusedError
			if !errors.As(err, &re) || re.Reason != tc.want {
				t.Fatalf("OpenBatch = %v, %v; want a %s refusal", ob, err, tc.want)
			}
		})
	}
	// The unaltered batch still opens: the refusals were about the
	// alterations.
	if _, err := OpenBatch(sb.Wire, tn.hq.openSession(hqConf), hqConf); err != nil {
		t.Fatalf("the original batch: %v", err)
	}
}

func TestOpenBatchRefusesSessionsOfRevokedNodesEvenWhenCached(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	_, sb := sealTestBatch(t, tn, []*Envelope{testEnvelope(1, nil)})
	hqConf, _ := tn.hq.Conf()
	if _, err := OpenBatch(sb.Wire, tn.hq.openSession(hqConf), hqConf); err != nil {
		t.Fatal(err)
	}
	tn.publish(t, func(c *GlobalConf) {
		c.Revoked = []Revocation{{Node: "mission-h01", At: time.Now().UTC(), Reason: "test"}}
	})
	hqConf, _ = tn.hq.Conf()
	_, err := OpenBatch(sb.Wire, tn.hq.openSession(hqConf), hqConf)
	var re *RefusedError
	if !errors.As(err, &re) || re.Reason != ReasonRevoked {
		t.Fatalf("OpenBatch after revocation = %v, want a revoked-node refusal", err)
	}
	if !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("a revocation refusal should map to forbidden: %v", err)
	}
}

func TestBatchProofVerifiesEveryIndexOfEverySize(t *testing.T) {
	for size := 1; size <= 17; size++ {
		leaves := make([][]byte, size)
		for i := range leaves {
			leaves[i] = Digest([]byte{byte(size), byte(i)})
		}
		root, err := merkleRoot(leaves)
		if err != nil {
			t.Fatal(err)
		}
		for i := range leaves {
			p, err := BatchProof(leaves, uint64(i))
			if err != nil {
				t.Fatalf("size %d index %d: BatchProof: %v", size, i, err)
			}
			if err := VerifyBatchProof(leaves[i], uint64(i), uint64(size), p, root); err != nil {
				t.Errorf("size %d index %d: %v", size, i, err)
			}
			if err := VerifyBatchProof(leaves[(i+1)%size], uint64(i), uint64(size), p, root); size > 1 && err == nil {
				t.Errorf("size %d index %d: the proof verifies another leaf", size, i)
			}
			if size > 1 {
				if err := VerifyBatchProof(leaves[i], uint64((i+1)%size), uint64(size), p, root); err == nil {
					t.Errorf("size %d index %d: the proof verifies at another index", size, i)
				}
			}
		}
		if _, err := BatchProof(leaves, uint64(size)); err == nil {
			t.Errorf("size %d: BatchProof past the end succeeded", size)
		}
	}
}

func TestSyncFramesRoundTripAndRefuseTampering(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	conf, _ := tn.mission.Conf()
	s, err := tn.mission.session(conf, "hq")
	if err != nil {
		t.Fatal(err)
	}
	hqConf, _ := tn.hq.Conf()
	req := fullEnvelope(TypeRequest, []byte(`{"q":"Nguyễn"}`))
	wire, digest := SealRequest(s, req)
	hs, got, gotDigest, err := OpenRequest(wire, tn.hq.openSession(hqConf))
	if err != nil {
		t.Fatalf("OpenRequest: %v", err)
	}
	if !reflect.DeepEqual(got.Header, req.Header) || !bytes.Equal(got.Payload, req.Payload) || !bytes.Equal(gotDigest, digest) || hs.ID != s.ID {
		t.Fatalf("OpenRequest = %+v", got.Header)
	}
	resp := fullEnvelope(TypeResponse, []byte(`{"found":true}`))
	resp.ID = req.ID
	rwire, rdigest := SealResponse(hs, resp)
	back, backDigest, err := OpenResponse(s, rwire)
	if err != nil || !reflect.DeepEqual(back.Header, resp.Header) || !bytes.Equal(back.Payload, resp.Payload) || !bytes.Equal(backDigest, rdigest) {
		t.Fatalf("OpenResponse = %+v, %v", back, err)
	}
	// A response frame is not a request frame, and no frame opens after
	// one bit changed.
	fr := &reader{b: wire}
	fr.byte("version")
	fr.bytes("header")
	if _, _, err := OpenResponse(s, fr.bytes("item")); fr.err != nil || !errors.Is(err, ErrRefused) {
		t.Errorf("a request item opened as a response: %v", err)
	}
	for _, at := range []int{0, 5, len(s.Header) + 10, len(wire) - 1} {
		bad := bytes.Clone(wire)
		bad[at] ^= 0x20
		if _, _, _, err := OpenRequest(bad, tn.hq.openSession(hqConf)); !errors.Is(err, ErrRefused) {
			t.Errorf("request with bit %d flipped: %v, want a refusal", at, err)
		}
	}
	for _, at := range []int{0, 12, len(rwire) / 2, len(rwire) - 1} {
		bad := bytes.Clone(rwire)
		bad[at] ^= 0x20
		if _, _, err := OpenResponse(s, bad); !errors.Is(err, ErrRefused) {
			t.Errorf("response with bit %d flipped: %v, want a refusal", at, err)
		}
	}
	if _, _, err := OpenResponse(s, rwire[:10]); !errors.Is(err, ErrRefused) {
		t.Errorf("short response: %v", err)
	}
	if _, _, _, err := OpenRequest(append(bytes.Clone(wire), 1), tn.hq.openSession(hqConf)); !errors.Is(err, ErrRefused) {
		t.Errorf("request with a trailing byte: %v", err)
	}
}

// FuzzDecodeEnvelope checks that DecodeEnvelope never panics and that it
// accepts only canonical encodings: what it accepts encodes back to the
// same bytes, so a digest names one envelope.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, e := range []*Envelope{fullEnvelope(TypeMessage, []byte("hello")), fullEnvelope(TypeRequest, nil), testEnvelope(1, []byte("x"))} {
		f.Add(e.Encode())
	}
	f.Add([]byte{envelopeVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEnvelope(data)
		if err != nil {
			return
		}
		enc := e.Encode()
		if !bytes.Equal(enc, data) {
			t.Fatalf("DecodeEnvelope(%x) accepted a non-canonical encoding; it re-encodes as %x", data, enc)
		}
		back, err := DecodeEnvelope(enc)
		if err != nil || !reflect.DeepEqual(back.Header, e.Header) || !bytes.Equal(back.Payload, e.Payload) {
			t.Fatalf("re-decoding gives %+v, %v; want %+v", back, err, e.Header)
		}
	})
}

// FuzzOpenBatch feeds OpenBatch two kinds of input. Raw: mutations of
// real batches' wire bytes, which must never panic and must only ever be
// refused (a mutated batch almost never gets past the signature). Signed:
// the fuzzer's bytes are the batch's plaintext items (length-prefixed, as
// appendBytes writes them), which the test encrypts under a live session
// and signs with the sender's key as a sender would, so OpenBatch's code
// after the signature (session lifetime, decryption, envelope decoding,
// the root) meets hostile content from a node that holds the keys. Either
// way every error must be a refusal, and a batch it accepts must be
// consistent: the envelopes re-encode to the digests under the signed
// root. A signed batch of canonical envelopes made while its session
// lived must open.
func FuzzOpenBatch(f *testing.F) {
	// Keys and a configuration, no database: each fuzzing worker sets
	// this up again, and a node's database takes long to make under the
	// fuzzer's instrumentation.
	fx := newSessionFixture(f)
	s := fx.newSession(f, "mission-a", "hq")
	signer := fx.rings["mission-a"].Signer()
	sealAt := func(envs ...*Envelope) []byte {
		sb, err := SealBatch(s, signer, envs, s.Created.Add(time.Minute))
		if err != nil {
			f.Fatal(err)
		}
		return sb.Wire
	}
	three := []*Envelope{testEnvelope(1, nil), testEnvelope(2, []byte("bb")), fullEnvelope(TypeMessage, nil)}
	f.Add(sealAt(testEnvelope(1, []byte("a"))), false, int64(0))
	f.Add(sealAt(three...), false, int64(0))
	f.Add([]byte{batchVersion}, false, int64(0))
	var items []byte
	for _, e := range three {
		items = appendBytes(items, e.Encode())
	}
	f.Add(items, true, int64(time.Minute))
	f.Add(appendBytes(nil, testEnvelope(1, nil).Encode()), true, int64(-time.Hour))
	f.Add([]byte{envelopeVersion}, true, int64(0))
	conf := fx.conf
	// The recipient opens each session once, as a node's cache does.
	var opened *Session
	sessions := func(header []byte) (*Session, error) {
		if opened != nil && opened.Same(header) {
			return opened, nil
		}
		o, err := OpenSession(header, "hq", fx.kems["hq"], conf, fx.now)
		if err == nil && o.Same(s.Header) {
			opened = o
		}
		return o, err
	}
	f.Fuzz(func(t *testing.T, data []byte, sign bool, age int64) {
		wire, canonical := data, false
		// The signed creation time is nanoseconds since the epoch;
		// taking it as they are keeps the fuzzer's extremes exact.
		created := time.Unix(0, s.Created.UnixNano()+age)
		if sign {
			var plain [][]byte
			if wire, plain = signBatch(t, s, signer, data, created.UnixNano()); wire == nil {
				return
			}
			canonical = s.Live(created)
			for _, pt := range plain {
				e, err := DecodeEnvelope(pt)
				canonical = canonical && err == nil && bytes.Equal(e.Encode(), pt)
			}
		}
		ob, err := OpenBatch(wire, sessions, conf)
		if err != nil {
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("OpenBatch error %v is not a refusal", err)
			}
			if canonical {
				t.Fatalf("refused a batch of canonical envelopes the sender signed while its session lived: %v", err)
			}
			return
		}
		if len(ob.Envelopes) == 0 || len(ob.Envelopes) != len(ob.Digests) {
			t.Fatalf("accepted a batch of %d envelopes and %d digests", len(ob.Envelopes), len(ob.Digests))
		}
		for i, e := range ob.Envelopes {
			if !bytes.Equal(Digest(e.Encode()), ob.Digests[i]) {
				t.Fatalf("envelope %d does not re-encode to its digest", i)
			}
		}
		if root, err := merkleRoot(ob.Digests); err != nil || !bytes.Equal(root, ob.Root) {
			t.Fatal("the digests do not hash to the root")
		}
		if sign && !ob.Created.Equal(created) {
			t.Fatalf("accepted a batch made at %s as made at %s", created, ob.Created)
		}
	})
}

// signBatch seals the plaintext items in data (appendBytes-prefixed; a
// tail that does not parse is one more item) as a batch of session s made
// at created (Unix nanoseconds), signed by signer, exactly as SealBatch seals encoded
// envelopes, and returns its wire and the items. It returns nil when data
// holds no item or more than a batch may.
func signBatch(tb testing.TB, s *Session, signer *keys.Signer, data []byte, created int64) ([]byte, [][]byte) {
	tb.Helper()
	var plain [][]byte
	for r := (&reader{b: data}); len(r.b) > 0; {
		rest := r.b
		if it := r.bytes("item"); r.err == nil {
			plain = append(plain, it)
		} else {
			plain = append(plain, rest)
			break
		}
	}
	if len(plain) == 0 || len(plain) > MaxBatch {
		return nil, nil
	}
	p := batchParts{header: s.Header, id: make([]byte, 16), created: created, keyID: signer.KeyID()}
	rand.Read(p.id)
	var id [16]byte
	copy(id[:], p.id)
	digests := make([][]byte, len(plain))
	for i, pt := range plain {
		digests[i] = Digest(pt)
		p.items = append(p.items, seal(s.forward, pt, itemAD(s.ID, id, i)))
	}
	root, err := merkleRoot(digests)
	if err != nil {
		tb.Fatal(err)
	}
	p.root = root
	if p.sig, err = signer.Sign(nil, batchSigned(s.ID, id, p.created, len(plain), root), crypto.Hash(0)); err != nil {
		tb.Fatal(err)
	}
	return p.wire(len(plain)), plain
}

// A mission cut off for longer than a session lives seals its queue
// under sessions that expire before headquarters sees them: the batches
// are judged by when they were made, not by when they arrive.
func TestBatchIsJudgedByWhenItWasMadeNotWhenItArrives(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	conf, _ := tn.mission.Conf()
	hqConf, _ := tn.hq.Conf()
	made := time.Now().Add(-3 * time.Hour)
	s, err := NewSession("mission-h01", tn.mission.ring.Signer(), mustNode(t, conf, "hq"), made, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	during, err := SealBatch(s, tn.mission.ring.Signer(), []*Envelope{testEnvelope(1, nil)}, made.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenBatch(during.Wire, tn.hq.openSession(hqConf), hqConf); err != nil {
		t.Errorf("a batch made while its session lived, arriving after it expired: %v", err)
	}
	after, err := SealBatch(s, tn.mission.ring.Signer(), []*Envelope{testEnvelope(2, nil)}, made.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var re *RefusedError
	if _, err := OpenBatch(after.Wire, tn.hq.openSession(hqConf), hqConf); !errors.As(err, &re) || re.Reason != ReasonStale {
		t.Errorf("a batch made after its session expired = %v, want a stale refusal", err)
	}
}

func mustNode(t *testing.T, c *GlobalConf, id string) *NodeInfo {
	t.Helper()
	n, ok := c.Node(id)
	if !ok {
		t.Fatalf("node %s not in the configuration", id)
	}
	return n
}
