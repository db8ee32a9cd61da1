package procedures

import (
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"chancery/internal/errs"
)

func builtinCatalogue(t testing.TB) *Catalogue {
	t.Helper()
	c, err := BuiltinCatalogue()
	if err != nil {
		t.Fatalf("BuiltinCatalogue: %v", err)
	}
	return c
}

func TestBuiltinCatalogueCoversTheMinistrysProcedures(t *testing.T) {
	c := builtinCatalogue(t)
	if n := len(c.Procedures()); n < 12 {
		t.Errorf("%d procedures; the Ministry's catalogue ships at least 12", n)
	}
	// Each kind of procedure the system must offer, found the way a
	// citizen would look for it, at home (h) or at missions (m).
	tests := []struct {
		query  string
		home   bool
		result ResultType
	}{
		{"hợp pháp hóa lãnh sự", true, ResultLegalizationStamp},
		{"hợp pháp hóa lãnh sự", false, ResultLegalizationStamp},
		{"chứng nhận lãnh sự", true, ResultCertificationStamp},
		{"chứng nhận lãnh sự", false, ResultCertificationStamp},
		{"cấp hộ chiếu ngoại giao", true, ResultPassport},
		{"gia hạn hộ chiếu ngoại giao", true, ResultPassport},
		{"sửa đổi hộ chiếu ngoại giao", true, ResultPassport},
		{"hộ chiếu phổ thông", false, ResultPassport},
		{"thị thực", false, ResultVisa},
		{"khai sinh", false, ResultCertificate},
		{"kết hôn", false, ResultCertificate},
		{"khai tử", false, ResultCertificate},
		{"xác nhận quốc tịch", false, ResultCertificate},
		{"bảo hộ công dân", false, ResultWrittenResponse},
	}
	for _, tt := range tests {
		found := slices.ContainsFunc(c.Search(tt.query), func(p *Procedure) bool {
			return p.Result.Type == tt.result && (tt.home && len(p.Units) > 0 || !tt.home && p.AtMissions)
		})
		if !found {
			t.Errorf("no procedure for %q (home %v) with result %s", tt.query, tt.home, tt.result)
		}
	}
}

func TestBuiltinLegalizationAtTheConsularDepartmentIsDueInOneDayFor30000VND(t *testing.T) {
	// Decree 111/2011/NĐ-CP and Circular 157/2016/TT-BTC: the values the
	// catalogue states as fact, not assumption.
	c := builtinCatalogue(t)
	for _, p := range c.ForUnit("000.00.03.G12", false) {
		if p.Result.Type != ResultLegalizationStamp && p.Result.Type != ResultCertificationStamp {
			continue
		}
		if p.TimeLimit.WorkingDays != 1 || p.TimeLimit.Assumption {
			t.Errorf("%s: time limit %+v, want one working day from the decree", p.Code, p.TimeLimit)
		}
		fees := p.FeesAt(AtHome)
		if len(fees) != 1 || fees[0].Amount != 30000 || fees[0].Currency != "VND" || fees[0].Assumption {
			t.Errorf("%s: fees %+v, want 30,000 VND from the fee circular", p.Code, fees)
		}
	}
}

func TestEveryBuiltinFormAcceptsAFilledInExample(t *testing.T) {
	// A form no applicant can fill in would strand a procedure; build a
	// valid document for each from its own fields.
	for _, p := range builtinCatalogue(t).Procedures() {
		doc := example(p.Form.Fields())
		if err := p.Form.ValidateValue(doc); err != nil {
			t.Errorf("%s: %v", p.Code, err)
		}
	}
}

