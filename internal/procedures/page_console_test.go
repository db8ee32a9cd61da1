package procedures

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// consoleStaff is the directory's staff as the console's handlers see
// them: the fixture's people, the consular department's officer and
// approver assignable.
type consoleStaff struct{ f *fixture }

func (s consoleStaff) StaffName(_ context.Context, id int64) (string, error) {
	if name, ok := s.f.staffName[id]; ok {
		return "Cán bộ " + name, nil
	}
	return "", fmt.Errorf("%w: no staff member %d", errs.ErrNotFound, id)
}

func (s consoleStaff) Assignable(_ context.Context, unitID int64) ([]StaffChoice, error) {
	if unitID != s.f.units[consularCode] {
		return nil, nil
	}
	return []StaffChoice{{ID: s.f.officer.ID, Name: "officer"}, {ID: s.f.approver.ID, Name: "approver"}}, nil
}

// consoleSite is the procedures' routes on a fixture, reached as a
// signed-in person.
type consoleSite struct {
	t     *testing.T
	f     *fixture
	rt    *web.Router
	shell *web.Shell
}

func newConsoleSite(t *testing.T, db *store.DB) *consoleSite {
	t.Helper()
	f := newFixture(t, db)
	shell := webtest.Shell(t, Texts(), identity.Texts())
	h, err := NewHandler(shell, HandlerOptions{Service: f.svc, Staff: consoleStaff{f}})
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return &consoleSite{t: t, f: f, rt: rt, shell: shell}
}

// do sends a request as sub; a non-nil form is posted url-encoded.
func (s *consoleSite) do(sub authz.Subject, method, path string, form url.Values) *httptest.ResponseRecorder {
	s.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return s.serve(sub, r)
}

func (s *consoleSite) serve(sub authz.Subject, r *http.Request) *httptest.ResponseRecorder {
	r.Header.Set("Accept", "text/html")
	r = r.WithContext(web.WithPrincipal(s.f.as(sub), web.Principal{Subject: sub, Name: s.f.staffName[sub.ID], Stage: "full"}))
	w := httptest.NewRecorder()
	s.shell.Language(s.rt).ServeHTTP(w, r)
	return w
}

// page gets a page that must answer 200 and returns its HTML.
func (s *consoleSite) page(sub authz.Subject, path string) string {
	s.t.Helper()
	w := s.do(sub, http.MethodGet, path, nil)
	if w.Code != http.StatusOK {
		s.t.Fatalf("GET %s = %d, want 200:\n%s", path, w.Code, mainOf(w))
	}
	return w.Body.String()
}

var versionInput = regexp.MustCompile(`name="version" value="(\d+)"`)

// act posts an action form of the dossier page, with the version the page
// shows, and returns the answer.
func (s *consoleSite) act(sub authz.Subject, code string, action Action, extra url.Values) *httptest.ResponseRecorder {
	s.t.Helper()
	m := versionInput.FindStringSubmatch(s.page(sub, consoleDossierPath(code)))
	if m == nil {
		s.t.Fatalf("the page of %s has no version", code)
	}
	form := url.Values{"action": {string(action)}, "version": {m[1]}}
	for k, v := range extra {
		form[k] = v
	}
	return s.do(sub, http.MethodPost, consoleDossierPath(code)+"/actions", form)
}

// mustAct takes an action that must succeed: 303 back to the dossier.
func (s *consoleSite) mustAct(sub authz.Subject, code string, action Action, extra url.Values) {
	s.t.Helper()
	w := s.act(sub, code, action, extra)
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), consoleDossierPath(code)+"?done="+string(action)+"&flash=") {
		s.t.Fatalf("%s = %d %s, want 303 back to the dossier:\n%s", action, w.Code, w.Header().Get("Location"), mainOf(w))
	}
	// The dossier's page confirms what was done, to which dossier, and
	// where that left it.
	if page := s.page(sub, w.Header().Get("Location")); !strings.Contains(page, `<p class="flash" role="status">Đã thực hiện «`) || !strings.Contains(page, "» với hồ sơ "+code+"; trạng thái hiện tại: ") {
		s.t.Errorf("after %s the dossier's page does not say what was done", action)
	}
}

