package registry_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestRightsAreDeniedUntilGrantedAndAfterRevoked(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		procedures := clientID(ministry, "procedures")
		if f.conf(t).Allowed(procedures, lookup) {
			t.Fatal("a registered client may use a service nobody granted it")
		}
		g, err := f.reg.Grant(testCtx, lookup, procedures)
		if err != nil {
			t.Fatalf("Grant: %v", err)
		}
		if g.GrantedBy != "system:test" || !g.Granted.Equal(f.clock.Now()) {
			t.Errorf("grant records %q at %v, want system:test at %v", g.GrantedBy, g.Granted, f.clock.Now())
		}
		c := f.conf(t)
		if !c.Allowed(procedures, lookup) {
			t.Fatal("the granted right is not in the published configuration")
		}
		if c.Allowed(clientID(paris, "consular"), lookup) || c.Allowed(procedures, report) {
			t.Fatal("a grant allowed another client or another service")
		}
		_, err = f.reg.Grant(testCtx, lookup, procedures)
		wantKind(t, err, errs.ErrConflict)

		f.clock.Advance(time.Hour)
		if err := f.reg.Revoke(testCtx, lookup, procedures); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		if f.conf(t).Allowed(procedures, lookup) {
			t.Fatal("the revoked right is still in the published configuration")
		}
		wantKind(t, f.reg.Revoke(testCtx, lookup, procedures), errs.ErrNotFound)

		rights, err := f.reg.Rights(testCtx, lookup)
		if err != nil {
			t.Fatal(err)
		}
		if len(rights) != 1 || rights[0].Active() || rights[0].RevokedBy != "system:test" || !rights[0].Revoked.Equal(f.clock.Now()) {
			t.Fatalf("rights = %+v, want one revoked by system:test now", rights)
		}
		if _, err := f.reg.Grant(testCtx, lookup, procedures); err != nil {
			t.Fatalf("grant again after revoking: %v", err)
		}
		if rights, _ := f.reg.Rights(testCtx, lookup); len(rights) != 2 || !rights[0].Active() {
			t.Fatalf("rights = %+v, want the new grant first and the revoked one kept", rights)
		}
		if n := len(f.events(t, "exchange.right.grant")); n != 2 {
			t.Errorf("%d grant events in the ledger, want 2", n)
		}
		if n := len(f.events(t, "exchange.right.revoke")); n != 1 {
			t.Errorf("%d revoke events in the ledger, want 1", n)
		}
	})
}

func TestGrantRefusesUnknownServicesAndClients(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		_, err := f.reg.Grant(testCtx, serviceID(population, "population", "nothing", "v1"), clientID(ministry, "procedures"))
		wantKind(t, err, errs.ErrNotFound)
		_, err = f.reg.Grant(testCtx, lookup, clientID(ministry, "unregistered"))
		wantField(t, err, "client")
		_, err = f.reg.Grant(testCtx, lookup, exchange.ClientID{Instance: "EE", Class: exchange.ClassGOV, Member: ministry, Subsystem: "procedures"})
		wantField(t, err, "client")
	})
}

func TestCreateServiceRefusesInvalidInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		good := registry.NewService{ID: serviceID(population, "population", "address-lookup", ""), Kind: exchange.KindREST,
			Title: "Tra cứu địa chỉ", Backend: "https://population.example/api", OpenAPI: openAPIDoc}
		tests := []struct {
			name   string
			change func(*registry.NewService)
			field  string
		}{
			{"other instance", func(s *registry.NewService) { s.ID.Instance = "EE" }, "id"},
			{"bad segment", func(s *registry.NewService) { s.ID.Service = "a b" }, "id"},
			{"unregistered provider", func(s *registry.NewService) { s.ID.Subsystem = "nothing" }, "id"},
			{"unknown kind", func(s *registry.NewService) { s.Kind = "soap" }, "kind"},
			{"no title", func(s *registry.NewService) { s.Title = "  " }, "title"},
			{"control character", func(s *registry.NewService) { s.Title = "a\x00b" }, "title"},
			{"REST without backend", func(s *registry.NewService) { s.Backend = "" }, "backend"},
			{"backend not http", func(s *registry.NewService) { s.Backend = "ftp://x.example/" }, "backend"},
			{"backend with password", func(s *registry.NewService) { s.Backend = "https://u:p@x.example/" }, "backend"},
			{"backend relative", func(s *registry.NewService) { s.Backend = "/api" }, "backend"},
			{"REST without OpenAPI", func(s *registry.NewService) { s.OpenAPI = "" }, "openapi"},
			{"OpenAPI not JSON", func(s *registry.NewService) { s.OpenAPI = "openapi: 3.0.0" }, "openapi"},
			{"OpenAPI 2", func(s *registry.NewService) { s.OpenAPI = `{"swagger": "2.0"}` }, "openapi"},
			{"OpenAPI with trailing data", func(s *registry.NewService) { s.OpenAPI = openAPIDoc + "{}" }, "openapi"},
			{"async with backend", func(s *registry.NewService) { s.Kind, s.OpenAPI = exchange.KindAsync, "" }, "backend"},
			{"level above provider's clearance", func(s *registry.NewService) { s.MaxLevel = authz.Secret }, "max_level"},
			{"unknown level", func(s *registry.NewService) { s.MaxLevel = 9 }, "max_level"},
		}
		before := f.conf(t).Serial
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := good
				tt.change(&in)
				_, err := f.reg.CreateService(testCtx, in)
				wantField(t, err, tt.field)
			})
		}
		if after := f.conf(t).Serial; after != before {
			t.Errorf("refused changes published configuration %d (was %d)", after, before)
		}
		if _, err := f.reg.CreateService(testCtx, good); err != nil {
			t.Fatalf("the good service is refused: %v", err)
		}
		_, err := f.reg.CreateService(testCtx, good)
		wantKind(t, err, errs.ErrConflict)
	})
}

func TestUpdateAndDeleteService(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		title, backend := "Tra cứu công dân (bản mới)", "https://population.example/v2"
		s, err := f.reg.UpdateService(testCtx, lookup, registry.ServicePatch{Title: &title, Backend: &backend})
		if err != nil {
			t.Fatalf("UpdateService: %v", err)
		}
		if s.Title != title || s.Backend != backend || s.OpenAPI == "" {
			t.Fatalf("updated service = %+v", s)
		}
		if got, _ := f.conf(t).Service(lookup); got.Title != title {
			t.Errorf("published title %q, want %q", got.Title, title)
		}
		serial := f.conf(t).Serial
		if _, err := f.reg.UpdateService(testCtx, lookup, registry.ServicePatch{Title: &title}); err != nil {
			t.Fatalf("UpdateService without change: %v", err)
		}
		if f.conf(t).Serial != serial {
			t.Error("an update that changed nothing published a configuration")
		}
		empty := ""
		_, err = f.reg.UpdateService(testCtx, lookup, registry.ServicePatch{OpenAPI: &empty})
		wantField(t, err, "openapi")
		_, err = f.reg.UpdateService(testCtx, serviceID(population, "population", "none", ""), registry.ServicePatch{Title: &title})
		wantKind(t, err, errs.ErrNotFound)

		if _, err := f.reg.Grant(testCtx, lookup, clientID(ministry, "procedures")); err != nil {
			t.Fatal(err)
		}
		if err := f.reg.DeleteService(testCtx, lookup); err != nil {
			t.Fatalf("DeleteService: %v", err)
		}
		c := f.conf(t)
		if _, ok := c.Service(lookup); ok || len(c.Rights) != 0 {
			t.Fatalf("the deleted service or its right is still published: %+v", c.Rights)
		}
		wantKind(t, f.reg.DeleteService(testCtx, lookup), errs.ErrNotFound)
		_, err = f.reg.Service(testCtx, lookup)
		wantKind(t, err, errs.ErrNotFound)
	})
}

