package exchange

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"chancery/internal/errs"
)

func TestParseClientIDAcceptsFourWellFormedParts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ClientID
	}{
		{"VN/GOV/000.00.00.G12/consular", ClientID{"VN", "GOV", "000.00.00.G12", "consular"}},
		{"vn/gov/a-b_c.d/X9", ClientID{"vn", "gov", "a-b_c.d", "X9"}},
		{"VN/GOV/" + strings.Repeat("7", maxSegment) + "/s", ClientID{"VN", "GOV", strings.Repeat("7", maxSegment), "s"}},
	} {
		got, err := ParseClientID(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseClientID(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if got.String() != tc.in {
			t.Errorf("ParseClientID(%q).String() = %q, want the input back", tc.in, got.String())
		}
	}
}

func TestParseClientIDRefusesMalformedIDsSayingWhichPart(t *testing.T) {
	for _, tc := range []struct {
		in, part string
	}{
		{"", "client"},
		{"VN/GOV/000.00.00.G12", "client"},
		{"VN/GOV/000.00.00.G12/consular/extra", "client"},
		{"/GOV/000.00.00.G12/consular", "instance"},
		{"VN//000.00.00.G12/consular", "class"},
		{"VN/GOV//consular", "member"},
		{"VN/GOV/000.00.00.G12/", "subsystem"},
		{"VN/GOV/000 00/consular", "member"},
		{"VN/GOV/000.00.00.G12/cons*ular", "subsystem"},
		{"VN/GOV/000.00.00.G12/lãnh-sự", "subsystem"},
		{"VN/G\x00V/000.00.00.G12/consular", "class"},
		{"VN/GOV/" + strings.Repeat("7", maxSegment+1) + "/s", "member"},
	} {
		_, err := ParseClientID(tc.in)
		if !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ParseClientID(%q) = %v, want an invalid-input error", tc.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.part) {
			t.Errorf("ParseClientID(%q) = %q, want it to name the %s part", tc.in, err, tc.part)
		}
	}
}

func TestParseServiceIDTakesFiveOrSixParts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ServiceID
	}{
		{"VN/GOV/000.00.00.G02/population/citizen-lookup", ServiceID{ClientID: ClientID{"VN", "GOV", "000.00.00.G02", "population"}, Service: "citizen-lookup"}},
		{"VN/GOV/000.00.00.G02/population/citizen-lookup/v1", ServiceID{ClientID: ClientID{"VN", "GOV", "000.00.00.G02", "population"}, Service: "citizen-lookup", Version: "v1"}},
	} {
		got, err := ParseServiceID(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseServiceID(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if got.String() != tc.in || got.Provider() != tc.want.ClientID {
			t.Errorf("ParseServiceID(%q): String %q, Provider %v", tc.in, got.String(), got.Provider())
		}
	}
	for _, tc := range []struct {
		in, part string
	}{
		{"VN/GOV/000.00.00.G02/population", "service"},
		{"VN/GOV/000.00.00.G02/population/lookup/v1/extra", "service"},
		{"VN/GOV/000.00.00.G02/population/", "service"},
		{"VN/GOV/000.00.00.G02/population/lookup/", "version"},
		{"VN/GOV/000.00.00.G02/population/look up/v1", "service"},
		{"VN/GOV/000.00.00.G02/population/lookup/v 1", "version"},
		{"VN/GOV/000.00.00.G02/popul@tion/lookup", "subsystem"},
		{"VN/GOV/000.00.00.G02/population/" + strings.Repeat("s", maxSegment+1), "service"},
	} {
		_, err := ParseServiceID(tc.in)
		if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), tc.part) {
			t.Errorf("ParseServiceID(%q) = %v, want an invalid-input error naming the %s part", tc.in, err, tc.part)
		}
	}
}

func TestIDsTravelAsTheirStringsInJSON(t *testing.T) {
	r := Right{Service: lookupSvc, Client: consular}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"service":"VN/GOV/000.00.00.G12/procedures/lookup/v1","client":"VN/GOV/000.00.00.H01/consular"}`
	if string(b) != want {
		t.Fatalf("json.Marshal(right) = %s, want %s", b, want)
	}
	var back Right
	if err := json.Unmarshal(b, &back); err != nil || back != r {
		t.Fatalf("json.Unmarshal = %+v, %v; want %+v", back, err, r)
	}
	if err := json.Unmarshal([]byte(`{"service":"VN/GOV/x","client":"VN/GOV/000.00.00.H01/consular"}`), &back); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("json.Unmarshal of a short service id = %v, want an invalid-input error", err)
	}
	if consular.MemberKey() != "VN/GOV/000.00.00.H01" {
		t.Errorf("MemberKey = %q", consular.MemberKey())
	}
}
