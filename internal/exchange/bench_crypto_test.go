package exchange

import (
	"bytes"
	"testing"
	"time"

	"chancery/internal/store"
)

// The public-key and per-message costs of the exchange (DESIGN.md §8).
// Run: go test -run x -bench 'Envelope|Session' -count 5 ./internal/exchange/

// benchSession is the mission's sending session to headquarters, and the
// headquarters side that opens it (with its session cache).
func benchSession(b *testing.B) (*testNet, *Session, Sessions, *GlobalConf) {
	b.Helper()
	tn := newTestNet(b, store.SQLite)
	conf, _ := tn.mission.Conf()
	s, err := tn.mission.session(conf, "hq")
	if err != nil {
		b.Fatal(err)
	}
	hqConf, _ := tn.hq.Conf()
	return tn, s, tn.hq.openSession(hqConf), hqConf
}

// BenchmarkEnvelopeSign seals a batch of one 1 KiB envelope: one Ed25519
// signature, which dominates.
func BenchmarkEnvelopeSign(b *testing.B) {
	tn, s, _, _ := benchSession(b)
	envs := []*Envelope{testEnvelope(1, bytes.Repeat([]byte("a"), 1024))}
	signer := tn.mission.ring.Signer()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SealBatch(s, signer, envs, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnvelopeVerify opens that batch with its session cached: one
// Ed25519 verification.
func BenchmarkEnvelopeVerify(b *testing.B) {
	tn, s, sessions, conf := benchSession(b)
	sb, err := SealBatch(s, tn.mission.ring.Signer(), []*Envelope{testEnvelope(1, bytes.Repeat([]byte("a"), 1024))}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := OpenBatch(sb.Wire, sessions, conf); err != nil { // opens and caches the session
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := OpenBatch(sb.Wire, sessions, conf); err != nil {
			b.Fatal(err)
		}
	}
}

// batchOf256 is a full batch's envelopes of 1 KiB each.
func batchOf256() []*Envelope {
	envs := make([]*Envelope, 256)
	for i := range envs {
		envs[i] = testEnvelope(i, bytes.Repeat([]byte("a"), 1024))
	}
	return envs
}

// BenchmarkEnvelopeSeal is the per-message work SealBatch does for each
// envelope of a batch of 256: encode, digest, AES-GCM seal.
func BenchmarkEnvelopeSeal(b *testing.B) {
	_, s, _, _ := benchSession(b)
	envs := batchOf256()
	var batch [16]byte
	b.ReportAllocs()
	for b.Loop() {
		for i, e := range envs {
			enc := e.Encode()
			_ = Digest(enc)
			_ = seal(s.forward, enc, itemAD(s.ID, batch, i))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(envs)), "ns/envelope")
}

// BenchmarkEnvelopeOpen is the per-message work OpenBatch does for each
// envelope of a batch of 256: AES-GCM open, decode, digest.
func BenchmarkEnvelopeOpen(b *testing.B) {
	tn, s, sessions, conf := benchSession(b)
	sb, err := SealBatch(s, tn.mission.ring.Signer(), batchOf256(), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	ob, err := OpenBatch(sb.Wire, sessions, conf)
	if err != nil {
		b.Fatal(err)
	}
	items := splitBatch(b, sb.Wire).items
	b.ReportAllocs()
	for b.Loop() {
		for i, it := range items {
			pt, err := open(ob.Session.forward, it, itemAD(s.ID, sb.ID, i))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := DecodeEnvelope(pt); err != nil {
				b.Fatal(err)
			}
			_ = Digest(pt)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(items)), "ns/envelope")
}

// BenchmarkSessionNew starts a session: a hybrid encapsulation and an
// Ed25519 signature.
func BenchmarkSessionNew(b *testing.B) {
	f := newSessionFixture(b)
	peer, _ := f.conf.Node("hq")
	signer := f.rings["mission-a"].Signer()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewSession("mission-a", signer, peer, f.now, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionOpen opens a session header: an Ed25519 verification and
// a hybrid decapsulation.
func BenchmarkSessionOpen(b *testing.B) {
	f := newSessionFixture(b)
	h := f.newSession(b, "mission-a", "hq").Header
	b.ReportAllocs()
	for b.Loop() {
		if _, err := OpenSession(h, "hq", f.kems["hq"], f.conf, f.now); err != nil {
			b.Fatal(err)
		}
	}
}
