package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"xii/deployments/system"
	"xii/testkit/wait"
)

// statsBody is a stats answer as the dashboard returns it.
type statsBody struct {
	Groups []struct {
		Key   map[string]string `json:"key"`
		Count int64             `json:"count"`
	} `json:"groups"`
	Total     int64 `json:"total"`
	Truncated bool  `json:"truncated"`
	Sync      struct {
		Complete bool `json:"complete"`
	} `json:"sync"`
}

func stats(t *testing.T, base string, q url.Values) statsBody {
	t.Helper()
	status, _, b, err := call("GET", base+"/api/v1/stats?"+q.Encode(), "", "", nil)
	if err != nil || status != 200 {
		t.Fatalf("GET stats?%s: %d %s %v", q.Encode(), status, b, err)
	}
	var s statsBody
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// allResponses pages through every response matching q.
func allResponses(t *testing.T, base string, q url.Values) []record {
	t.Helper()
	var all []record
	q.Set("limit", "1000")
	for {
		e, _, err := responses(base, q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, e.Data...)
		if e.NextCursor == "" {
			return all
		}
		q.Set("cursor", e.NextCursor)
	}
}

// seedBrowser posts a spread of responses to blue and red, texts that
// need CSV quoting or look like formulas among them.
func seedBrowser(t *testing.T, s *system.System) {
	t.Helper()
	devices, locations := []string{"iOS", "Android", "web"}, []string{"Germany", "France", "Spain", "Japan"}
	texts := []string{"fine", "=HYPERLINK(\"http://x\",\"y\")", "comma, \"quoted\"\nand a new line", "+1", "@me", "-2"}
	for i := range 42 {
		provider := []string{"blue", "red"}[i%2]
		body, _ := json.Marshal(map[string]string{
			"survey": []string{"default", "nps"}[i%3/2], "text": texts[i%len(texts)] + " #" + strconv.Itoa(i),
			"device": devices[i%len(devices)], "location": locations[(i/2)%len(locations)],
		})
		if _, err := submit(s.URL(provider), string(body)); err != nil {
			t.Fatal(err)
		}
	}
}

// startBrowserSystem starts a system whose dashboard links traces to its
// Jaeger and has extra environment.
func startBrowserSystem(t *testing.T, withJaeger bool, dashboardEnv ...string) (*system.System, *testLog) {
	t.Helper()
	cfg := config(t, withJaeger)
	cfg.Env["dashboard"] = append(cfg.Env["dashboard"], dashboardEnv...)
	cfg.Env["dashboard"] = append(cfg.Env["dashboard"], "XII_JAEGER_UI_URL=http://127.0.0.1:"+strconv.Itoa(cfg.Ports.JaegerQuery))
	s := startConfigured(t, cfg)
	return s, cfg.Log.(*testLog)
}

// TestBrowser drives the dashboard's page in Chromium against the running
// system: what it shows is what the API answers for the same filter.
func TestBrowser(t *testing.T) {
	axe := axeSource(t)
	s, _ := startBrowserSystem(t, true)
	seedBrowser(t, s)
	dash := s.URL("dashboard")
	tb := newTab(t, 1280, 900)

	t.Run("loads without console errors", func(t *testing.T) {
		tb.run(t, chromedp.Navigate(dash+"/"))
		tb.waitRefreshes(t, 1)
		tb.waitFor(t, "a complete answer", `document.body.dataset.complete === 'true'`)
		var bannerHidden bool
		tb.eval(t, `document.getElementById('banner').hidden`, &bannerHidden)
		if !bannerHidden {
			t.Error("the incomplete banner shows on a complete answer")
		}
		// Each provider's visibility delay, and what "in sync" promises.
		var visible, horizon string
		tb.eval(t, `document.querySelector('#sync-table tr[data-provider="blue"]').cells[4].textContent`, &visible)
		tb.eval(t, `document.getElementById('horizon').textContent`, &horizon)
		if visible != "0 s" || !strings.Contains(horizon, "could show") {
			t.Errorf("blue visible after %q, horizon %q; want 0 s and the guarantee's wording", visible, horizon)
		}
		tb.noProblems(t)
	})

	t.Run("numbers and charts match the API", func(t *testing.T) {
		checkNumbers(t, tb, dash, url.Values{})
		tb.noProblems(t)
	})

	t.Run("a filter updates the URL and the numbers", func(t *testing.T) {
		n := tb.refreshes(t)
		tb.run(t, chromedp.Focus(chromedp.CSS("#f-device")), chromedp.SendKeys(chromedp.CSS("#f-device"), "iOS"), chromedp.KeyEvent(kb.Enter))
		tb.waitFor(t, "the filter in the URL", `location.search === '?device=iOS'`)
		tb.waitRefreshes(t, n+1)
		want := stats(t, dash, url.Values{"device": {"iOS"}})
		var got int64
		tb.eval(t, `Number(document.getElementById('n-total').dataset.value)`, &got)
		if got != want.Total || want.Total == 0 || want.Total >= stats(t, dash, url.Values{}).Total {
			t.Fatalf("with device=iOS the page shows %d, the API %d", got, want.Total)
		}
		checkNumbers(t, tb, dash, url.Values{"device": {"iOS"}})
		// A bookmarked view opens as it was left.
		tb.run(t, chromedp.Navigate(dash+"/?device=iOS&location=Germany"))
		tb.waitRefreshes(t, 1)
		var device string
		tb.eval(t, `document.getElementById('f-device').value + '/' + document.getElementById('f-location').value`, &device)
		if device != "iOS/Germany" {
			t.Errorf("the filter form shows %q after opening a bookmark", device)
		}
		checkNumbers(t, tb, dash, url.Values{"device": {"iOS"}, "location": {"Germany"}})
		// A time range, in the URL as RFC 3339 and in the form in UTC.
		since, until := time.Now().UTC().Add(-50*time.Minute).Truncate(time.Second), time.Now().UTC().Add(10*time.Minute).Truncate(time.Second)
		f := url.Values{"since": {since.Format(time.RFC3339)}, "until": {until.Format(time.RFC3339)}}
		tb.run(t, chromedp.Navigate(dash+"/?"+f.Encode()))
		tb.waitRefreshes(t, 1)
		const utc = "2006-01-02T15:04:05.000Z"
		if got := eval[string](t, tb, `['f-since', 'f-until'].map(id => new Date(document.getElementById(id).value + 'Z').toISOString()).join('/')`); got != since.Format(utc)+"/"+until.Format(utc) {
			t.Errorf("the time range shows as %q", got)
		}
		checkNumbers(t, tb, dash, f)
		tb.noProblems(t)
	})

	t.Run("older pages by the cursor", func(t *testing.T) {
		tb.run(t, chromedp.Navigate(dash+"/"))
		tb.waitRefreshes(t, 1)
		first, _, err := responses(dash, "limit=20")
		if err != nil || first.NextCursor == "" {
			t.Fatalf("first page: %v, cursor %q", err, first.NextCursor)
		}
		n := tb.refreshes(t)
		tb.press(t, "#older")
		tb.waitRefreshes(t, n+1)
		second, _, err := responses(dash, "limit=20&cursor="+first.NextCursor)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := tableRows(t, tb), recordIDs(second.Data); !slices.Equal(got, want) {
			t.Fatalf("older page shows %v, the API %v", got, want)
		}
		n = tb.refreshes(t)
		tb.press(t, "#newest")
		tb.waitRefreshes(t, n+1)
		if got, want := tableRows(t, tb), recordIDs(first.Data); !slices.Equal(got, want) {
			t.Fatalf("newest page shows %v, the API %v", got, want)
		}
	})

	t.Run("the CSV download equals the API's rows", func(t *testing.T) {
		tb.run(t, chromedp.Navigate(dash+"/?survey=default"))
		tb.waitRefreshes(t, 1)
		tb.press(t, "#csv")
		body := tb.download(t, 0)
		want := allResponses(t, dash, url.Values{"survey": {"default"}})
		checkCSV(t, body, want)
		tb.waitFor(t, "the download's sync state", `document.getElementById('status').textContent.includes('CSV downloaded, complete')`)
		tb.noProblems(t)
	})

	t.Run("a posted response appears after one refresh", func(t *testing.T) {
		tb.run(t, chromedp.Navigate(dash+"/"))
		tb.waitRefreshes(t, 1)
		n := tb.refreshes(t)
		text := "posted from the browser test " + rand.Text()[:8]
		id, err := submit(s.URL("blue"), fmt.Sprintf(`{"text":%q,"device":"iOS","location":"Germany"}`, text))
		if err != nil {
			t.Fatal(err)
		}
		// The refresh in flight may have synced before the post; the one
		// after it started after the post.
		tb.waitRefreshes(t, n+2)
		if rows := tableRows(t, tb); len(rows) == 0 || rows[0] != "blue/"+id {
			t.Fatalf("after one refresh the newest row is %v, want blue/%s", rows, id)
		}
	})

	t.Run("trace link", func(t *testing.T) {
		var id, href string
		tb.eval(t, `document.getElementById('trace-link').dataset.traceId`, &id)
		tb.eval(t, `document.getElementById('trace-link').href`, &href)
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) || href != s.URL("jaeger")+"/trace/"+id {
			t.Fatalf("trace link %q to %q", id, href)
		}
		wait.For(t, "the linked trace in Jaeger", func() bool {
			status, _, b, err := call("GET", s.URL("jaeger")+"/api/traces/"+id, "", "", nil)
			return err == nil && status == 200 && bytes.Contains(b, []byte("dashboard-svc")) && bytes.Contains(b, []byte("aggregator-svc"))
		}, wait.Within(waitLimit))
	})

	t.Run("keyboard", func(t *testing.T) {
		tb.run(t, chromedp.Navigate(dash+"/"))
		tb.waitRefreshes(t, 1)
		var seen []string
		for range 25 {
			tb.run(t, chromedp.KeyEvent(kb.Tab))
			seen = append(seen, eval[string](t, tb, `document.activeElement.id || document.activeElement.tagName`))
		}
		for _, want := range []string{"pause", "f-survey", "f-provider", "f-device", "f-location", "f-since", "f-until", "apply", "clear", "csv"} {
			if !slices.Contains(seen, want) {
				t.Errorf("Tab never reaches #%s (focus went %v)", want, seen)
			}
		}
		// Pause by keyboard: no refresh runs while paused.
		tb.run(t, chromedp.Focus(chromedp.CSS("#pause")), chromedp.KeyEvent(" "))
		tb.waitFor(t, "paused", `document.getElementById('pause').getAttribute('aria-pressed') === 'true'`)
		n := tb.refreshes(t)
		tb.run(t, chromedp.KeyEvent(" "))
		tb.waitFor(t, "resumed", `document.getElementById('pause').getAttribute('aria-pressed') === 'false'`)
		tb.waitRefreshes(t, n+1)
	})

	t.Run("a bad filter is an error, never numbers", func(t *testing.T) {
		tb.run(t, chromedp.Navigate(dash+"/?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z"))
		tb.waitFor(t, "the API's error on the page", `!document.getElementById('error').hidden && document.getElementById('error').textContent.includes('since: must be before until')`)
		if got := eval[string](t, tb, `document.getElementById('n-total').textContent + '|' + (document.body.dataset.complete || '')`); got != "–|false" {
			t.Errorf("after a refused filter the page shows %q", got)
		}
		tb.mu.Lock()
		tb.problems = slices.DeleteFunc(tb.problems, func(p string) bool { return strings.Contains(p, "status of 400") })
		tb.mu.Unlock()
		tb.noProblems(t)
	})

	t.Run("accessibility and screenshots", func(t *testing.T) {
		for _, vp := range []struct {
			name          string
			width, height int64
			mobile        bool
		}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
			opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
			if vp.mobile {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			tb.run(t, chromedp.EmulateViewport(vp.width, vp.height, opts...), chromedp.Navigate(dash+"/"))
			tb.waitRefreshes(t, 1)
			for _, v := range tb.axe(t, axe) {
				if v.Impact == "serious" || v.Impact == "critical" {
					t.Errorf("%s: axe %s (%s): %s at %v", vp.name, v.ID, v.Impact, v.Help, v.Nodes)
				} else {
					t.Logf("%s: axe %s (%s): %s", vp.name, v.ID, v.Impact, v.Help)
				}
			}
			var wider []string
			tb.eval(t, `(() => {
				const w = document.documentElement.clientWidth;
				if (document.documentElement.scrollWidth <= w) return [];
				return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)
					.map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
			})()`, &wider)
			if len(wider) > 0 {
				t.Errorf("%s: the page is wider than the window: %v", vp.name, wider)
			}
			tb.screenshot(t, "dashboard-"+vp.name+".png")
		}
		tb.run(t, chromedp.EmulateReset())
		tb.noProblems(t)
	})

	t.Run("load time against the API", func(t *testing.T) {
		loadFigures(t, tb, dash)
	})

	t.Run("a hung provider is named in the banner", func(t *testing.T) {
		tb.run(t, chromedp.Navigate(dash+"/"))
		tb.waitRefreshes(t, 1)
		blue := s.Process("blue")
		if err := blue.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		stopped := time.Now()
		resumed := false
		defer func() {
			if !resumed {
				blue.Signal(syscall.SIGCONT)
			}
		}()
		tb.waitFor(t, "the banner naming blue", `!document.getElementById('banner').hidden && document.getElementById('banner').dataset.missing.split(',').includes('blue')`)
		t.Logf("figure: incomplete banner naming the hung provider %v after it stopped (refresh every 5s, deadline 2s)", time.Since(stopped).Round(time.Millisecond))
		var banner, status, total string
		tb.eval(t, `document.getElementById('banner').textContent`, &banner)
		tb.eval(t, `document.querySelector('#sync-table tr[data-provider="blue"]').dataset.status`, &status)
		tb.eval(t, `document.getElementById('n-total').textContent`, &total)
		if !strings.Contains(banner, "blue") || strings.Contains(banner, "red") || status == "ok" || !strings.Contains(total, "incomplete") {
			t.Errorf("banner %q, blue's status %q, total %q", banner, status, total)
		}

		// While blue hangs each refresh lasts its whole deadline: a filter
		// chosen meanwhile aborts it, and the next refresh is the new filter's.
		// Chosen in the page's own turn, so that the refresh is surely in
		// flight when the filter changes.
		before := eval[[]int](t, tb, `[Number(document.body.dataset.aborted || 0)]`)[0]
		ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
		defer cancel()
		seen, err := chromedp.Run(ctx, chromedp.Poll[[]int](`document.body.dataset.busy === 'true' &&
			(document.getElementById('f-device').value = 'web', document.getElementById('filters').requestSubmit(),
			 [Number(document.body.dataset.refreshes), Number(document.body.dataset.aborted || 0)])`, chromedp.WithPollingInterval(20*time.Millisecond)))
		if err != nil {
			t.Fatalf("choosing a filter during a refresh: %v", err)
		}
		n, aborted := seen[0], seen[1]
		if aborted != before+1 {
			t.Errorf("%d refreshes aborted by the filter, want 1", aborted-before)
		}
		tb.waitRefreshes(t, n+1)
		tb.mu.Lock()
		canceled := slices.ContainsFunc(tb.canceled, func(u string) bool { return strings.Contains(u, "/api/v1/") && !strings.Contains(u, "device=web") })
		tb.mu.Unlock()
		if !canceled {
			t.Error("no request of the refresh in flight was cancelled by the new filter")
		}
		// Nothing was posted since: the aggregate holds what it held.
		if got, want := eval[int64](t, tb, `Number(document.getElementById('n-total').dataset.value)`), stats(t, dash, url.Values{"device": {"web"}}).Total; got != want || got == 0 {
			t.Errorf("device=web while blue hangs: the page shows %d, the API %d", got, want)
		}

		if err := blue.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		resumed = true
		tb.waitFor(t, "the banner gone once blue is back", `document.getElementById('banner').hidden && document.body.dataset.complete === 'true'`)
		tb.noProblems(t)
	})
}

