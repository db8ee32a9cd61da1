package exchange

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"chancery/internal/errs"
)

// Distribution of the global configuration. Core NATS crosses leaf
// links, so headquarters publishes new configurations on chx.conf (the
// newest, at most every confPublishGap) and answers requests on
// chx.conf.get; missions install what they receive (Install verifies
// it) and ask at start, every confRefresh (naming the serial they hold)
// and whenever their link to headquarters comes back.

// confPublishGap is the least time between two publications of the
// configuration by a running headquarters transport. Registering a
// mission changes the registry several times in a row (its node, then
// its subsystems, services and rights), each change a new configuration
// of a size that grows with the missions; publishing each one to every
// mission made enrolling n missions cost each of them n² parses, and 95
// missions did not finish setting up. Only the newest matters: the
// serial says which. Headquarters itself enforces a change (a revoked
// node's link is closed) at once.
const confPublishGap = 2 * time.Second

// PublishConf installs a signed configuration on this headquarters node
// and publishes it to the missions: at once when the node's transport is
// not running, otherwise by the transport's publisher, which sends the
// newest configuration at most every confPublishGap, so one published
// meanwhile supersedes the one before. Missions that are offline get it
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
	if t := n.transport(); t != nil {
		t.confOut.Store(&signed)
		kick(t.confPub)
		t.syncSources()
		return nil
	}
	if err := n.bus.Conn().Publish(confSubject, signed); err != nil {
		return fmt.Errorf("exchange: publish the global configuration: %w", err)
	}
	return nil
}

// runConfPublisher publishes, at headquarters, the newest configuration
// PublishConf left, then waits confPublishGap before the next.
func (t *transport) runConfPublisher(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.confPub:
		}
		if signed := t.confOut.Swap(nil); signed != nil {
			if err := t.nc.Publish(confSubject, *signed); err != nil && ctx.Err() == nil {
				t.n.log.Warn("exchange: publish the global configuration (the missions ask for it again)", "err", err)
			}
		}
		if !sleep(ctx, confPublishGap) {
			return
		}
	}
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
			// A mission that names the serial it holds gets an empty
			// answer when it holds the newest (see runConfRequests).
			if held, err := strconv.ParseUint(string(m.Data), 10, 64); err == nil {
				if c, err := t.n.Conf(); err == nil && c.Serial <= held {
					raw = nil
				}
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

// runConfFollower, at headquarters, takes up every confFollow a newer
// configuration that another replica installed in the shared database:
// the serial is read first, so a replica that holds the newest pays one
// small query.
func (t *transport) runConfFollower(ctx context.Context) {
	tick := time.NewTicker(confFollow)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var stored uint64
		if err := t.n.db.QueryRowContext(ctx, `SELECT conf_serial FROM exchange_node WHERE id = 1`).Scan(&stored); err != nil {
			continue // the database is away; the next tick tries again
		}
		if c, err := t.n.Conf(); err == nil && c.Serial >= stored {
			continue
		}
		if _, err := t.latestConf(ctx); err != nil && ctx.Err() == nil {
			t.n.log.Warn("exchange: take up the configuration another replica installed", "err", err)
		}
	}
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
// every confRefresh, when the link comes back, and when a
// refusal asks for it (conflatest.go). It names the serial
// it holds, so that headquarters answers with the configuration only
// when it has a newer one: a publication is a message without
// acknowledgement, which a link that dropped for a moment loses, and
// asking often is what makes up for it.
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
