package syncer

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/postgres"
	"xii/testkit/pgtest"
)

// overlapWriter is the real store, counting the ApplyPage calls of one
// provider in flight at once: two at once means one waits in PostgreSQL
// on the cursor row lock the other holds.
type overlapWriter struct {
	pgWriter
	inFlight, most atomic.Int64
	conflicts      atomic.Int64
}

func (w *overlapWriter) ApplyPage(ctx context.Context, p, from string, page aggregate.Page) (int, error) {
	n := w.inFlight.Add(1)
	defer w.inFlight.Add(-1)
	for {
		m := w.most.Load()
		if n <= m || w.most.CompareAndSwap(m, n) {
			break
		}
	}
	q, err := w.pgWriter.ApplyPage(ctx, p, from, page)
	if err != nil {
		w.conflicts.Add(1)
	}
	return q, err
}

// TestNaiveRoundsDoNotQueueOnTheCursorLock: without coalescing every
// request runs its own round; 20 at once for one provider must not wait
// on each other's cursor row lock in PostgreSQL, and still store every
// record exactly once. Before rounds took turns in process, up to 20
// applies were in flight at once, all but one of them waiting on the lock.
func TestNaiveRoundsDoNotQueueOnTheCursorLock(t *testing.T) {
	store, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const records, rounds = 100, 20
	tun := testTuning()
	tun.PageSize = 7
	tun.MaxConcurrency = 64
	w := &overlapWriter{pgWriter: pgWriter{store: store}}
	s := newTestSyncer(t, w, false, tun)
	src := &fakeSource{n: records}
	s.SetSources([]Source{{Name: "blue", Source: src}})
	var wg sync.WaitGroup
	for range rounds {
		wg.Go(func() {
			if rep := s.Sync(context.Background()); !rep.Complete {
				t.Errorf("naive round: %+v", rep)
			}
		})
	}
	wg.Wait()
	if m := w.most.Load(); m != 1 {
		t.Errorf("%d page applies of one provider in flight at once, want 1: rounds queued on the cursor row lock", m)
	}
	if got := total(t, store, "blue"); got != records {
		t.Fatalf("aggregate holds %d records, want %d", got, records)
	}
	if c, _ := store.Cursor(context.Background(), "blue"); c != fmt.Sprint(records) {
		t.Fatalf("cursor %q, want %d", c, records)
	}
	t.Logf("%d rounds: %d fetches, %d applies refused for a moved cursor", rounds, src.fetches.Load(), w.conflicts.Load())
}
