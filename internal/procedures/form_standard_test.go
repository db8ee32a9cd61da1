package procedures

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The forms' validator implements a subset of JSON Schema draft 2020-12.
// These tests hold it to the standard with a full implementation
// (santhosh-tekuri/jsonschema): every form schema is a valid 2020-12
// schema, and whatever the subset accepts the standard accepts too. The
// subset may refuse more (control characters, blank text, numbers beyond
// float64), never less. Formats are asserted, as the format-assertion
// vocabulary defines them: a form's "email" is an address the standard
// calls one.

// standardSchema compiles a form schema with the full validator, after
// checking it against the 2020-12 metaschema.
func standardSchema(t testing.TB, name string, s *Schema) *jsonschema.Schema {
	t.Helper()
	raw, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	meta := jsonschema.NewCompiler().MustCompile(Draft2020)
	if err := meta.Validate(doc); err != nil {
		t.Errorf("%s: the form schema is not a valid draft 2020-12 schema: %v", name, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	url := "chancery:///forms/" + name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	std, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: the standard validator cannot compile the form schema: %v", name, err)
	}
	return std
}

// formSchemas are the forms the tests hold to the standard: every
// catalogue procedure's, and the test form that uses every keyword.
func formSchemas(t *testing.T) map[string]*Schema {
	t.Helper()
	out := map[string]*Schema{"testForm": mustSchema(t, testForm)}
	for _, p := range builtinCatalogue(t).Procedures() {
		out[p.Code] = p.Form
	}
	return out
}

// agreement counts how the two validators judged a corpus.
type agreement struct{ both, neither, stricter int }

// judge validates doc with both validators and fails the test when the
// subset accepts what the standard refuses.
func judge(t testing.TB, name string, s *Schema, std *jsonschema.Schema, doc []byte, tally *agreement) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		// Not JSON: the subset reports it as such, and there is nothing
		// for the standard to judge.
		if s.Validate(doc) == nil {
			t.Errorf("%s: the subset accepted %q, which is not JSON", name, doc)
		}
		return
	}
	ours := s.Validate(doc) == nil
	stdErr := std.Validate(inst)
	switch {
	case ours && stdErr != nil:
		t.Errorf("%s: the subset accepts what draft 2020-12 refuses:\n  %s\n  %v", name, doc, stdErr)
	case ours:
		tally.both++
	case stdErr != nil:
		tally.neither++
	default:
		tally.stricter++
	}
}

func TestFormSchemasAreDraft2020AndTheSubsetIsNeverLooser(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 9)) // fixed: a failure must replay
	for name, s := range formSchemas(t) {
		std := standardSchema(t, name, s)
		base := example(s.Fields())
		var tally agreement
		for _, doc := range formCorpus(s.root, base, rng) {
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			judge(t, name, s, std, b, &tally)
		}
		// The corpus must exercise both answers, or the test proves nothing.
		if tally.both == 0 || tally.neither == 0 {
			t.Errorf("%s: corpus judged %+v; it needs documents both validators accept and both refuse", name, tally)
		}
		t.Logf("%s: both accept %d, both refuse %d, only the subset refuses %d", name, tally.both, tally.neither, tally.stricter)
	}
}

// formCorpus builds documents around base, a valid document: base itself,
// each field replaced by each of its candidate values, each field left
// out, an unknown field added, non-object documents, and random
// combinations of several replacements.
func formCorpus(root *node, base map[string]any, rng *rand.Rand) []any {
	type edit struct {
		path []string
		val  any // deleteField: leave it out
	}
	var edits []edit
	var walk func(n *node, path []string)
	walk = func(n *node, path []string) {
		for _, name := range n.order {
			p := append(slices.Clone(path), name)
			sub := n.props[name]
			edits = append(edits, edit{p, deleteField})
			for _, v := range candidates(sub) {
				edits = append(edits, edit{p, v})
			}
			if sub.typ == TypeObject {
				walk(sub, p)
			}
		}
		edits = append(edits, edit{append(slices.Clone(path), "unknown_field"), "x"}, edit{append(slices.Clone(path), "a/b~c"), 1})
	}
	walk(root, nil)

	apply := func(doc map[string]any, e edit) {
		m := doc
		for _, name := range e.path[:len(e.path)-1] {
			sub, ok := m[name].(map[string]any)
			if !ok {
				return // the group was replaced by another edit
			}
			m = sub
		}
		last := e.path[len(e.path)-1]
		if e.val == deleteField {
			delete(m, last)
		} else {
			m[last] = e.val
		}
	}
	docs := []any{base, nil, "form", json.Number("1"), []any{base}, map[string]any{}}
	for _, e := range edits {
		doc := deepCopy(base).(map[string]any)
		apply(doc, e)
		docs = append(docs, doc)
	}
	for range 300 {
		doc := deepCopy(base).(map[string]any)
		for range 1 + rng.IntN(4) {
			apply(doc, edits[rng.IntN(len(edits))])
		}
		docs = append(docs, doc)
	}
	return docs
}

