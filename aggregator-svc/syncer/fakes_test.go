package syncer

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/provider"
	"xii/aggregator-svc/tuning"
)

// fakeSource is a provider whose records are ids 1..n; the cursor is the
// last id returned. Each Fetch reads the records at its start, like a
// database snapshot, then may block on gate.
type fakeSource struct {
	mu      sync.Mutex
	n       int
	fetches atomic.Int64
	rescans atomic.Int64
	gate    chan struct{} // when non-nil, Fetch waits for a value or close
	entered chan struct{} // when non-nil, Fetch signals here after its snapshot
	err     error
}

func (f *fakeSource) add(k int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n += k
	return f.n
}

func (f *fakeSource) Fetch(ctx context.Context, req provider.Request) (aggregate.Page, error) {
	f.fetches.Add(1)
	if req.Rescan {
		f.rescans.Add(1)
	}
	f.mu.Lock()
	n, gate, entered, err := f.n, f.gate, f.entered, f.err
	f.mu.Unlock()
	if entered != nil {
		select {
		case entered <- struct{}{}:
		case <-ctx.Done():
			return aggregate.Page{}, ctx.Err()
		}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return aggregate.Page{}, ctx.Err()
		}
	}
	if err != nil {
		return aggregate.Page{}, err
	}
	from := 0
	if req.Cursor != "" {
		from, _ = strconv.Atoi(req.Cursor)
	}
	to := min(n, from+req.Limit)
	page := aggregate.Page{Next: strconv.Itoa(to), HasMore: to < n}
	for id := from + 1; id <= to; id++ {
		page.Records = append(page.Records, aggregate.Record{ProviderID: strconv.Itoa(id), Text: "t", CreatedAt: time.Unix(int64(id), 0)})
	}
	return page, nil
}

// memStore is an in-memory Store with the real one's conditional cursor.
type memStore struct {
	mu       sync.Mutex
	cursors  map[string]string
	rows     map[string]map[string]int  // provider → id → times applied
	aside    map[string]map[string]bool // provider → quarantined ids
	conflict func(provider string) bool
}

func newMemStore() *memStore {
	return &memStore{cursors: map[string]string{}, rows: map[string]map[string]int{}, aside: map[string]map[string]bool{}}
}

func (m *memStore) Position(_ context.Context, p string) (aggregate.Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return aggregate.Position{Cursor: m.cursors[p], Quarantined: len(m.aside[p])}, nil
}

func (m *memStore) ApplyPage(_ context.Context, p, from string, page aggregate.Page) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cursors[p] != from || (m.conflict != nil && m.conflict(p)) {
		return 0, fmt.Errorf("apply page: %w", aggregate.ErrConflict)
	}
	if m.rows[p] == nil {
		m.rows[p], m.aside[p] = map[string]int{}, map[string]bool{}
	}
	for _, r := range page.Records {
		m.rows[p][r.ProviderID]++
		delete(m.aside[p], r.ProviderID)
	}
	for _, q := range page.Quarantined {
		m.aside[p][q.ProviderID] = true
	}
	m.cursors[p] = page.Next
	return len(m.aside[p]), nil
}

func (m *memStore) count(p string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rows[p])
}

func newTestSyncer(tb testing.TB, store Store, coalesce bool, t tuning.Tuning) *Syncer {
	tb.Helper()
	s, err := New(Options{
		Store:          store,
		Tuning:         func() tuning.Tuning { return t },
		Coalesce:       coalesce,
		TracerProvider: tracenoop.NewTracerProvider(),
		MeterProvider:  noop.NewMeterProvider(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func testTuning() tuning.Tuning {
	t := tuning.Defaults()
	t.PageSize = 10
	t.FetchTimeout = 10 * time.Second
	return t
}

// waiting reports how many requests wait on p's rounds, running or queued.
func waiting(s *Syncer, name string) int {
	s.mu.Lock()
	p := s.providers[name]
	s.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range []*round{p.running, p.queued} {
		if r != nil {
			n += r.waiters
		}
	}
	return n
}

// SetSources is SetProviders of a confirmed set of sources only.
func (s *Syncer) SetSources(sources []Source) {
	s.SetProviders(Set{Confirmed: true, Sources: sources})
}
