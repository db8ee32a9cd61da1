package records

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/authz"
)

// The demo's document exchange: the Consular Department sends documents
// to the embassies in Paris and Tokyo and to the Office of the
// Government, an outside agency whose document system the demo
// simulates (AgencySimulator); the embassies, served in the demo by
// headquarters' node, take them into their queues, and Paris registers
// and assigns one, so that /console/records/exchange has packages in
// and out at every status.

// DemoExchangePeople are the demo staff who send and receive.
type DemoExchangePeople struct {
	ConsularClerk, ConsularOfficer, ConsularApprover DemoStaff
	ParisClerk, ParisApprover                        DemoStaff
}

// DemoExchangeKey marks a database whose demo packages were sent.
const DemoExchangeKey = "records.demo_edxml"

// demoSent are the Consular Department's documents sent out: type,
// subject, the drafting unit's symbol for a công văn, recipients.
var demoSent = []struct {
	typ, subject, unit string
	to                 []string
}{
	{TypeOfficialLetter, "Về việc hướng dẫn cấp hộ chiếu phổ thông theo quy định mới", "LS", []string{"000.01.02.G12", "000.01.03.G12"}},
	{"thong_bao", "Thông báo lịch trực bảo hộ công dân dịp Tết Nguyên đán", "", []string{"000.01.02.G12", "000.01.03.G12"}},
	{"bao_cao", "Báo cáo tình hình công tác lãnh sự năm 2026", "", []string{"000.00.00.G22"}},
}

// SeedDemoExchange issues the demo's documents to other agencies and
// missions; the exchange carries them once the node runs.
func SeedDemoExchange(ctx context.Context, s *Service, p DemoExchangePeople, now time.Time) error {
	for i, d := range demoSent {
		doc, err := s.StartDraft(p.ConsularOfficer.as(ctx), p.ConsularOfficer.Subject, NewDraft{Type: d.typ, Subject: d.subject,
			DueAt: now.AddDate(0, 0, 10+i), Content: &Content{Filename: fmt.Sprintf("van-ban-gui-%02d.pdf", i+1), MediaType: "application/pdf",
				Data: fmt.Appendf(nil, "%%PDF-1.4\n%% %s\n%%%%EOF\n", d.subject), Text: d.subject}})
		if err == nil {
			_, err = s.Approve(p.ConsularApprover.as(ctx), p.ConsularApprover.Subject, doc.ID, "")
		}
		if err == nil {
			_, err = s.Sign(p.ConsularApprover.as(ctx), p.ConsularApprover.Subject, doc.ID, "")
		}
		if err == nil {
			_, err = s.Issue(p.ConsularClerk.as(ctx), p.ConsularClerk.Subject, doc.ID, IssueAs{OrgSymbol: "BNG", UnitSymbol: d.unit, Recipients: d.to})
		}
		if err != nil {
			return fmt.Errorf("records: demo document sent %q: %w", d.subject, err)
		}
	}
	return nil
}

// DemoHandleArrived has Paris's records office register the packages
// waiting in its queue, and its leader assign the first, so that their
// sender sees them accepted and assigned. It reports how many it
// registered.
func DemoHandleArrived(ctx context.Context, s *Service, p DemoExchangePeople) (int, error) {
	waiting, err := s.Packages(p.ParisClerk.as(ctx), p.ParisClerk.Subject, PackageQuery{Direction: packageIn, Waiting: true})
	if err != nil {
		return 0, err
	}
	for i, w := range waiting {
		d, err := s.RegisterPackage(p.ParisClerk.as(ctx), p.ParisClerk.Subject, w.ID)
		if err != nil {
			return i, err
		}
		if i == 0 {
			in := Instruction{Text: "Giao bộ phận lãnh sự triển khai, báo cáo kết quả.", Lead: AssignTo{UnitID: p.ParisClerk.Subject.Unit}}
			if _, err := s.Assign(p.ParisApprover.as(ctx), p.ParisApprover.Subject, d.ID, in); err != nil {
				return i, err
			}
		}
	}
	return len(waiting), nil
}

// AgencyMailbox is an outside agency's document system's side of the
// exchange, for the simulator: what was delivered to it, and sending.
type AgencyMailbox interface {
	// Take returns what was delivered to the agency, acknowledging it.
	Take(ctx context.Context) ([][]byte, error)
	// Send sends a payload from the agency to the document system of
	// the organisation to.
	Send(ctx context.Context, to string, level authz.Level, payload []byte) error
}

// AgencySimulator is the demo's stand-in for an outside agency's document
// system (the Office of the Government's), speaking the same packages: it
// answers every package with the statuses a real system would send as
// the agency handles it (received, accepted, assigned, done), and sends
// the ministry a document of its own.
type AgencySimulator struct {
	Organ   Organ
	Mailbox AgencyMailbox
	// Now is the clock; if nil, time.Now.
	Now func() time.Time
}

func (a *AgencySimulator) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

// Step handles what was delivered to the agency since the last step.
func (a *AgencySimulator) Step(ctx context.Context) error {
	payloads, err := a.Mailbox.Take(ctx)
	if err != nil {
		return err
	}
	for _, b := range payloads {
		parsed, err := ParseEdXML(b)
		if err != nil || parsed.Package == nil {
			continue // a status about the agency's own document, or junk: nothing to answer
		}
		p := parsed.Package
		if p.To.ID != a.Organ.ID {
			continue
		}
		for _, st := range []DeliveryStatus{DeliveryReceived, DeliveryAccepted, DeliveryAssigned, DeliveryDone} {
			m := &StatusMessage{ID: newUUID(), PackageID: p.ID, From: a.Organ, To: p.From, Status: st, At: a.now()}
			out, err := BuildStatus(m)
			if err == nil {
				err = a.Mailbox.Send(ctx, p.From.ID, p.Level, out)
			}
			if err != nil {
				return fmt.Errorf("records: the agency simulator answers package %s: %w", p.ID, err)
			}
		}
	}
	return nil
}

// SendDocument sends the ministry's unit to a document of the agency's.
func (a *AgencySimulator) SendDocument(ctx context.Context, to Organ, number, typ, subject string) error {
	pkg := &Package{ID: newUUID(), From: a.Organ, To: to, Number: number, Type: typ, Place: "Hà Nội", Date: a.now(), Subject: subject,
		Urgency: Urgent, DueDate: a.now().AddDate(0, 0, 7),
		Files: []Attachment{{Name: "van-ban.pdf", MediaType: "application/pdf", Data: fmt.Appendf(nil, "%%PDF-1.4\n%% %s\n%%%%EOF\n", subject)}}}
	b, err := BuildPackage(pkg)
	if err != nil {
		return err
	}
	if err := a.Mailbox.Send(ctx, to.ID, authz.Unclassified, b); err != nil {
		return fmt.Errorf("records: the agency simulator sends %s: %w", number, err)
	}
	return nil
}
