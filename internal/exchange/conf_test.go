package exchange

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/keys"
)

// confFixture is a configuration of two nodes, built from fresh keys and
// no database, for tests of the configuration alone.
type confFixture struct {
	conf              *GlobalConf
	hqRing, otherRing *keys.Ring
}

func newConfFixture(tb testing.TB) *confFixture {
	tb.Helper()
	f := &confFixture{hqRing: mustRing(tb), otherRing: mustRing(tb)}
	node := func(id string, role NodeRole, member string, ring *keys.Ring) NodeInfo {
		kem, err := GenerateKEMKey()
		if err != nil {
			tb.Fatal(err)
		}
		pub := ring.PublicKey()
		return NodeInfo{ID: id, Role: role, Member: member, Domain: id, SigningKey: pub, SigningKeyID: keys.KeyID(pub),
			EncryptionKey: kem.PublicKey(), Certified: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	}
	f.conf = &GlobalConf{
		Instance: DefaultInstance, Serial: 7, HQ: "hq", MaxMessageBytes: 1 << 20,
		Issued: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), Expires: time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC),
		Members: []Member{
			{Instance: DefaultInstance, Class: ClassGOV, Code: missionMember, NameVI: "Đại sứ quán", NameEN: "Embassy", Node: "mission-h01"},
			{Instance: DefaultInstance, Class: ClassGOV, Code: hqMember, NameVI: "Bộ Ngoại giao", NameEN: "Ministry", Node: "hq"},
		},
		Subsystems: []Subsystem{{ID: procedures, Title: "Procedures", Clearance: authz.Secret}, {ID: consular, Title: "Consular", Clearance: authz.Confidential}},
		Services: []Service{
			{ID: reportSvc, Kind: KindAsync, Title: "Report", MaxLevel: authz.Secret},
			{ID: lookupSvc, Kind: KindREST, Title: "Lookup", Backend: "http://backend.invalid", MaxLevel: authz.Confidential},
		},
		Rights:  []Right{{Service: reportSvc, Client: consular}, {Service: lookupSvc, Client: consular}},
		Nodes:   []NodeInfo{node("mission-h01", RoleMission, missionMember, f.otherRing), node("hq", RoleHQ, hqMember, f.hqRing)},
		Revoked: []Revocation{{Node: "gone", At: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), Reason: "stolen laptop"}},
	}
	if err := f.conf.Build(); err != nil {
		tb.Fatalf("Build: %v", err)
	}
	return f
}

func (f *confFixture) sign(tb testing.TB) []byte {
	tb.Helper()
	signed, err := SignConf(f.conf, f.hqRing.Signer())
	if err != nil {
		tb.Fatal(err)
	}
	return signed
}

