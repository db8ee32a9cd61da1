package procedures

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"chancery/internal/errs"
)

// Draft2020 is the only $schema a form may declare: forms are JSON Schema
// draft 2020-12, restricted to the keywords listed on Schema.
const Draft2020 = "https://json-schema.org/draft/2020-12/schema"

// The value types a form field may have, as JSON Schema names them.
const (
	TypeObject  = "object"
	TypeString  = "string"
	TypeInteger = "integer"
	TypeNumber  = "number"
	TypeBoolean = "boolean"
)

// The string formats a form field may declare.
const (
	FormatDate  = "date"  // an RFC 3339 full-date, YYYY-MM-DD
	FormatEmail = "email" // a bare address, local@domain, without a display name
)

// Schema is a procedure's application form: a JSON Schema (draft 2020-12)
// restricted to the subset Chancery implements and can render as a page.
//
// Every node has a "type" (object, string, integer, number or boolean; one
// type, not a list). Object nodes have "properties", "required", the
// ordered property names in "x-order" (a page needs an order and a JSON
// object has none) and "additionalProperties": false (Chancery refuses
// unknown fields everywhere). Strings may have "enum", "pattern" (Go RE2
// syntax, unanchored as in JSON Schema: anchor it with ^ and $),
// "minLength", "maxLength" (in characters) and "format" (date or email);
// integers and numbers "enum", "minimum" and "maximum"; booleans "enum"
// ([true] for a box that must be ticked). Every property carries its label
// in "title" (Vietnamese) and "x-title-en" (English), an optional hint in
// "description" and "x-description-en", and, for an enum, labels in
// "x-enum-titles" ([{"vi": …, "en": …}, …] beside the values); a pattern
// may carry the message shown when it fails in "x-pattern-message" and
// "x-pattern-message-en". Property names are lower-case ASCII, digits and
// underscores, so they serve as HTML names and ids. Any other keyword is
// refused rather than ignored: a schema the validator silently skipped
// would accept forms its author meant to refuse.
//
// A Schema is made by CompileSchema or by decoding JSON into it; it is
// immutable and safe for concurrent use.
type Schema struct {
	raw  json.RawMessage
	root *node
}

// node is one compiled schema node.
type node struct {
	typ                  string
	titleVI, titleEN     string
	hintVI, hintEN       string
	props                map[string]*node
	order                []string
	required             map[string]bool
	enum                 []any    // string, float64 or bool, matching typ
	enumText             []string // the enum values as a form submits them
	enumTitles           []enumTitle
	pattern              *regexp.Regexp
	patternText          string
	patternVI, patternEN string // the message when pattern fails; empty: the generic one
	format               string
	minLength, maxLength int      // in characters; -1: no bound
	minimum, maximum     *float64 // inclusive; nil: no bound
	minText, maxText     string   // the bounds as written, for messages
}

type enumTitle struct {
	VI string `json:"vi"`
	EN string `json:"en"`
}

// CompileSchema compiles a form schema. It returns an error wrapping
// errs.ErrInvalid naming every broken keyword by its JSON pointer in the
// schema (for example "/properties/email/format: …").
func CompileSchema(raw []byte) (*Schema, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: the form schema is not valid JSON: %v", errs.ErrInvalid, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the form schema must be a JSON object", errs.ErrInvalid)
	}
	c := compiler{}
	root := c.node(m, "", true)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	if root.typ != TypeObject {
		return nil, errs.Invalid("/type", `a form is an object: its root "type" must be "object"`)
	}
	return &Schema{raw: bytes.Clone(raw), root: root}, nil
}

// UnmarshalJSON compiles the schema, as CompileSchema does.
func (s *Schema) UnmarshalJSON(b []byte) error {
	c, err := CompileSchema(b)
	if err != nil {
		return err
	}
	*s = *c
	return nil
}

// MarshalJSON returns the schema as it was written.
func (s *Schema) MarshalJSON() ([]byte, error) {
	if s == nil || s.raw == nil {
		return []byte("null"), nil
	}
	return s.raw, nil
}