// enter has the clerk enter an in-person dossier of procedure.
func (s *consoleSite) enter(procedure string, form map[string]any) *Dossier {
	s.t.Helper()
	d, err := s.f.svc.Submit(s.f.as(s.f.clerk), s.f.clerk, Submission{Procedure: procedure, UnitCode: consularCode, Channel: ChannelInPerson, Form: form})
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

// mainOf returns the main part of a page, for a failing test to show.
func mainOf(w *httptest.ResponseRecorder) string {
	body := w.Body.String()
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if j := strings.Index(body, "</main>"); j >= 0 {
		body = body[:j]
	}
	return body
}

func vi(key string, args ...any) string { return html.EscapeString(texts.T(i18n.VI, key, args...)) }

func TestConsoleQueueListsTheUnitsDossiersSoonestDeadlineFirst(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newConsoleSite(t, db)
		passport := s.enter("1.900005", passportForm()) // 5 working days
		s.f.clock.Advance(time.Hour)
		legal := s.enter("1.900001", legalizationForm()) // 1 working day: due first

		body := s.page(s.f.clerk, consoleQueuePath)
		if !strings.Contains(body, `<a href="/console/dossiers" aria-current="page">`+vi("procedures.console.nav")+`</a>`) {
			t.Error("the console's navigation has no current item for the dossiers")
		}
		if en := s.page(s.f.clerk, consoleQueuePath+"?lang=en"); !strings.Contains(en, texts.T(i18n.EN, "procedures.console.queue.title")) {
			t.Error("the queue is not in English when asked")
		}
		i, j := strings.Index(body, legal.Code), strings.Index(body, passport.Code)
		if i < 0 || j < 0 || i > j {
			t.Errorf("queue shows %s at %d and %s at %d; want both, the sooner deadline first", legal.Code, i, passport.Code, j)
		}
		if strings.Contains(body, vi("procedures.console.overdue")) {
			t.Error("a dossier on time is flagged overdue")
		}
		if !strings.Contains(body, vi("procedures.console.nearing")) {
			t.Error("the legalization due tomorrow is not flagged as nearing its deadline")
		}

		s.f.clock.Advance(3 * 24 * time.Hour) // Thursday: the legalization was due Tuesday
		body = s.page(s.f.clerk, consoleQueuePath+"?tab=received")
		if !strings.Contains(body, vi("procedures.console.overdue")) {
			t.Error("an overdue dossier is not flagged")
		}
		if body := s.page(s.f.clerk, consoleQueuePath+"?tab=completed"); strings.Contains(body, legal.Code) {
			t.Error("the completed tab lists a dossier that is only received")
		}

		far := s.page(s.f.far, consoleQueuePath)
		if strings.Contains(far, legal.Code) || strings.Contains(far, passport.Code) {
			t.Error("another unit's staff see the consular department's dossiers")
		}
		if w := s.do(s.f.far, http.MethodGet, consoleDossierPath(legal.Code), nil); w.Code != http.StatusNotFound {
			t.Errorf("another unit's staff open the dossier: %d", w.Code)
		}

		w := s.do(s.f.clerk, http.MethodGet, consoleQueuePath+"?code="+url.QueryEscape(legal.Code), nil)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != consoleDossierPath(legal.Code) {
			t.Errorf("searching by code = %d %s, want 303 to the dossier", w.Code, w.Header().Get("Location"))
		}
		w = s.do(s.f.clerk, http.MethodGet, consoleQueuePath+"?code=nonsense", nil)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), vi("procedures.console.invalid.code")) {
			t.Errorf("searching a malformed code = %d, want 422 with the message beside the box", w.Code)
		}
		if w := s.do(s.f.clerk, http.MethodGet, consoleQueuePath+"?after=garbage", nil); w.Code != http.StatusBadRequest {
			t.Errorf("a forged cursor = %d, want 400", w.Code)
		}
	})
}

