package audit

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/transparency-dev/merkle/rfc6962"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// ActorKind says what kind of principal acted.
type ActorKind string

// The actor kinds.
const (
	ActorStaff   ActorKind = "staff"
	ActorCitizen ActorKind = "citizen"
	ActorSystem  ActorKind = "system" // Chancery itself: a scheduler, the integrator, a CLI command
	ActorMember  ActorKind = "member" // an exchange member: another agency's system
)

func (k ActorKind) valid() bool {
	return k == ActorStaff || k == ActorCitizen || k == ActorSystem || k == ActorMember
}

// Actor is who acted. ID is the principal's id in its kind's namespace
// (a staff or citizen id in decimal, a member code, a component name);
// Name is for display and may be empty.
type Actor struct {
	Kind ActorKind `json:"kind"`
	ID   string    `json:"id"`
	Name string    `json:"name,omitempty"`
}

// Staff returns the Actor for staff member id.
func Staff(id int64, name string) Actor {
	return Actor{Kind: ActorStaff, ID: strconv.FormatInt(id, 10), Name: name}
}

// Citizen returns the Actor for citizen id.
func Citizen(id int64, name string) Actor {
	return Actor{Kind: ActorCitizen, ID: strconv.FormatInt(id, 10), Name: name}
}

// System returns the Actor for a part of Chancery, such as "scheduler".
func System(component string) Actor {
	return Actor{Kind: ActorSystem, ID: component}
}

// Member returns the Actor for the exchange member with the given code.
func Member(code, name string) Actor {
	return Actor{Kind: ActorMember, ID: code, Name: name}
}

// Outcome is how an action ended: an access decision (Allowed, Denied) or
// the result of an operation (OK, Failed).
type Outcome string

// The outcomes.
const (
	Allowed Outcome = "allowed"
	Denied  Outcome = "denied"
	OK      Outcome = "ok"
	Failed  Outcome = "failed"
)

func (o Outcome) valid() bool {
	return o == Allowed || o == Denied || o == OK || o == Failed
}

