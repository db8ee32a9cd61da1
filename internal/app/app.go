// Package app is Chancery's composition root: it builds every capability
// from the configuration, joins their routes into one server, and runs the
// subcommands.
package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // units carry IANA zones; do not depend on the host's zoneinfo

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gocloud.dev/blob"

	"chancery/internal/analytics"
	"chancery/internal/architecture"
	"chancery/internal/audit"
	"chancery/internal/auth"
	"chancery/internal/bus"
	"chancery/internal/calendar"
	"chancery/internal/config"
	"chancery/internal/console"
	"chancery/internal/dlp"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
	"chancery/internal/forecast"
	"chancery/internal/govsim"
	"chancery/internal/identity"
	"chancery/internal/insight"
	"chancery/internal/keys"
	"chancery/internal/lease"
	"chancery/internal/mail"
	"chancery/internal/portal"
	"chancery/internal/procedures"
	"chancery/internal/public"
	"chancery/internal/records"
	"chancery/internal/sentinel"
	"chancery/internal/store"
	"chancery/internal/web"
)

// App is a running Chancery node's parts.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	DB       *store.DB
	Keys     *keys.Ring
	Blobs    *blob.Bucket
	Audit    *audit.Ledger
	Bus      *bus.Bus
	Identity *identity.Service
	Auth     *auth.Service
	Node     *exchange.Node
	Registry *registry.Registry // at headquarters; nil on a mission
	// Mail is the outbox of Chancery's e-mail; nil when no mail server is
	// configured (and not --demo).
	Mail       *mail.Outbox
	Procedures *procedures.Service
	Records    *records.Service
	Portal     *portal.Service
	// Architecture is the architecture repository.
	Architecture *architecture.Service
	// Forecast forecasts each unit's weekly demand (internal/forecast).
	Forecast *forecast.Service
	// DLP checks what leaves by the exchange, records' downloads and
	// exports, and mail (data-loss prevention).
	DLP *dlp.Service
	// Insight is leadership tasks and periodic reports.
	Insight *insight.Service
	// Sentinel keeps the security monitoring's alerts and their triage.
	Sentinel *sentinel.Service
	// Catalogue is the catalogue of datasets and Analytics the analytics
	// store's query API (internal/analytics).
	Catalogue *analytics.Catalogue
	Analytics *analytics.Store
	feeder    *analytics.Feeder

	sims    *govsim.Server // the outside agencies' simulators, on a demo headquarters
	mailbox *mail.Server   // the mailbox simulator, in --demo without --smtp
	bound   atomic.Value   // string: the address Serve listens on
	// metricsBound is the address of the metrics listener (a string),
	// once there is one.
	metricsBound atomic.Value

	metrics *prometheus.Registry

	router  *web.Router
	handler http.Handler
	server  *http.Server
	started time.Time

	bgMu   sync.Mutex
	stopBg func() // stops the background work that Serve started; guarded by bgMu
	// leases runs the jobs that run on one replica at a time (onOne).
	leases *lease.Runner

	// witness is this node's witnesses of headquarters' ledger and
	// headquarters' pushes to the missions' (witness.go).
	witnessOnce sync.Once
	witness     *witnesses

	readiness readinessCache // readyz's last answer
	probeKey  string         // the object readyz writes, this process's own
}

