package syncer

import (
	"context"
	"sync"
	"testing"
	"time"

	"xii/libs/xiiapi"

	"go.uber.org/goleak"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/provider"
	"xii/testkit/wait"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRequestNeverJoinsARoundThatStartedBeforeIt is the freshness test:
// round 1 has read the provider before write W; a request that arrives
// after W was acknowledged must not be answered by round 1. Plain
// singleflight fails this test.
func TestRequestNeverJoinsARoundThatStartedBeforeIt(t *testing.T) {
	store := newMemStore()
	src := &fakeSource{n: 3, gate: make(chan struct{}), entered: make(chan struct{})}
	s := newTestSyncer(t, store, true, testTuning())
	s.SetSources([]Source{{Name: "blue", Source: src}})

	first := make(chan aggregate.SyncReport)
	go func() { first <- s.Sync(context.Background()) }()
	<-src.entered // round 1 has taken its snapshot: ids 1..3

	w := src.add(1) // write W (id 4) is acknowledged now
	second := make(chan aggregate.SyncReport)
	go func() { second <- s.Sync(context.Background()) }()
	wait.For(t, "the second request to wait", func() bool { return waiting(s, "blue") == 2 })

	src.mu.Lock()
	src.entered = nil // later rounds need no handshake
	src.mu.Unlock()
	close(src.gate)
	if rep := <-first; !rep.Complete {
		t.Fatalf("first sync incomplete: %+v", rep)
	}
	rep := <-second
	if !rep.Complete {
		t.Fatalf("second sync incomplete: %+v", rep)
	}
	if got := store.count("blue"); got != w {
		t.Fatalf("after the second request the aggregate holds %d rows, want %d: it was answered by a round that began before its write", got, w)
	}
}

// TestFetchesBoundedByRoundsNotRequests: while a round runs, any number of
// requests share the single round queued behind it.
func TestFetchesBoundedByRoundsNotRequests(t *testing.T) {
	for _, tt := range []struct {
		coalesce bool
		// Each round here is one page. Naive rounds also refetch after
		// losing the race for the cursor, so theirs is a lower bound.
		wantFetches int64
	}{
		{coalesce: true, wantFetches: 2},
		{coalesce: false, wantFetches: 201},
	} {
		t.Run(map[bool]string{true: "coalesced", false: "naive"}[tt.coalesce], func(t *testing.T) {
			src := &fakeSource{n: 5, gate: make(chan struct{})}
			tun := testTuning()
			tun.MaxConcurrency = 1024
			s := newTestSyncer(t, newMemStore(), tt.coalesce, tun)
			s.SetSources([]Source{{Name: "blue", Source: src}})

			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); s.Sync(context.Background()) }()
			wait.For(t, "round 1 to fetch", func() bool { return src.fetches.Load() == 1 })
			for range 200 {
				wg.Add(1)
				go func() { defer wg.Done(); s.Sync(context.Background()) }()
			}
			if tt.coalesce {
				wait.For(t, "201 requests to wait", func() bool { return waiting(s, "blue") == 201 })
			} else {
				wait.For(t, "201 rounds to fetch", func() bool { return src.fetches.Load() == 201 })
			}
			close(src.gate)
			wg.Wait()
			got := src.fetches.Load()
			if (tt.coalesce && got != tt.wantFetches) || got < tt.wantFetches {
				t.Fatalf("%d fetches for 201 requests, want %d", got, tt.wantFetches)
			}
			t.Logf("%d fetches for 201 concurrent requests", got)
		})
	}
}

func TestHungProviderTimesOutOthersComplete(t *testing.T) {
	hung := &fakeSource{n: 1, gate: make(chan struct{})}
	defer close(hung.gate)
	ok := &fakeSource{n: 25}
	store := newMemStore()
	s := newTestSyncer(t, store, true, testTuning())
	s.SetSources([]Source{{Name: "hung", Source: hung}, {Name: "ok", Source: ok}})

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	rep := s.Sync(ctx)
	if rep.Complete || rep.Providers["hung"].Status != xiiapi.StatusTimeout || rep.Providers["ok"].Status != xiiapi.StatusOK {
		t.Fatalf("report %+v, want hung timeout and ok ok", rep)
	}
	if got := rep.Providers["ok"]; got.Rows != 25 || got.Pages != 3 || store.count("ok") != 25 {
		t.Fatalf("ok provider: %+v with %d stored, want 25 rows in 3 pages", got, store.count("ok"))
	}
}

