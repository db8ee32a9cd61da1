package procedures

import (
	"errors"
	"strings"
	"testing"
	"time"

	"chancery/internal/errs"
)

func TestDossierCodeIsDatedInTheUnitsZone(t *testing.T) {
	// 23:30 on 31 December 2025 in Washington is already 1 January 2026 in Hanoi.
	instant := time.Date(2026, time.January, 1, 4, 30, 0, 0, time.UTC)
	tests := []struct {
		name, agency, zone string
		seq                int
		want               string
	}{
		{"an embassy dates by its own evening", "000.01.01.G12", "America/New_York", 42, "000.01.01.G12-251231-000042"},
		{"headquarters dates by Hanoi's morning", "000.00.03.G12", "Asia/Ho_Chi_Minh", 1, "000.00.03.G12-260101-000001"},
		{"the last number of a day", "000.00.03.G12", "Asia/Ho_Chi_Minh", MaxSeq, "000.00.03.G12-260101-999999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewDossierCode(tt.agency, instant, mustZone(tt.zone), tt.seq)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.String(); got != tt.want {
				t.Errorf("String = %s, want %s", got, tt.want)
			}
			back, err := ParseDossierCode(tt.want)
			if err != nil || back != c {
				t.Errorf("ParseDossierCode(%s) = %+v, %v; want %+v", tt.want, back, err, c)
			}
		})
	}
}

func TestNewDossierCodeRefusesWhatItCannotWrite(t *testing.T) {
	now := time.Date(2025, time.March, 14, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		agency string
		at     time.Time
		loc    *time.Location
		seq    int
		want   string
	}{
		{"no time zone", "000.00.03.G12", now, nil, 1, "time zone"},
		{"a malformed agency code", "G12", now, time.UTC, 1, "agency code"},
		{"sequence zero", "000.00.03.G12", now, time.UTC, 0, "sequence"},
		{"past the last number of the day", "000.00.03.G12", now, time.UTC, MaxSeq + 1, "sequence"},
		{"a year two digits cannot hold", "000.00.03.G12", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC, 1, "2000–2099"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDossierCode(tt.agency, tt.at, tt.loc, tt.seq)
			if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewDossierCode = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParseDossierCodeAcceptsOneSpellingOnly(t *testing.T) {
	for _, s := range []string{
		"",
		"000.00.03.G12-250314",                 // no sequence
		"000.00.03.G12-250314-42",              // not padded
		"000.00.03.G12-250314-0000042",         // padded too far
		"000.00.03.G12-250314-000000",          // sequence zero
		"000.00.03.G12-250230-000001",          // 30 February
		"000.00.03.G12-251301-000001",          // month 13
		"000.00.03.G12-250300-000001",          // day 0
		"000.00.03.g12-250314-000001",          // lower-case agency letter
		"000.00.03.G12-2503l4-000001",          // a letter in the date
		"000.00.03.G12-250314-+00001",          // a sign
		" 000.00.03.G12-250314-000001",         // surrounding space
		"000.00.03.G12-250314-000001-000002",   // too many parts
		"000-00.03.G12-250314-000001",          // a hyphen in the agency code
		"000.00.03.G12—250314—000001",          // dashes, not hyphens
		"000.00.03.G12-２５０３１４-000001",          // full-width digits
		"000.00.03.G12-250314-00000١",          // an Arabic-Indic digit
		"000.00.03.G12-250314-000001\n",        // a trailing line break
		"000.00.03.G12-250314-999999999999999", // overflow
	} {
		if _, err := ParseDossierCode(s); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ParseDossierCode(%q) = %v, want ErrInvalid", s, err)
		}
	}
}

func TestDossierCodeDate(t *testing.T) {
	c, err := ParseDossierCode("000.00.03.G12-240229-000007")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Date(); got != "2024-02-29" {
		t.Errorf("Date = %s", got)
	}
}

// FuzzParseDossierCode: citizens type dossier codes. Whatever parses must
// be written back exactly as typed, since there is one spelling per code.
func FuzzParseDossierCode(f *testing.F) {
	for _, s := range []string{"000.00.03.G12-250314-000042", "000.01.01.G12-991231-999999", "x-y-z", "000.00.03.G12-250230-000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseDossierCode(s)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if got := c.String(); got != s {
			t.Fatalf("ParseDossierCode(%q).String() = %q", s, got)
		}
	})
}
