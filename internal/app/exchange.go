package app

import (
	"chancery/internal/dlp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chancery/internal/architecture"
	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/bus"
	"chancery/internal/config"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
	"chancery/internal/govsim"
	"chancery/internal/procedures"
	"chancery/internal/records"
	"chancery/internal/web"
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
	// Headquarters on an external NATS server may run as several
	// replicas: each source node's messages are then received on one
	// replica at a time, under a lease, to keep each sender's order.
	var receiveLease time.Duration
	if role == exchange.RoleHQ && a.cfg.NATS != "" {
		receiveLease = exchange.ReplicaReceiveLease
	}
	var err error
	a.Node, err = exchange.OpenNode(ctx, a.DB, a.Keys, a.Audit, exchange.NodeOptions{
		Role: role, Retention: a.cfg.ExchangeRetention, Logger: a.log, Registerer: a.metrics,
		WebhookAllow: strings.Split(a.cfg.WebhookAllow, ","), Egress: a.DLP.Gate(dlp.WayExchange),
		ReceiveLease: receiveLease,
	})
	return err
}

// busOptions are the message bus's options for this node: its server is
// named after the node and has the node's JetStream domain; headquarters
// accepts leaf nodes, and a mission joins headquarters as one.
func (a *App) busOptions() (bus.Options, error) {
	opts := bus.Options{DataDir: a.cfg.DataDir, URL: a.cfg.NATS, Port: natsPort(a.cfg.NATSPort), Logger: a.log, Replicas: a.cfg.NATSReplicas,
		ServerName: a.Node.ID(), JetStreamDomain: a.Node.Domain(), LeafRemotes: a.Node.LeafURLs(),
		// Every stream but the exchange's, which headquarters reads
		// across the leaf link: the ledger's consumers are the node's own.
		LeafLocalStreams: []string{audit.StreamName}}
	files := exchange.LeafTLSFiles{CertFile: a.cfg.LeafTLSCert, KeyFile: a.cfg.LeafTLSKey, CAFile: a.cfg.LeafTLSCA}
	var err error
	if a.Node.Role() == exchange.RoleHQ && a.cfg.LeafAddr != "" && a.cfg.NATS == "" {
		host, port, err := net.SplitHostPort(a.cfg.LeafAddr)
		if err != nil {
			return opts, fmt.Errorf("--leaf-addr %q: %w", a.cfg.LeafAddr, err)
		}
		opts.Host = host
		if opts.LeafListenPort, err = strconv.Atoi(port); err != nil || opts.LeafListenPort < 0 {
			return opts, fmt.Errorf("--leaf-addr %q: the port is not a number (0 picks any free port)", a.cfg.LeafAddr)
		}
		if opts.LeafListenPort == 0 {
			opts.LeafListenPort = bus.AnyPort
		}
		if opts.LeafHub, err = a.Node.LeafHub(files); err != nil {
			return opts, err
		}
	}
	if len(opts.LeafRemotes) > 0 && a.cfg.NATS == "" {
		if opts.LeafDial, err = a.Node.LeafDial(files); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// natsPort is the bus's client port for --nats-port: -1 keeps the
// server in-process (the bus's 0), 0 asks for any free port.
func natsPort(port int) int {
	switch port {
	case config.NATSInProcess:
		return 0
	case 0:
		return bus.AnyPort
	}
	return port
}

// leafURLs are the URLs headquarters gives enrolling missions: the host
// missions reach it by (from --public-url) and the leaf port, the one
// the bus chose when --leaf-addr asked for any.
func (a *App) leafURLs() []string {
	if a.cfg.LeafAddr == "" {
		return nil
	}
	_, port, _ := net.SplitHostPort(a.cfg.LeafAddr)
	if a.Bus != nil {
		if _, chosen, err := net.SplitHostPort(a.Bus.LeafAddr()); err == nil {
			port = chosen
		}
	}
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

// exchangeActor names the system in the audit events of the exchange's
// own changes (registering headquarters' node, the demo exchange).
var exchangeActor = audit.Origin{Actor: audit.System("exchange")}

// openRegistry opens the exchange registry at headquarters. A mission has
// no registry.
func (a *App) openRegistry(ctx context.Context) error {
	if a.Node.Role() != exchange.RoleHQ {
		return nil
	}
	a.Registry = registry.New(a.DB, a.Identity, a.Keys, registry.Options{
		LeafURLs: a.leafURLs(),
		// On a stock NATS cluster each mission's leaf user is checked
		// by the cluster (deploy/nats), not by Chancery's hub.
		LeafPasswords: a.cfg.NATS != "",
		Recorder:      a.Audit,
		// A mission's background work is registered in its enrolment.
		Provision: provisionPlan,
		OnPublish: func(ctx context.Context, signed []byte) {
			if err := a.Node.PublishConf(ctx, signed); err != nil {
				a.log.Error("exchange: take up the new global configuration", "err", err)
			}
		},
	})
	return nil
}

// startExchange registers headquarters' node keys in the registry, which
// publishes the first global configuration on a new database (and a new
// one after a key rotation), and on a demo headquarters registers the
// demo exchange. It runs once the directory holds the ministry's unit.
func (a *App) startExchange(ctx context.Context) error {
	if a.Registry == nil {
		return nil
	}
	if err := a.Registry.EnsureHQNode(audit.WithOrigin(ctx, exchangeActor), a.Node.Info()); err != nil {
		return err
	}
	return a.seedDemoExchange(ctx)
}

// startSimulators starts, on a demo headquarters, the simulators of the
// National Population Database and the National Public Service Portal on
// a loopback port of their own (never on the public router), and points
// the demo exchange at them: the population service's backend and the
// portal subsystem's webhook, both of which move with the port on every
// start.
func (a *App) startSimulators(ctx context.Context) error {
	if !a.cfg.Demo || a.Registry == nil {
		return nil
	}
	var err error
	if a.sims, err = govsim.Start(context.WithoutCancel(ctx), "127.0.0.1:0", a.log); err != nil {
		return err
	}
	return nil
}

// seedDemoExchange registers the demo exchange (idempotent) and points
// it at this start's simulators.
func (a *App) seedDemoExchange(ctx context.Context) error {
	if a.sims == nil {
		return nil
	}
	ctx = audit.WithOrigin(ctx, exchangeActor)
	if err := a.Registry.SeedDemo(ctx, registry.DemoBackends{PopulationURL: a.sims.PopulationURL(), PopulationOpenAPI: govsim.PopulationOpenAPI()}); err != nil {
		return fmt.Errorf("seed the demo exchange: %w", err)
	}
	lookup, statuses, err := a.outsideServices()
	if err != nil {
		return err
	}
	svc, err := a.Registry.Service(ctx, lookup)
	if err != nil {
		return err
	}
	if backend := a.sims.PopulationURL(); svc.Backend != backend {
		if _, err := a.Registry.UpdateService(ctx, lookup, registry.ServicePatch{Backend: &backend}); err != nil {
			return fmt.Errorf("point %s at the simulator: %w", lookup, err)
		}
	}
	// The simulator listens on loopback, where webhooks may not point
	// unless allowed: the demo allows its own simulator's address.
	if u, err := url.Parse(a.sims.NationalPortalURL()); err == nil {
		a.Node.AllowWebhookHosts(u.Host)
	}
	if _, err := a.Node.SetWebhook(ctx, statuses.ClientID, a.sims.NationalPortalURL()+"/v1/dossier-statuses"); err != nil {
		return fmt.Errorf("point the national portal's inbox at the simulator: %w", err)
	}
	return nil
}

// exchangeRoutes registers the exchange's API, gateway and pages, the
// registry's (editable at headquarters only) and the simulators' page.
func (a *App) exchangeRoutes(rt *web.Router, shell *web.Shell) error {
	reg, err := registry.NewHandler(shell, registry.HandlerOptions{
		Conf:     func() *exchange.GlobalConf { c, _ := a.Node.Conf(); return c },
		Registry: a.Registry, JoinURL: a.publicURL(),
	})
	if err != nil {
		return err
	}
	reg.Register(rt)
	ex, err := exchange.NewHandler(a.Node, shell)
	if err != nil {
		return err
	}
	ex.Register(rt)
	if a.sims != nil {
		sims, err := govsim.NewHandler(a.sims, shell)
		if err != nil {
			return err
		}
		sims.Register(rt)
	}
	return nil
}

// principal is the middleware's authenticator: an information system's
// client token is resolved by the exchange into an authz.Client principal
// (checked there, once), anything else is a staff or citizen credential.
func (a *App) principal(r *http.Request) (web.Principal, error) {
	if p, ok, err := a.Node.Authenticate(r); ok {
		return p, err
	}
	return a.Auth.Principal(r)
}

// bodyLimit holds request bodies to the server's general limit, except
// two kinds whose handlers hold them to their own: an information
// system's, whose checked client token the router admits on the
// exchange's message API and gateway only (web.Client; their limit is the
// global configuration's), and requests that carry a dossier's
// attachments (procedures.MaxSubmissionBytes) or a document's file to a
// drafting page (records.IsDraftUpload; the handler holds it to its own). It runs after
// authentication, so an unchecked "Bearer chx_…" header is refused before
// any body is read and never lifts the limit.
func (a *App) bodyLimit(next http.Handler) http.Handler {
	general := web.LimitBody(a.cfg.MaxBody)(next)
	// Uploads stream to blob storage, each holding little memory, but
	// each holds a core's share, the disk and a temporary file of up to
	// 50 MiB: --max-uploads of them at once.
	uploads := web.Chain(next, web.LimitBody(procedures.MaxSubmissionBytes), web.LimitConcurrent(a.cfg.MaxUploads, uploadWait))
	// A records document's file is held whole in memory to be sealed:
	// its requests share the same --max-uploads slots.
	documents := web.Chain(next, web.LimitBody(records.RequestLimit(a.cfg.MaxDocumentBytes)), web.LimitConcurrent(a.cfg.MaxUploads, uploadWait))
	// An exchange-format document is decoded whole into memory: its
	// requests share the same --max-uploads slots.
	imports := web.Chain(next, web.LimitBody(a.Architecture.MaxImportBytes()), web.LimitConcurrent(a.cfg.MaxUploads, uploadWait))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if web.SubjectFrom(r.Context()).Kind == authz.Client {
			next.ServeHTTP(w, r)
		} else if procedures.IsUpload(r) || records.IsDraftUpload(r) {
			uploads.ServeHTTP(w, r)
		} else if records.IsUpload(r) {
			documents.ServeHTTP(w, r)
		} else if architecture.IsImport(r) {
			imports.ServeHTTP(w, r)
		} else {
			general.ServeHTTP(w, r)
		}
	})
}

// uploadWait is how long an upload waits for one of --max-uploads to
// finish before it is answered 503, and so the Retry-After it is given.
const uploadWait = 10 * time.Second

// runExchange runs the node's transport and gateway, and at headquarters
// renews the global configuration before missions' copies expire, until
// ctx ends.
func (a *App) runExchange(ctx context.Context, spawn func(func(context.Context))) {
	spawn(func(ctx context.Context) {
		if err := a.Node.Run(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("exchange: the transport stopped", "err", err)
		}
	})
	spawn(func(ctx context.Context) {
		if err := a.Node.ServeRequests(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("exchange: the gateway stopped", "err", err)
		}
	})
	if a.Registry == nil {
		return
	}
	spawn(a.onOne("exchange.conf-refresh", func(ctx context.Context) {
		every(ctx, time.Hour, func() {
			if err := a.Registry.Refresh(audit.WithOrigin(ctx, exchangeActor)); err != nil && !errors.Is(err, errs.ErrNotFound) && ctx.Err() == nil {
				a.log.Error("exchange: renew the global configuration", "err", err)
			}
		})
	}))
	// Every replica takes up the latest configuration hourly too: the
	// safety net under chx.conf, should a replica have missed one that
	// another published.
	spawn(func(ctx context.Context) {
		every(ctx, time.Hour, func() { a.takeLatestConf(ctx) })
	})
}
