package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"chancery/internal/audit"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
	"chancery/internal/insight"
)

// Insight's parcels between headquarters and missions, carried by this
// node's exchange: every node's own member (the ministry at headquarters,
// the mission at a mission) has a subsystem "insight" receiving on its
// asynchronous service insight/parcels/v1. Headquarters registers both
// for every node of the configuration, and the rights both ways between
// itself and each mission; a mission's task updates and report
// submissions go up, headquarters' tasks, rounds and decisions come down.
// insight knows only insight.Courier, implemented here; its outbox keeps
// what the exchange has not taken, and the exchange's message log keeps
// what the link has not carried (a cut link delays, loses nothing).

const (
	insightSubsystem = "insight"
	insightService   = "parcels"
	insightVersion   = "v1"
)

func insightClient(member string) exchange.ClientID {
	return exchange.ClientID{Instance: exchange.DefaultInstance, Class: exchange.ClassGOV, Member: member, Subsystem: insightSubsystem}
}

func insightServiceOf(member string) exchange.ServiceID {
	return exchange.ServiceID{ClientID: insightClient(member), Service: insightService, Version: insightVersion}
}

// insightActor names the system in the events of parcels taken in.
var insightActor = audit.Origin{Actor: audit.System("insight")}

// insightPoll is how often the node hands insight's outbox to the
// exchange and reads its inbox: a quarter of a second keeps a report
// round's aggregate current well within a second of the last arrival.
const insightPoll = 250 * time.Millisecond

// insightRegister is how often headquarters looks for nodes whose
// insight subsystem, service and rights are not registered yet.
const insightRegister = 2 * time.Second

// insightCourier is insight.Courier over the exchange node.
type insightCourier struct{ a *App }

// Remote reports whether another node serves the unit's member: a mission
// enrolled with its own node, seen from headquarters; headquarters, seen
// from a mission. A unit no node serves (a mission not enrolled, whose
// staff work at headquarters) works here.
func (c insightCourier) Remote(_ context.Context, code string) (bool, error) {
	conf, err := c.a.Node.Conf()
	if err != nil {
		return false, nil // no configuration yet: every unit works here
	}
	node, ok := conf.NodeOf(insightClient(code))
	return ok && node != "" && node != c.a.Node.ID(), nil
}

// Send hands a parcel to the exchange, which makes it durable before it
// answers.
func (c insightCourier) Send(ctx context.Context, p insight.Parcel) (string, error) {
	return c.a.Node.Send(ctx, exchange.Outgoing{From: insightClient(p.From), To: insightServiceOf(p.To), Level: insight.ParcelLevel(p.Payload),
		ContentType: insight.ContentType, Payload: p.Payload})
}

// runInsightExchange hands insight's outbox to the exchange and takes in
// what arrives on this node's insight subsystem; at headquarters, it also
// registers the insight subsystems, services and rights of the nodes as
// they enrol. It runs until ctx ends.
func (a *App) runInsightExchange(ctx context.Context) {
	ctx = audit.WithOrigin(ctx, insightActor)
	t := time.NewTicker(insightPoll)
	defer t.Stop()
	known := map[string]bool{}
	var registered time.Time
	for {
		if a.Registry != nil && time.Since(registered) >= insightRegister {
			registered = time.Now()
			if err := a.ensureInsightExchange(ctx, known); err != nil && ctx.Err() == nil {
				a.log.Warn("insight: register the nodes' insight exchange (retried)", "err", err)
			}
		}
		if _, err := a.Insight.Deliver(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("insight: hand parcels to the exchange (retried)", "err", err)
		}
		if err := a.takeInsightParcels(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("insight: take in parcels (retried)", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ensureInsightExchange registers, for each node of the configuration not
// in known, its member's insight subsystem and service and, for a
// mission, its rights to headquarters' service and headquarters' to its.
func (a *App) ensureInsightExchange(ctx context.Context, known map[string]bool) error {
	conf, err := a.Node.Conf()
	if err != nil {
		return nil // no configuration yet
	}
	hq, _ := sentinelMembers(conf, a.Node.ID())
	if hq == "" {
		return nil // the ministry is not a member yet
	}
	for _, n := range conf.Nodes {
		member := n.Member
		if n.Role == exchange.RoleHQ {
			member = hq
		}
		if known[n.ID] || member == "" {
			continue
		}
		if err := a.ensureInsightService(ctx, member); err != nil {
			return err
		}
		if n.Role != exchange.RoleHQ {
			if err := a.ensureInsightService(ctx, hq); err != nil {
				return err
			}
			for _, g := range []struct {
				svc    exchange.ServiceID
				client exchange.ClientID
			}{{insightServiceOf(hq), insightClient(member)}, {insightServiceOf(member), insightClient(hq)}} {
				if _, err := a.Registry.Grant(ctx, g.svc, g.client); err != nil && !errors.Is(err, errs.ErrConflict) {
					return err
				}
			}
		}
		known[n.ID] = true
	}
	return nil
}

// ensureInsightService registers member's insight subsystem and its
// service, if they are not yet.
func (a *App) ensureInsightService(ctx context.Context, member string) error {
	if err := a.ensureSubsystem(ctx, member, insightSubsystem, "Chỉ đạo điều hành (nhiệm vụ, báo cáo)", insight.MaxRemoteLevel); err != nil {
		return err
	}
	svc := insightServiceOf(member)
	if _, err := a.Registry.Service(ctx, svc); !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	_, err := a.Registry.CreateService(ctx, registry.NewService{ID: svc, Kind: exchange.KindAsync, MaxLevel: insight.MaxRemoteLevel,
		Title: "Nhận nhiệm vụ, cập nhật và báo cáo định kỳ", Description: "Insight: nhiệm vụ chỉ đạo, tiến độ, đợt báo cáo và báo cáo giữa trụ sở và cơ quan đại diện."})
	return err
}

// takeInsightParcels gives what arrived on this node's insight subsystem
// to insight, in order: what is taken in, or refused for good (forged,
// malformed: insight records the refusal), is acknowledged; a passing
// failure stops until the next round, so the order holds. A copy
// delivered again after a restart (taken in, not yet acknowledged)
// changes nothing: insight knows each item by its uid.
func (a *App) takeInsightParcels(ctx context.Context) error {
	conf, err := a.Node.Conf()
	if err != nil {
		return nil // not enrolled yet: nothing can have arrived
	}
	_, self := sentinelMembers(conf, a.Node.ID())
	if self == "" {
		return nil
	}
	inbox := insightClient(self)
	const page = 100
	for after := int64(0); ; {
		got, err := a.Node.Inbox(ctx, inbox, after, page)
		if errors.Is(err, errs.ErrNotFound) {
			return nil // not registered yet
		} else if err != nil {
			return err
		}
		for _, d := range got {
			after = d.Seq
			err := a.Insight.Receive(ctx, insight.Arrival{Sender: d.Sender.Member, MessageID: d.ID, Payload: d.Payload})
			switch {
			case err == nil:
			case errors.Is(err, errs.ErrInvalid):
				a.log.Warn("insight: a parcel was refused", "message", d.ID, "sender", d.Sender.String(), "err", err)
			default:
				return fmt.Errorf("message %s from %s: %w", d.ID, d.Sender, err)
			}
			if _, err := a.Node.Ack(ctx, inbox, d.ID); err != nil {
				return err
			}
		}
		if len(got) < page {
			return nil
		}
	}
}
