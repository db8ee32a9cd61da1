package exchange

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// A circular is one message published to many recipients: headquarters
// to every mission, or to a list. Each recipient gets its own copy, an
// ordinary outgoing message with its own id and sealed body, so that the
// copies follow the path of Send unchanged; each copy asks for a receipt,
// which the recipient's node sends back when it has the copy, or when the
// copy is dead (receipt.go), so that the sender sees who has it. The
// circular and all its copies are written in one transaction: a circular
// is either wholly queued or not at all.

// MaxCircularRecipients bounds the recipients of one circular, so that
// one request cannot make an unbounded transaction.
const MaxCircularRecipients = 1000

// Circular is a message an information system publishes to many
// recipients.
type Circular struct {
	// From is the sending subsystem, which this node must serve.
	From ClientID
	// Service is the asynchronous service's code, with its version if it
	// has one ("notice/v1"); every recipient must offer it.
	Service string
	// Recipients are the subsystems that get a copy. When AllMissions is
	// set they must be empty: the recipients are every subsystem at a
	// mission's node that offers the service in the global configuration.
	Recipients  []ClientID
	AllMissions bool
	Level       authz.Level
	ContentType string
	Payload     []byte
}

// CircularCopy is one recipient's copy of a circular and where it is:
// pending (queued on the sender's node), sent (in the sender's stream,
// for the recipient's node to take), delivered (the recipient's node has
// it: its signed receipt says so) or dead (the recipient's node refused
// it or moved it to the dead letters, or the sender's node could no
// longer send it), with the reason; Time is when it got there: queued,
// published, or the time the recipient's node gave in its receipt.
type CircularCopy struct {
	Recipient ClientID  `json:"recipient"`
	MessageID string    `json:"message_id"`
	State     string    `json:"state"`
	Time      time.Time `json:"time"`
	Reason    string    `json:"reason,omitempty"`
}

// CircularStatus is a circular and where each copy is.
type CircularStatus struct {
	ID      string         `json:"id"`
	Sender  ClientID       `json:"sender"`
	Service string         `json:"service"`
	Created time.Time      `json:"created"`
	Copies  []CircularCopy `json:"copies"`
}

// services returns the service id of each recipient's copy, checking the
// service code and the recipients' list.
func (c Circular) services(conf *GlobalConf) ([]ServiceID, error) {
	code, version, _ := strings.Cut(c.Service, "/")
	if c.Service == "" || strings.Contains(version, "/") {
		return nil, errs.Invalid("service", fmt.Sprintf("service %q must be the service's code with its version if it has one, such as notice/v1", c.Service))
	}
	recipients := c.Recipients
	if c.AllMissions {
		if len(recipients) > 0 {
			return nil, errs.Invalid("recipients", "name the recipients or ask for all missions, not both")
		}
		recipients = missionProviders(conf, code, version)
		if len(recipients) == 0 {
			return nil, errs.Invalid("recipients", fmt.Sprintf("no mission offers the service %s in the global configuration", c.Service))
		}
	}
	if len(recipients) == 0 {
		return nil, errs.Invalid("recipients", "name at least one recipient subsystem, or ask for all missions")
	}
	if len(recipients) > MaxCircularRecipients {
		return nil, errs.Invalid("recipients", fmt.Sprintf("a circular goes to at most %d recipients, not %d", MaxCircularRecipients, len(recipients)))
	}
	seen := make(map[ClientID]bool, len(recipients))
	svcs := make([]ServiceID, len(recipients))
	for i, r := range recipients {
		if seen[r] {
			return nil, errs.Invalid("recipients", fmt.Sprintf("recipient %s is listed twice; name each once", r))
		}
		seen[r] = true
		svcs[i] = ServiceID{ClientID: r, Service: code, Version: version}
		if err := svcs[i].Validate(); err != nil {
			return nil, err
		}
	}
	return svcs, nil
}