// compiled reports whether s came from CompileSchema, not a zero value.
func (s *Schema) compiled() bool { return s != nil && s.root != nil }

// decodeJSON decodes exactly one JSON value, keeping numbers exact.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

// propertyName is the shape of a property name: usable as an HTML name and
// id, and in a JSON pointer without escaping.
var propertyName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// keywords lists the keywords each type allows, beyond those every node
// allows.
var keywords = map[string][]string{
	TypeObject:  {"properties", "required", "additionalProperties", "x-order"},
	TypeString:  {"enum", "x-enum-titles", "pattern", "x-pattern-message", "x-pattern-message-en", "minLength", "maxLength", "format"},
	TypeInteger: {"enum", "x-enum-titles", "minimum", "maximum"},
	TypeNumber:  {"enum", "x-enum-titles", "minimum", "maximum"},
	TypeBoolean: {"enum"},
}

var common = []string{"type", "title", "x-title-en", "description", "x-description-en", "$comment"}

// compiler collects every error in a schema rather than stopping at the
// first, so an administrator fixes a file in one pass.
type compiler struct{ errs []error }

func (c *compiler) fail(ptr, format string, args ...any) {
	c.errs = append(c.errs, errs.Invalid(ptr, fmt.Sprintf(format, args...)))
}

func (c *compiler) node(m map[string]any, ptr string, root bool) *node {
	n := &node{minLength: -1, maxLength: -1}
	typ, stated := c.str(m, "type", ptr, true)
	allowed, known := keywords[typ]
	if stated && !known {
		c.fail(ptr+"/type", "must be one of object, string, integer, number or boolean (one type, not a list)")
	}
	n.typ = typ
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		switch {
		case slices.Contains(common, k), slices.Contains(allowed, k):
		case root && k == "$schema":
			if v != Draft2020 {
				c.fail(ptr+"/$schema", "must be %q or left out", Draft2020)
			}
		case root && k == "$id":
			if _, ok := v.(string); !ok {
				c.fail(ptr+"/$id", "must be a string")
			}
		case known:
			c.fail(ptr+"/"+k, "is not a keyword Chancery supports on a %s field; see the Schema documentation for the subset", n.typ)
		}
	}
	n.titleVI, _ = c.str(m, "title", ptr, !root)
	n.titleEN, _ = c.str(m, "x-title-en", ptr, !root)
	n.hintVI, _ = c.str(m, "description", ptr, false)
	n.hintEN, _ = c.str(m, "x-description-en", ptr, false)
	c.str(m, "$comment", ptr, false)
	if !known {
		return n
	}
	switch n.typ {
	case TypeObject:
		c.object(n, m, ptr)
	case TypeString:
		c.stringRules(n, m, ptr)
	case TypeInteger, TypeNumber:
		n.minimum, n.minText = c.number(m, "minimum", ptr, n.typ)
		n.maximum, n.maxText = c.number(m, "maximum", ptr, n.typ)
		if n.minimum != nil && n.maximum != nil && *n.minimum > *n.maximum {
			c.fail(ptr+"/maximum", "must not be less than minimum")
		}
	}
	if _, ok := m["enum"]; ok {
		c.enum(n, m, ptr)
	} else if _, ok := m["x-enum-titles"]; ok {
		c.fail(ptr+"/x-enum-titles", "labels values of an enum, and this field has none")
	}
	return n
}

