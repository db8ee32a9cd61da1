package procedures

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"chancery/internal/errs"
)

// testForm uses every keyword the subset supports.
const testForm = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object", "additionalProperties": false,
  "x-order": ["applicant", "copies", "fee", "issue_date", "channel", "declaration"],
  "required": ["applicant", "copies", "declaration"],
  "properties": {
    "applicant": {
      "type": "object", "title": "Người nộp", "x-title-en": "Applicant", "additionalProperties": false,
      "x-order": ["full_name", "email", "id_number"], "required": ["full_name", "email"],
      "properties": {
        "full_name": {"type": "string", "title": "Họ và tên", "x-title-en": "Full name", "minLength": 2, "maxLength": 10},
        "email": {"type": "string", "title": "Thư điện tử", "x-title-en": "E-mail", "format": "email"},
        "id_number": {"type": "string", "title": "Số căn cước", "x-title-en": "ID number", "pattern": "^[0-9]{12}$",
          "x-pattern-message": "Gồm đúng 12 chữ số.", "x-pattern-message-en": "Exactly 12 digits.",
          "description": "12 chữ số", "x-description-en": "12 digits"}
      }
    },
    "copies": {"type": "integer", "title": "Số bản", "x-title-en": "Copies", "minimum": 1, "maximum": 100},
    "fee": {"type": "number", "title": "Lệ phí", "x-title-en": "Fee", "minimum": 0.5},
    "issue_date": {"type": "string", "title": "Ngày cấp", "x-title-en": "Date of issue", "format": "date", "pattern": "^20"},
    "channel": {"type": "string", "title": "Nhận kết quả", "x-title-en": "Result by", "enum": ["counter", "post"],
      "x-enum-titles": [{"vi": "Tại quầy", "en": "At the counter"}, {"vi": "Bưu điện", "en": "By post"}]},
    "declaration": {"type": "boolean", "title": "Cam đoan", "x-title-en": "Declaration", "enum": [true]}
  }
}`

func mustSchema(t testing.TB, src string) *Schema {
	t.Helper()
	s, err := CompileSchema([]byte(src))
	if err != nil {
		t.Fatalf("CompileSchema: %v", err)
	}
	return s
}

const validDoc = `{"applicant": {"full_name": "Lan", "email": "lan@example.com", "id_number": "001234567890"},
  "copies": 2, "fee": 1.5, "issue_date": "2024-02-29", "channel": "post", "declaration": true}`

func TestValidateAcceptsAValidForm(t *testing.T) {
	s := mustSchema(t, testForm)
	for _, doc := range []string{validDoc, `{"applicant": {"full_name": "Lan", "email": "lan@example.com"}, "copies": 1e1, "declaration": true}`} {
		if err := s.Validate([]byte(doc)); err != nil {
			t.Errorf("Validate(%s) = %v", doc, err)
		}
	}
}

// with returns validDoc with the value at the dotted path replaced, or
// removed when v is the remove marker.
func with(t *testing.T, path string, v any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(validDoc), &m); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(path, ".")
	target := m
	for _, p := range parts[:len(parts)-1] {
		target = target[p].(map[string]any)
	}
	if v == remove {
		delete(target, parts[len(parts)-1])
	} else {
		target[parts[len(parts)-1]] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var remove = &struct{}{}

func TestValidateNamesEachBrokenField(t *testing.T) {
	s := mustSchema(t, testForm)
	tests := []struct {
		name    string
		doc     string
		pointer string
		rule    string
		en      string
	}{
		{"a required field is missing", with(t, "copies", remove), "/copies", "required", "This field is required."},
		{"a required nested field is missing", with(t, "applicant.email", remove), "/applicant/email", "required", "This field is required."},
		{"an empty required text is reported as missing", with(t, "applicant.full_name", ""), "/applicant/full_name", "minLength", "This field is required."},
		{"an unknown field is refused", with(t, "admin", true), "/admin", "additionalProperties", "This field is not part of the form."},
		{"an unknown nested field is refused", with(t, "applicant.role", "x"), "/applicant/role", "additionalProperties", "not part of the form"},
		{"an unknown field's name is escaped in the pointer", with(t, "a/b~c", 1), "/a~1b~0c", "additionalProperties", "not part of the form"},
		{"text where a number belongs", with(t, "copies", "two"), "/copies", "type", "Must be a whole number."},
		{"a fraction where a whole number belongs", with(t, "copies", 1.5), "/copies", "type", "Must be a whole number."},
		{"a number where text belongs", with(t, "applicant.full_name", 7), "/applicant/full_name", "type", "Must be text."},
		{"null is not text", with(t, "applicant.full_name", nil), "/applicant/full_name", "type", "Must be text."},
		{"a value where a group belongs", with(t, "applicant", "Lan"), "/applicant", "type", "Must be a group of fields."},
		{"a choice not offered", with(t, "channel", "fax"), "/channel", "enum", "Choose one of the listed values."},
		{"a box that must be ticked", with(t, "declaration", false), "/declaration", "enum", "Tick this box to go on."},
		{"text too short", with(t, "applicant.full_name", "L"), "/applicant/full_name", "minLength", "at least 2 characters"},
		{"spaces alone are no answer", with(t, "applicant.full_name", "          "), "/applicant/full_name", "minLength", "This field is required."},
		{"spaces around the text do not count", with(t, "applicant.full_name", "  L  \n"), "/applicant/full_name", "minLength", "at least 2 characters"},
		{"text too long, counted in characters", with(t, "applicant.full_name", "Nguyễn Thị Lan"), "/applicant/full_name", "maxLength", "at most 10 characters"},
		{"a pattern with its own message", with(t, "applicant.id_number", "12345"), "/applicant/id_number", "pattern", "Exactly 12 digits."},
		{"a pattern with the generic message", with(t, "issue_date", "1999-01-01"), "/issue_date", "pattern", "not in the required format"},
		{"a date that does not exist", with(t, "issue_date", "2025-02-29"), "/issue_date", "format", "real date written YYYY-MM-DD"},
		{"a date written another way", with(t, "issue_date", "2025-2-3"), "/issue_date", "format", "real date written YYYY-MM-DD"},
		{"a control character in text", with(t, "applicant.full_name", "La\u0000n"), "/applicant/full_name", "characters", "control characters"},
		{"an e-mail address without a domain", with(t, "applicant.email", "lan@localhost"), "/applicant/email", "format", "valid e-mail address"},
		{"an e-mail address with a display name", with(t, "applicant.email", "Lan <lan@example.com>"), "/applicant/email", "format", "valid e-mail address"},
		// JSON Schema's "email" format (RFC 5321), which net/mail alone is looser than.
		{"an e-mail address with diacritics", with(t, "applicant.email", "lân@example.com"), "/applicant/email", "format", "valid e-mail address"},
		{"an e-mail host name label starting with a hyphen", with(t, "applicant.email", "lan@-example.com"), "/applicant/email", "format", "valid e-mail address"},
		{"an e-mail host name with an underscore", with(t, "applicant.email", "lan@exa_mple.com"), "/applicant/email", "format", "valid e-mail address"},
		{"an e-mail local part over 64 characters", with(t, "applicant.email", strings.Repeat("l", 65)+"@example.com"), "/applicant/email", "format", "valid e-mail address"},
		// Rounded to a float64 these would pass; JSON Schema compares exactly.
		{"a whole number with a fraction beyond float64's precision", with(t, "copies", json.Number("1.0000000000000000001")), "/copies", "type", "Must be a whole number."},
		{"a number a hair below a minimum", with(t, "fee", json.Number("0.49999999999999999999")), "/fee", "type", "Must be a number."},
		{"a number below the minimum", with(t, "copies", 0), "/copies", "minimum", "at least 1"},
		{"a number above the maximum", with(t, "copies", 101), "/copies", "maximum", "at most 100"},
		{"a fraction below a fractional minimum", with(t, "fee", 0.25), "/fee", "minimum", "at least 0.5"},
		{"not JSON at all", `{"copies": 2`, "", "json", "not a valid JSON object"},
		{"trailing data after the form", validDoc + ` {}`, "", "json", "not a valid JSON object"},
		{"a list where the form belongs", `[1, 2]`, "", "type", "Must be a group of fields."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate([]byte(tt.doc))
			var fe *FormError
			if !errors.As(err, &fe) || !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("Validate = %v, want a *FormError wrapping ErrInvalid", err)
			}
			v, ok := fe.For(tt.pointer)
			if !ok {
				t.Fatalf("no violation at %q; got %+v", tt.pointer, fe.Violations)
			}
			if len(fe.Violations) != 1 {
				t.Errorf("want exactly one violation, got %+v", fe.Violations)
			}
			if v.Rule != tt.rule || !strings.Contains(v.MessageEN, tt.en) {
				t.Errorf("violation %+v, want rule %s and a message with %q", v, tt.rule, tt.en)
			}
			if v.MessageVI == "" || v.MessageVI == v.MessageEN {
				t.Errorf("Vietnamese message %q is missing or untranslated", v.MessageVI)
			}
		})
	}
}

func TestValidateReportsEveryFieldInFormOrder(t *testing.T) {
	s := mustSchema(t, testForm)
	err := s.Validate([]byte(`{"applicant": {"full_name": "L", "email": "x"}, "channel": "fax", "zzz": 1, "aaa": 2}`))
	var fe *FormError
	if !errors.As(err, &fe) {
		t.Fatalf("Validate = %v", err)
	}
	var got []string
	for _, v := range fe.Violations {
		got = append(got, v.Pointer)
	}
	want := []string{"/applicant/full_name", "/applicant/email", "/copies", "/channel", "/declaration", "/aaa", "/zzz"}
	if !slices.Equal(got, want) {
		t.Errorf("violations at %v, want %v", got, want)
	}
	if !strings.Contains(err.Error(), "/copies: This field is required.") {
		t.Errorf("Error() = %q does not list the violations", err)
	}
}

func TestValidateValueAcceptsWhatJSONUnmarshalGives(t *testing.T) {
	s := mustSchema(t, testForm)
	var v any
	if err := json.Unmarshal([]byte(validDoc), &v); err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateValue(v); err != nil {
		t.Errorf("ValidateValue(float64 numbers) = %v", err)
	}
	m := v.(map[string]any)
	m["copies"] = 3 // an int, as Go code may build a form
	if err := s.ValidateValue(m); err != nil {
		t.Errorf("ValidateValue(int) = %v", err)
	}
}

func TestCompileSchemaRefusesWhatItCannotEnforce(t *testing.T) {
	field := func(def string) string {
		return `{"type": "object", "additionalProperties": false, "x-order": ["f"], "properties": {"f": ` + def + `}}`
	}
	tests := []struct {
		name, src, pointer string
	}{
		{"not JSON", `{`, ""},
		{"not an object", `[]`, ""},
		{"the root is not an object", `{"type": "string"}`, "/type"},
		{"another draft", `{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": false, "x-order": [], "properties": {}}`, "/$schema"},
		{"open objects", `{"type": "object", "x-order": [], "properties": {}}`, "/additionalProperties"},
		{"a property missing from x-order", `{"type": "object", "additionalProperties": false, "x-order": [], "properties": {"f": {"type": "string", "title": "a", "x-title-en": "a"}}}`, "/x-order"},
		{"x-order naming no property", `{"type": "object", "additionalProperties": false, "x-order": ["g"], "properties": {}}`, "/x-order"},
		{"required naming no property", `{"type": "object", "additionalProperties": false, "x-order": [], "required": ["g"], "properties": {}}`, "/required"},
		{"a property name unfit for HTML", `{"type": "object", "additionalProperties": false, "x-order": ["Full Name"], "properties": {"Full Name": {"type": "string"}}}`, "/properties/Full Name"},
		{"a keyword outside the subset", field(`{"type": "string", "title": "a", "x-title-en": "a", "oneOf": []}`), "/properties/f/oneOf"},
		{"a keyword of another type", field(`{"type": "string", "title": "a", "x-title-en": "a", "minimum": 1}`), "/properties/f/minimum"},
		{"a list of types", field(`{"type": ["string", "null"], "title": "a", "x-title-en": "a"}`), "/properties/f/type"},
		{"an array field", field(`{"type": "array", "title": "a", "x-title-en": "a"}`), "/properties/f/type"},
		{"a field without its Vietnamese label", field(`{"type": "string", "x-title-en": "a"}`), "/properties/f/title"},
		{"a field without its English label", field(`{"type": "string", "title": "a"}`), "/properties/f/x-title-en"},
		{"a bad pattern", field(`{"type": "string", "title": "a", "x-title-en": "a", "pattern": "(?<=x)"}`), "/properties/f/pattern"},
		{"a pattern message in one language", field(`{"type": "string", "title": "a", "x-title-en": "a", "pattern": "x", "x-pattern-message": "sai"}`), "/properties/f/x-pattern-message"},
		{"an unknown format", field(`{"type": "string", "title": "a", "x-title-en": "a", "format": "uri"}`), "/properties/f/format"},
		{"a negative length", field(`{"type": "string", "title": "a", "x-title-en": "a", "minLength": -1}`), "/properties/f/minLength"},
		{"lengths the wrong way round", field(`{"type": "string", "title": "a", "x-title-en": "a", "minLength": 5, "maxLength": 2}`), "/properties/f/maxLength"},
		{"bounds the wrong way round", field(`{"type": "number", "title": "a", "x-title-en": "a", "minimum": 5, "maximum": 2}`), "/properties/f/maximum"},
		{"a fractional bound on an integer", field(`{"type": "integer", "title": "a", "x-title-en": "a", "minimum": 0.5}`), "/properties/f/minimum"},
		{"an enum value of the wrong type", field(`{"type": "string", "title": "a", "x-title-en": "a", "enum": ["a", 1], "x-enum-titles": [{"vi": "a", "en": "a"}, {"vi": "b", "en": "b"}]}`), "/properties/f/enum/1"},
		{"an enum without labels", field(`{"type": "string", "title": "a", "x-title-en": "a", "enum": ["a"]}`), "/properties/f/x-enum-titles"},
		{"enum labels that do not match", field(`{"type": "string", "title": "a", "x-title-en": "a", "enum": ["a", "b"], "x-enum-titles": [{"vi": "a", "en": "a"}]}`), "/properties/f/x-enum-titles"},
		{"labels without an enum", field(`{"type": "string", "title": "a", "x-title-en": "a", "x-enum-titles": []}`), "/properties/f/x-enum-titles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileSchema([]byte(tt.src))
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("CompileSchema = %v, want ErrInvalid", err)
			}
			if tt.pointer != "" && !strings.HasPrefix(err.Error(), tt.pointer+":") && !strings.Contains(err.Error(), "\n"+tt.pointer+":") {
				t.Errorf("error %q does not name %q", err, tt.pointer)
			}
		})
	}
}

