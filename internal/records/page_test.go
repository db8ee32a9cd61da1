package records

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// pageSite is the records' routes on a fixture (the pages' tests, both
// sides), reached as a signed-in member of staff, behind the shell's
// language middleware and the middleware that records refusals.
type pageSite struct {
	*apiFixture
	t     *testing.T
	shell *web.Shell
}

func newPageSite(t *testing.T, db *store.DB, opts HandlerOptions) *pageSite {
	t.Helper()
	f := newFixture(t, db)
	shell := webtest.Shell(t, Texts(), identity.Texts())
	opts.Service = f.svc
	h, err := NewHandler(shell, opts)
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return &pageSite{apiFixture: &apiFixture{fixture: f, h: web.Chain(rt, web.RecordDenials(audit.NewDenials(f.ledger).Record))}, t: t, shell: shell}
}

// serve serves r as sub.
func (s *pageSite) serve(sub authz.Subject, r *http.Request) *httptest.ResponseRecorder {
	r.Header.Set("Accept", "text/html")
	return webtest.Serve(s.shell, s.h, web.Principal{Subject: sub, Name: s.names[sub.ID], Stage: "full"}, r.WithContext(s.as(sub)))
}

func (s *pageSite) get(sub authz.Subject, path string) *httptest.ResponseRecorder {
	return s.serve(sub, httptest.NewRequest(http.MethodGet, path, nil))
}

// page gets a page that must answer 200 and returns its HTML.
func (s *pageSite) page(sub authz.Subject, path string) string {
	s.t.Helper()
	w := s.get(sub, path)
	if w.Code != http.StatusOK {
		s.t.Fatalf("GET %s = %d, want 200:\n%s", path, w.Code, w.Body)
	}
	return w.Body.String()
}

func (s *pageSite) post(sub authz.Subject, path string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.serve(sub, r)
}

// upload posts the incoming form as a browser does (uploadTo).
func (s *pageSite) upload(sub authz.Subject, form url.Values, name, contentType string, data []byte) *httptest.ResponseRecorder {
	return s.uploadTo(sub, consoleIncomingNewPath, form, name, contentType, data)
}

// uploadTo posts a form to path as a browser does: multipart, the
// fields, then the file (if name is not empty) of contentType (bytes when
// empty).
func (s *pageSite) uploadTo(sub authz.Subject, path string, form url.Values, name, contentType string, data []byte) *httptest.ResponseRecorder {
	s.t.Helper()
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if name != "" {
		h := textproto.MIMEHeader{}
		disposition := fmt.Sprintf(`form-data; name="file"; filename=%q`, name)
		if encoded, ok := strings.CutPrefix(name, "*"); ok {
			// RFC 2231's encoded name, as a client may send characters no
			// quoted string carries (CR, LF, NUL).
			disposition = `form-data; name="file"; filename*=UTF-8''` + encoded
		}
		h.Set("Content-Disposition", disposition)
		h.Set("Content-Type", contentType)
		w, err := mw.CreatePart(h)
		if err != nil {
			s.t.Fatal(err)
		}
		w.Write(data)
	}
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, path, &b)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return s.serve(sub, r)
}

// incomingForm is a valid incoming form's fields.
func incomingForm() url.Values {
	return url.Values{"channel": {"paper"}, "sender": {"Bộ Tư pháp"}, "number": {"45/BTP-PLQT"}, "date": {"2026-03-09"},
		"type": {"cong_van"}, "subject": {"Về việc góp ý dự thảo điều ước quốc tế"}, "urgency": {"urgent"}, "classification": {"none"},
		"due": {"2026-03-20"}}
}

var locationID = regexp.MustCompile(`^/console/documents/(\d+)\?flash=`)

