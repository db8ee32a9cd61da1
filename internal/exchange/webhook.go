package exchange

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"chancery/internal/audit"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Webhooks push a client subsystem's inbox to a URL of its own: each
// message is POSTed in order, its payload as the body with its content
// type, described by X-Chancery-* headers and signed with an HMAC the
// subsystem checks with the secret it got when it registered the URL. A
// 2xx answer acknowledges the message; anything else is tried again
// later, with exponential backoff — without limit while the receiver is
// unreachable or unavailable, webhookMaxRefusals times when it refuses
// the message, which then becomes a dead letter (deadletter.go).

// Webhook headers, besides HeaderMessageID and HeaderLevel.
const (
	HeaderSender  = "X-Chancery-Sender"
	HeaderService = "X-Chancery-Service"
	HeaderTime    = "X-Chancery-Time"
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of the body,
	// keyed with the webhook's secret.
	HeaderSignature = "X-Chancery-Signature"
)

// Webhook delivery limits.
const (
	webhookWorkers = 4
	webhookPage    = 64
	webhookTimeout = 10 * time.Second
	// webhookEvery is how often the deliverer looks for due webhooks
	// when nothing woke it: an arrival at this process, a webhook set,
	// and a retry coming due (webhookFailed) all do, so the tick is for
	// what another replica of headquarters received.
	webhookEvery    = 5 * time.Second
	webhookMaxDelay = 10 * time.Minute
)

// webhookBaseDelay is the wait after a first failure; it doubles with
// each failure after it. Tests shorten it.
var webhookBaseDelay = time.Second

