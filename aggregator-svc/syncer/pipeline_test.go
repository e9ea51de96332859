package syncer

import (
	"context"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/provider"
)

// askedSource is a fakeSource that reports each page request's cursor.
type askedSource struct {
	*fakeSource
	asked chan string
}

func (a askedSource) Fetch(ctx context.Context, req provider.Request) (aggregate.Page, error) {
	select {
	case a.asked <- req.Cursor:
	default:
	}
	return a.fakeSource.Fetch(ctx, req)
}

// storingStore is a memStore whose ApplyPage of the page from cursor
// holdAt waits until told to go on.
type storingStore struct {
	*memStore
	holdAt  string
	holding chan struct{}
	goOn    chan struct{}
}

func (s storingStore) ApplyPage(ctx context.Context, p, from string, page aggregate.Page) (int, error) {
	if from == s.holdAt {
		close(s.holding)
		<-s.goOn
	}
	return s.memStore.ApplyPage(ctx, p, from, page)
}

// TestBacklogFetchesWhileStoring: a round asks for the next page while it
// stores the current one, and still commits the pages one by one, in
// order, each row once.
func TestBacklogFetchesWhileStoring(t *testing.T) {
	store := storingStore{memStore: newMemStore(), holdAt: "10", holding: make(chan struct{}), goOn: make(chan struct{})}
	src := askedSource{fakeSource: &fakeSource{n: 35}, asked: make(chan string, 16)}
	s := newTestSyncer(t, store, true, testTuning())
	s.SetSources([]Source{{Name: "blue", Source: src}})

	done := make(chan aggregate.SyncReport)
	go func() { done <- s.Sync(context.Background()) }()
	<-store.holding // page 2 (rows 11..20) is being stored
	deadline := time.After(10 * time.Second)
	for asked := false; !asked; {
		select {
		case c := <-src.asked:
			asked = c == "20"
		case <-deadline:
			t.Error("page 3 was not asked for while page 2 was stored")
			asked = true
		}
	}
	close(store.goOn)
	if rep := <-done; !rep.Complete {
		t.Fatalf("sync incomplete: %+v", rep)
	}
	if got := store.count("blue"); got != 35 {
		t.Fatalf("%d rows, want 35", got)
	}
	for id, n := range store.rows["blue"] {
		if n != 1 {
			t.Fatalf("row %s applied %d times", id, n)
		}
	}
	if c := store.cursors["blue"]; c != "35" {
		t.Fatalf("cursor %q, want 35", c)
	}
}