// registered returns the id of the document a registration redirected to.
func registered(t *testing.T, w *httptest.ResponseRecorder) int64 {
	t.Helper()
	m := locationID.FindStringSubmatch(w.Header().Get("Location"))
	if w.Code != http.StatusSeeOther || m == nil {
		t.Fatalf("registration = %d %q, want 303 to the document:\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// TestPagesAnswerWhoseRolesReachThem pins who sees which page: the
// records office (clerk) every page of the incoming side; an officer the
// work, search and document pages but neither the incoming form nor the
// registers; a member of staff with no document role none; and the
// subnav links only what the viewer's roles reach.
func TestPagesAnswerWhoseRolesReachThem(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		d := s.incoming(t, "Công điện về lịch làm việc", authz.Unclassified, &Content{Filename: "a.pdf", MediaType: MediaPDF, Data: testPDF()})
		doc := consoleDocumentPath(d.ID)
		for _, c := range []struct {
			who  string
			sub  authz.Subject
			path string
			want int
		}{
			{"clerk", s.clerk, consoleWorkPath, 200}, {"clerk", s.clerk, consoleSearchPath, 200}, {"clerk", s.clerk, consoleIncomingNewPath, 200},
			{"clerk", s.clerk, doc, 200}, {"clerk", s.clerk, "/console/registers/incoming", 200}, {"clerk", s.clerk, "/console/registers/outgoing", 200},
			{"officer", s.officer, consoleWorkPath, 200}, {"officer", s.officer, doc, 200}, {"officer", s.officer, consoleSearchPath, 200},
			{"officer", s.officer, consoleIncomingNewPath, 403}, {"officer", s.officer, "/console/registers/incoming", 403},
			{"auditor", s.auditor, consoleWorkPath, 403}, {"auditor", s.auditor, consoleSearchPath, 403}, {"auditor", s.auditor, doc, 403},
			{"clerk", s.clerk, "/console/registers/sideways", 404},
		} {
			if w := s.get(c.sub, c.path); w.Code != c.want {
				t.Errorf("%s GET %s = %d, want %d", c.who, c.path, w.Code, c.want)
			}
		}
		clerk, officer := s.page(s.clerk, consoleWorkPath), s.page(s.officer, consoleWorkPath)
		for _, link := range []string{`href="/console/documents/incoming/new"`, `href="/console/registers/incoming"`} {
			if !strings.Contains(clerk, link) || strings.Contains(officer, link) {
				t.Errorf("the subnav's %s: clerk %v, officer %v; want the clerk's only", link, strings.Contains(clerk, link), strings.Contains(officer, link))
			}
		}
		if !strings.Contains(officer, `href="/console/documents/drafts/new"`) || !strings.Contains(officer, `href="/console/case-files"`) {
			t.Error("the officer's subnav lacks drafting or case files")
		}
		if strings.Contains(officer, `href="/console/archive"`) || !strings.Contains(s.page(s.leader, consoleWorkPath), `href="/console/archive"`) {
			t.Error("the archive is linked to whoever reads classifications (the leader), not to the officer")
		}
	})
}

// TestHiddenDocumentPagesAnswerAsMissing pins issue 18's concealment on
// the pages: a document above the viewer's clearance, or of another unit
// not shared with the viewer's, answers the document page, its content
// and its actions exactly as a missing one does.
func TestHiddenDocumentPagesAnswerAsMissing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		secret := s.incoming(t, "Công điện tối mật về đoàn cấp cao", authz.Secret, &Content{Filename: "a.pdf", MediaType: MediaPDF, Data: testPDF()})
		hidden, missing := strconv.FormatInt(secret.ID, 10), "999999"
		for name, sub := range map[string]authz.Subject{"low clearance": s.lowOfficer, "other unit": s.office} {
			for _, suffix := range []string{"", "/content", "/actions"} {
				do := func(id string) *httptest.ResponseRecorder {
					if suffix == "/actions" {
						return s.post(sub, "/console/documents/"+id+suffix, url.Values{"action": {"comment"}, "note": {"x"}})
					}
					return s.get(sub, "/console/documents/"+id+suffix)
				}
				got, want := do(hidden), do(missing)
				if got.Code != http.StatusNotFound || want.Code != http.StatusNotFound {
					t.Fatalf("%s %s: %d and %d, want 404 for both", name, suffix, got.Code, want.Code)
				}
				if g, w := strings.ReplaceAll(got.Body.String(), "documents/"+hidden, "documents/N"), strings.ReplaceAll(want.Body.String(), "documents/"+missing, "documents/N"); g != w {
					t.Errorf("%s %s: the hidden document's page differs from a missing one's:\n%s\n---\n%s", name, suffix, g, w)
				}
			}
			for _, path := range []string{consoleWorkPath, consoleSearchPath + "?q=cong+dien", consoleSearchPath} {
				if body := s.page(sub, path); strings.Contains(body, "tối mật về đoàn") || strings.Contains(body, `href="/console/documents/`+hidden+`"`) {
					t.Errorf("%s sees the hidden document on %s", name, path)
				}
			}
		}
		if w := s.get(s.clerk, "/console/documents/abc"); w.Code != http.StatusNotFound {
			t.Errorf("a malformed id = %d, want 404 like a missing document", w.Code)
		}
	})
}

