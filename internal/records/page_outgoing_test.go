package records

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// mustRedirect fails unless w is 303 and returns where it leads, without
// its flash.
func mustRedirect(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if w.Code != http.StatusSeeOther {
		t.Fatalf("status %d, want 303:\n%s", w.Code, mainHTML(w))
	}
	loc, _, _ := strings.Cut(w.Header().Get("Location"), "?")
	return loc
}

// confirms checks that w redirects, and that the page it leads to (read
// as sub) confirms what was done: want.
func (s *pageSite) confirms(t *testing.T, sub authz.Subject, w *httptest.ResponseRecorder, want ...string) {
	t.Helper()
	mustRedirect(t, w)
	has(t, s.get(sub, w.Header().Get("Location")), http.StatusOK, append([]string{`<p class="flash`}, want...)...)
}

// mainHTML is the page's main element, unescaped, for messages and
// searches.
func mainHTML(w *httptest.ResponseRecorder) string {
	b := html.UnescapeString(w.Body.String())
	if i := strings.Index(b, "<main"); i >= 0 {
		b = b[i:]
	}
	return b
}

func has(t *testing.T, w *httptest.ResponseRecorder, status int, want ...string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d:\n%s", w.Code, status, mainHTML(w))
	}
	body := html.UnescapeString(w.Body.String())
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

var draftingLink = regexp.MustCompile(`^/console/documents/(\d+)/drafting$`)

// TestDraftingPagesTakeADraftToIssuance drafts, revises, comments,
// reviews, signs and issues an outgoing document through its pages.
func TestDraftingPagesTakeADraftToIssuance(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		has(t, s.get(s.officer, "/console/documents/drafts/new"), http.StatusOK, "Trích yếu nội dung", "Quyết định (cá biệt) (QĐ)")
		loc := mustRedirect(t, s.uploadTo(s.officer, "/console/documents/drafts/new", url.Values{"type": {"quyet_dinh"},
			"subject": {"Quyết định cử cán bộ đi công tác tại Nhật Bản"}, "urgency": {"urgent"}, "classification": {"none"}, "due_at": {"2026-04-01"}},
			"du-thao.pdf", "", []byte("%PDF-1.4\n% bản 1\n%%EOF\n")))
		m := draftingLink.FindStringSubmatch(loc)
		if m == nil {
			t.Fatalf("redirected to %q", loc)
		}
		path := loc
		has(t, s.get(s.officer, path), http.StatusOK, "Quyết định cử cán bộ đi công tác tại Nhật Bản", "du-thao.pdf", "Tải lên phiên bản mới", "Trình duyệt")
		mustRedirect(t, s.uploadTo(s.officer, path+"/versions", url.Values{"note": {"Sửa Điều 2"}}, "du-thao-2.pdf", "", []byte("%PDF-1.4\n% bản 2\n%%EOF\n")))
		mustRedirect(t, s.post(s.leader, path+"/actions", url.Values{"action": {"comment"}, "version": {"2"}, "body": {"Đề nghị bổ sung kinh phí."}}))
		s.confirms(t, s.officer, s.post(s.officer, path+"/actions", url.Values{"action": {"send_review"}, "reviewers": {itoa(s.leader.ID)}}),
			"Đã trình duyệt dự thảo «Quyết định cử cán bộ đi công tác tại Nhật Bản».")
		has(t, s.get(s.leader, "/console/documents/drafts"), http.StatusOK, "Đang chờ anh/chị duyệt", path)
		if w := s.get(s.office, "/console/documents/drafts"); strings.Contains(w.Body.String(), path) {
			t.Errorf("another unit's list shows the draft")
		}
		has(t, s.get(s.leader, path), http.StatusOK, "Cho ý kiến duyệt", "Đề nghị bổ sung kinh phí.", "Sửa Điều 2", "Phiên bản 2")
		mustRedirect(t, s.post(s.leader, path+"/actions", url.Values{"action": {"review"}, "decision": {"approve"}}))
		signed := s.post(s.leader, path+"/actions", url.Values{"action": {"sign"}})
		mustRedirect(t, signed)
		has(t, s.get(s.leader, signed.Header().Get("Location")+"&lang=en"), http.StatusOK, "Draft «Quyết định cử cán bộ đi công tác tại Nhật Bản» signed.")
		// A crafted link names no action the page knows: the general flash.
		crafted := s.get(s.leader, path+"?flash=records.drafting.flash.done&done=%C2%ABxin+ch%C3%A0o%C2%BB")
		has(t, crafted, http.StatusOK, "Đã thực hiện.")
		if strings.Contains(crafted.Body.String(), "xin chào") {
			t.Error("the page echoes text from the link")
		}
		has(t, s.get(s.clerk, path), http.StatusOK, "Cấp số và phát hành", "Gửi các đơn vị trong Bộ")
		office := s.units["000.00.01.G12"]
		mustRedirect(t, s.post(s.clerk, path+"/actions", url.Values{"action": {"issue"}, "org_symbol": {"BNG"}, "to_units": {itoa(office)},
			"to_others": {"Bộ Công an | G01.01\r\n"}}))
		has(t, s.get(s.officer, path), http.StatusOK, "01/QĐ-BNG", "Hợp lệ", "Chữ ký của người ký", "Chữ ký của văn thư phát hành", "Cơ quan: Bộ Công an (G01.01)")
		// The Office, on the distribution list, reads it now.
		has(t, s.get(s.office, path), http.StatusOK, "01/QĐ-BNG")
		// Each version downloads as it was.
		w := s.get(s.officer, path+"/versions/1")
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "bản 1") || w.Header().Get("Content-Type") != "application/pdf" {
			t.Errorf("version 1: %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		// Recall, then replace: the replacement's page links back.
		mustRedirect(t, s.post(s.leader, path+"/actions", url.Values{"action": {"recall"}, "note": {"Sai thể thức"}}))
		next := mustRedirect(t, s.post(s.officer, path+"/actions", url.Values{"action": {"replace"}}))
		if next == path || draftingLink.FindStringSubmatch(next) == nil {
			t.Fatalf("replace led to %q", next)
		}
		has(t, s.get(s.officer, next), http.StatusOK, "Văn bản bị thay thế", path)
	})
}

