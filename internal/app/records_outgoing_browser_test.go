//go:build !race

// These tests walk pages, routes and browser flows, checking what each
// caller is shown and allowed, not what runs at once: under the race
// detector they cost minutes of CI and find no race the other tests miss.
// So they build only without -race: CI runs them in its vet step (.ci/run
// picks every test of a "//go:build !race" file), and a plain `go test`
// runs them as always.

package app

import (
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestOutgoingDocumentInABrowser drafts, reviews, signs and issues an
// outgoing document in Chromium, each person in a window of their own:
// the Consular Department's officer starts the draft with its file and
// sends it to the leader; the leader approves and signs; the records
// office numbers and issues it to a unit. It then opens the unit's case
// files and, as the security officer, the classified archive. Each page
// is saved at 1366 and 390 px wide.
func TestOutgoingDocumentInABrowser(t *testing.T) {
	// The app starts (and seeds its demo) before the browser, whose
	// context's time runs from mustBrowser.
	cfg := testConfig(t, true)
	a, srv := MustStart(t, cfg)
	browser := mustBrowser(t)
	dir := screenshotDir(t)
	files := t.TempDir()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	// both saves the page at a laptop's width and at a phone's.
	both := func(w *window, name string) {
		t.Helper()
		w.step(name+" at 1366", chromedp.EmulateViewport(1366, 900))
		w.shot(name + "-1366")
		w.step(name+" at 390", chromedp.EmulateViewport(390, 844))
		w.shot(name + "-390")
		w.step(name+" back", chromedp.EmulateViewport(1366, 900))
	}

	officer := newWindow(t, browser, dir, srv.URL)
	officer.staffSignIn(a, "consular.officer", "none") // an unclassified document, which the clerk may issue
	officer.open("new draft", "/console/documents/drafts/new")
	officer.step("fill the draft",
		chromedp.SetValue(css(`#draft-type`), "quyet_dinh"),
		chromedp.SendKeys(css(`#draft-subject`), "Quyết định cử cán bộ đi công tác tại Tổng Lãnh sự quán Osaka"),
		chromedp.SetValue(css(`#draft-urgency`), "urgent"),
		chromedp.SetUploadFiles(css(`#draft-file`), []string{writePDF(t, files, "du-thao.pdf", "Du thao quyet dinh")}))
	both(officer, "outgoing-01-new-draft")
	officer.press("start the draft", `#draft-submit`)
	officer.step("drafting page", chromedp.WaitVisible(css(`#drafting-versions`)))
	path, err := chromedp.Run(officer.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`/console/documents/\d+/drafting`).FindString(path); m == "" {
		t.Fatalf("the draft led to %s", path)
	} else {
		path = m
	}
	mustContain(t, "drafting page", officer.text("main"), "du-thao.pdf")
	officer.step("send to the leader", chromedp.Click(css(`#act-send_review-reviewers-0`)))
	officer.press("send for review", `#act-send_review-submit`)
	officer.step("sent", chromedp.WaitVisible(css(`#drafting-reviews`)))
	mustContain(t, "review chain", officer.text("main"), "Đang chờ duyệt")
	both(officer, "outgoing-02-sent-for-review")

	leader := newWindow(t, browser, dir, srv.URL)
	leader.staffSignIn(a, "consular.approver", "none")
	leader.open("the draft to review", path)
	leader.step("approve", chromedp.SetValue(css(`#act-review-decision`), "approve"))
	leader.press("review", `#act-review-submit`)
	leader.step("reviewed", chromedp.WaitVisible(css(`#act-sign-submit`)))
	leader.press("sign", `#act-sign-submit`)
	leader.step("signed", chromedp.WaitVisible(css(`#drafting-signatures`)))
	mustContain(t, "signed", leader.text("main"), "Chữ ký của người ký")
	both(leader, "outgoing-03-signed")

	clerk := newWindow(t, browser, dir, srv.URL)
	clerk.staffSignIn(a, "consular.clerk")
	clerk.open("the document to issue", path)
	clerk.step("issue as", chromedp.SendKeys(css(`#act-issue-org_symbol`), "CLS"), chromedp.Click(css(`#act-issue-to_units-0`)),
		chromedp.SendKeys(css(`#act-issue-to_others`), "Bộ Công an | G01"))
	both(clerk, "outgoing-04-issue-form")
	clerk.press("issue", `#act-issue-submit`)
	clerk.step("issued", chromedp.WaitVisible(css(`#drafting-signatures`)))
	main := clerk.text("main")
	mustContain(t, "issued", main, "/QĐ-CLS")
	mustContain(t, "issued", main, "Hợp lệ")
	mustContain(t, "issued", main, "Bộ Công an (G01)")
	both(clerk, "outgoing-05-issued")

	clerk.open("case files", "/console/case-files")
	mustContain(t, "case files", clerk.text("main"), "LS.05")
	both(clerk, "outgoing-06-case-files")
	clerk.press("a case file", `main table a`)
	clerk.step("case file", chromedp.WaitVisible(css(`#casefile-docs`)))
	both(clerk, "outgoing-07-case-file")

	security := newWindow(t, browser, dir, srv.URL)
	security.staffSignIn(a, "security.officer")
	security.open("archive", "/console/archive")
	mustContain(t, "archive", security.text("main"), "Đề nghị giải mật")
	both(security, "outgoing-08-archive")
	security.press("a classification record", `main table a`)
	security.step("classification record", chromedp.WaitVisible(css(`#cls-history`)))
	both(security, "outgoing-09-classification")
}
