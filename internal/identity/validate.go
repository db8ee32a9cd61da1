package identity

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"chancery/internal/authz"
	"chancery/internal/errs"

	// Time zones are checked against the embedded IANA database, so the
	// answer does not depend on the host's zoneinfo files.
	_ "time/tzdata"
)

// maxName is the longest name, in characters, a unit or person may have.
const maxName = 200

var (
	codePattern     = regexp.MustCompile(`^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$`)
	usernamePattern = regexp.MustCompile(`^[a-z][a-z0-9._-]{2,63}$`)
	phonePattern    = regexp.MustCompile(`^\+?[0-9][0-9 .-]{3,30}$`)
)

// cleanName trims s and checks it is a usable name: present, valid UTF-8,
// at most maxName characters and free of control characters (which would
// corrupt tables, CSV exports and terminal output).
func cleanName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errs.Invalid(field, "is required")
	case !utf8.ValidString(s):
		return "", errs.Invalid(field, "is not valid UTF-8 text")
	case utf8.RuneCountInString(s) > maxName:
		return "", errs.Invalid(field, fmt.Sprintf("is longer than %d characters", maxName))
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", errs.Invalid(field, "must not contain control characters such as tabs or line breaks")
	}
	return s, nil
}

// IsAgencyCode reports whether s has the shape of an electronic agency
// code, NNN.NN.NN.XNN (digits, one capital letter), such as 000.00.00.G12.
func IsAgencyCode(s string) bool { return codePattern.MatchString(s) }

// cleanCode checks an electronic agency code.
func cleanCode(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !IsAgencyCode(s) {
		return "", errs.Invalid("code", "must be an electronic agency code of the form NNN.NN.NN.XNN (digits, a capital letter), e.g. 000.00.00.G12")
	}
	return s, nil
}

// cleanKind checks a unit kind.
func cleanKind(k UnitKind) error {
	for _, known := range UnitKinds {
		if k == known {
			return nil
		}
	}
	names := make([]string, len(UnitKinds))
	for i, k := range UnitKinds {
		names[i] = string(k)
	}
	return errs.Invalid("kind", "must be one of "+strings.Join(names, ", "))
}

// cleanCountry checks and upper-cases an ISO 3166-1 alpha-2 code.
func cleanCountry(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if !IsCountry(c) {
		return "", errs.Invalid("country", "must be an ISO 3166-1 alpha-2 country code such as VN, FR or US")
	}
	return c, nil
}

// cleanTimeZone checks an IANA time zone name. "Local" is refused because
// it means whatever the server happens to run in.
func cleanTimeZone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "Local" {
		return "", errs.Invalid("time_zone", "is required: an IANA time zone such as Asia/Ho_Chi_Minh or Europe/Paris")
	}
	if _, err := time.LoadLocation(s); err != nil {
		return "", errs.Invalid("time_zone", "is not an IANA time zone; use a name such as Asia/Ho_Chi_Minh or Europe/Paris")
	}
	return s, nil
}

// cleanUsername checks a staff username.
func cleanUsername(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !usernamePattern.MatchString(s) {
		return "", errs.Invalid("username", "must be 3–64 characters: a lower-case letter, then lower-case letters, digits, '.', '_' or '-'")
	}
	return s, nil
}

// cleanEmail lower-cases and checks an e-mail address; an empty one is
// allowed only when optional.
func cleanEmail(s string, optional bool) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		if optional {
			return "", nil
		}
		return "", errs.Invalid("email", "is required")
	}
	// ParseAddress also accepts "Name <addr>"; only the bare address is
	// an e-mail address here.
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", errs.Invalid("email", "is not an e-mail address such as name@example.com")
	}
	return s, nil
}

// cleanPhone checks an optional telephone number.
func cleanPhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s != "" && !phonePattern.MatchString(s) {
		return "", errs.Invalid("phone", "must be a telephone number: digits, spaces, '.', '-' and an optional leading '+'")
	}
	return s, nil
}

// checkRoles refuses bits that name no role, which only a programming
// error could set.
func checkRoles(r authz.Roles) error {
	if parsed, _ := authz.ParseRoles(r.Names()); parsed != r {
		return errs.Invalid("roles", "holds an unknown role")
	}
	return nil
}

// checkClearance refuses a level outside the four.
func checkClearance(l authz.Level) error {
	if !l.Valid() {
		return errs.Invalid("clearance", "must be one of none, confidential, secret, top_secret")
	}
	return nil
}
