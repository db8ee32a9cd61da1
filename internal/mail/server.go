package mail

import (
	"bufio"
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
// simulator. It keeps the last messages in memory.
type Server struct {
	ln     net.Listener
	cfg    ServerConfig
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	msgs     []Received // oldest first
	seq      int        // messages received so far
	arrived  chan struct{}
	sessions map[net.Conn]struct{}
	closed   bool // no new sessions once shutdown has begun
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
	ctx, cancel := context.WithCancel(ctx)
	s := &Server{ln: ln, cfg: cfg, log: log.With("component", "mail.server"), cancel: cancel,
		arrived: make(chan struct{}), sessions: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	context.AfterFunc(ctx, s.shutdown)
	return s, nil
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, ends open sessions and waits for them.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

func (s *Server) shutdown() {
	s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.sessions {
		c.Close()
	}
	s.mu.Unlock()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.sessions[conn] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.serve(conn); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
				s.log.Debug("SMTP session ended", "remote", conn.RemoteAddr().String(), "err", err)
			}
			s.mu.Lock()
			delete(s.sessions, conn)
			s.mu.Unlock()
			conn.Close()
		}()
	}
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

// errLineTooLong ends a session whose client sent an overlong line.
var errLineTooLong = errors.New("line too long")

// session is one SMTP conversation's state.
type session struct {
	conn   net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	isTLS  bool
	authed bool
	helo   bool
	from   string
	to     []string
	inMail bool
}

func (ss *session) reply(code int, text string) error {
	ss.conn.SetDeadline(time.Now().Add(sessionTimeout))
	fmt.Fprintf(ss.w, "%d %s\r\n", code, text)
	return ss.w.Flush()
}

func (ss *session) readLine() (string, error) {
	ss.conn.SetDeadline(time.Now().Add(sessionTimeout))
	var line []byte
	for {
		chunk, more, err := ss.r.ReadLine()
		if err != nil {
			return "", err
		}
		line = append(line, chunk...)
		if len(line) > maxLine-2 {
			return "", errLineTooLong
		}
		if !more {
			return string(line), nil
		}
	}
}

// line reads the client's next line, telling the client when it is too
// long (the session then ends).
func (ss *session) line() (string, error) {
	line, err := ss.readLine()
	if errors.Is(err, errLineTooLong) {
		ss.reply(500, "line too long") //nolint:errcheck // the session ends with err anyway
	}
	return line, err
}

func (s *Server) serve(conn net.Conn) error {
	_, isTLS := conn.(*tls.Conn)
	ss := &session{conn: conn, r: bufio.NewReaderSize(conn, maxLine), w: bufio.NewWriter(conn), isTLS: isTLS}
	if err := ss.reply(220, "chancery.mail.simulator ESMTP ready"); err != nil {
		return err
	}
	for {
		line, err := ss.line()
		if err != nil {
			return err
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ss.helo, ss.from, ss.to, ss.inMail = true, "", nil, false
			ext := []string{"chancery.mail.simulator", "PIPELINING", "8BITMIME", fmt.Sprintf("SIZE %d", s.cfg.MaxSize)}
			if s.cfg.TLS != nil && !ss.isTLS {
				ext = append(ext, "STARTTLS")
			}
			if s.cfg.Auth != nil && ss.isTLS {
				ext = append(ext, "AUTH PLAIN")
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				fmt.Fprintf(ss.w, "250%s%s\r\n", sep, e)
			}
			err = ss.w.Flush()
		case "HELO":
			ss.helo, ss.from, ss.to, ss.inMail = true, "", nil, false
			err = ss.reply(250, "chancery.mail.simulator")
		case "STARTTLS":
			if s.cfg.TLS == nil || ss.isTLS {
				err = ss.reply(502, "STARTTLS not offered")
				break
			}
			if err := ss.reply(220, "go ahead"); err != nil {
				return err
			}
			tc := tls.Server(conn, s.cfg.TLS)
			tc.SetDeadline(time.Now().Add(sessionTimeout))
			if err := tc.Handshake(); err != nil {
				return fmt.Errorf("TLS handshake: %w", err)
			}
			s.mu.Lock()
			s.sessions[tc] = struct{}{}
			s.mu.Unlock()
			defer func() { s.mu.Lock(); delete(s.sessions, tc); s.mu.Unlock() }()
			ss.conn, ss.r, ss.w = tc, bufio.NewReaderSize(tc, maxLine), bufio.NewWriter(tc)
			ss.isTLS, ss.helo, ss.from, ss.to, ss.inMail = true, false, "", nil, false
		case "AUTH":
			err = s.auth(ss, arg)
		case "MAIL":
			switch {
			case !ss.helo:
				err = ss.reply(503, "say EHLO first")
			case s.cfg.Auth != nil && !ss.authed:
				err = ss.reply(530, "authentication required")
			case ss.inMail:
				err = ss.reply(503, "nested MAIL command")
			default:
				addr, ok := pathArg(arg, "FROM:")
				if !ok {
					err = ss.reply(501, "syntax: MAIL FROM:<address>")
					break
				}
				ss.from, ss.to, ss.inMail = addr, nil, true
				err = ss.reply(250, "sender ok")
			}
		case "RCPT":
			addr, ok := pathArg(arg, "TO:")
			switch {
			case !ss.inMail:
				err = ss.reply(503, "need MAIL before RCPT")
			case !ok || addr == "":
				err = ss.reply(501, "syntax: RCPT TO:<address>")
			case len(ss.to) >= maxRcpt:
				err = ss.reply(452, "too many recipients")
			default:
				ss.to = append(ss.to, addr)
				err = ss.reply(250, "recipient ok")
			}
		case "DATA":
			if !ss.inMail || len(ss.to) == 0 {
				err = ss.reply(503, "need MAIL and RCPT before DATA")
				break
			}
			err = s.data(ss)
		case "RSET":
			ss.from, ss.to, ss.inMail = "", nil, false
			err = ss.reply(250, "reset")
		case "NOOP":
			err = ss.reply(250, "ok")
		case "QUIT":
			ss.reply(221, "bye")
			return nil
		default:
			err = ss.reply(502, "command not implemented")
		}
		if err != nil {
			return err
		}
	}
}

// pathArg returns the address of "FROM:<a> params" or "TO:<a>".
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	addr, _, ok := strings.Cut(rest[1:], ">")
	return addr, ok
}

