package exchange

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"chancery/internal/errs"
)

// Distribution of the global configuration. Core NATS crosses leaf
// links, so headquarters publishes each new configuration on chx.conf
// and answers requests on chx.conf.get; missions install what they
// receive (Install verifies it) and ask at start, every few minutes and
// whenever their link to headquarters comes back.

// PublishConf installs a signed configuration on this headquarters node
// and publishes it to the missions. Missions that are offline get it
// when they ask on reconnecting.
func (n *Node) PublishConf(ctx context.Context, signed []byte) error {
	if n.role != RoleHQ {
		return fmt.Errorf("exchange: only headquarters publishes the global configuration: %w", errs.ErrForbidden)
	}
	if err := n.Install(ctx, signed); err != nil {
		return err
	}
	if n.bus == nil {
		return nil
	}
	if err := n.bus.Conn().Publish(confSubject, signed); err != nil {
		return fmt.Errorf("exchange: publish the global configuration: %w", err)
	}
	if t := n.transport(); t != nil {
		t.syncSources()
	}
	return nil
}

// serveConf subscribes to the configuration subjects of the node's role.
// Headquarters answers requests for the configuration, and takes up the
// configurations published on confSubject too: another replica of
// headquarters, on the same database, may have published one, and a
// replica must enforce it within seconds, not at its next refresh. A
// replica's own publication comes back to it as a copy with the serial it
// holds, which Install ignores.
func (t *transport) serveConf() ([]*nats.Subscription, error) {
	sub, err := t.nc.Subscribe(confSubject, func(m *nats.Msg) { t.installConf(m.Data) })
	if err != nil {
		return nil, fmt.Errorf("exchange: subscribe to the global configuration: %w", err)
	}
	if t.n.role == RoleHQ {
		get, err := t.nc.Subscribe(confGetSubject, func(m *nats.Msg) {
			raw, err := t.n.SignedConf()
			if err != nil {
				return
			}
			if err := m.Respond(raw); err != nil {
				t.n.log.Warn("exchange: answer a configuration request", "err", err)
			}
		})
		if err != nil {
			sub.Unsubscribe() //nolint:errcheck // the transport fails to start
			return nil, fmt.Errorf("exchange: serve the global configuration: %w", err)
		}
		return []*nats.Subscription{sub, get}, nil
	}
	return []*nats.Subscription{sub}, nil
}

// installConf installs a configuration received from headquarters.
func (t *transport) installConf(signed []byte) {
	err := t.n.Install(t.ctx, signed)
	switch {
	case err == nil:
		t.syncSources()
	case errors.Is(err, errs.ErrConflict):
		t.n.log.Debug("exchange: ignored an older global configuration", "err", err)
	default:
		t.n.log.Error("exchange: refused a global configuration", "err", err)
	}
}

// runConfRequests asks headquarters for the configuration at start,
// every confRefresh, when the link comes back, and when a refusal asks
// for it (conflatest.go).
func (t *transport) runConfRequests(ctx context.Context) {
	tick := time.NewTicker(confRefresh)
	defer tick.Stop()
	for {
		if err := t.askConf(ctx, time.Now()); err != nil && ctx.Err() == nil {
			t.n.log.Debug("exchange: ask headquarters for the configuration", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-t.confKick:
		}
	}
}
