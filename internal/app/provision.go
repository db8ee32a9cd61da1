package app

import (
	"context"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
)

// Headquarters provisions every node's background work on the exchange:
// insight's parcels, Sentinel's alerts and the ledger's witnessing each
// need subsystems, services and rights between the node's member and
// headquarters'. Each capability contributes its part to one plan, which
// the registry registers in one change: a mission's in its enrolment's
// own change (registry.Options.Provision), so the first configuration it
// receives already lets it work; headquarters' own node, and any node
// enrolled before or whose registration failed, by the periodic
// runProvisioning, all new nodes at once. Registering item by item cost a
// publication of the whole signed configuration each, about nine per
// mission, which queued the enrolments of a hundred missions behind one
// another.

// provisionInterval is how often headquarters looks for nodes whose
// provisioning it has not checked yet.
const provisionInterval = 2 * time.Second

// provisionPlan is what node n needs registered, given headquarters'
// member hq: each capability's part for headquarters' side and, for a
// mission, for the mission's, with the rights between the two. The
// registry skips what is registered, so headquarters' side is named for
// every mission.
func provisionPlan(hq string, n exchange.NodeInfo) registry.Plan {
	var p registry.Plan
	for _, part := range []func(hq, member string, mission bool) registry.Plan{insightProvision, sentinelProvision, witnessProvision} {
		p.Add(part(hq, hq, false))
		if n.Role != exchange.RoleHQ && n.Member != "" {
			p.Add(part(hq, n.Member, true))
		}
	}
	return p
}

// asyncService is a background asynchronous service, cleared for
// confidential messages.
func asyncService(id exchange.ServiceID, title, description string) registry.NewService {
	return registry.NewService{ID: id, Kind: exchange.KindAsync, MaxLevel: authz.Confidential, Title: title, Description: description}
}

// backgroundSubsystem is member's subsystem code, titled title, carrying
// the node's background work up to clearance.
func backgroundSubsystem(member, code, title string, clearance authz.Level) registry.NewSubsystem {
	return registry.NewSubsystem{Member: member, Code: code, Title: title, Clearance: clearance}
}

// runProvisioning, at headquarters, registers what the nodes of the
// configuration need (provisionPlan), and sends each mission what insight
// made for its unit before it enrolled, until ctx ends.
func (a *App) runProvisioning(ctx context.Context) {
	insightCtx := audit.WithOrigin(ctx, insightActor)
	ctx = audit.WithOrigin(ctx, exchangeActor)
	known := map[string]bool{}
	var caughtUp time.Time
	every(ctx, provisionInterval, func() {
		fresh, err := a.ensureProvisioned(ctx, known)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("exchange: provision the nodes (retried)", "err", err)
		}
		for _, member := range fresh {
			if _, err := a.Insight.CatchUp(insightCtx, member); err != nil && ctx.Err() == nil {
				a.log.Warn("insight: send a mission what was made for it before it enrolled (retried)", "member", member, "err", err)
			}
		}
		if time.Since(caughtUp) >= insightCatchUp {
			caughtUp = time.Now()
			if err := a.catchUpMissions(insightCtx); err != nil && ctx.Err() == nil {
				a.log.Warn("insight: send missions what was made for them before they enrolled (retried)", "err", err)
			}
		}
	})
}

// ensureProvisioned registers, in one change of the registry, what the
// nodes of the configuration not in known need, and marks them known. It
// returns the members of the missions among them. It does nothing before
// headquarters holds a configuration naming the ministry as a member.
func (a *App) ensureProvisioned(ctx context.Context, known map[string]bool) ([]string, error) {
	if a.Registry == nil {
		return nil, nil
	}
	conf, err := a.Node.Conf()
	if err != nil {
		return nil, nil // no configuration yet
	}
	hq, _ := sentinelMembers(conf, a.Node.ID())
	if hq == "" {
		return nil, nil // the ministry is not a member yet
	}
	var plan registry.Plan
	var fresh []exchange.NodeInfo
	for _, n := range conf.Nodes {
		if known[n.ID] || (n.Role != exchange.RoleHQ && n.Member == "") {
			continue
		}
		plan.Add(provisionPlan(hq, n))
		fresh = append(fresh, n)
	}
	if len(fresh) == 0 {
		return nil, nil
	}
	if _, err := a.Registry.Ensure(ctx, plan); err != nil {
		return nil, err
	}
	var missions []string
	for _, n := range fresh {
		known[n.ID] = true
		if n.Role != exchange.RoleHQ {
			missions = append(missions, n.Member)
		}
	}
	return missions, nil
}