// New opens the database (migrating it), the keyring, blob storage, the
// audit ledger and the message bus, and builds every capability's routes.
// Close releases what New opened, also when New fails part-way.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *App, err error) {
	a := &App{cfg: cfg, log: log, started: time.Now(), metrics: prometheus.NewRegistry(), probeKey: rand.Text()}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.DB, err = openStore(ctx, cfg, log); err != nil {
		return nil, err
	}
	if a.Keys, err = openKeys(ctx, cfg, a.DB); err != nil {
		return nil, err
	}
	if a.Blobs, err = store.OpenBucket(ctx, cfg.Blob, cfg.DataDir); err != nil {
		return nil, err
	}
	if a.Audit, err = audit.New(ctx, a.DB, a.Keys, audit.Options{Origin: cfg.AuditOrigin, CheckpointInterval: cfg.AuditCheckpointInterval,
		Archive: a.Blobs, Logger: log}); err != nil {
		return nil, err
	}
	if err = a.openDLP(); err != nil {
		return nil, err
	}
	if err = a.openExchange(ctx); err != nil {
		return nil, err
	}
	busOpts, err := a.busOptions()
	if err != nil {
		return nil, err
	}
	if a.Bus, err = bus.Open(ctx, busOpts); err != nil {
		return nil, err
	}
	a.Node.Attach(a.Bus)
	a.Identity = identity.NewService(a.DB, a.Audit, nil)
	if err := a.openMail(ctx); err != nil {
		return nil, err
	}
	authOpts := auth.Options{Recorder: a.Audit, Log: a.log}
	if a.Mail != nil {
		// Citizens' registration and password reset mail links to the
		// public site.
		authOpts.Mailer, authOpts.LinkBase = a.Mail, a.publicURL
	}
	a.Auth = auth.New(a.DB, a.Identity, a.Keys, authOpts)
	if err := a.openRegistry(ctx); err != nil {
		return nil, err
	}
	if err := a.startSimulators(ctx); err != nil {
		return nil, err
	}
	if err := a.openProcedures(); err != nil {
		return nil, err
	}
	if err := a.openRecords(); err != nil {
		return nil, err
	}
	if a.Portal, err = portal.NewService(portal.Options{DB: a.DB, Recorder: a.Audit, Directory: a.Identity}); err != nil {
		return nil, err
	}
	if err := a.openArchitecture(ctx); err != nil {
		return nil, err
	}
	if err := a.openForecast(); err != nil {
		return nil, err
	}
	if err := a.openInsight(); err != nil {
		return nil, err
	}
	if err := a.openSentinel(); err != nil {
		return nil, err
	}
	if err := a.openAnalytics(ctx); err != nil {
		return nil, err
	}
	if err := a.routes(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// openStore opens and migrates the database.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DB, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, log); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openKeys loads the keyring from the database, so that every replica of
// a headquarters deployment shares it; the master key that wraps it stays
// outside the database (CHANCERY_MASTER_KEY, or the data directory).
func openKeys(ctx context.Context, cfg config.Config, db *store.DB) (*keys.Ring, error) {
	if err := store.PrivateDir(cfg.DataDir); err != nil {
		return nil, err
	}
	return keys.Load(ctx, keys.Options{
		MasterKey: cfg.MasterKey,
		DataDir:   cfg.DataDir,
		Store:     store.NewKeyringStore(db),
		Purposes: append([]string{keys.PurposeRecords, keys.PurposeBlobs, keys.PurposeExchange, keys.PurposeProcedures, auth.SealPurpose},
			records.Purposes()...),
	})
}

// routes builds the router and the middleware chain around it.
func (a *App) routes(ctx context.Context) error {
	reg := a.metrics
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := web.NewMetrics(reg)

	texts, err := catalogue(textTables()...)
	if err != nil {
		return err
	}
	shell := web.NewShell(texts)
	shell.SetDirectory(directoryNames{a.Identity})
	rt := web.NewRouter()
	rt.HandleFunc("GET /healthz", web.Public, a.healthz)
	rt.HandleFunc("GET /readyz", web.Public, a.readyz)
	rt.Handle("GET "+web.StaticPrefix, web.Public, web.Static())
	rt.Handle("POST /lang", web.Public, web.LangHandler())
	rt.HandleFunc("GET /api/v1/openapi.json", web.Public, serveOpenAPI)
	calendar.Register(rt)

	var oidc *auth.OIDC
	if a.cfg.OIDCIssuer != "" {
		redirect := a.cfg.OIDCRedirectURL
		if redirect == "" {
			redirect = a.baseURL() + "/console/oidc/callback"
		}
		var err error
		oidc, err = auth.NewOIDC(ctx, auth.OIDCConfig{Issuer: a.cfg.OIDCIssuer, ClientID: a.cfg.OIDCClientID,
			ClientSecret: a.cfg.OIDCClientSecret, RedirectURL: redirect, EmailDomains: a.cfg.OIDCEmailDomains, MFA: a.cfg.OIDCMFA}, a.Auth)
		if err != nil {
			return err
		}
	}
	authH, err := auth.NewHandler(a.Auth, shell, oidc)
	if err != nil {
		return err
	}
	identityH, err := identity.NewHandler(a.Identity, a.Auth, shell)
	if err != nil {
		return err
	}
	publicH, err := public.NewHandler(shell)
	if err != nil {
		return err
	}
	consoleH, err := console.NewHandler(shell, a.Identity)
	if err != nil {
		return err
	}
	consoleH.ServesDossiers(func(u identity.Unit) bool { return len(a.Procedures.Catalogue().ForUnit(u.Code, u.Kind.Mission())) > 0 })
	auditH, err := audit.NewHandler(a.Audit, shell)
	if err != nil {
		return err
	}
	// Registration order is navigation order.
	publicH.Register(rt)
	consoleH.Register(rt)
	identityH.Register(rt)
	if err := a.proceduresRoutes(rt, shell); err != nil {
		return err
	}
	if err := a.exchangeRoutes(rt, shell); err != nil {
		return err
	}
	if err := a.recordsRoutes(rt, shell); err != nil {
		return err
	}
	if err := a.portalRoutes(rt, shell); err != nil {
		return err
	}
	if err := a.architectureRoutes(rt, shell); err != nil {
		return err
	}
	if err := a.forecastRoutes(rt, shell); err != nil {
		return err
	}
	if err := a.dlpRoutes(rt, shell); err != nil {
		return err
	}
	if err := a.complianceRoutes(rt, shell); err != nil {
		return err
	}
	if err := a.insightRoutes(rt, shell); err != nil {
		return err
	}
	if err := a.operationsRoutes(rt, shell); err != nil {
		return err
	}
	if err := a.sentinelRoutes(rt, shell); err != nil {
		return err
	}
	if err := a.analyticsRoutes(rt, shell); err != nil {
		return err
	}
	auditH.Register(rt)
	a.witnessRoutes(rt)
	authH.Register(rt)

	a.router = rt
	a.handler = web.Chain(rt,
		web.Forwarding(web.Transport{TrustedProxies: a.cfg.TrustedProxyNets, SecureCookies: a.cfg.SecureCookies}),
		// The language and the catalogue, before anything that may
		// answer with an error page.
		shell.Language,
		a.scrape(web.SecureHeaders(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))),
		web.Observe(a.log, metrics),
		web.SecureHeaders,
		web.Authenticate(a.principal),
		a.bodyLimit,
		audit.RequestOrigin,
		// Every refusal of a signed-in caller is audited here, the
		// CSRF middleware's included, before its response is sent.
		web.RecordDenials(audit.NewDenials(a.Audit).Record),
		web.CSRF(auth.SessionCookie),
	)
	return nil
}