func TestSubsystemsBelongToActiveMembers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tests := []struct {
			name  string
			in    registry.NewSubsystem
			field string
		}{
			{"no member", registry.NewSubsystem{Code: "x", Title: "X"}, "member"},
			{"unknown member", registry.NewSubsystem{Member: "999.99.99.Z99", Code: "x", Title: "X"}, "member"},
			{"merged member", registry.NewSubsystem{Member: merged, Code: "x", Title: "X"}, "member"},
			{"bad code", registry.NewSubsystem{Member: paris, Code: "hệ thống", Title: "X"}, "code"},
			{"no title", registry.NewSubsystem{Member: paris, Code: "x"}, "title"},
			{"unknown clearance", registry.NewSubsystem{Member: paris, Code: "x", Title: "X", Clearance: 7}, "clearance"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.reg.CreateSubsystem(testCtx, tt.in)
				wantField(t, err, tt.field)
			})
		}
		s := f.mustSubsystem(t, paris, "consular", 2)
		if s.ID.String() != "VN/GOV/"+paris+"/consular" || s.Clearance != authz.Secret {
			t.Fatalf("subsystem = %+v", s)
		}
		_, err := f.reg.CreateSubsystem(testCtx, registry.NewSubsystem{Member: paris, Code: "consular", Title: "Again"})
		wantKind(t, err, errs.ErrConflict)
		subs, err := f.reg.Subsystems(testCtx, paris)
		if err != nil || len(subs) != 1 || subs[0].Title != "Hệ thống consular" {
			t.Fatalf("Subsystems(paris) = %+v, %v", subs, err)
		}
		if got, ok := f.conf(t).Subsystem(s.ID); !ok || got.Clearance != authz.Secret {
			t.Fatalf("published subsystem = %+v, %v", got, ok)
		}
	})
}

func TestChangesNeedARecorderAndAnOrigin(t *testing.T) {
	db := storetest.MustOpen(t, store.SQLite)
	f := newFixture(t, db)
	in := registry.NewSubsystem{Member: paris, Code: "consular", Title: "Lãnh sự"}
	if _, err := f.reg.CreateSubsystem(context.Background(), in); err == nil || errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("a change without an origin: %v, want an internal error", err)
	}
	if _, err := f.reg.CreateSubsystem(anonCtx, in); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("an anonymous caller's change: %v, want ErrUnauthenticated (audit.Writer's rule)", err)
	}
	bare := registry.New(db, directory, f.ring, registry.Options{})
	if _, err := bare.CreateSubsystem(testCtx, in); !errors.Is(err, audit.ErrNoRecorder) {
		t.Fatalf("a registry without a recorder: %v, want audit.ErrNoRecorder", err)
	}
	if subs, _ := f.reg.Subsystems(testCtx, ""); len(subs) != 0 {
		t.Fatalf("refused changes left subsystems: %+v", subs)
	}
}

func TestPublishedConfVerifiesAgainstHeadquartersKeyOnly(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		signed, err := f.reg.Latest(testCtx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := exchange.ParseConf(signed, f.ring.PublicKey())
		if err != nil {
			t.Fatalf("ParseConf with headquarters' key: %v", err)
		}
		other, _, _ := ed25519.GenerateKey(nil)
		if _, err := exchange.ParseConf(signed, other); !errors.Is(err, exchange.ErrBadSignature) {
			t.Fatalf("ParseConf with another key: %v, want ErrBadSignature", err)
		}
		if c.HQ != "hq" || c.Instance != exchange.DefaultInstance || c.MaxMessageBytes != registry.DefaultMaxMessageBytes {
			t.Errorf("conf names HQ %q, instance %q, max %d", c.HQ, c.Instance, c.MaxMessageBytes)
		}
		if !c.Issued.Equal(f.clock.Now()) || !c.Expires.Equal(f.clock.Now().Add(registry.DefaultConfValidity)) {
			t.Errorf("conf issued %v expires %v", c.Issued, c.Expires)
		}
		// Every active unit is a member, served by headquarters; the merged
		// one is not.
		for _, u := range directory {
			m, ok := c.Member("VN/GOV/" + u.Code)
			if ok != (u.Code != merged) {
				t.Errorf("member %s listed = %v", u.Code, ok)
			}
			if ok && (m.Node != "hq" || m.NameVI != u.NameVI) {
				t.Errorf("member %s = %+v", u.Code, m)
			}
		}
		if s, ok := c.Service(lookup); !ok || s.OpenAPI != openAPIDoc || s.Backend != "http://127.0.0.1:9999/api" {
			t.Errorf("published REST service = %+v", s)
		}
		if !bytes.Equal(f.published[len(f.published)-1], signed) {
			t.Error("OnPublish did not get the latest configuration")
		}
	})
}

func TestSerialGrowsByOneWithEveryChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		if got := f.conf(t).Serial; got != 1 {
			t.Fatalf("first configuration has serial %d, want 1", got)
		}
		f.mustBasics(t) // 4 subsystems, 2 services
		if got := f.conf(t).Serial; got != 7 {
			t.Fatalf("serial %d after six changes, want 7", got)
		}
		if _, err := f.reg.Publish(testCtx); err != nil {
			t.Fatal(err)
		}
		if got := f.conf(t).Serial; got != 8 {
			t.Fatalf("serial %d after Publish, want 8", got)
		}
		if len(f.published) != 8 {
			t.Errorf("OnPublish called %d times, want 8", len(f.published))
		}
		// EnsureHQNode with the same keys changes nothing.
		hq, err := f.reg.Nodes(testCtx)
		if err != nil {
			t.Fatal(err)
		}
		info := hq[0].NodeInfo
		if err := f.reg.EnsureHQNode(testCtx, info); err != nil {
			t.Fatal(err)
		}
		if got := f.conf(t).Serial; got != 8 {
			t.Fatalf("an unchanged headquarters node published serial %d", got)
		}
		// New encryption keys are certified and published.
		info.EncryptionKey = kemKey(t)
		if err := f.reg.EnsureHQNode(testCtx, info); err != nil {
			t.Fatal(err)
		}
		c := f.conf(t)
		if n, _ := c.Node("hq"); c.Serial != 9 || !bytes.Equal(n.EncryptionKey, info.EncryptionKey) {
			t.Fatalf("after rekeying, serial %d and key changed %v", c.Serial, bytes.Equal(n.EncryptionKey, info.EncryptionKey))
		}
		info.ID = "hq2"
		wantKind(t, f.reg.EnsureHQNode(testCtx, info), errs.ErrConflict)
		info.ID, info.Domain = "hq", "HQ.domain"
		wantField(t, f.reg.EnsureHQNode(testCtx, info), "domain")
		info.Domain, info.SigningKey = "hq", kemKey(t)[:32]
		wantField(t, f.reg.EnsureHQNode(testCtx, info), "signing_key")
	})
}

