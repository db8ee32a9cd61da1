package registry

import (
	"context"
	"fmt"

	"chancery/internal/exchange"
	"chancery/internal/store"
)

// Plan is a batch of registrations that Ensure applies together: the
// subsystems, services and rights a node's background work needs
// (headquarters provisions each mission with them). Every change of the
// registry rebuilds, signs and stores the whole global configuration
// under the registry's write lock, so registering them one by one costs a
// publication each; a plan costs one.
type Plan struct {
	Subsystems []NewSubsystem
	Services   []NewService
	Rights     []exchange.Right
}

// Add appends q's items to p.
func (p *Plan) Add(q Plan) {
	p.Subsystems = append(p.Subsystems, q.Subsystems...)
	p.Services = append(p.Services, q.Services...)
	p.Rights = append(p.Rights, q.Rights...)
}

// Len is the number of items of p.
func (p Plan) Len() int { return len(p.Subsystems) + len(p.Services) + len(p.Rights) }

// missing returns the items of p that are not registered (rights: not in
// force) as q sees the registry, each once, in p's order.
func (p Plan) missing(ctx context.Context, q store.Queryer, instance string) (Plan, error) {
	var out Plan
	if p.Len() == 0 {
		return out, nil
	}
	subs, err := listSubsystems(ctx, q, instance, "")
	if err != nil {
		return out, err
	}
	services, err := listServices(ctx, q, instance)
	if err != nil {
		return out, err
	}
	rights, err := activeRights(ctx, q, instance)
	if err != nil {
		return out, err
	}
	haveSub := map[[2]string]bool{}
	for _, s := range subs {
		haveSub[[2]string{s.ID.Member, s.ID.Subsystem}] = true
	}
	for _, s := range p.Subsystems {
		if k := [2]string{s.Member, s.Code}; !haveSub[k] {
			haveSub[k] = true
			out.Subsystems = append(out.Subsystems, s)
		}
	}
	haveSvc := map[exchange.ServiceID]bool{}
	for _, s := range services {
		haveSvc[s.ID] = true
	}
	for _, s := range p.Services {
		if !haveSvc[s.ID] {
			haveSvc[s.ID] = true
			out.Services = append(out.Services, s)
		}
	}
	haveRight := map[exchange.Right]bool{}
	for _, r := range rights {
		haveRight[r] = true
	}
	for _, r := range p.Rights {
		if !haveRight[r] {
			haveRight[r] = true
			out.Rights = append(out.Rights, r)
		}
	}
	return out, nil
}

// apply registers what of p c's transaction does not see registered yet,
// in order: subsystems, then the services they provide, then the rights
// on them. Each item is recorded as CreateSubsystem, CreateService and
// Grant record it. It returns how many items it registered.
func (p Plan) apply(c *change) (int, error) {
	todo, err := p.missing(c.ctx, c.tx, c.instance)
	if err != nil {
		return 0, err
	}
	for _, s := range todo.Subsystems {
		if _, err := createSubsystem(c, s); err != nil {
			return 0, fmt.Errorf("subsystem %s/%s: %w", s.Member, s.Code, err)
		}
	}
	for _, s := range todo.Services {
		if _, err := createService(c, s); err != nil {
			return 0, fmt.Errorf("service %s: %w", s.ID, err)
		}
	}
	for _, r := range todo.Rights {
		if _, err := grant(c, r.Service, r.Client); err != nil {
			return 0, fmt.Errorf("right of %s to use %s: %w", r.Client, r.Service, err)
		}
	}
	return todo.Len(), nil
}

// Ensure registers what of p is not registered yet (a right: not in
// force), in one change that publishes one configuration, each item
// recorded as its own method records it ("exchange.subsystem.create",
// "exchange.service.create", "exchange.right.grant"). When everything is
// registered already it writes and publishes nothing, without taking the
// registry's write lock. It returns how many items it registered, and
// the error of the first item refused (then none is registered), such as
// an errs.FieldError (ErrInvalid) for a malformed one.
func (r *Registry) Ensure(ctx context.Context, p Plan) (int, error) {
	o, err := r.rec.Origin(ctx)
	if err != nil {
		return 0, err
	}
	// Looked at first without the write lock: the periodic callers find
	// everything registered almost always.
	if todo, err := p.missing(ctx, r.db, r.opts.Instance); err != nil {
		return 0, fmt.Errorf("provision: %w", err)
	} else if todo.Len() == 0 {
		return 0, nil
	}
	var n int
	_, err = r.inTx(ctx, o, func(c *change) error {
		var err error
		if n, err = p.apply(c); err == nil && n == 0 {
			err = errUnchanged // another replica registered them meanwhile
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("provision: %w", err)
	}
	return n, nil
}
