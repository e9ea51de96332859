package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"xii/testkit/wait"
)

// TestSeedCommands sends the seed's three curl requests — same method,
// header, body and path — and finds both texts in the dashboard's answer.
func TestSeedCommands(t *testing.T) {
	s := startSystem(t, false)
	for _, c := range []struct{ url, body string }{
		{s.URL("blue") + "/api/v1/reporter", `{"text":"request: 01 to blue survey","device":"x","location":"y"}`},
		{s.URL("red") + "/api/v1/reporter", `{"text":"request: 01 to red survey","device":"x","location":"y"}`},
	} {
		status, _, b, err := call("POST", c.url, "application/json", c.body, nil)
		if err != nil || status != 201 {
			t.Fatalf("POST %s: %d %s %v", c.url, status, b, err)
		}
	}
	status, h, b, err := call("GET", s.URL("dashboard")+"/api/v1/reporter", "", "", nil)
	if err != nil || status != 200 {
		t.Fatalf("GET reporter: %d %s %v", status, b, err)
	}
	var got []record
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("reporter answer is not a JSON array: %s", b)
	}
	var texts []string
	for _, r := range got {
		texts = append(texts, r.Text)
	}
	slices.Sort(texts)
	if want := []string{"request: 01 to blue survey", "request: 01 to red survey"}; !slices.Equal(texts, want) || h.Get("X-Sync-Complete") != "true" {
		t.Fatalf("reporter gave %q (X-Sync-Complete %q), want %q", texts, h.Get("X-Sync-Complete"), want)
	}
}

