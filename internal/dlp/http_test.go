package dlp

import (
	"bytes"
	"encoding/json"
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

func (s *site) call(t testing.TB, sub authz.Subject, method, path, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := webtest.Request(method, path, contentType, body).WithContext(as(sub))
	return webtest.Serve(s.shell, s.h, web.Principal{Subject: sub, Stage: "full", Bearer: contentType == "application/json"}, r)
}

func (s *site) api(t testing.TB, sub authz.Subject, method, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	raw, ok := body.(string)
	if !ok && body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		raw = string(b)
	}
	return s.call(t, sub, method, path, "application/json", raw)
}

// Who may reach each route, and hostile input, on both databases: clerks
// see nothing, auditors read, security officers decide and keep the
// policy; NUL, bidi controls, unknown fields, stale versions and bad
// filters are refused with problems.
func TestAPIAccessAndHostileInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		id := heldID(t, s.svc.Gate(WayExchange).Check(as(s.clerk), mission, 0, "list", "text/csv", identityList(55)))
		hold := fmt.Sprintf("/api/v1/dlp/holds/%d", id)
		for _, c := range []struct {
			name   string
			sub    authz.Subject
			method string
			path   string
			body   any
			status int
		}{
			{"clerk lists", s.clerk, "GET", "/api/v1/dlp/holds", nil, http.StatusForbidden},
			{"clerk reads the policy", s.clerk, "GET", "/api/v1/dlp/policy", nil, http.StatusForbidden},
			{"auditor approves", s.auditor, "POST", hold + "/approve", map[string]string{}, http.StatusForbidden},
			{"auditor saves the policy", s.auditor, "PUT", "/api/v1/dlp/policy", map[string]any{"base": 1, "policy": DefaultPolicy()}, http.StatusForbidden},
			{"a bad status", s.auditor, "GET", "/api/v1/dlp/holds?status=lost", nil, http.StatusBadRequest},
			{"a limit too high", s.auditor, "GET", "/api/v1/dlp/holds?limit=1000", nil, http.StatusBadRequest},
			{"no such hold", s.auditor, "GET", "/api/v1/dlp/holds/99999", nil, http.StatusNotFound},
			{"a NUL in the note", s.officer, "POST", hold + "/reject", map[string]string{"note": "x\x00y"}, http.StatusBadRequest},
			{"a bidi override in the note", s.officer, "POST", hold + "/reject", map[string]string{"note": "x\u202ey"}, http.StatusBadRequest},
			{"an unknown field", s.officer, "POST", hold + "/approve", `{"note":"","approve":true}`, http.StatusBadRequest},
			{"a stale policy", s.officer, "PUT", "/api/v1/dlp/policy", map[string]any{"base": 7, "policy": DefaultPolicy()}, http.StatusConflict},
			{"a bad policy", s.officer, "PUT", "/api/v1/dlp/policy", `{"base":1,"policy":{"rules":[{"way":"fax","finding":"marking","decision":"block"}]}}`, http.StatusBadRequest},
			{"a huge policy", s.officer, "PUT", "/api/v1/dlp/policy", `{"base":1,"policy":{"rules":[` + strings.Repeat(`{"way":"*","finding":"marking","decision":"block"},`, 2000) + `{}]}}`, http.StatusBadRequest},
		} {
			if w := s.api(t, c.sub, c.method, c.path, c.body); w.Code != c.status {
				t.Errorf("%s: %d, want %d: %s", c.name, w.Code, c.status, w.Body)
			}
		}
		var list web.List[Hold]
		if w := s.api(t, s.auditor, "GET", "/api/v1/dlp/holds?status=held", nil); w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &list) != nil || len(list.Items) != 1 {
			t.Fatalf("auditor's list: %d %s", w.Code, w.Body)
		}
		if bytes.Contains(s.api(t, s.auditor, "GET", hold, nil).Body.Bytes(), []byte("0010990")) {
			t.Error("a hold shows the personal data it found")
		}
		if w := s.api(t, s.officer, "POST", hold+"/approve", map[string]string{"note": "đã xác minh"}); w.Code != http.StatusOK {
			t.Errorf("approve: %d %s", w.Code, w.Body)
		}
		if w := s.api(t, s.officer, "POST", hold+"/reject", map[string]string{"note": "muộn"}); w.Code != http.StatusConflict {
			t.Errorf("reject after approval: %d %s", w.Code, w.Body)
		}
	})
}

// The console page shows the queue to auditors (without the forms) and
// lets a security officer decide, in both languages.
func TestConsolePage(t *testing.T) {
	s := newSite(t, storetest.MustOpen(t, store.SQLite))
	id := heldID(t, s.svc.Gate(WayDownload).Check(as(s.clerk), "", 0, "ds.csv", "text/csv", identityList(70)))
	get := func(sub authz.Subject, lang i18n.Lang) *httptest.ResponseRecorder {
		return webtest.GetIn(s.shell, s.h, web.Principal{Subject: sub, Stage: "full"}, lang, ConsolePath)
	}
	webtest.PageHas(t, get(s.auditor, i18n.VI), http.StatusOK, fmt.Sprintf(`id="hold-%d"`, id), "Số định danh cá nhân (CCCD): 70")
	if strings.Contains(get(s.auditor, i18n.EN).Body.String(), `action="/console/sentinel/dlp/holds/`) {
		t.Error("an auditor is offered the decision form")
	}
	webtest.PageHas(t, get(s.officer, i18n.EN), http.StatusOK, "Personal identity numbers (CCCD): 70", `name="decision" value="approve"`, `id="dlp-policy-form"`)
	if w := get(s.clerk, i18n.VI); w.Code != http.StatusForbidden {
		t.Errorf("a clerk's view: %d", w.Code)
	}
	form := url.Values{"decision": {"reject"}, "note": {""}}
	w := s.call(t, s.officer, "POST", fmt.Sprintf("%s/holds/%d", ConsolePath, id), "application/x-www-form-urlencoded", form.Encode())
	webtest.PageHas(t, w, http.StatusUnprocessableEntity, fmt.Sprintf(`id="hold-%d"`, id))
	form.Set("note", "Không có căn cứ")
	if w := s.call(t, s.officer, "POST", fmt.Sprintf("%s/holds/%d", ConsolePath, id), "application/x-www-form-urlencoded", form.Encode()); w.Code != http.StatusSeeOther {
		t.Errorf("reject from the page: %d %s", w.Code, w.Body)
	}
}