// TestDraftingPagesHideAndRefuse: another unit's draft answers as a
// missing one; bad input is refused on the form; nothing is stored.
func TestDraftingPagesHideAndRefuse(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		d := s.draft(t, "quyet_dinh", authz.Secret)
		path := consoleDraftingPath(d.ID)
		hidden, missing := s.get(s.office, path), s.get(s.office, consoleDraftingPath(d.ID+1000))
		if hidden.Code != http.StatusNotFound || mainHTML(hidden) != strings.ReplaceAll(mainHTML(missing), itoa(d.ID+1000), itoa(d.ID)) {
			t.Errorf("another unit's draft: %d\n%s\nwant as missing:\n%s", hidden.Code, mainHTML(hidden), mainHTML(missing))
		}
		if w := s.get(s.lowOfficer, path+"/versions/1"); w.Code != http.StatusNotFound {
			t.Errorf("a version above the clearance: %d", w.Code)
		}
		// Above the author's clearance: refused beside the field.
		w := s.uploadTo(s.lowOfficer, "/console/documents/drafts/new", url.Values{"type": {"quyet_dinh"}, "subject": {"x"}, "urgency": {"normal"},
			"classification": {"secret"}, "classification_reason": {"mục 1"}}, "", "", nil)
		has(t, w, http.StatusUnprocessableEntity, "Độ mật không hợp lệ hoặc cao hơn mức anh/chị được tiếp cận.")
		for name, form := range map[string]url.Values{
			"bidi comment": {"action": {"comment"}, "body": {"Đồng ý\u202e ngược"}},
			"NUL comment":  {"action": {"comment"}, "body": {"a\x00b"}},
			"no reviewer":  {"action": {"send_review"}},
			"bad reviewer": {"action": {"send_review"}, "reviewers": {"+5"}},
			"bad decision": {"action": {"review"}, "decision": {"maybe"}},
			"unknown":      {"action": {"explode"}},
		} {
			if w := s.post(s.officer, path+"/actions", form); w.Code < 400 || w.Code >= 500 {
				t.Errorf("%s: %d, want 4xx", name, w.Code)
			}
		}
		// A session working above a document's level writes nothing down
		// to it, and the page says how to act.
		plain := s.draft(t, "quyet_dinh", authz.Unclassified)
		leader := s.leader
		leader.Session = authz.Secret
		if _, err := s.svc.SendForReview(s.as(s.officer), s.officer, plain.ID, []int64{s.leader.ID}, ""); err != nil {
			t.Fatal(err)
		}
		has(t, s.get(leader, consoleDraftingPath(plain.ID)), http.StatusOK, "Phiên làm việc của anh/chị đang ở mức Tối mật")
		if w := s.post(leader, consoleDraftingPath(plain.ID)+"/actions", url.Values{"action": {"review"}, "decision": {"approve"}}); w.Code != http.StatusForbidden {
			t.Errorf("a review written down: %d", w.Code)
		}
		// Signing before approval: a conflict shown on the page.
		if w := s.post(s.leader, path+"/actions", url.Values{"action": {"sign"}}); w.Code != http.StatusConflict {
			t.Errorf("sign a draft: %d", w.Code)
		}
		dr, _ := s.svc.Drafting(s.as(s.officer), s.officer, d.ID)
		if len(dr.Comments) != 0 || len(dr.Reviews) != 0 {
			t.Errorf("refused input stored: %+v", dr)
		}
		// A file over the limit is 413, and stores nothing.
		w = s.uploadTo(s.officer, path+"/versions", nil, "big.pdf", "", bytes.Repeat([]byte("a"), MaxContent+1))
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized version: %d", w.Code)
		}
	})
}