// example fills every field with a value its rules accept.
func example(fields []FormField) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		var v any
		switch {
		case f.Type == TypeObject:
			v = example(f.Fields)
		case len(f.Options) > 0 && f.Type == TypeString:
			v = f.Options[0].Value
		case f.Type == TypeBoolean:
			v = true
		case f.Type == TypeInteger || f.Type == TypeNumber:
			v = json.Number(f.Minimum)
		case f.Format == FormatDate:
			v = "2025-03-14"
		case f.Format == FormatEmail:
			v = "lan@example.com"
		case strings.Contains(f.Pattern, "[0-9]{12}"):
			v = "001234567890"
		case strings.Contains(f.Pattern, "[A-Z]{2}"):
			v = "FR"
		case strings.Contains(f.Pattern, "[A-Z0-9]{6,12}"):
			v = "C1234567"
		case strings.Contains(f.Pattern, "[0-9 .-]"):
			v = "+84 912 345 678"
		default:
			v = strings.Repeat("Lan ", 3)[:max(f.MinLength, 10)]
		}
		out[f.Name[strings.LastIndexByte(f.Name, '.')+1:]] = v
	}
	return out
}

func TestBuiltinValuesAreSourcedOrMarkedAsAssumptions(t *testing.T) {
	// Validate enforces it; this pins that the shipped data says which
	// values were not checked, so nobody takes a placeholder for the law.
	assumed := 0
	for _, p := range builtinCatalogue(t).Procedures() {
		if !p.CodeBasis.Assumption {
			t.Errorf("%s: the national codes shipped are placeholders and must say so", p.Code)
		}
		for _, f := range p.Fees {
			if f.Assumption {
				assumed++
			}
		}
	}
	if assumed == 0 {
		t.Error("no fee is marked as an assumption, though the missions' schedule was not checked")
	}
}

