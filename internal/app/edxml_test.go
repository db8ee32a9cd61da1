package app

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/exchange"
	"chancery/internal/identity"
	"chancery/internal/records"
	"chancery/internal/store/storetest"
)

// TestDocumentsTravelBetweenHeadquartersAndAMissionAsEdXMLPackages runs
// headquarters and the embassy in Paris as two nodes in this process,
// each with its own database, joined by the real exchange (the mission
// enrols, its NATS server joins headquarters' as a leaf): a document
// issued at headquarters to Paris arrives in the embassy's queue, is
// registered, and its statuses come back in order; issued while the
// embassy's node is down, two more arrive when it is back, once each and
// in order; a forged package is refused; a recall reaches the embassy.
func TestDocumentsTravelBetweenHeadquartersAndAMissionAsEdXMLPackages(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) { testEdXMLBetweenNodes(t, pg) })
	}
}

const parisMember = "000.01.02.G12"

// staffCtx acts as m.
func staffCtx(m identity.StaffMember) context.Context {
	return audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.Staff(m.ID, m.Username), UnitID: m.UnitID})
}

func testEdXMLBetweenNodes(t *testing.T, pg bool) {
	ctx := context.Background()
	cfg := testConfig(t, true)
	cfg.LeafAddr = fmt.Sprintf("127.0.0.1:%d", storetest.FreePort(t))
	if pg {
		cfg.DB = storetest.MustPostgresURL(t)
	}
	hq, base := startDemo(t, cfg)
	hq.runBackground(ctx)
	t.Cleanup(hq.stopBackground)
	token, _, err := hq.Registry.IssueEnrolment(audit.WithOrigin(ctx, exchangeActor), parisMember)
	if err != nil {
		t.Fatal(err)
	}
	mcfg := testConfig(t, false)
	mcfg.Role, mcfg.Join, mcfg.Token, mcfg.LeafAddr, mcfg.AdminPassword = "mission", base, token, "", "Embassy-in-Paris-2026"
	if pg {
		mcfg.DB = storetest.MustPostgresURL(t)
	}
	paris, _ := MustStart(t, mcfg)
	paris.runBackground(ctx)
	t.Cleanup(paris.stopBackground)
	unit, err := paris.Identity.UnitByCode(ctx, parisMember)
	if err != nil {
		t.Fatal(err)
	}
	// The embassy's records officer, who also leads the handling.
	var clerkID int64
	now := time.Now().UTC()
	if err := paris.DB.QueryRowContext(ctx, paris.DB.Rebind(`INSERT INTO staff (username, full_name, unit_id, roles, clearance, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), "paris.records", "Lê Thị Văn Thư", unit.ID, authz.RolesOf(authz.Clerk, authz.Approver).String(),
		int(authz.Confidential), now, now).Scan(&clerkID); err != nil {
		t.Fatal(err)
	}
	clerk := identity.StaffMember{ID: clerkID, Username: "paris.records", UnitID: unit.ID}
	clerkSub := authz.Subject{Kind: authz.Staff, ID: clerkID, Unit: unit.ID, Roles: authz.RolesOf(authz.Clerk, authz.Approver), Clearance: authz.Confidential}

	staff := func(username string) (context.Context, authz.Subject) {
		m, err := hq.Identity.StaffByUsername(ctx, username)
		if err != nil {
			t.Fatal(err)
		}
		return staffCtx(m), m.Subject()
	}
	officerCtx, officer := staff("consular.officer")
	leaderCtx, leader := staff("consular.approver")
	hqClerkCtx, hqClerk := staff("consular.clerk")
	// The mission's node takes over Paris from headquarters' once the
	// configuration saying so reaches headquarters.
	eventually(t, "headquarters' configuration to name the mission's node for Paris", func() bool {
		conf, err := hq.Node.Conf()
		node, _ := conf.NodeOf(edxmlClient(parisMember))
		return err == nil && node == paris.Node.ID()
	})
	issue := func(subject string) *records.Document {
		t.Helper()
		d, err := hq.Records.StartDraft(officerCtx, officer, records.NewDraft{Type: "thong_bao", Subject: subject,
			Content: &records.Content{Filename: "tb.pdf", MediaType: "application/pdf", Data: []byte("%PDF-1.4 " + subject)}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hq.Records.Approve(leaderCtx, leader, d.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := hq.Records.Sign(leaderCtx, leader, d.ID, ""); err != nil {
			t.Fatal(err)
		}
		if d, err = hq.Records.Issue(hqClerkCtx, hqClerk, d.ID, records.IssueAs{OrgSymbol: "BNG", Recipients: []string{parisMember}}); err != nil {
			t.Fatal(err)
		}
		return d
	}
	waiting := func() []*records.PackageRow {
		rows, err := paris.Records.Packages(staffCtx(clerk), clerkSub, records.PackageQuery{Direction: "in", Waiting: true})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	deliveries := func(id int64) []records.DeliveryStatus {
		rows, err := hq.Records.Deliveries(hqClerkCtx, hqClerk, id)
		if err != nil || len(rows) != 1 {
			t.Fatalf("deliveries of %d: %+v, %v", id, rows, err)
		}
		var out []records.DeliveryStatus
		for _, e := range rows[0].Events {
			out = append(out, e.Status)
		}
		return out
	}

	first := issue("Thông báo lịch làm việc của đoàn công tác")
	eventually(t, "the package in Paris's queue", func() bool { return len(waiting()) == 1 })
	doc, err := paris.Records.RegisterPackage(staffCtx(clerk), clerkSub, waiting()[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Number != first.Number || doc.Subject != first.Subject || doc.RegisterNumber != 1 {
		t.Fatalf("registered in Paris as %+v", doc)
	}
	if _, err := paris.Records.Assign(staffCtx(clerk), clerkSub, doc.ID, records.Instruction{Text: "Chuẩn bị đón đoàn", Lead: records.AssignTo{UnitID: unit.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := paris.Records.Complete(staffCtx(clerk), clerkSub, doc.ID, "Đã chuẩn bị"); err != nil {
		t.Fatal(err)
	}
	want := []records.DeliveryStatus{"queued", "sent", "received", "accepted", "assigned", "done"}
	eventually(t, "the statuses back at headquarters", func() bool { return slices.Equal(deliveries(first.ID), want) })

	// The embassy's node goes down; what is issued meanwhile waits for it.
	paris.stopBackground()
	second, third := issue("Thông báo thứ hai"), issue("Thông báo thứ ba")
	eventually(t, "both packages handed to the exchange", func() bool {
		return slices.Contains(deliveries(second.ID), "sent") && slices.Contains(deliveries(third.ID), "sent")
	})
	if got := waiting(); len(got) != 0 {
		t.Fatalf("Paris took %d packages while down", len(got))
	}
	paris.runBackground(ctx)
	eventually(t, "the two packages once the embassy is back", func() bool { return len(waiting()) >= 2 })
	time.Sleep(time.Second) // time for a duplicate to show, if any came
	got := waiting()
	if len(got) != 2 || got[1].Number != second.Number || got[0].Number != third.Number || got[1].ID > got[0].ID {
		t.Fatalf("Paris's queue after the outage: %+v; want %s then %s, once each", got, second.Number, third.Number)
	}

	// A package headquarters' Consular Department sends claiming to be
	// from the Office is refused, nothing stored.
	forged := &records.Package{ID: "0b3f1c2d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", From: records.Organ{ID: "000.00.01.G12", Name: "Văn phòng Bộ"},
		To: records.Organ{ID: parisMember, Name: "Đại sứ quán"}, Number: "09/TB-BNG", Type: "thong_bao", Date: time.Now().UTC(), Subject: "Giả mạo"}
	payload, err := records.BuildPackage(forged)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hq.Node.Send(ctx, exchange.Outgoing{From: edxmlClient("000.00.03.G12"), To: edxmlServiceOf(parisMember),
		ContentType: records.EdXMLContentType, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	var refusals []audit.Event
	eventually(t, "the forgery refused and recorded at the embassy", func() bool {
		if _, err := paris.Audit.Integrate(ctx); err != nil {
			t.Fatal(err)
		}
		refusals, err = paris.Audit.Search(ctx, audit.Query{Action: "document.package.refuse"})
		return err == nil && len(refusals) == 1
	})
	for _, p := range waiting() {
		if p.Subject == forged.Subject {
			t.Fatalf("the forged package was stored: %+v", p)
		}
	}

	// The recall of the first document reaches the embassy's copy.
	if _, err := hq.Records.Recall(leaderCtx, leader, first.ID, "Thay đổi lịch"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the recall at the embassy", func() bool {
		v, err := paris.Records.Get(staffCtx(clerk), clerkSub, doc.ID)
		return err == nil && v.Status == records.StatusRecalled
	})
	if _, err := paris.Records.RegisterPackage(staffCtx(clerk), clerkSub, got[0].ID); err != nil {
		t.Fatalf("registering the third package: %v", err)
	}

	// A package from the outside agency to the ministry as a whole (its
	// root unit, no department named) waits in the Office's queue, and
	// its clerk registers it in the Office's incoming register.
	root, err := hq.Identity.UnitByCode(ctx, "000.00.00.G12")
	if err != nil {
		t.Fatal(err)
	}
	toMinistry := &records.Package{ID: "5d0c9a1e-2b3f-4c5d-8e6f-7a8b9c0d1e2f", From: demoAgency, To: records.Organ{ID: root.Code, Name: root.NameVI},
		Number: "2163/TB-VPCP", Type: "thong_bao", Date: time.Now().UTC(), Subject: "Thông báo kết luận gửi Bộ Ngoại giao"}
	if payload, err = records.BuildPackage(toMinistry); err != nil {
		t.Fatal(err)
	}
	if _, err := hq.Node.Send(ctx, exchange.Outgoing{From: edxmlClient(demoAgency.ID), To: edxmlServiceOf(root.Code),
		ContentType: records.EdXMLContentType, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	officeCtx, office := staff("office.clerk")
	var queued []*records.PackageRow
	eventually(t, "the package to the ministry in the Office's queue", func() bool {
		queued, err = hq.Records.Packages(officeCtx, office, records.PackageQuery{Direction: "in", Waiting: true})
		return err == nil && len(queued) == 1
	})
	if queued[0].Subject != toMinistry.Subject || queued[0].UnitID != office.Unit || queued[0].To.ID != root.Code {
		t.Fatalf("the Office's queue holds %+v", queued[0])
	}
	reg, err := hq.Records.RegisterPackage(officeCtx, office, queued[0].ID)
	if err != nil || reg.UnitID != office.Unit || reg.Number != toMinistry.Number {
		t.Fatalf("registered by the Office as %+v, %v", reg, err)
	}
}