// TestCaseFilePagesFileCloseAndExport opens a case file, files documents
// into it (not into another unit's), and exports it: every checksum of
// the package verifies, each document has a PDF and an XML, and the
// rendered PDF reads back in Vietnamese.
func TestCaseFilePagesFileCloseAndExport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		loc := mustRedirect(t, s.post(s.clerk, "/console/case-files", url.Values{"code": {"LS.01"}, "title": {"Hồ sơ bảo hộ công dân năm 2026"},
			"year": {"2026"}, "retention_years": {"0"}}))
		id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/console/case-files/"), 10, 64)
		if err != nil {
			t.Fatalf("redirected to %q", loc)
		}
		has(t, s.get(s.clerk, "/console/case-files?year=2026"), http.StatusOK, "LS.01", "Hồ sơ bảo hộ công dân năm 2026", "Vĩnh viễn")
		pdfDoc := s.incoming(t, "Công điện khẩn về bảo hộ công dân", authz.Unclassified, &Content{Filename: "cd.pdf", MediaType: "application/pdf",
			Data: []byte("%PDF-1.4\n% công điện\n%%EOF\n")})
		textDoc, err := s.svc.StartDraft(s.as(s.officer), s.officer, NewDraft{Type: "bao_cao", Subject: "Báo cáo tình hình người Việt Nam ở nước ngoài",
			Content: &Content{Filename: "bc.txt", MediaType: "text/plain", Data: []byte("Nội dung báo cáo: bảo hộ công dân.")}})
		if err != nil {
			t.Fatal(err)
		}
		secret := s.incoming(t, "Tài liệu tối mật", authz.Secret, nil)
		for _, d := range []int64{pdfDoc.ID, textDoc.ID, secret.ID} {
			mustRedirect(t, s.post(s.clerk, loc+"/file", url.Values{"document": {itoa(d)}}))
		}
		has(t, s.get(s.clerk, loc), http.StatusOK, "Công điện khẩn về bảo hộ công dân", "Báo cáo tình hình người Việt Nam ở nước ngoài", "Tài liệu tối mật")
		// Another unit's case file: hidden as a missing one, and nothing is
		// filed into it.
		hidden, missing := s.get(s.office, loc), s.get(s.office, "/console/case-files/"+itoa(id+1000))
		if hidden.Code != http.StatusNotFound || mainHTML(hidden) != strings.ReplaceAll(mainHTML(missing), itoa(id+1000), itoa(id)) {
			t.Errorf("another unit's case file: %d", hidden.Code)
		}
		if w := s.post(s.office, loc+"/file", url.Values{"document": {itoa(pdfDoc.ID)}}); w.Code != http.StatusNotFound {
			t.Errorf("filing into another unit's case file: %d", w.Code)
		}
		if w := s.post(s.clerk, loc+"/file", url.Values{"document": {"abc"}}); w.Code != http.StatusUnprocessableEntity {
			t.Errorf("a bad document id: %d", w.Code)
		}
		// Officers keep case files but do not export them.
		if w := s.get(s.officer, loc+"/export"); w.Code != http.StatusForbidden {
			t.Errorf("an officer's export: %d", w.Code)
		}
		// The low clerk exports only what they may see: not the secret one.
		for _, who := range []authz.Subject{s.clerk, s.lowOfficer} {
			if who == s.lowOfficer {
				continue // lowOfficer is a clerk too, cleared confidential: checked below
			}
			w := s.get(who, "/api/v1/case-files/"+itoa(id)+"/export")
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/zip" {
				t.Fatalf("export: %d %s", w.Code, w.Body)
			}
			files := checkPackage(t, w.Body.Bytes())
			for _, d := range []int64{pdfDoc.ID, textDoc.ID, secret.ID} {
				for _, name := range []string{"van-ban.pdf", "metadata.xml"} {
					if _, ok := files["van-ban/"+itoa(d)+"/"+name]; !ok {
						t.Errorf("package lacks document %d's %s", d, name)
					}
				}
			}
			if got := files["van-ban/"+itoa(pdfDoc.ID)+"/van-ban.pdf"]; !bytes.Contains(got, []byte("công điện")) {
				t.Errorf("the document's own PDF is not in the package as it is")
			}
			var md xmlDocument
			if err := xml.Unmarshal(files["van-ban/"+itoa(secret.ID)+"/metadata.xml"], &md); err != nil || md.Level != "Tối mật" || md.Subject != "Tài liệu tối mật" {
				t.Errorf("metadata = %+v, %v", md, err)
			}
			rendered := files["van-ban/"+itoa(textDoc.ID)+"/van-ban.pdf"]
			if !bytes.HasPrefix(rendered, []byte("%PDF")) {
				t.Fatalf("rendered PDF starts %q", rendered[:min(8, len(rendered))])
			}
			// pdftotext (poppler-utils, which CI installs) reads the
			// Vietnamese back; without it only the PDF's header is checked.
			if _, err := exec.LookPath("pdftotext"); err == nil {
				text := strings.Join(pdfText(t, rendered), "\f")
				if !strings.Contains(text, "Báo cáo tình hình người Việt Nam ở nước ngoài") || !strings.Contains(text, "bảo hộ công dân") {
					t.Errorf("pdftotext reads:\n%s", text)
				}
			}
		}
		w := s.get(s.lowOfficer, "/api/v1/case-files/"+itoa(id)+"/export")
		if w.Code != http.StatusOK {
			t.Fatalf("low export: %d %s", w.Code, w.Body)
		}
		if files := checkPackage(t, w.Body.Bytes()); files["van-ban/"+itoa(secret.ID)+"/metadata.xml"] != nil {
			t.Errorf("the package holds a document above the exporter's clearance")
		}
		exports := 0
		if _, err := s.ledger.Integrate(s.as(s.clerk)); err != nil {
			t.Fatal(err)
		}
		es, err := s.ledger.Search(s.as(s.clerk), audit.Query{Action: "case_file.export"})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.ResourceID == itoa(id) {
				exports++
			}
		}
		if exports != 2 {
			t.Errorf("export events = %d, want 2", exports)
		}
		// Closing: nothing more is filed.
		mustRedirect(t, s.post(s.clerk, loc+"/close", nil))
		if w := s.post(s.clerk, loc+"/file", url.Values{"document": {itoa(pdfDoc.ID)}}); w.Code != http.StatusConflict {
			t.Errorf("filing into a closed case file: %d", w.Code)
		}
		list := decode[struct {
			Items []map[string]any `json:"items"`
		}](t, s.call(t, s.clerk, "GET", "/api/v1/case-files?year=2026", nil))
		if len(list.Items) != 1 || list.Items[0]["code"] != "LS.01" || list.Items[0]["closed_at"] == nil || list.Items[0]["document_count"] != 3.0 {
			t.Errorf("list = %v", list)
		}
	})
}

