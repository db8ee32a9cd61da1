package govsim

import (
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// discard is a logger for tests that do not look at the logs.
var discard = slog.New(slog.DiscardHandler)

// problemBody is an RFC 9457 problem document as the simulators write it.
type problemBody struct {
	Type   string            `json:"type"`
	Title  string            `json:"title"`
	Status int               `json:"status"`
	Detail string            `json:"detail"`
	Errors map[string]string `json:"errors"`
}

// readProblem fails the test unless resp is a problem document with
// status.
func readProblem(tb testing.TB, resp *http.Response, status int) problemBody {
	tb.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		tb.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type %q, want application/problem+json: %s", ct, body)
	}
	var p problemBody
	if err := json.Unmarshal(body, &p); err != nil {
		tb.Fatalf("not a problem document: %v: %s", err, body)
	}
	if p.Status != status {
		tb.Errorf("problem status %d, want %d", p.Status, status)
	}
	return p
}

// get sends a GET stating an end user and a purpose, as the population
// database requires of a lookup.
func get(tb testing.TB, url string) *http.Response {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set(HeaderUserID, "citizen:1")
	req.Header.Set(HeaderIssue, "test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

func servePopulation(tb testing.TB) string {
	tb.Helper()
	srv := httptest.NewServer(newPopulation(fixedClock).handler(discard))
	tb.Cleanup(srv.Close)
	return srv.URL
}

func TestDemoCitizensAgreeWithTheirIdentityNumbers(t *testing.T) {
	if n := len(demoCitizens); n < 30 {
		t.Errorf("%d demo citizens, want about 30", n)
	}
	ids := map[string]bool{}
	provinces := map[string]bool{}
	for _, r := range demoCitizens {
		t.Run(r.id, func(t *testing.T) {
			if ids[r.id] {
				t.Fatalf("identity number %s is held twice", r.id)
			}
			ids[r.id] = true
			n, err := parseIDNumber(r.id, testNow)
			if err != nil {
				t.Fatalf("%s (%s): %v", r.id, r.name, err)
			}
			provinces[n.province] = true
			born, err1 := time.Parse(time.DateOnly, r.born)
			issued, err2 := time.Parse(time.DateOnly, r.issued)
			if err1 != nil || err2 != nil {
				t.Fatalf("dates of %s: %v, %v", r.name, err1, err2)
			}
			if born.Year() != n.birthYear {
				t.Errorf("%s born %s, but the number says %d", r.name, r.born, n.birthYear)
			}
			if n.female != (r.sex == Female) || (r.sex != Female && r.sex != Male) {
				t.Errorf("%s is %q, but the number says female: %v", r.name, r.sex, n.female)
			}
			// Cards were issued from the age of 14 until mid-2024.
			if issued.Before(born.AddDate(14, 0, 0)) || issued.After(testNow) {
				t.Errorf("%s, born %s, got a card on %s", r.name, r.born, r.issued)
			}
			// A middle name marks a Vietnamese name; the given name is last
			// (ethnic minority names may have two words).
			if words := strings.Fields(r.name); len(words) < 2 || r.origin == "" || r.addr == "" {
				t.Errorf("record %+v is incomplete", r)
			}
			if !strings.ContainsFunc(r.name+r.addr, func(c rune) bool { return c > unicode.MaxASCII }) {
				t.Errorf("%s, %s: no diacritics", r.name, r.addr)
			}
		})
	}
	if len(provinces) < 15 {
		t.Errorf("the citizens come from %d provinces, want many", len(provinces))
	}
}

func TestPopulationHoldsTheDemoPublicSiteCitizens(t *testing.T) {
	url := servePopulation(t)
	for _, tt := range []struct{ id, name string }{
		{"001188004215", "Nguyễn Thị Lan"},
		{"036079001187", "Trần Văn Minh"},
	} {
		resp := get(t, url+"/v1/citizens/"+tt.id)
		var c Citizen
		err := json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("GET %s = %d, %v", tt.id, resp.StatusCode, err)
		}
		if c.FullName != tt.name || c.IDNumber != tt.id || c.Nationality != "VN" {
			t.Errorf("GET %s = %+v, want %s", tt.id, c, tt.name)
		}
	}
}

func TestCitizenLookupAnswersJSON(t *testing.T) {
	resp := get(t, servePopulation(t)+"/v1/citizens/001188004215")
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if s := resp.Header.Get("Server"); !strings.Contains(s, "simulator") {
		t.Errorf("Server %q does not name the simulator", s)
	}
	var got map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id_number": "001188004215", "full_name": "Nguyễn Thị Lan", "date_of_birth": "1988-03-14", "sex": "female",
		"nationality": "VN", "place_of_origin": "Xã Phú Xuyên, Thành phố Hà Nội",
		"permanent_address": "Số 18 ngõ 95 phố Chùa Bộc, phường Kim Liên, Thành phố Hà Nội", "issued_on": "2021-04-20",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("answer %v,\nwant %v", got, want)
	}
}