func TestConsoleQueuePagesWithACursor(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newConsoleSite(t, db)
		var codes []string
		for range DefaultQueueLimit + 2 {
			codes = append(codes, s.enter("1.900001", legalizationForm()).Code)
		}
		first := s.page(s.f.clerk, consoleQueuePath)
		next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(first)
		if next == nil {
			t.Fatal("a full first page offers no next page")
		}
		second := s.page(s.f.clerk, html.UnescapeString(next[1]))
		last := codes[len(codes)-1]
		if strings.Contains(first, last) || !strings.Contains(second, last) || strings.Contains(second, codes[0]) {
			t.Error("the pages do not split the queue: the last dossier belongs on the second page only")
		}
	})
}

func TestConsoleClerkFlowThroughThePages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newConsoleSite(t, db)
		d := s.f.submitOnline(t)
		s.mustAct(s.f.clerk, d.Code, ActReceive, nil)
		page := s.page(s.f.officer, consoleDossierPath(d.Code))
		if !strings.Contains(page, `<option value="`+strconv.FormatInt(s.f.officer.ID, 10)+`"`) {
			t.Error("the assign form does not offer the unit's officer")
		}
		s.mustAct(s.f.officer, d.Code, ActAssign, url.Values{"assignee": {strconv.FormatInt(s.f.officer.ID, 10)}})
		s.mustAct(s.f.officer, d.Code, ActRequestDocuments, url.Values{"reason": {"Thiếu bản dịch công chứng"}})
		s.mustAct(s.f.clerk, d.Code, ActSupplement, nil)
		s.mustAct(s.f.approver, d.Code, ActApprove, nil)
		page = s.page(s.f.clerk, consoleDossierPath(d.Code))
		if !strings.Contains(page, vi("procedures.console.result.title")) {
			t.Error("an approved dossier's page does not show the signed result")
		}
		s.mustAct(s.f.clerk, d.Code, ActReturnResult, nil)

		page = s.page(s.f.clerk, consoleDossierPath(d.Code))
		history := page[strings.Index(page, `id="dossier-history"`):]
		at := 0
		for _, a := range []Action{ActReceive, ActAssign, ActRequestDocuments, ActSupplement, ActApprove, ActReturnResult} {
			i := strings.Index(history[at:], "<td>"+vi(a.Key())+"</td>")
			if i < 0 {
				t.Fatalf("the history does not show %s after the previous step", a)
			}
			at += i + 1
		}
		for _, want := range []string{"Thiếu bản dịch công chứng", vi("procedures.status.10"), "Cán bộ officer", "Cán bộ approver", "Nguyễn Thị Lan", "Bằng tốt nghiệp đại học"} {
			if !strings.Contains(page, want) {
				t.Errorf("the dossier page lacks %q", want)
			}
		}

		// The signed result downloads and verifies; a forged one does not.
		w := s.do(s.f.clerk, http.MethodGet, consoleDossierPath(d.Code)+"/result", nil)
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment") {
			t.Fatalf("result download = %d %q", w.Code, w.Header().Get("Content-Disposition"))
		}
		var res ResultFile
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		verify := url.Values{"document": {res.Document}, "key_id": {res.KeyID}, "signature": {res.Signature}}
		if w := s.do(s.f.clerk, http.MethodPost, "/console/results/verify", verify); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), vi("procedures.console.verify.valid")) {
			t.Errorf("verifying the downloaded result = %d, want valid", w.Code)
		}
		verify.Set("document", strings.Replace(res.Document, "Nguyễn", "Trần", 1))
		if w := s.do(s.f.clerk, http.MethodPost, "/console/results/verify", verify); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), vi("procedures.console.invalid.signature")) {
			t.Errorf("verifying a forged result = %d, want 422 invalid", w.Code)
		}

		// Attachments download as attachments of their stored type.
		got, err := s.f.svc.Get(s.f.as(s.f.clerk), s.f.clerk, d.Code)
		if err != nil {
			t.Fatal(err)
		}
		w = s.do(s.f.clerk, http.MethodGet, fmt.Sprintf("%s/attachments/%d", consoleDossierPath(d.Code), got.Attachments[0].ID), nil)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != MediaPDF || w.Header().Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment") || !bytes.Equal(w.Body.Bytes(), pdf) {
			t.Errorf("attachment download = %d %v", w.Code, w.Header())
		}
	})
}

func TestConsoleRefusedActionsChangeNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newConsoleSite(t, db)
		d := s.enter("1.900001", legalizationForm())
		s.mustAct(s.f.officer, d.Code, ActAssign, url.Values{"assignee": {strconv.FormatInt(s.f.officer.ID, 10)}})
		s.mustAct(s.f.officer, d.Code, ActRequestDocuments, url.Values{"reason": {"Thiếu bản chính"}})
		s.mustAct(s.f.clerk, d.Code, ActSupplement, nil)
		before, err := s.f.svc.Get(s.f.as(s.f.clerk), s.f.clerk, d.Code)
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name   string
			sub    authz.Subject
			action Action
			form   url.Values
			status int
			says   string
		}{
			{"a second request for documents", s.f.officer, ActRequestDocuments, url.Values{"reason": {"Thêm nữa"}}, http.StatusConflict, vi("procedures.console.error.conflict")},
			{"an officer approving", s.f.officer, ActApprove, nil, http.StatusForbidden, vi("procedures.console.error.forbidden")},
			{"a refusal without a reason", s.f.approver, ActRefuse, url.Values{"reason": {"  "}}, http.StatusUnprocessableEntity, vi("procedures.console.invalid.reason")},
			{"an assignee from another unit", s.f.officer, ActAssign, url.Values{"assignee": {strconv.FormatInt(s.f.far.ID, 10)}}, http.StatusUnprocessableEntity, vi("procedures.console.invalid.assignee")},
		}
		for _, c := range cases {
			w := s.act(c.sub, d.Code, c.action, c.form)
			if w.Code != c.status || !strings.Contains(w.Body.String(), c.says) {
				t.Errorf("%s = %d, want %d saying %q", c.name, w.Code, c.status, c.says)
			}
		}
		stale := url.Values{"action": {string(ActApprove)}, "version": {strconv.Itoa(before.Version - 1)}}
		if w := s.do(s.f.approver, http.MethodPost, consoleDossierPath(d.Code)+"/actions", stale); w.Code != http.StatusConflict {
			t.Errorf("an action on a stale version = %d, want 409", w.Code)
		}
		after, err := s.f.svc.Get(s.f.as(s.f.clerk), s.f.clerk, d.Code)
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != before.Version || len(after.History) != len(before.History) || after.Status != before.Status {
			t.Errorf("refused actions changed the dossier: version %d → %d, history %d → %d", before.Version, after.Version, len(before.History), len(after.History))
		}
		farForm := url.Values{"action": {string(ActApprove)}, "version": {strconv.Itoa(before.Version)}}
		if w := s.do(s.f.far, http.MethodPost, consoleDossierPath(d.Code)+"/actions", farForm); w.Code != http.StatusNotFound {
			t.Errorf("another unit acting = %d, want 404", w.Code)
		}
	})
}

