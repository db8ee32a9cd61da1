package mail

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"chancery/internal/errs"
)

var notice = Message{To: []string{"an@example.vn"}, Subject: "Hồ sơ đã được tiếp nhận", Text: "Kính gửi ông An."}

func TestSendOverTLSWithAuthentication(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	auth := func(u, p string) bool { return u == "chancery" && p == "mật-khẩu" }
	tests := []struct {
		name     string
		server   ServerConfig
		implicit bool
	}{
		{"STARTTLS", ServerConfig{TLS: serverTLS, Auth: auth}, false},
		{"implicit TLS", ServerConfig{TLS: serverTLS, ImplicitTLS: true, Auth: auth}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.server)
			s, err := NewSMTP(SMTPConfig{Addr: srv.Addr(), From: testFrom, Username: "chancery", Password: "mật-khẩu",
				ImplicitTLS: tt.implicit, TLSConfig: clientTLS})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(waitCtx(t), notice); err != nil {
				t.Fatal(err)
			}
			got, err := srv.Wait(waitCtx(t), 1)
			if err != nil || got[0].Subject != notice.Subject {
				t.Fatalf("received %+v, %v", got, err)
			}
			// A wrong password is the server's refusal, reported.
			s, _ = NewSMTP(SMTPConfig{Addr: srv.Addr(), From: testFrom, Username: "chancery", Password: "sai",
				ImplicitTLS: tt.implicit, TLSConfig: clientTLS})
			if err := s.Send(waitCtx(t), notice); err == nil || !strings.Contains(err.Error(), "authenticate") {
				t.Fatalf("wrong password: %v", err)
			}
		})
	}
}

func TestUnsafeTransportIsRefused(t *testing.T) {
	serverTLS, _ := selfSigned(t)
	plain := startServer(t, ServerConfig{})
	withTLS := startServer(t, ServerConfig{TLS: serverTLS})
	tests := []struct {
		name    string
		cfg     SMTPConfig
		invalid bool   // refused by NewSMTP
		want    string // else, in Send's error
	}{
		{"credentials in the clear", SMTPConfig{Addr: plain.Addr(), NoTLS: true, Username: "u", Password: "p"}, true, ""},
		{"clear text to another host", SMTPConfig{Addr: "mail.example.com:25", NoTLS: true}, true, ""},
		{"not host:port", SMTPConfig{Addr: "mail.example.com"}, true, ""},
		{"bad sender", SMTPConfig{Addr: plain.Addr(), From: "no at sign", NoTLS: true}, true, ""},
		{"server without STARTTLS", SMTPConfig{Addr: plain.Addr()}, false, "STARTTLS"},
		// The system's roots do not know the test certificate, and
		// verification is never skipped.
		{"untrusted certificate", SMTPConfig{Addr: withTLS.Addr()}, false, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.From == "" {
				tt.cfg.From = testFrom
			}
			s, err := NewSMTP(tt.cfg)
			if tt.invalid {
				if !errors.Is(err, errs.ErrInvalid) {
					t.Fatalf("NewSMTP = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(waitCtx(t), notice); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Send = %v, want mention of %q", err, tt.want)
			}
		})
	}
	if n := len(plain.Messages()) + len(withTLS.Messages()); n != 0 {
		t.Fatalf("%d messages went through", n)
	}
}

func TestSendGivesUpWhenContextEnds(t *testing.T) {
	// A server that accepts and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := plainSender(t, ln.Addr().String()).Send(ctx, notice); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Send took %s", d)
	}
}

func TestServerRefusesANonLoopbackAddress(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "localhost-ish:25", "192.0.2.1:25"} {
		if _, err := StartServer(context.Background(), addr, ServerConfig{}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("StartServer(%q) = %v, want ErrInvalid", addr, err)
		}
	}
}

// converse sends lines to srv and returns its reply lines, one per line
// sent after the greeting.
func converse(t *testing.T, srv *Server, lines ...string) []string {
	t.Helper()
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	readReply := func() string {
		var last string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return "EOF"
			}
			last = strings.TrimRight(l, "\r\n")
			if len(last) < 4 || last[3] != '-' {
				return last
			}
		}
	}
	readReply() // greeting
	var replies []string
	for _, l := range lines {
		if body, ok := strings.CutPrefix(l, "body:"); ok {
			fmt.Fprintf(c, "%s\r\n", body) // DATA content answers nothing until the dot
			continue
		}
		fmt.Fprintf(c, "%s\r\n", l)
		replies = append(replies, readReply())
	}
	return replies
}

