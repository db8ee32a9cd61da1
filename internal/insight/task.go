// Package insight is where the ministry's leaders direct work and see how
// it goes: leadership tasks (nhiệm vụ chỉ đạo) assigned to units and
// missions, and the periodic reports units and missions send under the
// reporting regime of Decree 09/2019/NĐ-CP.
//
// Missions work on their tasks and reports on their own node, offline if
// their link is cut: what they change waits in an outbox and travels to
// headquarters through the exchange (Courier), which delivers it once the
// link is back; every item carries a uid made where it was made, so a
// copy delivered twice is taken in once.
package insight

import (
	"context"
	"time"

	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// TaskStatus is where a task stands.
type TaskStatus string

// The task statuses. Overdue is not a status of its own: a task not done
// by its deadline is late (Task.Overdue), and escalated once
// (Task.EscalatedAt).
const (
	TaskOpen       TaskStatus = "open"
	TaskInProgress TaskStatus = "in_progress"
	TaskDone       TaskStatus = "done"
)

// Source is where a task comes from.
type Source string

// The sources.
const (
	FromMeeting  Source = "meeting"  // a meeting's conclusions
	FromDocument Source = "document" // a document in Records
	FromDirect   Source = "direct"   // the leader's own instruction
)

// Task is a leadership task: what a leader asked of a lead unit and its
// supporting units, by when.
type Task struct {
	ID    int64  `json:"id"`
	UID   string `json:"uid"`
	Title string `json:"title"`
	Body  string `json:"body"`
	// Source and SourceRef say where it comes from: the meeting, or the
	// Records document's number (DocumentID is the document on this
	// node, 0 if none or on another node).
	Source     Source      `json:"source"`
	SourceRef  string      `json:"source_ref,omitempty"`
	DocumentID int64       `json:"document_id,omitempty"`
	Level      authz.Level `json:"level"`
	LeadUnit   int64       `json:"lead_unit"`
	Supporting []int64     `json:"supporting_units"`
	AssignedBy string      `json:"assigned_by"`
	AssignerID int64       `json:"assigner_id"`
	Status     TaskStatus  `json:"status"`
	Progress   int         `json:"progress"`
	Due        time.Time   `json:"due"`
	// EscalatedAt is when the task was escalated as overdue; zero if
	// never.
	EscalatedAt time.Time    `json:"escalated_at,omitzero"`
	DoneAt      time.Time    `json:"done_at,omitzero"`
	Version     int          `json:"version"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	Updates     []TaskUpdate `json:"updates,omitempty"`
}

// Overdue reports whether the task is not done and its deadline has
// passed at now.
func (t Task) Overdue(now time.Time) bool { return t.Status != TaskDone && now.After(t.Due) }

// Late reports whether the task was done after its deadline.
func (t Task) Late() bool { return t.Status == TaskDone && t.DoneAt.After(t.Due) }

// resource is the task to authz: its lead unit's, shared with the
// supporting units, at its level.
func (t Task) resource() authz.Resource {
	return authz.Resource{Kind: authz.KindTask, Unit: t.LeadUnit, Shared: t.Supporting, Level: t.Level}
}

// UpdateKind is what a task's update says.
type UpdateKind string

// The kinds of update.
const (
	UpdateProgress UpdateKind = "progress"
	UpdateComplete UpdateKind = "complete"
	UpdateEscalate UpdateKind = "escalate"
)

// TaskUpdate is one entry of a task's history.
type TaskUpdate struct {
	ID       int64      `json:"id"`
	UID      string     `json:"uid"`
	Unit     int64      `json:"unit"`
	Kind     UpdateKind `json:"kind"`
	Author   string     `json:"author"`
	Progress int        `json:"progress"`
	Note     string     `json:"note,omitempty"`
	// Evidence is a Records document's number; FileName an attached
	// file's (its content is read by TaskFile).
	Evidence string    `json:"evidence,omitempty"`
	FileName string    `json:"file_name,omitempty"`
	At       time.Time `json:"at"`
	fileData []byte
}

// NewTask is a task a leader assigns.
type NewTask struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	// Source is meeting, document or direct; SourceRef names the meeting
	// (for a document, DocumentID names it and its number is taken).
	Source     Source `json:"source"`
	SourceRef  string `json:"source_ref"`
	DocumentID int64  `json:"document_id"`
	// Level is the task's classification; a task from a document is at
	// least at the document's.
	Level      authz.Level `json:"level"`
	LeadUnit   int64       `json:"lead_unit"`
	Supporting []int64     `json:"supporting_units"`
	// The deadline: a date (YYYY-MM-DD, the end of that working day in
	// Hanoi), or a number of working days from today (the calendar's
	// holidays, Tết included, are not counted).
	DueDate     string `json:"due_date"`
	WorkingDays int    `json:"working_days"`
}

// Report is progress or completion a unit reports on a task.
type Report struct {
	// Unit is the reporting unit: the reporter's own, which must be the
	// task's lead or supporting unit.
	Progress int    `json:"progress"`
	Note     string `json:"note"`
	// Complete marks the task done (the lead unit's report only), with
	// evidence: a note, a Records document's number, or a file.
	Complete bool   `json:"complete"`
	Evidence string `json:"evidence"`
	FileName string `json:"file_name"`
	FileData []byte `json:"file_data"`
	// Version is the task's version the report is based on.
	Version int `json:"version"`
}

// UnitTally is a unit's tasks, for the leaders' table.
type UnitTally struct {
	Unit       identity.Unit `json:"unit"`
	Open       int           `json:"open"`
	Overdue    int           `json:"overdue"`
	DoneOnTime int           `json:"done_on_time"`
	DoneLate   int           `json:"done_late"`
}

// Directory is what insight needs of the directory; *identity.Service
// implements it.
type Directory interface {
	Unit(ctx context.Context, id int64) (identity.Unit, error)
	UnitByCode(ctx context.Context, code string) (identity.Unit, error)
	AllUnits(ctx context.Context) ([]identity.Unit, error)
}

// DocumentRef is what a task keeps of a Records document.
type DocumentRef struct {
	Number  string
	Subject string
	Level   authz.Level
}

// Documents reads a Records document as a subject may: one the subject
// may not read is errs.ErrNotFound, so a task cannot reveal it.
type Documents interface {
	DocumentRef(ctx context.Context, sub authz.Subject, id int64) (DocumentRef, error)
}

// Notice is an overdue task's escalation, to its leader and the heads of
// its lead unit.
type Notice struct {
	Task     Task
	LeaderID int64 // on this node; 0 if the leader is on another
	Unit     int64
}

// Notifier sends escalation notices inside the escalation's transaction
// (so a notice goes out once, with the change).
type Notifier interface {
	NotifyTx(ctx context.Context, tx *store.Tx, n Notice) error
}

// Parcel is what insight hands to the exchange: a payload from one
// unit's node to another unit's, named by agency codes.
type Parcel struct {
	From, To string
	Payload  []byte
}

// Arrival is a payload the exchange delivered to this node.
type Arrival struct {
	// Sender is the exchange member that sent it, as the exchange
	// verified it.
	Sender    string
	MessageID string
	Payload   []byte
}

// Courier carries parcels between headquarters and missions.
type Courier interface {
	// Remote reports whether the unit with code works on another node
	// (a mission's own, seen from headquarters; headquarters, seen from
	// a mission).
	Remote(ctx context.Context, code string) (bool, error)
	// Send hands a parcel to the exchange, which keeps it until the
	// link carries it; it returns the exchange's message id.
	Send(ctx context.Context, p Parcel) (string, error)
}
