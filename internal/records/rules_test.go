package records

import (
	"errors"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// Numbers and symbols format as Decree 30 prints them (a leading zero
// below 10) and parse back; a công văn names its drafting unit.
func TestNumberSymbolRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		n    NumberSymbol
		want string
	}{
		{NumberSymbol{Number: 15, Type: "quyet_dinh", Org: "BNG"}, "15/QĐ-BNG"},
		{NumberSymbol{Number: 5, Type: "thong_bao", Org: "BNG"}, "05/TB-BNG"},
		{NumberSymbol{Number: 120, Type: "to_trinh", Org: "CLS"}, "120/TTr-CLS"},
		{NumberSymbol{Number: 12, Type: TypeOfficialLetter, Org: "BNG", Unit: "VP"}, "12/BNG-VP"},
		{NumberSymbol{Number: 3, Type: "quy_dinh", Org: "BNG"}, "03/QyĐ-BNG"},
	} {
		if err := tc.n.Validate(); err != nil {
			t.Fatalf("%+v: %v", tc.n, err)
		}
		if got := tc.n.String(); got != tc.want {
			t.Errorf("%+v formats as %q, want %q", tc.n, got, tc.want)
		}
		back, err := ParseNumberSymbol(tc.want)
		if err != nil || back != tc.n {
			t.Errorf("ParseNumberSymbol(%q) = %+v, %v; want %+v", tc.want, back, err, tc.n)
		}
	}
}

func TestParseNumberSymbolRefusesMalformed(t *testing.T) {
	for _, s := range []string{"", "15", "15/", "/QĐ-BNG", "0/QĐ-BNG", "-3/QĐ-BNG", "+3/QĐ-BNG", "15/QĐ", "15/QĐ-",
		"15/QĐ-B NG", "15/QĐ-BNG\r\nX", "15/QĐ-BNG/1", "15/QĐ-\x00", "15/QĐ-BNG-VP", "1234567890/QĐ-BNG", "x/QĐ-BNG"} {
		if n, err := ParseNumberSymbol(s); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ParseNumberSymbol(%q) = %+v, %v; want ErrInvalid", s, n, err)
		}
	}
}

func TestDocTypesAbbreviationsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, ty := range DocTypes() {
		if ty.Abbr == "" && ty.Key != TypeOfficialLetter {
			t.Errorf("%s has no abbreviation", ty.Key)
		}
		if ty.Abbr != "" && seen[ty.Abbr] {
			t.Errorf("abbreviation %s used twice", ty.Abbr)
		}
		seen[ty.Abbr] = true
	}
	if len(DocTypes()) != 28 {
		t.Errorf("%d types; Appendix III lists 27, plus the công văn", len(DocTypes()))
	}
}

func TestProtectionPeriods(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for l, years := range map[authz.Level]int{authz.Unclassified: 0, authz.Confidential: 10, authz.Secret: 20, authz.TopSecret: 30} {
		if got := ProtectionPeriod(l); got != years {
			t.Errorf("ProtectionPeriod(%s) = %d, want %d", l, got, years)
		}
		if years > 0 && !ProtectUntil(l, from).Equal(from.AddDate(years, 0, 0)) {
			t.Errorf("ProtectUntil(%s) = %s", l, ProtectUntil(l, from))
		}
	}
	if !ProtectUntil(authz.Unclassified, from).IsZero() {
		t.Error("an unclassified item has no protection period")
	}
}

func TestSeriesKeepsSecretDocumentsApart(t *testing.T) {
	if seriesOf(Outgoing, authz.Unclassified) == seriesOf(Outgoing, authz.Confidential) {
		t.Error("secret outgoing documents share the open series")
	}
	if seriesOf(Outgoing, authz.Secret) != seriesOf(Outgoing, authz.TopSecret) {
		t.Error("all levels of secret share one series")
	}
	if seriesOf(Incoming, authz.Unclassified) == seriesOf(Outgoing, authz.Unclassified) {
		t.Error("incoming and outgoing registers share a series")
	}
}
