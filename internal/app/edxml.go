package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"chancery/internal/audit"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/identity"
	"chancery/internal/records"
)

// The records' document exchange: edXML packages and status messages
// between the document systems of the ministry's units, its missions and
// outside agencies, carried by this node's exchange. Each organisation's
// document system is its subsystem "records", receiving on its
// asynchronous service edxml/v1 (registry's demo_edxml.go registers the
// demo's); records knows only records.Courier, implemented here.

const (
	edxmlSubsystem = "records"
	edxmlService   = "edxml"
	edxmlVersion   = "v1"
)

// edxmlCourier is records.Courier over the exchange node.
type edxmlCourier struct {
	node *exchange.Node
	dir  *identity.Service
	// office is the identifier code of the unit that receives what is
	// addressed to the ministry as a whole (--records-office).
	office string
}

func edxmlClient(member string) exchange.ClientID {
	return exchange.ClientID{Instance: exchange.DefaultInstance, Class: exchange.ClassGOV, Member: member, Subsystem: edxmlSubsystem}
}

func edxmlServiceOf(member string) exchange.ServiceID {
	return exchange.ServiceID{ClientID: edxmlClient(member), Service: edxmlService, Version: edxmlVersion}
}

// Organ is the unit's own member code and name.
func (c edxmlCourier) Organ(ctx context.Context, unitID int64) (records.Organ, error) {
	u, err := c.dir.Unit(ctx, unitID)
	if err != nil {
		return records.Organ{}, err
	}
	return records.Organ{ID: u.Code, Name: u.NameVI}, nil
}

// UnitOf is the unit with the code, if this node serves its member: a
// package for a unit another node serves is not this node's to take. A
// package to the ministry as a whole (its root unit, no department
// named) goes to the Office's queue: the agency's records office (văn
// thư cơ quan), which Decree 30/2020/NĐ-CP has receive and register the
// documents that come to the agency, sits in the Office.
func (c edxmlCourier) UnitOf(ctx context.Context, code string) (int64, error) {
	conf, err := c.node.Conf()
	if err != nil {
		return 0, err
	}
	if node, ok := conf.NodeOf(edxmlClient(code)); !ok || node != c.node.ID() {
		return 0, fmt.Errorf("%w: this node does not serve %s", errs.ErrNotFound, code)
	}
	u, err := c.dir.UnitByCode(ctx, code)
	if err != nil || u.Kind != identity.KindMinistry {
		return u.ID, err
	}
	office, err := c.dir.UnitByCode(ctx, c.office)
	if err != nil {
		// Not errs.ErrNotFound, which would refuse the package for good:
		// it waits in the inbox until the setting is put right.
		return 0, fmt.Errorf("records: a package to the ministry goes to the Office's queue, but --records-office %q is not a unit of the directory (%v); set it to the Office's identifier code", c.office, err)
	}
	return office.ID, nil
}

// Peers are the document systems from may send to: every edxml service
// the configuration grants it, each with the lower of the service's and
// its provider's clearance.
func (c edxmlCourier) Peers(_ context.Context, from string) ([]records.Peer, error) {
	conf, err := c.node.Conf()
	if err != nil {
		return nil, err
	}
	var out []records.Peer
	for _, svc := range conf.Services {
		if svc.ID.Service != edxmlService || svc.ID.Subsystem != edxmlSubsystem || svc.Kind != exchange.KindAsync ||
			svc.ID.Member == from || !conf.Allowed(edxmlClient(from), svc.ID) {
			continue
		}
		provider, ok := conf.Subsystem(svc.ID.Provider())
		member, known := conf.Member(svc.ID.MemberKey())
		if !ok || !known {
			continue
		}
		out = append(out, records.Peer{Organ: records.Organ{ID: member.Code, Name: member.NameVI}, MaxLevel: min(svc.MaxLevel, provider.Clearance),
			Kind: member.Kind})
	}
	return out, nil
}

// Send hands a package or status message to the exchange.
func (c edxmlCourier) Send(ctx context.Context, p records.Parcel) (string, error) {
	return c.node.Send(ctx, exchange.Outgoing{From: edxmlClient(p.From), To: edxmlServiceOf(p.To), Level: p.Level,
		ContentType: records.EdXMLContentType, Payload: p.Payload})
}

// edxmlActor names the system in the audit events of packages received.
var edxmlActor = audit.Origin{Actor: audit.System("edxml")}

// edxmlEvery is how often the inboxes of this node's document systems
// are read when no arrival woke the reader: for what another replica of
// headquarters received (this process's deliveries wake it at once).
const edxmlEvery = 10 * time.Second

// runRecordsExchange hands the records' queued packages to the exchange and
// takes in what arrives for this node's document systems, until ctx ends.
func (a *App) runRecordsExchange(spawn func(func(context.Context))) {
	spawn(func(ctx context.Context) {
		a.Records.RunCourier(audit.WithOrigin(ctx, edxmlActor), func(err error) {
			a.log.Warn("records: hand packages to the exchange (retried)", "err", err)
		})
	})
	if a.cfg.Demo && a.sims != nil {
		spawn(a.runDemoExchange)
	}
	spawn(func(ctx context.Context) {
		ctx = audit.WithOrigin(ctx, edxmlActor)
		awaitArrivals(ctx, a.Node.Arrived, edxmlEvery, func() error {
			err := a.receivePackages(ctx)
			if err != nil && ctx.Err() == nil {
				a.log.Warn("records: take in packages (retried)", "err", err)
			}
			return err
		})
	})
}

// receivePackages reads the inbox of every document system this node
// serves and gives each message to the records, in order: what is taken
// in, or refused for good (forged, malformed), is acknowledged; a passing
// failure stops that inbox until the next round, so the order holds.
func (a *App) receivePackages(ctx context.Context) error {
	conf, err := a.Node.Conf()
	if err != nil {
		return nil // not enrolled yet: nothing can have arrived
	}
	for _, sub := range conf.Subsystems {
		if sub.ID.Subsystem != edxmlSubsystem {
			continue
		}
		if node, ok := conf.NodeOf(sub.ID); !ok || node != a.Node.ID() {
			continue
		}
		// An outside agency's document system is its own (the demo
		// simulates one: edxml_demo.go), even when this node serves it.
		if m, ok := conf.Member(sub.ID.MemberKey()); ok && m.Kind == string(identity.KindAgency) {
			continue
		}
		inbox, err := a.Node.Inbox(ctx, sub.ID, 0, 100)
		if err != nil {
			return err
		}
		for _, d := range inbox {
			err := a.Records.Receive(ctx, records.Arrival{Sender: d.Sender.Member, Recipient: sub.ID.Member, Level: d.Level,
				MessageID: d.ID, Payload: d.Payload})
			switch {
			case err == nil:
			case errors.Is(err, errs.ErrInvalid) || errors.Is(err, errs.ErrTooLarge):
				a.log.Warn("records: a package was refused", "message", d.ID, "sender", d.Sender.String(), "err", err)
			default:
				return fmt.Errorf("message %s for %s: %w", d.ID, sub.ID, err)
			}
			if _, err := a.Node.Ack(ctx, sub.ID, d.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
