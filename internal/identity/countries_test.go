package identity_test

import (
	"testing"

	"chancery/internal/identity"
)

func TestIsCountryKnowsAssignedCodesOnly(t *testing.T) {
	for code, want := range map[string]bool{"VN": true, "FR": true, "ZA": true, "SS": true, "XK": false, "XX": false, "vn": false, "V": false, "VNM": false, "": false} {
		if got := identity.IsCountry(code); got != want {
			t.Errorf("IsCountry(%q) = %v, want %v", code, got, want)
		}
	}
}
