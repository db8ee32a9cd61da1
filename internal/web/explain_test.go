package web

import (
	"fmt"
	"net/http"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/i18n"
)

// Explain is the one way a capability's form shows a service's refusal,
// with the texts under the capability's catalogue prefix.
func TestExplainUsesTheCapabilitysCatalogue(t *testing.T) {
	texts, err := i18n.New(i18n.Texts{
		"identity.invalid.time_zone": {"Múi giờ không hợp lệ", "Not a time zone"},
		"identity.error.conflict":    {"Đã có người sửa trước", "Changed meanwhile"},
	})
	if err != nil {
		t.Fatal(err)
	}
	vi, en := Page{Lang: i18n.VI, texts: texts}, Page{Lang: i18n.EN, texts: texts}
	field := errs.Invalid("time_zone", "is not an IANA time zone")
	tests := []struct {
		name   string
		page   Page
		prefix string
		err    error
		ok     bool
		want   Refusal
	}{
		{"a field, Vietnamese", vi, "identity.", field, true,
			Refusal{Status: http.StatusUnprocessableEntity, Field: "time_zone", Message: "Múi giờ không hợp lệ", Detail: "is not an IANA time zone"}},
		{"a field, English", en, "identity.", field, true,
			Refusal{Status: http.StatusUnprocessableEntity, Field: "time_zone", Message: "is not an IANA time zone"}},
		{"a conflict", vi, "identity.", fmt.Errorf("%w: stale version", errs.ErrConflict), true,
			Refusal{Status: http.StatusConflict, Message: "Đã có người sửa trước", Detail: "conflict: stale version"}},
		{"a kind the capability does not explain", vi, "registry.", errs.ErrForbidden, false, Refusal{}},
		{"not found", vi, "identity.", errs.ErrNotFound, false, Refusal{}},
		{"internal", vi, "identity.", fmt.Errorf("disk on fire"), false, Refusal{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Explain(tt.page.Localizer(), tt.prefix, tt.err)
			if ok != tt.ok || got != tt.want {
				t.Errorf("Explain = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
