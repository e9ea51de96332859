package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xii/libs/discovery"
	"xii/testkit/wait"
)

// ack is one response a provider acknowledged.
type ack struct{ provider, id, device string }

// ackLog records acknowledged writes in the order they were acknowledged.
type ackLog struct {
	mu   sync.Mutex
	acks []ack
}

func (l *ackLog) add(a ack) {
	l.mu.Lock()
	l.acks = append(l.acks, a)
	l.mu.Unlock()
}

// snapshot returns every ack so far.
func (l *ackLog) snapshot() []ack {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.acks)
}

// TestFreshnessUnderConcurrency: writers post to two providers while many
// readers query the aggregator. Every answer marked complete must contain
// every response acknowledged before its request was sent.
func TestFreshnessUnderConcurrency(t *testing.T) {
	log := newTestLog(t)
	blue, red := uniqueName("blue-"), uniqueName("red-")
	urls := map[string]string{blue: startSurvey(t, blue, log), red: startSurvey(t, red, log)}
	agg := startAggregator(t, log)
	waitForProviders(t, agg, blue, red)
	survey := uniqueName("fresh")

	var acks ackLog
	ctx, stop := context.WithTimeout(context.Background(), 3*time.Second)
	defer stop()
	var writers sync.WaitGroup
	var seq atomic.Int64
	for _, name := range []string{blue, red} {
		for range 3 {
			writers.Go(func() {
				for ctx.Err() == nil {
					device := fmt.Sprintf("d%d", seq.Add(1))
					id, err := submit(urls[name], survey, device)
					if err != nil {
						t.Error(err)
						return
					}
					acks.add(ack{name, id, device})
				}
			})
		}
	}

	var readers sync.WaitGroup
	var complete, incomplete, checked atomic.Int64
	for range 16 {
		readers.Go(func() {
			for ctx.Err() == nil {
				before := acks.snapshot()
				if len(before) == 0 {
					continue
				}
				// The newest acknowledged write is the one a stale round
				// would miss; ask for it by its unique device.
				last := before[len(before)-1]
				got, _, err := agg.get("survey", survey, "device", last.device, "timeout", "5s")
				if err != nil {
					t.Error(err)
					return
				}
				if !got.Sync.Complete {
					incomplete.Add(1)
					continue
				}
				complete.Add(1)
				if len(got.Data) != 1 || got.Data[0].ProviderID != last.id || got.Data[0].Provider != last.provider {
					t.Errorf("complete answer for %+v acknowledged before the request holds %+v", last, got.Data)
					return
				}
				checked.Add(1)
			}
		})
	}
	writers.Wait()
	readers.Wait()

	// After the writers stop, one complete answer holds every write once.
	all := acks.snapshot()
	seen := map[string]int{}
	cursor := ""
	for {
		page, _ := agg.query(t, "survey", survey, "limit", "1000", "cursor", cursor, "timeout", "10s")
		if !page.Sync.Complete {
			t.Fatalf("final read incomplete: %+v", page.Sync)
		}
		for _, r := range page.Data {
			seen[r.Provider+"/"+r.ProviderID]++
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	for _, a := range all {
		if seen[a.provider+"/"+a.id] != 1 {
			t.Errorf("acknowledged %s/%s seen %d times, want once", a.provider, a.id, seen[a.provider+"/"+a.id])
		}
	}
	if len(seen) != len(all) {
		t.Errorf("aggregate holds %d responses of the survey, %d were acknowledged", len(seen), len(all))
	}
	t.Logf("%d writes, %d complete answers checked, %d incomplete", len(all), checked.Load(), incomplete.Load())
	if checked.Load() == 0 {
		t.Fatal("no complete answer was checked")
	}
}

// waitForProviders waits until a sync reports every named provider.
func waitForProviders(t *testing.T, agg *aggregator, names ...string) {
	t.Helper()
	wait.For(t, fmt.Sprint("providers ", names), func() bool {
		got, _ := agg.query(t, "limit", "1")
		for _, n := range names {
			if got.Sync.Providers[n].Status != "ok" {
				return false
			}
		}
		return true
	})
}

// TestFetchesBoundedUnderLoad: 200 concurrent readers share fetch rounds;
// the providers see far fewer export requests than the aggregator serves.
func TestFetchesBoundedUnderLoad(t *testing.T) {
	log := newTestLog(t)
	blue := uniqueName("blue-")
	url := startSurvey(t, blue, log)
	agg := startAggregator(t, log)
	waitForProviders(t, agg, blue)
	post(t, url, "load", "iOS")

	before := exportRequests(t, url)
	const readers, each = 200, 5
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for range each {
				got, _, err := agg.get("survey", "load", "timeout", "20s")
				if err != nil || !got.Sync.Complete {
					t.Errorf("answer under load: %v %+v", err, got.Sync)
					return
				}
			}
		})
	}
	wg.Wait()
	fetches := exportRequests(t, url) - before
	t.Logf("%d requests from %d concurrent readers: %d export requests to the provider (%.3f per request)",
		readers*each, readers, fetches, float64(fetches)/float64(readers*each))
	if fetches > readers*each/4 {
		t.Fatalf("%d export requests for %d requests: fetches follow the request rate", fetches, readers*each)
	}
}