func TestCitizenLookupRefusesMalformedNumbersAndConcealsNothingElse(t *testing.T) {
	url := servePopulation(t)
	tests := []struct {
		name, id string
		status   int
		fault    string // in errors["id"]; empty for 404
	}{
		{"unknown but well formed", "001188004216", http.StatusNotFound, ""},
		{"unknown in another province", "079190123456", http.StatusNotFound, ""},
		{"too short", "0011880", http.StatusBadRequest, "has 7 characters"},
		{"letters", "00118800ABCD", http.StatusBadRequest, "character 9 is not one"},
		{"unknown province", "099188004215", http.StatusBadRequest, "not a province code"},
		{"future century", "001588004215", http.StatusBadRequest, "after 2099"},
		{"born in the future", "001299004215", http.StatusBadRequest, "has not come yet"},
		{"escaped non-ASCII letter", "%E1%BB%8701188004215", http.StatusBadRequest, "character 1 is not one"},
		{"escaped non-ASCII digit", "00118800421%D9%A5", http.StatusBadRequest, "character 12 is not one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := readProblem(t, get(t, url+"/v1/citizens/"+tt.id), tt.status)
			if tt.fault == "" {
				if strings.Contains(p.Detail, tt.id) || p.Errors != nil {
					t.Errorf("404 %+v echoes the number or blames a field", p)
				}
				return
			}
			if !strings.Contains(p.Errors["id"], tt.fault) {
				t.Errorf("errors %v, want id: …%s…", p.Errors, tt.fault)
			}
		})
	}
}

func TestPopulationAnswersOtherRoutesWithProblems(t *testing.T) {
	url := servePopulation(t)
	readProblem(t, get(t, url+"/v1/people/001188004215"), http.StatusNotFound)
	resp, err := http.Post(url+"/v1/citizens/001188004215", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if allow := resp.Header.Get("Allow"); allow != "GET, HEAD" {
		t.Errorf("Allow %q", allow)
	}
	readProblem(t, resp, http.StatusMethodNotAllowed)
}

// openAPIDoc is the part of an OpenAPI document the tests check.
type openAPIDoc struct {
	OpenAPI    string                                 `json:"openapi"`
	Info       struct{ Title, Description string }    `json:"info"`
	Paths      map[string]map[string]json.RawMessage  `json:"paths"`
	Components struct{ Schemas map[string]schemaDoc } `json:"components"`
}

type schemaDoc struct {
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
}

func parseOpenAPI(tb testing.TB, doc []byte) openAPIDoc {
	tb.Helper()
	var d openAPIDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		tb.Fatalf("the OpenAPI description is not JSON: %v", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.0.") {
		tb.Errorf("openapi %q, want 3.0.x", d.OpenAPI)
	}
	if !strings.Contains(d.Info.Title, "simulator") || !strings.Contains(d.Info.Description, "not the real system") {
		tb.Errorf("info %+v does not say it describes a simulator", d.Info)
	}
	return d
}

// jsonFields returns the JSON names of a struct type's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		out = append(out, strings.Split(f.Tag.Get("json"), ",")[0])
	}
	slices.Sort(out)
	return out
}

// checkSchema fails unless schema's properties, all required, are want.
func checkSchema(tb testing.TB, name string, schema schemaDoc, want []string) {
	tb.Helper()
	var props []string
	for p := range schema.Properties {
		props = append(props, p)
	}
	slices.Sort(props)
	required := slices.Sorted(slices.Values(schema.Required))
	if !slices.Equal(props, want) || !slices.Equal(required, want) {
		tb.Errorf("schema %s has properties %v, required %v; the Go type has %v", name, props, required, want)
	}
}

func TestPopulationOpenAPIDescribesWhatIsServed(t *testing.T) {
	doc := PopulationOpenAPI()
	d := parseOpenAPI(t, doc)
	checkSchema(t, "Citizen", d.Components.Schemas["Citizen"], jsonFields(reflect.TypeFor[Citizen]()))
	if want := []string{"/v1/citizens/{id}", "/v1/openapi.json"}; !slices.Equal(slices.Sorted(maps.Keys(d.Paths)), want) {
		t.Errorf("paths %v, want %v", slices.Sorted(maps.Keys(d.Paths)), want)
	}
	url := servePopulation(t)
	for _, path := range []string{"/v1/citizens/001188004215", "/v1/openapi.json"} {
		resp := get(t, url+path)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
		if path == "/v1/openapi.json" && string(body) != string(doc) {
			t.Errorf("GET %s does not serve PopulationOpenAPI()", path)
		}
	}
	doc[0] = 'x'
	if PopulationOpenAPI()[0] == 'x' {
		t.Error("PopulationOpenAPI shares its bytes with the caller")
	}
}
