package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"time"

	"chancery/internal/errs"
)

// Sender delivers a message. Send returns an error wrapping errs.ErrInvalid
// for a message that can never be sent, and another error for a failure
// worth retrying.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTPConfig says how to reach a mail server.
type SMTPConfig struct {
	// Addr is the server's host:port.
	Addr string
	// From is the sender's address, such as "Chancery <no-reply@mofa.gov.vn>".
	From string
	// Username and Password, if Username is set, authenticate with PLAIN,
	// which is only ever done over TLS.
	Username, Password string
	// ImplicitTLS speaks TLS from the first byte (SMTPS, port 465)
	// instead of upgrading with STARTTLS.
	ImplicitTLS bool
	// NoTLS sends in the clear without STARTTLS, for a mail catcher on
	// this host: it is refused for any other server. Otherwise STARTTLS
	// is required, and a server that does not offer it is refused.
	NoTLS bool
	// TLSConfig verifies the server's certificate (its RootCAs); nil uses
	// the system's roots. Verification is never skipped.
	TLSConfig *tls.Config
	// Timeout bounds one delivery, dial included, when ctx has no
	// earlier deadline. Default 30 s.
	Timeout time.Duration
	// HelloName is the name given in EHLO. Default "localhost".
	HelloName string
}

// SMTP sends messages to one mail server over net/smtp. It is safe for
// concurrent use; each Send opens its own connection.
type SMTP struct {
	cfg  SMTPConfig
	from *mail.Address
	host string // the server's name, for certificate verification
}

// NewSMTP checks cfg and returns a sender. It refuses, with an error
// wrapping errs.ErrInvalid, an address that is not host:port, an invalid
// From, NoTLS towards a server that is not on a loopback address, NoTLS
// with ImplicitTLS, and credentials without TLS.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("mail: %w: SMTP address %q is not host:port, such as smtp.example.com:587", errs.ErrInvalid, cfg.Addr)
	}
	from, err := ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: sender: %w", err)
	}
	if cfg.NoTLS {
		if !IsLoopback(host) {
			return nil, fmt.Errorf("mail: %w: mail to %s would travel in the clear; turn STARTTLS off only for a server on this host", errs.ErrInvalid, cfg.Addr)
		}
		if cfg.ImplicitTLS {
			return nil, fmt.Errorf("mail: %w: implicit TLS and no TLS contradict each other", errs.ErrInvalid)
		}
		if cfg.Username != "" {
			return nil, fmt.Errorf("mail: %w: credentials are sent only over TLS; keep STARTTLS on or drop the user name", errs.ErrInvalid)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	return &SMTP{cfg: cfg, from: from, host: host}, nil
}

// IsLoopback reports whether host is "localhost" or a loopback IP address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers m in one SMTP session. An invalid message is refused
// before any connection is made.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	to, err := m.recipients()
	if err != nil {
		return err
	}
	wire, err := compose(s.from, to, m, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("mail: connect to %s: %w", s.cfg.Addr, err)
	}
	defer conn.Close()
	// net/smtp knows no contexts: ctx ending (its deadline included)
	// closes the connection under it.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := s.session(conn, to, wire); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("mail: send to %s: %w (%v)", s.cfg.Addr, ctx.Err(), err)
		}
		return fmt.Errorf("mail: send to %s: %w", s.cfg.Addr, err)
	}
	return nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.cfg.TLSConfig != nil {
		c = s.cfg.TLSConfig.Clone()
	}
	c.ServerName = s.host
	c.InsecureSkipVerify = false
	return c
}

// session speaks SMTP over conn: TLS as configured, authentication,
// envelope and data.
func (s *SMTP) session(conn net.Conn, to []*mail.Address, wire []byte) error {
	if s.cfg.ImplicitTLS {
		conn = tls.Client(conn, s.tlsConfig())
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HelloName); err != nil {
		return err
	}
	if !s.cfg.ImplicitTLS && !s.cfg.NoTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("the server does not offer STARTTLS, and mail is not sent in the clear; use smtps:// or a server with STARTTLS")
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if s.cfg.Username != "" {
		// net/smtp's PLAIN would also send credentials in the clear to
		// localhost; this sender never does.
		if _, isTLS := c.TLSConnectionState(); !isTLS {
			return errors.New("credentials are sent only over TLS")
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.host)); err != nil {
			return fmt.Errorf("authenticate as %s: %w", s.cfg.Username, err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return err
	}
	for _, a := range to {
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("recipient %s: %w", a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(wire); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
