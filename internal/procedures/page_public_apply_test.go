package procedures

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"chancery/internal/i18n"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// TestApplicationStartsWithTheAccountsNameAndEmail pins the form's first
// drawing: the name and e-mail address the account holds are filled in.
func TestApplicationStartsWithTheAccountsNameAndEmail(t *testing.T) {
	pr := &Procedure{Applicant: Applicant{Name: []string{"/holder/full_name"}, Email: "/holder/email"}}
	v := accountValues(pr, web.Principal{Name: "Phạm Thị Dung", Username: "dung@example.vn"})
	if v.Get("holder.full_name") != "Phạm Thị Dung" || v.Get("holder.email") != "dung@example.vn" {
		t.Errorf("values = %v", v)
	}
	// A name in two fields (surname, given names) is not guessed at.
	pr.Applicant.Name = []string{"/traveller/surname", "/traveller/given_names"}
	if v := accountValues(pr, web.Principal{Name: "Phạm Thị Dung", Username: "dung@example.vn"}); len(v) != 1 {
		t.Errorf("values for a split name = %v, want the e-mail only", v)
	}

	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		body := page(s.get(t, "citizen", "/procedures/1.900001/apply"))
		if !regexp.MustCompile(`id="f-applicant-full_name" name="applicant.full_name" value="test"`).MatchString(body) {
			t.Error("the application does not start with the account's name")
		}
		if !strings.Contains(body, `<ol class="stepper"`) || !strings.Contains(body, `<li class="step step-current" aria-current="step">`) {
			t.Error("the application has no step indicator")
		}
	})
}

// TestEmptyApplicationShowsEachMessageBesideItsFieldAndASummary pins
// issue 11's item 3: an application sent empty used to show the name's
// message above the applicant's group and none beside the identity
// fields; the browser's own English bubbles came first.
func TestEmptyApplicationShowsEachMessageBesideItsFieldAndASummary(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		form := page(s.get(t, "citizen", "/procedures/1.900001/apply"))
		if !strings.Contains(form, `class="form-grid" novalidate>`) {
			t.Error("the application form lets the browser's messages come first (no novalidate)")
		}
		rec := s.post(t, "citizen", "/procedures/1.900001/apply", url.Values{"unit": {consularCode}, "applicant.email": {"lan at example"}})
		body := page(rec)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("status = %d, want 422", rec.Code)
		}
		required, email := texts.T(i18n.VI, "procedures.form.required"), texts.T(i18n.VI, "procedures.form.email")
		for field, msg := range map[string]string{
			"f-applicant-full_name": required,
			"f-applicant-id_type":   required,
			"f-applicant-id_number": required,
			"f-applicant-email":     email,
			"f-document_name":       required,
		} {
			if !strings.Contains(body, `<p class="field-error" id="`+field+`-error">`+msg+`</p>`) {
				t.Errorf("no message %q beside %s", msg, field)
			}
		}
		if strings.Contains(body, `id="f-applicant-error"`) {
			t.Error("a message is shown for the applicant's group rather than beside its fields")
		}
		summary := body[strings.Index(body, `class="error-summary"`):]
		summary = summary[:strings.Index(summary, "</div>")]
		for _, link := range []string{`href="#f-applicant-full_name"`, `href="#f-applicant-id_type-cccd"`, `href="#f-applicant-id_number"`,
			`href="#f-applicant-email"`, `href="#f-document_name"`} {
			if !strings.Contains(summary, link) {
				t.Errorf("the error summary lacks a link %s", link)
			}
		}
		if !strings.Contains(summary, texts.T(i18n.VI, "procedures.public.errors.heading")) || !strings.Contains(summary, "Họ và tên: "+required) {
			t.Errorf("the summary names neither its purpose nor the fields:\n%s", summary)
		}
		en := page(s.post(t, "citizen", "/procedures/1.900001/apply?lang=en", url.Values{"unit": {consularCode}}))
		if !strings.Contains(en, texts.T(i18n.EN, "procedures.form.required")) || strings.Contains(en, required) {
			t.Error("the English page's messages are not in English")
		}
	})
}
