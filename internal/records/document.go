// Package records keeps the ministry's official documents: incoming ones
// (văn bản đến) registered with an arrival number, outgoing ones (văn bản
// đi) drafted, approved, signed and issued with a number and symbol, their
// handling (the leader's instruction, steps, read receipts), case files
// (hồ sơ) and the classified archive (levels, protection periods, their
// history, per-document encryption).
//
// The domain types and rules are here and in rules.go, free of HTTP and
// SQL; service.go is the service, sql.go its storage. Who may do what is
// decided by internal/authz; rules.go says which law each rule follows.
package records

import (
	"context"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// Direction says whether a document came in or goes out.
type Direction string

// The directions.
const (
	Incoming Direction = "incoming" // văn bản đến
	Outgoing Direction = "outgoing" // văn bản đi
)

// Status is where a document stands.
type Status string

// The statuses. Incoming: registered → in_progress (once assigned) →
// done. Outgoing: draft → approved → signed → issued, and issued →
// recalled.
const (
	StatusRegistered Status = "registered"
	StatusInProgress Status = "in_progress"
	StatusDone       Status = "done"
	StatusDraft      Status = "draft"
	StatusApproved   Status = "approved"
	StatusSigned     Status = "signed"
	StatusIssued     Status = "issued"
	StatusRecalled   Status = "recalled"
)

// Document is an incoming or outgoing document: its metadata in the
// clear, its content sealed under its own data key.
type Document struct {
	ID        int64     `json:"id"`
	Direction Direction `json:"direction"`
	// UnitID owns the document: the unit that registered it (incoming) or
	// drafts and issues it (outgoing). Need-to-know starts here.
	UnitID int64 `json:"unit_id"`
	// Type is the document type's key (rules.go).
	Type string `json:"type"`
	// Number is the number and symbol: the sender's for an incoming
	// document, the one taken at issuance for an outgoing one (empty
	// before).
	Number string `json:"number,omitempty"`
	// RegisterNumber is the arrival number (incoming) or the issued
	// number (outgoing) in the unit's register of RegisterYear and
	// Series; 0 until taken.
	RegisterNumber int    `json:"register_number,omitempty"`
	RegisterYear   int    `json:"register_year,omitempty"`
	Series         Series `json:"series,omitempty"`
	Subject        string `json:"subject"`
	// Date is the document's date (ngày ban hành): the sender's for an
	// incoming one, the issuance for an outgoing one.
	Date time.Time `json:"date,omitzero"`
	// Sender is the agency that sent an incoming document.
	Sender string `json:"sender,omitempty"`
	// Signer is who signed an outgoing document (a staff id).
	SignerID int64   `json:"signer_id,omitempty"`
	Urgency  Urgency `json:"urgency"`
	// Classification is the document's level.
	Classification authz.Level `json:"classification"`
	DueAt          time.Time   `json:"due_at,omitzero"`
	Status         Status      `json:"status"`
	AuthorID       int64       `json:"author_id,omitempty"`
	// Shared lists the units on the distribution list (need-to-know
	// beyond the owning unit).
	Shared    []int64   `json:"shared_units,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int       `json:"version"`
	// Content describes the sealed content, if any.
	Content *ContentInfo `json:"content,omitempty"`

	// readers are the staff holding an explicit grant in force, loaded
	// for the access decision; never shown.
	readers []int64
}

// ContentInfo describes a document's file; the bytes are sealed.
type ContentInfo struct {
	Filename  string `json:"filename"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
	SHA256    []byte `json:"sha256"`
	// Shredded is when the data key was destroyed: the content can never
	// be read again.
	Shredded time.Time `json:"shredded_at,omitzero"`
}

// resource returns the labels authz decides on.
func (d *Document) resource() authz.Resource {
	return authz.Resource{Kind: authz.KindDocument, Unit: d.UnitID, Shared: d.Shared, Readers: d.readers, Level: d.Classification}
}

// Series names a register's numbering series. Secret documents are
// numbered in their own series (rules.go: Decree 30, not verified).
type Series string

// The series.
const (
	SeriesIncoming       Series = "incoming"
	SeriesIncomingSecret Series = "incoming_secret"
	SeriesOutgoing       Series = "outgoing"
	SeriesOutgoingSecret Series = "outgoing_secret"
)

// seriesOf returns the series a document of direction and level is
// numbered in.
func seriesOf(dir Direction, l authz.Level) Series {
	switch {
	case dir == Incoming && l > authz.Unclassified:
		return SeriesIncomingSecret
	case dir == Incoming:
		return SeriesIncoming
	case l > authz.Unclassified:
		return SeriesOutgoingSecret
	}
	return SeriesOutgoing
}

// ClassificationEvent is one entry of a document's classification
// history.
type ClassificationEvent struct {
	Kind ClassificationKind `json:"kind"`
	From authz.Level        `json:"from"`
	To   authz.Level        `json:"to"`
	// Reason is why (the ground in the list of state secrets, or the
	// decision changing it).
	Reason string `json:"reason"`
	// Source is where the level comes from: the list of state secrets'
	// item, or the incoming document's own marking.
	Source string `json:"source,omitempty"`
	// ActorID decided it; SecondID confirmed it (two people, for a top
	// secret item's declassification or destruction).
	ActorID      int64     `json:"actor_id"`
	SecondID     int64     `json:"second_id,omitempty"`
	ProtectUntil time.Time `json:"protect_until,omitzero"`
	At           time.Time `json:"at"`
}

// ClassificationKind is what a classification event did.
type ClassificationKind string

// The kinds of classification event.
const (
	Classified   ClassificationKind = "classify"
	Extended     ClassificationKind = "extend"
	LevelChanged ClassificationKind = "change_level"
	Declassified ClassificationKind = "declassify"
)

// Classification is a document's current classification record.
type Classification struct {
	Level        authz.Level           `json:"level"`
	Reason       string                `json:"reason,omitempty"`
	Source       string                `json:"source,omitempty"`
	ClassifierID int64                 `json:"classifier_id,omitempty"`
	ProtectUntil time.Time             `json:"protect_until,omitzero"`
	History      []ClassificationEvent `json:"history"`
	// Pending is a declassification or destruction of a top-secret item
	// proposed by one person and awaiting its second.
	Pending *Pending `json:"pending,omitempty"`
}

// Pending is a two-person change awaiting its second person.
type Pending struct {
	Action     string    `json:"action"` // declassify | destroy
	Reason     string    `json:"reason"`
	ProposerID int64     `json:"proposer_id"`
	At         time.Time `json:"at"`
}

// Retention is how long a case file is kept: Permanent, or a number of
// years (Law on Archives 33/2024, see rules.go).
type Retention int

// Permanent is the retention of a case file kept for ever.
const Permanent Retention = 0

// CaseFile is a unit's case file (hồ sơ công việc) of a year. A document
// is filed into one or several case files without being copied.
type CaseFile struct {
	ID     int64  `json:"id"`
	UnitID int64  `json:"unit_id"`
	Year   int    `json:"year"`
	Code   string `json:"code"` // the case file's symbol in the unit's list
	Title  string `json:"title"`
	// RetentionYears is 0 for permanent retention.
	RetentionYears Retention `json:"retention_years"`
	ClosedAt       time.Time `json:"closed_at,omitzero"`
	CreatedAt      time.Time `json:"created_at"`
	// Documents lists the ids of the documents filed in it that the
	// caller may see.
	Documents []int64 `json:"documents"`
}

// Assignment is a leader's instruction (bút phê) on an incoming
// document: a lead or supporting unit or officer, with a deadline.
type Assignment struct {
	ID          int64     `json:"id"`
	Role        string    `json:"role"` // lead | support
	UnitID      int64     `json:"unit_id"`
	StaffID     int64     `json:"staff_id,omitempty"`
	Deadline    time.Time `json:"deadline,omitzero"`
	Instruction string    `json:"instruction"`
	AssignedBy  int64     `json:"assigned_by"`
	At          time.Time `json:"at"`
}

// Step is one step of a document's handling or drafting.
type Step struct {
	Action  string    `json:"action"`
	ActorID int64     `json:"actor_id"`
	Note    string    `json:"note,omitempty"`
	At      time.Time `json:"at"`
}

// Receipt records that a member of staff opened a document (first time).
type Receipt struct {
	StaffID int64     `json:"staff_id"`
	At      time.Time `json:"at"`
}

// Grant is an explicit need-to-know grant to one member of staff, with
// its reason and expiry.
type Grant struct {
	ID        int64     `json:"id"`
	StaffID   int64     `json:"staff_id"`
	Reason    string    `json:"reason"`
	GrantedBy int64     `json:"granted_by"`
	ExpiresAt time.Time `json:"expires_at"`
	At        time.Time `json:"at"`
}

// Recorder is the audit ledger.
type Recorder interface {
	AppendTx(ctx context.Context, tx *store.Tx, e audit.Event) error
	Append(ctx context.Context, e audit.Event) (audit.Receipt, error)
}

// Directory finds units; *identity.Service implements it.
type Directory interface {
	Unit(ctx context.Context, id int64) (identity.Unit, error)
}
