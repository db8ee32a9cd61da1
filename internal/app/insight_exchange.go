package app

import (
	"context"
	"time"

	"chancery/internal/audit"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
	"chancery/internal/insight"
)

// Insight's parcels between headquarters and missions, carried by this
// node's exchange: every node's own member (the ministry at headquarters,
// the mission at a mission) has a subsystem "insight" receiving on its
// asynchronous service insight/parcels/v1. Headquarters registers both
// for every node, and the rights both ways between itself and each
// mission (insightProvision, part of provisionPlan); a mission's task
// updates and report submissions go up, headquarters' tasks, rounds and
// decisions come down.
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

// insightEvery is how often the node hands insight's outbox to the
// exchange and reads its inbox when nothing woke it sooner: for what
// another replica of headquarters queued or received and did not pass on
// (it died first). This process's own parcels and arrivals wake the loop
// at once (runInsightExchange); insightRetry paces the passes after a
// failure (a mission's service not registered yet, the exchange
// starting).
const (
	insightEvery = 5 * time.Second
	insightRetry = time.Second
)

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

// insightCatchUp is how often headquarters looks again, for every
// mission node, for tasks and rounds made for its unit before it
// enrolled that are not queued for it yet (insight.Service.CatchUp): a
// task assigned while the mission's registration was under way is sent
// at the latest then.
const insightCatchUp = time.Minute

// runInsightExchange hands insight's outbox to the exchange and takes in
// what arrives on this node's insight subsystem, until ctx ends. It
// passes as soon as this process queues parcels (insight.Service.Queued)
// or its exchange delivers messages (Node.Arrived), so a task reaches
// the exchange as it is assigned and a report round is counted as its
// last submission commits; every insightRetry while a pass fails; and
// every insightEvery for what another replica of headquarters left (each
// replica's own loop passes on what that replica queued and received).
// A node at rest reads nothing between those ticks.
func (a *App) runInsightExchange(ctx context.Context) {
	ctx = audit.WithOrigin(ctx, insightActor)
	tick := time.NewTicker(insightEvery)
	defer tick.Stop()
	for {
		// Taken before the pass, so what commits during it wakes the next.
		arrived := a.Node.Arrived()
		select {
		case <-a.Insight.Queued():
		default:
		}
		failed := false
		if _, err := a.Insight.Deliver(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("insight: hand parcels to the exchange (retried)", "err", err)
			failed = true
		}
		if err := a.takeInsightParcels(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("insight: take in parcels (retried)", "err", err)
			failed = true
		}
		var retry <-chan time.Time
		if failed {
			retry = time.After(insightRetry)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-arrived:
		case <-a.Insight.Queued():
		case <-retry:
		}
	}
}

// catchUpMissions queues for every mission node what was made for its
// unit before it enrolled and is not queued for it yet.
func (a *App) catchUpMissions(ctx context.Context) error {
	conf, err := a.Node.Conf()
	if err != nil {
		return nil // no configuration yet
	}
	for _, n := range conf.Nodes {
		if n.Role == exchange.RoleHQ || n.Member == "" {
			continue
		}
		if _, err := a.Insight.CatchUp(ctx, n.Member); err != nil {
			return err
		}
	}
	return nil
}

// insightProvision is insight's part of a node's provisioning
// (provisionPlan): member's insight subsystem and service and, for a
// mission, the rights both ways between it and headquarters' hq.
func insightProvision(hq, member string, mission bool) registry.Plan {
	p := registry.Plan{
		Subsystems: []registry.NewSubsystem{backgroundSubsystem(member, insightSubsystem, "Chỉ đạo điều hành (nhiệm vụ, báo cáo)", insight.MaxRemoteLevel)},
		Services: []registry.NewService{{ID: insightServiceOf(member), Kind: exchange.KindAsync, MaxLevel: insight.MaxRemoteLevel,
			Title: "Nhận nhiệm vụ, cập nhật và báo cáo định kỳ", Description: "Insight: nhiệm vụ chỉ đạo, tiến độ, đợt báo cáo và báo cáo giữa trụ sở và cơ quan đại diện."}},
	}
	if mission {
		p.Rights = []exchange.Right{{Service: insightServiceOf(hq), Client: insightClient(member)}, {Service: insightServiceOf(member), Client: insightClient(hq)}}
	}
	return p
}

// takeInsightParcels gives what arrived on this node's insight subsystem
// to insight, in order, a page in one transaction (takeInbox). A copy
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
	return a.takeInbox(ctx, insightClient(self), "insight: a parcel", func(page []exchange.Delivered) error {
		arrivals := make([]insight.Arrival, len(page))
		for i, d := range page {
			arrivals[i] = insightArrival(d)
		}
		return a.Insight.ReceiveAll(ctx, arrivals)
	}, func(d exchange.Delivered) error {
		return a.Insight.Receive(ctx, insightArrival(d))
	})
}

// insightArrival is what insight knows of a message delivered to it.
func insightArrival(d exchange.Delivered) insight.Arrival {
	return insight.Arrival{Sender: d.Sender.Member, MessageID: d.ID, Payload: d.Payload}
}
