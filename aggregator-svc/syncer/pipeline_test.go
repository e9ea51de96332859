package syncer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/postgres"
	"xii/aggregator-svc/provider"
	"xii/testkit/pgtest"
)

// askedSource is a fakeSource that reports each page request's cursor.
type askedSource struct {
	*fakeSource
	asked chan string
	// after, when not nil, holds back every page but the first until it
	// is closed.
	after chan struct{}
}

func (a askedSource) Fetch(ctx context.Context, req provider.Request) (aggregate.Page, error) {
	select {
	case a.asked <- req.Cursor:
	default:
	}
	if a.after != nil && req.Cursor != "" {
		select {
		case <-a.after:
		case <-ctx.Done():
			return aggregate.Page{}, ctx.Err()
		}
	}
	return a.fakeSource.Fetch(ctx, req)
}

// storingStore is a memStore that logs every ApplyPage, and whose first
// one waits until told to go on.
type storingStore struct {
	*memStore
	holding chan struct{}
	goOn    chan struct{}

	mu      sync.Mutex
	applied []storedPage
}

type storedPage struct {
	from, next string
	records    int
}

func (s *storingStore) ApplyPage(ctx context.Context, p, from string, page aggregate.Page) (int, error) {
	s.mu.Lock()
	first := len(s.applied) == 0
	s.applied = append(s.applied, storedPage{from, page.Next, len(page.Records)})
	s.mu.Unlock()
	if first {
		close(s.holding)
		<-s.goOn
	}
	return s.memStore.ApplyPage(ctx, p, from, page)
}