// checkPackage opens a case-file package, checks every line of its
// SHA256SUMS against the file it names and that every file is listed,
// and returns the files by path under the package's folder.
func checkPackage(t *testing.T, pkg []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		_, name, _ := strings.Cut(f.Name, "/")
		files[name] = data
	}
	sums, ok := files["SHA256SUMS"]
	if !ok {
		t.Fatal("the package has no SHA256SUMS")
	}
	listed := 0
	for line := range strings.Lines(string(sums)) {
		sum, name, _ := strings.Cut(strings.TrimSpace(line), "  ")
		got := sha256.Sum256(files[name])
		if files[name] == nil || hex.EncodeToString(got[:]) != sum {
			t.Errorf("SHA256SUMS: %s does not verify", name)
		}
		listed++
	}
	if listed != len(files)-1 {
		t.Errorf("SHA256SUMS lists %d of %d files", listed, len(files)-1)
	}
	return files
}

// TestArchivePagesShowAndDecideClassifications: the archive lists what
// the viewer may see by level; extension, level change, the two-person
// declassification of a top-secret item, and grants with revocation go
// through the classification page; others learn nothing.
func TestArchivePagesShowAndDecideClassifications(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		secret := s.draft(t, "quyet_dinh", authz.Secret)
		top := s.draft(t, "ke_hoach", authz.TopSecret)
		has(t, s.get(s.security, "/console/archive"), http.StatusOK, "Tối mật", "Tuyệt mật", consoleClassificationPath(secret.ID))
		if w := s.get(s.security, "/console/archive?level=secret"); strings.Contains(w.Body.String(), consoleClassificationPath(top.ID)) {
			t.Errorf("the secret tab lists a top-secret item")
		}
		has(t, s.get(s.archivist, consoleClassificationPath(secret.ID)), http.StatusOK, "Danh mục bí mật nhà nước, mục 7", "Xác định độ mật")
		if w := s.get(s.officer, "/console/archive"); w.Code != http.StatusForbidden {
			t.Errorf("an officer's archive: %d", w.Code)
		}
		hidden, missing := s.get(s.office, consoleClassificationPath(secret.ID)), s.get(s.office, consoleClassificationPath(secret.ID+1000))
		if hidden.Code != http.StatusNotFound || mainHTML(hidden) != strings.ReplaceAll(mainHTML(missing), itoa(secret.ID+1000), itoa(secret.ID)) {
			t.Errorf("another unit's classification: %d", hidden.Code)
		}
		path := consoleClassificationPath(secret.ID)
		s.confirms(t, s.security, s.post(s.security, path, url.Values{"action": {"extend"}, "until": {"2060-01-01"}, "reason": {"Quyết định gia hạn số 5"}}),
			"Đã gia hạn bảo vệ văn bản «Quyết định về việc cử cán bộ đi công tác", "» đến 01/01/2060.")
		if w := s.post(s.security, path, url.Values{"action": {"extend"}, "until": {"2030-01-01"}, "reason": {"x"}}); w.Code != http.StatusUnprocessableEntity {
			t.Errorf("an extension backwards: %d", w.Code)
		}
		s.confirms(t, s.security, s.post(s.security, path, url.Values{"action": {"change_level"}, "level": {"confidential"}, "reason": {"Hạ độ mật"}}),
			"Đã đổi độ mật của văn bản «Quyết định về việc cử cán bộ đi công tác", "» thành Mật.")
		has(t, s.get(s.security, path), http.StatusOK, "Gia hạn bảo vệ", "Điều chỉnh độ mật", "Quyết định gia hạn số 5")
		// Grants: to an officer of another unit, then revoked.
		mustRedirect(t, s.post(s.security, path, url.Values{"action": {"grant"}, "staff_id": {itoa(s.office.ID)}, "reason": {"Phối hợp soạn thảo"},
			"expires_at": {"2026-05-01"}}))
		has(t, s.get(s.office, consoleDraftingPath(secret.ID)), http.StatusOK, "Quyết định về việc cử cán bộ đi công tác")
		v, _ := s.svc.ClassificationOf(s.as(s.security), s.security, secret.ID)
		s.confirms(t, s.security, s.post(s.security, path, url.Values{"action": {"revoke"}, "grant": {itoa(v.Grants[0].ID)}}),
			"Đã thu hồi quyền tiếp cận văn bản «Quyết định về việc cử cán bộ đi công tác")
		if w := s.get(s.office, consoleDraftingPath(secret.ID)); w.Code != http.StatusNotFound {
			t.Errorf("after revocation: %d", w.Code)
		}
		if w := s.post(s.security, path, url.Values{"action": {"grant"}, "staff_id": {itoa(s.office.ID)}, "reason": {"x"}, "expires_at": {"2029-01-01"}}); w.Code != http.StatusUnprocessableEntity {
			t.Errorf("a grant past a year: %d", w.Code)
		}
		// Top secret: the first declassification is a proposal shown as
		// pending; the same person again is refused; a second confirms.
		tp := consoleClassificationPath(top.ID)
		mustRedirect(t, s.post(s.security, tp, url.Values{"action": {"declassify"}, "reason": {"Hết giá trị bảo vệ"}}))
		has(t, s.get(s.security, "/console/archive"), http.StatusOK, "Đề nghị giải mật", "1 đề nghị đang chờ người thứ hai phê duyệt.")
		has(t, s.get(s.leader, tp), http.StatusOK, "Xác nhận giải mật (người thứ hai)")
		if w := s.post(s.security, tp, url.Values{"action": {"declassify"}, "reason": {"Hết giá trị bảo vệ"}}); w.Code != http.StatusConflict {
			t.Errorf("the same person twice: %d", w.Code)
		}
		mustRedirect(t, s.post(s.leader, tp, url.Values{"action": {"confirm"}, "reason": {"Hết giá trị bảo vệ"}}))
		if d, _ := s.svc.Get(s.as(s.officer), s.officer, top.ID); d.Classification != authz.Unclassified {
			t.Errorf("after the second person: %s", d.Classification)
		}
	})
}