// TestBadProviders: a hung provider makes answers incomplete within their
// deadline, naming it; a provider answering garbage is flagged error with
// nothing stored from it; the healthy provider is unaffected.
func TestBadProviders(t *testing.T) {
	log := newTestLog(t)
	blue := uniqueName("blue-")
	url := startSurvey(t, blue, log)
	id := post(t, url, "bad", "iOS")

	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hung.Close()
	defer close(release)
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"data":[{"id":"not a number"}],"next_cursor":"x","has_more":false}`)
	}))
	defer garbage.Close()
	hungName, garbageName := uniqueName("hung-"), uniqueName("garbage-")
	putProvider(t, hungName, hung.URL)
	putProvider(t, garbageName, garbage.URL)

	agg := startAggregator(t, log)
	wait.For(t, "all three providers known", func() bool {
		got, _ := agg.query(t, "timeout", "300ms")
		return len(got.Sync.Providers) == 3
	})
	got, took := agg.query(t, "survey", "bad", "timeout", "700ms")
	if got.Sync.Complete {
		t.Fatalf("answer complete despite a hung provider: %+v", got.Sync)
	}
	// The hung provider never answers; only the deadline ends the wait. The
	// margin is for a loaded test machine, not a performance claim.
	if took > 700*time.Millisecond+2*time.Second {
		t.Errorf("answer took %v for a 700ms deadline: the hung provider was waited for", took)
	}
	st := got.Sync.Providers
	if st[hungName].Status != "timeout" || st[garbageName].Status != "error" || st[blue].Status != "ok" {
		t.Fatalf("statuses %+v, want hung timeout, garbage error, blue ok", st)
	}
	if len(got.Data) != 1 || got.Data[0].ProviderID != id {
		t.Fatalf("data %+v, want blue's response only", got.Data)
	}
	if bad, _ := agg.query(t, "provider", garbageName, "timeout", "300ms"); len(bad.Data) != 0 {
		t.Fatalf("stored %d rows from the garbage provider", len(bad.Data))
	}
}

// putProvider registers a provider by hand, as etcdctl put would.
func putProvider(t *testing.T, name, url string) {
	t.Helper()
	desc, err := discovery.Descriptor{URL: url, Dialect: discovery.DialectXII}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	cli := etcd.Client(t)
	if _, err := cli.Put(context.Background(), discovery.ProviderKey(name), desc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Delete(context.Background(), discovery.ProviderKey(name)) })
}

// TestOneBadRecordDoesNotBlockItsProvider: a provider whose page holds a
// record the aggregate cannot hold (a 100-character device) is synced all
// the same: its good records are stored, the bad one is quarantined and
// counted in the sync report, and the answer is complete. Before, the
// whole page was refused, the provider stayed in error and its breaker
// opened, and nothing after the bad record was ever stored.
func TestOneBadRecordDoesNotBlockItsProvider(t *testing.T) {
	log := newTestLog(t)
	device := strings.Repeat("d", 100)
	var fixed atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := device
		if fixed.Load() {
			d = "iOS"
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("after") != "" && !fixed.Load() {
			fmt.Fprint(w, `{"data":[],"next_cursor":"3","has_more":false}`)
			return
		}
		fmt.Fprintf(w, `{"data":[`+
			`{"id":1,"survey":"q","text":"a","device":"iOS","location":"DE","created_at":"2026-01-01T00:00:01Z"},`+
			`{"id":2,"survey":"q","text":"b","device":%q,"location":"DE","created_at":"2026-01-01T00:00:02Z"},`+
			`{"id":3,"survey":"q","text":"c","device":"iOS","location":"DE","created_at":"2026-01-01T00:00:03Z"}],`+
			`"next_cursor":"3","has_more":false}`, d)
	}))
	defer srv.Close()
	name := uniqueName("quirky-")
	putProvider(t, name, srv.URL)
	agg := startAggregator(t, log)

	var got responsesBody
	wait.For(t, "the provider synced", func() bool {
		got, _ = agg.query(t, "provider", name, "timeout", "2s")
		return got.Sync.Complete
	})
	if st := got.Sync.Providers[name]; st.Status != "ok" || st.Quarantined != 1 {
		t.Fatalf("provider %+v, want ok with 1 quarantined", st)
	}
	if len(got.Data) != 2 {
		t.Fatalf("%d rows stored, want the 2 good ones", len(got.Data))
	}

	// The provider fixes the record; a rescan brings it in, out of quarantine.
	fixed.Store(true)
	wait.For(t, "the fixed record stored", func() bool {
		got, _ = agg.query(t, "provider", name, "timeout", "2s")
		return len(got.Data) == 3 && got.Sync.Providers[name].Quarantined == 0
	})
}
