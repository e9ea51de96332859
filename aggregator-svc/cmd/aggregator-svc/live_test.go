package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"xii/aggregator-svc/tuning"
	"xii/libs/discovery"
	"xii/libs/xiiapi"
	"xii/testkit/wait"
)

// TestLiveEtcdChanges: providers added and retired by hand and settings
// changed with etcdctl-equivalent puts take effect without a restart.
func TestLiveEtcdChanges(t *testing.T) {
	log := newTestLog(t)
	blue := uniqueName("blue-")
	url := startSurvey(t, blue, log)
	for range 5 {
		post(t, url, "live", "iOS")
	}
	agg := startAggregator(t, log)
	waitForProviders(t, agg, blue)

	// A provider added by hand, without a lease, is synced; deleted, it is gone.
	manual := uniqueName("manual-")
	putProvider(t, manual, url) // the same survey-svc under a second name
	waitForProviders(t, agg, blue, manual)
	if got, _ := agg.query(t, "survey", "live", "provider", manual); len(got.Data) != 5 {
		t.Fatalf("hand-added provider: %d rows, want 5", len(got.Data))
	}
	cli := etcd.Client(t)
	ctx := context.Background()
	if _, err := cli.Delete(ctx, "/xii/providers/"+manual); err != nil {
		t.Fatal(err)
	}
	// Deleted, it is still covered (unavailable) until it is retired.
	wait.For(t, "the deleted provider unavailable", func() bool {
		got, _ := agg.query(t, "limit", "1", "timeout", "300ms")
		return got.Sync.Providers[manual].Status == "unavailable" && !got.Sync.Complete
	})
	if _, err := cli.Put(ctx, discovery.RetiredKey(manual), discovery.RetireKeep); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Delete(context.Background(), discovery.RetiredKey(manual)) })
	wait.For(t, "the retired provider to go", func() bool {
		got, _ := agg.query(t, "limit", "1")
		_, ok := got.Sync.Providers[manual]
		return !ok && got.Sync.Complete
	})

	// page_size=2 makes the next round of 5 new rows take 3 pages.
	if _, err := cli.Put(ctx, tuning.Prefix+"page_size", "2"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Delete(context.Background(), tuning.Prefix+"page_size") })
	for range 5 {
		post(t, url, "live", "Android")
	}
	wait.For(t, "page_size=2 to apply", func() bool {
		got, _ := agg.query(t, "limit", "1")
		st := got.Sync.Providers[blue]
		if st.Rows == 0 {
			post(t, url, "live", "Android") // the setting came after a round: give the next one rows
			return false
		}
		return st.Pages > 1 && st.Rows <= 2*st.Pages
	})

	// An invalid value is rejected; the last good one stays.
	if _, err := cli.Put(ctx, tuning.Prefix+"page_size", "lots"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the invalid value to be rejected", func() bool {
		return strings.Contains(scrape(t, agg.url), `xii_config_rejected_total{key="page_size"`)
	})
	for range 4 {
		post(t, url, "live", "web")
	}
	got, _ := agg.query(t, "limit", "1")
	if st := got.Sync.Providers[blue]; st.Status != "ok" || st.Pages < 2 {
		t.Fatalf("after an invalid page_size: %+v, want page_size 2 kept", st)
	}
}

// scrape returns a service's /metrics text.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestProvidersView: GET /api/v1/providers shows every covered provider
// with its dialect, URL, last round and breaker, and the settings in force;
// a value written to etcd and rejected is shown as rejected, also by a
// replica started after it was written, instead of the default silently;
// so is a retirement it refuses (and the provider stays covered).
func TestProvidersView(t *testing.T) {
	log := newTestLog(t)
	blue := uniqueName("blue-")
	url := startSurvey(t, blue, log)
	post(t, url, "view", "iOS")
	cli := etcd.Client(t)
	if _, err := cli.Put(context.Background(), tuning.Prefix+"fetch_timeout", "banana"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Delete(context.Background(), tuning.Prefix+"fetch_timeout") })
	retiredKey := discovery.RetiredPrefix + blue
	if _, err := cli.Put(context.Background(), retiredKey, "maybe"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Delete(context.Background(), retiredKey) })

	agg := startAggregator(t, log)
	waitForProviders(t, agg, blue)
	agg.query(t, "survey", "view") // a round, so there is a last one to show
	view := providersOf(t, agg)
	i := slices.IndexFunc(view.Providers, func(p xiiapi.ProviderInfo) bool { return p.Name == blue })
	if i < 0 {
		t.Fatalf("providers %+v, want %s", view.Providers, blue)
	}
	if p := view.Providers[i]; p.Dialect != "xii-v1" || p.URL != url || p.Status != "ok" || p.Breaker != "closed" || p.LastRound.IsZero() {
		t.Errorf("provider %+v, want xii-v1 at %s, ok, breaker closed, a last round", p, url)
	}
	checkRejected := func(view xiiapi.ProvidersBody) {
		t.Helper()
		for _, s := range view.Settings {
			if s.Key == "fetch_timeout" {
				if s.Rejected != "banana" || s.Reason == "" || s.FromEtcd || s.Value == "" {
					t.Errorf("setting %+v, want the default in force and banana rejected with its reason", s)
				}
				return
			}
		}
		t.Errorf("settings %+v, no fetch_timeout", view.Settings)
	}
	checkRejected(view)
	retirementRejected := func(a *aggregator) func() bool {
		return func() bool {
			return slices.ContainsFunc(providersOf(t, a).Rejected, func(k xiiapi.RejectedKey) bool {
				return k.Key == retiredKey && k.Value == "maybe" && k.Reason != ""
			})
		}
	}
	wait.For(t, "the refused retirement in the view", retirementRejected(agg))

	agg.stop()
	again := launchAggregator(t, log, map[string]string{"XII_POSTGRES_URL": agg.db})
	wait.For(t, "the restarted replica ready", func() bool { return again.status("/readyz") == 200 })
	checkRejected(providersOf(t, again))
	wait.For(t, "the refused retirement in the restarted replica's view", retirementRejected(again))
	if !slices.ContainsFunc(providersOf(t, again).Providers, func(p xiiapi.ProviderInfo) bool { return p.Name == blue }) {
		t.Errorf("%s not covered after a refused retirement", blue)
	}
}

func providersOf(t *testing.T, a *aggregator) xiiapi.ProvidersBody {
	t.Helper()
	resp, err := http.Get(a.url + xiiapi.ProvidersPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body xiiapi.ProvidersBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d, %v", xiiapi.ProvidersPath, resp.StatusCode, err)
	}
	return body
}
