package app

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
	"chancery/internal/identity"
	"chancery/internal/store/storetest"
)

// TestMissionsEnrollingPublishAboutOneConfigurationEach: headquarters
// provisions its own node in one publication, and each mission in its
// enrolment's, so that the first configuration a mission receives lets
// its insight, Sentinel and witness traffic through; the token's issue
// publishes nothing, the periodic pass over every node then finds nothing
// to do, and rights it must restore for several missions come back in one
// publication. Registering item by item published about nine
// configurations per mission.
func TestMissionsEnrollingPublishAboutOneConfigurationEach(t *testing.T) {
	for _, dbKind := range []string{"sqlite", "postgres"} {
		t.Run(dbKind, func(t *testing.T) {
			cfg := testConfig(t, false)
			if dbKind == "postgres" {
				cfg.DB = storetest.MustPostgresURL(t)
			}
			hq, _ := MustStart(t, cfg)
			ctx := audit.WithOrigin(context.Background(), exchangeActor)
			serial := func() uint64 {
				t.Helper()
				c, err := hq.Node.Conf()
				if err != nil {
					t.Fatal(err)
				}
				return c.Serial
			}
			start := serial()
			if _, err := hq.ensureProvisioned(ctx, map[string]bool{}); err != nil {
				t.Fatalf("provision headquarters' node: %v", err)
			}
			if got := serial() - start; got != 1 {
				t.Fatalf("provisioning headquarters' node published %d configurations, want 1", got)
			}
			root, err := hq.Identity.UnitByCode(ctx, "000.00.00.G12")
			if err != nil {
				t.Fatal(err)
			}
			const missions = 3
			var codes []string
			for i := range missions {
				code := fmt.Sprintf("000.20.%02d.G12", i+1)
				if _, err := hq.Identity.CreateUnit(ctx, "test", identity.NewUnit{Code: code, NameVI: "Cơ quan đại diện " + code, NameEN: "Mission " + code,
					Kind: identity.KindEmbassy, ParentID: root.ID, Country: "FR", TimeZone: "Europe/Paris"}); err != nil {
					t.Fatal(err)
				}
				token, _, err := hq.Registry.IssueEnrolment(ctx, code)
				if err != nil {
					t.Fatal(err)
				}
				pub, _, err := ed25519.GenerateKey(nil)
				if err != nil {
					t.Fatal(err)
				}
				kem, err := exchange.GenerateKEMKey()
				if err != nil {
					t.Fatal(err)
				}
				res, err := hq.Registry.Enrol(ctx, token, registry.EnrolRequest{SigningKey: pub, EncryptionKey: kem.PublicKey()})
				if err != nil {
					t.Fatalf("enrol %s: %v", code, err)
				}
				first, err := exchange.ParseConf(res.SignedConf, hq.Keys.PublicKey())
				if err != nil {
					t.Fatal(err)
				}
				for _, flow := range missionFlows(root.Code, code) {
					if !first.Allowed(flow.Client, flow.Service) {
						t.Errorf("the first configuration of %s does not allow %s to use %s", code, flow.Client, flow.Service)
					}
				}
				codes = append(codes, code)
			}
			if got := serial() - start; got != 1+missions {
				t.Fatalf("headquarters' node and %d missions published %d configurations, want %d", missions, got, 1+missions)
			}

			// The periodic pass, as after a restart: nothing to register.
			fresh, err := hq.ensureProvisioned(ctx, map[string]bool{})
			if err != nil || len(fresh) != missions {
				t.Fatalf("the periodic pass = %v, %v; want the %d missions", fresh, err, missions)
			}
			if got := serial() - start; got != 1+missions {
				t.Fatalf("the periodic pass over provisioned nodes published %d configurations", got-1-missions)
			}
			// Rights withdrawn from two missions come back in one change.
			for _, code := range codes[:2] {
				flow := missionFlows(root.Code, code)[0]
				if err := hq.Registry.Revoke(ctx, flow.Service, flow.Client); err != nil {
					t.Fatal(err)
				}
			}
			before := serial()
			if _, err := hq.ensureProvisioned(ctx, map[string]bool{}); err != nil {
				t.Fatal(err)
			}
			c, err := hq.Node.Conf()
			if err != nil {
				t.Fatal(err)
			}
			if c.Serial != before+1 {
				t.Fatalf("restoring two missions' rights published %d configurations, want 1", c.Serial-before)
			}
			for _, code := range codes {
				for _, flow := range missionFlows(root.Code, code) {
					if !c.Allowed(flow.Client, flow.Service) {
						t.Errorf("after the periodic pass, %s may not use %s", flow.Client, flow.Service)
					}
				}
			}
		})
	}
}

// missionFlows are the exchanges a mission's background work makes with
// headquarters' member hq: insight's parcels both ways, Sentinel's alerts
// up, the witness's checkpoints down and cosignatures up.
func missionFlows(hq, member string) []exchange.Right {
	return []exchange.Right{
		{Client: insightClient(member), Service: insightServiceOf(hq)},
		{Client: insightClient(hq), Service: insightServiceOf(member)},
		{Client: sentinelClient(member), Service: exchange.ServiceID{ClientID: sentinelClient(hq), Service: sentinelService, Version: sentinelVersion}},
		{Client: witnessClient(hq), Service: exchange.ServiceID{ClientID: witnessClient(member), Service: witnessCheckpoints, Version: witnessVersion}},
		{Client: witnessClient(member), Service: exchange.ServiceID{ClientID: witnessClient(hq), Service: witnessCosignatures, Version: witnessVersion}},
	}
}
