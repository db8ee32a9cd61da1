package govsim

import (
	"errors"
	"strings"
	"testing"
	"time"

	"chancery/internal/errs"
)

// testNow is the simulators' clock in tests: 10 March 2025, 16:00 in Hà Nội.
var testNow = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testNow }

func TestParseIDNumberReadsProvinceSexAndYearOfBirth(t *testing.T) {
	tests := []struct {
		id        string
		province  string
		female    bool
		birthYear int
	}{
		{"001188004215", "001", true, 1988},
		{"036079001187", "036", false, 1979},
		{"096000000001", "096", false, 1900},
		{"079199999999", "079", true, 1999},
		{"040200000000", "040", false, 2000},
		{"001325123456", "001", true, 2025}, // born this year
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, err := parseIDNumber(tt.id, testNow)
			if err != nil {
				t.Fatalf("parseIDNumber(%q): %v", tt.id, err)
			}
			if want := (idNumber{province: tt.province, female: tt.female, birthYear: tt.birthYear}); got != want {
				t.Errorf("parseIDNumber(%q) = %+v, want %+v", tt.id, got, want)
			}
		})
	}
}

func TestParseIDNumberNamesTheFault(t *testing.T) {
	tests := []struct {
		name, id, fault string
	}{
		{"empty", "", "has 0 characters"},
		{"eleven digits", "00118800421", "has 11 characters"},
		{"thirteen digits", "0011880042150", "has 13 characters"},
		{"letter", "00118800421X", "character 12 is not one"},
		{"space", "001 88004215", "character 4 is not one"},
		{"sign", "+01188004215", "character 1 is not one"},
		{"non-ASCII digit", "00118800421٥", "character 12 is not one"},
		{"no such province", "003188004215", "003, are not a province code"},
		{"province zero", "000188004215", "000, are not a province code"},
		{"beyond the last province", "097188004215", "097, are not a province code"},
		{"century digit for the 22nd century", "001488004215", "the fourth digit, 4, stands for a birth after 2099"},
		{"century digit 9", "001988004215", "the fourth digit, 9"},
		{"born next year", "001226004215", "give 2026 as the year of birth"},
		{"born in 2099", "001399004215", "give 2099 as the year of birth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseIDNumber(tt.id, testNow)
			var fe *errs.FieldError
			if !errors.As(err, &fe) || fe.Field != "id" {
				t.Fatalf("parseIDNumber(%q) = %v, want a FieldError for id", tt.id, err)
			}
			if !strings.Contains(fe.Message, tt.fault) {
				t.Errorf("message %q does not say %q", fe.Message, tt.fault)
			}
		})
	}
}

func TestProvinceCodesAreTheSixtyThreeProvinces(t *testing.T) {
	if len(provinceCodes) != 63 {
		t.Errorf("%d province codes, want the 63 of the provinces before the 2025 merger", len(provinceCodes))
	}
	for code := range provinceCodes {
		if len(code) != 3 || code < "001" || code > "096" {
			t.Errorf("province code %q is not three digits from 001 to 096", code)
		}
	}
}

// FuzzParseIDNumber pins that any string either parses into what its
// digits say or is refused with a FieldError for id, never a panic.
func FuzzParseIDNumber(f *testing.F) {
	for _, seed := range []string{"001188004215", "", "0011880042150", "003188004215", "001988004215", "001226004215", "ééééééééééé", "\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		got, err := parseIDNumber(id, testNow)
		if err != nil {
			var fe *errs.FieldError
			if !errors.As(err, &fe) || fe.Field != "id" {
				t.Fatalf("parseIDNumber(%q) = %v, not a FieldError for id", id, err)
			}
			return
		}
		if len(id) != 12 || !provinceCodes[id[:3]] || got.province != id[:3] || got.birthYear%100 != int(id[4]-'0')*10+int(id[5]-'0') || got.birthYear > 2025 {
			t.Fatalf("parseIDNumber(%q) accepted it as %+v", id, got)
		}
	})
}
