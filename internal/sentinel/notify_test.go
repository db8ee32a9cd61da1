package sentinel

import (
	"bufio"
	"context"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"chancery/internal/mail"
	"chancery/internal/sentinel/detect"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestCEFEscapesPerTheSpecification(t *testing.T) {
	a := fromDetect(alertOf("lan|x\\y", "bulk|read", 55), time.Date(2026, 12, 6, 1, 2, 3, 0, time.UTC))
	a.ID = 12
	a.Title = detect.Text{EN: `Bulk | read \ all`}
	a.Explanation = detect.Text{EN: "read a=b\\c\r\nthen more"}
	got := CEF(a)
	for _, want := range []string{
		`CEF:0|Chancery|Sentinel|1|bulk\|read|Bulk \| read \\ all|6|`,
		`msg=read a\=b\\c\nthen more `,
		`suser=lan|x\\y`,
		`externalId=12 `,
		`cs2Label=events cs2=3,4,9`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the record lacks %q:\n%s", want, got)
		}
	}
	if strings.ContainsAny(got, "\r\n") {
		t.Errorf("the record holds a line break: %q", got)
	}
}

// syslogPattern is an RFC 5424 message from node hq carrying a CEF record.
var syslogPattern = regexp.MustCompile(`^<(\d+)>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z hq chancery - sentinel - CEF:0\|Chancery\|Sentinel\|1\|off_hours\|Bulk reading\|6\|`)

func TestSyslogFeedReachesARealCollectorOverUDPAndTCP(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		s.seed(t, alertOf("lan.nguyen", "off_hours", 90))

		udp, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer udp.Close()
		feed, err := NewSyslog("udp://"+udp.LocalAddr().String(), "hq")
		if err != nil {
			t.Fatal(err)
		}
		defer feed.Close()
		n := NewNotifier(NotifierOptions{DB: db, Syslog: feed})
		if err := n.Once(t.Context()); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 8192)
		udp.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, _, err := udp.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		m := syslogPattern.FindStringSubmatch(string(buf[:k]))
		if m == nil || m[1] != "35" { // facility 4 (security), severity 3 (error: score 60)
			t.Fatalf("the datagram is not the alert's RFC 5424 CEF message: %q", buf[:k])
		}
		// Sent once: a second round sends nothing.
		if err := n.Once(t.Context()); err != nil {
			t.Fatal(err)
		}
		udp.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if k, _, err := udp.ReadFrom(buf); err == nil {
			t.Fatalf("a second round sent again: %q", buf[:k])
		}

		// TCP with octet counting, to a collector that the feed finds on
		// its second alert.
		tcp, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer tcp.Close()
		feed2, err := NewSyslog("tcp://"+tcp.Addr().String(), "hq")
		if err != nil {
			t.Fatal(err)
		}
		defer feed2.Close()
		if _, err := db.ExecContext(t.Context(), "UPDATE sentinel_alerts SET syslogged = 0"); err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() {
			c, err := tcp.Accept()
			if err != nil {
				got <- err.Error()
				return
			}
			defer c.Close()
			r := bufio.NewReader(c)
			count, err := r.ReadString(' ')
			if err != nil {
				got <- err.Error()
				return
			}
			size, _ := strconv.Atoi(strings.TrimSpace(count))
			msg := make([]byte, size)
			if _, err := io.ReadFull(r, msg); err != nil {
				got <- err.Error()
				return
			}
			got <- string(msg)
		}()
		if err := NewNotifier(NotifierOptions{DB: db, Syslog: feed2}).Once(t.Context()); err != nil {
			t.Fatal(err)
		}
		if msg := <-got; !syslogPattern.MatchString(msg) {
			t.Fatalf("the TCP message is not the alert's: %q", msg)
		}
	})
}

// outboxSender takes mail and sends nowhere: the test reads the outbox.
type outboxSender struct{}

func (outboxSender) Send(context.Context, mail.Message) error { return nil }

func TestSecurityOfficersAreMailedOnceForAlertsAboveTheThreshold(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		s.seed(t, alertOf("lan.nguyen", "bulk_read", 40), alertOf("minh.tran", "off_hours", 90))
		box := mail.NewOutbox(db, outboxSender{}, mail.OutboxConfig{})
		n := NewNotifier(NotifierOptions{DB: db, Mail: box, MailRisk: 70, Link: AlertLink("https://hq.example/"),
			Recipients: func(context.Context) ([]string, error) { return []string{"security@mofa.gov.vn"}, nil }})
		for range 2 {
			if err := n.Once(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		var count int
		var subject, body string
		if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*), MAX(subject), MAX(body_text) FROM mail_outbox").Scan(&count, &subject, &body); err != nil {
			t.Fatal(err)
		}
		if count != 1 || !strings.Contains(subject, "minh.tran") || !strings.Contains(body, "https://hq.example/console/sentinel/alerts/") {
			t.Fatalf("%d mails queued; the last %q: %q", count, subject, body)
		}
	})
}