func TestCompileSchemaReportsEveryError(t *testing.T) {
	_, err := CompileSchema([]byte(`{"type": "object", "x-order": ["a", "b"], "properties": {
	  "a": {"type": "string", "title": "a", "x-title-en": "a", "format": "uri"},
	  "b": {"type": "integer", "title": "b", "x-title-en": "b", "maxLength": 3}}}`))
	for _, want := range []string{"/additionalProperties", "/properties/a/format", "/properties/b/maxLength"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not report %s", err, want)
		}
	}
}

func TestSchemaMarshalsAsWritten(t *testing.T) {
	s := mustSchema(t, testForm)
	b, err := json.Marshal(s)
	if err != nil || !jsonEqual(b, []byte(testForm)) {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back Schema
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if err := back.Validate([]byte(validDoc)); err != nil {
		t.Errorf("the round-tripped schema refuses a valid form: %v", err)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && string(mustJSON(x)) == string(mustJSON(y))
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestFieldsListTheFormInOrderWithLabels(t *testing.T) {
	fields := mustSchema(t, testForm).Fields()
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
	}
	if want := []string{"applicant", "copies", "fee", "issue_date", "channel", "declaration"}; !slices.Equal(names, want) {
		t.Fatalf("field names %v, want %v", names, want)
	}
	applicant := fields[0]
	if applicant.Type != TypeObject || applicant.TitleVI != "Người nộp" || applicant.TitleEN != "Applicant" || !applicant.Required || len(applicant.Fields) != 3 {
		t.Errorf("applicant group = %+v", applicant)
	}
	id := applicant.Fields[2]
	if id.Name != "applicant.id_number" || id.Pointer != "/applicant/id_number" || id.Required || id.Pattern != "^[0-9]{12}$" || id.HintEN != "12 digits" {
		t.Errorf("nested field = %+v", id)
	}
	if name := applicant.Fields[0]; name.MinLength != 2 || name.MaxLength != 10 || !name.Required {
		t.Errorf("full_name = %+v", name)
	}
	if copies := fields[1]; copies.Type != TypeInteger || copies.Minimum != "1" || copies.Maximum != "100" {
		t.Errorf("copies = %+v", copies)
	}
	if date := fields[3]; date.Format != FormatDate || date.Required {
		t.Errorf("issue_date = %+v", date)
	}
	want := []Option{{"counter", "Tại quầy", "At the counter"}, {"post", "Bưu điện", "By post"}}
	if got := fields[4].Options; !slices.Equal(got, want) {
		t.Errorf("channel options %+v, want %+v", got, want)
	}
}

func TestFromValuesTypesAnHTMLForm(t *testing.T) {
	s := mustSchema(t, testForm)
	values := map[string][]string{
		"applicant.full_name": {"  Lan "},
		"applicant.email":     {"lan@example.com"},
		"applicant.id_number": {""},
		"copies":              {"3", "9"},
		"fee":                 {"2.5"},
		"channel":             {"post"},
		"declaration":         {"on"},
		"csrf_token":          {"abc"},
	}
	got := s.FromValues(values)
	if err := s.ValidateValue(got); err != nil {
		t.Fatalf("ValidateValue(FromValues) = %v (document %v)", err, got)
	}
	applicant := got["applicant"].(map[string]any)
	if applicant["full_name"] != "Lan" {
		t.Errorf("full_name = %q, want it trimmed", applicant["full_name"])
	}
	if _, ok := applicant["id_number"]; ok {
		t.Error("an empty input was kept; it must be left out")
	}
	if got["copies"] != json.Number("3") || got["declaration"] != true {
		t.Errorf("copies %v, declaration %v: want the first value typed", got["copies"], got["declaration"])
	}
	if _, ok := got["csrf_token"]; ok {
		t.Error("a name outside the schema was copied into the form")
	}
}

func TestFromValuesLetsValidationExplainBadInput(t *testing.T) {
	s := mustSchema(t, testForm)
	tests := []struct {
		name, field, value, pointer, rule string
	}{
		{"a number that is not one", "copies", "ba", "/copies", "type"},
		{"a number in another notation", "copies", "0x10", "/copies", "type"},
		// An empty group is reported by its required members (each beside
		// its field on the page), not as a whole.
		{"a required group left empty", "applicant.full_name", "", "/applicant/full_name", "required"},
		{"an unticked box", "declaration", "", "/declaration", "required"},
		{"a box sent with a strange value", "declaration", "yes", "/declaration", "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := map[string][]string{"applicant.full_name": {"Lan"}, "applicant.email": {"lan@example.com"}, "copies": {"1"}, "declaration": {"on"}}
			if tt.field == "applicant.full_name" {
				delete(values, "applicant.email")
			}
			values[tt.field] = []string{tt.value}
			var fe *FormError
			if err := s.ValidateValue(s.FromValues(values)); !errors.As(err, &fe) {
				t.Fatalf("ValidateValue = %v, want a *FormError", err)
			}
			if v, ok := fe.For(tt.pointer); !ok || v.Rule != tt.rule {
				t.Errorf("violations %+v, want %s at %s", fe.Violations, tt.rule, tt.pointer)
			}
		})
	}
}

// FuzzValidateForm feeds arbitrary documents to every shipped form. The
// validator must never panic, must give the same verdict twice, must name
// only pointers into the document, and must accept what it accepted once
// more after a re-encoding.
func FuzzValidateForm(f *testing.F) {
	cat, err := BuiltinCatalogue()
	if err != nil {
		f.Fatal(err)
	}
	schemas := []*Schema{mustSchema(f, testForm)}
	for _, p := range cat.Procedures() {
		schemas = append(schemas, p.Form)
	}
	for _, seed := range []string{validDoc, `{}`, `null`, `[]`, `{"applicant": {"full_name": 1}}`, `{"copies": 1e400}`,
		`{"a/b": {"c~d": 1}}`, `{"declaration": true, "declaration": false}`, "\"\xff\"", `{"applicant":{"email":"a@b.c"}}`} {
		for i := range schemas {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, doc []byte) {
		s := schemas[int(which)%len(schemas)]
		err := s.Validate(doc)
		if again := s.Validate(doc); (err == nil) != (again == nil) || (err != nil && err.Error() != again.Error()) {
			t.Fatalf("two verdicts on one document: %v / %v", err, again)
		}
		if err == nil {
			var v any
			if json.Unmarshal(doc, &v) != nil {
				t.Fatalf("accepted %q, which is not JSON", doc)
			}
			b, _ := json.Marshal(v)
			if err := s.Validate(b); err != nil {
				t.Fatalf("accepted %q but not its re-encoding %s: %v", doc, b, err)
			}
			return
		}
		var fe *FormError
		if !errors.As(err, &fe) || len(fe.Violations) == 0 {
			t.Fatalf("Validate = %v, want a *FormError with violations", err)
		}
		for _, v := range fe.Violations {
			if v.Pointer != "" && !strings.HasPrefix(v.Pointer, "/") || v.MessageVI == "" || v.MessageEN == "" {
				t.Fatalf("malformed violation %+v", v)
			}
		}
	})
}

// FuzzCompileSchema: administrators write schemas, so the compiler meets
// arbitrary input. It must never panic, and a schema it accepts must
// validate any document without panicking and list its fields.
func FuzzCompileSchema(f *testing.F) {
	f.Add([]byte(testForm), []byte(validDoc))
	f.Add([]byte(`{"type": "object", "additionalProperties": false, "x-order": [], "properties": {}}`), []byte(`{}`))
	f.Add([]byte(`{"type": "object", "properties": {"a": {"type": "string", "pattern": "(", "enum": [1]}}}`), []byte(`{"a": 1}`))
	f.Fuzz(func(t *testing.T, src, doc []byte) {
		s, err := CompileSchema(src)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("CompileSchema error %v does not wrap ErrInvalid", err)
			}
			return
		}
		_ = s.Validate(doc)
		_ = s.Fields()
	})
}

// TestAnAbsentGroupIsReportedByItsMembers pins where an empty form's
// messages go: a required group left out entirely (every input of it
// empty) is reported by each required member at its own pointer, so the
// page shows each message beside its field, not one above the group.
func TestAnAbsentGroupIsReportedByItsMembers(t *testing.T) {
	p, err := builtinCatalogue(t).Procedure("1.900001")
	if err != nil {
		t.Fatal(err)
	}
	var fe *FormError
	if err := p.Form.ValidateValue(map[string]any{}); !errors.As(err, &fe) {
		t.Fatalf("an empty form = %v, want a *FormError", err)
	}
	got := map[string]bool{}
	for _, v := range fe.Violations {
		got[v.Pointer] = true
	}
	for _, want := range []string{"/applicant/full_name", "/applicant/id_type", "/applicant/id_number", "/applicant/email", "/document_name"} {
		if !got[want] {
			t.Errorf("no violation at %s; got %v", want, got)
		}
	}
	for _, unwanted := range []string{"/applicant", "/applicant/phone"} {
		if got[unwanted] {
			t.Errorf("a violation at %s", unwanted)
		}
	}
}
