package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"xii/testkit/pgtest"
	"xii/testkit/wait"
)

// chromiumPath finds Chromium (Debian: apt-get install chromium).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	pgtest.Unavailable(t, "Chromium", "apt-get install -y chromium", exec.ErrNotFound)
	return ""
}

// axeSource is axe-core's script, installed by npm ci in tests/browser.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "tests", "browser", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		pgtest.Unavailable(t, "axe-core", "cd tests/browser && npm ci", err)
	}
	return string(b)
}

// sentRequest is one request the page made, as the browser sent it.
type sentRequest struct {
	URL     string
	Headers map[string]any
}

// tab is one page of a fresh headless Chromium, with what the page wrote
// to its console and every request it made.
type tab struct {
	ctx       context.Context
	downloads string // where downloads land

	mu       sync.Mutex
	problems []string // console errors, uncaught exceptions, browser log errors
	requests []sentRequest
	urls     map[network.RequestID]string
	canceled []string        // URLs of requests the page aborted
	done     map[string]bool // finished downloads by file name
}

// newTab starts Chromium with a fresh profile, a window of width × height,
// and stops it when t ends.
func newTab(t *testing.T, width, height int) *tab {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	tb := &tab{ctx: ctx, downloads: t.TempDir(), done: map[string]bool{}, urls: map[network.RequestID]string{}}
	listen := func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				tb.problems = append(tb.problems, "console."+string(ev.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			tb.problems = append(tb.problems, "exception: "+msg)
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				tb.problems = append(tb.problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			tb.requests = append(tb.requests, sentRequest{URL: ev.Request.URL, Headers: ev.Request.Headers})
			tb.urls[ev.RequestID] = ev.Request.URL
		case *network.EventLoadingFailed:
			if ev.Canceled {
				tb.canceled = append(tb.canceled, tb.urls[ev.RequestID])
			}
		case *network.EventRequestWillBeSentExtraInfo:
			tb.requests = append(tb.requests, sentRequest{Headers: ev.Headers})
		case *browser.EventDownloadProgress:
			if ev.State == browser.DownloadProgressStateCompleted {
				tb.done[ev.GUID] = true
			}
		}
	}
	enabled := true
	if err := chromedp.Listen(ctx, listen); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.ListenBrowser(ctx, listen); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: tb.downloads, EventsEnabled: &enabled,
	}); err != nil {
		t.Fatalf("chromium: downloads: %v", err)
	}
	return tb
}

// run runs actions in the tab, failing t on error.
func (tb *tab) run(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression, its value decoded into T.
func eval[T any](t *testing.T, tb *tab, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("browser: %s: %v", expr, err)
	}
	return v
}

// eval evaluates a JavaScript expression into out, as JSON decodes it.
func (tb *tab) eval(t *testing.T, expr string, out any) {
	t.Helper()
	raw := eval[json.RawMessage](t, tb, expr)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("browser: %s: %v: %s", expr, err, raw)
	}
}

// waitFor waits until the JavaScript condition is true in the page, and
// fails t naming it if it is not within waitLimit.
func (tb *tab) waitFor(t *testing.T, what, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(waitLimit))); err != nil {
		state, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.getElementById('status').textContent + ' | ' + (document.getElementById('error').textContent || '')`))
		t.Fatalf("waiting for %s (%s): %v; page says %q", what, cond, err, state)
	}
}

// press activates a button from the keyboard, as a user without a mouse
// does; unlike a click it cannot land elsewhere when the layout moves.
func (tb *tab) press(t *testing.T, sel string) {
	t.Helper()
	tb.run(t, chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent(kb.Enter))
}

// refreshes is how many refreshes the page has finished.
func (tb *tab) refreshes(t *testing.T) int {
	t.Helper()
	return eval[int](t, tb, `Number(document.body.dataset.refreshes)`)
}

// waitRefreshes waits until the page has finished n refreshes.
func (tb *tab) waitRefreshes(t *testing.T, n int) {
	t.Helper()
	tb.waitFor(t, fmt.Sprintf("%d refreshes", n), fmt.Sprintf(`Number(document.body.dataset.refreshes) >= %d`, n))
}

// noProblems fails t if the page logged an error or threw.
func (tb *tab) noProblems(t *testing.T) {
	t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		t.Errorf("the page: %s", p)
	}
	tb.problems = nil
}

func (tb *tab) sent() []sentRequest {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]sentRequest(nil), tb.requests...)
}

// download waits for a download to finish and returns its content.
func (tb *tab) download(t *testing.T, guidsBefore int) []byte {
	t.Helper()
	var guid string
	wait.For(t, "the download to finish", func() bool {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		if len(tb.done) <= guidsBefore {
			return false
		}
		for g := range tb.done {
			if _, err := os.Stat(filepath.Join(tb.downloads, g)); err == nil {
				guid = g
			}
		}
		return guid != ""
	}, wait.Within(waitLimit))
	b, err := os.ReadFile(filepath.Join(tb.downloads, guid))
	if err != nil {
		t.Fatal(err)
	}
	tb.mu.Lock()
	delete(tb.done, guid)
	tb.mu.Unlock()
	os.Remove(filepath.Join(tb.downloads, guid))
	return b
}

// axeViolation is one rule axe-core found broken.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// axe injects axe-core and runs it on the whole page.
func (tb *tab) axe(t *testing.T, src string) []axeViolation {
	t.Helper()
	eval[chromedp.Void](t, tb, src)
	raw := eval[json.RawMessage](t, tb, `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)`, chromedp.EvalAwaitPromise)
	var vs []axeViolation
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatalf("axe result: %v: %s", err, raw)
	}
	return vs
}

// screenshot saves a full-page PNG in XII_SCREENSHOT_DIR, or in a
// temporary directory, and logs where.
func (tb *tab) screenshot(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("XII_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", path, len(png))
}
