package app

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"chancery/internal/bus"
	"chancery/internal/exchange"
)

// openExchange enrols a mission with headquarters on its first start,
// then opens the node's exchange identity. It runs before the bus opens,
// since a mission's bus joins the leaf URLs headquarters gave it.
func (a *App) openExchange(ctx context.Context) error {
	role := exchange.NodeRole(a.cfg.Role)
	if role == exchange.RoleMission && a.cfg.Token != "" {
		enrolled, err := exchange.Enrolled(ctx, a.DB)
		if err != nil {
			return err
		}
		if !enrolled {
			if err := exchange.Enrol(ctx, a.DB, a.Keys, a.cfg.Join, a.cfg.Token, nil); err != nil {
				return err
			}
			a.log.Info("enrolled with headquarters", "hq", a.cfg.Join)
		}
	}
	var err error
	a.Node, err = exchange.OpenNode(ctx, a.DB, a.Keys, a.Audit, exchange.NodeOptions{
		Role: role, Retention: a.cfg.ExchangeRetention, Logger: a.log, Registerer: a.metrics,
	})
	return err
}

// busOptions are the message bus's options for this node: its server is
// named after the node and has the node's JetStream domain; headquarters
// accepts leaf nodes, and a mission joins headquarters as one.
func (a *App) busOptions() (bus.Options, error) {
	opts := bus.Options{DataDir: a.cfg.DataDir, URL: a.cfg.NATS, Port: a.cfg.NATSPort, Logger: a.log,
		ServerName: a.Node.ID(), JetStreamDomain: a.Node.Domain(), LeafRemotes: a.Node.LeafURLs()}
	if a.Node.Role() == exchange.RoleHQ && a.cfg.LeafAddr != "" {
		host, port, err := net.SplitHostPort(a.cfg.LeafAddr)
		if err != nil {
			return opts, fmt.Errorf("--leaf-addr %q: %w", a.cfg.LeafAddr, err)
		}
		opts.Host = host
		opts.LeafListenPort, _ = strconv.Atoi(port)
	}
	return opts, nil
}

// leafURLs are the URLs headquarters gives enrolling missions: the host
// missions reach it by (from --public-url) and the leaf port.
func (a *App) leafURLs() []string {
	if a.cfg.LeafAddr == "" {
		return nil
	}
	_, port, _ := net.SplitHostPort(a.cfg.LeafAddr)
	host := "127.0.0.1"
	if u, err := url.Parse(a.publicURL()); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return []string{"nats-leaf://" + net.JoinHostPort(host, port)}
}

// publicURL is where missions and information systems reach this node.
func (a *App) publicURL() string {
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	return a.baseURL()
}