// checkNumbers compares what the page shows for filter f with the API's
// answers for the same filter, read after the page's last refresh.
func checkNumbers(t *testing.T, tb *tab, dash string, f url.Values) {
	t.Helper()
	var page struct {
		Total, Hour, Day, Sync, Of int64
		Interval                   string
		Bars                       map[string]int64
		Devices, Locations         map[string]int64
		Rows                       []string
	}
	tb.eval(t, `(() => {
		const v = (id, k) => Number(document.getElementById(id).dataset[k || 'value']);
		const top = (id) => Object.fromEntries([...document.querySelectorAll('#' + id + ' g.group')].map(g => [g.dataset.key, Number(g.dataset.count)]));
		const bars = {};
		for (const g of document.querySelectorAll('#time-svg g.bucket')) {
			for (const r of g.querySelectorAll('rect')) bars[g.dataset.time + '|' + r.dataset.provider] = Number(r.dataset.count);
		}
		return {Total: v('n-total'), Hour: v('n-hour'), Day: v('n-day'), Sync: v('n-sync'), Of: v('n-sync', 'of'),
			Interval: document.getElementById('chart-time').dataset.interval, Bars: bars,
			Devices: top('devices-svg'), Locations: top('locations-svg'),
			Rows: [...document.querySelectorAll('#latest-table tbody tr[data-provider]')].map(r => r.dataset.provider + '/' + r.dataset.providerId)};
	})()`, &page)
	with := func(kv ...string) url.Values {
		q := url.Values{}
		for k, v := range f {
			q[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	total := stats(t, dash, with())
	if page.Total != total.Total || page.Total == 0 {
		t.Errorf("matching: page %d, API %d", page.Total, total.Total)
	}
	// Every response was posted within the last minutes.
	if page.Hour != total.Total || page.Day != total.Total {
		t.Errorf("last hour %d, last day %d; API total %d", page.Hour, page.Day, total.Total)
	}
	if page.Sync != 2 || page.Of != 2 {
		t.Errorf("providers in sync: %d of %d, want 2 of 2", page.Sync, page.Of)
	}
	if page.Interval != "1m" {
		t.Errorf("responses of the last minutes in %q buckets, want 1m", page.Interval)
	}
	series := stats(t, dash, with("group_by", "time,provider", "interval", page.Interval))
	want := map[string]int64{}
	for _, g := range series.Groups {
		ts, _ := time.Parse(time.RFC3339, g.Key["time"])
		want[ts.UTC().Format("2006-01-02T15:04:05.000Z")+"|"+g.Key["provider"]] = g.Count
	}
	if fmt.Sprint(page.Bars) != fmt.Sprint(want) {
		t.Errorf("time chart bars %v, API %v", page.Bars, want)
	}
	for dim, got := range map[string]map[string]int64{"device": page.Devices, "location": page.Locations} {
		top := stats(t, dash, with("group_by", dim, "top", "8"))
		w := map[string]int64{}
		for _, g := range top.Groups {
			w[g.Key[dim]] = g.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("top %ss: page %v, API %v", dim, got, w)
		}
	}
	latest, _, err := responses(dash, with("limit", "20").Encode())
	if err != nil {
		t.Fatal(err)
	}
	if want := recordIDs(latest.Data); !slices.Equal(page.Rows, want) {
		t.Errorf("latest rows %v, API %v", page.Rows, want)
	}
}

func tableRows(t *testing.T, tb *tab) []string {
	t.Helper()
	var rows []string
	tb.eval(t, `[...document.querySelectorAll('#latest-table tbody tr[data-provider]')].map(r => r.dataset.provider + '/' + r.dataset.providerId)`, &rows)
	return rows
}

func recordIDs(rs []record) []string {
	ids := []string{}
	for _, r := range rs {
		ids = append(ids, r.Provider+"/"+r.ProviderID)
	}
	return ids
}

// checkCSV compares an export with the API's rows: same rows, same order,
// cells a spreadsheet would run as formulas prefixed with a quote.
func checkCSV(t *testing.T, body []byte, want []record) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("the download is not CSV: %v\n%s", err, body)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "created_at,provider,provider_id,survey,device,location,text,answers" {
		t.Fatalf("CSV header %v", recs)
	}
	safe := func(s string) string {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			return "'" + s
		}
		return s
	}
	if len(recs)-1 != len(want) || len(want) == 0 {
		t.Fatalf("CSV has %d rows, the API %d", len(recs)-1, len(want))
	}
	formulas := 0
	for i, r := range want {
		w := []string{r.CreatedAt.UTC().Format(time.RFC3339Nano), r.Provider, r.ProviderID, r.Survey, safe(r.Device), safe(r.Location), safe(r.Text), ""}
		if !slices.Equal(recs[i+1], w) {
			t.Fatalf("CSV row %d = %q, API %q", i, recs[i+1], w)
		}
		if strings.HasPrefix(recs[i+1][6], "'") {
			formulas++
		}
	}
	if formulas == 0 {
		t.Error("no formula-like text among the rows: the guard went untested")
	}
}

// loadFigures prints the page's warm load time and the API's for the same
// filter: the page's own requests, sent in parallel as the page sends them.
func loadFigures(t *testing.T, tb *tab, dash string) {
	const runs = 5
	var pages, refreshes, apis, singles []float64
	for range runs {
		tb.run(t, chromedp.Navigate(dash+"/"))
		tb.waitRefreshes(t, 1)
		pages = append(pages, eval[float64](t, tb, `Number(document.body.dataset.firstRenderMs)`))
		refreshes = append(refreshes, eval[float64](t, tb, `Number(document.body.dataset.lastRefreshMs)`))

		now := time.Now()
		paths := []string{
			"/api/v1/stats?group_by=provider",
			"/api/v1/stats?since=" + url.QueryEscape(now.Add(-time.Hour).UTC().Format(time.RFC3339)),
			"/api/v1/stats?since=" + url.QueryEscape(now.Add(-24*time.Hour).UTC().Format(time.RFC3339)),
			"/api/v1/stats?group_by=time,provider&interval=1m",
			"/api/v1/stats?group_by=device&top=8",
			"/api/v1/stats?group_by=location&top=8",
			"/api/v1/responses?limit=20",
		}
		start := time.Now()
		var wg sync.WaitGroup
		for _, p := range paths {
			wg.Go(func() {
				if status, _, b, err := call("GET", dash+p, "", "", nil); err != nil || status != 200 {
					t.Errorf("GET %s: %d %s %v", p, status, b, err)
				}
			})
		}
		wg.Wait()
		apis = append(apis, float64(time.Since(start).Microseconds())/1000)
		start = time.Now()
		if _, _, err := responses(dash, "limit=20"); err != nil {
			t.Fatal(err)
		}
		singles = append(singles, float64(time.Since(start).Microseconds())/1000)
	}
	median := func(xs []float64) float64 { sort.Float64s(xs); return xs[len(xs)/2] }
	t.Logf("figure: page load, warm, navigation to first complete render: median %.0f ms of %d (%v); of it the first refresh (its API requests and drawing): median %.0f ms", median(pages), runs, pages, median(refreshes))
	t.Logf("figure: the page's 7 API requests from Go, in parallel: median %.1f ms; one GET /api/v1/responses?limit=20: median %.1f ms", median(apis), median(singles))
}

// TestBrowserToken: with an API token the page asks for it once, sends it
// as a bearer header and never in a URL, and keeps it out of storage.
func TestBrowserToken(t *testing.T) {
	token := "tok-" + rand.Text()
	s, log := startBrowserSystem(t, false, "XII_API_TOKEN="+token)
	if _, err := submit(s.URL("red"), `{"text":"=1+1","device":"iOS","location":"Germany"}`); err != nil {
		t.Fatal(err)
	}
	dash := s.URL("dashboard")
	tb := newTab(t, 1280, 900)
	tb.run(t, chromedp.Navigate(dash+"/?device=iOS"))
	tb.waitFor(t, "the token prompt", `document.getElementById('token-dialog').open`)
	tb.run(t, chromedp.SendKeys(chromedp.CSS("#token-input"), token), chromedp.KeyEvent(kb.Enter))
	tb.waitRefreshes(t, 2)
	var total int64
	tb.eval(t, `Number(document.getElementById('n-total').dataset.value)`, &total)
	if total != 1 {
		t.Errorf("with the token the page shows %d responses, want 1", total)
	}
	tb.press(t, "#csv")
	if body := tb.download(t, 0); !bytes.Contains(body, []byte("'=1+1")) {
		t.Errorf("CSV download with the token: %s", body)
	}
	var stored string
	tb.eval(t, `JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie`, &stored)
	if strings.Contains(stored, token) {
		t.Errorf("the token is in the page's storage: %s", stored)
	}
	bearer, api := 0, 0
	for _, r := range tb.sent() {
		if strings.Contains(r.URL, token) || strings.Contains(r.URL, url.QueryEscape(token)) {
			t.Errorf("a request carries the token in its URL: %s", r.URL)
		}
		if strings.Contains(r.URL, "/api/v1/") {
			api++
		}
		if fmt.Sprint(r.Headers["Authorization"]) == "Bearer "+token {
			bearer++
		}
	}
	if api == 0 || bearer == 0 {
		t.Errorf("%d API requests, %d with the bearer header", api, bearer)
	}
	// The first requests were refused before the prompt: the browser logs
	// those; anything else is a problem.
	tb.mu.Lock()
	tb.problems = slices.DeleteFunc(tb.problems, func(p string) bool { return strings.Contains(p, "status of 401") })
	tb.mu.Unlock()
	tb.noProblems(t)
	// Nor is the token in any service's output.
	log.mu.Lock()
	defer log.mu.Unlock()
	if strings.Contains(log.buf.String(), token) {
		t.Error("the token is in the services' output")
	}
}
