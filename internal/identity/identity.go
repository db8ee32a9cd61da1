// Package identity is the ministry's directory: units (the ministry, its
// departments, missions abroad and outside agencies) with their history
// through restructuring, staff with their roles and clearances, and the
// citizens who use the public site. Signing in is internal/auth's job;
// what anyone may do is internal/authz's.
package identity

import (
	"time"

	"chancery/internal/authz"
)

// UnitKind is what a unit is.
type UnitKind string

// The unit kinds.
const (
	KindMinistry         UnitKind = "ministry"
	KindDepartment       UnitKind = "department"
	KindEmbassy          UnitKind = "embassy"
	KindConsulateGeneral UnitKind = "consulate_general"
	KindPermanentMission UnitKind = "permanent_mission"
	KindAgency           UnitKind = "agency" // an outside agency (another ministry, the national portal)
)

// UnitKinds lists every kind, in display order.
var UnitKinds = []UnitKind{KindMinistry, KindDepartment, KindEmbassy, KindConsulateGeneral, KindPermanentMission, KindAgency}

// Mission reports whether units of kind k are missions abroad.
func (k UnitKind) Mission() bool {
	return k == KindEmbassy || k == KindConsulateGeneral || k == KindPermanentMission
}

// Unit status values.
const (
	UnitActive = "active"
	UnitMerged = "merged" // absorbed into MergedInto; kept for history
)

// Unit is a node in the ministry's organisation tree.
type Unit struct {
	ID int64 `json:"id"`
	// Code is the electronic agency code (mã định danh điện tử), e.g.
	// "000.00.00.G12" (format NNN.NN.NN.XNN); unique and never reused.
	Code       string    `json:"code"`
	NameVI     string    `json:"name_vi"`
	NameEN     string    `json:"name_en"`
	Kind       UnitKind  `json:"kind"`
	ParentID   int64     `json:"parent_id,omitempty"` // zero for the root
	Country    string    `json:"country"`             // ISO 3166-1 alpha-2, e.g. "VN", "FR"
	TimeZone   string    `json:"time_zone"`           // IANA, e.g. "Europe/Paris"
	Status     string    `json:"status"`
	MergedInto int64     `json:"merged_into,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Version    int       `json:"version"`
}

// UnitEvent is one entry of a unit's history.
type UnitEvent struct {
	ID          int64     `json:"id"`
	UnitID      int64     `json:"unit_id"`
	Kind        string    `json:"kind"` // created | updated | moved | merged_into | absorbed
	EffectiveAt time.Time `json:"effective_at"`
	RecordedAt  time.Time `json:"recorded_at"`
	Actor       string    `json:"actor"`
	OtherUnitID int64     `json:"other_unit_id,omitempty"`
	Detail      string    `json:"detail,omitempty"`
}

// StaffMember is a member of staff.
type StaffMember struct {
	ID        int64       `json:"id"`
	Username  string      `json:"username"`
	FullName  string      `json:"full_name"`
	Email     string      `json:"email,omitempty"`
	UnitID    int64       `json:"unit_id"`
	Roles     authz.Roles `json:"-"`
	Clearance authz.Level `json:"clearance"`
	Disabled  bool        `json:"disabled"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
	Version   int         `json:"version"`
}

// Subject returns the authz subject for the staff member.
func (s StaffMember) Subject() authz.Subject {
	return authz.Subject{Kind: authz.Staff, ID: s.ID, Unit: s.UnitID, Roles: s.Roles, Clearance: s.Clearance}
}

// Membership says a staff member belonged to a unit from ValidFrom until
// ValidTo (zero: still).
type Membership struct {
	StaffID   int64     `json:"staff_id"`
	UnitID    int64     `json:"unit_id"`
	ValidFrom time.Time `json:"valid_from"`
	ValidTo   time.Time `json:"valid_to,omitzero"`
	Reason    string    `json:"reason,omitempty"`
}

// Citizen is an account on the public site holder.
type Citizen struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	FullName  string    `json:"full_name"`
	Phone     string    `json:"phone,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Subject returns the authz subject for the citizen.
func (c Citizen) Subject() authz.Subject { return authz.Subject{Kind: authz.Citizen, ID: c.ID} }