func TestPublishFollowsKeyringRotation(t *testing.T) {
	f := newFixture(t, storetest.MustOpen(t, store.SQLite))
	if _, err := f.ring.RotateSigner(testCtx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Publish(testCtx); err != nil {
		t.Fatalf("Publish after rotation: %v", err)
	}
	c := f.conf(t) // verifies against the new key
	if n, _ := c.Node("hq"); !bytes.Equal(n.SigningKey, f.ring.PublicKey()) {
		t.Fatal("headquarters' node does not name the rotated key")
	}
}

func TestEnrolmentTokenEnrolsOneNodeOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		token, expires, err := f.reg.IssueEnrolment(testCtx, paris)
		if err != nil {
			t.Fatalf("IssueEnrolment: %v", err)
		}
		if !expires.Equal(f.clock.Now().Add(registry.DefaultEnrolmentValidity)) {
			t.Errorf("expires %v, want in 24 h", expires)
		}
		secret, fingerprint, ok := strings.Cut(token, ".")
		if want := keys.Fingerprint(f.ring.PublicKey()); !ok || len(secret) != 32 || fingerprint != want || len(want) != 64 {
			t.Fatalf("token %q is not <secret>.<headquarters key fingerprint %s>", token, want)
		}
		req := newKeys(t)
		res, err := f.reg.Enrol(anonCtx, token, req)
		if err != nil {
			t.Fatalf("Enrol: %v", err)
		}
		if res.NodeID != "mission-000-01-02-g12" || len(res.LeafURLs) != 1 {
			t.Fatalf("result = %+v", res)
		}
		c, err := exchange.ParseConf(res.SignedConf, f.ring.PublicKey())
		if err != nil {
			t.Fatalf("the enrolment's configuration does not verify: %v", err)
		}
		n, ok := c.Node(res.NodeID)
		if !ok || !bytes.Equal(n.SigningKey, req.SigningKey) || !bytes.Equal(n.EncryptionKey, req.EncryptionKey) ||
			n.Role != exchange.RoleMission || n.Member != paris || n.Domain != res.NodeID {
			t.Fatalf("the configuration certifies %+v", n)
		}
		if hq, _ := c.Node("hq"); hq.Member != ministry || hq.Domain != "hq" {
			t.Errorf("headquarters' node is run by %q in domain %q, want the ministry in domain hq", hq.Member, hq.Domain)
		}
		if m, _ := c.Member("VN/GOV/" + paris); m.Node != res.NodeID {
			t.Errorf("Paris is served by %q, want its own node", m.Node)
		}
		if m, _ := c.Member("VN/GOV/" + tokyo); m.Node != "hq" {
			t.Errorf("Tokyo, not enrolled, is served by %q, want hq", m.Node)
		}
		_, err = f.reg.Enrol(anonCtx, token, newKeys(t))
		wantKind(t, err, registry.ErrEnrolmentUsed)
		if got := f.events(t, "exchange.enrol"); len(got) != 2 || got[0].Outcome != audit.Failed || got[1].Outcome != audit.OK ||
			got[1].Actor != audit.Member(paris, "Embassy in Paris") {
			t.Fatalf("enrol events = %+v, want the success by the mission and the refusal", got)
		}
	})
}

func TestEnrolRefusesATokenWithAShortKeyID(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		token, _, err := f.reg.IssueEnrolment(testCtx, paris)
		if err != nil {
			t.Fatal(err)
		}
		// A token issued before tokens carried the key's full
		// fingerprint named it by its 64-bit id.
		secret, _, _ := strings.Cut(token, ".")
		old := secret + "." + f.ring.Signer().KeyID()
		sum := sha256.Sum256([]byte(old))
		if _, err := db.ExecContext(context.Background(), db.Rebind(`UPDATE registry_enrolments SET token_hash = ?`), sum[:]); err != nil {
			t.Fatal(err)
		}
		_, err = f.reg.Enrol(anonCtx, old, newKeys(t))
		wantKind(t, err, errs.ErrConflict)
		if !strings.Contains(err.Error(), "short id") || !strings.Contains(err.Error(), "new token") {
			t.Errorf("Enrol = %q, want it to say the token's key id is short and to ask for a new token", err)
		}
	})
}

func TestEnrolRefusesBadTokensAndKeys(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		token, _, err := f.reg.IssueEnrolment(testCtx, paris)
		if err != nil {
			t.Fatal(err)
		}
		good := newKeys(t)
		wrong := "A" + token[1:]
		if token[0] == 'A' {
			wrong = "B" + token[1:]
		}
		tests := []struct {
			name  string
			token string
			req   registry.EnrolRequest
			want  error
		}{
			{"empty token", "", good, registry.ErrEnrolmentUnknown},
			{"no key id", strings.Split(token, ".")[0], good, registry.ErrEnrolmentUnknown},
			{"wrong secret", wrong, good, registry.ErrEnrolmentUnknown},
			{"short signing key", token, registry.EnrolRequest{SigningKey: good.SigningKey[:31], EncryptionKey: good.EncryptionKey}, errs.ErrInvalid},
			{"short encryption key", token, registry.EnrolRequest{SigningKey: good.SigningKey, EncryptionKey: good.EncryptionKey[:100]}, errs.ErrInvalid},
			{"headquarters' signing key", token, registry.EnrolRequest{SigningKey: f.ring.PublicKey(), EncryptionKey: good.EncryptionKey}, errs.ErrConflict},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.reg.Enrol(anonCtx, tt.token, tt.req)
				wantKind(t, err, tt.want)
			})
		}
		if got := f.events(t, "exchange.enrol"); len(got) != len(tests) {
			t.Errorf("%d refusals recorded, want %d", len(got), len(tests))
		}
		f.clock.Advance(registry.DefaultEnrolmentValidity)
		_, err = f.reg.Enrol(anonCtx, token, good)
		wantKind(t, err, registry.ErrEnrolmentExpired)
		// Gone (410 in web's one table), and recorded as every refusal is.
		wantKind(t, err, errs.ErrGone)
		if got := f.events(t, "exchange.enrol"); len(got) != len(tests)+1 {
			t.Errorf("%d refusals recorded with the expired token's, want %d", len(got), len(tests)+1)
		}
		if nodes, _ := f.reg.Nodes(testCtx); len(nodes) != 1 {
			t.Fatalf("refused enrolments certified nodes: %+v", nodes)
		}
	})
}

