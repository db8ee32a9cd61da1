package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"chancery/internal/errs"
)

// ServerConfig tunes a Server; the zero value is a plain server keeping
// DefaultCapacity messages.
type ServerConfig struct {
	// TLS, if set, makes the server offer STARTTLS with this certificate.
	TLS *tls.Config
	// ImplicitTLS makes the server speak TLS from the first byte, as on
	// port 465, instead of offering STARTTLS. It needs TLS.
	ImplicitTLS bool
	// Auth, if set, makes the server offer AUTH PLAIN (after STARTTLS
	// only) and accept the credentials it approves.
	Auth func(username, password string) bool
	// Capacity is how many messages are kept; the oldest go first.
	Capacity int
	// MaxSize caps a message in bytes. Default 10 MiB.
	MaxSize int
	// Log receives session errors; nil uses slog.Default.
	Log *slog.Logger
}

// DefaultCapacity is how many received messages a Server keeps unless
// told otherwise.
const DefaultCapacity = 500

const (
	maxLine        = 1000 // RFC 5321's limit of a line, CRLF included
	sessionTimeout = 5 * time.Minute
	maxRcpt        = 100
)

// Received is a message a Server received, parsed.
type Received struct {
	Seq        int       // 1 for the first message the server received
	At         time.Time // when the DATA ended
	From       string    // the envelope's MAIL FROM
	To         []string  // the envelope's RCPT TOs
	Subject    string    // decoded from RFC 2047
	HeaderFrom string    // the From header, decoded
	HeaderTo   string    // the To header, decoded
	Text       string    // the text/plain body, decoded
	HTML       string    // the text/html alternative, if any
	Raw        []byte    // the message as received, dot-unstuffed
}

// Server is an in-process SMTP receiver on a loopback address: the
// counterpart of the SMTP sender in tests, and the demo's mailbox
// simulator. It keeps the last messages in memory. The protocol is
// github.com/emersion/go-smtp's; this type only keeps what arrives.
type Server struct {
	ln     net.Listener
	smtp   *smtp.Server
	cfg    ServerConfig
	served chan struct{} // closed when the accept loop has ended

	mu      sync.Mutex
	msgs    []Received // oldest first
	seq     int        // messages received so far
	arrived chan struct{}
}

// StartServer listens on addr, which must be a loopback IP address and a
// port ("127.0.0.1:0" picks a free one), and receives mail until Close is
// called or ctx ends. It refuses any other address with an errs.ErrInvalid
// error: the simulator is no mail relay for the network.
func StartServer(ctx context.Context, addr string, cfg ServerConfig) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("mail: %w: address %q: %v; use a loopback address such as 127.0.0.1:0", errs.ErrInvalid, addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("mail: %w: address %q is not a loopback IP address; the mail simulator serves only this host, e.g. on 127.0.0.1:0", errs.ErrInvalid, addr)
	}
	if cfg.ImplicitTLS && cfg.TLS == nil {
		return nil, fmt.Errorf("mail: %w: implicit TLS needs a TLS configuration", errs.ErrInvalid)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail: listen on %s: %w", addr, err)
	}
	if cfg.ImplicitTLS {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = DefaultCapacity
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = 10 << 20
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Server{ln: ln, cfg: cfg, served: make(chan struct{}), arrived: make(chan struct{})}
	s.smtp = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{srv: s}, nil
	}))
	s.smtp.Domain = "chancery.mail.simulator"
	s.smtp.TLSConfig = cfg.TLS // STARTTLS is offered where the connection is not TLS already
	s.smtp.MaxMessageBytes = int64(cfg.MaxSize)
	s.smtp.MaxLineLength = maxLine
	s.smtp.MaxRecipients = maxRcpt
	s.smtp.ReadTimeout, s.smtp.WriteTimeout = sessionTimeout, sessionTimeout
	s.smtp.ErrorLog = slog.NewLogLogger(log.With("component", "mail.server").Handler(), slog.LevelDebug)
	go func() {
		defer close(s.served)
		s.smtp.Serve(ln) //nolint:errcheck // it ends when Close closes the listener
	}()
	context.AfterFunc(ctx, s.shutdown)
	return s, nil
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, ends open sessions and waits for the accept
// loop to end.
func (s *Server) Close() error {
	s.shutdown()
	<-s.served
	return nil
}

