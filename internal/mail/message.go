// Package mail sends Chancery's e-mail notices to citizens and staff: a
// Message, its RFC 5322 wire form, an SMTP Sender over net/smtp, a durable
// Outbox that capabilities fill in the transaction of the change they
// announce, and an in-process SMTP Server that tests and the demo's
// mailbox simulator receive mail with.
package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"chancery/internal/errs"
)

// Message is an e-mail notice. The sender's address comes from
// configuration, not from the message.
type Message struct {
	To      []string // one or more addresses, "Name <user@host>" or "user@host"
	Subject string
	Text    string // the plain-text body, always sent
	HTML    string // an optional HTML alternative of Text
}

// maxRecipients bounds a notice's addressees: a notice goes to a
// citizen or a handful of staff, never a mailing list.
const maxRecipients = 50

// Validate reports, with an error wrapping errs.ErrInvalid, a message that
// cannot be sent: no recipient, an address net/mail does not parse, an
// empty subject, or a line break in an address or the subject (which
// would inject headers).
func (m Message) Validate() error {
	_, err := m.recipients()
	return err
}

// recipients validates m and returns its parsed addresses.
func (m Message) recipients() ([]*mail.Address, error) {
	if len(m.To) == 0 {
		return nil, fmt.Errorf("mail: %w: a message needs at least one recipient", errs.ErrInvalid)
	}
	if len(m.To) > maxRecipients {
		return nil, fmt.Errorf("mail: %w: %d recipients; a notice goes to at most %d", errs.ErrInvalid, len(m.To), maxRecipients)
	}
	to := make([]*mail.Address, 0, len(m.To))
	for _, s := range m.To {
		a, err := ParseAddress(s)
		if err != nil {
			return nil, err
		}
		to = append(to, a)
	}
	if strings.TrimSpace(m.Subject) == "" {
		return nil, fmt.Errorf("mail: %w: a message needs a subject", errs.ErrInvalid)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, fmt.Errorf("mail: %w: the subject contains a line break; give it on one line", errs.ErrInvalid)
	}
	return to, nil
}

// ParseAddress parses one address, such as "Chancery <no-reply@mofa.gov.vn>",
// refusing with an error wrapping errs.ErrInvalid a line break (header
// injection) or anything net/mail.ParseAddress refuses.
func ParseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("mail: %w: address %q contains a line break", errs.ErrInvalid, s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("mail: %w: address %q: %v; write it as user@example.com or Name <user@example.com>", errs.ErrInvalid, s, err)
	}
	return a, nil
}

// compose returns m's wire form from sender, dated at, with a fresh
// Message-ID in the sender's domain. m must have been validated into to.
func compose(from *mail.Address, to []*mail.Address, m Message, at time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", from.String())
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = a.String()
	}
	header("To", strings.Join(tos, ",\r\n "))
	header("Subject", encodeHeader(m.Subject))
	header("Date", at.Format(time.RFC1123Z))
	id, err := messageID(from.Address)
	if err != nil {
		return nil, err
	}
	header("Message-ID", id)
	header("MIME-Version", "1.0")
	if m.HTML == "" {
		writePart(&b, "text/plain", m.Text)
		return b.Bytes(), nil
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range []struct{ typ, text string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("mail: compose: %w", err)
		}
		if err := writeQP(w, p.text); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("mail: compose: %w", err)
	}
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

// writePart writes a single-part body's headers and text, and a final
// line break that belongs to the transport, not the text: SMTP ends data
// on a line of its own, so without it a text that does not end in a line
// break would arrive with one.
func writePart(b *bytes.Buffer, typ, text string) {
	b.WriteString("Content-Type: " + typ + "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	_ = writeQP(b, text) // a bytes.Buffer does not fail
	b.WriteString("\r\n")
}

// writeQP writes text quoted-printable with CRLF line ends, as SMTP wants.
func writeQP(w interface{ Write([]byte) (int, error) }, text string) error {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(text)); err != nil {
		return fmt.Errorf("mail: encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("mail: encode body: %w", err)
	}
	return nil
}

// encodeHeader encodes a header value as RFC 2047 UTF-8 words when it is
// not plain ASCII, folding between words so no line grows past the limit.
func encodeHeader(s string) string {
	return strings.ReplaceAll(mime.QEncoding.Encode("utf-8", s), "?= =?", "?=\r\n =?")
}

// messageID returns a unique Message-ID in the domain of addr.
func messageID(addr string) (string, error) {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("mail: message id: %w", err)
	}
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">", nil
}