// TestBacklogFetchesWhileStoring: while a round stores a page, it asks for
// the pages after it; those that wait meanwhile are stored together, in
// one ApplyPage with the last one's cursor. Pages commit in order, each
// from the cursor the one before stored, each row once.
func TestBacklogFetchesWhileStoring(t *testing.T) {
	store := &storingStore{memStore: newMemStore(), holding: make(chan struct{}), goOn: make(chan struct{})}
	// Pages after the first are served only once the first is being
	// stored, so that the first goes alone.
	src := askedSource{fakeSource: &fakeSource{n: 35}, asked: make(chan string, 16), after: store.holding}
	s := newTestSyncer(t, store, true, testTuning())
	s.SetSources([]Source{{Name: "blue", Source: src}})

	done := make(chan aggregate.SyncReport)
	go func() { done <- s.Sync(context.Background()) }()
	<-store.holding // page 1 (rows 1..10) is being stored
	deadline := time.After(10 * time.Second)
	for asked := false; !asked; {
		select {
		case c := <-src.asked:
			asked = c == "30"
		case <-deadline:
			t.Error("page 4 was not asked for while page 1 was stored")
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
	// Pages 2 and 3 had both arrived before page 4 was asked for, so they
	// went in together.
	applied := store.applied
	if len(applied) < 2 || applied[0] != (storedPage{"", "10", 10}) || applied[1].from != "10" || applied[1].records < 20 {
		t.Fatalf("stored %+v, want page 1 alone, then pages 2 and 3 (at least) together", applied)
	}
	for i := 1; i < len(applied); i++ {
		if applied[i].from != applied[i-1].next {
			t.Fatalf("stored %+v: not each from the cursor the one before stored", applied)
		}
	}
}

// scriptedSource serves fixed pages, each by the cursor it is asked from,
// and reports each cursor on asked, if set. If entered is set, the page
// from holdAt is served only once release is closed, and entered is closed
// when it is asked for.
type scriptedSource struct {
	pages   map[string]aggregate.Page
	asked   chan string
	holdAt  string
	entered chan struct{}
	release chan struct{}
}

func (s scriptedSource) Fetch(ctx context.Context, req provider.Request) (aggregate.Page, error) {
	if s.asked != nil {
		s.asked <- req.Cursor
	}
	if s.entered != nil && req.Cursor == s.holdAt {
		close(s.entered)
		select {
		case <-s.release:
		case <-ctx.Done():
			return aggregate.Page{}, ctx.Err()
		}
	}
	page, ok := s.pages[req.Cursor]
	if !ok {
		return aggregate.Page{}, fmt.Errorf("no page from %q", req.Cursor)
	}
	return page, nil
}

// firstHeld is a Store whose first ApplyPage waits until goOn is closed.
type firstHeld struct {
	Store
	once    sync.Once
	holding chan struct{}
	goOn    chan struct{}
}

func (s *firstHeld) ApplyPage(ctx context.Context, p, from string, page aggregate.Page) (int, error) {
	s.once.Do(func() {
		close(s.holding)
		<-s.goOn
	})
	return s.Store.ApplyPage(ctx, p, from, page)
}

// TestRecordSetAsideThenSentValidLeavesQuarantine: a record set aside in
// one page and sent again valid in the next, both waiting to be stored, is
// stored and out of quarantine, in the real store. Stored in one
// transaction, the record would be released before it was set aside, and
// stay there.
func TestRecordSetAsideThenSentValidLeavesQuarantine(t *testing.T) {
	store, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec := func(id string) aggregate.Record {
		return aggregate.Record{ProviderID: id, Text: "t", Device: "iOS", Location: "Germany", CreatedAt: time.Unix(1700000000, 0)}
	}
	src := scriptedSource{
		pages: map[string]aggregate.Page{
			"":  {Records: []aggregate.Record{rec("a")}, Next: "A", HasMore: true},
			"A": {Records: []aggregate.Record{rec("b")}, Quarantined: []aggregate.Quarantined{{ProviderID: "x", Reason: "no created_at", Record: []byte(`{"id":"x"}`)}}, Next: "B", HasMore: true},
			"B": {Records: []aggregate.Record{rec("x")}, Next: "C", HasMore: true},
			"C": {Next: "C"},
		},
		holdAt: "C", entered: make(chan struct{}), release: make(chan struct{}),
	}
	held := &firstHeld{Store: storeAdapter{store}, holding: make(chan struct{}), goOn: make(chan struct{})}
	s := newTestSyncer(t, held, true, testTuning())
	s.SetSources([]Source{{Name: "blue", Source: src}})

	done := make(chan aggregate.SyncReport)
	go func() { done <- s.Sync(context.Background()) }()
	<-held.holding // the first page is being stored
	<-src.entered  // the next two are there, waiting
	close(held.goOn)
	close(src.release)
	if rep := <-done; !rep.Complete {
		t.Fatalf("sync incomplete: %+v", rep)
	}
	if got := total(t, store, "blue"); got != 3 {
		t.Fatalf("aggregate holds %d records, want 3 (a, b and x)", got)
	}
	pos, err := store.Position(context.Background(), "blue")
	if err != nil {
		t.Fatal(err)
	}
	if pos.Quarantined != 0 || pos.Cursor != "C" {
		t.Fatalf("position %+v, want cursor C and nothing in quarantine", pos)
	}
}

// TestFetchingAheadBoundedByBytes: pages that hold more than aheadBytes
// between them are fetched one ahead of the one being stored, no further.
func TestFetchingAheadBoundedByBytes(t *testing.T) {
	big := strings.Repeat("x", aheadBytes/2+1)
	pages := map[string]aggregate.Page{}
	for i := range 4 {
		pages[strconv.Itoa(i)] = aggregate.Page{
			Records: []aggregate.Record{{ProviderID: strconv.Itoa(i + 1), Text: big, CreatedAt: time.Unix(int64(i+1), 0)}},
			Next:    strconv.Itoa(i + 1), HasMore: i < 3,
		}
	}
	pages[""] = pages["0"]
	asked := make(chan string, 8)
	store := &firstHeld{Store: newMemStore(), holding: make(chan struct{}), goOn: make(chan struct{})}
	s := newTestSyncer(t, store, true, testTuning())
	full := make(chan struct{}, 1)
	s.aheadFull = func() {
		select {
		case full <- struct{}{}:
		default:
		}
	}
	s.SetSources([]Source{{Name: "blue", Source: scriptedSource{pages: pages, asked: asked}}})

	done := make(chan aggregate.SyncReport)
	go func() { done <- s.Sync(context.Background()) }()
	<-store.holding // page 1 is being stored
	for waiting := false; !waiting; {
		select {
		case c := <-asked:
			if c == "2" {
				t.Error("page 3 asked for while pages 1 and 2 held more than aheadBytes")
				waiting = true
			}
		case <-full:
			waiting = true
		}
	}
	close(store.goOn)
	if rep := <-done; !rep.Complete {
		t.Fatalf("sync incomplete: %+v", rep)
	}
}