// TestIncomingFormRegistersWithItsFile registers an incoming document
// with its scan through the page (multipart), as the records office does:
// the arrival number is the register's next, the file is stored as sent
// and checked by its bytes, the channel recorded; the same document again
// is warned of as a duplicate before anything is saved, and registered
// only when the clerk confirms.
func TestIncomingFormRegistersWithItsFile(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		form := s.page(s.clerk, consoleIncomingNewPath)
		for _, want := range []string{`name="csrf_token"`, `enctype="multipart/form-data"`, `name="file"`, `value="top_secret"`, `value="paper"`} {
			if !strings.Contains(form, want) {
				t.Errorf("the incoming form lacks %s", want)
			}
		}
		if low := s.page(s.lowOfficer, consoleIncomingNewPath); strings.Contains(low, `value="secret"`) || !strings.Contains(low, `value="confidential"`) {
			t.Error("the form offers levels above the clerk's clearance (or not theirs)")
		}
		id := registered(t, s.upload(s.clerk, incomingForm(), "cv45.pdf", "application/pdf", testPDF()))
		v, err := s.svc.Get(s.as(s.clerk), s.clerk, id)
		if err != nil {
			t.Fatal(err)
		}
		if v.RegisterNumber != 1 || v.Sender != "Bộ Tư pháp" || v.Urgency != Urgent || v.Content == nil || v.Content.MediaType != MediaPDF ||
			v.Date.In(registerZone()).Format("2006-01-02") != "2026-03-09" || v.DueAt.In(registerZone()).Format("2006-01-02") != "2026-03-20" {
			t.Errorf("registered %+v", v.Document)
		}
		if c, _ := s.svc.ChannelOf(s.as(s.clerk), id); c != ChannelPaper {
			t.Errorf("channel %q, want paper", c)
		}
		page := s.page(s.clerk, consoleDocumentPath(id))
		for _, want := range []string{"Về việc góp ý dự thảo điều ước quốc tế", "45/BTP-PLQT", "Văn bản giấy", `href="/console/documents/` + strconv.FormatInt(id, 10) + `/content"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the document page lacks %q", want)
			}
		}
		if w := s.get(s.clerk, consoleDocumentPath(id)+"/content"); w.Code != 200 || !bytes.Equal(w.Body.Bytes(), testPDF()) ||
			!strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment") {
			t.Errorf("download: %d %v", w.Code, w.Header())
		}

		again := s.upload(s.clerk, incomingForm(), "cv45.pdf", "application/pdf", testPDF())
		if again.Code != http.StatusConflict || !strings.Contains(again.Body.String(), `id="duplicates"`) || !strings.Contains(again.Body.String(), `name="confirm_duplicate"`) {
			t.Fatalf("the same document again = %d, want 409 with the duplicate warning:\n%s", again.Code, again.Body)
		}
		if n, _ := countDocuments(s.as(s.clerk), db, "1=1", nil); n != 1 {
			t.Errorf("%d documents after the warning, want 1: nothing is saved before the clerk confirms", n)
		}
		confirmed := incomingForm()
		confirmed.Set("confirm_duplicate", "true")
		if id2 := registered(t, s.upload(s.clerk, confirmed, "cv45.pdf", "application/pdf", testPDF())); id2 == id {
			t.Error("the confirmed duplicate is the same document")
		}

		// A duplicate the clerk may not know of is never reported.
		secret := incomingForm()
		secret.Set("number", "46/BTP-PLQT")
		secret.Set("classification", "secret")
		secret.Set("classification_reason", "mục 3")
		registered(t, s.upload(s.clerk, secret, "", "", nil))
		secret.Set("classification", "none")
		if w := s.upload(s.lowOfficer, secret, "", "", nil); w.Code != http.StatusSeeOther {
			t.Errorf("a duplicate above the clerk's clearance was reported (%d):\n%s", w.Code, w.Body)
		}
	})
}

// TestIncomingFormRefusesBadInput pins the form's refusals: each shown
// beside its field, the form drawn again as it was filled, nothing
// stored.
func TestIncomingFormRefusesBadInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{MaxUpload: 4096})
		with := func(k, v string) url.Values {
			f := incomingForm()
			if v == "" {
				f.Del(k)
			} else {
				f.Set(k, v)
			}
			return f
		}
		above := with("classification", "top_secret")
		above.Set("classification_reason", "mục 1")
		for _, c := range []struct {
			why         string
			form        url.Values
			file        string
			contentType string
			data        []byte
			status      int
			field       string
		}{
			{"no sender", with("sender", ""), "", "", nil, 422, "in-sender"},
			{"no type", with("type", ""), "", "", nil, 422, "in-type"},
			{"a bad date", with("date", "09/03/2026"), "", "", nil, 422, "in-date"},
			{"a bidi override in the subject", with("subject", "Về việc \u202Eabc"), "", "", nil, 422, "in-subject"},
			{"above the clearance", above, "", "", nil, 422, "in-classification"},
			{"classified without its ground", with("classification", "confidential"), "", "", nil, 422, "in-classification_reason"},
			{"a PNG declared as PDF", incomingForm(), "a.pdf", "application/pdf", testPNG(), 422, "in-file"},
			{"a program named .pdf", incomingForm(), "a.pdf", "application/octet-stream", []byte("MZ\x90\x00"), 422, "in-file"},
			{"a name with CR LF", incomingForm(), "*a.pdf%0D%0AX-Evil%3A%201", "application/pdf", testPDF(), 422, "in-file"},
			{"a name with NUL", incomingForm(), "*a%00.pdf", "application/pdf", testPDF(), 422, "in-file"},
			{"a name with a direction override", incomingForm(), "*hoa-don%E2%80%AEfdp.pdf", "application/pdf", testPDF(), 422, "in-file"},
			{"a file over the limit", incomingForm(), "big.pdf", "application/pdf", append([]byte("%PDF-1.4\n"), make([]byte, 5000)...), 413, "in-file"},
		} {
			sub := s.clerk
			if c.why == "above the clearance" {
				sub = s.lowOfficer
			}
			w := s.upload(sub, c.form, c.file, c.contentType, c.data)
			body := w.Body.String()
			if w.Code != c.status || !strings.Contains(body, `id="`+c.field+`-error"`) || !strings.Contains(body, `id="incoming-form"`) {
				t.Errorf("%s: %d, want %d with an error beside %s:\n%s", c.why, w.Code, c.status, c.field, body)
			}
			if c.form.Get("subject") != "" && !strings.Contains(body, "Về việc") {
				t.Errorf("%s: the form is not drawn again as it was filled", c.why)
			}
		}
		if n, _ := countDocuments(s.as(s.clerk), db, "1=1", nil); n != 0 {
			t.Errorf("%d documents stored by refused forms", n)
		}
	})
}

// TestDocumentPageHandling walks the incoming side's handling on the
// document page: the leader's instruction (bút phê) naming the lead
// officer and a supporting unit with a deadline, the officer's progress
// step and completion, each recorded in the history with who and when,
// the read receipts naming who read it; actions offered only to those
// who may take them.
func TestDocumentPageHandling(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		d := s.incoming(t, "Công điện về công tác bảo hộ công dân", authz.Unclassified, nil)
		path := consoleDocumentPath(d.ID)
		if page := s.page(s.officer, path); strings.Contains(page, `id="instruct-form"`) || strings.Contains(page, `id="complete-form"`) {
			t.Error("the officer is offered the instruction, or completion before any assignment")
		}
		leaderPage := s.page(s.leader, path)
		if !strings.Contains(leaderPage, `id="instruct-form"`) {
			t.Fatal("the leader is not offered the instruction")
		}
		consular, office := s.units["000.00.03.G12"], s.units["000.00.01.G12"]
		bad := url.Values{"action": {"assign"}, "instruction": {"Giao Cục Lãnh sự chủ trì"}, "lead_unit": {strconv.FormatInt(office, 10)},
			"lead_staff": {strconv.FormatInt(s.officer.ID, 10)}}
		if w := s.post(s.leader, path+"/actions", bad); w.Code != 422 || !strings.Contains(w.Body.String(), `id="instruct-lead_staff-error"`) {
			t.Errorf("an officer of another unit than the lead = %d, want 422 beside lead_staff", w.Code)
		}
		deadline := s.clock.now().AddDate(0, 0, 7).In(registerZone()).Format("2006-01-02")
		assign := url.Values{"action": {"assign"}, "instruction": {"Giao Cục Lãnh sự chủ trì, báo cáo trước hạn."},
			"lead_unit": {strconv.FormatInt(consular, 10)}, "lead_staff": {strconv.FormatInt(s.officer.ID, 10)},
			"support_units": {strconv.FormatInt(office, 10)}, "deadline": {deadline}}
		if w := s.post(s.leader, path+"/actions", assign); w.Code != http.StatusSeeOther {
			t.Fatalf("instruction = %d:\n%s", w.Code, w.Body)
		}
		work := s.page(s.officer, consoleWorkPath)
		if !strings.Contains(work, "Công điện về công tác bảo hộ công dân") || !strings.Contains(work, "Chủ trì") {
			t.Error("my work does not list the assignment with its role")
		}
		if page := s.page(s.office, path); !strings.Contains(page, "Công điện về công tác bảo hộ") {
			t.Error("the supporting unit may not read the document")
		}
		if w := s.post(s.officer, path+"/actions", url.Values{"action": {"comment"}, "note": {""}}); w.Code != 422 ||
			!strings.Contains(w.Body.String(), `id="step-note-error"`) {
			t.Errorf("an empty step = %d, want 422 beside its note", w.Code)
		}
		if w := s.post(s.officer, path+"/actions", url.Values{"action": {"comment"}, "note": {"Đã liên hệ Đại sứ quán."}}); w.Code != http.StatusSeeOther {
			t.Fatalf("step = %d:\n%s", w.Code, w.Body)
		}
		if w := s.post(s.officer, path+"/actions", url.Values{"action": {"complete"}, "note": {"Đã báo cáo Lãnh đạo."}}); w.Code != http.StatusSeeOther {
			t.Fatalf("completion = %d:\n%s", w.Code, w.Body)
		}
		page := s.page(s.clerk, path)
		for _, want := range []string{"Bút phê, giao xử lý", "Ghi nhận tiến độ xử lý", "Đã liên hệ Đại sứ quán.", "Hoàn thành xử lý", "Đã xử lý xong",
			"Giao Cục Lãnh sự chủ trì", "officer", "leader", `id="receipts"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the document page lacks %q", want)
			}
		}
		if strings.Contains(page, `id="complete-form"`) {
			t.Error("a done document still offers completion")
		}
		if w := s.post(s.officer, path+"/actions", url.Values{"action": {"complete"}}); w.Code != http.StatusConflict {
			t.Errorf("completing twice = %d, want 409", w.Code)
		}
	})
}