func TestIssueEnrolmentOnlyForMissionsWithoutANode(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, member := range []string{consular, population, merged, "999.99.99.Z99", ""} {
			_, _, err := f.reg.IssueEnrolment(testCtx, member)
			wantField(t, err, "member")
		}
		f.mustEnrol(t, paris)
		_, _, err := f.reg.IssueEnrolment(testCtx, paris)
		wantKind(t, err, errs.ErrConflict)
		// A token issued before another enrolled the mission's node is
		// refused too.
		early, _, err := f.reg.IssueEnrolment(testCtx, tokyo)
		if err != nil {
			t.Fatal(err)
		}
		f.mustEnrol(t, tokyo)
		_, err = f.reg.Enrol(anonCtx, early, newKeys(t))
		wantKind(t, err, errs.ErrConflict)
	})
}

func TestRevokedNodeIsPublishedAndItsMissionFallsBackToHeadquarters(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		res := f.mustEnrol(t, paris)
		wantField(t, f.reg.RevokeNode(testCtx, res.NodeID, " "), "reason")
		wantField(t, f.reg.RevokeNode(testCtx, "hq", "compromised"), "id")
		wantKind(t, f.reg.RevokeNode(testCtx, "mission-none", "lost"), errs.ErrNotFound)
		f.clock.Advance(time.Minute)
		if err := f.reg.RevokeNode(testCtx, res.NodeID, "máy chủ bị mất cắp"); err != nil {
			t.Fatalf("RevokeNode: %v", err)
		}
		c := f.conf(t)
		r, ok := c.Revocation(res.NodeID)
		if !ok || r.Reason != "máy chủ bị mất cắp" || !r.At.Equal(f.clock.Now()) {
			t.Fatalf("revocation = %+v, %v", r, ok)
		}
		if _, ok := c.Node(res.NodeID); !ok {
			t.Error("the revoked node's keys left the configuration; nodes need them to recognise its messages")
		}
		if m, _ := c.Member("VN/GOV/" + paris); m.Node != "hq" {
			t.Errorf("Paris is served by %q after revocation, want hq", m.Node)
		}
		wantKind(t, f.reg.RevokeNode(testCtx, res.NodeID, "again"), errs.ErrConflict)
		again := f.mustEnrol(t, paris)
		if again.NodeID != "mission-000-01-02-g12-2" {
			t.Errorf("re-enrolled node id %q, want a fresh one", again.NodeID)
		}
	})
}

func TestRefreshPublishesPastHalfValidity(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		serial := func() uint64 { return f.conf(t).Serial }
		f.clock.Advance(registry.DefaultConfValidity/2 - time.Second)
		if err := f.reg.Refresh(testCtx); err != nil || serial() != 1 {
			t.Fatalf("Refresh before half the validity: serial %d, %v", serial(), err)
		}
		f.clock.Advance(time.Second)
		if err := f.reg.Refresh(testCtx); err != nil || serial() != 2 {
			t.Fatalf("Refresh at half the validity: serial %d, %v", serial(), err)
		}
		if err := f.reg.Refresh(testCtx); err != nil || serial() != 2 {
			t.Fatalf("Refresh of a fresh configuration: serial %d, %v", serial(), err)
		}
	})
}

