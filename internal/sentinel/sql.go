package sentinel

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// The storage of the watcher and the alerts (migration 00030).

const alertColumns = `id, node, node_name, rule, username, actor_kind, actor_id, unit_id, address, score, risk,
	title_vi, title_en, explanation_vi, explanation_en, events, first_us, last_us, level, status, assignee, notes,
	version, created_us, updated_us`

// insertAlert stores a; node and remote name a mission's forwarded alert
// (empty and 0 for this node's own). It returns the new id.
func insertAlert(ctx context.Context, tx *store.Tx, a Alert, remote int64) (int64, error) {
	events, err := json.Marshal(a.Events)
	if err != nil {
		return 0, err
	}
	var remoteID any
	if remote != 0 {
		remoteID = remote
	}
	var id int64
	err = tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO sentinel_alerts (node, node_name, remote_id, rule, username, actor_kind, actor_id,
		unit_id, address, score, risk, title_vi, title_en, explanation_vi, explanation_en, events, first_us, last_us, level, status,
		assignee, notes, version, created_us, updated_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		a.Node, a.NodeName, remoteID, a.Rule, a.User, a.ActorKind, a.ActorID, a.UnitID, a.Address, a.Score, a.Risk,
		a.Title.VI, a.Title.EN, a.Explanation.VI, a.Explanation.EN, string(events), store.Micros(a.First), store.Micros(a.Last),
		int64(a.Level), string(a.Status), a.Assignee, a.Notes, a.Version, store.Micros(a.CreatedAt), store.Micros(a.UpdatedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("sentinel: store an alert: %w", err)
	}
	return id, nil
}

func scanAlert(row interface{ Scan(...any) error }) (Alert, error) {
	var (
		a                         Alert
		events, status            string
		level                     int64
		first, last, created, upd int64
	)
	err := row.Scan(&a.ID, &a.Node, &a.NodeName, &a.Rule, &a.User, &a.ActorKind, &a.ActorID, &a.UnitID, &a.Address, &a.Score, &a.Risk,
		&a.Title.VI, &a.Title.EN, &a.Explanation.VI, &a.Explanation.EN, &events, &first, &last, &level, &status, &a.Assignee, &a.Notes,
		&a.Version, &created, &upd)
	if err != nil {
		return Alert{}, err
	}
	if err := json.Unmarshal([]byte(events), &a.Events); err != nil {
		return Alert{}, fmt.Errorf("sentinel: alert %d's evidence is not a JSON array: %w", a.ID, err)
	}
	a.Status, a.Level = Status(status), authz.Level(level)
	a.First, a.Last, a.CreatedAt, a.UpdatedAt = store.FromMicros(first), store.FromMicros(last), store.FromMicros(created), store.FromMicros(upd)
	return a, nil
}

var errAlertNotFound = fmt.Errorf("%w: no such alert", errs.ErrNotFound)

// loadAlert reads alert id, locking it in a transaction on PostgreSQL.
func loadAlert(ctx context.Context, q store.Queryer, d store.Dialect, id int64, lock bool) (Alert, error) {
	query := "SELECT " + alertColumns + " FROM sentinel_alerts WHERE id = ?"
	if lock && d == store.Postgres {
		query += " FOR UPDATE"
	}
	a, err := scanAlert(q.QueryRowContext(ctx, q.Rebind(query), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Alert{}, errAlertNotFound
	}
	if err != nil {
		return Alert{}, fmt.Errorf("sentinel: read alert %d: %w", id, err)
	}
	return a, nil
}

// listAlerts returns f's page: new first, then investigating, then the
// closed; by risk within each, highest first; newest first at equal risk.
func listAlerts(ctx context.Context, db *store.DB, f Filter) (AlertPage, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.Rule != "" {
		where, args = append(where, "rule = ?"), append(args, f.Rule)
	}
	if f.User != "" {
		where, args = append(where, "username = ?"), append(args, f.User)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	page := AlertPage{Items: []Alert{}, Page: f.Page}
	if err := db.QueryRowContext(ctx, db.Rebind("SELECT COUNT(*) FROM sentinel_alerts"+cond), args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("sentinel: count alerts: %w", err)
	}
	page.Pages = max(1, (page.Total+f.PerPage-1)/f.PerPage)
	rows, err := db.QueryContext(ctx, db.Rebind("SELECT "+alertColumns+" FROM sentinel_alerts"+cond+
		` ORDER BY CASE status WHEN 'new' THEN 0 WHEN 'investigating' THEN 1 ELSE 2 END, risk DESC, id DESC LIMIT ? OFFSET ?`),
		append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return page, fmt.Errorf("sentinel: list alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return page, fmt.Errorf("sentinel: list alerts: %w", err)
		}
		page.Items = append(page.Items, a)
	}
	return page, rows.Err()
}

// RiskPoint is a person's risk score when an alert was raised.
type RiskPoint struct {
	At   time.Time `json:"at"`
	Risk float64   `json:"risk"`
	Rule string    `json:"rule"`
}

// riskHistory returns user's risk at each of their alerts, oldest first,
// the last 100.
func riskHistory(ctx context.Context, db *store.DB, user string) ([]RiskPoint, error) {
	rows, err := db.QueryContext(ctx, db.Rebind(`SELECT created_us, risk, rule FROM sentinel_alerts WHERE username = ? ORDER BY created_us DESC, id DESC LIMIT 100`), user)
	if err != nil {
		return nil, fmt.Errorf("sentinel: read %s's risk: %w", user, err)
	}
	defer rows.Close()
	var out []RiskPoint
	for rows.Next() {
		var p RiskPoint
		var at int64
		if err := rows.Scan(&at, &p.Risk, &p.Rule); err != nil {
			return nil, err
		}
		p.At = store.FromMicros(at)
		out = append([]RiskPoint{p}, out...)
	}
	return out, rows.Err()
}

// history returns alert id's triage changes, oldest first.
func history(ctx context.Context, db *store.DB, id int64) ([]Change, error) {
	rows, err := db.QueryContext(ctx, db.Rebind(`SELECT at_us, actor, from_status, to_status, assignee, note FROM sentinel_alert_history
		WHERE alert_id = ? ORDER BY id`), id)
	if err != nil {
		return nil, fmt.Errorf("sentinel: read alert %d's history: %w", id, err)
	}
	defer rows.Close()
	out := []Change{}
	for rows.Next() {
		var c Change
		var at int64
		var from, to string
		if err := rows.Scan(&at, &c.Actor, &from, &to, &c.Assignee, &c.Note); err != nil {
			return nil, err
		}
		c.At, c.From, c.To = store.FromMicros(at), Status(from), Status(to)
		out = append(out, c)
	}
	return out, rows.Err()
}

// updateTriage stores a's triage and the change c.
func updateTriage(ctx context.Context, tx *store.Tx, a Alert, c Change) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE sentinel_alerts SET status = ?, assignee = ?, notes = ?, version = ?, updated_us = ?,
		fed_back = CASE WHEN ? THEN fed_back ELSE 0 END WHERE id = ?`),
		string(a.Status), a.Assignee, a.Notes, a.Version, store.Micros(a.UpdatedAt), c.From == c.To, a.ID); err != nil {
		return fmt.Errorf("sentinel: update alert %d: %w", a.ID, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO sentinel_alert_history (alert_id, at_us, actor, from_status, to_status, assignee, note)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), a.ID, store.Micros(c.At), c.Actor, string(c.From), string(c.To), c.Assignee, c.Note); err != nil {
		return fmt.Errorf("sentinel: record alert %d's change: %w", a.ID, err)
	}
	return nil
}

// verdict is a closed alert of this node's not yet told to the scorer.
type verdict struct {
	id   int64
	rule string
	user string
	unit int64
	tp   bool
}

// pendingVerdicts returns this node's closed alerts whose verdict the
// scorer has not had.
func pendingVerdicts(ctx context.Context, q store.Queryer) ([]verdict, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT id, rule, username, unit_id, status FROM sentinel_alerts
		WHERE node = '' AND fed_back = 0 AND status IN (?, ?) ORDER BY id LIMIT 1000`), string(StatusTruePositive), string(StatusFalsePositive))
	if err != nil {
		return nil, fmt.Errorf("sentinel: read verdicts: %w", err)
	}
	defer rows.Close()
	var out []verdict
	for rows.Next() {
		var v verdict
		var status string
		if err := rows.Scan(&v.id, &v.rule, &v.user, &v.unit, &status); err != nil {
			return nil, err
		}
		v.tp = Status(status) == StatusTruePositive
		out = append(out, v)
	}
	return out, rows.Err()
}

