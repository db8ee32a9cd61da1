package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/i18n"
)

func TestLevelOptionsListEveryLevelByAuthzsName(t *testing.T) {
	texts, err := i18n.New(i18n.Texts{
		"identity.level.none":         {"Thường", "Unclassified"},
		"identity.level.confidential": {"Mật", "Confidential"},
		"identity.level.secret":       {"Tối mật", "Secret"},
		"identity.level.top_secret":   {"Tuyệt mật", "Top secret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := LevelOptions(Page{Lang: i18n.VI, texts: texts}, "identity.level.")
	var values []string
	for _, o := range opts {
		values = append(values, o.Value)
		if o.Label == "" || strings.HasPrefix(o.Label, "identity.") {
			t.Errorf("level %s has no catalogue label: %q", o.Value, o.Label)
		}
	}
	if got := strings.Join(values, ","); got != "none,confidential,secret,top_secret" {
		t.Fatalf("levels = %s", got)
	}
}

// The one "field" partial draws what the sign-in pages need too:
// autocomplete and inputmode hints; a number is a whole number from 0.
func TestFieldPartialDrawsSignInAttributes(t *testing.T) {
	// A clone: the shared base must never execute, or it cannot be
	// cloned for pages any more.
	tt := template.Must(baseTemplates.Clone())
	draw := func(f Field) string {
		var b bytes.Buffer
		if err := tt.ExecuteTemplate(&b, "field", f); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	got := draw(Field{ID: "totp", Name: "totp", Type: "text", Label: "Mã", Autocomplete: "one-time-code", InputMode: "numeric", Required: true})
	for _, want := range []string{`id="totp" name="totp"`, `autocomplete="one-time-code"`, `inputmode="numeric"`, ` required`} {
		if !strings.Contains(got, want) {
			t.Errorf("the code field lacks %s: %s", want, got)
		}
	}
	if got := draw(Field{ID: "user", Name: "username", Type: "text"}); strings.Contains(got, "autocomplete") || strings.Contains(got, "inputmode") {
		t.Errorf("a plain field has hints it was not given: %s", got)
	}
	if got := draw(Field{ID: "n", Name: "n", Type: "number"}); !strings.Contains(got, `min="0" step="1"`) {
		t.Errorf("a number field is not a whole number from 0: %s", got)
	}
}

func TestListErrorShowsARefusalOnTheFilterAndAnswersTheRest(t *testing.T) {
	explain := func(err error) (Refusal, bool) {
		if errors.Is(err, errs.ErrInvalid) {
			return Refusal{Status: http.StatusUnprocessableEntity, Field: "q", Message: "bad"}, true
		}
		return Refusal{}, false
	}
	for _, tt := range []struct {
		name       string
		err        error
		ok         bool
		status     int // the status returned, or answered when !ok
		wantRefuse bool
	}{
		{"no error", nil, true, http.StatusOK, false},
		{"a refusal the filter shows", errs.Invalid("q", "bad"), true, http.StatusUnprocessableEntity, true},
		{"anything else is answered", fmt.Errorf("read: %w", errs.ErrNotFound), false, http.StatusNotFound, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			ref, status, ok := ListError(w, httptest.NewRequest("GET", "/x?q=1", nil), tt.err, explain)
			if ok != tt.ok || (ok && status != tt.status) || (ref.Message != "") != tt.wantRefuse {
				t.Fatalf("= %+v, %d, %v; want ok %v, status %d", ref, status, ok, tt.ok, tt.status)
			}
			if !ok && w.Code != tt.status {
				t.Errorf("answered %d, want %d", w.Code, tt.status)
			}
			if ok && w.Body.Len() != 0 {
				t.Errorf("answered %q; the page should draw the list itself", w.Body.String())
			}
		})
	}
}
