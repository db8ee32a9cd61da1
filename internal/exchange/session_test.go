package exchange

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"chancery/internal/keys"
)

// sessionFixture is three nodes' keys and a configuration listing them.
type sessionFixture struct {
	conf  *GlobalConf
	rings map[string]*keys.Ring
	kems  map[string]*KEMPrivateKey
	now   time.Time
}

func newSessionFixture(tb testing.TB) *sessionFixture {
	tb.Helper()
	f := &sessionFixture{rings: map[string]*keys.Ring{}, kems: map[string]*KEMPrivateKey{}, now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	c := &GlobalConf{Instance: DefaultInstance, Serial: 1, HQ: "hq", Issued: f.now, Expires: f.now.Add(24 * time.Hour)}
	for _, id := range []string{"hq", "mission-a", "mission-b", "mission-gone"} {
		f.rings[id], f.kems[id] = mustRing(tb), mustKEM(tb)
		role := RoleMission
		if id == "hq" {
			role = RoleHQ
		}
		pub := f.rings[id].PublicKey()
		c.Nodes = append(c.Nodes, NodeInfo{ID: id, Role: role, SigningKey: pub, SigningKeyID: keys.KeyID(pub), EncryptionKey: f.kems[id].PublicKey()})
	}
	c.Revoked = []Revocation{{Node: "mission-gone", At: f.now.Add(-time.Hour), Reason: "decommissioned"}}
	if err := c.Build(); err != nil {
		tb.Fatal(err)
	}
	f.conf = c
	return f
}

func mustKEM(tb testing.TB) *KEMPrivateKey {
	tb.Helper()
	k, err := GenerateKEMKey()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// newSession starts a session from node from to node to.
func (f *sessionFixture) newSession(tb testing.TB, from, to string) *Session {
	tb.Helper()
	peer, _ := f.conf.Node(to)
	s, err := NewSession(from, f.rings[from].Signer(), peer, f.now, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestOpenSessionRecoversTheSendersKeys(t *testing.T) {
	f := newSessionFixture(t)
	s := f.newSession(t, "mission-a", "hq")
	got, err := OpenSession(s.Header, "hq", f.kems["hq"], f.conf, f.now.Add(time.Minute))
	if err != nil {
		t.Fatalf("OpenSession: %v", err)
	}
	if got.ID != s.ID || got.Sender != "mission-a" || got.Recipient != "hq" || !got.Created.Equal(s.Created) || !got.Expires.Equal(s.Expires) || !got.Same(s.Header) {
		t.Fatalf("opened session %+v, want %+v", got, s)
	}
	// Both directions' keys agree: what one seals, the other opens, and
	// the directions do not mix.
	ad := []byte("ad")
	if pt, err := open(got.forward, seal(s.forward, []byte("request"), ad), ad); err != nil || string(pt) != "request" {
		t.Errorf("forward: %q, %v", pt, err)
	}
	if pt, err := open(s.reply, seal(got.reply, []byte("answer"), ad), ad); err != nil || string(pt) != "answer" {
		t.Errorf("reply: %q, %v", pt, err)
	}
	if _, err := open(got.reply, seal(s.forward, []byte("request"), ad), ad); err == nil {
		t.Error("the reply key opened a forward message")
	}
	if _, err := open(got.forward, seal(s.forward, []byte("request"), ad), []byte("other ad")); err == nil {
		t.Error("a message opened under other associated data")
	}
}

func TestOpenSessionRefusals(t *testing.T) {
	f := newSessionFixture(t)
	good := f.newSession(t, "mission-a", "hq")
	// spoofed: signed by mission-b's key, claiming to come from mission-a.
	spoofed := &Session{ID: good.ID, Sender: "mission-a", Recipient: "hq", Created: good.Created, Expires: good.Expires}
	_, kemCT, err := encapsulate(f.kems["hq"].PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	resign := func(s *Session, signer *keys.Signer, keyID string) []byte {
		body := s.appendBody(nil, kemCT, keyID)
		sig, err := signer.Sign(nil, append([]byte(sessionContext), body...), crypto.Hash(0))
		if err != nil {
			t.Fatal(err)
		}
		return appendBytes(body, sig)
	}
	bSigner := f.rings["mission-b"].Signer()
	stranger := mustRing(t).Signer()
	unknown := &Session{Sender: "mission-x", Recipient: "hq", Created: good.Created, Expires: good.Expires}
	flipped := bytes.Clone(good.Header)
	flipped[len(flipped)-5] ^= 1
	for _, tc := range []struct {
		name   string
		header []byte
		self   string
		at     time.Time
		want   Reason
	}{
		{"addressed to another node", good.Header, "mission-b", f.now, ReasonWrongRecipient},
		{"from a node not in the configuration", resign(unknown, stranger, stranger.KeyID()), "hq", f.now, ReasonUnknownSender},
		{"from a revoked node", f.newSession(t, "mission-gone", "hq").Header, "hq", f.now, ReasonRevoked},
		{"bad signature", flipped, "hq", f.now, ReasonBadSignature},
		{"spoofed: another node's key, its own key id", resign(spoofed, bSigner, bSigner.KeyID()), "hq", f.now, ReasonBadSignature},
		{"spoofed: another node's key, the claimed sender's key id", resign(spoofed, bSigner, f.rings["mission-a"].Signer().KeyID()), "hq", f.now, ReasonBadSignature},
		{"made in the future of the receiver's clock", good.Header, "hq", good.Created.Add(-10 * time.Minute), ReasonStale},
		{"truncated", good.Header[:len(good.Header)-1], "hq", f.now, ReasonMalformed},
		{"trailing bytes", append(bytes.Clone(good.Header), 0), "hq", f.now, ReasonMalformed},
		{"unknown version", append([]byte{9}, good.Header[1:]...), "hq", f.now, ReasonMalformed},
		{"empty", nil, "hq", f.now, ReasonMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := OpenSession(tc.header, tc.self, f.kems[tc.self], f.conf, tc.at)
			var re *RefusedError
			if !errors.As(err, &re) || re.Reason != tc.want {
				t.Fatalf("OpenSession = %v, %v; want a %s refusal", s, err, tc.want)
			}
			if !errors.Is(err, ErrRefused) || re.Detail == "" {
				t.Errorf("refusal %v does not wrap ErrRefused or has no detail", err)
			}
		})
	}
	// A correctly signed header whose key encapsulation was made for
	// another node's key is refused when the keys are derived: the
	// recipient's key opens nothing.
	s, err := OpenSession(good.Header, "hq", f.kems["mission-b"], f.conf, f.now)
	if err == nil {
		ad := []byte("x")
		if _, err := open(s.forward, seal(good.forward, []byte("m"), ad), ad); err == nil {
			t.Error("a session opened with the wrong private key decrypts the sender's messages")
		}
	}
}

// FuzzSessionHeader feeds OpenSession two kinds of input. Raw: mutations
// of real headers, which must never panic (and almost never get past the
// signature). Signed: the fuzzer's values are the header's fields (sender,
// recipient, creation and expiry, and its bytes the key encapsulation),
// which the test encodes and signs with the key of the node the fuzzer
// picks (or a stranger's), so the checks after the signature (revocation,
// clock, lifetime, key decapsulation) meet hostile values. A header
// OpenSession accepts must be exactly a header the named sender signed
// for this node; one the named sender signed under its own key id is
// never refused as badly signed.
func FuzzSessionHeader(f *testing.F) {
	fx := newSessionFixture(f)
	good := fx.newSession(f, "mission-a", "hq")
	signers := []string{"mission-a", "mission-b", "mission-gone", "hq", "stranger"}
	fx.rings["stranger"] = mustRing(f)
	f.Add(good.Header, uint8(0), "", "", int64(0), int64(0))
	f.Add(fx.newSession(f, "mission-b", "hq").Header, uint8(0), "", "", int64(0), int64(0))
	f.Add(fx.newSession(f, "hq", "mission-a").Header, uint8(0), "", "", int64(0), int64(0))
	f.Add([]byte{sessionVersion}, uint8(0), "", "", int64(0), int64(0))
	for i, from := range signers[:3] {
		d, err := decodeSessionHeader(fx.newSession(f, from, "hq").Header)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(d.kemCT, uint8(1+i), from, "hq", int64(0), int64(time.Hour))
	}
	f.Fuzz(func(t *testing.T, h []byte, signedBy uint8, sender, recipient string, created, expires int64) {
		var signer *keys.Signer
		if signedBy != 0 {
			// Encode and sign the fuzzer's fields as a header, so the
			// fuzzer reaches the code behind the signature.
			signer = fx.rings[signers[int(signedBy-1)%len(signers)]].Signer()
			at := fx.now.UnixNano()
			hs := Session{Sender: sender, Recipient: recipient, Created: time.Unix(0, at+created), Expires: time.Unix(0, at+expires)}
			hs.ID[0] = signedBy
			body := hs.appendBody(nil, h, signer.KeyID())
			sig, err := signer.Sign(nil, append([]byte(sessionContext), body...), crypto.Hash(0))
			if err != nil {
				t.Fatal(err)
			}
			h = appendBytes(body, sig)
		}
		d, derr := decodeSessionHeader(h)
		s, err := OpenSession(h, "hq", fx.kems["hq"], fx.conf, fx.now)
		if err != nil {
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("OpenSession error %v is not a refusal", err)
			}
			if re.Reason == ReasonBadSignature && signer != nil && derr == nil {
				if n, ok := fx.conf.Node(d.s.Sender); ok && bytes.Equal(n.SigningKey, signer.Public().(ed25519.PublicKey)) && d.keyID == n.SigningKeyID {
					t.Fatalf("a header signed by its sender %s under its key id was refused as badly signed: %v", d.s.Sender, err)
				}
			}
			return
		}
		if derr != nil {
			t.Fatalf("OpenSession accepted a header that does not decode: %v", derr)
		}
		if s.Recipient != "hq" || !s.Same(h) || s.ID != d.s.ID {
			t.Fatalf("accepted session %+v for header %x", s, h)
		}
		if re := d.s.appendBody(nil, d.kemCT, d.keyID); !bytes.Equal(appendBytes(re, d.sig), h) {
			t.Fatalf("accepted header %x re-encodes as %x", h, appendBytes(re, d.sig))
		}
		if n, _ := fx.conf.Node(s.Sender); signer != nil && !bytes.Equal(n.SigningKey, signer.Public().(ed25519.PublicKey)) {
			t.Fatalf("accepted a header from %s signed by another key", s.Sender)
		}
		if !s.Expires.After(s.Created) || s.Created.After(fx.now.Add(sessionSkew)) {
			t.Fatalf("accepted a session living from %s to %s at %s", s.Created, s.Expires, fx.now)
		}
	})
}
