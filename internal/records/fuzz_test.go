package records

import (
	"errors"
	"testing"

	"chancery/internal/errs"
)

// FuzzParseNumberSymbol pins that any text either parses into a number
// and symbol that formats back to the very same text, or is refused as
// invalid input; never a panic, never another error.
func FuzzParseNumberSymbol(f *testing.F) {
	for _, s := range []string{"15/QĐ-BNG", "05/TB-BNG", "12/BNG-VP", "03/QyĐ-BNG", "1/QĐ-BNG", "15/QĐ-BNG-VP", "/", "0/x-y", "99999999/TTr-CLS"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNumberSymbol(s)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("ParseNumberSymbol(%q): %v, not ErrInvalid", s, err)
			}
			return
		}
		if err := n.Validate(); err != nil {
			t.Fatalf("ParseNumberSymbol(%q) = %+v, which does not validate: %v", s, n, err)
		}
		back, err := ParseNumberSymbol(n.String())
		if err != nil || back != n {
			t.Fatalf("%q parses to %+v, formats as %q, which parses to %+v, %v", s, n, n.String(), back, err)
		}
	})
}
