package app

import (
	"context"
	"errors"

	"chancery/internal/analytics"
	"chancery/internal/exchange"
	"chancery/internal/insight/operations"
	"chancery/internal/web"
)

// operationsRoutes adds the operations view (internal/insight/operations)
// over the summaries the database keeps of the capabilities' tables
// (migration 00043), the analytics store's facts and the exchange node's
// links.
func (a *App) operationsRoutes(rt *web.Router, shell *web.Shell) error {
	src := operations.AnalyticsSource{Base: operations.FactSource{DB: a.DB}, Facts: analytics.NewStore(a.DB)}
	svc, err := operations.NewService(operations.Options{Source: src, Directory: a.Identity,
		Links: operationsLinks{a}})
	if err != nil {
		return err
	}
	h, err := operations.NewHandler(shell, svc)
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}

// operationsLinks is the exchange node's links to the missions as the
// operations view reads them: none when the node has no exchange or no
// configuration yet.
type operationsLinks struct{ a *App }

func (l operationsLinks) Links(ctx context.Context) ([]operations.Link, error) {
	n := l.a.Node
	if n == nil {
		return nil, nil
	}
	conf, err := n.Conf()
	if errors.Is(err, exchange.ErrNoConf) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	m, err := n.Monitor(ctx)
	if err != nil {
		return nil, err
	}
	pending := map[string]int64{}
	for _, b := range m.Backlog {
		pending[b.Destination] = b.Pending
	}
	var out []operations.Link
	for _, ls := range m.Links {
		info, ok := conf.Node(ls.Peer)
		if !ok || ls.Role != exchange.RoleMission {
			continue
		}
		out = append(out, operations.Link{Member: info.Member, Known: ls.Known, Connected: ls.Connected, Since: ls.Since,
			Backlog: ls.Waiting + pending[ls.Peer]})
	}
	return out, nil
}
