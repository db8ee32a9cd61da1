//go:build !race

// These tests walk pages, routes and browser flows, checking what each
// caller is shown and allowed, not what runs at once: under the race
// detector they cost minutes of CI and find no race the other tests miss.
// So they build only without -race: CI runs them in its vet step (.ci/run
// picks every test of a "//go:build !race" file), and a plain `go test`
// runs them as always.

package app

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestExchangeInABrowser walks the exchange pages as an administrator at
// headquarters would: find an existing service in the catalogue (by a
// word without its diacritics), open it, issue an enrolment token for a
// mission, and look at the monitor and the national portal simulator.
func TestExchangeInABrowser(t *testing.T) {
	ctx := mustBrowser(t)
	cfg := testConfig(t, true)
	a, srv := MustStart(t, cfg)
	dir := screenshotDir(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step, submit := browserSteps(ctx, t, dir)

	step("open console", chromedp.Navigate(srv.URL+"/console/"), chromedp.WaitVisible(css(`input[name=username]`)),
		chromedp.SendKeys(css(`input[name=username]`), "admin"),
		chromedp.SendKeys(css(`input[name=password]`), cfg.DemoPassword),
		chromedp.SendKeys(css(`input[name=totp]`), demoTOTP(t, a, "admin")))
	submit("sign in", `form[action="/console/login"]`)
	step("console home", chromedp.WaitVisible(css(`#sign-out`)))

	step("catalogue", chromedp.Navigate(srv.URL+"/console/exchange/services"), chromedp.WaitVisible(css(`main h1`)))
	mustContain(t, "catalogue", textOf(ctx, t, "main"), "VN/GOV/000.00.00.G02/population/citizen-lookup/v1")
	shot(ctx, t, dir, "exchange-01-catalogue")
	step("search", chromedp.SendKeys(css(`form[role=search] input[name=q]`), "bao ho cong dan"))
	submit("search", `form[role=search]`)
	step("search results", chromedp.WaitVisible(css(`main h1`)))
	results := textOf(ctx, t, "main")
	mustContain(t, "search without diacritics", results, "citizen-protection")
	if strings.Contains(results, "citizen-lookup/v1") {
		t.Errorf("the search for citizen protection also lists the citizen lookup:\n%s", results)
	}
	shot(ctx, t, dir, "exchange-02-search")

	step("service", chromedp.Navigate(srv.URL+"/console/exchange/services/VN/GOV/000.00.00.G02/population/citizen-lookup/v1"),
		chromedp.WaitVisible(css(`main h1`)))
	service := textOf(ctx, t, "main")
	mustContain(t, "service page: OpenAPI", service, "OpenAPI")
	mustContain(t, "service page: rights", service, "VN/GOV/000.00.00.G12/procedures")
	shot(ctx, t, dir, "exchange-03-service")

	step("nodes", chromedp.Navigate(srv.URL+"/console/exchange/nodes"), chromedp.WaitVisible(css(`form[action="/console/exchange/enrolments"]`)),
		chromedp.SetValue(css(`form[action="/console/exchange/enrolments"] select`), "000.01.02.G12"))
	submit("issue enrolment", `form[action="/console/exchange/enrolments"]`)
	step("token shown", chromedp.WaitVisible(css(`main h1`)))
	mustContain(t, "enrolment command", textOf(ctx, t, "main"), "chancery serve --role mission --join")
	shot(ctx, t, dir, "exchange-04-enrolment")

	step("monitor", chromedp.Navigate(srv.URL+"/console/exchange/monitor"), chromedp.WaitVisible(css(`main h1`)))
	mustContain(t, "monitor", textOf(ctx, t, "main"), "hq")
	shot(ctx, t, dir, "exchange-05-monitor")

	step("national portal simulator", chromedp.Navigate(srv.URL+"/console/simulators/national-portal"), chromedp.WaitVisible(css(`main h1`)))
	shot(ctx, t, dir, "exchange-06-national-portal-simulator")
}
