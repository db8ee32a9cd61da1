package calendar

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedDataLoads(t *testing.T) {
	cs, err := loadCountries(dataFS)
	if err != nil {
		t.Fatal(err)
	}
	for code, c := range cs {
		if len(c.rules) == 0 {
			t.Errorf("%s has no holiday rules", code)
		}
	}
}

// minimalCountry is a valid country file with one holiday; each bad case
// below breaks it in one way.
const minimalCountry = `{"country": "ZZ", "name_vi": "Thử", "name_en": "Test", "weekend": ["sat", "sun"],
 "zone_hours": 7, "substitute": "none",
 "holidays": [{"id": "a", "name_vi": "A", "name_en": "A", "date": "03-07"}]`

func TestBadCountryFilesAreRefused(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"unknown field", `{"country": "ZZ", "holydays": []}`, "unknown field"},
		{"lower-case code", strings.Replace(minimalCountry, `"ZZ"`, `"zz"`, 1) + `}`, "alpha-2"},
		{"bad weekend", strings.Replace(minimalCountry, `"sun"]`, `"sunday"]`, 1) + `}`, "weekend"},
		{"bad substitute", strings.Replace(minimalCountry, `"none"`, `"monday"`, 1) + `}`, "substitute"},
		{"two bases", strings.Replace(minimalCountry, `"date": "03-07"`, `"date": "03-07", "lunar": "01-01"`, 1) + `}`, "exactly one"},
		{"no base", strings.Replace(minimalCountry, `, "date": "03-07"`, ``, 1) + `}`, "exactly one"},
		{"30 February", strings.Replace(minimalCountry, `"03-07"`, `"02-30"`, 1) + `}`, "does not exist"},
		{"lunar day 30", strings.Replace(minimalCountry, `"date": "03-07"`, `"lunar": "12-30"`, 1) + `}`, "day of 1 to 29"},
		{"bad weekday rule", strings.Replace(minimalCountry, `"date": "03-07"`, `"weekday": {"month": 1, "weekday": "mon", "nth": 5}`, 1) + `}`, "nth"},
		{"huge offset", strings.Replace(minimalCountry, `"date": "03-07"`, `"date": "03-07", "offset": 400`, 1) + `}`, "offset"},
		{"no names", strings.Replace(minimalCountry, `"name_vi": "A", `, ``, 1) + `}`, "required"},
		{"set of an unknown rule", minimalCountry + `, "years": {"2025": {"set": {"b": ["2025-03-08"]}}}}`, `no holiday rule has id "b"`},
		{"off in another year", minimalCountry + `, "years": {"2025": {"off": [{"date": "2024-03-08", "name_vi": "X", "name_en": "X"}]}}}`, "not in 2025"},
		{"bad date in a notice", minimalCountry + `, "years": {"2025": {"working": [{"date": "2025-02-29"}]}}}`, "not a date"},
		{"bad year key", minimalCountry + `, "years": {"02025": {}}}`, "not a year"},
		{"bad kind", minimalCountry + `, "years": {"2025": {"off": [{"date": "2025-03-08", "name_vi": "X", "name_en": "X", "kind": "bank"}]}}}`, "kind"},
		{"trailing data", minimalCountry + `} {}`, "trailing"},
	}
	for _, tt := range tests {
		_, err := parseCountry([]byte(tt.json))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want one saying %q", tt.name, err, tt.want)
		}
	}
	if _, err := parseCountry([]byte(minimalCountry + `}`)); err != nil {
		t.Fatalf("the minimal country is refused: %v", err)
	}
}

func TestDataFileMustBeNamedForItsCountry(t *testing.T) {
	fsys := fstest.MapFS{"data/fr.json": {Data: []byte(minimalCountry + `}`)}}
	if _, err := loadCountries(fsys); err == nil || !strings.Contains(err.Error(), "name it zz.json") {
		t.Errorf("loadCountries = %v; want a complaint about the file name", err)
	}
}
