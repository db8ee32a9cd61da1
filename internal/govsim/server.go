package govsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"chancery/internal/errs"
)

// Server serves the simulators on one loopback listener of their own:
// the population database under /population, the portal under /portal
// and the payment gateway under /payment.
type Server struct {
	srv            *http.Server
	base           string // http://host:port
	nationalPortal *NationalPortal
	// population is the population database, whose access log the
	// console shows (PopulationLookups).
	population *population
	payment    *Gateway
	cancel     context.CancelFunc // ends the server's life: Close, or Start's ctx ending
	closed     chan struct{}      // closed once the server has shut down
	closeErr   error              // written before closed is closed
}

// shutdownTimeout is how long Close waits for requests in flight.
const shutdownTimeout = 5 * time.Second

// Start listens on addr, which must be a loopback IP address and a port
// ("127.0.0.1:0" picks a free port), and serves both simulators until
// Close is called or ctx ends. It refuses, with an errs.ErrInvalid error,
// any other address: a population database must not be reachable from
// the network. If log is nil, slog.Default is used.
func Start(ctx context.Context, addr string, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("govsim: %w: address %q: %v; use a loopback address such as 127.0.0.1:0", errs.ErrInvalid, addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("govsim: %w: address %q is not a loopback IP address; the simulators serve only this host, e.g. on 127.0.0.1:0", errs.ErrInvalid, addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("govsim: listen on %s: %w", addr, err)
	}
	log = log.With("component", "govsim")
	s := &Server{base: "http://" + ln.Addr().String(), nationalPortal: newNationalPortal(NationalPortalCapacity, time.Now), population: newPopulation(time.Now)}
	mux := http.NewServeMux()
	mux.Handle("/population/", http.StripPrefix("/population", s.population.handler(log)))
	mux.Handle("/portal/", http.StripPrefix("/portal", s.nationalPortal.handler(log)))
	s.payment = newGateway(ctx, s.PaymentURL(), PaymentCapacity, time.Now, log)
	mux.Handle("/payment/", http.StripPrefix("/payment", s.payment.handler()))
	mux.Handle("/", noRoute("/population/v1/… (National Population Database simulator), /portal/v1/… (National Public Service Portal simulator) and /payment/v1/… (payment gateway simulator)"))
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.srv.RegisterOnShutdown(s.payment.stop)
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("simulators stopped serving", "err", err)
		}
	}()
	life, cancel := context.WithCancel(ctx)
	s.cancel, s.closed = cancel, make(chan struct{})
	go func() {
		<-life.Done()
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := s.srv.Shutdown(sctx); err != nil {
			s.closeErr = errors.Join(fmt.Errorf("govsim: shut down: %w", err), s.srv.Close())
		}
		close(s.closed)
	}()
	log.Info("government system simulators serving (demo only)", "population", s.PopulationURL(), "portal", s.NationalPortalURL(), "payment", s.PaymentURL())
	return s, nil
}

// PopulationURL returns the base URL of the National Population Database
// simulator, such as http://127.0.0.1:41234/population; its API is under
// /v1.
func (s *Server) PopulationURL() string { return s.base + "/population" }

// NationalPortalURL returns the base URL of the National Public Service Portal
// simulator, such as http://127.0.0.1:41234/portal; its API is under /v1.
func (s *Server) NationalPortalURL() string { return s.base + "/portal" }

// NationalPortal returns the National Public Service Portal simulator, to list what it received.
func (s *Server) NationalPortal() *NationalPortal { return s.nationalPortal }

// PaymentURL returns the base URL of the payment gateway simulator, such
// as http://127.0.0.1:41234/payment; merchants POST orders to
// {PaymentURL}/v1/orders.
func (s *Server) PaymentURL() string { return s.base + "/payment" }

// PaymentMerchantKey returns the key of the payment gateway simulator's
// one merchant, generated at Start; send it as "Authorization: Bearer
// <key>" with an order.
func (s *Server) PaymentMerchantKey() string { return s.payment.MerchantKey() }

// PaymentSecret returns a copy of the merchant's callback secret,
// generated at Start, with which payment.Verify checks the simulator's
// callbacks.
func (s *Server) PaymentSecret() []byte { return s.payment.Secret() }

// Payment returns the payment gateway simulator.
func (s *Server) Payment() *Gateway { return s.payment }

// ReplayPaymentCallback resends the last callback of order id exactly as
// it was sent, signature and all, and returns the merchant's HTTP status;
// see Gateway.Replay.
func (s *Server) ReplayPaymentCallback(ctx context.Context, id string) (int, error) {
	return s.payment.Replay(ctx, id)
}

// Close stops the simulators, letting requests in flight finish for a few
// seconds, and returns once they have stopped. It is safe to call more
// than once, and after Start's ctx has ended; every call returns the
// result of the one shutdown.
func (s *Server) Close() error {
	s.cancel()
	<-s.closed
	return s.closeErr
}

// PopulationLookups returns the population database simulator's access
// log, newest first: who asked for whose record, for which end user and
// why.
func (s *Server) PopulationLookups() []Lookup { return s.population.Lookups() }
