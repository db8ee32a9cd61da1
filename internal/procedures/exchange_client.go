package procedures

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/identity"
)

// ExchangeClient is how the procedures reach outside agencies: through
// this node's exchange, as its procedures subsystem (at headquarters) or
// its consular subsystem (at a mission). It implements Population (the
// National Population Database's citizen lookup) and NationalPortalSender (the
// National Public Service Portal's dossier statuses).
//
// It lives here, not in the exchange, because what it asks and how it
// reads the answers (a person, a 404 meaning "no such citizen") is the
// procedures' business; the exchange carries requests and knows nothing
// of citizens.
type ExchangeClient struct {
	node *exchange.Node
	dir  UnitLister
	// population and statuses are the outside services used, from the
	// node's configuration.
	population, statuses exchange.ServiceID
	// hq is headquarters' client once found: the ministry's code does
	// not change, so it is looked up once, not on every report.
	hq atomic.Pointer[exchange.ClientID]
}

// UnitLister lists the directory's units; *identity.Service implements
// it. Headquarters' client is named after the root unit's code.
type UnitLister interface {
	AllUnits(ctx context.Context) ([]identity.Unit, error)
}

// NewExchangeClient returns the client that calls population (the
// citizen lookup service) and sends dossier statuses to statuses through
// node, acting as the subsystem the node's role gives (see client).
func NewExchangeClient(node *exchange.Node, dir UnitLister, population, statuses exchange.ServiceID) *ExchangeClient {
	return &ExchangeClient{node: node, dir: dir, population: population, statuses: statuses}
}

// client returns the subsystem the procedures act as.
func (l *ExchangeClient) client(ctx context.Context) (exchange.ClientID, error) {
	c := exchange.ClientID{Instance: exchange.DefaultInstance, Class: exchange.ClassGOV}
	if l.node.Role() == exchange.RoleMission {
		conf, err := l.node.Conf()
		if err != nil {
			return c, err
		}
		info, ok := conf.Node(l.node.ID())
		if !ok {
			return c, fmt.Errorf("%w: this node is not in the exchange's configuration", errs.ErrUnavailable)
		}
		c.Member, c.Subsystem = info.Member, "consular"
		return c, nil
	}
	if hq := l.hq.Load(); hq != nil {
		return *hq, nil
	}
	units, err := l.dir.AllUnits(ctx)
	if err != nil {
		return c, err
	}
	for _, u := range units {
		if u.ParentID == 0 {
			c.Member, c.Subsystem = u.Code, "procedures"
			l.hq.Store(&c)
			return c, nil
		}
	}
	return c, fmt.Errorf("%w: the directory has no ministry", errs.ErrUnavailable)
}

// Lookup asks the National Population Database for a citizen, saying for
// whom and why (the exchange carries both to the database's log).
func (l *ExchangeClient) Lookup(ctx context.Context, q PopulationQuery) (Person, error) {
	client, err := l.client(ctx)
	if err != nil {
		return Person{}, err
	}
	id := q.IDNumber
	h := http.Header{}
	h.Set("Accept", "application/json")
	h.Set(exchange.HeaderUserID, q.EndUser)
	h.Set(exchange.HeaderIssue, q.Purpose)
	resp, err := l.node.Call(ctx, client, &exchange.Request{Service: l.population, Method: http.MethodGet,
		Path: "/v1/citizens/" + url.PathEscape(id), Header: h, Level: authz.Unclassified})
	if err != nil {
		return Person{}, fmt.Errorf("%w: the National Population Database cannot be reached: %v", errs.ErrUnavailable, err)
	}
	switch {
	case resp.Status == http.StatusNotFound:
		return Person{}, fmt.Errorf("%w: the National Population Database has no citizen with number %s", errs.ErrNotFound, id)
	case resp.Status != http.StatusOK:
		return Person{}, fmt.Errorf("%w: the National Population Database answered %d", errs.ErrUnavailable, resp.Status)
	}
	var p Person
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		return Person{}, fmt.Errorf("%w: the National Population Database's answer is not understood: %v", errs.ErrUnavailable, err)
	}
	return p, nil
}

// SendStatus hands a status report to the exchange for the national
// portal.
func (l *ExchangeClient) SendStatus(ctx context.Context, payload []byte) (string, error) {
	client, err := l.client(ctx)
	if err != nil {
		return "", err
	}
	return l.node.Send(ctx, exchange.Outgoing{From: client, To: l.statuses, Level: authz.Unclassified,
		ContentType: "application/json", Payload: payload})
}