// signRaw signs body as it is, so tests can sign what SignConf would never
// produce.
func signRaw(tb testing.TB, signer *keys.Signer, body []byte) []byte {
	tb.Helper()
	sig, err := signer.Sign(nil, append([]byte(confContext), body...), crypto.Hash(0))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := json.Marshal(SignedConf{Conf: body, KeyID: signer.KeyID(), Signature: sig})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestBuildSortsAndIndexesTheConfiguration(t *testing.T) {
	c := newConfFixture(t).conf
	if c.Members[0].Code != hqMember || c.Nodes[0].ID != "hq" {
		t.Errorf("Build did not sort: members %v, nodes %v", c.Members, c.Nodes)
	}
	if s, ok := c.Service(lookupSvc); !ok || s.Kind != KindREST {
		t.Errorf("Service(lookup) = %v, %v", s, ok)
	}
	if _, ok := c.Subsystem(consular); !ok {
		t.Error("Subsystem(consular) not found")
	}
	if !c.Allowed(consular, reportSvc) || c.Allowed(procedures, reportSvc) {
		t.Error("Allowed does not follow the rights")
	}
	if node, ok := c.NodeOf(consular); !ok || node != "mission-h01" {
		t.Errorf("NodeOf(consular) = %q, %v", node, ok)
	}
	if _, ok := c.NodeOf(ClientID{"VN", "GOV", "nobody", "x"}); ok {
		t.Error("NodeOf an unknown member found a node")
	}
	if m, ok := c.Member(consular.MemberKey()); !ok || m.Node != "mission-h01" {
		t.Errorf("Member = %v, %v", m, ok)
	}
	if r, ok := c.Revocation("gone"); !ok || r.Reason != "stolen laptop" {
		t.Errorf("Revocation(gone) = %v, %v", r, ok)
	}
	if _, ok := c.Revocation("hq"); ok {
		t.Error("hq is not revoked")
	}
	if !c.Expired(c.Expires) || c.Expired(c.Expires.Add(-time.Nanosecond)) {
		t.Error("Expired must turn true exactly at Expires")
	}
}

func TestBuildRefusesDanglingReferences(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *GlobalConf)
		want   string
	}{
		{"hq not listed", func(c *GlobalConf) { c.HQ = "elsewhere" }, `headquarters node "elsewhere"`},
		{"member on unknown node", func(c *GlobalConf) { c.Members[0].Node = "ghost" }, `unknown node "ghost"`},
		{"subsystem of unknown member", func(c *GlobalConf) { c.Subsystems[0].ID.Member = "999" }, "belongs to no listed member"},
		{"service of unknown subsystem", func(c *GlobalConf) { c.Services[0].ID.Subsystem = "ghost" }, "offered by no listed subsystem"},
		{"service of unknown kind", func(c *GlobalConf) { c.Services[0].Kind = "soap" }, `unknown kind "soap"`},
		{"right on unknown service", func(c *GlobalConf) { c.Rights[0].Service.Service = "ghost" }, "right on unknown service"},
		{"right to unknown client", func(c *GlobalConf) { c.Rights[0].Client.Subsystem = "ghost" }, "right to unknown client"},
		{"node with short signing key", func(c *GlobalConf) { c.Nodes[0].SigningKey = c.Nodes[0].SigningKey[:31] }, "malformed keys"},
		{"node with short encryption key", func(c *GlobalConf) { c.Nodes[0].EncryptionKey = c.Nodes[0].EncryptionKey[1:] }, "malformed keys"},
		{"node without id", func(c *GlobalConf) { c.Nodes[1].ID = "" }, "malformed keys"},
		{"node of unknown role", func(c *GlobalConf) { c.Nodes[1].Role = "relay" }, `unknown role "relay"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConfFixture(t).conf
			tc.change(c)
			err := c.Build()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestParseConfReturnsWhatWasSigned(t *testing.T) {
	f := newConfFixture(t)
	got, err := ParseConf(f.sign(t), f.hqRing.PublicKey())
	if err != nil {
		t.Fatalf("ParseConf: %v", err)
	}
	want, _ := json.Marshal(f.conf)
	back, _ := json.Marshal(got)
	if !bytes.Equal(want, back) {
		t.Fatalf("ParseConf changed the configuration:\n got %s\nwant %s", back, want)
	}
	if !got.Allowed(consular, lookupSvc) {
		t.Error("the parsed configuration is not indexed")
	}
}

func TestParseConfRefusesWhatItCannotTrust(t *testing.T) {
	f := newConfFixture(t)
	good := f.sign(t)
	body, _ := json.Marshal(f.conf)
	var sc SignedConf
	if err := json.Unmarshal(good, &sc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		data   func() []byte
		anchor func() []byte
		want   error  // errors.Is target, if any
		text   string // in the message
	}{
		{"wrong anchor", func() []byte { return good }, func() []byte { return f.otherRing.PublicKey() }, ErrBadSignature, "not by the trusted headquarters key"},
		{"short anchor", func() []byte { return good }, func() []byte { return f.hqRing.PublicKey()[:16] }, ErrBadSignature, ""},
		{"flipped bit in the body", func() []byte {
			b := bytes.Clone(good)
			i := bytes.Index(b, []byte(`"conf":`)) + 40
			b[i] ^= 0x01
			return b
		}, nil, nil, ""},
		{"flipped bit in the signature", func() []byte {
			s := sc
			s.Signature = bytes.Clone(s.Signature)
			s.Signature[10] ^= 0x80
			out, _ := json.Marshal(s)
			return out
		}, nil, ErrBadSignature, ""},
		{"unknown field in the envelope", func() []byte {
			return bytes.Replace(good, []byte(`{"conf":`), []byte(`{"extra":1,"conf":`), 1)
		}, nil, nil, "unknown field"},
		{"unknown field in the signed body", func() []byte {
			return signRaw(t, f.hqRing.Signer(), bytes.Replace(body, []byte(`{"instance":`), []byte(`{"extra":1,"instance":`), 1))
		}, nil, nil, "unknown field"},
		{"oversized document", func() []byte { return bytes.Repeat([]byte(" "), maxConfBytes+1) }, nil, nil, "limit"},
		{"not JSON", func() []byte { return []byte("\x00\x01") }, nil, nil, "not a signed document"},
		{"headquarters node key is not the signer", func() []byte {
			c := newConfFixture(t).conf // same shape, other keys
			b, _ := json.Marshal(c)
			return signRaw(t, f.hqRing.Signer(), b)
		}, nil, ErrBadSignature, "not its headquarters node's"},
		{"dangling reference, though signed", func() []byte {
			return signRaw(t, f.hqRing.Signer(), bytes.Replace(body, []byte(`"hq":"hq"`), []byte(`"hq":"nowhere"`), 1))
		}, nil, nil, "does not list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			anchor := f.hqRing.PublicKey()
			if tc.anchor != nil {
				anchor = tc.anchor()
			}
			c, err := ParseConf(tc.data(), anchor)
			if err == nil {
				t.Fatalf("ParseConf accepted it: serial %d", c.Serial)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("ParseConf = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("ParseConf = %q, want it to say %q", err, tc.text)
			}
		})
	}
}

// FuzzParseConf feeds ParseConf two kinds of input. Raw: mutations of a
// real signed configuration document, which must never panic (and almost
// never get past the signature). Signed: the fuzzer's bytes are the
// configuration's body, which the test signs with the headquarters key as
// SignConf would, so the decoding and the reference checks after the
// signature meet hostile content. Whatever ParseConf accepts must be the
// signed body of a configuration that names its headquarters node under
// the trusted key, and must survive being signed and parsed again
// unchanged.
func FuzzParseConf(f *testing.F) {
	fx := newConfFixture(f)
	good := fx.sign(f)
	var sc SignedConf
	if err := json.Unmarshal(good, &sc); err != nil {
		f.Fatal(err)
	}
	f.Add(good, false)
	f.Add(signRaw(f, fx.hqRing.Signer(), []byte(`{"hq":"hq"}`)), false)
	f.Add([]byte(`{"conf":{},"key_id":"","signature":""}`), false)
	f.Add([]byte(sc.Conf), true)
	f.Add([]byte(`{"hq":"hq"}`), true)
	f.Add(bytes.Replace(sc.Conf, []byte(`"rights":[`), []byte(`"rights":[{"service":"VN/GOV/x/y/z","client":"VN/GOV/x/y"},`), 1), true)
	anchor := fx.hqRing.PublicKey()
	signer := fx.hqRing.Signer()
	f.Fuzz(func(t *testing.T, data []byte, sign bool) {
		in := data
		if sign {
			// The document carries the body compacted (json.Marshal
			// compacts a RawMessage), so sign the compact form.
			body, err := json.Marshal(json.RawMessage(data))
			if err != nil {
				return
			}
			in = signRaw(t, signer, body)
		}
		c, err := ParseConf(in, anchor)
		if err != nil {
			return
		}
		var sc SignedConf
		if err := json.Unmarshal(in, &sc); err != nil {
			t.Fatalf("accepted a document that does not decode: %v", err)
		}
		if sc.KeyID != keys.KeyID(anchor) {
			t.Fatalf("accepted a document signed by key %q", sc.KeyID)
		}
		hq, ok := c.Node(c.HQ)
		if !ok || !bytes.Equal(hq.SigningKey, anchor) {
			t.Fatal("accepted a configuration whose headquarters node is missing or does not hold the trusted key")
		}
		again, err := SignConf(c, signer)
		if err != nil {
			t.Fatalf("SignConf of an accepted configuration: %v", err)
		}
		back, err := ParseConf(again, anchor)
		if err != nil {
			t.Fatalf("an accepted configuration, signed again, is refused: %v", err)
		}
		if twice, err := SignConf(back, signer); err != nil || !bytes.Equal(twice, again) {
			t.Fatalf("an accepted configuration changes when signed and parsed again:\n%s\n%s", again, twice)
		}
	})
}
