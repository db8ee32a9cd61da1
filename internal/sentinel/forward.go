package sentinel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/sentinel/detect"
	"chancery/internal/store"
	"chancery/internal/web"
)

// A mission scores its own ledger and forwards its alerts to
// headquarters through the exchange, whose message log keeps them while
// the link is cut and delivers them when it returns. The forwarder hands
// the mission's unforwarded alerts to a Courier, oldest first, and marks
// them forwarded once the courier has made them durable; headquarters
// stores what arrives with the mission's name, dropping alerts it already
// has (a message delivered twice, a mark lost in a crash).

// ForwardContentType is the media type of a forwarded batch.
const ForwardContentType = "application/vnd.chancery.sentinel-alerts+json"

// Forwarded is the batch a mission sends: its node and name, and its
// alerts as stored there (their ids are the mission's).
type Forwarded struct {
	Node     string  `json:"node"`
	NodeName string  `json:"node_name"`
	Alerts   []Alert `json:"alerts"`
}

// Courier carries a forwarded batch to headquarters; Send returns once the
// batch is durable on its way (the exchange's message log).
type Courier interface {
	Send(ctx context.Context, batch []byte) error
}

// forwardBatch bounds the alerts one message carries.
const forwardBatch = 50

// Forwarder sends a mission's alerts to headquarters.
type Forwarder struct {
	db       *store.DB
	courier  Courier
	node     string
	nodeName string
	log      *slog.Logger
	kick     kicker
}

// NewForwarder returns the forwarder of the mission node named nodeName.
func NewForwarder(db *store.DB, courier Courier, node, nodeName string, log *slog.Logger) *Forwarder {
	if log == nil {
		log = slog.Default()
	}
	return &Forwarder{db: db, courier: courier, node: node, nodeName: nodeName, log: log, kick: make(kicker, 1)}
}

// Nudge wakes the forwarder; it never blocks.
func (f *Forwarder) Nudge() { f.kick.nudge() }

// Run forwards until ctx ends, on each Nudge and every ten seconds; a
// courier's failure is retried.
func (f *Forwarder) Run(ctx context.Context) {
	f.kick.loop(ctx, 10*time.Second, func() {
		if _, err := f.Once(ctx); err != nil && ctx.Err() == nil {
			f.log.Warn("sentinel: forward alerts to headquarters (retried)", "err", err)
		}
	})
}

// Once forwards every unforwarded alert of this node's, in batches, and
// returns how many it forwarded.
func (f *Forwarder) Once(ctx context.Context) (int, error) {
	total := 0
	for {
		rows, err := f.db.QueryContext(ctx, f.db.Rebind("SELECT "+alertColumns+" FROM sentinel_alerts WHERE node = '' AND forwarded = 0 ORDER BY id LIMIT ?"), forwardBatch)
		if err != nil {
			return total, fmt.Errorf("sentinel: read alerts to forward: %w", err)
		}
		var batch []Alert
		for rows.Next() {
			a, err := scanAlert(rows)
			if err != nil {
				rows.Close()
				return total, err
			}
			batch = append(batch, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(batch) == 0 {
			return total, err
		}
		body, err := json.Marshal(Forwarded{Node: f.node, NodeName: f.nodeName, Alerts: batch})
		if err != nil {
			return total, err
		}
		if err := f.courier.Send(ctx, body); err != nil {
			return total, err
		}
		for _, a := range batch {
			if _, err := f.db.ExecContext(ctx, f.db.Rebind("UPDATE sentinel_alerts SET forwarded = 1 WHERE id = ?"), a.ID); err != nil {
				return total, fmt.Errorf("sentinel: mark alert %d forwarded: %w", a.ID, err)
			}
		}
		total += len(batch)
	}
}

// receiveActor names the system in the events of alerts received.
var receiveActor = audit.System("sentinel")

// Receive stores a mission's forwarded batch at headquarters, each alert
// once (by the mission's node and its id there), each with a ledger event.
// It returns how many were new. A batch that does not decode, or whose
// node is not from, is errs.ErrInvalid: from is the sender the exchange
// authenticated.
func (s *Service) Receive(ctx context.Context, from string, body []byte) (int, error) {
	var b Forwarded
	if err := json.Unmarshal(body, &b); err != nil {
		return 0, errs.Invalid("body", "a forwarded batch of alerts must be JSON: "+err.Error())
	}
	if b.Node == "" || b.Node != from {
		return 0, errs.Invalid("node", fmt.Sprintf("the batch names node %q but came from %q", b.Node, from))
	}
	if err := web.CheckText("node_name", b.NodeName); err != nil || len(b.NodeName) > 256 || strings.ContainsAny(b.NodeName, "\r\n") {
		return 0, errs.Invalid("node_name", "the mission's name must be one line of text")
	}
	if len(b.Alerts) > 10*forwardBatch {
		return 0, errs.Invalid("alerts", "too many alerts in one batch")
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	added := 0
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		added = 0 // InTx may run this again (a deadlock's victim)
		for _, a := range b.Alerts {
			if err := checkForwarded(a); err != nil {
				return err
			}
			exists := 0
			if err := tx.QueryRowContext(ctx, tx.Rebind("SELECT COUNT(*) FROM sentinel_alerts WHERE node = ? AND remote_id = ?"), b.Node, a.ID).Scan(&exists); err != nil {
				return err
			}
			if exists > 0 {
				continue
			}
			remote := a.ID
			a.Node, a.NodeName = b.Node, b.NodeName
			a.Status, a.Version, a.Assignee, a.Notes, a.CreatedAt, a.UpdatedAt = StatusNew, 1, "", "", now, now
			if a.Events == nil {
				a.Events = []uint64{}
			}
			id, err := insertAlert(ctx, tx, a, remote)
			if err != nil {
				return err
			}
			e := audit.Event{Actor: receiveActor, Action: "sentinel.receive_alert", ResourceType: "sentinel_alert", ResourceID: strconv.FormatInt(id, 10),
				Level: authz.Unclassified, Outcome: audit.OK,
				Attrs: map[string]string{"node": audit.AttrValue(b.Node), "remote_id": strconv.FormatInt(remote, 10), "rule": audit.AttrValue(a.Rule)}}
			if err := s.rec.Record(ctx, tx, e); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	if err != nil {
		var fe *errs.FieldError
		if errors.As(err, &fe) {
			return 0, err
		}
		return 0, fmt.Errorf("sentinel: store the alerts of %s: %w", from, err)
	}
	return added, nil
}

// checkForwarded refuses a forwarded alert with text the console would
// not take from a person, or too long: a mission is trusted to forward,
// not to write what it likes into headquarters' pages.
func checkForwarded(a Alert) error {
	if a.ID <= 0 || a.Rule == "" {
		return errs.Invalid("alerts", "an alert lacks its id or rule")
	}
	for _, t := range []struct{ field, s string }{{"rule", a.Rule}, {"user", a.User}, {"address", a.Address}, {"title", a.Title.VI + a.Title.EN},
		{"explanation", a.Explanation.VI + a.Explanation.EN}} {
		if err := web.CheckText(t.field, t.s); err != nil {
			return err
		}
		if len(t.s) > 8192 {
			return errs.Invalid(t.field, "is too long")
		}
	}
	if len(a.Events) > detect.MaxEvidence {
		return errs.Invalid("events", "cites too many events")
	}
	return nil
}