// shutdown closes the listener itself too: go-smtp closes only the
// listeners its Serve has registered, which a Close right after
// StartServer may precede.
func (s *Server) shutdown() {
	s.smtp.Close() //nolint:errcheck // a second Close (after ctx ended) only says it is closed
	s.ln.Close()
}

// Messages returns the messages kept, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Message returns the message numbered seq, or an error wrapping
// errs.ErrNotFound if there was none or it is no longer kept.
func (s *Server) Message(seq int) (Received, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if m.Seq == seq {
			return m, nil
		}
	}
	return Received{}, fmt.Errorf("mail: %w: message %d is not in the mailbox (it holds the last %d)", errs.ErrNotFound, seq, s.cfg.Capacity)
}

// Capacity returns how many messages the server keeps.
func (s *Server) Capacity() int { return s.cfg.Capacity }

// Wait blocks until the server has received at least n messages since it
// started, then returns the kept ones; it returns ctx's error if ctx ends
// first.
func (s *Server) Wait(ctx context.Context, n int) ([]Received, error) {
	for {
		s.mu.Lock()
		seq, arrived := s.seq, s.arrived
		s.mu.Unlock()
		if seq >= n {
			return s.Messages(), nil
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return nil, fmt.Errorf("mail: waiting for %d messages, %d arrived: %w", n, seq, ctx.Err())
		}
	}
}

func (s *Server) store(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	r.Seq = s.seq
	s.msgs = append(s.msgs, r)
	if len(s.msgs) > s.cfg.Capacity {
		s.msgs = append([]Received(nil), s.msgs[len(s.msgs)-s.cfg.Capacity:]...)
	}
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// session is one SMTP conversation's envelope; go-smtp keeps the order
// of commands, the limits and TLS.
type session struct {
	srv    *Server
	authed bool
	from   string
	to     []string
}

// errAuthRequired is RFC 4954's answer to MAIL before AUTH.
var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}

// AuthMechanisms offers PLAIN where the server checks credentials;
// go-smtp offers it over TLS only.
func (ss *session) AuthMechanisms() []string {
	if ss.srv.cfg.Auth == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.srv.cfg.Auth == nil || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if !ss.srv.cfg.Auth(username, password) {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.srv.cfg.Auth != nil && !ss.authed {
		return errAuthRequired
	}
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

// Data keeps the message, dot-unstuffed by go-smtp, which also refuses
// one over the size limit.
func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parseReceived(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "message not parsed: " + err.Error()}
	}
	m.At, m.From, m.To = time.Now(), ss.from, ss.to
	ss.srv.store(m)
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// parseReceived decodes a message's headers and its text body.
func parseReceived(raw []byte) (Received, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, err
	}
	var dec mime.WordDecoder
	r := Received{Raw: raw}
	for _, h := range []struct {
		name string
		into *string
	}{{"Subject", &r.Subject}, {"From", &r.HeaderFrom}, {"To", &r.HeaderTo}} {
		v, err := dec.DecodeHeader(m.Header.Get(h.name))
		if err != nil {
			return Received{}, fmt.Errorf("%s: %w", h.name, err)
		}
		*h.into = v
	}
	// The body's last line break ends the SMTP data, not the text (see
	// writePart).
	body, err := io.ReadAll(m.Body)
	if err != nil {
		return Received{}, err
	}
	err = readBody(textproto.MIMEHeader(m.Header), bytes.NewReader(bytes.TrimSuffix(body, []byte("\r\n"))), &r)
	return r, err
}

// readBody decodes a text/plain or text/html body into r, descending
// into multipart ones.
func readBody(h textproto.MIMEHeader, body io.Reader, r *Received) error {
	typ, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		typ = "text/plain" // RFC 2045's default
	}
	if strings.HasPrefix(typ, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := readBody(p.Header, p, r); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // it skips line breaks
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch typ {
	case "text/plain":
		if r.Text == "" {
			r.Text = text
		}
	case "text/html":
		if r.HTML == "" {
			r.HTML = text
		}
	}
	return nil
}