func (s *Server) auth(ss *session, arg string) error {
	mech, initial, _ := strings.Cut(arg, " ")
	if s.cfg.Auth == nil || !ss.isTLS || !strings.EqualFold(mech, "PLAIN") {
		return ss.reply(504, "AUTH PLAIN is offered only over TLS")
	}
	if ss.authed {
		return ss.reply(503, "already authenticated")
	}
	if initial == "" {
		if err := ss.reply(334, ""); err != nil {
			return err
		}
		line, err := ss.readLine()
		if err != nil {
			return err
		}
		initial = line
	}
	raw, err := base64.StdEncoding.DecodeString(initial)
	parts := strings.Split(string(raw), "\x00")
	if err != nil || len(parts) != 3 || !s.cfg.Auth(parts[1], parts[2]) {
		return ss.reply(535, "authentication failed")
	}
	ss.authed = true
	return ss.reply(235, "authenticated")
}

// data reads the message up to the lone dot, unstuffing dots, within the
// size limit, and keeps it.
func (s *Server) data(ss *session) error {
	if err := ss.reply(354, "end data with <CR><LF>.<CR><LF>"); err != nil {
		return err
	}
	var raw bytes.Buffer
	tooBig := false
	for {
		line, err := ss.line()
		if err != nil {
			return err
		}
		if line == "." {
			break
		}
		line = strings.TrimPrefix(line, ".")
		if raw.Len()+len(line)+2 > s.cfg.MaxSize {
			tooBig = true
			continue // read to the end, then refuse
		}
		raw.WriteString(line + "\r\n")
	}
	from, to := ss.from, ss.to
	ss.from, ss.to, ss.inMail = "", nil, false
	if tooBig {
		return ss.reply(552, "message exceeds the size limit")
	}
	r, err := parseReceived(raw.Bytes())
	if err != nil {
		return ss.reply(554, "message not parsed: "+err.Error())
	}
	r.At, r.From, r.To = time.Now(), from, to
	s.store(r)
	return ss.reply(250, "queued")
}

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