// Event is one entry of the ledger. It records who did what to which
// resource, with what outcome; it never holds the resource's content, only
// references to it.
type Event struct {
	// Seq is the event's leaf index in the tree, from 0. The ledger sets
	// it when it integrates the event; it is ignored on append.
	Seq uint64 `json:"seq"`
	// ID is the provisional id the event was stored with (see Receipt);
	// Search and Receipt report it, and it is not part of the record.
	ID int64 `json:"-"`
	// Time is when the event happened, in UTC with microsecond precision.
	// If zero on append, the ledger's clock is used.
	Time  time.Time `json:"time"`
	Actor Actor     `json:"actor"`
	// UnitID is the unit on whose behalf the actor acted; 0 for none.
	UnitID int64 `json:"unit_id,omitempty"`
	// Action names what was done, such as "login", "record.read" or
	// "unit.update": a lower-case ASCII word, with '.', '_' and '-'.
	Action string `json:"action"`
	// ResourceType and ResourceID name what it was done to, such as
	// "record" and "2025-0042"; both empty when there is no resource.
	ResourceType string `json:"resource_type,omitempty"`
	ResourceID   string `json:"resource_id,omitempty"`
	// Level is the resource's classification.
	Level   authz.Level `json:"level"`
	Outcome Outcome     `json:"outcome"`
	// Reason explains the outcome, such as why access was denied.
	Reason    string `json:"reason,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// Attrs holds a few more references (at most MaxAttrs). Never put
	// classified content or personal data beyond references here.
	Attrs map[string]string `json:"attrs,omitempty"`
}

// Limits on an event's fields, in bytes of UTF-8. They keep an event small
// enough to append at a high rate and to encode with 16-bit lengths.
const (
	MaxAttrs      = 16
	maxName       = 64 // action, resource type, attribute keys
	maxActorID    = 128
	maxActorName  = 256
	maxResourceID = 256
	maxReason     = 1024
	maxRequestID  = 128
	maxAttrValue  = 256
	leafFormatV1  = 1
)

// Validate reports the first field of e that breaks a rule, as an error
// wrapping errs.ErrInvalid (an *errs.FieldError naming the field). Seq is
// not checked; a zero Time is allowed, since Append fills it in.
func (e *Event) Validate() error {
	if !e.Actor.Kind.valid() {
		return errs.Invalid("actor.kind", fmt.Sprintf("unknown actor kind %q: use staff, citizen, system or member", e.Actor.Kind))
	}
	if e.Actor.ID == "" {
		return errs.Invalid("actor.id", "actor id is required")
	}
	checks := []struct {
		field, value string
		max          int
	}{
		{"actor.id", e.Actor.ID, maxActorID},
		{"actor.name", e.Actor.Name, maxActorName},
		{"resource_id", e.ResourceID, maxResourceID},
		{"reason", e.Reason, maxReason},
		{"request_id", e.RequestID, maxRequestID},
	}
	for _, c := range checks {
		if err := checkText(c.field, c.value, c.max); err != nil {
			return err
		}
	}
	if e.Action == "" {
		return errs.Invalid("action", "action is required")
	}
	if err := checkName("action", e.Action); err != nil {
		return err
	}
	if err := checkName("resource_type", e.ResourceType); err != nil {
		return err
	}
	if e.ResourceType == "" && e.ResourceID != "" {
		return errs.Invalid("resource_type", "a resource id needs a resource type")
	}
	if e.UnitID < 0 {
		return errs.Invalid("unit_id", "unit id must not be negative")
	}
	if !e.Level.Valid() {
		return errs.Invalid("level", fmt.Sprintf("unknown classification level %d", e.Level))
	}
	if !e.Outcome.valid() {
		return errs.Invalid("outcome", fmt.Sprintf("unknown outcome %q: use allowed, denied, ok or failed", e.Outcome))
	}
	if !e.Time.IsZero() && (e.Time.UnixMicro() < 0 || e.Time.Year() > 9999) {
		return errs.Invalid("time", "time must be between 1970 and 9999")
	}
	if len(e.Attrs) > MaxAttrs {
		return errs.Invalid("attrs", fmt.Sprintf("%d attributes, at most %d allowed", len(e.Attrs), MaxAttrs))
	}
	for k, v := range e.Attrs {
		if k == "" {
			return errs.Invalid("attrs", "attribute names must not be empty")
		}
		if err := checkName("attrs", k); err != nil {
			return err
		}
		if err := checkText("attrs."+k, v, maxAttrValue); err != nil {
			return err
		}
	}
	return nil
}

// checkText refuses invalid UTF-8, control characters (which could forge
// lines in a text export) and values over max bytes.
func checkText(field, s string, max int) error {
	if len(s) > max {
		return errs.Invalid(field, fmt.Sprintf("is %d bytes long, at most %d allowed", len(s), max))
	}
	if !utf8.ValidString(s) {
		return errs.Invalid(field, "is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errs.Invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// checkName accepts "" or [a-z][a-z0-9._-]{0,63}.
func checkName(field, s string) error {
	if len(s) > maxName {
		return errs.Invalid(field, fmt.Sprintf("%q is longer than %d bytes", s, maxName))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '.' || c == '_' || c == '-')) {
			return errs.Invalid(field, fmt.Sprintf("%q must be lower-case ASCII letters, digits, '.', '_' or '-', starting with a letter", s))
		}
	}
	return nil
}

// MarshalLeaf returns the canonical encoding of e, version 1: the bytes
// whose RFC 6962 leaf hash is e's leaf in the tree. Seq is not encoded (it
// is the leaf's index, which inclusion proofs authenticate). See the
// package documentation for the layout. It returns an error wrapping
// errs.ErrInvalid if a field is too long to encode.
func (e *Event) MarshalLeaf() ([]byte, error) {
	return appendLeaf(make([]byte, 0, 256), e)
}

// LeafHash returns the RFC 6962 leaf hash of e's canonical encoding.
func (e *Event) LeafHash() ([]byte, error) {
	b, err := e.MarshalLeaf()
	if err != nil {
		return nil, err
	}
	return rfc6962.DefaultHasher.HashLeaf(b), nil
}

// appendLeaf appends e's canonical encoding to dst.
func appendLeaf(dst []byte, e *Event) ([]byte, error) {
	var err error
	str := func(field, s string) {
		if err != nil {
			return
		}
		if len(s) > 0xffff {
			err = errs.Invalid(field, "is too long to encode")
			return
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(s)))
		dst = append(dst, s...)
	}
	dst = append(dst, leafFormatV1)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.Time.UnixMicro()))
	str("actor.kind", string(e.Actor.Kind))
	str("actor.id", e.Actor.ID)
	str("actor.name", e.Actor.Name)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.UnitID))
	str("action", e.Action)
	str("resource_type", e.ResourceType)
	str("resource_id", e.ResourceID)
	dst = append(dst, byte(e.Level))
	str("outcome", string(e.Outcome))
	str("reason", e.Reason)
	str("request_id", e.RequestID)
	if len(e.Attrs) > 0xff {
		return nil, errs.Invalid("attrs", "too many attributes to encode")
	}
	dst = append(dst, byte(len(e.Attrs)))
	if len(e.Attrs) > 0 {
		keys := make([]string, 0, len(e.Attrs))
		for k := range e.Attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			str("attrs", k)
			str("attrs."+k, e.Attrs[k])
		}
	}
	return dst, err
}