func TestOnlyTheLatestFewConfsAreKept(t *testing.T) {
	f := newFixture(t, storetest.MustOpen(t, store.SQLite))
	for range 10 {
		if _, err := f.reg.Publish(testCtx); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := f.db.QueryRow("SELECT COUNT(*) FROM registry_confs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("%d configurations kept, want 5", n)
	}
}

func TestServiceFilterMatchesWithoutDiacritics(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		tests := []struct {
			name   string
			filter registry.ServiceFilter
			want   []exchange.ServiceID
		}{
			{"all", registry.ServiceFilter{}, []exchange.ServiceID{lookup, report}},
			{"folded title", registry.ServiceFilter{Query: "TRA CUU"}, []exchange.ServiceID{lookup}},
			{"description", registry.ServiceFilter{Query: "định danh"}, []exchange.ServiceID{lookup}},
			{"id", registry.ServiceFilter{Query: "consular-report"}, []exchange.ServiceID{report}},
			{"kind", registry.ServiceFilter{Kind: exchange.KindAsync}, []exchange.ServiceID{report}},
			{"member", registry.ServiceFilter{Member: population}, []exchange.ServiceID{lookup}},
			{"nothing", registry.ServiceFilter{Query: "hộ chiếu"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := f.reg.Services(testCtx, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				var ids []exchange.ServiceID
				for _, s := range got {
					ids = append(ids, s.ID)
				}
				if len(ids) != len(tt.want) {
					t.Fatalf("got %v, want %v", ids, tt.want)
				}
				for i := range ids {
					if ids[i] != tt.want[i] {
						t.Fatalf("got %v, want %v", ids, tt.want)
					}
				}
			})
		}
		_, err := f.reg.Services(testCtx, registry.ServiceFilter{Kind: "soap"})
		wantField(t, err, "kind")
	})
}

func TestSeedDemoIsIdempotent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		b := registry.DemoBackends{PopulationURL: "http://127.0.0.1:7001", PopulationOpenAPI: []byte(openAPIDoc)}
		if err := f.reg.SeedDemo(testCtx, b); err != nil {
			t.Fatalf("SeedDemo: %v", err)
		}
		first, err := f.reg.Latest(testCtx)
		if err != nil {
			t.Fatal(err)
		}
		c := f.conf(t)
		if c.Serial != 2 {
			t.Errorf("seeding published serial %d, want one configuration (2)", c.Serial)
		}
		wantAllowed := []struct{ client, service string }{
			{"VN/GOV/000.00.00.G12/procedures", "VN/GOV/000.00.00.G02/population/citizen-lookup/v1"},
			{"VN/GOV/000.00.00.G12/procedures", "VN/GOV/000.00.00.G22/portal/dossier-status/v1"},
			{"VN/GOV/000.01.02.G12/consular", "VN/GOV/000.00.03.G12/consular/consular-report/v1"},
			{"VN/GOV/000.01.03.G12/consular", "VN/GOV/000.00.03.G12/consular/citizen-protection/v1"},
			{"VN/GOV/000.01.03.G12/consular", "VN/GOV/000.00.00.G02/population/citizen-lookup/v1"},
			// Missions resolve their consular dossiers on their own nodes
			// and report each status to the national portal themselves.
			{"VN/GOV/000.01.02.G12/consular", "VN/GOV/000.00.00.G22/portal/dossier-status/v1"},
			// The document systems exchange edXML packages (demo_edxml.go).
			{"VN/GOV/000.00.03.G12/records", "VN/GOV/000.01.02.G12/records/edxml/v1"},
			{"VN/GOV/000.01.03.G12/records", "VN/GOV/000.00.03.G12/records/edxml/v1"},
			{"VN/GOV/000.00.03.G12/records", "VN/GOV/000.00.00.G22/records/edxml/v1"},
			// Outside agencies and missions address the ministry as a whole.
			{"VN/GOV/000.00.00.G22/records", "VN/GOV/000.00.00.G12/records/edxml/v1"},
			{"VN/GOV/000.01.02.G12/records", "VN/GOV/000.00.00.G12/records/edxml/v1"},
		}
		for _, w := range wantAllowed {
			client, _ := exchange.ParseClientID(w.client)
			service, _ := exchange.ParseServiceID(w.service)
			if !c.Allowed(client, service) {
				t.Errorf("%s may not use %s", w.client, w.service)
			}
		}
		portalStatus, _ := exchange.ParseServiceID("VN/GOV/000.00.00.G22/portal/dossier-status/v1")
		if _, ok := c.Service(portalStatus); !ok || c.Allowed(clientID(ministry, "records"), portalStatus) {
			t.Error("the records system may report dossier statuses to the national portal, which only the procedure systems do")
		}
		if s, _ := c.Service(serviceID(population, "population", "citizen-lookup", "v1")); s.Backend != b.PopulationURL || s.OpenAPI != openAPIDoc {
			t.Errorf("citizen lookup = %+v", s)
		}
		if err := f.reg.SeedDemo(testCtx, b); err != nil {
			t.Fatalf("SeedDemo again: %v", err)
		}
		again, _ := f.reg.Latest(testCtx)
		if !bytes.Equal(first, again) {
			t.Error("seeding again published a new configuration")
		}
		// Four services, and the edxml service of each document system
		// (the Consular Department, Paris, Tokyo, the portal's agency, the
		// ministry as a whole).
		if n := len(f.events(t, "exchange.service.create")); n != 9 {
			t.Errorf("%d services recorded, want 9", n)
		}
	})
}

