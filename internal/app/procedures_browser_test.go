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
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chancery/internal/records"
)

// window is one person at a browser: a tab in a browser context of its
// own, so that the citizen and each staff member keep their own session
// side by side, as they would on their own computers.
type window struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	base string
	step func(string, ...chromedp.Action[chromedp.Void])
}

// newWindow opens a window of browser, which mustBrowser started.
func newWindow(t *testing.T, browser context.Context, dir, base string) *window {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	step, _ := browserSteps(ctx, t, dir)
	return &window{t: t, ctx: ctx, dir: dir, base: base, step: step}
}

// open loads the page at path and waits for its main heading.
func (w *window) open(name, path string) {
	w.t.Helper()
	w.step(name, chromedp.Navigate(w.base+path), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
}

// press clicks what sel selects and waits for the page it leads to,
// which must answer below 400.
func (w *window) press(name, sel string) {
	w.t.Helper()
	resp, err := chromedp.RunResponse(w.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err == nil && resp.Status >= 400 {
		err = fmt.Errorf("HTTP %d", resp.Status)
	}
	if err != nil {
		shot(w.ctx, w.t, w.dir, "failed-"+name)
		w.t.Fatalf("%s: %v", name, err)
	}
}

// text returns the text of what sel selects.
func (w *window) text(sel string) string {
	w.t.Helper()
	return textOf(w.ctx, w.t, sel)
}

// has reports whether the page has anything sel selects, without waiting.
func (w *window) has(sel string) bool {
	w.t.Helper()
	n, err := chromedp.Run(w.ctx, chromedp.Nodes(chromedp.CSS(sel), chromedp.AtLeast(0)))
	if err != nil {
		w.t.Fatalf("look for %s: %v", sel, err)
	}
	return len(n) > 0
}

// untranslated matches what a page shows when the catalogue lacks a
// key (the key itself) or a message's arguments do not fit it.
var untranslated = regexp.MustCompile(`\b(procedures|form|nav)\.[a-z_]+[.a-z0-9_]*|%!`)

// shot saves a screenshot of the page, and fails the test when the page
// shows an i18n key or a broken message.
func (w *window) shot(name string) {
	w.t.Helper()
	shot(w.ctx, w.t, w.dir, name)
	if m := untranslated.FindString(w.text("body")); m != "" {
		w.t.Errorf("%s shows %q untranslated", name, m)
	}
}

// staffSignIn signs a demo staff member in on the console, with a code
// from the secret of the second factor the demo enrolled, if any, and
// the session's working level if one is given (else their clearance).
func (w *window) staffSignIn(a *App, username string, level ...string) {
	w.t.Helper()
	w.staffSignInAt(a, username, strings.Join(level, ""))
}

// staffSignInAt is staffSignIn with the session working at level (a
// level's API name; "" for the clearance), as one chooses on the sign-in
// form to act on documents below one's clearance.
func (w *window) staffSignInAt(a *App, username, level string) {
	w.t.Helper()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	w.step("console sign-in "+username, chromedp.Navigate(w.base+"/console/login"), chromedp.WaitVisible(css(`input[name=username]`)),
		chromedp.SendKeys(css(`input[name=username]`), username),
		chromedp.SendKeys(css(`input[name=password]`), a.cfg.DemoPassword),
		chromedp.SetValue(css(`select[name=level]`), level))
	if demoSecret(w.t, a.cfg.DataDir, username) != "" {
		w.step("TOTP code of "+username, chromedp.SendKeys(css(`input[name=totp]`), demoTOTP(w.t, a, username)))
	}
	w.press("sign in "+username, `form[action="/console/login"] button[type=submit]`)
	w.step("signed in "+username, chromedp.WaitVisible(css(`#sign-out`)))
}

// act takes an action on the dossier whose page is open: it presses the
// action's button (after writing reason, if any) and waits for the page
// to show the action done.
func (w *window) act(name, action, reason string) {
	w.t.Helper()
	if reason != "" {
		w.step(name+": reason", chromedp.SendKeys(chromedp.CSS(`#act-`+action+`-reason`), reason))
	}
	w.press(name, `#act-`+action+`-submit`)
	w.step(name+": done", chromedp.WaitVisible(chromedp.CSS(`#dossier-history`)))
}

// writePDF writes a one-page PDF that says title, with a correct cross-
// reference table, and returns its path.
func writePDF(t *testing.T, dir, name, title string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, records.TextPDF(title), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestProceduresInABrowser walks issue 5's two flows in Chromium. The
// citizen finds consular legalization by words without their diacritics,
// applies with the form prefilled from the National Population Database,
// uploads the three required papers, pays at the gateway simulator,
// submits, gets the receipt with the appointment and tracks the dossier.
// The Consular Department's staff then take it through its lifecycle —
// receive, assign, request documents, supplement, appraise, approve (a
// signed electronic result) and return the result — and the citizen sees
// it returned and may rate the service. Every page is saved as a
// screenshot.
func TestProceduresInABrowser(t *testing.T) {
	browser := mustBrowserFor(t, 8*time.Minute) // the citizen's walk and the staff's, on a loaded machine
	a, base := serveDemo(t)
	dir := screenshotDir(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	const apply = `form[action="/procedures/1.900001/apply"]`

	// The citizen.
	c := newWindow(t, browser, dir, base)
	c.open("public sign-in", "/account/login")
	c.step("fill public sign-in", chromedp.SendKeys(css(`#username`), "citizen@example.com"),
		chromedp.SendKeys(css(`#password`), a.cfg.DemoPassword))
	c.shot("procedures-citizen-01-sign-in")
	c.press("public sign-in", `form[action="/account/login"] button[type=submit]`)
	c.step("signed in", chromedp.WaitVisible(css(`a[href="/my/dossiers"]`)))

	c.open("catalogue", "/services")
	c.step("search", chromedp.SendKeys(css(`#proc-q`), "hop phap hoa"))
	c.press("search", `form[role=search] button[type=submit]`)
	results := c.text("main")
	mustContain(t, "search without diacritics", results, "Hợp pháp hóa lãnh sự giấy tờ, tài liệu tại Bộ Ngoại giao")
	c.shot("procedures-citizen-02-search")
	c.press("open the procedure", `main a[href="/services/1.900001"]`)
	mustContain(t, "procedure page", c.text("main"), "30.000 VND")
	c.shot("procedures-citizen-03-procedure")

	c.press("apply", `main a[href="/procedures/1.900001/apply"]`)
	// Issue 11, item 3: the step indicator, the name from the account,
	// and the server's messages (novalidate) beside their fields with a
	// summary linking to them.
	c.step("apply form", chromedp.WaitVisible(css(apply)))
	if !c.has(`ol.stepper li.step-current`) {
		t.Error("the application shows no step indicator")
	}
	// The page answers 422, which press refuses: click and wait instead.
	c.step("save the empty form", chromedp.Click(css(apply+` .actions button[type=submit]`)),
		chromedp.WaitVisible(css(`.error-summary a[href="#f-applicant-id_type-cccd"]`)))
	mustContain(t, "the identity number's message", c.text(`#f-applicant-id_number-error`), "bắt buộc")
	c.shotWidths("citizen-apply-errors")
	c.step("prefill", chromedp.WaitVisible(css(apply)), chromedp.SendKeys(css(`#f-applicant-id_number`), "001188004215"))
	c.press("prefill", apply+` button[name=prefill]`)
	name, err := chromedp.Run(c.ctx, chromedp.Value(css(`#f-applicant-full_name`)))
	if err != nil || name != "Nguyễn Thị Lan" {
		c.shot("failed-prefill")
		t.Fatalf("the name prefilled from the population database = %q (%v)", name, err)
	}
	c.step("fill the form", chromedp.Click(css(`#f-applicant-id_type-cccd`)),
		chromedp.SetValue(css(`#f-applicant-email`), "citizen@example.com"),
		chromedp.SendKeys(css(`#f-document_name`), "Giấy khai sinh"),
		chromedp.SendKeys(css(`#f-issuing_authority`), "UBND phường Kim Liên, Hà Nội"),
		chromedp.SetValue(css(`#f-issue_date`), "1988-03-20"),
		chromedp.SendKeys(css(`#f-issuing_country`), "Việt Nam"),
		chromedp.SendKeys(css(`#f-copies`), "2"),
		chromedp.SendKeys(css(`#f-purpose`), "Nộp hồ sơ du học tại Pháp"),
		chromedp.Click(css(`#f-delivery-counter`)),
		chromedp.Click(css(`#f-declaration`)))
	c.shot("procedures-citizen-04-form")
	c.press("save the form", apply+` .actions button[type=submit]`)
	c.step("application page", chromedp.WaitVisible(css(`#file-paper`)))
	draftURL, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	draftURL, _, _ = strings.Cut(draftURL, "?")
	c.shot("procedures-citizen-05-application")

	files := t.TempDir()
	for _, doc := range []string{"identity_copy", "paper", "paper_copy"} {
		c.step("choose "+doc, chromedp.SetUploadFiles(css(`#file-`+doc), []string{writePDF(t, files, doc+".pdf", doc)}))
		c.press("upload "+doc, `form:has(#file-`+doc+`) button[type=submit]`)
	}
	for _, doc := range []string{"identity_copy.pdf", "paper.pdf", "paper_copy.pdf"} {
		mustContain(t, "uploaded documents", c.text("main"), doc)
	}
	c.shot("procedures-citizen-06-uploaded")

	c.press("go to the gateway", `a[href$="/pay"]`)
	c.step("checkout", chromedp.WaitVisible(css(`button[value=pay]`)))
	mustContain(t, "checkout", c.text("main"), "30.000")
	c.shot("procedures-citizen-07-checkout")
	c.press("pay", `button[value=pay]`)
	// The gateway's signed callback reaches the server on its own; the
	// page shows the fee paid once it has.
	eventually(t, "the payment on the application page", func() bool {
		c.step("reload the application", chromedp.Navigate(draftURL), chromedp.WaitVisible(css(`main h1`)))
		return !c.has(`a[href$="/pay"]`)
	})
	c.shot("procedures-citizen-08-paid")

	c.press("submit", `form[action$="/submit"] button[type=submit]`)
	c.step("receipt", chromedp.WaitVisible(css(`.page-head strong code`)))
	code := strings.TrimSpace(c.text(`.page-head strong code`))
	receipt := c.text("main")
	mustContain(t, "receipt", receipt, "Ngày hẹn trả kết quả")
	if code == "" || !c.has(`main dd strong time[datetime]`) {
		t.Errorf("the receipt shows no code (%q) or no appointment:\n%s", code, receipt)
	}
	c.shot("procedures-citizen-09-receipt")
	if !c.has(`.qr svg[role=img]`) || !c.has(`button[data-print]:not([hidden])`) {
		t.Error("the receipt lacks the tracking link's QR code or the print button")
	}
	c.shotWidths("citizen-receipt")

	pin := strings.TrimSpace(c.text(`#tracking-pin`))
	c.open("track", "/track")
	c.step("track code", chromedp.SendKeys(css(`#track-code`), code))
	c.step("track PIN", chromedp.SendKeys(css(`#track-pin`), pin))
	c.press("track", `form[action="/track"] button[type=submit]`)
	mustContain(t, "tracking", c.text("main"), "Mới đăng ký")
	if !c.has(`ol.stepper li.step-current[aria-current=step]`) {
		t.Error("tracking shows no stepper")
	}
	c.shot("procedures-citizen-10-track")
	c.shotWidths("citizen-track")

	// The staff of the Consular Department.
	dossier := "/console/dossiers/" + code
	officer, err := a.Identity.StaffByUsername(context.Background(), "consular.officer")
	if err != nil {
		t.Fatal(err)
	}
	clerk := newWindow(t, browser, dir, base)
	clerk.staffSignIn(a, "consular.clerk")
	clerk.open("queue", "/console/dossiers")
	mustContain(t, "queue", clerk.text("main"), code)
	clerk.shot("procedures-clerk-01-queue")
	clerk.press("open the dossier", `main a[href="`+dossier+`"]`)
	clerk.step("dossier", chromedp.WaitVisible(css(`#act-receive-submit`)))
	clerk.shot("procedures-clerk-02-dossier")
	clerk.act("receive", "receive", "")
	mustContain(t, "received", clerk.text(`.page-head`), "Đã tiếp nhận")
	clerk.shot("procedures-clerk-03-received")

	off := newWindow(t, browser, dir, base)
	off.staffSignIn(a, "consular.officer")
	off.open("officer's dossier", dossier)
	off.step("assign to self", chromedp.SetValue(css(`#act-assign-assignee`), strconv.FormatInt(officer.ID, 10)))
	off.act("assign", "assign", "")
	mustContain(t, "assigned", off.text("main"), officer.FullName)
	off.shot("procedures-clerk-04-assigned")
	off.act("request documents", "request-documents", "Đề nghị bổ sung bản dịch công chứng giấy khai sinh sang tiếng Anh.")
	mustContain(t, "documents requested", off.text(`.page-head`), "Yêu cầu bổ sung giấy tờ")
	off.shot("procedures-clerk-05-documents-requested")

	clerk.open("clerk's dossier", dossier)
	clerk.act("supplement", "supplement", "")
	mustContain(t, "supplemented", clerk.text(`.page-head`), "Đang xử lý")
	clerk.shot("procedures-clerk-06-supplemented")

	off.open("officer's dossier again", dossier)
	off.act("appraise", "appraise", "")
	off.shot("procedures-clerk-07-appraised")

	approver := newWindow(t, browser, dir, base)
	approver.staffSignIn(a, "consular.approver")
	approver.open("approver's dossier", dossier)
	approver.act("approve", "approve", "")
	approver.step("signed result", chromedp.WaitVisible(css(`#dossier-result`)))
	mustContain(t, "approved", approver.text(`.page-head`), "Đã xử lý xong")
	approver.shot("procedures-clerk-08-approved")

	clerk.open("clerk's dossier to return", dossier)
	clerk.act("return the result", "return-result", "")
	mustContain(t, "returned", clerk.text(`.page-head`), "Đã trả kết quả")
	history := clerk.text(`section[aria-labelledby=dossier-history]`)
	for _, entry := range []string{"Nộp hồ sơ", "Tiếp nhận hồ sơ", "Phân công xử lý", "Yêu cầu bổ sung giấy tờ",
		"Nộp bổ sung giấy tờ", "Thẩm định", "Phê duyệt", "Trả kết quả"} {
		if !strings.Contains(history, entry) {
			t.Errorf("the history lacks %q:\n%s", entry, history)
		}
	}
	clerk.shot("procedures-clerk-09-returned")

	c.open("citizen's dossier", "/my/dossiers/"+code)
	mustContain(t, "citizen's dossier", c.text("main"), "Đã trả kết quả")
	rating := `form[action="/my/dossiers/` + code + `/rating"]`
	if !c.has(rating) {
		t.Fatalf("the returned dossier offers no rating:\n%s", c.text("main"))
	}
	c.shot("procedures-citizen-11-returned")
	// Issue 11, item 4: the result as a PDF, and the verification page
	// its QR code leads to.
	pdf, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`fetch("/my/dossiers/`+code+`/result.pdf").then(r => r.status + " " + r.headers.get("Content-Type"))`,
		chromedp.EvalAwaitPromise))
	if err != nil || pdf != "200 application/pdf" {
		t.Errorf("the result's PDF answered %q (%v)", pdf, err)
	}
	c.press("verify the result", `#result-verify`)
	c.step("verification page", chromedp.WaitVisible(css(`#verify-verdict`)))
	mustContain(t, "verification", c.text("main"), "Kết quả này là thật")
	c.shotWidths("citizen-verify")
	c.open("citizen's dossier again", "/my/dossiers/"+code)
	c.step("five stars", chromedp.Click(css(`#stars-5`)))
	c.press("rate", rating+` button[type=submit]`)
	if c.has(rating) {
		t.Errorf("the dossier still offers a rating after rating it")
	}
	c.shot("procedures-citizen-12-rated")

	approver.open("indices", "/console/procedures/indices")
	approver.shot("procedures-clerk-10-indices")
	approver.open("reconciliation", "/console/procedures/reconciliation")
	approver.shot("procedures-clerk-11-reconciliation")
}
