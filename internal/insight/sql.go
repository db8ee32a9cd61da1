package insight

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

var errTaskNotFound = fmt.Errorf("%w: no such task", errs.ErrNotFound)

const taskColumns = `id, uid, title, body, source, source_ref, document_id, level, lead_unit, assigned_by, assigner_id, status, progress,
	due_us, escalated_us, done_us, version, created_us, updated_us`

func insertTask(ctx context.Context, tx *store.Tx, t Task) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO insight_tasks (uid, title, body, source, source_ref, document_id, level, lead_unit,
		assigned_by, assigner_id, status, progress, due_us, escalated_us, done_us, version, created_us, updated_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		t.UID, t.Title, t.Body, t.Source, t.SourceRef, t.DocumentID, int(t.Level), t.LeadUnit, t.AssignedBy, t.AssignerID, t.Status, t.Progress,
		store.Micros(t.Due), micros0(t.EscalatedAt), micros0(t.DoneAt), t.Version, store.Micros(t.CreatedAt), store.Micros(t.UpdatedAt)).Scan(&id)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO insight_task_units (task_id, unit_id, lead) VALUES (?, ?, 1)`), id, t.LeadUnit); err != nil {
		return 0, err
	}
	for _, u := range t.Supporting {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO insight_task_units (task_id, unit_id, lead) VALUES (?, ?, 0)`), id, u); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// scanRows runs query (with '?' placeholders) and scans each row with
// scan.
func scanRows[T any](ctx context.Context, q store.Queryer, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func micros0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return store.Micros(t)
}

func time0(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return store.FromMicros(us)
}

func updateTask(ctx context.Context, tx *store.Tx, t Task) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE insight_tasks SET status = ?, progress = ?, escalated_us = ?, done_us = ?, version = ?,
		updated_us = ? WHERE id = ?`), t.Status, t.Progress, micros0(t.EscalatedAt), micros0(t.DoneAt), t.Version, store.Micros(t.UpdatedAt), t.ID)
	return err
}

func scanTask(row interface{ Scan(...any) error }) (Task, error) {
	var t Task
	var level int
	var due, esc, done, created, updated int64
	err := row.Scan(&t.ID, &t.UID, &t.Title, &t.Body, &t.Source, &t.SourceRef, &t.DocumentID, &level, &t.LeadUnit, &t.AssignedBy,
		&t.AssignerID, &t.Status, &t.Progress, &due, &esc, &done, &t.Version, &created, &updated)
	t.Level = authz.Level(level)
	t.Due, t.EscalatedAt, t.DoneAt, t.CreatedAt, t.UpdatedAt = store.FromMicros(due), time0(esc), time0(done), store.FromMicros(created), store.FromMicros(updated)
	return t, err
}

// loadTask reads task id with its units.
func loadTask(ctx context.Context, q store.Queryer, id int64) (Task, error) {
	t, err := scanTask(q.QueryRowContext(ctx, q.Rebind(`SELECT `+taskColumns+` FROM insight_tasks WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Task{}, errTaskNotFound
	} else if err != nil {
		return Task{}, fmt.Errorf("insight: load task %d: %w", id, err)
	}
	ts := []Task{t}
	if err := loadSupporting(ctx, q, ts); err != nil {
		return Task{}, err
	}
	return ts[0], nil
}

func taskByUID(ctx context.Context, q store.Queryer, uid string) (Task, error) {
	var id int64
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT id FROM insight_tasks WHERE uid = ?`), uid).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Task{}, errTaskNotFound
	} else if err != nil {
		return Task{}, err
	}
	return loadTask(ctx, q, id)
}

// loadSupporting fills the tasks' supporting units.
func loadSupporting(ctx context.Context, q store.Queryer, ts []Task) error {
	if len(ts) == 0 {
		return nil
	}
	idx := map[int64]int{}
	args := make([]any, len(ts))
	for i, t := range ts {
		idx[t.ID], args[i] = i, t.ID
	}
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT task_id, unit_id FROM insight_task_units WHERE lead = 0 AND task_id IN (?`+
		strings.Repeat(", ?", len(ts)-1)+`) ORDER BY task_id, unit_id`), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var task, unit int64
		if err := rows.Scan(&task, &unit); err != nil {
			return err
		}
		ts[idx[task]].Supporting = append(ts[idx[task]].Supporting, unit)
	}
	return rows.Err()
}

