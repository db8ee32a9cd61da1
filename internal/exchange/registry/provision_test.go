package registry_test

import (
	"sync"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// missionPlan is what the tests provision a mission with: its subsystem
// "alerts" sending to headquarters' service and headquarters' subsystem
// sending to the mission's, rights both ways.
func missionPlan(hq, member string) registry.Plan {
	hqSvc := serviceID(hq, "alerts", "inbox", "v1")
	own := serviceID(member, "alerts", "inbox", "v1")
	var p registry.Plan
	for _, m := range []string{hq, member} {
		p.Subsystems = append(p.Subsystems, registry.NewSubsystem{Member: m, Code: "alerts", Title: "Cảnh báo", Clearance: authz.Confidential})
	}
	for _, id := range []exchange.ServiceID{hqSvc, own} {
		p.Services = append(p.Services, registry.NewService{ID: id, Kind: exchange.KindAsync, Title: "Nhận cảnh báo", MaxLevel: authz.Confidential})
	}
	p.Rights = []exchange.Right{{Service: hqSvc, Client: clientID(member, "alerts")}, {Service: own, Client: clientID(hq, "alerts")}}
	return p
}

func TestEnsureRegistersWhatIsMissingOfAPlanInOneChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// Headquarters' half exists already, registered one by one.
		f.mustSubsystem(t, ministry, "alerts", int(authz.Confidential))
		var p registry.Plan
		p.Add(missionPlan(ministry, paris))
		p.Add(missionPlan(ministry, tokyo)) // headquarters' items twice
		before := len(f.published)
		n, err := f.reg.Ensure(testCtx, p)
		if err != nil {
			t.Fatalf("Ensure: %v", err)
		}
		// 2 mission subsystems, 3 services, 4 rights; headquarters'
		// subsystem was there and its service is named twice.
		if n != 9 {
			t.Errorf("Ensure registered %d items, want 9", n)
		}
		if got := len(f.published) - before; got != 1 {
			t.Fatalf("Ensure published %d configurations, want 1", got)
		}
		c := f.conf(t)
		for _, r := range p.Rights {
			if !c.Allowed(r.Client, r.Service) {
				t.Errorf("the configuration does not allow %s to use %s", r.Client, r.Service)
			}
		}
		if got := len(f.events(t, "exchange.subsystem.create")); got != 3 {
			t.Errorf("%d subsystem events, want 3 (one per subsystem)", got)
		}
		if got := len(f.events(t, "exchange.service.create")); got != 3 {
			t.Errorf("%d service events, want 3", got)
		}
		grants := f.events(t, "exchange.right.grant")
		if len(grants) != 4 || grants[0].Actor != audit.System("test") {
			t.Errorf("grant events = %+v, want 4 by the caller", grants)
		}

		// Everything registered: nothing written, nothing published.
		serial := c.Serial
		if n, err := f.reg.Ensure(testCtx, p); err != nil || n != 0 {
			t.Fatalf("Ensure again = %d, %v; want 0, nil", n, err)
		}
		if f.conf(t).Serial != serial || len(f.published)-before != 1 {
			t.Fatal("Ensure of a registered plan published a configuration")
		}

		// A revoked right is granted again, like Grant does.
		if err := f.reg.Revoke(testCtx, p.Rights[0].Service, p.Rights[0].Client); err != nil {
			t.Fatal(err)
		}
		if n, err := f.reg.Ensure(testCtx, p); err != nil || n != 1 {
			t.Fatalf("Ensure after a revocation = %d, %v; want 1, nil", n, err)
		}

		// One bad item refuses the whole plan: nothing half-registered.
		bad := missionPlan(ministry, "000.99.99.G12")
		bad.Add(missionPlan(ministry, consular))
		serial = f.conf(t).Serial
		_, err = f.reg.Ensure(testCtx, bad)
		wantField(t, err, "member")
		if subs, _ := f.reg.Subsystems(testCtx, consular); len(subs) != 0 {
			t.Fatalf("a refused plan registered %+v", subs)
		}
		if f.conf(t).Serial != serial {
			t.Fatal("a refused plan published a configuration")
		}
	})
}

func TestEnrolRegistersTheMissionsProvisionInTheEnrolmentsChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		var asked []string
		f := newFixtureWith(t, db, func(o *registry.Options) {
			o.Provision = func(hq string, n exchange.NodeInfo) registry.Plan {
				asked = append(asked, hq+" "+n.ID+" "+n.Member)
				return missionPlan(hq, n.Member)
			}
		})
		before := len(f.published)
		res := f.mustEnrol(t, paris)
		if want := []string{ministry + " " + res.NodeID + " " + paris}; len(asked) != 1 || asked[0] != want[0] {
			t.Fatalf("Provision was asked for %q, want %q", asked, want)
		}
		// The enrolment publishes one configuration, the token's issue
		// none (no configuration holds tokens).
		if got := len(f.published) - before; got != 1 {
			t.Fatalf("issuing a token and enrolling published %d configurations, want 1", got)
		}
		c, err := exchange.ParseConf(res.SignedConf, f.ring.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range missionPlan(ministry, paris).Rights {
			if !c.Allowed(r.Client, r.Service) {
				t.Errorf("the mission's first configuration does not allow %s to use %s", r.Client, r.Service)
			}
		}
		grants := f.events(t, "exchange.right.grant")
		if len(grants) != 2 || grants[0].Actor != audit.System("exchange-registry") || grants[0].RequestID != "req-enrol" {
			t.Errorf("grant events = %+v, want 2 by the registry for the enrolment's request", grants)
		}
		// The second mission finds headquarters' half registered.
		f.mustEnrol(t, tokyo)
		if got := len(f.events(t, "exchange.subsystem.create")); got != 3 {
			t.Errorf("%d subsystem events after two enrolments, want 3", got)
		}
	})
}

func TestConcurrentEnsuresOfOnePlanPublishOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := missionPlan(ministry, paris)
		serial := f.conf(t).Serial
		var wg sync.WaitGroup
		got := make([]int, 4)
		for i := range got {
			wg.Go(func() {
				n, err := f.reg.Ensure(testCtx, p)
				if err != nil {
					t.Errorf("Ensure: %v", err)
				}
				got[i] = n
			})
		}
		wg.Wait()
		total := 0
		for _, n := range got {
			total += n
		}
		if total != p.Len() {
			t.Errorf("the Ensures registered %v items, want %d in all", got, p.Len())
		}
		if c := f.conf(t); c.Serial != serial+1 {
			t.Errorf("concurrent Ensures published %d configurations, want 1", c.Serial-serial)
		}
	})
}
