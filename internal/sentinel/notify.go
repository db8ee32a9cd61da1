package sentinel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"chancery/internal/mail"
	"chancery/internal/store"
)

// The notifier tells people about new alerts: mail to the security
// officers for those whose risk reaches a threshold, queued in the
// database's mail outbox in the transaction that marks the alert mailed
// (each mailed once, whichever replica runs it); and every alert to the
// syslog feed, marked sent after the collector took it (at least once).

// NotifierOptions configure a Notifier. DB is required.
type NotifierOptions struct {
	DB *store.DB
	// Mail is the outbox; nil sends no mail.
	Mail *mail.Outbox
	// Recipients returns the security officers' addresses.
	Recipients func(ctx context.Context) ([]string, error)
	// MailRisk is the risk from which an alert is mailed.
	MailRisk float64
	// Syslog is the feed; nil sends none.
	Syslog *Syslog
	// Link returns the console address of an alert, for the mail.
	Link   func(id int64) string
	Now    func() time.Time
	Logger *slog.Logger
}

// notifyMaxAge bounds how old an alert may be and still be sent: a feed
// configured later does not flood the collector with the past.
const notifyMaxAge = 24 * time.Hour

// Notifier sends what new alerts call for.
type Notifier struct {
	opts NotifierOptions
	kick kicker
}

// NewNotifier returns a notifier.
func NewNotifier(opts NotifierOptions) *Notifier {
	if opts.Now == nil {
		opts.Now = store.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Notifier{opts: opts, kick: make(kicker, 1)}
}

// Nudge wakes the notifier; it never blocks.
func (n *Notifier) Nudge() { n.kick.nudge() }

// Run notifies until ctx ends, on each Nudge and every 30 seconds.
func (n *Notifier) Run(ctx context.Context) {
	n.kick.loop(ctx, 30*time.Second, func() {
		if err := n.Once(ctx); err != nil && ctx.Err() == nil {
			n.opts.Logger.Warn("sentinel: notify (retried)", "err", err)
		}
	})
}

// Once sends what is due now.
func (n *Notifier) Once(ctx context.Context) error {
	return errors.Join(n.mailDue(ctx), n.syslogDue(ctx))
}

// due returns up to 100 alerts whose flag column is 0, oldest first.
func (n *Notifier) due(ctx context.Context, flag string) ([]Alert, error) {
	db := n.opts.DB
	rows, err := db.QueryContext(ctx, db.Rebind("SELECT "+alertColumns+" FROM sentinel_alerts WHERE "+flag+" = 0 ORDER BY id LIMIT 100"))
	if err != nil {
		return nil, fmt.Errorf("sentinel: read alerts to notify: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (n *Notifier) mark(ctx context.Context, q store.Queryer, flag string, id int64) (bool, error) {
	res, err := q.ExecContext(ctx, q.Rebind("UPDATE sentinel_alerts SET "+flag+" = 1 WHERE id = ? AND "+flag+" = 0"), id)
	if err != nil {
		return false, fmt.Errorf("sentinel: mark alert %d notified: %w", id, err)
	}
	k, err := res.RowsAffected()
	return k == 1, err
}

func (n *Notifier) mailDue(ctx context.Context) error {
	alerts, err := n.due(ctx, "mailed")
	if err != nil || len(alerts) == 0 {
		return err
	}
	var to []string
	if n.opts.Mail != nil && n.opts.Recipients != nil {
		if to, err = n.opts.Recipients(ctx); err != nil {
			return err
		}
	}
	db := n.opts.DB
	sent := false
	for _, a := range alerts {
		send := len(to) > 0 && a.Risk >= n.opts.MailRisk && n.opts.Now().Sub(a.CreatedAt) < notifyMaxAge
		err := db.InTx(ctx, func(tx *store.Tx) error {
			claimed, err := n.mark(ctx, tx, "mailed", a.ID)
			if err != nil || !claimed || !send {
				return err
			}
			return n.opts.Mail.EnqueueTx(ctx, tx, n.message(a, to))
		})
		if err != nil {
			return err
		}
		sent = sent || send
	}
	if sent {
		n.opts.Mail.Nudge()
	}
	return nil
}

// message is the mail about a, in both languages.
func (n *Notifier) message(a Alert, to []string) mail.Message {
	who := a.User
	if who == "" {
		who = a.Address
	}
	where := ""
	if a.NodeName != "" {
		where = " (" + a.NodeName + ")"
	}
	subject := fmt.Sprintf("[Sentinel] %s: %s — rủi ro %.0f / risk %.0f%s", strings.TrimSpace(a.Title.VI), who, a.Risk, a.Risk, where)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n\n", a.Explanation.VI, a.Explanation.EN)
	fmt.Fprintf(&b, "Quy tắc / Rule: %s\nĐiểm / Score: %.0f\nRủi ro / Risk: %.0f\nSự kiện nhật ký / Ledger events: %s\n", a.Rule, a.Score, a.Risk, joinSeqs(a.Events))
	if n.opts.Link != nil {
		fmt.Fprintf(&b, "\n%s\n", n.opts.Link(a.ID))
	}
	return mail.Message{To: to, Subject: strings.NewReplacer("\r", " ", "\n", " ").Replace(subject), Text: b.String()}
}

func (n *Notifier) syslogDue(ctx context.Context) error {
	if n.opts.Syslog == nil {
		return nil
	}
	alerts, err := n.due(ctx, "syslogged")
	if err != nil {
		return err
	}
	for _, a := range alerts {
		if n.opts.Now().Sub(a.CreatedAt) < notifyMaxAge {
			if err := n.opts.Syslog.Send(a, n.opts.Now()); err != nil {
				return err
			}
		}
		if _, err := n.mark(ctx, n.opts.DB, "syslogged", a.ID); err != nil {
			return err
		}
	}
	return nil
}

// AlertLink is the console address of alert id under base.
func AlertLink(base string) func(int64) string {
	return func(id int64) string {
		return strings.TrimRight(base, "/") + "/console/sentinel/alerts/" + strconv.FormatInt(id, 10)
	}
}

// kicker wakes a background loop: nudges coalesce, and none blocks.
type kicker chan struct{}

func (k kicker) nudge() {
	select {
	case k <- struct{}{}:
	default:
	}
}

// loop runs round now, then on each nudge and every period, until ctx
// ends.
func (k kicker) loop(ctx context.Context, period time.Duration, round func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		round()
		select {
		case <-ctx.Done():
			return
		case <-k:
		case <-t.C:
		}
	}
}
