package sentinel

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The syslog feed for a national monitoring centre: each alert as one
// RFC 5424 message whose MSG is an ArcSight Common Event Format (CEF)
// record, "CEF:0|Chancery|Sentinel|1|rule|title|severity|extension",
// over UDP (one datagram each) or TCP (RFC 6587 octet counting).

// cefVersion is the product version in the CEF header.
const cefVersion = "1"

// syslogFacility is security/authorization messages (RFC 5424 §6.2.1:
// facility 4).
const syslogFacility = 4

// cefHeader escapes a CEF header field: backslash and pipe.
func cefHeader(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// cefValue escapes a CEF extension value: backslash, equals sign and line
// breaks.
func cefValue(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "=", `\=`, "\r\n", `\n`, "\n", `\n`, "\r", `\r`)
	return r.Replace(s)
}

// cefSeverity maps an alert's score (0–100) to CEF's 0–10.
func cefSeverity(score float64) int {
	return int(math.Max(0, math.Min(10, math.Round(score/10))))
}

// syslogSeverity maps an alert's score to RFC 5424's severities:
// critical, error, warning, notice.
func syslogSeverity(score float64) int {
	switch {
	case score >= 80:
		return 2
	case score >= 60:
		return 3
	case score >= 40:
		return 4
	}
	return 5
}

// CEF returns a as a CEF record.
func CEF(a Alert) string {
	ext := []string{
		"rt=" + strconv.FormatInt(a.CreatedAt.UnixMilli(), 10),
		"externalId=" + strconv.FormatInt(a.ID, 10),
		"cat=" + cefValue(a.Rule),
		"msg=" + cefValue(a.Explanation.EN),
		"cs1Label=risk", "cs1=" + strconv.FormatFloat(a.Risk, 'f', 0, 64),
		"cs2Label=events", "cs2=" + cefValue(joinSeqs(a.Events)),
		"cs3Label=status", "cs3=" + string(a.Status),
		"start=" + strconv.FormatInt(a.First.UnixMilli(), 10),
		"end=" + strconv.FormatInt(a.Last.UnixMilli(), 10),
	}
	if a.User != "" {
		ext = append(ext, "suser="+cefValue(a.User))
	}
	if a.Address != "" {
		ext = append(ext, "src="+cefValue(a.Address))
	}
	if a.NodeName != "" {
		ext = append(ext, "cs4Label=mission", "cs4="+cefValue(a.NodeName))
	}
	return fmt.Sprintf("CEF:0|Chancery|Sentinel|%s|%s|%s|%d|%s", cefVersion, cefHeader(a.Rule), cefHeader(a.Title.EN),
		cefSeverity(a.Score), strings.Join(ext, " "))
}

func joinSeqs(seqs []uint64) string {
	s := make([]string, len(seqs))
	for i, q := range seqs {
		s[i] = strconv.FormatUint(q, 10)
	}
	return strings.Join(s, ",")
}

// syslogLine returns a as an RFC 5424 message from host.
func syslogLine(a Alert, host string, at time.Time) string {
	if host == "" {
		host = "-"
	}
	pri := syslogFacility*8 + syslogSeverity(a.Score)
	return fmt.Sprintf("<%d>1 %s %s chancery - sentinel - %s", pri, at.UTC().Format("2006-01-02T15:04:05.000000Z"), syslogToken(host), CEF(a))
}

// syslogToken makes s a header field: printable US-ASCII without spaces,
// at most 255 characters.
func syslogToken(s string) string {
	s = strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' {
			return '_'
		}
		return r
	}, s)
	if len(s) > 255 {
		s = s[:255]
	}
	return s
}

// Syslog sends alerts to a syslog collector. It is safe for concurrent
// use; a broken TCP connection is redialled on the next send.
type Syslog struct {
	network, addr, host string
	mu                  sync.Mutex
	conn                net.Conn // guarded by mu
}

// NewSyslog returns the feed to target, "udp://host:port" or
// "tcp://host:port", naming this node host in each message.
func NewSyslog(target, host string) (*Syslog, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "udp" && u.Scheme != "tcp") || u.Host == "" || u.Port() == "" {
		return nil, fmt.Errorf("sentinel: the syslog address %q must be udp://host:port or tcp://host:port", target)
	}
	return &Syslog{network: u.Scheme, addr: u.Host, host: host}, nil
}

// Send sends a; it redials once if the connection broke.
func (s *Syslog) Send(a Alert, now time.Time) error {
	line := syslogLine(a, s.host, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	for try := 0; try < 2; try++ {
		if s.conn == nil {
			if s.conn, err = net.DialTimeout(s.network, s.addr, 5*time.Second); err != nil {
				s.conn = nil
				return fmt.Errorf("sentinel: dial the syslog collector %s://%s: %w", s.network, s.addr, err)
			}
		}
		s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // the write reports it
		msg := line
		if s.network == "tcp" {
			msg = strconv.Itoa(len(line)) + " " + line // RFC 6587 octet counting
		}
		if _, err = s.conn.Write([]byte(msg)); err == nil {
			return nil
		}
		s.conn.Close()
		s.conn = nil
	}
	return fmt.Errorf("sentinel: send to the syslog collector: %w", err)
}

// Close closes the connection.
func (s *Syslog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