func TestConsoleApologyOnlyForOverdueDossiers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newConsoleSite(t, db)
		d := s.enter("1.900001", legalizationForm()) // Monday; due end of Tuesday
		path := consoleDossierPath(d.Code)
		if page := s.page(s.f.officer, path); strings.Contains(page, `action="`+path+`/apology"`) {
			t.Error("a dossier on time offers a letter of apology")
		}
		apology := url.Values{"appointment": {"2025-03-14"}, "reason": {"Chờ xác minh của cơ quan cấp"}}
		if w := s.do(s.f.officer, http.MethodPost, path+"/apology", apology); w.Code != http.StatusConflict {
			t.Errorf("an apology for a dossier on time = %d, want 409", w.Code)
		}
		if w := s.do(s.f.officer, http.MethodGet, path+"/apology", nil); w.Code != http.StatusNotFound {
			t.Errorf("the letter of a dossier without one = %d, want 404", w.Code)
		}

		s.f.clock.Advance(2 * 24 * time.Hour) // Wednesday: late
		if page := s.page(s.f.officer, path); !strings.Contains(page, `action="`+path+`/apology"`) {
			t.Fatal("an overdue dossier offers no letter of apology")
		}
		saturday := url.Values{"appointment": {"2025-03-15"}, "reason": {"Chờ xác minh"}}
		if w := s.do(s.f.officer, http.MethodPost, path+"/apology", saturday); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), vi("procedures.console.invalid.appointment")) {
			t.Errorf("an apology with a Saturday appointment = %d, want 422 beside the date", w.Code)
		}
		if w := s.do(s.f.officer, http.MethodPost, path+"/apology", apology); w.Code != http.StatusSeeOther {
			t.Fatalf("an apology for an overdue dossier = %d:\n%s", w.Code, mainOf(w))
		}
		letter := s.page(s.f.clerk, path+"/apology")
		for _, want := range []string{"Chờ xác minh của cơ quan cấp", "14/03/2025", "11/03/2025", d.Code, "Nguyễn Thị Lan"} {
			if !strings.Contains(letter, want) {
				t.Errorf("the letter lacks %q", want)
			}
		}

		s.f.clock.Advance(3 * 24 * time.Hour) // Saturday 15th: late again
		again := url.Values{"appointment": {"2025-03-18"}, "reason": {"Cơ quan cấp chưa trả lời"}}
		if w := s.do(s.f.officer, http.MethodPost, path+"/apology", again); w.Code != http.StatusSeeOther {
			t.Fatalf("a second apology = %d:\n%s", w.Code, mainOf(w))
		}
		letter = s.page(s.f.clerk, path+"/apology")
		if !strings.Contains(letter, "Cơ quan cấp chưa trả lời") || !strings.Contains(letter, "18/03/2025") || strings.Contains(letter, "14/03/2025") {
			t.Error("the letter does not show the latest apology")
		}
	})
}

func TestConsoleReconciliationListsLaggingDossiersAndResends(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newConsoleSite(t, db)
		s.f.nationalPortal.down = true
		d := s.enter("1.900001", legalizationForm())
		if _, err := s.f.svc.SyncNationalPortal(context.Background()); err == nil {
			t.Fatal("sync with the national portal down reported no error")
		}
		const page = "/console/procedures/reconciliation"
		body := s.page(s.f.clerk, page)
		if !strings.Contains(body, d.Code) || !strings.Contains(body, "cannot reach the national portal") {
			t.Errorf("reconciliation does not list the lagging dossier with its error")
		}
		w := s.do(s.f.clerk, http.MethodPost, page+"/resend", url.Values{"code": {d.Code}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("resend = %d:\n%s", w.Code, mainOf(w))
		}
		s.f.nationalPortal.down = false
		if _, err := s.f.svc.SyncNationalPortal(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(s.f.nationalPortal.statuses(d.Code)); got != "[2]" {
			t.Errorf("after the resend the national portal got %s, want the current status once: [2]", got)
		}
		if body := s.page(s.f.clerk, page); strings.Contains(body, d.Code) || !strings.Contains(body, vi("procedures.console.reconciliation.none")) {
			t.Error("reconciliation still lists the dossier after it caught up")
		}
		if w := s.do(s.f.clerk, http.MethodPost, page+"/resend", url.Values{"code": {d.Code}}); w.Code != http.StatusConflict {
			t.Errorf("resending a synced dossier = %d, want 409", w.Code)
		}
		if w := s.do(s.f.far, http.MethodPost, page+"/resend", url.Values{"code": {d.Code}}); w.Code != http.StatusNotFound {
			t.Errorf("another unit resending = %d, want 404", w.Code)
		}
	})
}

