package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
	"xii/testkit/pgtest"
)

func versionOf(tb testing.TB, s *Store) string {
	tb.Helper()
	v, err := s.ResponsesVersion(tb.Context())
	if err != nil {
		tb.Fatalf("responses version: %v", err)
	}
	return v
}

// TestResponsesVersion: the version moves with every committed change to
// a response, and only then.
func TestResponsesVersion(t *testing.T) {
	boom := errors.New("crash before commit")
	s := openStore(t, WithHooks(Hooks{BeforeCommit: func(_ context.Context, p string) error {
		if p == "red" {
			return boom
		}
		return nil
	}}))
	changed := func(name string, before string, want bool) string {
		t.Helper()
		after := versionOf(t, s)
		if (after != before) != want {
			t.Fatalf("%s: version %q → %q, want changed=%v", name, before, after, want)
		}
		return after
	}
	v := versionOf(t, s)
	apply(t, s, "blue", "", aggregate.Page{Records: records(0, 10), Next: "c1"})
	v = changed("new records", v, true)
	apply(t, s, "blue", "c1", aggregate.Page{Records: records(0, 10), Next: "c1"})
	v = changed("a replayed page", v, false)
	apply(t, s, "blue", "c1", aggregate.Page{Next: "c2"})
	v = changed("an empty page", v, false)
	edited := record(3)
	edited.Text = "edited"
	apply(t, s, "blue", "c2", aggregate.Page{Records: []aggregate.Record{edited}, Next: "c3"})
	v = changed("an edited record", v, true)
	if _, err := s.ApplyPage(t.Context(), "red", "", aggregate.Page{Records: records(0, 5), Next: "c1"}); !errors.Is(err, boom) {
		t.Fatalf("apply of red: %v, want the crash", err)
	}
	v = changed("a page rolled back", v, false)
	if err := s.RetireProvider(t.Context(), "blue", false); err != nil {
		t.Fatal(err)
	}
	v = changed("a retirement keeping the rows", v, false)
	if err := s.RetireProvider(t.Context(), "blue", true); err != nil {
		t.Fatal(err)
	}
	changed("a retirement dropping the rows", v, true)
}

// TestPageCacheAcrossReplicas: a page kept by one replica's cache is never
// answered after another replica changed the responses, and is answered
// again while nothing changed.
func TestPageCacheAcrossReplicas(t *testing.T) {
	a, b := openReplicas(t)
	cache := aggregate.NewPageCache(a, 0, 0)
	q := aggregate.Query{Limit: 5}
	top := func() string {
		t.Helper()
		p, err := cache.Query(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Responses) == 0 {
			return ""
		}
		return p.Responses[0].Provider + "/" + p.Responses[0].ProviderID
	}
	apply(t, b, "blue", "", aggregate.Page{Records: []aggregate.Record{newest(1)}, Next: "c1"})
	if got := top(); got != "blue/n-000001" {
		t.Fatalf("first read: top %q", got)
	}
	if got := top(); got != "blue/n-000001" {
		t.Fatalf("second read: top %q", got)
	}
	if hits, _ := cache.Counts(); hits != 1 {
		t.Fatalf("%d hits, want the second read answered from the kept page", hits)
	}
	apply(t, b, "red", "", aggregate.Page{Records: []aggregate.Record{newest(2)}, Next: "c1"})
	if got := top(); got != "red/n-000002" {
		t.Fatalf("after the other replica wrote: top %q, want its record", got)
	}
	if err := b.RetireProvider(t.Context(), "red", true); err != nil {
		t.Fatal(err)
	}
	if got := top(); got != "blue/n-000001" {
		t.Fatalf("after the other replica retired red: top %q", got)
	}
}

// TestPageCacheNeverStaleUnderWrites: while another replica commits a
// newer record after another, every read through the cache holds the
// newest record committed before the read began. A cache that kept a page
// across a commit (a version read after the page, or a write that does not
// move it) would answer a page without it.
func TestPageCacheNeverStaleUnderWrites(t *testing.T) {
	a, b := openReplicas(t)
	cache := aggregate.NewPageCache(a, 0, 0)
	const writes = 150
	var acked atomic.Int64
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		defer cancel()
		from := ""
		for i := 1; i <= writes; i++ {
			next := fmt.Sprintf("c%d", i)
			if _, err := b.ApplyPage(ctx, "blue", from, aggregate.Page{Records: []aggregate.Record{newest(i)}, Next: next}); err != nil {
				if ctx.Err() == nil {
					t.Errorf("write %d: %v", i, err)
				}
				return
			}
			from = next
			acked.Store(int64(i))
		}
	})
	reads, failure := 0, ""
	for ctx.Err() == nil && failure == "" {
		want := acked.Load()
		for range 3 { // the later ones are answered from the kept page while nothing is written
			p, err := cache.Query(ctx, aggregate.Query{Limit: 5})
			if ctx.Err() != nil {
				break
			}
			reads++
			if err != nil {
				failure = fmt.Sprintf("read %d: %v", reads, err)
				break
			}
			if want > 0 && (len(p.Responses) == 0 || p.Responses[0].ProviderID < newest(int(want)).ProviderID) {
				failure = fmt.Sprintf("read %d: top %v, want record %d or newer, committed before the read", reads, p.Responses, want)
				break
			}
		}
	}
	cancel()
	wg.Wait()
	if failure != "" {
		t.Fatal(failure)
	}
	hits, misses := cache.Counts()
	t.Logf("%d reads: %d from kept pages, %d read", reads, hits, misses)
	if hits == 0 || misses == 0 {
		t.Fatalf("%d hits and %d misses: the test did not exercise both", hits, misses)
	}
}

// openReplicas opens two stores on one database, as two replicas do.
func openReplicas(t *testing.T) (*Store, *Store) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	var stores [2]*Store
	for i := range stores {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		s, err := Open(ctx, url)
		cancel()
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	return stores[0], stores[1]
}

// newest returns a record created i seconds after t0: each later one is
// on top of a newest-first read.
func newest(i int) aggregate.Record {
	return aggregate.Record{ProviderID: fmt.Sprintf("n-%06d", i), Survey: "s", Text: fmt.Sprintf("newest %d", i),
		Device: "iOS", Location: "Germany", CreatedAt: t0.Add(time.Duration(i) * time.Second)}
}
