//go:build !race

// These tests walk pages, routes and browser flows, checking what each
// caller is shown and allowed, not what runs at once: under the race
// detector they cost minutes of CI and find no race the other tests miss.
// So they build only without -race: CI runs them in its vet step (.ci/run
// picks every test of a "//go:build !race" file), and a plain `go test`
// runs them as always.

package app

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// fitsWidth fails the test when the window's page scrolls sideways.
func (w *window) fitsWidth(name string) {
	w.t.Helper()
	wide, err := chromedp.Run(w.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil {
		w.t.Fatalf("%s: measure the page: %v", name, err)
	}
	if wide {
		w.t.Errorf("%s scrolls sideways", name)
	}
}

// portalShots saves the open page at 390 px and 1366 px, checking at each
// that it does not scroll sideways.
func (w *window) portalShots(name string) {
	w.t.Helper()
	w.step(name+" at 390 px", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(1)))
	w.fitsWidth(name + " at 390 px")
	w.shot(name + "-390")
	w.step(name+" at 1366 px", chromedp.EmulateViewport(1366, 900))
	w.fitsWidth(name + " at 1366 px")
	w.shot(name + "-1366")
}

// TestPortalNewsInABrowser walks the portal's news flow in Chromium: the
// press officer drafts a statement in both languages and submits it, the
// spokesperson approves and publishes it, and a visitor finds it on the
// news page, reads it, and sees it in the Atom feed; the portal's other
// public pages are saved too. Every page is saved at 1366 px and 390 px.
func TestPortalNewsInABrowser(t *testing.T) {
	browser := mustBrowserFor(t, 4*time.Minute)
	a, base := serveDemo(t)
	dir := screenshotDir(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	const titleVI, titleEN = "Phát ngôn về hợp tác nghề cá", "Statement on fisheries cooperation"

	press := newWindow(t, browser, dir, base)
	press.staffSignIn(a, "press.officer")
	press.open("the portal's console", "/console/portal/")
	press.portalShots("portal-01-console")
	press.open("new publication", "/console/portal/items/new")
	press.step("fill the draft", chromedp.SetValue(css(`#pub-kind`), "statement"),
		chromedp.SendKeys(css(`#pub-title_vi`), titleVI), chromedp.SendKeys(css(`#pub-title_en`), titleEN),
		chromedp.SendKeys(css(`#pub-body_vi`), "Việt Nam sẵn sàng hợp tác nghề cá bền vững.\n\nĐoạn thứ hai."),
		chromedp.SendKeys(css(`#pub-body_en`), "Viet Nam stands ready for sustainable fisheries cooperation.\n\nA second paragraph."),
		chromedp.SendKeys(css(`#pub-tags`), "Nghề cá, ASEAN"))
	press.portalShots("portal-02-draft-form")
	press.press("save the draft", `#save-publication`)
	press.step("the draft's page", chromedp.WaitVisible(css(`#step-submit-submit`)))
	itemURL, err := chromedp.Run(press.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	itemPath := strings.TrimPrefix(strings.SplitN(itemURL, "?", 2)[0], base)
	press.press("submit", `#step-submit-submit`)
	mustContain(t, "submitted", press.text("#pub-status"), "Chờ Người phát ngôn duyệt")
	press.portalShots("portal-03-submitted")

	// The visitor cannot see it yet.
	if resp, err := http.Get(base + "/news/statement-on-fisheries-cooperation"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the submitted draft to the public: %v %v", resp.Status, err)
	}

	spokes := newWindow(t, browser, dir, base)
	spokes.staffSignIn(a, "spokesperson")
	spokes.open("awaiting approval", "/console/portal/?status=submitted")
	mustContain(t, "waiting list", spokes.text("main"), titleVI)
	spokes.portalShots("portal-04-awaiting")
	spokes.open("the submitted statement", itemPath)
	spokes.portalShots("portal-05-review")
	spokes.press("approve and publish", `#step-approve-submit`)
	mustContain(t, "published", spokes.text("#pub-status"), "Đã đăng")

	visitor := newWindow(t, browser, dir, base)
	visitor.open("news", "/news")
	mustContain(t, "news list", visitor.text("main"), titleVI)
	visitor.portalShots("portal-06-news")
	visitor.press("open the statement", `a[href="/news/statement-on-fisheries-cooperation"]`)
	visitor.step("the statement", chromedp.WaitVisible(css(`#item-title`)))
	mustContain(t, "statement", visitor.text("main"), "Đoạn thứ hai.")
	visitor.portalShots("portal-07-statement")
	visitor.open("the statement in English", "/news/statement-on-fisheries-cooperation?lang=en")
	mustContain(t, "English statement", visitor.text("#item-title"), titleEN)
	visitor.portalShots("portal-08-statement-en")

	resp, err := http.Get(base + "/news/feed.atom?lang=en")
	if err != nil {
		t.Fatal(err)
	}
	feed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(feed), "<title>"+titleEN+"</title>") {
		t.Fatalf("the feed lacks the statement: %.500s", feed)
	}

	for _, p := range []struct{ name, path string }{
		{"portal-09-protection", "/protection"}, {"portal-10-missions", "/missions"},
		{"portal-11-mission", "/missions/000.01.02.G12"}, {"portal-12-privacy", "/privacy"},
		{"portal-13-accessibility", "/accessibility"}, {"portal-14-tag", "/news/tags/asean?lang=vi"},
	} {
		visitor.open(p.name, p.path)
		visitor.portalShots(p.name)
	}
}