// WebhookSignature returns the value of the X-Chancery-Signature header
// for body under secret.
func WebhookSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// SetWebhook makes this node push client's inbox to rawURL, replacing any
// webhook it had, and returns the new signing secret; it is shown once.
// It returns an error wrapping errs.ErrInvalid for a URL that is not an
// absolute http or https URL, and one wrapping ErrInternalWebhook too for
// a URL whose host resolves to an internal address not allowed (see
// webhookGuard); the refusal and the change are audited.
func (n *Node) SetWebhook(ctx context.Context, client ClientID, rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(rawURL) > 2048 || u.User != nil {
		return "", errs.Invalid("url", fmt.Sprintf("%q is not an absolute http or https URL without credentials, such as https://system.example/chancery/inbox", cutText(rawURL, 256)))
	}
	if err := n.hooks.check(ctx, u); err != nil {
		n.recordWebhook(ctx, client, "exchange.webhook.set", audit.Denied, err.Error(), u.Host)
		return "", err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	secret := "whsec_" + base64.RawURLEncoding.EncodeToString(b[:])
	sealed, err := n.ring.Seal(ctx, keyPurpose, []byte(secret), webhookAD(client))
	if err != nil {
		return "", fmt.Errorf("exchange: seal webhook secret: %w", err)
	}
	_, err = n.db.ExecContext(ctx, n.db.Rebind(`INSERT INTO exchange_webhooks (client, url, secret, created_us) VALUES (?, ?, ?, ?)
		ON CONFLICT (client) DO UPDATE SET url = excluded.url, secret = excluded.secret, created_us = excluded.created_us,
		failures = 0, next_try_us = 0, last_error = '', refusals = 0, refused_id = ''`), client.String(), rawURL, sealed, n.now().UnixMicro())
	if err != nil {
		return "", fmt.Errorf("exchange: save webhook of %s: %w", client, err)
	}
	n.recordWebhook(ctx, client, "exchange.webhook.set", audit.OK, "", u.Host)
	if t := n.transport(); t != nil {
		kick(t.hookKick)
	}
	return secret, nil
}

// DeleteWebhook stops pushing client's inbox. It returns an error
// wrapping errs.ErrNotFound if client has no webhook.
func (n *Node) DeleteWebhook(ctx context.Context, client ClientID) error {
	res, err := n.db.ExecContext(ctx, n.db.Rebind(`DELETE FROM exchange_webhooks WHERE client = ?`), client.String())
	if err != nil {
		return fmt.Errorf("exchange: delete webhook of %s: %w", client, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return fmt.Errorf("exchange: %s has no webhook: %w", client, errs.ErrNotFound)
	}
	n.recordWebhook(ctx, client, "exchange.webhook.delete", audit.OK, "", "")
	return nil
}

// WebhookStatus is the state of a client subsystem's webhook.
type WebhookStatus struct {
	URL       string
	Failures  int64
	NextTry   time.Time
	LastError string
}

// Webhook returns client's webhook, or an error wrapping errs.ErrNotFound.
func (n *Node) Webhook(ctx context.Context, client ClientID) (WebhookStatus, error) {
	var (
		w    WebhookStatus
		next int64
	)
	err := n.db.QueryRowContext(ctx, n.db.Rebind(`SELECT url, failures, next_try_us, last_error FROM exchange_webhooks WHERE client = ?`), client.String()).
		Scan(&w.URL, &w.Failures, &next, &w.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("exchange: %s has no webhook: %w", client, errs.ErrNotFound)
	}
	if err != nil {
		return w, fmt.Errorf("exchange: read webhook of %s: %w", client, err)
	}
	w.NextTry = time.UnixMicro(next).UTC()
	return w, nil
}

func webhookAD(client ClientID) []byte { return []byte("exchange-webhook:" + client.String()) }

// runWebhooks pushes inboxes to their webhooks until ctx ends, with at
// most webhookWorkers clients served at once.
func (t *transport) runWebhooks(ctx context.Context) {
	client := t.n.hooks.client()
	tick := time.NewTicker(webhookEvery)
	defer tick.Stop()
	sem := make(chan struct{}, webhookWorkers)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		busy = map[string]bool{} // clients being served; at most webhookWorkers; guarded by mu
		// again holds the busy clients found due once more: their push
		// wakes the loop when it ends. Guarded by mu.
		again = map[string]bool{}
	)
	defer wg.Wait()
	for {
		due, err := t.dueWebhooks(ctx)
		if err != nil && ctx.Err() == nil {
			t.n.log.Error("exchange: read webhooks", "err", err)
		}
		for _, c := range due {
			mu.Lock()
			skip := busy[c]
			if skip {
				again[c] = true
			}
			mu.Unlock()
			if skip {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			mu.Lock()
			busy[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.pushWebhook(ctx, client, c)
				mu.Lock()
				delete(busy, c)
				wake := again[c]
				delete(again, c)
				mu.Unlock()
				<-sem
				if wake {
					kick(t.hookKick)
				}
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-t.hookKick:
		}
	}
}

// dueWebhooks lists the clients whose webhook may be tried now.
func (t *transport) dueWebhooks(ctx context.Context) ([]string, error) {
	return store.Column[string](ctx, t.n.db, `SELECT client FROM exchange_webhooks WHERE next_try_us <= ? ORDER BY client LIMIT 1000`, t.n.now().UnixMicro())
}

// pushWebhook pushes one client's inbox, in order, until it is empty or
// a push fails.
func (t *transport) pushWebhook(ctx context.Context, hc *http.Client, clientID string) {
	n := t.n
	client, err := ParseClientID(clientID)
	if err != nil {
		return
	}
	var (
		rawURL string
		sealed []byte
	)
	err = n.db.QueryRowContext(ctx, n.db.Rebind(`SELECT url, secret FROM exchange_webhooks WHERE client = ?`), clientID).Scan(&rawURL, &sealed)
	if err != nil {
		return // deleted meanwhile
	}
	secret, err := n.ring.Open(ctx, keyPurpose, sealed, webhookAD(client))
	if err != nil {
		n.log.Error("exchange: unseal webhook secret", "client", clientID, "err", err)
		return
	}
	var after int64
	for ctx.Err() == nil {
		msgs, err := n.Inbox(ctx, client, after, webhookPage)
		if err != nil || len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			err := postWebhook(ctx, hc, rawURL, string(secret), m)
			var ref *webhookRefusal
			switch {
			case err == nil:
				if _, err := n.Ack(ctx, client, m.ID); err != nil {
					return
				}
			case ctx.Err() != nil:
				return
			case errors.As(err, &ref):
				// Tried again later, or a dead letter the queue goes on
				// without.
				if dead, err := t.webhookRefused(ctx, client, m, ref); err != nil || !dead {
					return
				}
			default:
				t.webhookFailed(ctx, clientID, err)
				return
			}
			after = m.Seq
		}
		if _, err := n.db.ExecContext(ctx, n.db.Rebind(`UPDATE exchange_webhooks SET failures = 0, last_error = '', refusals = 0, refused_id = ''
			WHERE client = ? AND (failures > 0 OR refusals > 0)`), clientID); err != nil {
			return
		}
	}
}

// postWebhook POSTs one message; any answer but 2xx is a failure, and a
// *webhookRefusal when the receiver refuses this message (see
// receiverUnavailable) or the message could never be sent.
func postWebhook(ctx context.Context, hc *http.Client, rawURL, secret string, m Delivered) error {
	ct := m.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	if err := checkContentType(ct); err != nil {
		// Refused at the door since; one that came in before cannot
		// be given as a header, ever.
		return &webhookRefusal{answer: "not sent: the message's content type is not a media type of printable ASCII, so it can never be delivered", permanent: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(m.Payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set(HeaderMessageID, m.ID)
	req.Header.Set(HeaderSender, m.Sender.String())
	req.Header.Set(HeaderService, m.Service.String())
	req.Header.Set(HeaderLevel, m.Level.String())
	req.Header.Set(HeaderTime, m.Time.Format(time.RFC3339Nano))
	req.Header.Set(HeaderSignature, WebhookSignature(secret, m.Payload))
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10)) // only the start of a refusal is kept
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return nil
	case receiverUnavailable(resp.StatusCode):
		return fmt.Errorf("the webhook answered %s", resp.Status)
	}
	return &webhookRefusal{answer: printable(resp.Status+": "+string(answer), 1000)}
}

// webhookFailed records a failure and schedules the next try.
func (t *transport) webhookFailed(ctx context.Context, clientID string, cause error) {
	n := t.n
	var failures int64
	if err := n.db.QueryRowContext(ctx, n.db.Rebind(`SELECT failures FROM exchange_webhooks WHERE client = ?`), clientID).Scan(&failures); err != nil {
		return
	}
	if c, err := ParseClientID(clientID); err == nil && failures == 0 && errors.Is(cause, ErrInternalWebhook) {
		// Its host resolved to a public address when it was set.
		n.recordWebhook(ctx, c, "exchange.webhook.refused", audit.Denied, cause.Error(), "")
	}
	delay := webhookBaseDelay << min(failures, 20)
	delay = min(delay, webhookMaxDelay)
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	msg = strings.ToValidUTF8(msg, "?")
	if _, err := n.db.ExecContext(ctx, n.db.Rebind(`UPDATE exchange_webhooks SET failures = failures + 1, next_try_us = ?, last_error = ? WHERE client = ?`),
		n.now().Add(delay).UnixMicro(), msg, clientID); err != nil {
		n.log.Error("exchange: record webhook failure", "client", clientID, "err", err)
	} else {
		// The deliverer waits for no tick: the retry wakes it.
		time.AfterFunc(delay, func() { kick(t.hookKick) })
	}
	n.log.Warn("exchange: webhook delivery failed; will try again", "client", clientID, "in", delay, "err", cause)
}
