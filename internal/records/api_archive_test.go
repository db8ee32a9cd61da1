package records

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// sameNotFound fails unless got and want are both 404 problems that read
// alike once the ids in them (hidden, missing) are set aside.
func sameNotFound(t testing.TB, name string, got, want *httptest.ResponseRecorder, hidden, missing string) {
	t.Helper()
	if got.Code != http.StatusNotFound || want.Code != http.StatusNotFound {
		t.Errorf("%s: %d and %d, want 404 for both (%s)", name, got.Code, want.Code, got.Body)
		return
	}
	g, w := decode[web.ProblemDetails](t, got), decode[web.ProblemDetails](t, want)
	g.Instance, w.Instance, g.RequestID, w.RequestID = "", "", "", ""
	g.Detail, w.Detail = strings.ReplaceAll(g.Detail, hidden, "N"), strings.ReplaceAll(w.Detail, missing, "N")
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: bodies differ:\n%+v\n%+v", name, g, w)
	}
}

// TestAPIArchive takes a copy through the API and pages, and pins that
// every archive route hides another unit's or a higher level's item
// exactly as a missing one, and refuses hostile input with a 4xx
// problem, changing nothing.
func TestAPIArchive(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		d := a.secretText(t)
		id := itoa(d.ID)
		exp := a.clock.now().Add(24 * time.Hour)
		rec := a.call(t, a.leader, "POST", "/api/v1/documents/"+id+"/actions", map[string]any{"action": "permit_print", "staff_id": a.officer.ID,
			"copies": 1, "reason": "Họp", "expires_at": exp})
		if rec.Code != http.StatusOK || decode[apiActionResult](t, rec).Permit == nil {
			t.Fatalf("permit_print: %d %s", rec.Code, rec.Body)
		}
		rec = a.call(t, a.officer, "POST", "/api/v1/documents/"+id+"/actions", map[string]any{"action": "print"})
		if res := decode[apiActionResult](t, rec); rec.Code != http.StatusOK || res.Copy == nil || res.Copy.Number != 1 {
			t.Fatalf("print: %d %s", rec.Code, rec.Body)
		}
		rec = a.call(t, a.officer, "POST", "/api/v1/documents/"+id+"/actions", map[string]any{"action": "print"})
		if rec.Code != http.StatusForbidden {
			t.Errorf("a print beyond the permission: %d %s", rec.Code, rec.Body)
		}
		if _, err := a.ledger.Integrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		if es, err := a.ledger.Search(t.Context(), audit.Query{Action: audit.DeniedAction, ResourceID: id}); err != nil || len(es) != 1 || es[0].Level != authz.Secret {
			t.Errorf("the refused print in the ledger: %+v, %v", es, err)
		}
		rec = a.call(t, a.officer, "GET", "/api/v1/documents/"+id+"/copies/1", nil)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/pdf" || !strings.HasPrefix(rec.Body.String(), "%PDF") {
			t.Errorf("the print's PDF: %d %s", rec.Code, rec.Header())
		}
		for path, want := range map[string]string{
			"/console/documents/" + id + "/copies":                                                     "Bản in",
			"/console/registers/secret/incoming?unit=" + itoa(a.units["000.00.03.G12"]) + "&year=2026": "Công điện tối mật",
			"/console/records/retention":                                                               "Bảng thời hạn bảo quản",
		} {
			sub := a.clerk
			if strings.Contains(path, "retention") {
				sub = a.archivist
			}
			rec := a.call(t, sub, "GET", path, nil)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
				t.Errorf("GET %s: %d, lacks %q", path, rec.Code, want)
			}
		}

		// Concealment: the Office's staff and an uncleared officer learn
		// nothing of the Consular Department's secret items.
		missing := "999999"
		consular := itoa(a.units["000.00.03.G12"])
		for _, route := range []struct{ method, hidden, absent string }{
			{"GET", "/api/v1/documents/" + id + "/copies", "/api/v1/documents/" + missing + "/copies"},
			{"GET", "/api/v1/documents/" + id + "/copies/1", "/api/v1/documents/" + missing + "/copies/1"},
			{"POST", "/api/v1/documents/" + id + "/actions", "/api/v1/documents/" + missing + "/actions"},
			{"GET", "/console/documents/" + id + "/copies", "/console/documents/" + missing + "/copies"},
		} {
			for name, sub := range map[string]authz.Subject{"other unit": a.office, "low clearance": a.lowOfficer} {
				var body any
				if route.method == "POST" {
					body = map[string]any{"action": "copy"}
				}
				sameNotFound(t, name+" "+route.hidden, a.call(t, sub, route.method, route.hidden, body), a.call(t, sub, route.method, route.absent, body), id, missing)
			}
		}
		office := a.office
		office.Roles |= authz.RolesOf(authz.SecurityOfficer, authz.Archivist)
		sameNotFound(t, "secret register", a.call(t, office, "GET", "/api/v1/registers/secret/incoming?unit="+consular, nil),
			a.call(t, office, "GET", "/api/v1/registers/secret/incoming?unit="+missing, nil), consular, missing)
		sameNotFound(t, "retention", a.call(t, office, "GET", "/api/v1/records/retention?unit="+consular, nil),
			a.call(t, office, "GET", "/api/v1/records/retention?unit="+missing, nil), consular, missing)

		// Hostile input: a clear 4xx problem, nothing stored.
		huge := `{"reason":"` + strings.Repeat("a", 50<<20) + `"}`
		for name, tc := range map[string]struct {
			sub          authz.Subject
			method, path string
			body         any
		}{
			"NUL in a reason":      {a.leader, "POST", "/api/v1/documents/" + id + "/actions", map[string]any{"action": "permit_copy", "staff_id": a.officer.ID, "copies": 1, "reason": "a\x00b", "expires_at": exp}},
			"bidi in a reason":     {a.leader, "POST", "/api/v1/documents/" + id + "/actions", map[string]any{"action": "permit_copy", "staff_id": a.officer.ID, "copies": 1, "reason": "a\u202eb", "expires_at": exp}},
			"CR LF in a hold":      {a.archivist, "POST", "/api/v1/case-files/1/holds", map[string]any{"reason": "a\r\nb"}},
			"too many copies":      {a.leader, "POST", "/api/v1/documents/" + id + "/actions", map[string]any{"action": "permit_copy", "staff_id": a.officer.ID, "copies": 1000, "reason": "x", "expires_at": exp}},
			"a bad copy number":    {a.officer, "GET", "/api/v1/documents/" + id + "/copies/-1", nil},
			"a bad direction":      {a.clerk, "GET", "/api/v1/registers/secret/sideways", nil},
			"a bad year":           {a.clerk, "GET", "/api/v1/registers/secret/incoming?year=99999", nil},
			"an unknown field":     {a.archivist, "POST", "/api/v1/records/retention/schedules", map[string]any{"series": "A", "title": "B", "extra": 1}},
			"a negative retention": {a.archivist, "POST", "/api/v1/records/retention/schedules", map[string]any{"series": "A", "title": "B", "retention_years": -1}},
			"a decision in future": {a.leader, "POST", "/api/v1/records/disposals/1/decide", map[string]any{"decision_number": "1/QĐ", "decision_date": exp.Add(48 * time.Hour)}},
			"50 MiB":               {a.archivist, "POST", "/api/v1/case-files/1/holds", huge},
			"no case files":        {a.archivist, "POST", "/api/v1/records/transfers", map[string]any{"case_files": []int64{}}},
			"a bad case file":      {a.archivist, "POST", "/api/v1/records/disposals", map[string]any{"case_files": []any{"x"}}},
		} {
			rec := a.call(t, tc.sub, tc.method, tc.path, tc.body)
			if rec.Code < 400 || rec.Code >= 500 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s: %d %.200s, want a 4xx problem", name, rec.Code, rec.Body)
			}
		}
		var n int
		if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM record_copy_permits`).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d permissions stored (%v), want the one given", n, err)
		}
	})
}

// form posts a console form as sub (a bearer session needs no CSRF
// token; the middleware checks browsers').
func (a *apiFixture) form(t testing.TB, sub authz.Subject, path string, values url.Values) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ctx := web.WithPrincipal(a.as(sub), web.Principal{Subject: sub, Stage: "full", Bearer: true})
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req.WithContext(ctx))
	return rec
}

// TestArchivePageForms pins the archive pages' forms: a leader permits a
// print, the holder makes it and finds it listed with its download, an
// archivist adds a series to the schedule; a bad field is a 400, another
// unit's document a 404.
func TestArchivePageForms(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		d := a.secretText(t)
		page := "/console/documents/" + itoa(d.ID) + "/copies"
		expires := a.clock.now().AddDate(0, 0, 3).Format("2006-01-02")
		steps := []struct {
			sub    authz.Subject
			path   string
			values url.Values
			want   int
		}{
			{a.leader, page, url.Values{"action": {"permit_print"}, "staff_id": {itoa(a.officer.ID)}, "copies": {"1"}, "reason": {"Họp"}, "expires": {expires}}, http.StatusSeeOther},
			{a.officer, page, url.Values{"action": {"print"}}, http.StatusSeeOther},
			{a.leader, page, url.Values{"action": {"permit_copy"}, "staff_id": {"abc"}, "copies": {"1"}, "reason": {"x"}, "expires": {expires}}, http.StatusBadRequest},
			{a.leader, page, url.Values{"action": {"permit_copy"}, "staff_id": {itoa(a.officer.ID)}, "copies": {"1"}, "reason": {"x"}, "expires": {"31/12/2026"}}, http.StatusBadRequest},
			{a.office, page, url.Values{"action": {"copy"}}, http.StatusNotFound},
			{a.archivist, consoleRetentionPath, url.Values{"action": {"schedule"}, "series": {"LS.TAM"}, "title": {"Hồ sơ tạm thời"}, "retention_years": {"3"}}, http.StatusSeeOther},
			{a.archivist, consoleRetentionPath, url.Values{"action": {"burn"}}, http.StatusBadRequest},
			{a.officer, consoleRetentionPath, url.Values{"action": {"schedule"}, "series": {"X"}, "title": {"x"}}, http.StatusForbidden},
		}
		for i, st := range steps {
			rec := a.form(t, st.sub, st.path, st.values)
			if rec.Code != st.want {
				t.Errorf("step %d (%s): %d %.300s, want %d", i, st.values.Get("action"), rec.Code, rec.Body, st.want)
			}
			// The page a form leads to says what was done.
			if done := map[string]string{"schedule": "Đã lưu thời hạn bảo quản của nhóm hồ sơ LS.TAM «Hồ sơ tạm thời».", "print": "bản in được ghi vào sổ."}[st.values.Get("action")]; rec.Code == http.StatusSeeOther && done != "" {
				if body := a.call(t, st.sub, "GET", rec.Header().Get("Location"), nil).Body.String(); !strings.Contains(body, done) {
					t.Errorf("step %d: the page it leads to lacks %q", i, done)
				}
			}
		}
		if body := a.call(t, a.officer, "GET", page, nil).Body.String(); !strings.Contains(body, "/api/v1/documents/"+itoa(d.ID)+"/copies/1") {
			t.Errorf("the holder's page lacks the download:\n%s", body)
		}
		if body := a.call(t, a.archivist, "GET", consoleRetentionPath, nil).Body.String(); !strings.Contains(body, "LS.TAM") {
			t.Errorf("the retention page lacks the new series")
		}
	})
}

// TestRetentionConfirmationsNameTheCaseFiles: after each retention form
// the page says what was done to which case files, by number and title:
// a hold, an appraisal, the leader's decision and its execution; a link
// naming a case file the reader may not see names nothing.
func TestRetentionConfirmationsNameTheCaseFiles(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		if _, err := a.svc.SetSchedule(a.as(a.archivist), a.archivist, NewSchedule{Series: "LS.TAM", Title: "Hồ sơ tạm thời", RetentionYears: 2}); err != nil {
			t.Fatal(err)
		}
		doc := a.incoming(t, "Thông báo lịch trực", authz.Unclassified, nil)
		gone, held := a.caseFileWith(t, "LS.TAM.02", 10, doc), a.caseFileWith(t, "LS.TAM.03", 10)
		a.closeCaseFiles(t, gone, held)
		other, err := a.svc.CreateCaseFile(a.as(a.office), a.office, NewCaseFile{Year: 2026, Code: "VP.01", Title: "Hồ sơ mật của Văn phòng", RetentionYears: 5})
		if err != nil {
			t.Fatal(err)
		}
		a.clock.set(time.Date(2029, 1, 2, 3, 0, 0, 0, time.UTC))
		confirm := func(sub authz.Subject, values url.Values, want string) {
			t.Helper()
			rec := a.form(t, sub, consoleRetentionPath, values)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("%s: %d %.300s", values.Get("action"), rec.Code, rec.Body)
			}
			if body := html.UnescapeString(a.call(t, sub, "GET", rec.Header().Get("Location"), nil).Body.String()); !strings.Contains(body, want) {
				t.Errorf("%s: the page lacks %q: %s", values.Get("action"), want, regexp.MustCompile(`(?s)<p class="flash.{0,300}`).FindString(body))
			}
		}
		confirm(a.archivist, url.Values{"action": {"hold"}, "case_file": {itoa(held.ID)}, "reason": {"Thanh tra"}},
			"Đã đặt lệnh giữ hồ sơ LS.TAM.03 «Hồ sơ LS.TAM.03»; hồ sơ không bị hủy khi còn lệnh.")
		confirm(a.archivist, url.Values{"action": {"appraise"}, "case_file": {itoa(gone.ID)}},
			"Đã đưa hồ sơ LS.TAM.02 «Hồ sơ LS.TAM.02» vào danh mục hồ sơ hết giá trị để thẩm định.")
		ds, err := a.svc.Disposals(a.as(a.archivist), a.archivist, a.units["000.00.03.G12"])
		if err != nil || len(ds) != 1 {
			t.Fatalf("disposals: %+v, %v", ds, err)
		}
		disposal := itoa(ds[0].ID)
		confirm(a.leader, url.Values{"action": {"decide"}, "disposal": {disposal}, "decision_number": {"05/QĐ-LS"}, "decision_date": {"2029-01-02"}},
			"Đã ghi quyết định hủy hồ sơ LS.TAM.02 «Hồ sơ LS.TAM.02».")
		confirm(a.archivist, url.Values{"action": {"execute"}, "disposal": {disposal}}, "Đã hủy hồ sơ LS.TAM.02 «Hồ sơ LS.TAM.02» theo quyết định.")
		body := a.call(t, a.archivist, "GET", consoleRetentionPath+"?flash=records.archive.flash.done&done=hold&case_file="+itoa(other.ID), nil).Body.String()
		if strings.Contains(html.UnescapeString(body), other.Title) || !strings.Contains(body, "Đã thực hiện.") {
			t.Errorf("a link naming another unit's case file named it, or said nothing")
		}
	})
}