func TestConsoleIndicesPageDrawsTheTrend(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newConsoleSite(t, db)
		d := s.enter("1.900001", legalizationForm())
		s.mustAct(s.f.officer, d.Code, ActAssign, url.Values{"assignee": {strconv.FormatInt(s.f.officer.ID, 10)}})
		s.mustAct(s.f.approver, d.Code, ActApprove, nil)

		body := s.page(s.f.clerk, "/console/procedures/indices")
		if !strings.Contains(body, "<svg") || !strings.Contains(body, `class="chart-line"`) {
			t.Error("the dashboard draws no trend chart")
		}
		// The one dossier was decided on time, with an electronic result.
		onTime := regexp.MustCompile(regexp.QuoteMeta(vi(IndicatorOnTime.Key())) + `</td>\s*<td class="num">100,0%</td>\s*<td class="num">1/1</td>`)
		if !onTime.MatchString(body) {
			t.Error("the dashboard does not show the on-time rate of 100%, 1 of 1")
		}
		if !strings.Contains(body, vi("procedures.indices.no_data")) {
			t.Error("the dashboard does not mark the indicators without data")
		}
		if empty := s.page(s.f.far, "/console/procedures/indices"); !strings.Contains(empty, vi("procedures.indices.no_data")) || strings.Contains(empty, "100,0%") {
			t.Error("another unit's dashboard counts the consular department's dossier")
		}
		for _, c := range []struct {
			query  string
			status int
		}{
			{"?scope=ministry", http.StatusForbidden},
			{"?scope=unit&unit=" + url.QueryEscape(protocolCode), http.StatusForbidden},
			{"?from=2025-13-01", http.StatusUnprocessableEntity},
			{"?from=2025-03-10&to=2025-03-01", http.StatusUnprocessableEntity},
		} {
			if w := s.do(s.f.approver, http.MethodGet, "/console/procedures/indices"+c.query, nil); w.Code != c.status {
				t.Errorf("indices%s = %d, want %d", c.query, w.Code, c.status)
			}
		}
		admin := authz.Subject{Kind: authz.Staff, ID: 999, Unit: s.f.units["000.00.00.G12"], Roles: authz.RolesOf(authz.Administrator)}
		if body := s.page(admin, "/console/procedures/indices?scope=ministry"); !strings.Contains(body, "100,0%") {
			t.Error("an administrator's ministry-wide reading misses the consular department's dossier")
		}
	})
}