// markFedBack notes the verdicts as told, each only if its alert is still
// closed as it was told (a change since resets it to be told again).
func markFedBack(ctx context.Context, tx *store.Tx, told []verdict) error {
	for _, v := range told {
		status := StatusFalsePositive
		if v.tp {
			status = StatusTruePositive
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE sentinel_alerts SET fed_back = 1 WHERE id = ? AND status = ?"), v.id, string(status)); err != nil {
			return fmt.Errorf("sentinel: note alert %d's verdict as told: %w", v.id, err)
		}
	}
	return nil
}

// watcherRow is a watcher's saved position, state and lease.
type watcherRow struct {
	next   uint64
	state  []byte
	holder string
	lease  time.Time
}

func loadWatcher(ctx context.Context, q store.Queryer, name string) (watcherRow, error) {
	var (
		r     watcherRow
		next  int64
		lease int64
	)
	err := q.QueryRowContext(ctx, q.Rebind("SELECT next_seq, state, holder, lease_us FROM sentinel_watchers WHERE name = ?"), name).
		Scan(&next, &r.state, &r.holder, &lease)
	if errors.Is(err, sql.ErrNoRows) {
		return watcherRow{}, nil
	}
	if err != nil {
		return r, fmt.Errorf("sentinel: read the watcher's state: %w", err)
	}
	r.next, r.lease = uint64(next), store.FromMicros(lease)
	return r, nil
}

