package exchange

import (
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/bus"
)

// linkedConf is the fixture's configuration with two more missions, of
// which only the first has a right on a service of mission-h01's.
func linkedConf(tb testing.TB) *GlobalConf {
	tb.Helper()
	f := newConfFixture(tb)
	c := f.conf
	h01 := c.Nodes[0]
	for _, m := range []struct{ node, member string }{{"mission-h02", "000.00.00.H02"}, {"mission-h03", "000.00.00.H03"}} {
		n := h01
		n.ID, n.Domain, n.Member = m.node, m.node, m.member
		c.Nodes = append(c.Nodes, n)
		c.Members = append(c.Members, Member{Instance: DefaultInstance, Class: ClassGOV, Code: m.member, NameVI: m.member, NameEN: m.member, Node: m.node})
	}
	visa := ClientID{DefaultInstance, ClassGOV, "000.00.00.H02", "visa"}
	c.Subsystems = append(c.Subsystems, Subsystem{ID: visa, Title: "Visa", Clearance: authz.Confidential},
		Subsystem{ID: ClientID{DefaultInstance, ClassGOV, "000.00.00.H03", "visa"}, Title: "Visa", Clearance: authz.Confidential})
	inbox := ServiceID{ClientID: consular, Service: "inbox", Version: "v1"}
	c.Services = append(c.Services, Service{ID: inbox, Kind: KindAsync, Title: "Inbox", MaxLevel: authz.Confidential})
	c.Rights = append(c.Rights, Right{Service: inbox, Client: visa})
	if err := c.Build(); err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestMissionsAreLinkedOnlyByARight(t *testing.T) {
	c := linkedConf(t)
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"hq", "mission-h01", true}, {"mission-h03", "hq", true}, // headquarters and every mission
		{"mission-h02", "mission-h01", true}, {"mission-h01", "mission-h02", true}, // a right, both ways
		{"mission-h01", "mission-h03", false}, {"mission-h02", "mission-h03", false}, // no right
		{"mission-h01", "mission-h01", true}, {"hq", "hq", true}, // a node with itself
	} {
		if got := c.Linked(tt.a, tt.b); got != tt.want {
			t.Errorf("Linked(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestHeadquartersRoutesOnlyBetweenLinkedNodes(t *testing.T) {
	c := linkedConf(t)
	services, _ := leafGrants(c, "hq")
	routed := map[[2]string]bool{}
	for _, s := range services {
		if s.Caller != bus.HubAccount && s.Provider != bus.HubAccount {
			routed[nodePair(s.Caller, s.Provider)] = true
		}
	}
	if !routed[nodePair("mission-h01", "mission-h02")] {
		t.Error("no route between mission-h01 and mission-h02, which a right links")
	}
	for p := range routed {
		if p != nodePair("mission-h01", "mission-h02") {
			t.Errorf("a route between %s, which no right links", strings.Join(p[:], " and "))
		}
	}
	for _, m := range []string{"mission-h01", "mission-h02", "mission-h03"} {
		found := false
		for _, s := range services {
			found = found || s.Caller == m && s.Provider == bus.HubAccount && s.Subject == requestSubject("hq")
		}
		if !found {
			t.Errorf("%s cannot reach headquarters' gateway", m)
		}
	}
}