// missionProviders returns the subsystems served by a mission's node that
// offer the asynchronous service code/version, in the configuration's
// order.
func missionProviders(conf *GlobalConf, code, version string) []ClientID {
	var out []ClientID
	for _, s := range conf.Services {
		if s.Kind != KindAsync || s.ID.Service != code || s.ID.Version != version {
			continue
		}
		if node, ok := conf.NodeOf(s.ID.Provider()); ok {
			if info, ok := conf.Node(node); ok && info.Role == RoleMission {
				out = append(out, s.ID.Provider())
			}
		}
	}
	return out
}

// Publish checks a circular against the global configuration, writes it
// and one copy per recipient to the message log in one transaction, and
// returns its id and the copies; the transport then delivers each copy as
// it delivers a message of Send. A recipient the configuration does not
// allow (no access right, not cleared, revoked…) refuses the whole
// circular with an error naming every such recipient, and nothing is
// written.
func (n *Node) Publish(ctx context.Context, c Circular) (string, []CircularCopy, error) {
	conf, err := n.sendConf(ctx)
	if err != nil {
		return "", nil, err
	}
	svcs, err := c.services(conf)
	if err != nil {
		return "", nil, err
	}
	// Check every copy before sealing any, so that the refusal names all
	// the recipients at fault.
	dests := make([]string, len(svcs))
	var refused []string
	var first error
	for i, svc := range svcs {
		dests[i], err = checkOutgoing(conf, n.id, Outgoing{From: c.From, To: svc, Level: c.Level, ContentType: c.ContentType, Payload: c.Payload})
		if err != nil {
			refused = append(refused, svc.Provider().String())
			if first == nil {
				first = err
			}
		}
	}
	if first != nil {
		var re *RefusedError
		if errors.As(first, &re) {
			n.metrics.message("out", svcs[0], "refused", len(refused))
			return "", nil, &RefusedError{Reason: re.Reason, Detail: fmt.Sprintf("the circular is refused for %d recipients (%s), nothing was sent: %s",
				len(refused), strings.Join(refused, ", "), re.Detail)}
		}
		return "", nil, first
	}
	t := n.transport()
	if t == nil {
		return "", nil, ErrTransportStopped
	}
	now := n.now().UTC().Truncate(time.Microsecond)
	id := NewMessageID(now)
	byDest := map[string][]*sendReq{}
	copies := make([]CircularCopy, len(svcs))
	for i, svc := range svcs {
		e := &Envelope{Header: Header{ID: NewMessageID(now), Type: TypeMessage, Sender: c.From, Recipient: svc.Provider(), Service: svc,
			Time: now, Level: c.Level, ContentType: c.ContentType, Receipt: true}, Payload: c.Payload}
		body, err := n.ring.Seal(ctx, keyPurpose, c.Payload, bodyAD("out", e.ID))
		if err != nil {
			return "", nil, fmt.Errorf("exchange: seal a copy of the circular: %w", err)
		}
		byDest[dests[i]] = append(byDest[dests[i]], &sendReq{out: outMsg{env: e, digest: Digest(e.Encode()), body: body}})
		copies[i] = CircularCopy{Recipient: svc.Provider(), MessageID: e.ID, State: "pending", Time: now}
	}
	// Hold each destination's commit lock, as its committer does, from
	// the commit until the copies are handed to its publisher, so that
	// the publisher never sees them between the two (see destination).
	// The locks are taken in one order, so two circulars cannot deadlock.
	nodes := make([]string, 0, len(byDest))
	for d := range byDest {
		nodes = append(nodes, d)
	}
	slices.Sort(nodes)
	ds := make([]*destination, len(nodes))
	for i, node := range nodes {
		ds[i] = t.destination(node)
		ds[i].commitMu.Lock()
		defer ds[i].commitMu.Unlock()
	}
	err = n.writeTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO exchange_circulars (id, sender, service, created_us) VALUES (?, ?, ?, ?)`),
			id, c.From.String(), c.Service, now.UnixMicro()); err != nil {
			return fmt.Errorf("exchange: write circular: %w", err)
		}
		for _, node := range nodes {
			if err := n.logOutgoing(ctx, tx, node, byDest[node]); err != nil {
				return err
			}
		}
		for _, cp := range copies {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO exchange_circular_recipients (circular_id, recipient, msg_id) VALUES (?, ?, ?)`),
				id, cp.Recipient.String(), cp.MessageID); err != nil {
				return fmt.Errorf("exchange: write circular recipient %s: %w", cp.Recipient, err)
			}
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	for i, node := range nodes {
		msgs := make([]outMsg, len(byDest[node]))
		for j, r := range byDest[node] {
			msgs[j] = r.out
		}
		select {
		case ds[i].groups <- msgs:
		case <-t.ctx.Done():
			// Committed: the copies are pending in the log and sent
			// after the restart.
		}
	}
	n.metrics.message("out", svcs[0], "sent", len(svcs))
	return id, copies, nil
}

