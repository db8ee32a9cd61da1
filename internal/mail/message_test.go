package mail

import (
	"errors"
	"strings"
	"testing"

	"chancery/internal/errs"
)

func TestVietnameseSubjectAndBodyRoundTripThroughTheServer(t *testing.T) {
	srv := startServer(t, ServerConfig{})
	text := "Kính gửi ông Nguyễn Văn An,\n\nHồ sơ số 000.00.03.G12-250301-0007 đã được tiếp nhận.\n" +
		".Dòng bắt đầu bằng dấu chấm vẫn nguyên vẹn.\n" + strings.Repeat("Trân trọng. ", 20)
	tests := []struct {
		name string
		m    Message
	}{
		{"plain text", Message{To: []string{"Nguyễn Văn An <an@example.vn>"}, Subject: "Hồ sơ đã được tiếp nhận", Text: text}},
		{"with HTML", Message{To: []string{"an@example.vn", "lan@example.vn"}, Subject: "Kết quả đã sẵn sàng — " + strings.Repeat("Đại sứ quán ", 8),
			Text: text, HTML: "<p>Hồ sơ <b>đã được tiếp nhận</b></p>"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := plainSender(t, srv.Addr()).Send(waitCtx(t), tt.m); err != nil {
				t.Fatal(err)
			}
			got, err := srv.Wait(waitCtx(t), i+1)
			if err != nil {
				t.Fatal(err)
			}
			r := got[len(got)-1]
			if r.Subject != tt.m.Subject || r.Text != tt.m.Text || r.HTML != tt.m.HTML {
				t.Errorf("received subject %q, text %q, html %q;\nwant %q, %q, %q", r.Subject, r.Text, r.HTML, tt.m.Subject, tt.m.Text, tt.m.HTML)
			}
			if r.From != "no-reply@mofa.example" || len(r.To) != len(tt.m.To) {
				t.Errorf("envelope from %q to %q", r.From, r.To)
			}
			if !strings.Contains(r.HeaderTo, strings.Split(tt.m.To[0], " <")[0]) {
				t.Errorf("To header %q lacks %q", r.HeaderTo, tt.m.To[0])
			}
			raw := string(r.Raw)
			for _, h := range []string{"Message-ID: <", "@mofa.example>", "MIME-Version: 1.0", "Date: ", "Content-Transfer-Encoding: quoted-printable", "charset=utf-8"} {
				if !strings.Contains(raw, h) {
					t.Errorf("wire form lacks %q:\n%s", h, raw)
				}
			}
			for _, line := range strings.Split(raw, "\r\n") {
				if len(line) > 998 {
					t.Errorf("line of %d bytes", len(line))
				}
				if strings.ContainsFunc(line, func(r rune) bool { return r > 127 }) {
					t.Errorf("wire form carries 8-bit text: %q", line)
				}
			}
		})
	}
}

func TestInvalidMessagesAreRefusedBeforeSending(t *testing.T) {
	ok := Message{To: []string{"an@example.vn"}, Subject: "Hồ sơ", Text: "x"}
	tests := []struct {
		name string
		edit func(*Message)
	}{
		{"no recipient", func(m *Message) { m.To = nil }},
		{"bad address", func(m *Message) { m.To = []string{"not an address"} }},
		{"header in address", func(m *Message) { m.To = []string{"an@example.vn\r\nBcc: all@example.vn"} }},
		{"header in subject", func(m *Message) { m.Subject = "Hồ sơ\r\nBcc: all@example.vn" }},
		{"bare LF in subject", func(m *Message) { m.Subject = "Hồ sơ\nBcc: all@example.vn" }},
		{"empty subject", func(m *Message) { m.Subject = " " }},
	}
	srv := startServer(t, ServerConfig{})
	s := plainSender(t, srv.Addr())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			if err := s.Send(waitCtx(t), m); !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("Send = %v, want ErrInvalid", err)
			}
		})
	}
	if err := s.Send(waitCtx(t), ok); err != nil {
		t.Fatalf("the valid message: %v", err)
	}
	if got, _ := srv.Wait(waitCtx(t), 1); len(got) != 1 {
		t.Fatalf("server received %d messages, want only the valid one", len(got))
	}
}