func TestFetchTimeoutBoundsEachPage(t *testing.T) {
	hung := &fakeSource{n: 1, gate: make(chan struct{})}
	defer close(hung.gate)
	tun := testTuning()
	tun.FetchTimeout = 20 * time.Millisecond
	s := newTestSyncer(t, newMemStore(), true, tun)
	s.SetSources([]Source{{Name: "hung", Source: hung}})
	rep := s.Sync(context.Background()) // no caller deadline at all
	if got := rep.Providers["hung"]; got.Status != xiiapi.StatusTimeout {
		t.Fatalf("report %+v, want timeout", got)
	}
}

func TestBreakerOpensAfterConsecutiveFailures(t *testing.T) {
	src := &fakeSource{err: provider.ErrBadPage}
	s := newTestSyncer(t, newMemStore(), true, testTuning())
	s.SetSources([]Source{{Name: "bad", Source: src}})
	for i := range breakerFailures {
		if st := s.Sync(context.Background()).Providers["bad"].Status; st != xiiapi.StatusError {
			t.Fatalf("sync %d: status %s, want error", i, st)
		}
	}
	before := src.fetches.Load()
	rep := s.Sync(context.Background()).Providers["bad"]
	if rep.Status != xiiapi.StatusCircuitOpen || src.fetches.Load() != before {
		t.Fatalf("after %d failures: %+v and %d more fetches, want circuit_open and none", breakerFailures, rep, src.fetches.Load()-before)
	}
}

func TestCallerLeavingDoesNotTripBreaker(t *testing.T) {
	src := &fakeSource{n: 1, gate: make(chan struct{})}
	s := newTestSyncer(t, newMemStore(), true, testTuning())
	s.SetSources([]Source{{Name: "slow", Source: src}})
	for range breakerFailures + 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		s.Sync(ctx)
		cancel()
	}
	close(src.gate)
	if rep := s.Sync(context.Background()).Providers["slow"]; rep.Status != xiiapi.StatusOK {
		t.Fatalf("after callers left: %+v, want ok", rep)
	}
}

// A fetch its caller gave up on says nothing of the provider: it must
// not count as a success either, which would reset the failures counted
// so far (or, as the trial of a half-open breaker, close it).
func TestCallerLeavingKeepsFailureCount(t *testing.T) {
	src := &fakeSource{err: provider.ErrBadPage}
	s := newTestSyncer(t, newMemStore(), true, testTuning())
	s.SetSources([]Source{{Name: "bad", Source: src}})
	for i := range breakerFailures - 1 {
		if st := s.Sync(context.Background()).Providers["bad"].Status; st != xiiapi.StatusError {
			t.Fatalf("sync %d: status %s, want error", i, st)
		}
	}
	gate := make(chan struct{})
	src.mu.Lock()
	src.gate = gate
	src.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan struct{})
	fetched := src.fetches.Load()
	go func() { s.Sync(ctx); close(left) }()
	wait.For(t, "the fetch its caller leaves", func() bool { return src.fetches.Load() == fetched+1 })
	cancel()
	<-left
	src.mu.Lock()
	src.gate = nil
	src.mu.Unlock()
	close(gate)
	if st := s.Sync(context.Background()).Providers["bad"].Status; st != xiiapi.StatusError {
		t.Fatalf("last failing sync: status %s, want error", st)
	}
	before := src.fetches.Load()
	rep := s.Sync(context.Background()).Providers["bad"]
	if rep.Status != xiiapi.StatusCircuitOpen || src.fetches.Load() != before {
		t.Fatalf("after %d failures and a caller that left: %+v and %d more fetches, want circuit_open and none",
			breakerFailures, rep, src.fetches.Load()-before)
	}
}

