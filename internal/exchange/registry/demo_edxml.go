package registry

import (
	"fmt"

	"chancery/internal/authz"
	"chancery/internal/exchange"
	"chancery/internal/identity"
)

// The demo's document exchange (internal/records' edXML packages): the
// document systems ("records") of the departments that exchange
// documents with missions and outside agencies, of every mission and of
// the Office of the Government (an outside agency, for which the demo
// runs a simulator: internal/app's edxml_demo.go), and of the ministry as
// a whole (its root unit: what arrives there goes to the Office's queue,
// internal/app's edxmlCourier.UnitOf), each receiving
// packages and status messages on its asynchronous service edxml/v1.
// Headquarters' departments may send to every mission and to the outside
// agency, and they to the departments. Clearances: the departments'
// systems secret, the missions' confidential, the outside agency's none
// (QCVN 102:2016 does not govern the exchange of secret documents).

// demoDocumentMembers are the departments taking part, with their
// clearance; missions and the outside agency are added in
// seedDemoDocuments.
var demoDocumentMembers = []string{"000.00.01.G12", demoConsular, "000.00.04.G12"}

// demoOutsideAgency is the Office of the Government's member code.
const demoOutsideAgency = demoPortal

// seedDemoDocuments adds what is missing of the demo's document
// exchange to the change c, and reports how many things it added.
func seedDemoDocuments(c *change, missions []string) (int, error) {
	type party struct {
		member string
		level  authz.Level
		hq     bool
	}
	active := map[string]bool{}
	for _, u := range c.units {
		active[u.Code] = u.Status == identity.UnitActive
	}
	var parties []party
	for _, m := range demoDocumentMembers {
		if active[m] { // a directory without the department leaves it out
			parties = append(parties, party{m, authz.Secret, true})
		}
	}
	// Missions and outside agencies address the ministry as a whole too,
	// naming no department.
	if root, ok := ministry(c.units); ok && root.Status == identity.UnitActive {
		parties = append(parties, party{root.Code, authz.Secret, true})
	}
	for _, m := range missions {
		parties = append(parties, party{m, authz.Confidential, false})
	}
	if active[demoOutsideAgency] {
		parties = append(parties, party{demoOutsideAgency, authz.Unclassified, false})
	}
	client := func(m string) exchange.ClientID {
		return exchange.ClientID{Instance: c.instance, Class: exchange.ClassGOV, Member: m, Subsystem: "records"}
	}
	service := func(m string) exchange.ServiceID {
		return exchange.ServiceID{ClientID: client(m), Service: "edxml", Version: "v1"}
	}
	added := 0
	for _, p := range parties {
		ok, err := missing(subsystemByID(c.ctx, c.tx, c.instance, client(p.member)))
		if err == nil && ok {
			_, err = createSubsystem(c, NewSubsystem{Member: p.member, Code: "records", Title: "Hệ thống quản lý văn bản và điều hành", Clearance: p.level})
			added++
		}
		if err != nil {
			return added, fmt.Errorf("subsystem %s: %w", client(p.member), err)
		}
		ok, err = missing(serviceByID(c.ctx, c.tx, c.instance, service(p.member)))
		if err == nil && ok {
			_, err = createService(c, NewService{ID: service(p.member), Kind: exchange.KindAsync, MaxLevel: p.level,
				Title:       "Nhận văn bản điện tử (gói tin edXML) và thông điệp trạng thái",
				Description: "Gói tin edXML theo QCVN 102:2016/BTTTT (sửa đổi 2022): văn bản gửi đến, và thông điệp trạng thái (đã đến, đã tiếp nhận, phân công, đang xử lý, hoàn thành, trả lại, thu hồi) của văn bản đã gửi."})
			added++
		}
		if err != nil {
			return added, fmt.Errorf("service %s: %w", service(p.member), err)
		}
	}
	for _, from := range parties {
		for _, to := range parties {
			if from.hq == to.hq {
				continue // departments send to missions and agencies, and they back
			}
			inForce, err := rightInForce(c.ctx, c.tx, service(to.member), client(from.member))
			if err == nil && !inForce {
				_, err = grant(c, service(to.member), client(from.member))
				added++
			}
			if err != nil {
				return added, fmt.Errorf("right of %s on %s: %w", client(from.member), service(to.member), err)
			}
		}
	}
	return added, nil
}