// deleteField marks an edit that leaves a field out.
var deleteField = &struct{ name string }{"delete"}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// candidates are values at and around the edges of n's rules, of every
// JSON type, for the corpus.
func candidates(n *node) []any {
	out := []any{nil, true, false, json.Number("0"), json.Number("1.5"), "", " ", "x", []any{}, map[string]any{}, []any{"x"}}
	switch n.typ {
	case TypeObject:
		out = append(out, map[string]any{"unknown_field": "x"})
	case TypeBoolean:
		out = append(out, "true", "on", json.Number("1"))
	case TypeInteger, TypeNumber:
		out = append(out, "1", json.Number("1.0"), json.Number("-0"), json.Number("1e1"), json.Number("1E-1"),
			json.Number("1e308"), json.Number("-1e308"), json.Number("1e400"), json.Number("9007199254740993"),
			json.Number("1.0000000000000000001"), json.Number("0.30000000000000000001"))
		for _, bound := range []string{n.minText, n.maxText} {
			if bound == "" {
				continue
			}
			out = append(out, json.Number(bound), nudge(bound, -1), nudge(bound, 1), json.Number(bound+"0000000000000000001"),
				beside(bound, -1), beside(bound, 1))
			if !strings.ContainsAny(bound, ".eE") {
				out = append(out, json.Number(bound+".00000000000000000001"), json.Number("-"+bound+".00000000000000000001"))
			}
		}
	case TypeString:
		out = append(out, json.Number("1"), "ệ", "  x  ", "a\x00b", "a\tb", "line\r\nbreak", "\u202eevil", "\ufeff", "\U0001F600",
			strings.Repeat("x", 300), "2024-02-29", "2023-02-29", "2024-13-01", "2024-1-01", "2024-01-01T00:00:00Z",
			" 2024-01-01", "0000-01-01", "lan@example.com", "Lan <lan@example.com>", "lan@example", "lan..an@example.com",
			".lan@example.com", "lan.@example.com", `"lan an"@example.com`, `"lan\"an"@example.com`, "lan@-example.com",
			"lan@exa_mple.com", "lan@[127.0.0.1]", "lân@example.com", "lan@ví-dụ.vn", "lan@example..com", "lan@example.com.",
			strings.Repeat("l", 65)+"@example.com", "lan@"+strings.Repeat("a", 64)+".com",
			"lan@"+strings.Repeat(strings.Repeat("a", 60)+".", 5)+"com", "001234567890", "00123456789O", "FR", "fr",
			"C1234567", "+84 912 345 678", "+84\n912345678")
		for _, l := range []int{n.minLength, n.maxLength} {
			if l < 0 {
				continue
			}
			for _, k := range []int{l - 1, l, l + 1} {
				if k >= 0 {
					out = append(out, strings.Repeat("ệ", k), strings.Repeat("a", k), " "+strings.Repeat("a", max(k-2, 0))+" ")
				}
			}
		}
		for _, v := range n.enum {
			s := v.(string)
			out = append(out, s+" ", strings.ToUpper(s), s+"\x00")
		}
	}
	for _, v := range n.enum {
		if f, ok := v.(float64); ok {
			out = append(out, json.Number(strconv.FormatFloat(f, 'f', -1, 64)+".00000000000000000001"))
		}
		out = append(out, v)
	}
	return out
}

// nudge returns the decimal bound plus delta, as JSON.
func nudge(bound string, delta float64) json.Number {
	f, _ := strconv.ParseFloat(bound, 64)
	return json.Number(fmt.Sprint(f + delta))
}

// beside returns the bound plus or minus 10^-20, beyond float64's
// precision near it.
func beside(bound string, sign int64) json.Number {
	r, ok := new(big.Rat).SetString(bound)
	if !ok {
		panic("bad bound " + bound)
	}
	tiny := new(big.Rat).SetFrac(big.NewInt(sign), new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil))
	return json.Number(r.Add(r, tiny).FloatString(22))
}

// FuzzFormSubsetIsNeverLooserThanDraft2020 feeds arbitrary documents to
// both validators over the test form. Its seeds run with every go test;
// go test -fuzz explores further.
func FuzzFormSubsetIsNeverLooserThanDraft2020(f *testing.F) {
	for _, seed := range []string{validDoc, `{}`, `[]`, `null`, `{"copies": 1e400}`,
		`{"applicant": {"full_name": "Lan", "email": "lan@example.com"}, "copies": 100.00000000000000000001, "declaration": true}`,
		`{"applicant": {"full_name": "Lan", "email": "l..an@example.com"}, "copies": 2, "declaration": true}`,
		`{"applicant": {"full_name": "La\u0000n", "email": "lan@example.com"}, "copies": 2, "declaration": true}`} {
		f.Add([]byte(seed))
	}
	s := mustSchema(f, testForm)
	std := standardSchema(f, "testForm", s)
	f.Fuzz(func(t *testing.T, doc []byte) {
		judge(t, "testForm", s, std, doc, &agreement{})
	})
}