func TestConflictAdoptsCursorAndRescans(t *testing.T) {
	store := newMemStore()
	conflicts := 1
	store.conflict = func(string) bool { conflicts--; return conflicts >= 0 }
	src := &fakeSource{n: 15}
	s := newTestSyncer(t, store, true, testTuning())
	s.SetSources([]Source{{Name: "blue", Source: src}})
	rep := s.Sync(context.Background())
	if !rep.Complete || store.count("blue") != 15 {
		t.Fatalf("report %+v with %d rows, want complete with 15", rep, store.count("blue"))
	}
	if got := src.rescans.Load(); got != 2 {
		t.Fatalf("%d rescans, want 2 (the round's first page and the one after the conflict)", got)
	}
	for id, n := range store.rows["blue"] {
		if n != 1 {
			t.Fatalf("row %s applied %d times", id, n)
		}
	}
}

func TestWaiterLeavingDropsQueuedRound(t *testing.T) {
	src := &fakeSource{n: 1, gate: make(chan struct{})}
	s := newTestSyncer(t, newMemStore(), true, testTuning())
	s.SetSources([]Source{{Name: "blue", Source: src}})
	done := make(chan struct{})
	go func() { s.Sync(context.Background()); close(done) }()
	wait.For(t, "round 1 to fetch", func() bool { return src.fetches.Load() == 1 })

	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan aggregate.SyncReport)
	go func() { left <- s.Sync(ctx) }()
	wait.For(t, "the request to wait", func() bool { return waiting(s, "blue") == 2 })
	cancel()
	if rep := <-left; rep.Providers["blue"].Status != xiiapi.StatusTimeout {
		t.Fatalf("cancelled request: %+v, want timeout", rep)
	}
	close(src.gate)
	<-done
	if got := src.fetches.Load(); got != 1 {
		t.Fatalf("%d fetches, want 1: the abandoned queued round ran", got)
	}
}

func TestSetSourcesKeepsUnchangedProviders(t *testing.T) {
	s := newTestSyncer(t, newMemStore(), true, testTuning())
	a := &fakeSource{n: 1}
	s.SetSources([]Source{{Name: "a", Version: "1", Source: a}})
	before := s.providers["a"]
	s.SetSources([]Source{{Name: "a", Version: "1", Source: a}, {Name: "b", Source: &fakeSource{}}})
	if s.providers["a"] != before {
		t.Fatal("unchanged provider was replaced")
	}
	s.SetSources([]Source{{Name: "a", Version: "2", Source: a}})
	if s.providers["a"] == before || len(s.providers) != 1 {
		t.Fatal("changed provider kept or removed provider still present")
	}
}

// countingStore counts the pages applied to it.
type countingStore struct {
	*memStore
	applied int
}

func (c *countingStore) ApplyPage(ctx context.Context, p, from string, page aggregate.Page) (int, error) {
	c.applied++
	return c.memStore.ApplyPage(ctx, p, from, page)
}

func TestNothingNewCostsNoWrite(t *testing.T) {
	store := &countingStore{memStore: newMemStore()}
	src := &fakeSource{n: 3}
	s := newTestSyncer(t, store, true, testTuning())
	s.SetSources([]Source{{Name: "blue", Source: src}})
	s.Sync(context.Background())
	before := store.applied
	if rep := s.Sync(context.Background()); !rep.Complete || store.applied != before {
		t.Fatalf("a round with nothing new applied %d pages (%+v)", store.applied-before, rep)
	}
	src.add(1)
	if s.Sync(context.Background()); store.applied != before+1 || store.count("blue") != 4 {
		t.Fatalf("a new record: %d pages applied, %d rows", store.applied-before, store.count("blue"))
	}
}

// TestReportsVisibilityDelay: each provider's report carries its dialect's
// documented visibility delay, so an ok never claims more than the
// provider's API could show.
func TestReportsVisibilityDelay(t *testing.T) {
	s := newTestSyncer(t, newMemStore(), true, testTuning())
	s.SetSources([]Source{
		{Name: "blue", Dialect: provider.DialectXII, Source: &fakeSource{n: 1}},
		{Name: "acme", Dialect: provider.DialectTypeform, Source: &fakeSource{n: 1}},
		{Name: "gizmo", Dialect: provider.DialectAlchemer, Source: &fakeSource{n: 1}},
	})
	rep := s.Sync(context.Background())
	want := map[string]int64{"blue": 0, "acme": 5000, "gizmo": 360000}
	for name, ms := range want {
		if got := rep.Providers[name]; got.Status != "ok" || got.VisibleAfterMS != ms {
			t.Errorf("%s: %+v, want ok with visible_after_ms %d", name, got, ms)
		}
	}
}
