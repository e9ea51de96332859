package syncer

import (
	"context"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
	"xii/testkit/wait"
)

func providerOf(s *Syncer, name string) *providerSync {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.providers[name]
}

// TestPacedRoundIsSharedAndFresh: while the slow provider's round runs, a
// request's round of the fast provider is paced to end about with it, not
// started at once. A write acknowledged while it is paced, and a second
// request after that write, are both served by that one round: it starts
// after its last waiter came, so it reads the write, and the fast provider
// is fetched once for the two requests (without pacing: twice). The slow
// provider, the one every answer waits for, is never paced.
func TestPacedRoundIsSharedAndFresh(t *testing.T) {
	store := newMemStore()
	slow := &fakeSource{n: 1, gate: make(chan struct{}), entered: make(chan struct{})}
	fast := &fakeSource{n: 3}
	s := newTestSyncer(t, store, true, testTuning())
	s.maxPace = 5 * time.Second
	s.SetSources([]Source{{Name: "slow", Source: slow}, {Name: "fast", Source: fast}})
	// What earlier rounds would have taught it: the slow provider takes
	// 600ms a round, the fast one 1ms. The fast round is paced ~600ms,
	// far longer than the few steps below take.
	for name, took := range map[string]time.Duration{"slow": 600 * time.Millisecond, "fast": time.Millisecond} {
		p := providerOf(s, name)
		p.mu.Lock()
		p.took = took
		p.mu.Unlock()
	}

	first := make(chan aggregate.SyncReport)
	go func() { first <- s.Sync(context.Background()) }()
	<-slow.entered // the slow round started at once
	fp := providerOf(s, "fast")
	paced := func() bool {
		fp.mu.Lock()
		defer fp.mu.Unlock()
		return fp.queued != nil && fp.running == nil && !fp.queued.notBefore.IsZero()
	}
	wait.For(t, "the fast round to be queued, paced", paced)
	if n := fast.fetches.Load(); n != 0 {
		t.Fatalf("the fast provider was fetched %d times before its paced round started", n)
	}

	w := fast.add(1) // acknowledged while the fast round waits
	second := make(chan aggregate.SyncReport)
	go func() { second <- s.Sync(context.Background()) }()
	wait.For(t, "the second request to join the paced round", func() bool { return waiting(s, "fast") == 2 })
	if !paced() {
		t.Fatal("the paced round started before the second request joined it: the test's pace was too short")
	}

	slow.mu.Lock()
	slow.entered = nil
	slow.mu.Unlock()
	close(slow.gate)
	for _, c := range []chan aggregate.SyncReport{first, second} {
		if rep := <-c; !rep.Complete {
			t.Fatalf("sync incomplete: %+v", rep)
		}
	}
	if got := store.count("fast"); got != w {
		t.Fatalf("the fast provider has %d rows in the aggregate, want %d: its paced round did not read a write acknowledged before it started", got, w)
	}
	if n := fast.fetches.Load(); n != 1 {
		t.Fatalf("the fast provider was fetched %d times for the two requests, want 1: they did not share the paced round", n)
	}
}
