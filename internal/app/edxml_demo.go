package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/identity"
	"chancery/internal/records"
	"chancery/internal/store"
)

// The demo's document exchange, on a demo headquarters: the Consular
// Department's documents to two embassies and to the Office of the
// Government, whose document system records.AgencySimulator stands in
// for, answering with its statuses and sending a document of its own.

// demoAgency is the outside agency of the demo's document exchange (the
// Office of the Government; registry's demo_edxml.go registers its
// document system).
var demoAgency = records.Organ{ID: "000.00.00.G22", Name: "Văn phòng Chính phủ"}

// agencyMailbox is the simulated agency's document system's side of this
// node: the inbox of its subsystem, and sending as it.
type agencyMailbox struct{ node *exchange.Node }

func (m agencyMailbox) Take(ctx context.Context) ([][]byte, error) {
	inbox, err := m.node.Inbox(ctx, edxmlClient(demoAgency.ID), 0, 100)
	if err != nil || len(inbox) == 0 {
		return nil, err
	}
	out := make([][]byte, len(inbox))
	ids := make([]string, len(inbox))
	for i, d := range inbox {
		out[i], ids[i] = d.Payload, d.ID
	}
	_, err = m.node.Ack(ctx, edxmlClient(demoAgency.ID), ids...)
	return out, err
}

func (m agencyMailbox) Send(ctx context.Context, to string, level authz.Level, payload []byte) error {
	_, err := m.node.Send(ctx, exchange.Outgoing{From: edxmlClient(demoAgency.ID), To: edxmlServiceOf(to), Level: level,
		ContentType: records.EdXMLContentType, Payload: payload})
	return err
}

// runDemoExchange sends the demo's documents once the demo exchange's
// configuration offers their recipients (first start only), has Paris
// register what arrives, and runs the agency simulator until ctx ends.
func (a *App) runDemoExchange(ctx context.Context) {
	ctx = audit.WithOrigin(ctx, edxmlActor)
	sim := &records.AgencySimulator{Organ: demoAgency, Mailbox: agencyMailbox{a.Node}}
	_, err := a.DB.Meta(ctx, records.DemoExchangeKey)
	pending := errors.Is(err, errs.ErrNotFound) // the demo's packages are still to be sent
	var people records.DemoExchangePeople
	handled := !pending
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if pending {
			if err := a.sendDemoPackages(ctx, sim, &people); err != nil && ctx.Err() == nil {
				a.log.Debug("records: the demo's packages wait for the exchange", "err", err)
			} else if err == nil {
				pending = false
			}
		}
		if err := sim.Step(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("records: the outside agency simulator", "err", err)
		}
		if !pending && !handled {
			if n, err := records.DemoHandleArrived(ctx, a.Records, people); err != nil && ctx.Err() == nil {
				a.log.Warn("records: the demo embassy registers its packages", "err", err)
			} else {
				handled = n > 0
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sendDemoPackages sends the demo's documents, if the configuration
// already offers every recipient, and the agency's document to the
// Consular Department.
func (a *App) sendDemoPackages(ctx context.Context, sim *records.AgencySimulator, p *records.DemoExchangePeople) error {
	for username, into := range map[string]*records.DemoStaff{
		"consular.clerk": &p.ConsularClerk, "consular.officer": &p.ConsularOfficer, "consular.approver": &p.ConsularApprover,
		"paris.clerk": &p.ParisClerk, "paris.approver": &p.ParisApprover,
	} {
		m, err := a.Identity.StaffByUsername(ctx, username)
		if err != nil {
			return err
		}
		*into = records.DemoStaff{Subject: m.Subject(), Username: m.Username}
	}
	courier := edxmlCourier{node: a.Node, dir: a.Identity, office: a.cfg.RecordsOffice}
	consular, err := courier.Organ(ctx, p.ConsularClerk.Subject.Unit)
	if err != nil {
		return err
	}
	peers, err := courier.Peers(ctx, consular.ID)
	if err != nil {
		return err
	}
	if len(peers) < 3 {
		return errs.ErrUnavailable // the demo exchange is not published yet
	}
	if err := records.SeedDemoExchange(ctx, a.Records, *p, time.Now()); err != nil {
		return err
	}
	if err := sim.SendDocument(ctx, consular, "2150/VPCP-QHQT", records.TypeOfficialLetter,
		"Về việc phối hợp tổ chức đón công dân Việt Nam về nước"); err != nil {
		return err
	}
	// And one to the ministry as a whole, naming no department: it waits
	// in the Office's queue (edxmlCourier.UnitOf).
	roots, _, err := a.Identity.ListUnits(ctx, identity.UnitFilter{Kind: identity.KindMinistry, Limit: 1})
	if err != nil || len(roots) == 0 {
		return fmt.Errorf("records: the demo's ministry: %d roots, %v", len(roots), err)
	}
	if err := sim.SendDocument(ctx, records.Organ{ID: roots[0].Code, Name: roots[0].NameVI}, "2163/TB-VPCP", "thong_bao",
		"Thông báo kết luận của Thủ tướng Chính phủ tại cuộc họp về công tác đối ngoại"); err != nil {
		return err
	}
	return store.SetMeta(ctx, a.DB, records.DemoExchangeKey, time.Now().UTC().Format(time.RFC3339))
}
