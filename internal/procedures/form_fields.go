package procedures

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// FormField is a field of a form as a page renders it, in the form's
// order.
type FormField struct {
	// Name is the HTML input name: the property names from the root joined
	// by dots, e.g. "applicant.email". FromValues reads the same names.
	Name string
	// Pointer is the field's JSON pointer, as Violation.Pointer names it.
	Pointer          string
	TitleVI, TitleEN string
	HintVI, HintEN   string // may be empty
	// Type is object, string, integer, number or boolean. An object is a
	// group of fields (a fieldset), its members in Fields.
	Type     string
	Format   string // date, email or empty
	Required bool
	// Options are the choices of an enum field, in order; nil otherwise.
	Options []Option
	// MinLength and MaxLength bound a string in characters; 0 is no bound.
	MinLength, MaxLength int
	// Minimum and Maximum bound a number as written in the schema; empty
	// is no bound.
	Minimum, Maximum string
	// Pattern is the regular expression a string must match; empty is
	// none. It is RE2 syntax, which may differ from an HTML pattern
	// attribute's, so pages should not copy it there blindly.
	Pattern string
	Fields  []FormField
}

// Option is one choice of an enum field.
type Option struct {
	Value            string // as the form submits it
	TitleVI, TitleEN string
}

// at returns the node at a JSON pointer into a form document, or nil.
func (s *Schema) at(ptr string) *node {
	if !s.compiled() || !strings.HasPrefix(ptr, "/") {
		return nil
	}
	n := s.root
	for _, part := range strings.Split(ptr[1:], "/") {
		if n.typ != TypeObject {
			return nil
		}
		if n = n.props[part]; n == nil {
			return nil
		}
	}
	return n
}

// isText reports whether ptr names a string field of the form.
func (s *Schema) isText(ptr string) bool {
	n := s.at(ptr)
	return n != nil && n.typ == TypeString
}

// hasChoice reports whether ptr names an enum field of the form offering
// value.
func (s *Schema) hasChoice(ptr, value string) bool {
	n := s.at(ptr)
	return n != nil && slices.Contains(n.enumText, value)
}

// Fields returns the form's fields in order, groups holding their members.
func (s *Schema) Fields() []FormField { return s.root.fields("", "") }

func (n *node) fields(name, ptr string) []FormField {
	out := make([]FormField, 0, len(n.order))
	for _, prop := range n.order {
		sub := n.props[prop]
		f := FormField{
			Name: strings.TrimPrefix(name+"."+prop, "."), Pointer: ptr + "/" + prop,
			TitleVI: sub.titleVI, TitleEN: sub.titleEN, HintVI: sub.hintVI, HintEN: sub.hintEN,
			Type: sub.typ, Format: sub.format, Required: n.required[prop],
			MinLength: max(sub.minLength, 0), MaxLength: max(sub.maxLength, 0),
			Minimum: sub.minText, Maximum: sub.maxText, Pattern: sub.patternText,
		}
		for i, v := range sub.enumText {
			o := Option{Value: v, TitleVI: v, TitleEN: v}
			if i < len(sub.enumTitles) {
				o.TitleVI, o.TitleEN = sub.enumTitles[i].VI, sub.enumTitles[i].EN
			}
			f.Options = append(f.Options, o)
		}
		if sub.typ == TypeObject {
			f.Fields = sub.fields(f.Name, f.Pointer)
		}
		out = append(out, f)
	}
	return out
}

// FromValues builds a form document from a submitted HTML form, whose
// values are all strings, typed by the schema so that ValidateValue can
// judge it: text is trimmed, and an empty input is left out (so a
// required one is reported missing, not "too short"); a number that does
// not parse is kept as text, so it is reported as not a number; a
// checkbox is true when sent as "on" or "true" and false as "false". A
// group is present when any of its members is. Names the schema does not
// define (csrf_token, buttons) are ignored, and only the first value of a
// repeated name counts.
func (s *Schema) FromValues(values map[string][]string) map[string]any {
	return s.root.fromValues(values, "")
}

func (n *node) fromValues(values map[string][]string, prefix string) map[string]any {
	out := map[string]any{}
	for _, prop := range n.order {
		sub, name := n.props[prop], prefix+prop
		if sub.typ == TypeObject {
			if m := sub.fromValues(values, name+"."); len(m) > 0 {
				out[prop] = m
			}
			continue
		}
		vs := values[name]
		if len(vs) == 0 {
			continue
		}
		text := strings.TrimSpace(vs[0])
		if text == "" {
			continue
		}
		out[prop] = typed(sub.typ, text)
	}
	return out
}

// typed converts a form input's text to the JSON value of typ, or returns
// the text unchanged when it does not convert.
func typed(typ, text string) any {
	switch typ {
	case TypeInteger, TypeNumber:
		if n := json.Number(text); isNumber(text) {
			return n
		}
	case TypeBoolean:
		switch text {
		case "on", "true":
			return true
		case "false":
			return false
		}
	}
	return text
}

// jsonNumber is the grammar of a JSON number; strconv accepts more
// ("0x1p3", "Inf", "1_000") than a form's number may be.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

func isNumber(s string) bool {
	if !jsonNumber.MatchString(s) {
		return false
	}
	_, ok := numberValue(json.Number(s))
	return ok
}
