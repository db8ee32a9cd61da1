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
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"chancery/internal/demo"
)

// TestMyDossiersMenuAndForgottenPasswordInABrowser walks the demo
// citizen's "my dossiers" at 390 px (a phone) and 1366 px (a laptop):
// search, filter, the next page, the top navigation's menu, the rows as
// cards; then the forgotten password, reading the link from the mail
// outbox, which ends the session of another browser.
func TestMyDossiersMenuAndForgottenPasswordInABrowser(t *testing.T) {
	browser := mustBrowserFor(t, 240*time.Second)
	// Without the background work, which would seed the demo's dossiers
	// too: the test seeds them itself, as startDemo leaves them out.
	a, base := startDemo(t, testConfig(t, true))
	ctx := context.Background()
	if _, err := a.DB.ExecContext(ctx, a.DB.Rebind(`DELETE FROM meta WHERE key = ?`), demo.DossiersKey); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedDossiers(ctx, a.DB, a.Identity, a.Procedures); err != nil {
		t.Fatal(err)
	}
	dir := screenshotDir(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	c := newWindow(t, browser, dir, base)
	phone := func() { c.step("390 px", chromedp.EmulateViewport(390, 844)) }
	laptop := func() { c.step("1366 px", chromedp.EmulateViewport(1366, 900)) }
	signIn := func(password string) {
		c.open("public sign-in", "/account/login")
		c.step("fill public sign-in", chromedp.SendKeys(css(`#username`), "citizen@example.com"), chromedp.SendKeys(css(`#password`), password))
		c.press("public sign-in", `form[action="/account/login"] button[type=submit]`)
		c.step("signed in", chromedp.WaitReady(css(`#sign-out`)))
	}
	eval := func(what, js string) bool {
		t.Helper()
		v, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			c.shot("failed-" + what)
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	wide := func(what string) {
		t.Helper()
		if eval(what, `document.documentElement.scrollWidth > window.innerWidth`) {
			c.shot("failed-" + what)
			t.Errorf("%s scrolls sideways", what)
		}
	}
	visible := func(sel string) bool {
		t.Helper()
		return eval("is "+sel+" visible", `(() => { const e = document.querySelector(`+"`"+sel+"`"+`); return !!e && e.getClientRects().length > 0 })()`)
	}

	phone()
	signIn(a.cfg.DemoPassword)
	c.open("my dossiers", "/my/dossiers")
	c.shot("mine-01-my-dossiers-390")
	wide("my dossiers at 390 px")
	if visible(`#topnav`) || !visible(`#menu-toggle`) {
		t.Fatal("at 390 px the navigation is not folded behind its menu button")
	}
	if visible(`#mine-list thead`) && !visible(`#mine-list td[data-label]`) {
		t.Error("at 390 px the list is not shown as cards")
	}
	// The menu, by keyboard: focus the button, press Enter, Escape closes it.
	c.step("open the menu", chromedp.Focus(css(`#menu-toggle`)), chromedp.KeyEvent("\r"))
	c.step("menu open", chromedp.WaitVisible(css(`#topnav a[href="/my/dossiers"]`)))
	if expanded, err := chromedp.Run(c.ctx, chromedp.AttributeValue(css(`#menu-toggle`), "aria-expanded")); err != nil || expanded.Value != "true" {
		t.Errorf("the open menu's button says aria-expanded=%q (%v)", expanded.Value, err)
	}
	c.shot("mine-02-menu-open-390")
	c.step("close the menu", chromedp.KeyEvent("\x1b"), chromedp.WaitNotVisible(css(`#topnav`)))

	total := c.text(`#mine-count`)
	if !c.has(`.pager a[rel=next]`) {
		t.Fatalf("the demo citizen's list has one page: %s", total)
	}
	c.press("next page", `.pager a[rel=next]`)
	c.step("second page", chromedp.WaitVisible(css(`.pager [aria-current=page]`)))
	mustContain(t, "second page", c.text(`.pager [aria-current=page]`), "2")
	c.shot("mine-03-page-2-390")

	// Search without marks, then filter by status.
	c.open("my dossiers again", "/my/dossiers")
	c.step("search", chromedp.SendKeys(css(`#mine-q`), "ho chieu"))
	c.press("search", `form[role=search] button[type=submit]`)
	c.step("found", chromedp.WaitVisible(css(`#mine-count`)))
	for _, name := range strings.Split(c.text(`#mine-list`), "\n") {
		if strings.Contains(name, "Hợp pháp hóa") || strings.Contains(name, "Chứng nhận lãnh sự") {
			t.Errorf("a search for passports shows %q", name)
		}
	}
	c.shot("mine-04-search-390")
	c.step("filter", chromedp.SetValue(css(`#mine-status`), "10"))
	c.press("filter", `form[role=search] button[type=submit]`)
	c.step("filtered", chromedp.WaitVisible(css(`#mine-count`)))
	if c.has(`#mine-list`) {
		for _, st := range regexp.MustCompile(`Trạng thái\s*\n?([^\n]+)`).FindAllStringSubmatch(c.text(`#mine-list`), -1) {
			if !strings.Contains(st[1], "trả kết quả") {
				t.Errorf("a filter on returned dossiers shows one %q", st[1])
			}
		}
	}
	c.shot("mine-05-filtered-390")
	wide("the filtered list at 390 px")

	laptop()
	c.open("my dossiers at 1366 px", "/my/dossiers")
	if !visible(`#topnav`) || visible(`#menu-toggle`) || !visible(`#mine-list thead`) {
		t.Error("at 1366 px the navigation or the table's head is hidden, or the menu button shown")
	}
	wide("my dossiers at 1366 px")
	c.shot("mine-06-my-dossiers-1366")
	c.press("a dossier", `#mine-list a[href^="/my/dossiers/"]`)
	c.step("dossier", chromedp.WaitVisible(css(`#public-history`)))
	phone()
	wide("a dossier at 390 px")
	c.shot("mine-07-dossier-390")

	// Another browser, signed in before the password is reset.
	o := newWindow(t, browser, dir, base)
	o.open("other sign-in", "/account/login")
	o.step("fill", chromedp.SendKeys(css(`#username`), "citizen@example.com"), chromedp.SendKeys(css(`#password`), a.cfg.DemoPassword))
	o.press("other sign-in", `form[action="/account/login"] button[type=submit]`)
	o.step("other signed in", chromedp.WaitReady(css(`#sign-out`)))

	// The forgotten password, from the sign-in page.
	c.press("sign out", `#sign-out`)
	c.open("sign-in", "/account/login")
	c.press("forgot", `a[href="/account/reset"]`)
	c.step("reset form", chromedp.WaitVisible(css(`#email`)), chromedp.SendKeys(css(`#email`), "citizen@example.com"))
	c.shot("mine-08-forgot-390")
	c.press("ask for a link", `form[action="/account/reset"] button[type=submit]`)
	c.shot("mine-09-link-sent-390")
	var body string
	if err := a.DB.QueryRowContext(ctx, a.DB.Rebind(`SELECT body_text FROM mail_outbox WHERE recipients LIKE ? ORDER BY id DESC LIMIT 1`),
		"%citizen@example.com%").Scan(&body); err != nil {
		t.Fatalf("no reset mail in the outbox: %v", err)
	}
	link := regexp.MustCompile(`/account/reset/confirm\?token=[A-Za-z0-9_-]+`).FindString(body)
	if link == "" {
		t.Fatalf("no reset link in %q", body)
	}
	c.open("the mailed link", link)
	c.step("new password", chromedp.SendKeys(css(`#password`), "a recovered passphrase"),
		chromedp.SendKeys(css(`#confirm_password`), "a recovered passphrase"))
	c.press("set it", `form[action^="/account/reset/confirm"] button[type=submit]`)
	mustContain(t, "reset done", c.text("main"), "Đã đặt mật khẩu mới")
	c.shot("mine-10-reset-done-390")
	c.open("the link again", link)
	mustContain(t, "used link", c.text("main"), "Yêu cầu liên kết mới")

	o.open("other's list", "/my/dossiers")
	if o.has(`#sign-out`) {
		t.Error("the other browser's session survived the reset")
	}
	signIn("a recovered passphrase")
}
