package analytics

import (
	"context"
	"fmt"
	"strings"
	"time"

	"chancery/internal/store"
)

// The sweep counts what no ledger event carries. Dossiers passing their
// deadline unresolved are counted once each (analytics_overdue). Security
// alerts and exchange messages are recounted from their tables for the
// days since the last sweep (less a margin), and those days' facts are
// replaced, so a recount is idempotent and a row committed late by
// another replica is counted by the next sweep.

// sweepMargin is how far before the last sweep a recount starts: more
// than a day, so that every day it replaces is whole in every time zone.
const sweepMargin = 2 * 24 * time.Hour

// overdueBatch bounds the dossiers one sweep notes overdue.
const overdueBatch = 5000

// Sweep runs the sweep once.
func (f *Feeder) Sweep(ctx context.Context) error {
	if err := f.sweepOverdue(ctx); err != nil {
		return err
	}
	return f.recount(ctx)
}

// sweepOverdue counts the open dossiers past their deadline not counted
// yet.
func (f *Feeder) sweepOverdue(ctx context.Context) error {
	now := store.Micros(f.now())
	for {
		n := 0
		err := f.db.InTx(ctx, func(tx *store.Tx) error {
			rows, err := tx.QueryContext(ctx, tx.Rebind(`SELECT d.code, d.unit_id, d.procedure_code, d.due_us FROM dossiers d
				WHERE d.open = 1 AND d.due_us > 0 AND d.due_us < ?
				AND NOT EXISTS (SELECT 1 FROM analytics_overdue o WHERE o.dossier_code = d.code) LIMIT ?`), now, overdueBatch)
			if err != nil {
				return fmt.Errorf("analytics: find overdue dossiers: %w", err)
			}
			type late struct {
				code, procedure string
				unit, due       int64
			}
			var found []late
			for rows.Next() {
				var l late
				if err := rows.Scan(&l.code, &l.unit, &l.procedure, &l.due); err != nil {
					rows.Close()
					return fmt.Errorf("analytics: find overdue dossiers: %w", err)
				}
				found = append(found, l)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("analytics: find overdue dossiers: %w", err)
			}
			acc := facts{}
			for _, l := range found {
				u, err := f.unit(ctx, tx, l.unit)
				if err != nil {
					return err
				}
				if err := f.overdue(ctx, tx, acc, u, l.unit, l.code, l.procedure, l.due); err != nil {
					return err
				}
			}
			n = len(found)
			return acc.add(ctx, tx)
		})
		if err != nil || n < overdueBatch {
			return err
		}
	}
}

// recountSource is the cursor of the recounts: the time of the last
// sweep, in microseconds.
const recountSource = "recount"

// recount recounts alerts and exchange traffic from the last sweep (less
// sweepMargin) on, replacing those days' facts.
func (f *Feeder) recount(ctx context.Context) error {
	now := f.now()
	last, err := cursor(ctx, f.db, recountSource)
	if err != nil {
		return err
	}
	since := int64(0)
	if last > 0 {
		since = store.Micros(store.FromMicros(int64(last)).Add(-sweepMargin).Truncate(24 * time.Hour))
	}
	// The first day replaced: whole in every zone (offsets are under a day).
	firstDay := ""
	if since > 0 {
		firstDay = store.FromMicros(since).Add(24 * time.Hour).Format(time.DateOnly)
	}
	return f.db.InTx(ctx, func(tx *store.Tx) error {
		acc := facts{}
		if err := f.countAlerts(ctx, tx, since, acc); err != nil {
			return err
		}
		if err := f.countExchange(ctx, tx, since, acc); err != nil {
			return err
		}
		for k := range acc {
			if k.day < firstDay {
				delete(acc, k)
			}
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM analytics_facts WHERE measure IN (?, ?, ?) AND day >= ?"),
			string(Alerts), string(ExchangeSent), string(ExchangeReceived), firstDay); err != nil {
			return fmt.Errorf("analytics: clear the recounted days: %w", err)
		}
		if err := acc.write(ctx, tx, true); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO analytics_cursor (source, next_seq, updated_us) VALUES (?, ?, ?)
			ON CONFLICT (source) DO UPDATE SET next_seq = excluded.next_seq, updated_us = excluded.updated_us`),
			recountSource, store.Micros(now), store.Micros(now))
		if err != nil {
			return fmt.Errorf("analytics: note the sweep: %w", err)
		}
		return nil
	})
}

// countAlerts counts the security alerts raised since since, by the
// unit of the user they concern.
func (f *Feeder) countAlerts(ctx context.Context, tx *store.Tx, since int64, acc facts) error {
	rows, err := tx.QueryContext(ctx, tx.Rebind("SELECT unit_id, created_us FROM sentinel_alerts WHERE created_us >= ?"), since)
	if err != nil {
		return fmt.Errorf("analytics: count alerts: %w", err)
	}
	type row struct{ unit, at int64 }
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.unit, &r.at); err != nil {
			rows.Close()
			return fmt.Errorf("analytics: count alerts: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("analytics: count alerts: %w", err)
	}
	for _, r := range all {
		u, err := f.unit(ctx, tx, r.unit)
		if err != nil {
			return err
		}
		acc.count(u, r.unit, store.FromMicros(r.at), "", Alerts, 1)
	}
	return nil
}

// countExchange counts the exchange messages logged since since: a sent
// one for its sender's unit, a received one for its recipient's (the
// unit whose agency code is the member of the client id), or for no unit
// when the member is not a unit here.
func (f *Feeder) countExchange(ctx context.Context, tx *store.Tx, since int64, acc facts) error {
	rows, err := tx.QueryContext(ctx, tx.Rebind(`SELECT direction, sender, recipient, logged_us FROM exchange_log WHERE logged_us >= ?`), since)
	if err != nil {
		return fmt.Errorf("analytics: count exchange messages: %w", err)
	}
	type row struct {
		dir, sender, recipient string
		at                     int64
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.dir, &r.sender, &r.recipient, &r.at); err != nil {
			rows.Close()
			return fmt.Errorf("analytics: count exchange messages: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("analytics: count exchange messages: %w", err)
	}
	byCode, err := unitCodes(ctx, tx)
	if err != nil {
		return err
	}
	for _, r := range all {
		m, client := ExchangeSent, r.sender
		if r.dir == "in" {
			m, client = ExchangeReceived, r.recipient
		}
		unit := byCode[memberOf(client)]
		u, err := f.unit(ctx, tx, unit)
		if err != nil {
			return err
		}
		acc.count(u, unit, store.FromMicros(r.at), "", m, 1)
	}
	return nil
}

// memberOf returns the member code of a client id written
// "instance/class/member/subsystem".
func memberOf(client string) string {
	parts := strings.Split(client, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

// unitCodes maps agency codes to unit ids.
func unitCodes(ctx context.Context, q store.Queryer) (map[string]int64, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, code FROM units")
	if err != nil {
		return nil, fmt.Errorf("analytics: read units: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return nil, fmt.Errorf("analytics: read units: %w", err)
		}
		out[code] = id
	}
	return out, rows.Err()
}