// baseFile is a valid procedure file to break in tests.
func baseFile(t *testing.T) map[string]any {
	t.Helper()
	b, err := fs.ReadFile(builtin, "catalogue/1.900001.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encode(t *testing.T, m map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadCatalogueRefusesABadFileNamingFileAndField(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		break_ func(m map[string]any)
		field  string
	}{
		{"a malformed national code", "1.000487.json", func(m map[string]any) { m["code"] = "1.000487a" }, "code"},
		{"a file not named by its code", "legalization.json", func(m map[string]any) {}, "code"},
		{"a misspelt field", "1.900001.json", func(m map[string]any) { m["fee"] = m["fees"] }, "fee: is not a field"},
		{"a field of the wrong type", "1.900001.json", func(m map[string]any) { m["time_limit"].(map[string]any)["working_days"] = "1" }, "time_limit.working_days"},
		{"a missing Vietnamese name", "1.900001.json", func(m map[string]any) { delete(m, "name_vi") }, "name_vi"},
		{"a name typed in decomposed letters", "1.900001.json", func(m map[string]any) { m["name_vi"] = "Ho\u0323 chie\u0302\u0301u" }, "name_vi"},
		{"a time limit with no source", "1.900001.json", func(m map[string]any) { delete(m["time_limit"].(map[string]any), "source") }, "time_limit"},
		{"a source not named in Vietnamese", "1.900001.json", func(m map[string]any) { delete(m["basis"].(map[string]any), "source_vi") }, "basis.source_vi"},
		{"a Vietnamese source without the English", "1.900001.json", func(m map[string]any) {
			m["code_basis"].(map[string]any)["source_vi"] = "Nghị định 111/2011/NĐ-CP"
		}, "code_basis.source_vi"},
		{"an assumption that does not say what it assumes", "1.900001.json", func(m map[string]any) { delete(m["code_basis"].(map[string]any), "note") }, "code_basis.note"},
		{"a fee in dollars at home", "1.900001.json", func(m map[string]any) { m["fees"].([]any)[0].(map[string]any)["currency"] = "USD" }, "fees[0].currency"},
		{"a fee at missions for a procedure they do not implement", "1.900001.json", func(m map[string]any) {
			m["fees"] = append(m["fees"].([]any), map[string]any{"where": "mission", "description_vi": "mỗi bản", "description_en": "each",
				"amount": 10, "currency": "USD", "source": "x", "source_vi": "x"})
		}, "fees[1].where"},
		{"a negative fee", "1.900001.json", func(m map[string]any) { m["fees"].([]any)[0].(map[string]any)["amount"] = -1 }, "fees[0].amount"},
		{"no fee stated for a place that implements it", "1.900001.json", func(m map[string]any) { m["fees"] = []any{} }, "fees"},
		{"an implementing unit with a malformed code", "1.900001.json", func(m map[string]any) { m["units"].([]any)[0].(map[string]any)["agency_code"] = "G12" }, "units[0].agency_code"},
		{"nobody implements it", "1.900001.json", func(m map[string]any) { m["units"] = []any{}; m["fees"] = []any{} }, "units"},
		{"an unknown online level", "1.900001.json", func(m map[string]any) { m["online"].(map[string]any)["level"] = "level4" }, "online.level"},
		{"a document neither original nor copy", "1.900001.json", func(m map[string]any) { m["documents"].([]any)[1].(map[string]any)["originals"] = 0 }, "documents[1]"},
		{"a document key used twice", "1.900001.json", func(m map[string]any) { m["documents"].([]any)[1].(map[string]any)["key"] = "identity_copy" }, "documents[1].key"},
		{"no form", "1.900001.json", func(m map[string]any) { delete(m, "form") }, "form"},
		{"a form keyword outside the subset", "1.900001.json", func(m map[string]any) {
			m["form"].(map[string]any)["properties"].(map[string]any)["purpose"].(map[string]any)["oneOf"] = []any{}
		}, "form/properties/purpose/oneOf"},
		{"a second broken form keyword is reported too", "1.900001.json", func(m map[string]any) {
			m["form"].(map[string]any)["properties"].(map[string]any)["purpose"].(map[string]any)["oneOf"] = []any{}
			m["form"].(map[string]any)["properties"].(map[string]any)["issue_date"].(map[string]any)["format"] = "uri"
		}, "form/properties/issue_date/format"},
		{"a form that is not an object", "1.900001.json", func(m map[string]any) { m["form"] = "see attachment" }, "form: "},
		{"an unknown result type", "1.900001.json", func(m map[string]any) { m["result"].(map[string]any)["type"] = "stamp" }, "result.type"},
		{"steps that do not add up to the time limit", "1.900001.json", func(m map[string]any) { m["steps"].([]any)[1].(map[string]any)["working_days"] = 1 }, "steps"},
		{"a step of a role that does not process dossiers", "1.900001.json", func(m map[string]any) { m["steps"].([]any)[2].(map[string]any)["role"] = "applicant" }, "steps[2].role"},
		{"a step of a third of a day", "1.900001.json", func(m map[string]any) { m["steps"].([]any)[1].(map[string]any)["working_days"] = 0.3 }, "steps[1].working_days"},
		{"intake not by a clerk", "1.900001.json", func(m map[string]any) { m["steps"].([]any)[0].(map[string]any)["role"] = "officer" }, "steps[0].role"},
		{"nobody approves", "1.900001.json", func(m map[string]any) { m["steps"].([]any)[2].(map[string]any)["role"] = "officer" }, "steps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := baseFile(t)
			tt.break_(m)
			_, err := LoadCatalogue(fstest.MapFS{tt.file: {Data: encode(t, m)}})
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("LoadCatalogue = %v, want ErrInvalid", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "catalogue file "+tt.file) || !strings.Contains(msg, tt.field) {
				t.Errorf("error %q does not name file %s and field %s", msg, tt.file, tt.field)
			}
		})
	}
}

func TestLoadCatalogueReportsEveryBrokenField(t *testing.T) {
	m := baseFile(t)
	m["code"] = "x"
	m["online"].(map[string]any)["level"] = "x"
	m["result"].(map[string]any)["type"] = "x"
	_, err := LoadCatalogue(fstest.MapFS{"1.900001.json": {Data: encode(t, m)}})
	for _, field := range []string{"code:", "online.level:", "result.type:"} {
		if err == nil || !strings.Contains(err.Error(), "catalogue file 1.900001.json: "+field) {
			t.Errorf("error %v does not report %s on a line naming the file", err, field)
		}
	}
}

