//go:build !race

// These tests walk pages, routes and browser flows, checking what each
// caller is shown and allowed, not what runs at once: under the race
// detector they cost minutes of CI and find no race the other tests miss.
// So they build only without -race: CI runs them in its vet step (.ci/run
// picks every test of a "//go:build !race" file), and a plain `go test`
// runs them as always.

package app

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// consoleRole is a demo member of staff as the console browser test
// walks them: where the home page must send them first, and the pages of
// their work that must fit a laptop's and a phone's width.
type consoleRole struct {
	username string
	work     string // the href of the home page's first work tile
	pages    []string
}

// consoleRoles are the demo's staff roles, one person each.
var consoleRoles = []consoleRole{
	{"consular.clerk", "/console/dossiers", []string{"/console/dossiers", "/console/dossiers/new", "/console/procedures/indices", "/console/units"}},
	{"consular.officer", "/console/dossiers?mine=1", []string{"/console/dossiers?mine=1", "/console/records"}},
	{"consular.approver", "/console/dossiers?mine=1", []string{"/console/dossiers?tab=processing", "/console/procedures/indices"}},
	{"office.clerk", "/console/records", []string{"/console/records"}},
	{"office.approver", "/console/records", []string{"/console/procedures/indices?scope=units"}},
	{"auditor", "/console/audit", []string{"/console/audit", "/console/audit/events/1", "/console/audit/checkpoints", "/console/users", "/console/users?q=consular"}},
	{"admin", "/console/users", []string{"/console/users", "/console/users?q=consular", "/console/units", "/console/units/1", "/console/exchange/services", "/console/exchange/nodes", "/console/exchange/monitor", "/console/procedures/indices"}},
	{"archivist", "/console/records", []string{"/console/records"}},
	{"security.officer", "/console/audit", []string{"/console/audit", "/console/user-proposals"}},
}

// rawValue matches what a console page must never show its reader: a
// unit as "#4", a person as "Cán bộ 7"/"Staff 7", an action's code.
var rawValue = regexp.MustCompile(`(^|\s)#\d+\b|\b(Cán bộ|Staff|staff) \d+\b|\b(dossier|unit|staff|login)\.[a-z_]+\b`)

// TestConsoleHomeSendsEachRoleToTheirWorkInABrowser signs in as each demo
// staff role in Chromium and checks that the console's home leads first
// to their work, that the navigation marks the page it is on, and that
// neither the home nor any page of their work scrolls sideways at
// 1366 px or 390 px, nor shows a raw unit id, staff number or action
// code. Each page is saved as a screenshot at both widths.
func TestConsoleHomeSendsEachRoleToTheirWorkInABrowser(t *testing.T) {
	browser := mustBrowserFor(t, 8*time.Minute)
	a, base := serveDemo(t)
	dir := screenshotDir(t)
	for _, role := range consoleRoles {
		w := newWindow(t, browser, dir, base)
		w.staffSignIn(a, role.username)
		w.open(role.username+" home", "/console/")
		got, err := chromedp.Run(w.ctx, chromedp.Evaluate[string](`document.querySelector("#work a.tile").getAttribute("href")`))
		if err != nil || got != role.work {
			w.shot("failed-home-" + role.username)
			t.Errorf("%s: the home's first work tile leads to %q (%v), want %q", role.username, got, err, role.work)
		}
		for i, path := range append([]string{"/console/"}, role.pages...) {
			w.open(role.username+" "+path, path)
			w.fits(fmt.Sprintf("console-%s-%02d", role.username, i))
			if m := rawValue.FindString(w.text("main")); m != "" {
				t.Errorf("%s: %s shows the raw value %q", role.username, path, m)
			}
		}
	}
}

// TestConsoleErrorPagesInABrowser opens a page that does not exist and
// one the member may not see: each answers in the reader's language
// inside the console's layout, with its navigation.
func TestConsoleErrorPagesInABrowser(t *testing.T) {
	browser := mustBrowser(t)
	a, base := serveDemo(t)
	dir := screenshotDir(t)
	w := newWindow(t, browser, dir, base)
	w.staffSignIn(a, "consular.clerk")
	for _, c := range []struct{ path, title, detail string }{
		{"/console/no-such-page", "Không tìm thấy", "Không có trang"},
		{"/console/audit", "Không được phép", "cho phép thao tác này"},
	} {
		w.open(c.path, c.path)
		mustContain(t, c.path+" title", w.text("main h1"), c.title)
		mustContain(t, c.path+" detail", w.text("main"), c.detail)
		if !w.has(`nav.topnav a[href="/console/dossiers"]`) {
			t.Errorf("%s: the error page has no console navigation", c.path)
		}
		w.fits("console-error-" + strings.Trim(strings.ReplaceAll(c.path, "/", "-"), "-"))
	}
}

// fits saves the page at 1366 px and at 390 px (name-1366.png,
// name-390.png) and fails the test when it is wider than the window at
// either width.
func (w *window) fits(name string) {
	w.t.Helper()
	for _, width := range []int64{1366, 390} {
		w.step(fmt.Sprintf("%s at %d px", name, width), chromedp.EmulateViewport(width, 900))
		over, err := chromedp.Run(w.ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth - window.innerWidth`))
		if err != nil {
			w.t.Fatalf("%s: measure: %v", name, err)
		}
		w.shot(fmt.Sprintf("%s-%d", name, width))
		if over > 0 {
			wide, _ := chromedp.Run(w.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("main *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 3).map(e => e.tagName + "." + e.className).join(", ")`))
			w.t.Errorf("%s at %d px: the page is %d px wider than the window (%s)", name, width, over, wide)
		}
	}
}

