//go:build !race

// These tests walk pages, routes and browser flows, checking what each
// caller is shown and allowed, not what runs at once: under the race
// detector they cost minutes of CI and find no race the other tests miss.
// So they build only without -race: CI runs them in its vet step (.ci/run
// picks every test of a "//go:build !race" file), and a plain `go test`
// runs them as always.

package app

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// untranslatedRecords matches a records key shown instead of its text.
var untranslatedRecords = regexp.MustCompile(`\brecords\.[a-z_]+\.[a-z_.]+`)

// shotWidths saves a full-page screenshot of the window's page at the
// console's two reference widths, a laptop's 1366 px and a phone's
// 390 px (name-1366.png, name-390.png), and fails the test when the page
// shows a records key untranslated.
func (w *window) shotWidths(name string) {
	w.t.Helper()
	w.step(name+" at 390 px", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(1)))
	w.shot(name + "-390")
	w.step(name+" at 1366 px", chromedp.EmulateViewport(1366, 900))
	w.shot(name + "-1366")
	if m := untranslatedRecords.FindString(w.text("body")); m != "" {
		w.t.Errorf("%s shows %q untranslated", name, m)
	}
}

// signedInAtWork opens a window of browser for username, signed in
// working at level, on "my work", which must show want.
func signedInAtWork(t *testing.T, a *App, browser context.Context, dir, base, username, level, want string) *window {
	t.Helper()
	w := newWindow(t, browser, dir, base)
	w.staffSignInAt(a, username, level)
	w.open(username+"'s work", "/console/records")
	mustContain(t, username+"'s work", w.text("main"), want)
	return w
}

// TestIncomingDocumentInABrowser walks issue 18's incoming side in
// Chromium: the Office's records office registers a document received on
// paper with its scan, the Office's leader gives the instruction (bút
// phê) assigning the Consular Department's officer with a deadline, and
// the officer notes progress and completes it. Each page is saved at
// 1366 px and 390 px.
func TestIncomingDocumentInABrowser(t *testing.T) {
	browser := mustBrowserFor(t, 5*time.Minute)
	a, base := serveDemo(t)
	dir := screenshotDir(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	officer, err := a.Identity.StaffByUsername(context.Background(), "consular.officer")
	if err != nil {
		t.Fatal(err)
	}

	clerk := signedInAtWork(t, a, browser, dir, base, "office.clerk", "none", "Chưa đọc")
	clerk.shotWidths("records-clerk-01-work")
	clerk.open("incoming form", "/console/documents/incoming/new")
	pdf := writePDF(t, t.TempDir(), "cong-van-45.pdf", "Cong van 45/BTP-PLQT")
	due := time.Now().In(time.FixedZone("ICT", 7*3600)).AddDate(0, 0, 10).Format("2006-01-02")
	clerk.step("fill the incoming form",
		chromedp.SetValue(css(`#in-channel`), "paper"),
		chromedp.SetUploadFiles(css(`#in-file`), []string{pdf}),
		chromedp.SendKeys(css(`#in-sender`), "Bộ Tư pháp"),
		chromedp.SendKeys(css(`#in-number`), "45/BTP-PLQT"),
		chromedp.SetValue(css(`#in-date`), time.Now().AddDate(0, 0, -2).Format("2006-01-02")),
		chromedp.SetValue(css(`#in-type`), "cong_van"),
		chromedp.SendKeys(css(`#in-subject`), "Về việc góp ý dự thảo Hiệp định tương trợ tư pháp về dân sự"),
		chromedp.SetValue(css(`#in-urgency`), "urgent"),
		chromedp.SetValue(css(`#in-due`), due),
		chromedp.SetValue(css(`#in-classification`), "none"))
	clerk.shotWidths("records-clerk-02-incoming-form")
	clerk.press("register", `#incoming-form button.primary[type=submit]`)
	clerk.step("document page", chromedp.WaitVisible(css(`#doc-meta`)))
	page := clerk.text("main")
	for _, want := range []string{"Đã vào sổ văn bản đến.", "45/BTP-PLQT", "Văn bản giấy", "Bộ Tư pháp", "cong-van-45.pdf"} {
		mustContain(t, "the registered document", page, want)
	}
	docURL, err := chromedp.Run(clerk.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	docPath := strings.TrimPrefix(docURL, base)
	docPath, _, _ = strings.Cut(docPath, "?")
	clerk.shotWidths("records-clerk-03-registered")

	leader := signedInAtWork(t, a, browser, dir, base, "office.approver", "none", "Về việc góp ý dự thảo Hiệp định")
	leader.shotWidths("records-leader-01-work")
	leader.open("leader's document", docPath)
	leader.step("fill the instruction",
		chromedp.SendKeys(css(`#instruct-instruction`), "Giao Cục Lãnh sự chủ trì nghiên cứu, góp ý; báo cáo trước hạn."),
		chromedp.SetValue(css(`#instruct-lead_unit`), strconv.FormatInt(officer.UnitID, 10)),
		chromedp.SetValue(css(`#instruct-lead_staff`), strconv.FormatInt(officer.ID, 10)),
		chromedp.SetValue(css(`#instruct-deadline`), due))
	leader.shotWidths("records-leader-02-instruction")
	leader.press("instruct", `#instruct-form button[type=submit]`)
	leader.step("instructed", chromedp.WaitVisible(css(`#assignments`)))
	mustContain(t, "the instruction", leader.text(`#assignments`), officer.FullName)
	leader.shotWidths("records-leader-03-instructed")

	off := signedInAtWork(t, a, browser, dir, base, "consular.officer", "none", "Về việc góp ý dự thảo Hiệp định")
	off.shotWidths("records-officer-01-work")
	off.open("officer's document", docPath)
	off.step("note progress", chromedp.SendKeys(css(`#step-note`), "Đã lấy ý kiến Vụ Luật pháp và Điều ước quốc tế."))
	off.press("step", `#step-form button[type=submit]`)
	off.step("noted", chromedp.WaitVisible(css(`#complete-form`)))
	off.shotWidths("records-officer-02-step")
	off.step("complete", chromedp.SendKeys(css(`#complete-note`), "Đã gửi công văn góp ý Bộ Tư pháp."))
	off.press("complete", `#complete-form button[type=submit]`)
	off.step("completed", chromedp.WaitVisible(css(`#doc-status`)))
	mustContain(t, "done", off.text(`#doc-status`), "Đã xử lý xong")
	history := off.text(`section[aria-labelledby=doc-history]`)
	for _, want := range []string{"Vào sổ văn bản đến", "Bút phê, giao xử lý", "Ghi nhận tiến độ xử lý", "Hoàn thành xử lý"} {
		mustContain(t, "the history", history, want)
	}
	off.shotWidths("records-officer-03-done")

	clerk.open("search", "/console/documents?q=gop+y+hiep+dinh")
	mustContain(t, "search without diacritics", clerk.text("main"), "Về việc góp ý dự thảo Hiệp định")
	clerk.shotWidths("records-clerk-04-search")
	clerk.open("register", "/console/registers/incoming")
	mustContain(t, "the incoming register", clerk.text("#register"), "45/BTP-PLQT")
	clerk.shotWidths("records-clerk-05-register")
	clerk.open("printable register", "/console/registers/incoming?print=true")
	clerk.shotWidths("records-clerk-06-register-print")
}
