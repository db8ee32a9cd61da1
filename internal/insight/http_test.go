package insight

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// site is insight's routes over a fixture.
type site struct {
	*fixture
	shell *web.Shell
	h     http.Handler
}

func newSite(t testing.TB, db *store.DB) *site {
	t.Helper()
	f := newFixture(t, db)
	shell := webtest.Shell(t, Texts())
	h, err := NewHandler(shell, f.svc)
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return &site{fixture: f, shell: shell, h: rt}
}

// api sends a JSON request as sub.
func (s *site) api(sub authz.Subject, method, path, body string) *httptest.ResponseRecorder {
	r := webtest.Request(method, path, "application/json", body).WithContext(as(sub))
	return webtest.Serve(s.shell, s.h, web.Principal{Subject: sub, Stage: "full", Bearer: true}, r)
}

func (s *site) page(sub authz.Subject, lang i18n.Lang, target string) *httptest.ResponseRecorder {
	return webtest.GetIn(s.shell, s.h, web.Principal{Subject: sub, Stage: "full"}, lang, target)
}

// TestPagesAndAPIAnswerEachRole pins the routes: the pages draw for the
// leader, the head, the officer and a mission in both languages; another
// unit's task and round answer 404, a head assigning 403; the exports
// are the collecting unit's; hostile input answers 4xx.
func TestPagesAndAPIAnswerEachRole(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		w := s.api(s.leader, "POST", "/api/v1/insight/tasks", fmt.Sprintf(`{"title":"Báo cáo","lead_unit":%d,"supporting_units":[%d],"working_days":3}`,
			s.units[consularCode], s.units[parisCode]))
		if w.Code != http.StatusCreated {
			t.Fatalf("assign: %d %s", w.Code, w.Body)
		}
		var task Task
		json.Unmarshal(w.Body.Bytes(), &task)
		r := s.openRound(t)
		if _, err := s.svc.Submit(as(s.parisOff), s.parisOff, r.ID, map[string]string{"passports": "3", "on_time": "50"}); err != nil {
			t.Fatal(err)
		}
		for _, sub := range []authz.Subject{s.leader, s.head, s.officer, s.parisOff} {
			for _, lang := range []i18n.Lang{i18n.VI, i18n.EN} {
				for _, p := range []string{"/console/insight/tasks", fmt.Sprintf("/console/insight/tasks/%d", task.ID), "/console/insight/reports",
					fmt.Sprintf("/console/insight/reports/rounds/%d", r.ID)} {
					if sub == s.leader && strings.Contains(p, "rounds/") {
						continue
					}
					if w := s.page(sub, lang, p); w.Code != http.StatusOK {
						t.Errorf("%d %s %s: %d %s", sub.ID, lang, p, w.Code, w.Body)
					}
				}
			}
		}
		webtest.PageHas(t, s.page(s.head, i18n.EN, fmt.Sprintf("/console/insight/reports/rounds/%d", r.ID)), http.StatusOK, "Approve", "export.xlsx", "Summary")
		webtest.PageHas(t, s.page(s.parisOff, i18n.EN, fmt.Sprintf("/console/insight/reports/rounds/%d", r.ID)), http.StatusOK, "Your unit&#39;s report")
		if w := s.page(s.tokyoOff, i18n.EN, fmt.Sprintf("/console/insight/tasks/%d", task.ID)); w.Code != http.StatusNotFound {
			t.Fatalf("another unit's task page: %d", w.Code)
		}
		if w := s.api(s.head, "POST", "/api/v1/insight/tasks", `{"title":"x","lead_unit":1,"working_days":1}`); w.Code != http.StatusForbidden {
			t.Fatalf("a head assigns: %d", w.Code)
		}
		for _, target := range []string{"export.xlsx", "export.csv"} {
			path := fmt.Sprintf("/api/v1/insight/rounds/%d/%s", r.ID, target)
			if w := s.api(s.head, "GET", path, ""); w.Code != http.StatusOK || w.Body.Len() == 0 {
				t.Fatalf("%s for the head: %d", target, w.Code)
			}
			// A mission's officer has no role that exports (403, which
			// says nothing of the round); its head has, but not for this
			// round (404: the round is not theirs to know).
			if w := s.api(s.parisOff, "GET", path, ""); w.Code != http.StatusForbidden {
				t.Fatalf("%s for a mission's officer: %d", target, w.Code)
			}
			if w := s.api(s.parisHead, "GET", path, ""); w.Code != http.StatusNotFound {
				t.Fatalf("%s for a reporting mission's head: %d", target, w.Code)
			}
		}
		for name, body := range map[string]string{
			"NUL":   `{"title":"a\u0000b","lead_unit":1,"working_days":1}`,
			"CR LF": `{"title":"a\r\nb","lead_unit":1,"working_days":1}`,
			"bidi":  `{"title":"a\u202eb","lead_unit":1,"working_days":1}`,
			"50MiB": `{"title":"` + strings.Repeat("a", 50<<20) + `"}`,
		} {
			if w := s.api(s.leader, "POST", "/api/v1/insight/tasks", body); w.Code < 400 || w.Code >= 500 {
				t.Errorf("%s: %d", name, w.Code)
			}
		}
		var buf bytes.Buffer
		buf.WriteString(`{"values":{"passports":"1","on_time":"101"}}`)
		if w := s.api(s.officer, "POST", fmt.Sprintf("/api/v1/insight/rounds/%d/submissions", r.ID), buf.String()); w.Code != http.StatusUnprocessableEntity && w.Code != http.StatusBadRequest {
			t.Fatalf("out of bounds: %d %s", w.Code, w.Body)
		} else if !strings.Contains(w.Body.String(), "values.on_time") {
			t.Fatalf("the problem does not name the field: %s", w.Body)
		}
	})
}