func TestServerSpeaksTheSMTPSubset(t *testing.T) {
	srv := startServer(t, ServerConfig{MaxSize: 200})
	tests := []struct {
		name  string
		lines []string
		codes []string
	}{
		// Commands out of order get go-smtp's 502 "5.5.1"; VRFY gets
		// RFC 5321's 252, which confirms no address.
		{"sequence enforced", []string{"MAIL FROM:<a@x.vn>", "EHLO t", "RCPT TO:<b@x.vn>", "DATA", "QUIT"}, []string{"502", "250", "502", "502", "221"}},
		{"reset and noop", []string{"HELO t", "MAIL FROM:<a@x.vn>", "RSET", "RCPT TO:<b@x.vn>", "NOOP", "VRFY b", "QUIT"},
			[]string{"250", "250", "250", "502", "250", "252", "221"}},
		{"too many recipients", append(append([]string{"EHLO t", "MAIL FROM:<a@x.vn>"}, slices.Repeat([]string{"RCPT TO:<b@x.vn>"}, maxRcpt)...), "RCPT TO:<c@x.vn>"),
			append(append([]string{"250", "250"}, slices.Repeat([]string{"250"}, maxRcpt)...), "452")},
		{"size limit", []string{"EHLO t", "MAIL FROM:<a@x.vn>", "RCPT TO:<b@x.vn>", "DATA", "body:Subject: x", "body:", "body:" + strings.Repeat("x", 300), ".", "QUIT"},
			[]string{"250", "250", "250", "354", "552", "221"}},
		{"line limit", []string{"EHLO t", "NOOP " + strings.Repeat("x", 1200)}, []string{"250", "500"}},
		{"dot unstuffing", []string{"EHLO t", "MAIL FROM:<a@x.vn>", "RCPT TO:<b@x.vn>", "DATA", "body:Subject: dots", "body:", "body:..hai", ".", "QUIT"},
			[]string{"250", "250", "250", "354", "250", "221"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := converse(t, srv, tt.lines...)
			if len(got) != len(tt.codes) {
				t.Fatalf("replies %q, want codes %q", got, tt.codes)
			}
			for i, code := range tt.codes {
				if !strings.HasPrefix(got[i], code) {
					t.Errorf("%q answered %q, want %s", tt.lines[min(i, len(tt.lines)-1)], got[i], code)
				}
			}
		})
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].Subject != "dots" || msgs[0].Text != ".hai" {
		t.Fatalf("kept %+v, want only the dot-unstuffed message", msgs)
	}
}

func TestServerTakesCredentialsOnlyOverTLSAndRequiresThem(t *testing.T) {
	srv := startServer(t, ServerConfig{Auth: func(u, p string) bool { return true }})
	// The credentials ("chancery", "p") would be approved, but not in the clear.
	got := converse(t, srv, "EHLO t", "AUTH PLAIN AGNoYW5jZXJ5AHA=", "MAIL FROM:<a@x.vn>")
	want := []string{"250", "523", "530"}
	for i := range want {
		if i >= len(got) || !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("replies %q, want codes %q", got, want)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages kept", n)
	}
}

func TestServerKeepsTheLastMessages(t *testing.T) {
	srv := startServer(t, ServerConfig{Capacity: 3})
	s := plainSender(t, srv.Addr())
	for i := range 5 {
		m := notice
		m.Subject = fmt.Sprintf("Thông báo %d", i+1)
		if err := s.Send(waitCtx(t), m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := srv.Wait(waitCtx(t), 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Seq != 3 || got[2].Subject != "Thông báo 5" {
		t.Fatalf("kept %d: first seq %d, last %q", len(got), got[0].Seq, got[len(got)-1].Subject)
	}
	if _, err := srv.Message(1); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Message(1) = %v, want ErrNotFound", err)
	}
	if m, err := srv.Message(4); err != nil || m.Subject != "Thông báo 4" {
		t.Fatalf("Message(4) = %q, %v", m.Subject, err)
	}
}