// TestSearchPageNeverCountsHiddenDocuments pins issue 18's search rule on
// the page: hits, totals and facets count only what the viewer may see;
// words without diacritics find words with them; filters narrow.
func TestSearchPageNeverCountsHiddenDocuments(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		s.incoming(t, "Công điện về hộ chiếu ngoại giao", authz.Unclassified, nil)
		s.incoming(t, "Công điện tối mật về hộ chiếu ngoại giao", authz.Secret, nil)
		total := regexp.MustCompile(`id="search-total">\((\d+) văn bản\)`)
		count := func(sub authz.Subject, q string) (int, string) {
			body := s.page(sub, consoleSearchPath+"?"+q)
			m := total.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no total on the search page:\n%s", body)
			}
			n, _ := strconv.Atoi(m[1])
			return n, body
		}
		if n, _ := count(s.clerk, "q=ho+chieu"); n != 2 {
			t.Errorf("the cleared clerk finds %d, want 2", n)
		}
		n, body := count(s.lowOfficer, "q=ho+chieu")
		if n != 1 || strings.Contains(body, "tối mật về hộ chiếu") || strings.Contains(body, "Tối mật (") || !strings.Contains(body, "Không mật</a> <span class=\"muted\">(1)") {
			t.Errorf("the low officer finds %d, or a facet counts the hidden one:\n%s", n, body)
		}
		if n, _ := count(s.clerk, "q=ho+chieu&level=secret"); n != 1 {
			t.Errorf("filtered by level: %d, want 1", n)
		}
		if n, _ := count(s.clerk, "q=ho+chieu&direction=outgoing"); n != 0 {
			t.Errorf("filtered by direction: %d, want 0", n)
		}
		if w := s.get(s.clerk, consoleSearchPath+"?level=cosmic"); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `id="s-level-error"`) {
			t.Errorf("a bad filter = %d, want 422 beside it", w.Code)
		}
	})
}

