package insight

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Assign records a task a leader assigns, and sends it to the missions
// among its units. It returns an *errs.FieldError for a bad task, and a
// refusal if sub may not assign tasks or read the document named.
func (s *Service) Assign(ctx context.Context, sub authz.Subject, n NewTask) (Task, error) {
	n.Title, n.Body, n.SourceRef = strings.TrimSpace(n.Title), strings.TrimSpace(n.Body), strings.TrimSpace(n.SourceRef)
	if err := decide(sub, authz.Create, authz.Resource{Kind: authz.KindTask, Level: n.Level}, ""); err != nil {
		return Task{}, err
	}
	if err := checkLine("title", n.Title, MaxLine, true, false); err != nil {
		return Task{}, err
	}
	if err := checkLine("body", n.Body, MaxText, false, true); err != nil {
		return Task{}, err
	}
	if err := checkLine("source_ref", n.SourceRef, MaxLine, false, false); err != nil {
		return Task{}, err
	}
	if !n.Level.Valid() {
		return Task{}, errs.Invalid("level", "choose none, confidential, secret or top_secret")
	}
	t := Task{UID: newUID(), Title: n.Title, Body: n.Body, Source: n.Source, SourceRef: n.SourceRef, Level: sub.CreateLevel(n.Level),
		LeadUnit: n.LeadUnit, AssignerID: sub.ID, Status: TaskOpen, Version: 1}
	switch n.Source {
	case FromMeeting:
		if t.SourceRef == "" {
			return Task{}, errs.Invalid("source_ref", "name the meeting the task comes from")
		}
	case FromDirect, "":
		t.Source = FromDirect
	case FromDocument:
		if s.opts.Documents == nil || n.DocumentID <= 0 {
			return Task{}, errs.Invalid("document_id", "name the Records document the task comes from by its id")
		}
		d, err := s.opts.Documents.DocumentRef(ctx, sub, n.DocumentID)
		if errors.Is(err, errs.ErrNotFound) {
			// The same answer for a missing document and one sub may
			// not read: the task must not reveal it.
			return Task{}, errs.Invalid("document_id", "there is no document with this id that you may read")
		} else if err != nil {
			return Task{}, err
		}
		t.DocumentID, t.SourceRef = n.DocumentID, d.Number
		if t.SourceRef == "" {
			t.SourceRef = clip(d.Subject)
		}
		t.Level = max(t.Level, d.Level)
	default:
		return Task{}, errs.Invalid("source", "choose meeting, document or direct")
	}
	if _, err := s.unitOf(ctx, "lead_unit", n.LeadUnit); err != nil {
		return Task{}, err
	}
	for i, u := range n.Supporting {
		if u == n.LeadUnit || slices.Contains(n.Supporting[:i], u) {
			continue
		}
		if _, err := s.unitOf(ctx, "supporting_units", u); err != nil {
			return Task{}, err
		}
		t.Supporting = append(t.Supporting, u)
	}
	due, err := s.deadline("due_date", n.DueDate, n.WorkingDays)
	if err != nil {
		return Task{}, err
	}
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Task{}, err
	}
	t.AssignedBy = o.Actor.Name
	if t.AssignedBy == "" {
		t.AssignedBy = "staff " + idString(sub.ID)
	}
	t.Due, t.CreatedAt, t.UpdatedAt = due, s.now(), s.now()
	err = s.queuing(ctx, func(tx *store.Tx) error {
		if t.ID, err = insertTask(ctx, tx, t); err != nil {
			return err
		}
		if err := s.record(ctx, tx, o, "task.assign", "task", t.ID, t.Level,
			map[string]string{"title": audit.AttrValue(t.Title), "lead_unit": idString(t.LeadUnit), "due": t.Due.Format("2006-01-02")}); err != nil {
			return err
		}
		return s.sendTaskTx(ctx, tx, t)
	})
	if err != nil {
		return Task{}, fmt.Errorf("insight: assign task: %w", err)
	}
	return t, nil
}

// Task returns task id with its history, if sub may read it; a task sub
// may not see is errs.ErrNotFound.
func (s *Service) Task(ctx context.Context, sub authz.Subject, id int64) (Task, error) {
	t, err := loadTask(ctx, s.db, id)
	if err != nil {
		return Task{}, err
	}
	if err := decide(sub, authz.Read, t.resource(), idString(id)); err != nil {
		return Task{}, err
	}
	t.Updates, err = loadUpdates(ctx, s.db, id)
	return t, err
}