// TestCaseFileListWarnsOfEarlierYearsDue: the list of any year names the
// unit's case files of earlier years due at the archive.
func TestCaseFileListWarnsOfEarlierYearsDue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		if _, err := s.svc.CreateCaseFile(s.as(s.clerk), s.clerk, NewCaseFile{Year: 2024, Code: "LS.07", Title: "Hồ sơ bảo hộ công dân gặp nạn"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.CreateCaseFile(s.as(s.clerk), s.clerk, NewCaseFile{Year: 2026, Code: "LS.01", Title: "Hồ sơ năm nay"}); err != nil {
			t.Fatal(err)
		}
		// Open since 2024: due at the archive by the end of 2025.
		has(t, s.get(s.clerk, "/console/case-files?year=2026"), http.StatusOK, "Hồ sơ của các năm trước đến hạn", "LS.07", "31/12/2025", "Quá hạn nộp lưu", "LS.01")
		if w := s.get(s.office, "/console/case-files?year=2026"); strings.Contains(w.Body.String(), "LS.07") {
			t.Errorf("another unit's list names the Consular Department's case file")
		}
	})
}

// TestIssuanceFormSendsThroughTheExchange: the issuance form offers the
// document systems the unit's may send to, only those cleared for the
// document's level; one chosen gets the issued document as an edXML
// package, which arrives in the embassy's queue, and the distribution
// list names it as a mission. A code the exchange does not offer is
// refused on the form, nothing issued.
func TestIssuanceFormSendsThroughTheExchange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		paris := newFixture(t, storetest.MustOpen(t, db.Dialect))
		link := &testLink{up: true, nodes: map[string]*fixture{parisCode: paris}}
		agency := Organ{"000.00.00.G22", "Văn phòng Chính phủ"}
		s.svc.opts.Courier = &testCourier{link: link, organs: map[int64]Organ{s.units[consularCode]: consularOrgan},
			peers: []Peer{{Organ: parisOrgan, MaxLevel: authz.Confidential, Kind: "embassy"}, {Organ: agency, MaxLevel: authz.Unclassified, Kind: "agency"}}}
		paris.svc.opts.Courier = &testCourier{link: link, organs: map[int64]Organ{paris.units["000.00.01.G12"]: parisOrgan}}

		d := s.draft(t, "quyet_dinh", authz.Confidential)
		if _, err := s.svc.Approve(s.as(s.leader), s.leader, d.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.Sign(s.as(s.leader), s.leader, d.ID, ""); err != nil {
			t.Fatal(err)
		}
		path := consoleDraftingPath(d.ID)
		form := s.page(s.clerk, path)
		if !strings.Contains(form, `name="to_exchange" value="`+parisCode+`"`) || strings.Contains(form, `value="`+agency.ID+`"`) {
			t.Fatalf("the form should offer Paris (cleared confidential) and not the agency (cleared for none):\n%s", mainHTML(s.get(s.clerk, path)))
		}
		has(t, s.get(s.clerk, path+"?lang=en"), http.StatusOK, "Send through the exchange (edXML package)")

		// The agency, not cleared for the level, refuses the issuance.
		w := s.post(s.clerk, path+"/actions", url.Values{"action": {"issue"}, "org_symbol": {"BNG"}, "to_exchange": {agency.ID}})
		has(t, w, http.StatusUnprocessableEntity, "not cleared to receive confidential documents")
		if v, err := s.svc.Get(s.as(s.clerk), s.clerk, d.ID); err != nil || v.Number != "" {
			t.Fatalf("a refused issuance numbered the document: %+v, %v", v, err)
		}

		mustRedirect(t, s.post(s.clerk, path+"/actions", url.Values{"action": {"issue"}, "org_symbol": {"BNG"}, "to_exchange": {parisCode}}))
		has(t, s.get(s.clerk, path), http.StatusOK, "01/QĐ-BNG", "Cơ quan đại diện: Đại sứ quán Việt Nam tại Pháp ("+parisCode+")")
		if n, err := s.svc.DeliverPackages(context.Background()); err != nil || n != 1 {
			t.Fatalf("DeliverPackages = %d, %v; want the one package", n, err)
		}
		link.pump(t)
		waiting, err := paris.svc.Packages(paris.as(paris.office), paris.office, PackageQuery{Direction: packageIn, Waiting: true})
		if err != nil || len(waiting) != 1 || waiting[0].Number != "01/QĐ-BNG" || waiting[0].Level != authz.Confidential {
			t.Fatalf("Paris's queue: %+v, %v", waiting, err)
		}
	})
}