// TestRegisterPageHasDecree30sColumns pins the registers' pages: the
// incoming register's columns in order with its entries by arrival
// number, the printable version marked for A4 landscape, another unit's
// register answered as missing.
func TestRegisterPageHasDecree30sColumns(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		s.clock.set(time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC))
		s.incoming(t, "Văn bản thứ nhất", authz.Unclassified, nil)
		s.incoming(t, "Văn bản thứ hai", authz.Unclassified, nil)
		body := s.page(s.clerk, "/console/registers/incoming?year=2026")
		cols := []string{"Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu văn bản", "Ngày tháng văn bản", "Tên loại và trích yếu nội dung",
			"Đơn vị hoặc người nhận", "Ngày chuyển", "Ký nhận", "Ghi chú"}
		last := 0
		for _, c := range cols {
			i := strings.Index(body, c)
			if i < last {
				t.Errorf("column %q missing or out of order", c)
			}
			last = i
		}
		if i, j := strings.Index(body, "Văn bản thứ nhất"), strings.Index(body, "Văn bản thứ hai"); i < 0 || j < i {
			t.Error("the entries are not in arrival order")
		}
		if print := s.page(s.clerk, "/console/registers/incoming?year=2026&print=true"); !strings.Contains(print, "print-landscape") {
			t.Error("the printable register is not marked for A4 landscape")
		}
		out := s.page(s.clerk, "/console/registers/outgoing")
		// Decree 30 Appendix IV's outgoing columns, in order (page_register.go).
		last = 0
		for _, c := range []string{"Số, ký hiệu văn bản", "Ngày tháng văn bản", "Tên loại và trích yếu nội dung", "Người ký", "Nơi nhận văn bản",
			"Đơn vị, người nhận bản lưu", "Số lượng bản", "Ngày chuyển", "Ký nhận", "Ghi chú"} {
			i := strings.Index(out, c)
			if i < last {
				t.Errorf("the outgoing register's column %q missing or out of order", c)
			}
			last = i
		}
		other := strconv.FormatInt(s.units["000.00.01.G12"], 10)
		if w := s.get(s.clerk, "/console/registers/incoming?unit="+other); w.Code != http.StatusNotFound {
			t.Errorf("another unit's register = %d, want 404", w.Code)
		}
	})
}

