package insight

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// postForm posts a console form as sub in lang, in a browser session.
func (s *site) postForm(sub authz.Subject, lang i18n.Lang, target string, form url.Values) *httptest.ResponseRecorder {
	r := webtest.Request("POST", target, "application/x-www-form-urlencoded", form.Encode())
	r.Header.Set("Accept", "text/html")
	r.AddCookie(&http.Cookie{Name: web.LangCookie, Value: string(lang)})
	return webtest.Serve(s.shell, s.h, web.Principal{Subject: sub, Stage: "full"}, r.WithContext(as(sub)))
}

// TestTemplateAndRoundForms pins the console's forms: the head makes a
// template with typed indicators (empty rows left out) and opens a round
// of it for two units; bad input comes back on the form naming the
// field, in Vietnamese with the service's English detail, nothing
// stored; officers get neither form (403), and the
// reports page offers the forms only to whom may use them.
func TestTemplateAndRoundForms(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		for _, lang := range []i18n.Lang{i18n.VI, i18n.EN} {
			webtest.PageHas(t, s.page(s.head, lang, "/console/insight/reports/templates/new"), http.StatusOK, `name="indicators[5].max"`, `inputmode="decimal"`)
		}
		// No template yet: the round's form says so and links to the
		// template's.
		webtest.PageHas(t, s.page(s.head, i18n.EN, "/console/insight/reports/rounds/new"), http.StatusOK, "Your unit has no report template yet.")
		webtest.PageHas(t, s.page(s.head, i18n.EN, "/console/insight/reports"), http.StatusOK, `href="/console/insight/reports/templates/new"`)
		if w := s.page(s.officer, i18n.EN, "/console/insight/reports"); strings.Contains(w.Body.String(), "/reports/templates/new") {
			t.Error("the reports page offers an officer the template form")
		}
		for _, sub := range []authz.Subject{s.officer, s.parisOff} {
			for _, p := range []string{"/console/insight/reports/templates/new", "/console/insight/reports/rounds/new"} {
				if w := s.page(sub, i18n.EN, p); w.Code != http.StatusForbidden {
					t.Errorf("%d GET %s: %d", sub.ID, p, w.Code)
				}
			}
		}

		form := url.Values{"code": {"visa_monthly"}, "name_vi": {"Báo cáo thị thực tháng"}, "name_en": {"Monthly visa report"}, "period": {"monthly"},
			"indicators[0].code": {"visas"}, "indicators[0].name_vi": {"Thị thực đã cấp"}, "indicators[0].name_en": {"Visas issued"},
			"indicators[0].type": {"integer"}, "indicators[0].unit": {"chiếc"}, "indicators[0].min": {"0"}, "indicators[0].required": {"true"},
			"indicators[2].code": {"refusal_rate"}, "indicators[2].name_vi": {"Tỷ lệ từ chối"}, "indicators[2].name_en": {"Refusal rate"},
			"indicators[2].type": {"percentage"}}
		bad := func(change func(url.Values)) url.Values {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			change(f)
			return f
		}
		for _, c := range []struct {
			name  string
			lang  i18n.Lang
			form  url.Values
			field string
			want  string
		}{
			{"a code with capitals", i18n.EN, bad(func(f url.Values) { f.Set("code", "Visa") }), "code", "lower-case"},
			{"no indicator", i18n.EN, bad(func(f url.Values) {
				for k := range f {
					if strings.HasPrefix(k, "indicators") {
						delete(f, k)
					}
				}
			}), "", "a template has 1 to"},
			{"a minimum that is no number", i18n.VI, bad(func(f url.Values) { f.Set("indicators[0].min", "mười") }), "indicators[0].min", "Giá trị nhỏ nhất phải là một số."},
			{"bounds on a text", i18n.VI, bad(func(f url.Values) { f.Set("indicators[2].type", "text"); f.Set("indicators[2].max", "5") }), "indicators[2].type", "chỉ tiêu văn bản"},
			{"a name with CR LF", i18n.EN, bad(func(f url.Values) { f.Set("indicators[2].name_en", "a\r\nb") }), "indicators[2].name_en", "name_en"},
			{"a twice-used code", i18n.EN, bad(func(f url.Values) { f.Set("indicators[2].code", "visas") }), "indicators[2].code", "another indicator"},
		} {
			w := s.postForm(s.head, c.lang, "/console/insight/reports/templates/new", c.form)
			if w.Code != http.StatusUnprocessableEntity || c.field != "" && !strings.Contains(w.Body.String(), `id="tpl-`+c.field+`-error"`) || !strings.Contains(w.Body.String(), c.want) {
				t.Errorf("%s: %d, want 422 on %s saying %q:\n%.3000s", c.name, w.Code, c.field, c.want, w.Body)
			}
		}
		if tps, _ := s.svc.Templates(as(s.head), s.head); len(tps) != 0 {
			t.Fatalf("refused forms stored %d templates", len(tps))
		}
		if w := s.postForm(s.head, i18n.EN, "/console/insight/reports/templates/new", form); w.Code != http.StatusSeeOther {
			t.Fatalf("create the template: %d %s", w.Code, w.Body)
		}
		tps, err := s.svc.Templates(as(s.head), s.head)
		if err != nil || len(tps) != 1 || len(tps[0].Indicators) != 2 || tps[0].Indicators[1].Type != Percent || !tps[0].Indicators[0].Required ||
			*tps[0].Indicators[0].Min != 0 || tps[0].Indicators[0].Max != nil {
			t.Fatalf("the template: %+v, %v", tps, err)
		}
		if w := s.postForm(s.head, i18n.EN, "/console/insight/reports/templates/new", form); w.Code != http.StatusConflict {
			t.Fatalf("the same code again: %d", w.Code)
		}

		webtest.PageHas(t, s.page(s.head, i18n.VI, "/console/insight/reports/rounds/new"), http.StatusOK, "Báo cáo thị thực tháng")
		round := url.Values{"template_id": {idString(tps[0].ID)}, "date": {"2026-03-20"}, "due_date": {"2026-04-20"},
			"units": {idString(s.units[parisCode]), idString(s.units[tokyoCode])}}
		for _, c := range []struct {
			field, key, value string
		}{{"template_id", "template_id", "999"}, {"units", "units", ""}, {"date", "date", "20/03/2026"}, {"due_date", "due_date", "2020-01-01"}} {
			f := url.Values{}
			for k, v := range round {
				f[k] = v
			}
			f.Del(c.key)
			if c.value != "" {
				f.Set(c.key, c.value)
			}
			if w := s.postForm(s.head, i18n.EN, "/console/insight/reports/rounds/new", f); w.Code != http.StatusUnprocessableEntity ||
				!strings.Contains(w.Body.String(), `id="round-`+c.field+`-error"`) {
				t.Errorf("a round with a bad %s: %d\n%.3000s", c.field, w.Code, w.Body)
			}
		}
		w := s.postForm(s.head, i18n.EN, "/console/insight/reports/rounds/new", round)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("open the round: %d %s", w.Code, w.Body)
		}
		rounds, err := s.svc.Rounds(as(s.head), s.head)
		if err != nil || len(rounds) != 1 || rounds[0].Label != "2026-03" || len(rounds[0].Units) != 2 || !strings.HasPrefix(w.Header().Get("Location"), fmt.Sprintf("/console/insight/reports/rounds/%d?", rounds[0].ID)) {
			t.Fatalf("the round: %+v, %v; redirected to %s", rounds, err, w.Header().Get("Location"))
		}
		if w := s.postForm(s.officer, i18n.EN, "/console/insight/reports/rounds/new", round); w.Code != http.StatusForbidden {
			t.Fatalf("an officer opens a round: %d", w.Code)
		}
	})
}