// TestReadYourWrites: a response posted to any provider is in the very
// next dashboard answer, at every concurrency level.
func TestReadYourWrites(t *testing.T) {
	s := startSystem(t, false)
	for _, workers := range []int{1, 8, 32} {
		t.Run(fmt.Sprint(workers, " writers"), func(t *testing.T) {
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := range 5 {
						provider := []string{"blue", "red"}[(w+i)%2]
						device := fmt.Sprintf("ryw-%d-%d-%d", workers, w, i)
						id, err := submit(s.URL(provider), fmt.Sprintf(`{"text":"t","device":%q,"location":"Germany"}`, device))
						if err != nil {
							t.Error(err)
							return
						}
						got, _, err := responses(s.URL("dashboard"), "device="+device+"&timeout=5s")
						if err != nil {
							t.Error(err)
							return
						}
						if !got.Sync.Complete || len(got.Data) != 1 || got.Data[0].ProviderID != id || got.Data[0].Provider != provider {
							t.Errorf("next answer after writing %s/%s: complete=%v data=%+v", provider, id, got.Sync.Complete, got.Data)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestFiltersLimitAndPagination: filters and limit give exactly the
// expected rows, and paging visits every row once.
func TestFiltersLimitAndPagination(t *testing.T) {
	s := startSystem(t, false)
	devices, locations := []string{"iOS", "Android", "web"}, []string{"Germany", "France"}
	want := map[string]int{} // device/location → count
	for i := range 36 {
		d, l := devices[i%3], locations[(i/3)%2]
		provider := []string{"blue", "red"}[i%2]
		if _, err := submit(s.URL(provider), fmt.Sprintf(`{"survey":"nps","text":"r%d","device":%q,"location":%q}`, i, d, l)); err != nil {
			t.Fatal(err)
		}
		want[d+"/"+l]++
	}
	got, _, err := responses(s.URL("dashboard"), "device=iOS&location=Germany&limit=50")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != want["iOS/Germany"] {
		t.Fatalf("iOS in Germany: %d rows, want %d", len(got.Data), want["iOS/Germany"])
	}
	for _, r := range got.Data {
		if r.Device != "iOS" || r.Location != "Germany" {
			t.Fatalf("filter let through %+v", r)
		}
	}
	if got, _, _ := responses(s.URL("dashboard"), "device=iOS&location=Germany&limit=2"); len(got.Data) != 2 || got.NextCursor == "" {
		t.Fatalf("limit 2: %d rows, next cursor %q", len(got.Data), got.NextCursor)
	}

	seen := map[string]int{}
	cursor := ""
	for pages := 0; ; pages++ {
		q := url.Values{"survey": {"nps"}, "limit": {"5"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page, _, err := responses(s.URL("dashboard"), q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Data {
			seen[r.Provider+"/"+r.ProviderID]++
		}
		if cursor = page.NextCursor; cursor == "" || pages > 20 {
			break
		}
	}
	if len(seen) != 36 {
		t.Fatalf("pagination visited %d rows, want 36", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("pagination visited %s %d times", k, n)
		}
	}

	status, _, b, _ := call("GET", s.URL("dashboard")+"/api/v1/stats?group_by=device,location&survey=nps", "", "", nil)
	var stats struct {
		Groups []struct {
			Key   map[string]string `json:"key"`
			Count int               `json:"count"`
		} `json:"groups"`
		Total int `json:"total"`
	}
	if err := json.Unmarshal(b, &stats); status != 200 || err != nil || stats.Total != 36 || len(stats.Groups) != len(want) {
		t.Fatalf("stats: %d %s", status, b)
	}
	for _, g := range stats.Groups {
		if g.Count != want[g.Key["device"]+"/"+g.Key["location"]] {
			t.Fatalf("stats group %v = %d, want %d", g.Key, g.Count, want[g.Key["device"]+"/"+g.Key["location"]])
		}
	}

	// Per hour and provider, and the top device, through both services.
	type statsBody struct {
		Groups []struct {
			Key   map[string]string `json:"key"`
			Count int               `json:"count"`
		} `json:"groups"`
		Total     int  `json:"total"`
		Truncated bool `json:"truncated"`
	}
	var hourly statsBody
	status, _, b, _ = call("GET", s.URL("dashboard")+"/api/v1/stats?group_by=time,provider&interval=1h&survey=nps", "", "", nil)
	if err := json.Unmarshal(b, &hourly); status != 200 || err != nil || hourly.Total != 36 || len(hourly.Groups) == 0 {
		t.Fatalf("stats by hour: %d %s", status, b)
	}
	perProvider := map[string]int{}
	for _, g := range hourly.Groups {
		bucket, err := time.Parse(time.RFC3339, g.Key["time"])
		if err != nil || !bucket.Equal(bucket.Truncate(time.Hour)) || !strings.HasSuffix(g.Key["time"], ":00:00Z") {
			t.Fatalf("stats by hour: key %v is no UTC hour", g.Key)
		}
		perProvider[g.Key["provider"]] += g.Count
	}
	if perProvider["blue"] != 18 || perProvider["red"] != 18 {
		t.Fatalf("stats by hour: per provider %v, want 18 each", perProvider)
	}
	var top statsBody
	status, _, b, _ = call("GET", s.URL("dashboard")+"/api/v1/stats?group_by=device&top=1&survey=nps", "", "", nil)
	if err := json.Unmarshal(b, &top); status != 200 || err != nil || len(top.Groups) != 1 || !top.Truncated || top.Groups[0].Count != 12 || top.Total != 36 {
		t.Fatalf("stats top=1: %d %s", status, b)
	}

	// The providers' view, through the dashboard and the internal token.
	status, _, b, _ = call("GET", s.URL("dashboard")+"/api/v1/providers", "", "", nil)
	var view struct {
		Providers []struct {
			Name, Dialect, Status string
		} `json:"providers"`
		Settings []struct{ Key, Value string } `json:"settings"`
	}
	if err := json.Unmarshal(b, &view); status != 200 || err != nil || len(view.Providers) != 2 || len(view.Settings) == 0 {
		t.Errorf("GET /api/v1/providers: %d %s; want blue and red and the settings", status, b)
	}

	// What a client sends is a 4xx or an answer, never a 5xx: an offset
	// PostgreSQL refuses (beyond ±15:59), and a forged cursor with a NUL.
	nul := base64.RawURLEncoding.EncodeToString([]byte(`{"t":"2026-01-01T00:00:00Z","p":"blue\u0000","i":"1"}`))
	for _, tt := range []struct {
		query  string
		status int
	}{
		{"/api/v1/responses?since=2026-01-01T00:00:00%2B23:59&survey=nps", 200},
		{"/api/v1/responses?until=2999-01-01T00:00:00-23:59&survey=nps", 200},
		{"/api/v1/stats?since=2026-01-01T00:00:00%2B23:59&group_by=device", 200},
		{"/api/v1/responses?cursor=" + nul, 400},
	} {
		if status, _, b, err := call("GET", s.URL("dashboard")+tt.query, "", "", nil); err != nil || status != tt.status {
			t.Errorf("GET %s: %d %s (%v), want %d", tt.query, status, b, err, tt.status)
		}
	}
}

// TestHungProvider: the dashboard answers within its deadline, flagged
// incomplete in body and header, naming the provider that hung; its key
// deleted, it stays named (unavailable) until it is retired.
func TestHungProvider(t *testing.T) {
	s := startSystem(t, false)
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hung.Close()
	defer close(release)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{s.EtcdEndpoint()}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	if _, err := cli.Put(ctx, "/xii/providers/hung", fmt.Sprintf(`{"url":%q,"dialect":"xii-v1"}`, hung.URL)); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the hung provider to be known", func() bool {
		got, _, err := responses(s.URL("dashboard"), "timeout=300ms")
		return err == nil && got.Sync.Providers["hung"].Status != ""
	}, wait.Within(waitLimit))

	start := time.Now()
	got, h, err := responses(s.URL("dashboard"), "timeout=800ms")
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sync.Complete || h.Get("X-Sync-Complete") != "false" || got.Sync.Providers["hung"].Status != "timeout" ||
		got.Sync.Providers["blue"].Status != "ok" || got.Sync.Providers["red"].Status != "ok" {
		t.Fatalf("with a hung provider: header %q, sync %+v", h.Get("X-Sync-Complete"), got.Sync)
	}
	// The hung provider never answers; only the deadline ends the wait. The
	// margin is for a loaded test machine, not a performance claim.
	if took > 800*time.Millisecond+2*time.Second {
		t.Errorf("answer took %v for an 800ms deadline: the hung provider was waited for", took)
	}
	// Deleting its key is not enough: a provider that is gone is still owed
	// (unavailable) until it is retired.
	if _, err := cli.Delete(ctx, "/xii/providers/hung"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the deleted provider reported unavailable", func() bool {
		got, _, err := responses(s.URL("dashboard"), "timeout=300ms")
		return err == nil && !got.Sync.Complete && got.Sync.Providers["hung"].Status == "unavailable"
	}, wait.Within(waitLimit))
	if _, err := cli.Put(ctx, "/xii/retired/hung", "keep"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "complete answers once the hung provider is retired", func() bool {
		got, _, err := responses(s.URL("dashboard"), "timeout=2s")
		return err == nil && got.Sync.Complete && !strings.Contains(fmt.Sprint(got.Sync.Providers), "hung")
	}, wait.Within(waitLimit))
}