// TestSearchSaysMoreThanItsCap pins, on the page and in the API, a search
// with more matches than SearchCap: "more than 1,000" in the reader's
// language and total_is_lower_bound, with the facets counted among the
// newest 1,000; a caller of another unit still counts none of them.
func TestSearchSaysMoreThanItsCap(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		// 1,400 documents of the low officer's unit, 85 % of them within
		// its clearance (searchCorpus's levels).
		searchCorpus(t, db, []int64{s.lowOfficer.Unit}, s.clerk.ID, 1400)
		body := s.page(s.lowOfficer, consoleSearchPath)
		if !strings.Contains(body, `id="search-total">(hơn 1.000 văn bản)`) || !strings.Contains(body, "Đếm trong 1.000 văn bản mới nhất.") {
			t.Errorf("the search page does not say more than 1.000:\n%s", body)
		}
		if body := s.page(s.lowOfficer, consoleSearchPath+"?lang=en"); !strings.Contains(body, `id="search-total">(more than 1,000 documents)`) {
			t.Errorf("the English search page does not say more than 1,000:\n%s", body)
		}
		if body := s.page(s.office, consoleSearchPath); !strings.Contains(body, `id="search-total">(0 văn bản)`) {
			t.Errorf("another unit's officer counts the unit's documents:\n%s", body)
		}
		a := apiOn(t, s.fixture)
		for sub, want := range map[*authz.Subject]apiSearchPage{&s.lowOfficer: {Total: SearchCap, More: true}, &s.office: {Total: 0, More: false}} {
			rec := a.call(t, *sub, http.MethodGet, "/api/v1/documents?limit=5", nil)
			got := decode[apiSearchPage](t, rec)
			if rec.Code != http.StatusOK || got.Total != want.Total || got.More != want.More || !strings.Contains(rec.Body.String(), `"total_is_lower_bound":`) {
				t.Errorf("staff %d: GET /api/v1/documents = %d %s, want total %d, total_is_lower_bound %v", sub.ID, rec.Code, rec.Body, want.Total, want.More)
			}
		}
	})
}