// takeLease makes holder the watcher's holder until until, if nobody else
// holds an unexpired lease; it reports whether holder holds it now.
func takeLease(ctx context.Context, db *store.DB, name, holder string, now, until time.Time) (bool, error) {
	if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO sentinel_watchers (name, updated_us) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`),
		name, store.Micros(now)); err != nil {
		return false, fmt.Errorf("sentinel: create the watcher's row: %w", err)
	}
	res, err := db.ExecContext(ctx, db.Rebind(`UPDATE sentinel_watchers SET holder = ?, lease_us = ? WHERE name = ? AND (holder = ? OR lease_us < ?)`),
		holder, store.Micros(until), name, holder, store.Micros(now))
	if err != nil {
		return false, fmt.Errorf("sentinel: take the watcher's lease: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// releaseLease lets another replica take over at once.
func releaseLease(ctx context.Context, db *store.DB, name, holder string) error {
	_, err := db.ExecContext(ctx, db.Rebind(`UPDATE sentinel_watchers SET lease_us = 0 WHERE name = ? AND holder = ?`), name, holder)
	return err
}

// errLeaseLost is a save refused because another replica took the lease.
var errLeaseLost = errors.New("sentinel: another replica took the watcher's lease")

// saveWatcher stores the watcher's position and state in tx, and renews
// the lease, if holder still holds it (else errLeaseLost: tx must roll
// back, its alerts with it).
func saveWatcher(ctx context.Context, tx *store.Tx, name, holder string, next uint64, state []byte, now, until time.Time) error {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE sentinel_watchers SET next_seq = ?, state = ?, lease_us = ?, updated_us = ?
		WHERE name = ? AND holder = ?`), int64(next), state, store.Micros(until), store.Micros(now), name, holder)
	if err != nil {
		return fmt.Errorf("sentinel: save the watcher's state: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errLeaseLost
	}
	return nil
}