// CircularStatus returns circular id and the state of each copy, if the
// subject of ctx may read the sender's messages (authz); otherwise, or if
// there is no such circular, an error wrapping errs.ErrNotFound, so that
// nobody learns of others' circulars.
func (n *Node) CircularStatus(ctx context.Context, s authz.Subject, id string) (*CircularStatus, error) {
	notFound := fmt.Errorf("exchange: no circular %s of %s: %w", id, s.Subsystem, errs.ErrNotFound)
	if !plausibleMessageID(id) {
		return nil, notFound
	}
	st := &CircularStatus{ID: id}
	var sender string
	var us int64
	err := n.db.QueryRowContext(ctx, n.db.Rebind(`SELECT sender, service, created_us FROM exchange_circulars WHERE id = ?`), id).Scan(&sender, &st.Service, &us)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, fmt.Errorf("exchange: read circular %s: %w", id, err)
	}
	if d, _ := authz.Decide(s, authz.Read, authz.Resource{Kind: authz.KindMessage, Subsystem: sender}); d != authz.Allowed {
		return nil, notFound
	}
	if st.Sender, err = ParseClientID(sender); err != nil {
		return nil, fmt.Errorf("exchange: circular %s has a malformed sender: %w", id, err)
	}
	st.Created = time.UnixMicro(us).UTC()
	rows, err := n.db.QueryContext(ctx, n.db.Rebind(`SELECT r.recipient, r.msg_id, l.state, l.reason, l.logged_us, COALESCE(b.created_us, 0),
			r.outcome, COALESCE(r.outcome_us, 0), r.reason
		FROM exchange_circular_recipients r
		JOIN exchange_log l ON l.direction = 'out' AND l.type = 1 AND l.msg_id = r.msg_id
		LEFT JOIN exchange_batches b ON b.batch_id = l.batch_id
		WHERE r.circular_id = ? ORDER BY r.recipient`), id)
	if err != nil {
		return nil, fmt.Errorf("exchange: read the copies of circular %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			cp                                   CircularCopy
			rcpt, state, reason, outcome, answer string
			logged, sent, at                     int64
		)
		if err := rows.Scan(&rcpt, &cp.MessageID, &state, &reason, &logged, &sent, &outcome, &at, &answer); err != nil {
			return nil, fmt.Errorf("exchange: read the copies of circular %s: %w", id, err)
		}
		if cp.Recipient, err = ParseClientID(rcpt); err != nil {
			return nil, fmt.Errorf("exchange: circular %s has a malformed recipient: %w", id, err)
		}
		cp.State, cp.Time, cp.Reason = copyState(state, reason, logged, sent, outcome, at, answer)
		st.Copies = append(st.Copies, cp)
	}
	return st, rows.Err()
}

// copyState says where a copy is: the latest receipt's outcome when the
// recipient's node sent one; otherwise the state of the sender's row
// (a copy its node could not send any more is dead). Times are
// microseconds.
func copyState(state, reason string, logged, sent int64, outcome string, at int64, answer string) (string, time.Time, string) {
	switch {
	case outcome != "":
		return outcome, time.UnixMicro(at).UTC(), answer
	case state == "failed":
		return outcomeDead, time.UnixMicro(logged).UTC(), reason
	case state == "sent" && sent > 0:
		return "sent", time.UnixMicro(sent).UTC(), ""
	}
	return state, time.UnixMicro(logged).UTC(), reason
}
