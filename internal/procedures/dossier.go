package procedures

import (
	"context"
	"strconv"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// Channel is how a dossier reached the unit, numbered as the National
// Public Service Portal numbers channels.
type Channel int

// The channels.
const (
	ChannelInPerson Channel = 1 // trực tiếp, at the one-stop shop
	ChannelOnline   Channel = 2 // trực tuyến
	ChannelPostal   Channel = 3 // bưu chính công ích
)

// Valid reports whether c is one of the three channels.
func (c Channel) Valid() bool { return c >= ChannelInPerson && c <= ChannelPostal }

// Key returns the i18n key of the channel's name.
func (c Channel) Key() string { return "procedures.channel." + strconv.Itoa(int(c)) }

// Dossier is an application being resolved: what was submitted, where it
// stands and what became of it.
type Dossier struct {
	ID int64 `json:"-"`
	// Code is {agency code}-{yymmdd}-{seq}, given at submission.
	Code      string `json:"code"`
	Procedure string `json:"procedure_code"`
	// UnitID is the unit resolving it: the one it was submitted to, or
	// the unit that absorbed that one.
	UnitID   int64   `json:"-"`
	UnitCode string  `json:"agency_code"`
	Channel  Channel `json:"channel"`
	Lifecycle
	ApplicantName  string `json:"applicant_name"`
	ApplicantEmail string `json:"applicant_email,omitempty"`
	// CitizenID is the account that submitted it online; 0 for dossiers
	// entered by a clerk.
	CitizenID int64 `json:"-"`
	// Form is the application form as submitted.
	Form map[string]any `json:"form"`
	// Prefilled reports whether the applicant's particulars came from the
	// National Population Database; Digitised whether every required
	// document is held electronically.
	Prefilled  bool  `json:"prefilled"`
	Digitised  bool  `json:"digitised"`
	AssigneeID int64 `json:"assignee_id,omitempty"`
	// FeeAmount in FeeCurrency is what the procedure charges.
	FeeAmount   int64     `json:"fee_amount"`
	FeeCurrency string    `json:"fee_currency,omitempty"`
	Paid        bool      `json:"paid"`
	PaidOnline  bool      `json:"paid_online"`
	SubmittedAt time.Time `json:"submitted_at"`
	// AppointmentAt is the day the result is promised for: on the
	// receipt, or on the apology letter of an overdue dossier.
	AppointmentAt time.Time `json:"appointment_at,omitzero"`
	// DueAt is the deadline as of the last change (zero before receipt).
	DueAt      time.Time `json:"due_at,omitzero"`
	ReturnedAt time.Time `json:"returned_at,omitzero"`
	// Late reports whether the dossier finished after its deadline.
	Late bool `json:"late"`
	// HasResult reports whether a signed electronic result was issued.
	HasResult bool `json:"has_result"`
	// Rating is the applicant's rating, 1 to 5, once the result is
	// returned; 0 before.
	Rating int `json:"rating,omitempty"`
	// NationalPortalStatus is the last status sent to the national portal.
	NationalPortalStatus Status    `json:"national_portal_status"`
	UpdatedAt            time.Time `json:"updated_at"`
	Version              int       `json:"version"`

	Attachments []Attachment `json:"attachments"`
	History     []Entry      `json:"history"`
	// TrackingPIN is the second factor of public tracking, printed on the
	// receipt: those who may read the dossier see it, and anyone who
	// tracks the dossier by its code must give it (see Track). Empty for
	// dossiers registered before tracking PINs.
	TrackingPIN string `json:"tracking_pin,omitempty"`

	sealedForm            []byte // as stored; complete opens it into Form
	sealedPIN             []byte // as stored; complete opens it into TrackingPIN
	resultBlob, resultSig string // the signed result document and its signature
}

// Attachment is a file of an application or a dossier; its content is in
// blob storage, sealed.
type Attachment struct {
	ID          int64     `json:"id"`
	DocumentKey string    `json:"document_key"`
	Filename    string    `json:"filename"`
	MediaType   string    `json:"media_type"`
	Size        int64     `json:"size"`
	SHA256      []byte    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
	blobKey     string
}

// Entry is one step of a dossier's history.
type Entry struct {
	Action    string `json:"action"` // a lifecycle action, or submit, transfer, apologise, rate
	From      Status `json:"from_status"`
	To        Status `json:"to_status"`
	ActorKind string `json:"actor_kind"`
	// ActorID is the staff member's or citizen's id; 0 for the system.
	ActorID   int64     `json:"-"`
	ActorName string    `json:"actor_name,omitempty"`
	UnitID    int64     `json:"-"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
}

// Draft is an application a citizen is preparing on the public site: the form
// is filled and the attachments are uploaded, and the fee may be paid,
// before it is submitted.
type Draft struct {
	ID          string         `json:"id"`
	Procedure   string         `json:"procedure_code"`
	UnitID      int64          `json:"-"`
	CitizenID   int64          `json:"-"`
	Form        map[string]any `json:"form"`
	Prefilled   bool           `json:"prefilled"`
	FeeAmount   int64          `json:"fee_amount"`
	FeeCurrency string         `json:"fee_currency,omitempty"`
	// PaidAt is when the gateway reported the fee paid; zero before.
	PaidAt      time.Time    `json:"paid_at,omitzero"`
	CreatedAt   time.Time    `json:"created_at"`
	ExpiresAt   time.Time    `json:"expires_at"`
	Attachments []Attachment `json:"attachments"`
}

// NeedsPayment reports whether the draft's fee is still to be paid.
func (d Draft) NeedsPayment() bool { return d.FeeAmount > 0 && d.PaidAt.IsZero() }

// Person is what the National Population Database says of a citizen.
type Person struct {
	IDNumber     string `json:"id_number"`
	FullName     string `json:"full_name"`
	DateOfBirth  string `json:"date_of_birth"` // YYYY-MM-DD
	Sex          string `json:"sex"`           // male | female
	PlaceOfBirth string `json:"place_of_origin"`
}

// Population looks citizens up in the National Population Database, over
// the exchange. It returns an error wrapping errs.ErrNotFound for an
// unknown number, and errs.ErrUnavailable when the database cannot be
// reached. Service.lookup is its only caller: it decides, limits and
// audits every lookup first.
type Population interface {
	Lookup(ctx context.Context, q PopulationQuery) (Person, error)
}

// PopulationQuery is one lookup: the number, and who asks and why, which
// the exchange carries to the database (X-Road's X-Road-UserId and
// X-Road-Issue) so that its own log knows them.
type PopulationQuery struct {
	IDNumber string
	// EndUser is the account the lookup is for: "citizen:7", "staff:12".
	EndUser string
	// Purpose is why: a prefill, a counter check and what it is for.
	Purpose string
}

// Notice is an e-mail to an applicant.
type Notice struct {
	To, Subject, Text string
}

// Notifier queues notices in the transaction of the change they announce,
// so nothing is announced that did not happen, and sends them once
// nudged after the commit.
type Notifier interface {
	NotifyTx(ctx context.Context, tx *store.Tx, n Notice) error
	Nudge()
}

// Recorder is the audit ledger.
type Recorder interface {
	AppendTx(ctx context.Context, tx *store.Tx, e audit.Event) error
	Append(ctx context.Context, e audit.Event) (audit.Receipt, error)
}

// NationalPortalSender hands a status report to the National Public Service
// Portal through the exchange, durably, and returns the message's id.
type NationalPortalSender interface {
	SendStatus(ctx context.Context, payload []byte) (string, error)
}

// Directory finds units; *identity.Service implements it.
type Directory interface {
	Unit(ctx context.Context, id int64) (identity.Unit, error)
	UnitByCode(ctx context.Context, code string) (identity.Unit, error)
	// AllUnits returns every unit, merged ones included: the public site lists
	// the missions a citizen may apply to.
	AllUnits(ctx context.Context) ([]identity.Unit, error)
}

// capacities pairs the lifecycle's staff roles with the authz kinds whose
// grants say who holds them: authz decides who is a dossier's clerk,
// officer or approver, the lifecycle which steps each takes.
var capacities = [...]struct {
	role Role
	kind authz.Kind
}{{RoleClerk, authz.KindIntake}, {RoleOfficer, authz.KindCasework}, {RoleApprover, authz.KindDecision}}

// roles returns the lifecycle roles a subject holds on a dossier, as
// authz decides them: the system's for the node itself, the applicant's
// for the citizen who submitted it, and for staff of its unit each
// capacity their roles grant.
func roles(s authz.Subject, d *Dossier) []Role {
	dec, why := authz.Decide(s, authz.Update, authz.Resource{Kind: authz.KindDossier, Unit: d.UnitID, Owner: d.CitizenID})
	switch {
	case dec != authz.Allowed:
		return nil
	case why == authz.ReasonSystem:
		return []Role{RoleSystem}
	case why == authz.ReasonOwner:
		return []Role{RoleApplicant}
	}
	var out []Role
	for _, c := range capacities {
		if dec, _ := authz.Decide(s, authz.Update, authz.Resource{Kind: c.kind, Unit: d.UnitID}); dec == authz.Allowed {
			out = append(out, c.role)
		}
	}
	return out
}