// scrape serves GET /metrics with h to a scraper that sends the metrics
// token (--metrics-token) as a bearer token, compared in constant time,
// before sign-in could refuse it as an unknown session. Any other request
// for /metrics goes on to the router, which has no such route: metrics
// tell how busy the ministry is and which routes are used, so without the
// token they are served only on --metrics-addr, if anywhere.
func (a *App) scrape(h http.Handler) web.Middleware {
	want := sha256.Sum256([]byte(a.cfg.MetricsToken))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			got := sha256.Sum256([]byte(token))
			if r.URL.Path == "/metrics" && r.Method == http.MethodGet && ok && a.cfg.MetricsToken != "" &&
				subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
				h.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Handler returns the node's HTTP handler with all middleware.
func (a *App) Handler() http.Handler { return a.handler }

// Routes lists every registered route with its access.
func (a *App) Routes() []web.Route { return a.router.Routes() }

// baseURL is this node's own address: where Serve listens, once it does
// (so a port chosen by the system, as with --addr :0, is right), else the
// configured one.
func (a *App) baseURL() string {
	scheme := "http"
	if a.cfg.TLSCert != "" {
		scheme = "https"
	}
	if addr, ok := a.bound.Load().(string); ok {
		return scheme + "://" + addr
	}
	return scheme + "://" + a.cfg.Addr
}

// Serve listens on the configured address and serves until ctx is
// cancelled, then stops accepting connections and lets in-flight requests
// finish within the shutdown timeout. While it serves, the audit ledger
// integrates events and signs checkpoints periodically. ready, if not
// nil, receives the bound address once listening.
func (a *App) Serve(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another chancery running? choose another with --addr)", a.cfg.Addr, err)
	}
	a.server = &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if a.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("load TLS certificate %s and key %s: %w", a.cfg.TLSCert, a.cfg.TLSKey, err)
		}
		a.server.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		ln = tls.NewListener(ln, a.server.TLSConfig)
	}
	a.bound.Store(ln.Addr().String())
	if a.cfg.MetricsAddr != "" {
		stop, err := a.serveMetrics()
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	a.runBackground(ctx)
	defer a.stopBackground()
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down: finishing in-flight requests", "timeout", a.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := a.server.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveMetrics serves GET /metrics, and nothing else, on the metrics
// address (--metrics-addr), for a monitoring network that reaches it and
// the public does not; stop closes it.
func (a *App) serveMetrics() (stop func(), err error) {
	ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s: %w (choose another with --metrics-addr)", a.cfg.MetricsAddr, err)
	}
	a.metricsBound.Store(ln.Addr().String())
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	a.log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() { srv.Close() }, nil
}