// multipartEntry is an entry form with files, as a browser posts it.
func multipartEntry(t *testing.T, fields url.Values, files map[string][]byte) *http.Request {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, vs := range fields {
		for _, v := range vs {
			if err := mw.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, content := range files {
		fw, err := mw.CreateFormFile(name, strings.TrimPrefix(name, "doc.")+".pdf")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(content)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/console/dossiers/new", &b)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return r
}

func TestConsoleClerkEntersAnInPersonDossier(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newConsoleSite(t, db)
		if body := s.page(s.f.clerk, "/console/dossiers/new"); !strings.Contains(body, `value="1.900001"`) || strings.Contains(body, `value="1.900003"`) {
			t.Error("the chooser does not list exactly the unit's procedures")
		}
		form := s.page(s.f.clerk, "/console/dossiers/new?procedure=1.900001&channel=1")
		for _, name := range []string{`name="applicant.full_name"`, `name="doc.paper"`, `name="receipt"`, `enctype="multipart/form-data"`} {
			if !strings.Contains(form, name) {
				t.Errorf("the entry form lacks %s", name)
			}
		}
		if w := s.do(s.f.clerk, http.MethodGet, "/console/dossiers/new?procedure=1.900003", nil); w.Code != http.StatusBadRequest {
			t.Errorf("choosing a procedure the unit does not implement = %d, want 400", w.Code)
		}
		if w := s.do(s.f.approver, http.MethodGet, "/console/dossiers/new", nil); w.Code != http.StatusForbidden {
			t.Errorf("an approver entering a dossier = %d, want 403", w.Code)
		}

		fields := url.Values{"procedure": {"1.900001"}, "channel": {"1"}, "applicant.full_name": {"Lê Văn Bình"}, "applicant.id_type": {"cccd"},
			"applicant.id_number": {"001199000123"}, "applicant.email": {"binh@example.vn"}, "document_name": {"Giấy khai sinh"},
			"issuing_authority": {"UBND phường Láng"}, "issue_date": {"2001-05-02"}, "issuing_country": {"VN"}, "copies": {"2"},
			"delivery": {"counter"}, "declaration": {"true"}, "receipt": {"BL-2025/0042"}}

		bad := url.Values{}
		for k, v := range fields {
			bad[k] = v
		}
		bad.Set("applicant.email", "not an address")
		bad.Del("document_name")
		w := s.serve(s.f.clerk, multipartEntry(t, bad, map[string][]byte{"doc.paper": pdf}))
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `aria-invalid="true"`) || !strings.Contains(w.Body.String(), "Lê Văn Bình") {
			t.Errorf("an invalid form = %d, want 422 drawn again with the errors beside the fields and the values kept", w.Code)
		}
		w = s.serve(s.f.clerk, multipartEntry(t, fields, map[string][]byte{"doc.paper": []byte("GIF89a not a pdf")}))
		if w.Code != http.StatusUnsupportedMediaType {
			t.Errorf("a file of another type = %d, want 415", w.Code)
		}
		if items, _, _ := s.f.svc.Queue(s.f.as(s.f.clerk), s.f.clerk, Queue{}); len(items) != 0 {
			t.Fatalf("refused entries made %d dossiers", len(items))
		}
		if n := s.f.blobCount(t); n != 0 {
			t.Errorf("refused entries left %d files stored", n)
		}

		w = s.serve(s.f.clerk, multipartEntry(t, fields, map[string][]byte{"doc.paper": pdf, "doc.identity_copy": pdf}))
		if w.Code != http.StatusSeeOther {
			t.Fatalf("a good entry = %d:\n%s", w.Code, mainOf(w))
		}
		loc, _ := url.Parse(w.Header().Get("Location"))
		page := s.page(s.f.clerk, loc.Path)
		code := strings.TrimPrefix(loc.Path, "/console/dossiers/")
		if !strings.Contains(page, "/dossiers/"+code+"/receipt") || !strings.Contains(page, vi("procedures.status.2")) || !strings.Contains(page, "Giấy khai sinh") {
			t.Error("the entered dossier's page lacks its receipt link, its received status or its form")
		}
		d, err := s.f.svc.Get(s.f.as(s.f.clerk), s.f.clerk, code)
		if err != nil {
			t.Fatal(err)
		}
		if d.Channel != ChannelInPerson || !d.Paid || d.PaidOnline || len(d.Attachments) != 2 {
			t.Errorf("entered dossier: channel %d paid %v online %v attachments %d", d.Channel, d.Paid, d.PaidOnline, len(d.Attachments))
		}
	})
}

func TestNeedsReasonAsksForOneOnlyWhereTheApplicantIsOwedIt(t *testing.T) {
	at := time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)
	withdrawing := Lifecycle{Status: StatusWithdrawalRequested, Since: at}
	processing := Lifecycle{Status: StatusProcessing, Since: at}
	cases := []struct {
		name   string
		l      Lifecycle
		action Action
		roles  []Role
		want   bool
	}{
		{"refusing at intake", NewLifecycle(at, 1), ActRefuseIntake, []Role{RoleClerk}, true},
		{"receiving", NewLifecycle(at, 1), ActReceive, []Role{RoleClerk}, false},
		{"requesting documents", processing, ActRequestDocuments, []Role{RoleOfficer}, true},
		{"refusing", processing, ActRefuse, []Role{RoleApprover}, true},
		{"stopping for cause", processing, ActStop, []Role{RoleApprover}, true},
		{"stopping on the applicant's withdrawal", withdrawing, ActStop, []Role{RoleClerk}, false},
		{"approving", processing, ActApprove, []Role{RoleApprover}, false},
		{"an action the roles may not take", processing, ActRefuse, []Role{RoleOfficer}, false},
	}
	for _, c := range cases {
		if got := c.l.NeedsReason(c.action, c.roles...); got != c.want {
			t.Errorf("%s: NeedsReason = %v, want %v", c.name, got, c.want)
		}
		// Whenever a reason is needed, Apply must refuse the action without one.
		if c.want {
			if _, err := c.l.Apply(Event{Action: c.action, By: c.roles, At: at.Add(time.Minute)}); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%s without a reason: Apply = %v, want it refused as invalid", c.name, err)
			}
		}
	}
}
