package exchange

import (
	"fmt"
	"strings"

	"chancery/internal/errs"
)

// Identifiers follow X-Road's shape, so that people who know X-Road read
// them at once: a member is "instance/class/code", a client (a member's
// subsystem, i.e. one information system) is
// "instance/class/member/subsystem", and a service is
// "instance/class/member/subsystem/service[/version]". Member codes are
// electronic agency codes such as "000.00.00.G12".

// DefaultInstance is the exchange instance of Vietnam's state agencies.
const DefaultInstance = "VN"

// ClassGOV is the member class of state agencies: every ministry unit,
// every mission and every outside agency in Chancery's registry.
const ClassGOV = "GOV"

// maxSegment bounds one path segment of an identifier.
const maxSegment = 64

// ClientID names a subsystem, the party that sends and receives.
type ClientID struct {
	Instance  string `json:"instance"`
	Class     string `json:"class"`
	Member    string `json:"member"`
	Subsystem string `json:"subsystem"`
}

// ServiceID names a service offered by a subsystem.
type ServiceID struct {
	ClientID
	Service string `json:"service"`
	// Version is empty when the service is not versioned.
	Version string `json:"version,omitempty"`
}

// String returns the client's id, "instance/class/member/subsystem".
func (c ClientID) String() string {
	return c.Instance + "/" + c.Class + "/" + c.Member + "/" + c.Subsystem
}

// MemberKey returns "instance/class/member", the member the client
// belongs to.
func (c ClientID) MemberKey() string { return c.Instance + "/" + c.Class + "/" + c.Member }

// String returns the service's id,
// "instance/class/member/subsystem/service[/version]".
func (s ServiceID) String() string {
	id := s.ClientID.String() + "/" + s.Service
	if s.Version != "" {
		id += "/" + s.Version
	}
	return id
}

// Provider returns the subsystem that offers the service.
func (s ServiceID) Provider() ClientID { return s.ClientID }

// MarshalText encodes the id in its string form.
func (c ClientID) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses an id in its string form.
func (c *ClientID) UnmarshalText(b []byte) error {
	id, err := ParseClientID(string(b))
	if err != nil {
		return err
	}
	*c = id
	return nil
}

// MarshalText encodes the id in its string form.
func (s ServiceID) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses an id in its string form.
func (s *ServiceID) UnmarshalText(b []byte) error {
	id, err := ParseServiceID(string(b))
	if err != nil {
		return err
	}
	*s = id
	return nil
}

// ParseClientID parses "instance/class/member/subsystem". It returns an
// error wrapping errs.ErrInvalid that says which part is wrong.
func ParseClientID(s string) (ClientID, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 4 {
		return ClientID{}, errs.Invalid("client", fmt.Sprintf("client id %q must have four parts, instance/class/member/subsystem, such as VN/GOV/000.00.00.G12/consular", s))
	}
	c := ClientID{parts[0], parts[1], parts[2], parts[3]}
	return c, c.Validate()
}

// ParseServiceID parses "instance/class/member/subsystem/service" with an
// optional "/version". It returns an error wrapping errs.ErrInvalid that
// says which part is wrong.
func ParseServiceID(s string) (ServiceID, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 && len(parts) != 6 {
		return ServiceID{}, errs.Invalid("service", fmt.Sprintf("service id %q must have five or six parts, instance/class/member/subsystem/service[/version], such as VN/GOV/000.00.00.G02/population/citizen-lookup/v1", s))
	}
	id := ServiceID{ClientID: ClientID{parts[0], parts[1], parts[2], parts[3]}, Service: parts[4]}
	if len(parts) == 6 {
		// A trailing empty version would parse as an unversioned id whose
		// String differs from the input.
		if err := checkSegment("version", parts[5]); err != nil {
			return ServiceID{}, err
		}
		id.Version = parts[5]
	}
	return id, id.Validate()
}

// Validate reports whether every part of the id is a well-formed segment,
// as an error wrapping errs.ErrInvalid.
func (c ClientID) Validate() error {
	for _, p := range []struct{ name, v string }{
		{"instance", c.Instance}, {"class", c.Class}, {"member", c.Member}, {"subsystem", c.Subsystem},
	} {
		if err := checkSegment(p.name, p.v); err != nil {
			return err
		}
	}
	return nil
}

// Validate reports whether every part of the id is a well-formed segment,
// as an error wrapping errs.ErrInvalid.
func (s ServiceID) Validate() error {
	if err := s.ClientID.Validate(); err != nil {
		return err
	}
	if err := checkSegment("service", s.Service); err != nil {
		return err
	}
	if s.Version != "" {
		return checkSegment("version", s.Version)
	}
	return nil
}

// checkSegment allows letters, digits, '.', '-' and '_', which covers
// agency codes and keeps ids safe in URLs, NATS subjects (after escaping
// dots) and file names.
func checkSegment(name, v string) error {
	if v == "" {
		return errs.Invalid(name, "the "+name+" part of the id is empty")
	}
	if len(v) > maxSegment {
		return errs.Invalid(name, fmt.Sprintf("the %s part of the id is longer than %d characters", name, maxSegment))
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return errs.Invalid(name, fmt.Sprintf("the %s part %q may hold only letters, digits, '.', '-' and '_'", name, v))
		}
	}
	return nil
}
