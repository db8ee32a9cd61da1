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
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// The records' assistance and archive in Chromium: the assistant's
// suggestions on the incoming form, a numbered copy of a classified
// document, and the disposition of an expired case file. Each test runs
// one demo node; each page is saved at 1366 and 390 px (shotWidths).

// TestSuggestionsInABrowser: the Office's records office pastes a
// document's first lines into the incoming form, asks for suggestions,
// uses the subject line suggested (nothing is filled until then), and
// registers the document.
func TestSuggestionsInABrowser(t *testing.T) {
	a, srv := MustStart(t, testConfig(t, true))
	browser := mustBrowser(t)
	dir := screenshotDir(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	clerk := newWindow(t, browser, dir, srv.URL)
	clerk.staffSignIn(a, "office.clerk", "none")
	clerk.open("incoming form", "/console/documents/incoming/new")
	clerk.step("paste the text", chromedp.SetValue(css(`#in-text`),
		"BỘ TƯ PHÁP\nSố: 52/BTP-PLQT\nV/v góp ý dự thảo Hiệp định tương trợ tư pháp\nvề dân sự\n\nKính gửi: Bộ Ngoại giao"),
		chromedp.SendKeys(css(`#in-sender`), "Bộ Tư pháp"))
	clerk.press("suggest", `#suggest-submit`)
	clerk.step("suggestions", chromedp.WaitVisible(css(`#suggestions`)))
	mustContain(t, "the suggestions", clerk.text(`#suggestions`), "V/v góp ý dự thảo Hiệp định tương trợ tư pháp về dân sự")
	if v := clerk.value(`#in-subject`); v != "" {
		t.Fatalf("the subject was filled before the clerk used the suggestion: %q", v)
	}
	if v := clerk.value(`#in-sender`); v != "Bộ Tư pháp" {
		t.Fatalf("asking for suggestions lost the sender: %q", v)
	}
	clerk.shotWidths("records-suggest-01-suggestions")
	clerk.press("use the subject", `#suggest-use-subject`)
	clerk.step("subject used", chromedp.WaitVisible(css(`#suggestions`)))
	if v := clerk.value(`#in-subject`); v != "V/v góp ý dự thảo Hiệp định tương trợ tư pháp về dân sự" {
		t.Fatalf("the subject after using the suggestion: %q", v)
	}
	clerk.shotWidths("records-suggest-02-used")
	clerk.step("the rest of the form", chromedp.SendKeys(css(`#in-number`), "52/BTP-PLQT"), chromedp.SetValue(css(`#in-type`), "cong_van"),
		chromedp.SetValue(css(`#in-classification`), "none"))
	clerk.press("register", `#incoming-form button.primary`)
	clerk.step("registered", chromedp.WaitVisible(css(`#doc-meta`)))
	mustContain(t, "the registered document", clerk.text("main"), "V/v góp ý dự thảo Hiệp định tương trợ tư pháp về dân sự")
}

// TestCopiesInABrowser: the Office's leader permits the records office
// a copy of the demo's confidential document; the clerk makes it and
// downloads the copy, stamped with its number and the holder's name.
func TestCopiesInABrowser(t *testing.T) {
	a, srv := MustStart(t, testConfig(t, true))
	browser := mustBrowser(t)
	dir := screenshotDir(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	ctx := context.Background()
	var docID int64
	if err := a.DB.QueryRowContext(ctx, `SELECT id FROM record_documents WHERE number_symbol = '415/VPCP-QHQT'`).Scan(&docID); err != nil {
		t.Fatal(err)
	}
	clerkStaff, err := a.Identity.StaffByUsername(ctx, "office.clerk")
	if err != nil {
		t.Fatal(err)
	}
	page := "/console/documents/" + strconv.FormatInt(docID, 10) + "/copies"

	leader := newWindow(t, browser, dir, srv.URL)
	leader.staffSignIn(a, "office.approver", "confidential")
	leader.open("copies page", page)
	leader.step("the permission", chromedp.SetValue(css(`input[name=staff_id]`), strconv.FormatInt(clerkStaff.ID, 10)),
		chromedp.SetValue(css(`input[name=copies]`), "1"), chromedp.SendKeys(css(`input[name=reason]`), "Gửi Lãnh đạo Bộ trước cuộc họp"))
	leader.shotWidths("records-copies-01-permit")
	leader.press("permit a copy", `button[name=action][value=permit_copy]`)
	leader.step("permitted", chromedp.WaitVisible(css(`.flash`)))
	mustContain(t, "the permission", leader.text("main"), "Gửi Lãnh đạo Bộ trước cuộc họp")

	clerk := newWindow(t, browser, dir, srv.URL)
	clerk.staffSignIn(a, "office.clerk", "confidential")
	clerk.open("copies page", page)
	clerk.press("make the copy", `button[name=action][value=copy]`)
	clerk.step("copied", chromedp.WaitVisible(css(`.flash`)))
	mustContain(t, "the copy", clerk.text(".flash"), "bản sao được ghi vào sổ")
	clerk.shotWidths("records-copies-02-copied")
	// The newest copy is the clerk's: its download, fetched as the
	// browser would.
	href, err := chromedp.Run(clerk.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('a[href*="/copies/"]')].map(a => a.getAttribute('href')).sort().pop() || ""`))
	if err != nil || href == "" {
		t.Fatalf("no download of the copy (%v)", err)
	}
	b64, err := chromedp.Run(clerk.ctx, chromedp.Evaluate[string](`fetch(`+strconv.Quote(href)+`).then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status)).then(b => {
		const u = new Uint8Array(b); let s = ""; for (let i = 0; i < u.length; i++) s += String.fromCharCode(u[i]); return btoa(s) })`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download %s: %v", href, err)
	}
	pdf, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(pdf) < 5 || string(pdf[:5]) != "%PDF-" {
		t.Fatalf("the copy downloaded is not a PDF (%d bytes, %v)", len(pdf), err)
	}
	// The stamp: its number and holder on the page (pdftotext, where
	// poppler-utils is installed; CI installs it).
	if _, err := exec.LookPath("pdftotext"); err == nil {
		path := filepath.Join(t.TempDir(), "copy.pdf")
		if err := os.WriteFile(path, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"MẬT", "BẢN SAO SỐ", clerkStaff.FullName} {
			mustContain(t, "the copy's stamp", string(out), want)
		}
	}
}

// TestRetentionInABrowser: the archivist finds the demo's expired case
// file proposed for destruction with its retention; the Office's leader
// records the destruction decision and the archivist carries it out,
// each confirmation naming the case file.
func TestRetentionInABrowser(t *testing.T) {
	a, srv := MustStart(t, testConfig(t, true))
	browser := mustBrowser(t)
	dir := screenshotDir(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	const caseFile = "VP.TAM.01 «Hồ sơ tổ chức hội nghị tổng kết năm 2019»"

	archivist := newWindow(t, browser, dir, srv.URL)
	archivist.staffSignIn(a, "archivist", "none")
	archivist.open("retention", "/console/records/retention")
	mustContain(t, "the appraisal", archivist.text("main"), "Hồ sơ tổ chức hội nghị tổng kết năm 2019")
	archivist.shotWidths("records-retention-01-appraisal")

	leader := newWindow(t, browser, dir, srv.URL)
	leader.staffSignIn(a, "office.approver", "none")
	leader.open("retention", "/console/records/retention")
	leader.step("the decision", chromedp.SendKeys(css(`input[name=decision_number]`), "12/QĐ-VP"))
	leader.shotWidths("records-retention-02-decision")
	leader.press("decide", `input[name=decision_number] ~ button`)
	leader.step("decided", chromedp.WaitVisible(css(`.flash`)))
	mustContain(t, "the decision", leader.text(".flash"), "Đã ghi quyết định hủy hồ sơ "+caseFile)

	archivist.open("retention again", "/console/records/retention")
	archivist.press("execute", `input[name=action][value=execute] ~ button`)
	archivist.step("destroyed", chromedp.WaitVisible(css(`.flash`)))
	mustContain(t, "the execution", archivist.text(".flash"), "Đã hủy hồ sơ "+caseFile+" theo quyết định.")
	archivist.shotWidths("records-retention-03-destroyed")
	if !archivist.has(`a[href^="/api/v1/records/disposals/"]`) {
		t.Fatal("no minutes of the destruction to download")
	}
}

// value is the value of the window's form control sel.
func (w *window) value(sel string) string {
	w.t.Helper()
	v, err := chromedp.Run(w.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		w.t.Fatalf("read %s: %v", sel, err)
	}
	return v
}