// unitsDirectory names the fixture's units as the directory would.
type unitsDirectory map[string]int64

func (d unitsDirectory) UnitNames(_ context.Context, id int64) (string, string, error) {
	for code, u := range d {
		if u == id {
			return "Đơn vị " + code, "Unit " + code, nil
		}
	}
	return "", "", fmt.Errorf("unit %d: %w", id, errs.ErrNotFound)
}

func (d unitsDirectory) UnitChoices(context.Context) ([]web.UnitChoice, error) {
	var us []web.UnitChoice
	for code, id := range d {
		us = append(us, web.UnitChoice{ID: id, Code: code, NameVI: "Đơn vị " + code, NameEN: "Unit " + code, Active: true})
	}
	return us, nil
}

func (unitsDirectory) StaffName(_ context.Context, id int64) (string, error) {
	return "Cán bộ mang mã " + itoa(id), nil
}

// TestSecretRegisterPicksItsUnitByName pins issue 11's unit picker on the
// secret registers: a select of units by name, valued by the id the
// query's unit= reads, the shown unit selected, no typed code.
func TestSecretRegisterPicksItsUnitByName(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		s.shell.SetDirectory(unitsDirectory(s.units))
		consular, office := itoa(s.units["000.00.03.G12"]), itoa(s.units["000.00.01.G12"])
		body := s.page(s.clerk, "/console/registers/secret/outgoing?unit="+consular+"&year=2026")
		for _, want := range []string{`<select name="unit">`, `<option value="` + consular + `" selected>Đơn vị 000.00.03.G12</option>`,
			`<option value="` + office + `">Đơn vị 000.00.01.G12</option>`} {
			if !strings.Contains(body, want) {
				t.Errorf("the secret register's unit picker lacks %q", want)
			}
		}
		if strings.Contains(body, `<input name="unit"`) {
			t.Error("the secret register still asks for a typed unit")
		}
	})
}

// TestCopiesPageConfirmsWhatWasDone pins issue 11's confirmations on the
// copies page: the permission and the print name the document.
func TestCopiesPageConfirmsWhatWasDone(t *testing.T) {
	s := newPageSite(t, storetest.MustOpen(t, store.SQLite), HandlerOptions{})
	d := s.draft(t, "quyet_dinh", authz.Secret)
	path := consoleCopiesPath(d.ID)
	s.confirms(t, s.leader, s.post(s.leader, path, url.Values{"action": {"permit_print"}, "staff_id": {itoa(s.officer.ID)}, "copies": {"1"},
		"reason": {"Họp"}, "expires": {"2026-03-12"}}), "Đã cho phép in văn bản «")
	s.confirms(t, s.officer, s.post(s.officer, path, url.Values{"action": {"print"}}), "Đã in văn bản «", "bản in được ghi vào sổ.")

	// The permissions name their holder, never show an id.
	s.shell.SetDirectory(unitsDirectory(s.units))
	body := s.page(s.leader, path)
	if !strings.Contains(body, "<td>Cán bộ mang mã "+itoa(s.officer.ID)+"</td>") || strings.Contains(body, "<td>#"+itoa(s.officer.ID)+"</td>") {
		t.Errorf("the copies page does not name the permission's holder:\n%s", body)
	}
}
