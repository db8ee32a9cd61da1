package exchange

import (
	"bytes"
	"errors"
	"testing"
	"time"

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