func TestLoadCatalogueRefusesAnInconsistentWhole(t *testing.T) {
	good := encode(t, baseFile(t))
	renamed := baseFile(t)
	renamed["code"] = "1.900099"
	renamed["field"].(map[string]any)["name_en"] = "Consular matters"
	tests := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"an empty catalogue", fstest.MapFS{}, "no procedure files"},
		{"a stray file", fstest.MapFS{"1.900001.json": {Data: good}, "README.md": {Data: []byte("x")}}, "README.md"},
		{"a directory", fstest.MapFS{"1.900001.json": {Data: good}, "old/1.900002.json": {Data: good}}, "old"},
		{"one field under two names", fstest.MapFS{"1.900001.json": {Data: good}, "1.900099.json": {Data: encode(t, renamed)}}, "field consular"},
		{"trailing data after the procedure", fstest.MapFS{"1.900001.json": {Data: append(good, []byte(" {}")...)}}, "unexpected data"},
		{"not JSON", fstest.MapFS{"1.900001.json": {Data: []byte("{")}}, "1.900001.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadCatalogue(tt.fsys)
			if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadCatalogue = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
}

func TestProcedureRoundTripsThroughJSON(t *testing.T) {
	for _, p := range builtinCatalogue(t).Procedures() {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("%s: Marshal: %v", p.Code, err)
		}
		back, err := ParseProcedure(b)
		if err != nil {
			t.Fatalf("%s: ParseProcedure(Marshal(p)): %v", p.Code, err)
		}
		again, _ := json.Marshal(back)
		if string(again) != string(b) {
			t.Errorf("%s: the procedure changed in a round trip", p.Code)
		}
	}
}

func TestProcedureLookup(t *testing.T) {
	c := builtinCatalogue(t)
	first := c.Procedures()[0]
	if got, err := c.Procedure(first.Code); err != nil || got != first {
		t.Errorf("Procedure(%s) = %v, %v", first.Code, got, err)
	}
	if _, err := c.Procedure("9.999999"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Procedure of an unknown code = %v, want ErrNotFound", err)
	}
}

func TestSearchIgnoresCaseAndDiacritics(t *testing.T) {
	c := builtinCatalogue(t)
	codes := func(ps []*Procedure) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Code)
		}
		return out
	}
	marked := codes(c.Search("hộ chiếu"))
	if len(marked) == 0 {
		t.Fatal("no passport procedure found")
	}
	for _, q := range []string{"ho chieu", "HỘ CHIẾU", "  Ho   Chieu "} {
		if got := codes(c.Search(q)); !slices.Equal(got, marked) {
			t.Errorf("Search(%q) = %v, want %v as for the marked query", q, got, marked)
		}
	}
	narrowed := codes(c.Search("ho chieu ngoai giao gia han"))
	if len(narrowed) != 1 {
		t.Errorf("every word must match: got %v", narrowed)
	}
	if got := c.Search("passport visa"); len(got) != 0 {
		t.Errorf("Search of words no procedure has together = %v", codes(got))
	}
	if got := c.Search(""); len(got) != len(c.Procedures()) {
		t.Errorf("an empty query found %d of %d", len(got), len(c.Procedures()))
	}
	if got := codes(c.Search(first(c).Code)); !slices.Contains(got, first(c).Code) {
		t.Errorf("search by code found %v", got)
	}
}

func first(c *Catalogue) *Procedure { return c.Procedures()[0] }

func TestForUnit(t *testing.T) {
	c := builtinCatalogue(t)
	home := c.ForUnit("000.00.03.G12", false)
	mission := c.ForUnit("000.01.02.G12", true)
	if len(home) == 0 || len(mission) == 0 {
		t.Fatalf("the Consular Department implements %d procedures, a mission %d", len(home), len(mission))
	}
	for _, p := range home {
		if !slices.ContainsFunc(p.Units, func(u Unit) bool { return u.AgencyCode == "000.00.03.G12" }) {
			t.Errorf("%s is not the Consular Department's", p.Code)
		}
	}
	for _, p := range mission {
		if !p.AtMissions {
			t.Errorf("%s is not done at missions", p.Code)
		}
	}
	if got := c.ForUnit("000.00.05.G12", false); len(got) != 0 {
		t.Errorf("the press department implements %d procedures", len(got))
	}
}

func TestFieldsAreListedOnce(t *testing.T) {
	fields := builtinCatalogue(t).Fields()
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f.Code] {
			t.Errorf("field %s listed twice", f.Code)
		}
		seen[f.Code] = true
	}
	if len(fields) < 3 {
		t.Errorf("%d fields", len(fields))
	}
}