// runBackground runs, until ctx ends or stopBackground is called, the
// node's periodic work: the audit ledger's integration and checkpoints,
// and the exchange's transport, gateway and configuration renewal.
func (a *App) runBackground(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	spawn := func(fn func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(ctx)
		}()
	}
	a.leases = lease.NewRunner(a.DB, lease.Options{Log: a.log})
	spawn(a.onOne("audit.checkpoints", func(ctx context.Context) {
		a.Audit.Run(ctx) //nolint:errcheck // Run logs its own errors and returns nil
	}))
	a.runExchange(ctx, spawn)
	a.runProcedures(spawn)
	a.runRecords(spawn)
	a.runArchitecture(spawn)
	a.runInsight(spawn)
	if err := a.runSentinel(spawn); err != nil {
		a.log.Error("sentinel: not started", "err", err)
	}
	a.runAnalytics(spawn)
	a.runWitness(spawn)
	a.bgMu.Lock()
	defer a.bgMu.Unlock()
	a.stopBg = func() { cancel(); wg.Wait() }
}

// stopBackground stops what runBackground started, if anything, and waits
// for it, so that nothing touches the database after it returns.
func (a *App) stopBackground() {
	a.bgMu.Lock()
	stop := a.stopBg
	a.stopBg = nil
	a.bgMu.Unlock()
	if stop != nil {
		stop()
	}
}

// Close releases the node's resources. The audit ledger commits and
// integrates the events already appended before the database closes.
func (a *App) Close() error {
	var errs []error
	a.stopBackground()
	if a.sims != nil {
		errs = append(errs, a.sims.Close())
	}
	if a.mailbox != nil {
		errs = append(errs, a.mailbox.Close())
	}
	if a.Audit != nil {
		errs = append(errs, a.Audit.Close())
	}
	if a.Bus != nil {
		errs = append(errs, a.Bus.Close())
	}
	if a.Blobs != nil {
		errs = append(errs, a.Blobs.Close())
	}
	if a.DB != nil {
		errs = append(errs, a.DB.Close())
	}
	return errors.Join(errs...)
}

func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	web.JSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz reports whether the node can serve: the database commits a
// write and the message bus stores a message. While either cannot (a full
// disk, a read-only database, JetStream down or recovering) it answers
// 503 with a problem naming which, so that a load balancer sends no
// traffic that would fail; healthz, about the process only, stays 200.
// The answer is reused for two seconds: the probe is public, and must not
// let anyone make the node write as often as they like.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	checks, down := a.readiness.check(r.Context(), a.probeReadiness, func(ready bool) {
		// Each failure is logged by the probe; the way back is logged
		// here, so that the log shows when the node was ready again.
		if ready {
			web.Logger(r.Context()).Info("readyz: ready again")
		}
	})
	if len(down) == 0 {
		web.JSON(w, r, http.StatusOK, map[string]any{"status": "ready", "checks": checks})
		return
	}
	w.Header().Set("Retry-After", "5")
	web.Problem(w, r, web.ProblemDetails{Status: http.StatusServiceUnavailable, Title: "Not ready", Code: "not_ready",
		Detail: "Not ready: " + strings.Join(down, "; ") + ".", Checks: checks})
}