// A headquarters on a stock NATS cluster (Options.LeafPasswords) gives
// each enrolled mission a leaf user, its node id, and a fresh password,
// and keeps only the password's bcrypt hash, in the enrolment and its
// ledger event, for the cluster's configuration; without the option no
// credentials are given.
func TestEnrolGivesTheMissionALeafPasswordAndKeepsOnlyItsHash(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		token, _, err := f.reg.IssueEnrolment(testCtx, tokyo)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := f.reg.Enrol(anonCtx, token, newKeys(t)); err != nil || res.LeafUser != "" || res.LeafPassword != "" || res.LeafHash != "" {
			t.Fatalf("without leaf passwords: %+v, %v; want no credentials", res, err)
		}

		reg := registry.New(db, directory, f.ring, registry.Options{Now: f.clock.Now, LeafPasswords: true, Recorder: f.ledger,
			OnPublish: func(context.Context, []byte) {}})
		token, _, err = reg.IssueEnrolment(testCtx, paris)
		if err != nil {
			t.Fatal(err)
		}
		res, err := reg.Enrol(anonCtx, token, newKeys(t))
		if err != nil {
			t.Fatalf("Enrol: %v", err)
		}
		if res.LeafUser != res.NodeID || len(res.LeafPassword) < 32 {
			t.Fatalf("leaf user %q password %q, want the node id and a long random password", res.LeafUser, res.LeafPassword)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(res.LeafHash), []byte(res.LeafPassword)); err != nil {
			t.Fatalf("the hash does not match the password: %v", err)
		}
		// Cheap to check: every leaf link's CONNECT checks it, and the
		// password's 192 random bits, not the hash's cost, keep it.
		if cost, err := bcrypt.Cost([]byte(res.LeafHash)); err != nil || cost != bcrypt.MinCost {
			t.Errorf("the leaf hash's bcrypt cost is %d (%v), want the least, %d", cost, err, bcrypt.MinCost)
		}
		var stored string
		if err := db.QueryRowContext(testCtx, db.Rebind(`SELECT leaf_hash FROM registry_enrolments WHERE node_id = ?`), res.NodeID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != res.LeafHash {
			t.Errorf("the enrolment keeps %q, want the hash", stored)
		}
		evs := f.events(t, "exchange.enrol")
		last := evs[0]
		if last.ResourceID != res.NodeID || last.Attrs["leaf_hash"] != res.LeafHash || last.Attrs["leaf_user"] != res.NodeID {
			t.Fatalf("the enrol event %+v does not carry the leaf user and hash", last)
		}
		for _, e := range evs {
			for k, v := range e.Attrs {
				if strings.Contains(v, res.LeafPassword) {
					t.Fatalf("the ledger holds the leaf password in %s", k)
				}
			}
		}
	})
}
