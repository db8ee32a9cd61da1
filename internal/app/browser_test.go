package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// mustBrowser returns a chromedp context on Debian's headless Chromium.
// Where Chromium is missing the test skips, saying how to install it;
// under CI=true (or CHANCERY_REQUIRE_BROWSER=1) it fails instead.
func mustBrowser(t *testing.T) context.Context {
	t.Helper()
	return mustBrowserFor(t, 150*time.Second)
}

// mustBrowserFor is mustBrowser for a walk that may take up to timeout
// (one of several people and many screenshots, on a busy machine). The
// test gets a tab of its own in a browser context of its own (its own
// cookies and storage, as a fresh browser's), closed when it ends, in the
// test process's one Chromium: starting Chromium for every test cost
// seconds of CPU each.
func mustBrowserFor(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" || os.Getenv("CHANCERY_REQUIRE_BROWSER") == "1" {
			t.Fatal("browser test: Chromium is required here (CI) but not installed")
		}
		t.Skip("browser test: skipping, Chromium not found (apt-get install chromium)")
	}
	browser, err := theBrowser.start(path)
	if err != nil {
		t.Fatalf("browser test: start Chromium: %v", err)
	}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Opening the tab must not carry a timeout either (it would close
	// the tab); later actions run under one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser test: open a tab in Chromium: %v", err)
	}
	ctx, cancel2 := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel2)
	return ctx
}

// sharedBrowser is the test process's Chromium, started by the first
// browser test and stopped when the process's tests are done.
type sharedBrowser struct {
	mu      sync.Mutex
	ctx     context.Context // the browser's first tab; nil until started
	cancel  func()
	dataDir string
}

// theBrowser is per test process, like the demo's seeded template.
var theBrowser sharedBrowser

// start returns the browser's context, starting Chromium (the binary at
// path) on first use.
func (b *sharedBrowser) start(path string) (context.Context, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx != nil {
		return b.ctx, nil
	}
	dir, err := os.MkdirTemp("", "chancery-chromium-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	cancel := func() { cancelBrowser(); cancelAlloc() }
	// The first action starts the browser and must not carry a timeout
	// (it would stop the browser).
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, err
	}
	b.ctx, b.cancel, b.dataDir = ctx, cancel, dir
	return ctx, nil
}

// stop stops Chromium, if it was started, and removes its profile.
func (b *sharedBrowser) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx != nil {
		b.cancel()
		os.RemoveAll(b.dataDir)
		b.ctx = nil
	}
}

// screenshotDir is where browser tests save their screenshots:
// $CHANCERY_SCREENSHOTS, else a directory under the system's temp dir.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("CHANCERY_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "chancery-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shot saves a full-page screenshot named name.png (quality 100 makes
// Chromium encode PNG rather than JPEG). Under CI=true only a failure's
// screenshot (failed-…) is saved unless CHANCERY_SCREENSHOTS names a
// directory: nobody looks at the others there, and Chromium's laying out
// and encoding of a hundred full pages was a good part of the browser
// tests' time on CI's two cores.
func shot(ctx context.Context, t *testing.T, dir, name string) {
	t.Helper()
	if !strings.HasPrefix(name, "failed-") && os.Getenv("CI") == "true" && os.Getenv("CHANCERY_SCREENSHOTS") == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// browserSteps returns the two moves of a browser test: step runs
// actions, and submit clicks a form's submit button and expects a page
// below 400; either saves a screenshot and stops the test on failure.
func browserSteps(ctx context.Context, t *testing.T, dir string) (step func(string, ...chromedp.Action[chromedp.Void]), submit func(name, form string)) {
	step = func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			shot(ctx, t, dir, "failed-"+name)
			t.Fatalf("%s: %v", name, err)
		}
	}
	submit = func(name, form string) {
		t.Helper()
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(form+` button[type=submit]`)))
		if err != nil {
			shot(ctx, t, dir, "failed-"+name)
			t.Fatalf("%s: %v", name, err)
		}
		if resp.Status >= 400 {
			shot(ctx, t, dir, "failed-"+name)
			t.Fatalf("%s: HTTP %d", name, resp.Status)
		}
	}
	return step, submit
}

func textOf(ctx context.Context, t *testing.T, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

func mustContain(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("%s: %q does not contain %q", what, got, want)
	}
}