// probeReadiness runs readyz's checks. The probe is public: a failure's
// text (host names, paths, user names of the database) goes to the log,
// the answer says only what cannot work.
func (a *App) probeReadiness(ctx context.Context) (checks map[string]string, down []string) {
	checks = map[string]string{}
	log := web.Logger(ctx)
	// The three checks run at once, each within its own 2 s: one slow
	// dependency must neither use up another's time (the object store's
	// three round trips once failed a busy but working store because the
	// database's check had spent the shared deadline) nor make the whole
	// answer late, since a late answer is a stale one.
	var dbErr, busErr, objErr error
	var wg sync.WaitGroup
	within := func(check func(context.Context) error, into *error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			*into = check(cctx)
		}()
	}
	within(a.DB.CheckWritable, &dbErr)
	within(a.Bus.Ready, &busErr)
	within(a.probeObjects, &objErr)
	wg.Wait()
	if err := dbErr; err != nil {
		log.Warn("readyz: the database takes no writes", "err", err)
		if errs.IsStorageFull(err) {
			checks["database"], down = "down: storage full", append(down, "the database's storage is full")
		} else {
			checks["database"], down = "down: cannot write", append(down, "the database cannot write")
		}
	} else {
		checks["database"] = "ok (" + string(a.DB.Dialect) + ")"
	}
	if err := busErr; err != nil {
		log.Warn("readyz: the message bus cannot store messages", "err", err)
		switch {
		case errs.IsStorageFull(err):
			checks["nats"], down = "down: storage full", append(down, "the message bus's storage is full")
		case errors.Is(err, bus.ErrCannotStore):
			checks["nats"], down = "down: cannot store messages", append(down, "the message bus cannot store messages")
		default:
			checks["nats"], down = "down", append(down, "the message bus does not answer")
		}
	} else if a.Bus.Embedded() {
		checks["nats"] = "ok (embedded, JetStream)"
	} else {
		checks["nats"] = "ok (external, JetStream)"
	}
	if err := objErr; err != nil {
		log.Warn("readyz: the object store cannot store objects", "err", err)
		if errs.IsStorageFull(err) {
			checks["objects"], down = "down: storage full", append(down, "the object store's storage is full")
		} else {
			checks["objects"], down = "down: cannot store objects", append(down, "the object store cannot store objects")
		}
	} else {
		checks["objects"] = "ok"
	}
	return checks, down
}

// probeObjects writes, reads back and deletes a small object: a store
// that lists but cannot write (a full disk, an S3 endpoint that is down or
// refuses the node's keys) would otherwise fail only the first upload. The
// key is the node's own, so replicas sharing a bucket do not race.
func (a *App) probeObjects(ctx context.Context) error {
	key := "readyz/" + a.probeKey
	want := []byte("ready " + time.Now().UTC().Format(time.RFC3339Nano))
	if err := a.Blobs.WriteAll(ctx, key, want, nil); err != nil {
		return err
	}
	got, err := a.Blobs.ReadAll(ctx, key)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("the object store gave back %d bytes other than the %d written", len(got), len(want))
	}
	return a.Blobs.Delete(ctx, key)
}

// readinessCache holds readyz's last answer for two seconds; its mutex is
// held during a probe, so that concurrent requests share one.
type readinessCache struct {
	mu     sync.Mutex
	at     time.Time         // guarded by mu
	checks map[string]string // guarded by mu
	down   []string          // guarded by mu
}

// check returns the cached answer, or probes anew when it is two seconds
// old; changed is called after a probe whose answer (ready or not)
// differs from the one before it.
func (c *readinessCache) check(ctx context.Context, probe func(context.Context) (map[string]string, []string), changed func(ready bool)) (map[string]string, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= 2*time.Second {
		// Not the first caller's cancellation: the answer is shared. It
		// is as old as the probe's start, which is what it describes.
		start, first, wasReady := time.Now(), c.at.IsZero(), len(c.down) == 0
		c.checks, c.down = probe(context.WithoutCancel(ctx))
		c.at = start
		if ready := len(c.down) == 0; !first && ready != wasReady {
			changed(ready)
		}
	}
	return c.checks, c.down
}

// newLogger builds the process logger from the configuration.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel))) //nolint:errcheck // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
