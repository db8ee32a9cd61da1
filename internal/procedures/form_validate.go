package procedures

import (
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"chancery/internal/errs"
	"chancery/internal/i18n"
)

// Violation is one field of a submitted form that breaks the schema.
type Violation struct {
	// Pointer is the field's JSON pointer in the submitted document, e.g.
	// "/applicant/email"; "" is the document itself.
	Pointer string `json:"pointer"`
	// Rule is the schema keyword broken: required, additionalProperties,
	// type, enum, minLength, maxLength, pattern, format, minimum, maximum;
	// or json for a document that is not JSON at all, and characters for
	// text holding control characters (other than tabs and line breaks).
	Rule      string `json:"rule"`
	MessageVI string `json:"message_vi"`
	MessageEN string `json:"message_en"`
}

// FormError lists every field of a submitted form that breaks its schema,
// one violation per field (the first rule the field breaks, in the order a
// person fixes them: presence, type, choice, length, pattern, format,
// range), in the form's field order. It wraps errs.ErrInvalid.
type FormError struct{ Violations []Violation }

// Error lists the violations in English.
func (e *FormError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		field := v.Pointer
		if field == "" {
			field = "form"
		}
		parts[i] = field + ": " + v.MessageEN
	}
	return "the form has errors: " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, errs.ErrInvalid) true.
func (e *FormError) Unwrap() error { return errs.ErrInvalid }

// For returns the violation of the field at pointer, if it has one.
func (e *FormError) For(pointer string) (Violation, bool) {
	for _, v := range e.Violations {
		if v.Pointer == pointer {
			return v, true
		}
	}
	return Violation{}, false
}

// Validate checks a submitted form, a JSON document, against the schema.
// It returns nil when the form is valid, or a *FormError naming every
// broken field; a document that is not a single JSON value is reported as
// one violation at the root.
func (s *Schema) Validate(doc []byte) error {
	v, err := decodeJSON(doc)
	if err != nil {
		return &FormError{[]Violation{violation("", "json", "procedures.form.not_json")}}
	}
	return s.ValidateValue(v)
}

// ValidateValue checks a form already decoded from JSON (objects as
// map[string]any; numbers as json.Number, float64, int or int64), as
// Validate does.
func (s *Schema) ValidateValue(v any) error {
	var out []Violation
	s.root.check(v, "", &out)
	if len(out) == 0 {
		return nil
	}
	return &FormError{out}
}

// typeKey is the message for a value of the wrong type.
var typeKey = map[string]string{
	TypeObject:  "procedures.form.type_object",
	TypeString:  "procedures.form.type_string",
	TypeInteger: "procedures.form.type_integer",
	TypeNumber:  "procedures.form.type_number",
	TypeBoolean: "procedures.form.type_boolean",
}

// missing reports the required node n at ptr absent. A group is reported
// by its required members, each at its own pointer, so that a form left
// empty shows each message beside its field; a group without required
// members is reported itself.
func (n *node) missing(ptr string, out *[]Violation) {
	if n.typ == TypeObject {
		before := len(*out)
		for _, name := range n.order {
			if n.required[name] {
				n.props[name].missing(ptr+"/"+name, out)
			}
		}
		if len(*out) > before {
			return
		}
	}
	*out = append(*out, violation(ptr, "required", "procedures.form.required"))
}