func (c *compiler) object(n *node, m map[string]any, ptr string) {
	if m["additionalProperties"] != false {
		c.fail(ptr+"/additionalProperties", "must be false: forms refuse fields they do not define")
	}
	props, ok := m["properties"].(map[string]any)
	if !ok {
		c.fail(ptr+"/properties", "must be an object of the form's fields")
		return
	}
	n.props = map[string]*node{}
	for _, name := range slices.Sorted(maps.Keys(props)) {
		v := props[name]
		p := ptr + "/properties/" + name
		if !propertyName.MatchString(name) {
			c.fail(p, "a field name is a lower-case ASCII letter, then letters, digits or underscores (at most 64)")
			continue
		}
		sub, ok := v.(map[string]any)
		if !ok {
			c.fail(p, "must be a schema object")
			continue
		}
		n.props[name] = c.node(sub, p, false)
	}
	n.order = c.names(m, "x-order", ptr)
	for _, name := range n.order {
		if _, ok := props[name]; !ok {
			c.fail(ptr+"/x-order", "names %q, which is not in properties", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(props)) {
		if !slices.Contains(n.order, name) {
			c.fail(ptr+"/x-order", "must list every property; %q is missing", name)
		}
	}
	n.required = map[string]bool{}
	if _, ok := m["required"]; ok {
		for _, name := range c.names(m, "required", ptr) {
			if _, ok := props[name]; !ok {
				c.fail(ptr+"/required", "names %q, which is not in properties", name)
			}
			n.required[name] = true
		}
	}
}

// names reads a list of distinct strings.
func (c *compiler) names(m map[string]any, key, ptr string) []string {
	list, ok := m[key].([]any)
	if !ok {
		c.fail(ptr+"/"+key, "must be an array of property names")
		return nil
	}
	var out []string
	for _, v := range list {
		s, ok := v.(string)
		if !ok || slices.Contains(out, s) {
			c.fail(ptr+"/"+key, "must hold distinct property names; %v is not one", v)
			continue
		}
		out = append(out, s)
	}
	return out
}

func (c *compiler) stringRules(n *node, m map[string]any, ptr string) {
	n.minLength = c.length(m, "minLength", ptr)
	n.maxLength = c.length(m, "maxLength", ptr)
	if n.minLength >= 0 && n.maxLength >= 0 && n.minLength > n.maxLength {
		c.fail(ptr+"/maxLength", "must not be less than minLength")
	}
	if src, ok := c.str(m, "pattern", ptr, false); ok {
		re, err := regexp.Compile(src)
		if err != nil {
			c.fail(ptr+"/pattern", "is not a valid regular expression (Go RE2 syntax): %v", err)
		}
		n.pattern, n.patternText = re, src
	}
	n.patternVI, _ = c.str(m, "x-pattern-message", ptr, false)
	n.patternEN, _ = c.str(m, "x-pattern-message-en", ptr, false)
	if (n.patternVI != "" || n.patternEN != "") && (n.pattern == nil || n.patternVI == "" || n.patternEN == "") {
		c.fail(ptr+"/x-pattern-message", "needs a pattern, and both x-pattern-message and x-pattern-message-en")
	}
	if f, ok := c.str(m, "format", ptr, false); ok {
		if f != FormatDate && f != FormatEmail {
			c.fail(ptr+"/format", "must be %q or %q", FormatDate, FormatEmail)
		}
		n.format = f
	}
}

// length reads a non-negative integer keyword; -1 when it is absent.
func (c *compiler) length(m map[string]any, key, ptr string) int {
	v, ok := m[key]
	if !ok {
		return -1
	}
	num, isNum := v.(json.Number)
	i, err := strconv.Atoi(string(num))
	if !isNum || err != nil || i < 0 {
		c.fail(ptr+"/"+key, "must be a non-negative whole number")
		return -1
	}
	return i
}

// number reads a numeric bound, and its text as written.
func (c *compiler) number(m map[string]any, key, ptr, typ string) (*float64, string) {
	v, ok := m[key]
	if !ok {
		return nil, ""
	}
	num, isNum := v.(json.Number)
	f, ok := numberValue(num)
	if !isNum || !ok {
		c.fail(ptr+"/"+key, "must be a finite number, with no more digits than a 64-bit float holds exactly")
		return nil, ""
	}
	if typ == TypeInteger && f != math.Trunc(f) {
		c.fail(ptr+"/"+key, "must be a whole number on an integer field")
	}
	return &f, num.String()
}

func (c *compiler) enum(n *node, m map[string]any, ptr string) {
	list, ok := m["enum"].([]any)
	if !ok || len(list) == 0 {
		c.fail(ptr+"/enum", "must be a non-empty array of values")
		return
	}
	for i, v := range list {
		val, ok := scalar(n.typ, v)
		if !ok || slices.Contains(n.enum, val) {
			c.fail(fmt.Sprintf("%s/enum/%d", ptr, i), "must be a distinct %s value", n.typ)
			continue
		}
		n.enum = append(n.enum, val)
		n.enumText = append(n.enumText, formString(v))
	}
	raw, ok := m["x-enum-titles"]
	if !ok {
		if n.typ != TypeBoolean {
			c.fail(ptr+"/x-enum-titles", "must label each enum value in both languages, so a page can show the choices")
		}
		return
	}
	titles, ok := raw.([]any)
	if !ok || len(titles) != len(list) {
		c.fail(ptr+"/x-enum-titles", "must have one {\"vi\": …, \"en\": …} label per enum value")
		return
	}
	for i, t := range titles {
		tm, _ := t.(map[string]any)
		vi, _ := tm["vi"].(string)
		en, _ := tm["en"].(string)
		if len(tm) != 2 || strings.TrimSpace(vi) == "" || strings.TrimSpace(en) == "" {
			c.fail(fmt.Sprintf("%s/x-enum-titles/%d", ptr, i), "must be {\"vi\": …, \"en\": …}, both non-empty")
			continue
		}
		n.enumTitles = append(n.enumTitles, enumTitle{vi, en})
	}
}

// str reads a string keyword; required ones must be non-blank.
func (c *compiler) str(m map[string]any, key, ptr string, required bool) (string, bool) {
	v, ok := m[key]
	if !ok {
		if required {
			c.fail(ptr+"/"+key, "is required")
		}
		return "", false
	}
	s, isStr := v.(string)
	if !isStr || (required && strings.TrimSpace(s) == "") {
		c.fail(ptr+"/"+key, "must be a non-empty string")
		return "", false
	}
	return s, true
}

// numberValue converts a JSON number to a finite float64 that is the
// number as written. A number with more precision than a float64 holds
// (1.0000000000000000001) is refused: rounded, it would pass a maximum or
// an integer type that JSON Schema, comparing exactly, says it breaks.
func numberValue(n json.Number) (float64, bool) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	written, ok1 := decimalDigits(string(n))
	held, ok2 := decimalDigits(strconv.FormatFloat(f, 'e', -1, 64))
	return f, ok1 && ok2 && written == held
}

// decimalDigits writes a decimal number in one form per value — sign,
// significant digits and the power of ten after them — so two spellings of
// one number ("1e1", "10.0") compare equal as strings.
func decimalDigits(s string) (string, bool) {
	sign := ""
	if rest, neg := strings.CutPrefix(s, "-"); neg {
		sign, s = "-", rest
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	exp := 0
	if hasExp {
		e, err := strconv.Atoi(expText)
		if err != nil || e > 1e6 || e < -1e6 {
			return "", false
		}
		exp = e
	}
	whole, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(whole+frac, "0")
	exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	if trimmed == "" {
		return "0", true // -0 is 0
	}
	return sign + trimmed + "e" + strconv.Itoa(exp), true
}

// scalar converts a decoded JSON value to the comparable form a node of typ
// holds (string, float64 or bool), and reports whether it is of that type.
func scalar(typ string, v any) (any, bool) {
	switch typ {
	case TypeString:
		s, ok := v.(string)
		return s, ok
	case TypeBoolean:
		b, ok := v.(bool)
		return b, ok
	case TypeInteger, TypeNumber:
		f, ok := toFloat(v)
		if !ok || (typ == TypeInteger && f != math.Trunc(f)) {
			return nil, false
		}
		return f, true
	}
	return nil, false
}

// toFloat accepts the number types a decoded document may hold: json.Number
// from Validate, float64 from a plain json.Unmarshal, and the integers a
// caller may build by hand.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		return numberValue(n)
	case float64:
		return n, !math.IsInf(n, 0) && !math.IsNaN(n)
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// formString renders an enum value as an HTML form submits it.
func formString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}