// TaskFilter narrows a list of tasks.
type TaskFilter struct {
	Unit    int64      // tasks of this unit (lead or supporting); 0 for all sub may see
	Status  TaskStatus // empty for any
	Overdue bool       // only tasks past their deadline and not done
}

// Tasks returns the tasks sub may see, nearest deadline first.
func (s *Service) Tasks(ctx context.Context, sub authz.Subject, f TaskFilter) ([]Task, error) {
	if err := decide(sub, authz.Read, authz.Resource{Kind: authz.KindTask}, ""); err != nil {
		return nil, err
	}
	unit := f.Unit
	if !seesEveryUnit(sub) && (unit == 0 || unit != sub.Unit) {
		unit = sub.Unit // a unit's staff see their own unit's tasks
	}
	all, err := listTasks(ctx, s.db, unit)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []Task{}
	for _, t := range all {
		if !allowed(sub, authz.Read, t.resource()) || (f.Status != "" && t.Status != f.Status) || (f.Overdue && !t.Overdue(now)) {
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// Report records progress or completion sub reports for their unit on
// task id, and sends it to headquarters from a mission. Only the lead
// unit completes a task; a stale version is errs.ErrConflict.
func (s *Service) Report(ctx context.Context, sub authz.Subject, id int64, r Report) (Task, error) {
	r.Note, r.Evidence, r.FileName = strings.TrimSpace(r.Note), strings.TrimSpace(r.Evidence), strings.TrimSpace(r.FileName)
	var out Task
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return Task{}, err
	}
	err = s.queuing(ctx, func(tx *store.Tx) error {
		t, err := loadTask(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := decide(sub, authz.Update, t.resource(), idString(id)); err != nil {
			return err
		}
		if sub.Unit != t.LeadUnit && !slices.Contains(t.Supporting, sub.Unit) {
			return decide(sub, authz.Update, authz.Resource{Kind: authz.KindTask, Unit: t.LeadUnit, Level: t.Level}, idString(id))
		}
		if err := r.check(sub.Unit == t.LeadUnit); err != nil {
			return err
		}
		if t.Status == TaskDone {
			return fmt.Errorf("%w: the task is done; the leader assigns a new one if more is needed", errs.ErrConflict)
		}
		if r.Version != t.Version {
			return fmt.Errorf("%w: the task changed since you opened it (version %d, not %d); reload it and try again", errs.ErrConflict, t.Version, r.Version)
		}
		u := TaskUpdate{UID: newUID(), Unit: sub.Unit, Kind: UpdateProgress, Author: o.Actor.Name, Progress: r.Progress, Note: r.Note,
			Evidence: r.Evidence, FileName: r.FileName, fileData: r.FileData, At: s.now()}
		if r.Complete {
			u.Kind, u.Progress = UpdateComplete, 100
		}
		if err := s.applyUpdate(ctx, tx, o, &t, u); err != nil {
			return err
		}
		out = t
		return s.sendUpdateTx(ctx, tx, t, u)
	})
	if err != nil {
		return Task{}, fmt.Errorf("insight: report on task %d: %w", id, err)
	}
	return out, nil
}

// check refuses a report without substance or with hostile text.
func (r Report) check(lead bool) error {
	if r.Progress < 0 || r.Progress > 100 {
		return errs.Invalid("progress", "is a percentage from 0 to 100")
	}
	if err := checkLine("note", r.Note, MaxText, false, true); err != nil {
		return err
	}
	if err := checkLine("evidence", r.Evidence, MaxLine, false, false); err != nil {
		return err
	}
	if err := checkLine("file_name", r.FileName, 200, len(r.FileData) > 0, false); err != nil {
		return err
	}
	if strings.ContainsAny(r.FileName, `/\`) {
		return errs.Invalid("file_name", "is a file's name, without folders")
	}
	if len(r.FileData) > MaxFile {
		return fmt.Errorf("%w: the file is larger than %d MB", errs.ErrTooLarge, MaxFile>>20)
	}
	if r.Complete {
		if !lead {
			return errs.Invalid("complete", "only the lead unit reports the task complete; report your progress instead")
		}
		if r.Note == "" && r.Evidence == "" && len(r.FileData) == 0 {
			return errs.Invalid("evidence", "a completed task needs evidence: a note, a Records document's number or a file")
		}
	} else if r.Note == "" {
		return errs.Invalid("note", "say what was done")
	}
	return nil
}

// applyUpdate stores u on t and moves t on, with its audit event.
func (s *Service) applyUpdate(ctx context.Context, tx *store.Tx, o audit.Origin, t *Task, u TaskUpdate) error {
	switch u.Kind {
	case UpdateComplete:
		t.Status, t.Progress, t.DoneAt = TaskDone, 100, u.At
	case UpdateProgress:
		if t.Status == TaskOpen {
			t.Status = TaskInProgress
		}
		if u.Unit == t.LeadUnit {
			t.Progress = u.Progress
		}
	case UpdateEscalate:
		t.EscalatedAt = u.At
	}
	t.Version++
	t.UpdatedAt = u.At
	if err := insertUpdate(ctx, tx, t.ID, u); err != nil {
		return err
	}
	if err := updateTask(ctx, tx, *t); err != nil {
		return err
	}
	return s.record(ctx, tx, o, "task."+string(u.Kind), "task", t.ID, t.Level,
		map[string]string{"update": u.UID, "unit": idString(u.Unit), "progress": fmt.Sprint(u.Progress), "status": string(t.Status)})
}

// TaskFile returns a task's evidence file, if sub may read the task.
func (s *Service) TaskFile(ctx context.Context, sub authz.Subject, taskID, updateID int64) (string, []byte, error) {
	if _, err := s.Task(ctx, sub, taskID); err != nil {
		return "", nil, err
	}
	return loadFile(ctx, s.db, taskID, updateID)
}

// Escalate escalates every task past its deadline and not done that was
// not escalated yet: an escalate update in its history, and a notice to
// its leader and its lead unit's heads, each in one transaction. It
// returns how many it escalated. A job runs it; tests run it with their
// own clock.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	o, err := s.rec.Origin(ctx)
	if err != nil {
		return 0, err
	}
	due, err := dueForEscalation(ctx, s.db, s.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range due {
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			t, err := loadTask(ctx, tx, id)
			if err != nil || !t.EscalatedAt.IsZero() || !t.Overdue(s.now()) {
				return err // escalated meanwhile, or done
			}
			u := TaskUpdate{UID: newUID(), Unit: t.LeadUnit, Kind: UpdateEscalate, Author: "Chancery", At: s.now(),
				Note: "The deadline " + t.Due.In(s.loc).Format("02/01/2006") + " has passed and the task is not done."}
			if err := s.applyUpdate(ctx, tx, o, &t, u); err != nil {
				return err
			}
			n++
			if s.opts.Notifier == nil {
				return nil
			}
			return s.opts.Notifier.NotifyTx(ctx, tx, Notice{Task: t, LeaderID: t.AssignerID, Unit: t.LeadUnit})
		})
		if err != nil {
			return n, fmt.Errorf("insight: escalate task %d: %w", id, err)
		}
	}
	return n, nil
}

// Tally returns, per unit sub may see, its tasks open, overdue, done on
// time and done late: the leaders' table.
func (s *Service) Tally(ctx context.Context, sub authz.Subject) ([]UnitTally, error) {
	tasks, err := s.Tasks(ctx, sub, TaskFilter{})
	if err != nil {
		return nil, err
	}
	by := map[int64]*UnitTally{}
	var order []int64
	now := s.now()
	for _, t := range tasks {
		// A task counts for its lead unit, who answers for it.
		tl, ok := by[t.LeadUnit]
		if !ok {
			unit, err := s.opts.Directory.Unit(ctx, t.LeadUnit)
			if err != nil {
				return nil, err
			}
			tl = &UnitTally{Unit: unit}
			by[t.LeadUnit] = tl
			order = append(order, t.LeadUnit)
		}
		switch {
		case t.Late():
			tl.DoneLate++
		case t.Status == TaskDone:
			tl.DoneOnTime++
		case t.Overdue(now):
			tl.Overdue++
		default:
			tl.Open++
		}
	}
	out := make([]UnitTally, 0, len(order))
	for _, u := range order {
		out = append(out, *by[u])
	}
	slices.SortFunc(out, func(a, b UnitTally) int { return strings.Compare(a.Unit.Code, b.Unit.Code) })
	return out, nil
}

// seesEveryUnit reports whether sub reads every unit's tasks (a leader):
// whether authz allows reading a task of a unit that is not sub's.
func seesEveryUnit(sub authz.Subject) bool {
	return allowed(sub, authz.Read, authz.Resource{Kind: authz.KindTask, Unit: -1})
}