func (n *node) check(v any, ptr string, out *[]Violation) {
	if n.typ == TypeObject {
		m, ok := v.(map[string]any)
		if !ok {
			*out = append(*out, violation(ptr, "type", typeKey[n.typ]))
			return
		}
		for _, name := range n.order {
			sub, present := m[name]
			switch {
			case present:
				n.props[name].check(sub, ptr+"/"+name, out)
			case n.required[name]:
				n.props[name].missing(ptr+"/"+name, out)
			}
		}
		var extra []string
		for name := range m {
			if _, ok := n.props[name]; !ok {
				extra = append(extra, name)
			}
		}
		slices.Sort(extra)
		for _, name := range extra {
			*out = append(*out, violation(ptr+"/"+escapePointer(name), "additionalProperties", "procedures.form.unknown"))
		}
		return
	}
	val, ok := scalar(n.typ, v)
	if !ok {
		*out = append(*out, violation(ptr, "type", typeKey[n.typ]))
		return
	}
	if n.enum != nil && !slices.Contains(n.enum, val) {
		key := "procedures.form.enum"
		if n.typ == TypeBoolean && len(n.enum) == 1 && n.enum[0] == true {
			key = "procedures.form.must_tick"
		}
		*out = append(*out, violation(ptr, "enum", key))
		return
	}
	if viol, broken := n.checkScalar(val, ptr); broken {
		*out = append(*out, viol)
	}
}

// checkScalar applies the rules after type and enum, first broken wins.
func (n *node) checkScalar(val any, ptr string) (Violation, bool) {
	switch x := val.(type) {
	case string:
		count := utf8.RuneCountInString(x)
		// Spaces around the text say nothing: ten spaces are no answer
		// to a question asking for at least ten characters.
		filled := utf8.RuneCountInString(strings.TrimSpace(x))
		switch {
		case !utf8.ValidString(x) || strings.IndexFunc(x, isForbiddenControl) >= 0:
			return violation(ptr, "characters", "procedures.form.control"), true
		case n.minLength >= 0 && filled < n.minLength:
			if filled == 0 {
				return violation(ptr, "minLength", "procedures.form.required"), true
			}
			return violation(ptr, "minLength", "procedures.form.min_length", n.minLength), true
		case n.maxLength >= 0 && count > n.maxLength:
			return violation(ptr, "maxLength", "procedures.form.max_length", n.maxLength), true
		case n.pattern != nil && !n.pattern.MatchString(x):
			if n.patternVI != "" {
				return Violation{Pointer: ptr, Rule: "pattern", MessageVI: n.patternVI, MessageEN: n.patternEN}, true
			}
			return violation(ptr, "pattern", "procedures.form.pattern"), true
		case n.format == FormatDate && !isDate(x):
			return violation(ptr, "format", "procedures.form.date"), true
		case n.format == FormatEmail && !isEmail(x):
			return violation(ptr, "format", "procedures.form.email"), true
		}
	case float64:
		switch {
		case n.minimum != nil && x < *n.minimum:
			return violation(ptr, "minimum", "procedures.form.minimum", n.minText), true
		case n.maximum != nil && x > *n.maximum:
			return violation(ptr, "maximum", "procedures.form.maximum", n.maxText), true
		}
	}
	return Violation{}, false
}

// isForbiddenControl reports whether r is a control character a form may
// not hold: any but tab and line breaks, which a text area legitimately
// sends. NUL in particular cannot be stored in PostgreSQL text.
func isForbiddenControl(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
}

func violation(ptr, rule, key string, args ...any) Violation {
	return Violation{Pointer: ptr, Rule: rule, MessageVI: texts.T(i18n.VI, key, args...), MessageEN: texts.T(i18n.EN, key, args...)}
}

// escapePointer escapes a property name for a JSON pointer (RFC 6901); an
// unknown field may be named anything.
func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// isEmail accepts a bare address only: "Name <a@b>" is refused, since the
// field holds where to write, and so are addresses without a dotted domain
// that no public mail server would route. The address must also be what
// JSON Schema's "email" format accepts (RFC 5321's limits: at most 254
// characters, a local part of at most 64, host name labels of 1 to 63
// letters, digits and inner hyphens), in ASCII, as a form's "email" is not
// "idn-email", and without quoted local parts, which nobody types.
func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || len(s) > 254 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:max(at, 0)], s[at+1:]
	return at > 0 && len(local) <= 64 && emailLocal.MatchString(local) &&
		strings.Contains(domain, ".") && emailDomain.MatchString(domain)
}

var (
	// emailLocal is RFC 5321's Dot-string of atext.
	emailLocal = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
	// emailDomain is a host name of labels joined by dots.
	emailDomain = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
)
