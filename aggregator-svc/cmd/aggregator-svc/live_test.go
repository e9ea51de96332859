package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"xii/aggregator-svc/tuning"
	"xii/libs/discovery"
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