// TestConsoleInABrowser walks the console as an administrator would in
// Chromium: sign in, switch to English, create a unit and a staff member,
// sign out. It saves a screenshot of each step.
func TestConsoleInABrowser(t *testing.T) {
	ctx := mustBrowser(t)
	cfg := testConfig(t, true)
	a, srv := MustStart(t, cfg)
	dir := screenshotDir(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step, submit := browserSteps(ctx, t, dir)

	step("open console", chromedp.Navigate(srv.URL+"/console/"), chromedp.WaitVisible(css(`input[name=username]`)))
	mustContain(t, "sign-in page language", textOf(ctx, t, "h1"), "Đăng nhập")
	shot(ctx, t, dir, "01-login")
	step("fill sign-in", chromedp.SendKeys(css(`input[name=username]`), "admin"),
		chromedp.SendKeys(css(`input[name=password]`), cfg.DemoPassword),
		chromedp.SendKeys(css(`input[name=totp]`), demoTOTP(t, a, "admin")))
	submit("sign in", `form[action="/console/login"]`)
	step("console home", chromedp.WaitVisible(css(`#sign-out`)))
	mustContain(t, "console home", textOf(ctx, t, "main"), "Nguyễn Văn Quản")
	shot(ctx, t, dir, "02-console-vi")

	submit("switch language", `form[action="/lang"]`)
	step("english", chromedp.WaitVisible(css(`html[lang=en]`)))
	mustContain(t, "English console", textOf(ctx, t, "#sign-out"), "Sign out")
	shot(ctx, t, dir, "03-console-en")

	step("new unit form", chromedp.Navigate(srv.URL+"/console/units/new"), chromedp.WaitVisible(css(`input[name=code]`)),
		chromedp.SendKeys(css(`input[name=code]`), "000.00.91.G12"),
		chromedp.SendKeys(css(`input[name=name_vi]`), "Đại sứ quán Việt Nam tại Chi-lê"),
		chromedp.SendKeys(css(`input[name=name_en]`), "Embassy of Viet Nam in Chile"),
		chromedp.SetValue(css(`select[name=kind]`), "embassy"),
		chromedp.SetValue(css(`select[name=parent_id]`), "1"),
		chromedp.SetValue(css(`[name=country]`), "CL"),
		chromedp.SetValue(css(`[name=time_zone]`), "America/Santiago"))
	shot(ctx, t, dir, "04-unit-form")
	submit("create unit", `form[action="/console/units"]`)
	step("unit created", chromedp.WaitVisible(css(`main h1`)))
	mustContain(t, "unit page", textOf(ctx, t, "main"), "000.00.91.G12")
	shot(ctx, t, dir, "05-unit-created")

	step("new user form", chromedp.Navigate(srv.URL+"/console/users/new"), chromedp.WaitVisible(css(`input[name=username]`)),
		chromedp.SendKeys(css(`input[name=username]`), "santiago.clerk"),
		chromedp.SendKeys(css(`input[name=full_name]`), "Phạm Thị Hoa"),
		chromedp.SendKeys(css(`input[name=email]`), "hoa.pt@example.gov.vn"),
		chromedp.Click(css(`input[name=roles][value=clerk]`)))
	step("pick unit", chromedp.SetValue(css(`select[name=unit_id]`), "1"))
	shot(ctx, t, dir, "06-user-form")
	submit("create user", `form[action="/console/users"]`)
	step("user created", chromedp.WaitVisible(css(`main h1`)))
	mustContain(t, "user page", textOf(ctx, t, "main"), "santiago.clerk")
	shot(ctx, t, dir, "07-user-created")

	submit("sign out", `form[action="/console/logout"]`)
	step("signed out", chromedp.WaitVisible(css(`input[name=username]`)))
	shot(ctx, t, dir, "08-signed-out")
	// AtLeast(0) answers at once: the sign-out button must be gone.
	if n, err := chromedp.Run(ctx, chromedp.Nodes(css(`#sign-out`), chromedp.AtLeast(0))); err != nil || len(n) != 0 {
		t.Fatalf("still signed in after signing out (%d sign-out buttons, %v)", len(n), err)
	}
}

// TestAuditorVerifiesAnEventInABrowser signs in as the auditor, finds the
// sign-in that was just recorded, and opens it: the page shows its
// inclusion proof verified against a signed checkpoint.
func TestAuditorVerifiesAnEventInABrowser(t *testing.T) {
	ctx := mustBrowser(t)
	cfg := testConfig(t, true)
	a, srv := MustStart(t, cfg)
	dir := screenshotDir(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/login"),
		chromedp.WaitVisible(css(`input[name=username]`)),
		chromedp.SendKeys(css(`input[name=username]`), "auditor"),
		chromedp.SendKeys(css(`input[name=password]`), cfg.DemoPassword),
		chromedp.SendKeys(css(`input[name=totp]`), demoTOTP(t, a, "auditor"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(css(`form[action="/console/login"] button[type=submit]`))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/audit?action=login"),
		chromedp.WaitVisible(css(`table a[href^="/console/audit/events/"]`))); err != nil {
		shot(ctx, t, dir, "failed-audit-search")
		t.Fatal(err)
	}
	mustContain(t, "audit search", textOf(ctx, t, "main"), "login")
	shot(ctx, t, dir, "09-audit-search")
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(css(`table a[href^="/console/audit/events/"]`))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(css(`.badge.verified`))); err != nil {
		shot(ctx, t, dir, "failed-audit-event")
		t.Fatalf("the event page shows no verified proof: %v", err)
	}
	shot(ctx, t, dir, "10-audit-event-verified")
}