// listTasks returns the tasks of unit (lead or supporting), or every
// task if unit is 0, nearest deadline first.
func listTasks(ctx context.Context, q store.Queryer, unit int64) ([]Task, error) {
	query, args := `SELECT `+taskColumns+` FROM insight_tasks ORDER BY due_us, id`, []any{}
	if unit != 0 {
		query, args = `SELECT `+taskColumns+` FROM insight_tasks WHERE id IN (SELECT task_id FROM insight_task_units WHERE unit_id = ?)
			ORDER BY due_us, id`, []any{unit}
	}
	out, err := scanRows(ctx, q, scanTask, query, args...)
	if err != nil {
		return nil, fmt.Errorf("insight: list tasks: %w", err)
	}
	for i := 0; i < len(out); i += 500 {
		if err := loadSupporting(ctx, q, out[i:min(i+500, len(out))]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func dueForEscalation(ctx context.Context, q store.Queryer, now time.Time) ([]int64, error) {
	return store.Column[int64](ctx, q, `SELECT id FROM insight_tasks WHERE status <> 'done' AND escalated_us = 0 AND due_us < ? ORDER BY id`,
		store.Micros(now))
}

func insertUpdate(ctx context.Context, tx *store.Tx, task int64, u TaskUpdate) error {
	var data any
	if len(u.fileData) > 0 {
		data = u.fileData
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO insight_task_updates (uid, task_id, unit_id, kind, author, progress, note, evidence,
		file_name, file_data, at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		u.UID, task, u.Unit, u.Kind, u.Author, u.Progress, u.Note, u.Evidence, u.FileName, data, store.Micros(u.At))
	return err
}

func updateSeen(ctx context.Context, q store.Queryer, uid string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT COUNT(*) FROM insight_task_updates WHERE uid = ?`), uid).Scan(&n)
	return n > 0, err
}

func loadUpdates(ctx context.Context, q store.Queryer, task int64) ([]TaskUpdate, error) {
	return scanRows(ctx, q, func(row interface{ Scan(...any) error }) (TaskUpdate, error) {
		var u TaskUpdate
		var at int64
		err := row.Scan(&u.ID, &u.UID, &u.Unit, &u.Kind, &u.Author, &u.Progress, &u.Note, &u.Evidence, &u.FileName, &at)
		u.At = store.FromMicros(at)
		return u, err
	}, `SELECT id, uid, unit_id, kind, author, progress, note, evidence, file_name, at_us FROM insight_task_updates WHERE task_id = ? ORDER BY at_us, id`, task)
}

func loadFile(ctx context.Context, q store.Queryer, task, update int64) (string, []byte, error) {
	var name string
	var data []byte
	err := q.QueryRowContext(ctx, q.Rebind(`SELECT file_name, file_data FROM insight_task_updates WHERE task_id = ? AND id = ? AND file_name <> ''`),
		task, update).Scan(&name, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, fmt.Errorf("%w: no such file", errs.ErrNotFound)
	}
	return name, data, err
}

// Templates, rounds and submissions.

func insertTemplate(ctx context.Context, tx *store.Tx, t Template) (int64, error) {
	ind, err := json.Marshal(t.Indicators)
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO insight_templates (uid, code, name_vi, name_en, period, owner_unit, indicators, created_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), t.UID, t.Code, t.NameVI, t.NameEN, t.Period, t.OwnerUnit, string(ind),
		store.Micros(t.CreatedAt)).Scan(&id)
	return id, err
}

const templateColumns = `id, uid, code, name_vi, name_en, period, owner_unit, indicators, created_us`

func scanTemplate(row interface{ Scan(...any) error }) (Template, error) {
	var t Template
	var ind string
	var created int64
	if err := row.Scan(&t.ID, &t.UID, &t.Code, &t.NameVI, &t.NameEN, &t.Period, &t.OwnerUnit, &ind, &created); err != nil {
		return t, err
	}
	t.CreatedAt = store.FromMicros(created)
	return t, json.Unmarshal([]byte(ind), &t.Indicators)
}

func loadTemplate(ctx context.Context, q store.Queryer, where string, arg any) (Template, error) {
	t, err := scanTemplate(q.QueryRowContext(ctx, q.Rebind(`SELECT `+templateColumns+` FROM insight_templates WHERE `+where), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("%w: no such report template", errs.ErrNotFound)
	}
	return t, err
}

func listTemplates(ctx context.Context, q store.Queryer) ([]Template, error) {
	return scanRows(ctx, q, scanTemplate, `SELECT `+templateColumns+` FROM insight_templates ORDER BY code`)
}

func insertRound(ctx context.Context, tx *store.Tx, r Round) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO insight_rounds (uid, template_id, label, period_from, period_to, due_us, owner_unit, created_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), r.UID, r.TemplateID, r.Label, r.From, r.To, store.Micros(r.Due), r.OwnerUnit,
		store.Micros(r.CreatedAt)).Scan(&id)
	if err != nil {
		return 0, err
	}
	for _, u := range r.Units {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO insight_round_units (round_id, unit_id) VALUES (?, ?)`), id, u); err != nil {
			return 0, err
		}
	}
	return id, nil
}

const roundColumns = `id, uid, template_id, label, period_from, period_to, due_us, owner_unit, created_us`

func loadRounds(ctx context.Context, q store.Queryer, where string, args ...any) ([]Round, error) {
	out, err := scanRows(ctx, q, func(row interface{ Scan(...any) error }) (Round, error) {
		var r Round
		var due, created int64
		err := row.Scan(&r.ID, &r.UID, &r.TemplateID, &r.Label, &r.From, &r.To, &due, &r.OwnerUnit, &created)
		r.Due, r.CreatedAt = store.FromMicros(due), store.FromMicros(created)
		return r, err
	}, `SELECT `+roundColumns+` FROM insight_rounds WHERE `+where+` ORDER BY due_us DESC, id DESC`, args...)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Template, err = loadTemplate(ctx, q, "id = ?", out[i].TemplateID); err != nil {
			return nil, err
		}
		if out[i].Units, err = store.Column[int64](ctx, q, `SELECT unit_id FROM insight_round_units WHERE round_id = ? ORDER BY unit_id`, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func loadRound(ctx context.Context, q store.Queryer, where string, arg any) (Round, error) {
	rs, err := loadRounds(ctx, q, where, arg)
	if err != nil {
		return Round{}, err
	}
	if len(rs) == 0 {
		return Round{}, fmt.Errorf("%w: no such report round", errs.ErrNotFound)
	}
	return rs[0], nil
}

const submissionColumns = `id, round_id, unit_id, uid, status, value_json, submitted_by, submitted_us, decided_by, decided_us, reason, version`

func loadSubmissions(ctx context.Context, q store.Queryer, where string, args ...any) ([]Submission, error) {
	return scanRows(ctx, q, func(row interface{ Scan(...any) error }) (Submission, error) {
		var s Submission
		var vals string
		var sub, dec int64
		if err := row.Scan(&s.ID, &s.RoundID, &s.Unit, &s.UID, &s.Status, &vals, &s.SubmittedBy, &sub, &s.DecidedBy, &dec, &s.Reason, &s.Version); err != nil {
			return s, err
		}
		s.SubmittedAt, s.DecidedAt = store.FromMicros(sub), time0(dec)
		if err := json.Unmarshal([]byte(vals), &s.Values); err != nil {
			return s, fmt.Errorf("insight: submission %d's values: %w", s.ID, err)
		}
		return s, nil
	}, `SELECT `+submissionColumns+` FROM insight_submissions WHERE `+where+` ORDER BY unit_id`, args...)
}

// upsertSubmission stores a unit's filing: a new row, or the unit's
// returned or undecided one replaced (version + 1).
func upsertSubmission(ctx context.Context, tx *store.Tx, s *Submission) error {
	vals, err := json.Marshal(s.Values)
	if err != nil {
		return err
	}
	if s.ID == 0 {
		return tx.QueryRowContext(ctx, tx.Rebind(`INSERT INTO insight_submissions (round_id, unit_id, uid, status, value_json, submitted_by,
			submitted_us, decided_by, decided_us, reason, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), s.RoundID, s.Unit, s.UID,
			s.Status, string(vals), s.SubmittedBy, store.Micros(s.SubmittedAt), s.DecidedBy, micros0(s.DecidedAt), s.Reason, s.Version).Scan(&s.ID)
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE insight_submissions SET uid = ?, status = ?, value_json = ?, submitted_by = ?, submitted_us = ?,
		decided_by = '', decided_us = 0, reason = '', version = ? WHERE id = ?`), s.UID, s.Status, string(vals), s.SubmittedBy,
		store.Micros(s.SubmittedAt), s.Version, s.ID)
	return err
}

// decideSubmission records a decision on s if it is still at version-1;
// it reports whether it did (another decision won otherwise).
func decideSubmission(ctx context.Context, tx *store.Tx, s Submission) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE insight_submissions SET status = ?, decided_by = ?, decided_us = ?, reason = ?, version = ?
		WHERE id = ? AND version = ?`), s.Status, s.DecidedBy, store.Micros(s.DecidedAt), s.Reason, s.Version, s.ID, s.Version-1)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Outbox.

type outboxItem struct {
	ID       int64
	From, To string
	Payload  []byte
}

// enqueue queues payload from from to to; item, when not empty, names the
// task or round it carries, which is queued once for to (a second time
// is a no-op).
func enqueue(ctx context.Context, tx *store.Tx, from, to, item string, payload []byte, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO insight_outbox (recipient, sender, item, payload, created_us) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`), to, from, item, payload, store.Micros(now))
	return err
}

// unsentTasks returns unit's tasks not done (open or in progress) up to level max that were never
// queued for recipient.
func unsentTasks(ctx context.Context, q store.Queryer, unit int64, recipient string, max authz.Level) ([]Task, error) {
	ids, err := store.Column[int64](ctx, q, `SELECT t.id FROM insight_tasks t JOIN insight_task_units u ON u.task_id = t.id
		WHERE u.unit_id = ? AND t.status <> ? AND t.level <= ?
		AND NOT EXISTS (SELECT 1 FROM insight_outbox o WHERE o.recipient = ? AND o.item = 'task:' || t.uid) ORDER BY t.id`,
		unit, TaskDone, int(max), recipient)
	if err != nil {
		return nil, err
	}
	out := make([]Task, len(ids))
	for i, id := range ids {
		if out[i], err = loadTask(ctx, q, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// unsentRounds returns the rounds unit is asked to report in, whose
// report from it is not approved (none, submitted, or returned), and
// that were never queued for recipient.
func unsentRounds(ctx context.Context, q store.Queryer, unit int64, recipient string) ([]Round, error) {
	return loadRounds(ctx, q, `id IN (SELECT round_id FROM insight_round_units WHERE unit_id = ?)
		AND NOT EXISTS (SELECT 1 FROM insight_submissions s WHERE s.round_id = insight_rounds.id AND s.unit_id = ? AND s.status = ?)
		AND NOT EXISTS (SELECT 1 FROM insight_outbox o WHERE o.recipient = ? AND o.item = 'round:' || insight_rounds.uid)`, unit, unit, Approved, recipient)
}

func waiting(ctx context.Context, q store.Queryer, limit int) ([]outboxItem, error) {
	return scanRows(ctx, q, func(row interface{ Scan(...any) error }) (outboxItem, error) {
		var o outboxItem
		return o, row.Scan(&o.ID, &o.From, &o.To, &o.Payload)
	}, `SELECT id, sender, recipient, payload FROM insight_outbox WHERE sent_us = 0 ORDER BY id LIMIT ?`, limit)
}

func markSent(ctx context.Context, q store.Queryer, id int64, msgID string, now time.Time) error {
	_, err := q.ExecContext(ctx, q.Rebind(`UPDATE insight_outbox SET sent_us = ?, message_id = ? WHERE id = ?`), store.Micros(now), msgID, id)
	return err
}
