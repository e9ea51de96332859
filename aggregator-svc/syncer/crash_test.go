package syncer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/postgres"
	"xii/aggregator-svc/provider"
	"xii/testkit/pgtest"
)

// pgWriter adapts the real store to Store, with a fault injected after the
// page whose number is failAfter has committed.
type pgWriter struct {
	store     *postgres.Store
	mu        sync.Mutex
	applied   int
	failAfter int
	fault     func() error
}

func (w *pgWriter) Position(ctx context.Context, p string) (aggregate.Position, error) {
	return w.store.Position(ctx, p)
}

func (w *pgWriter) ApplyPage(ctx context.Context, p, from string, page aggregate.Page) (int, error) {
	applied, err := w.store.ApplyPage(ctx, p, from, page)
	if err != nil {
		return 0, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.applied++
	if w.applied == w.failAfter && w.fault != nil {
		return 0, w.fault()
	}
	return applied.Quarantined, nil
}

func total(t *testing.T, s *postgres.Store, name string) int64 {
	t.Helper()
	st, err := s.Stats(context.Background(), aggregate.StatsQuery{Filter: aggregate.Filter{Provider: name}})
	if err != nil {
		t.Fatal(err)
	}
	return st.Total
}

// TestInterruptedSyncLeavesNoGapNoDuplicate interrupts a sync at every
// transaction in every way a process can stop — before a commit, right
// after it, between transactions, during a fetch — and checks that the next
// sync leaves the aggregate holding every record exactly once. It does so
// with every page stored alone, and with pages stored together as a backlog
// does (5 pages, at most mergePages a transaction: 2 transactions at least).
func TestInterruptedSyncLeavesNoGapNoDuplicate(t *testing.T) {
	const records, pageSize = 45, 10 // 5 pages
	crash := errors.New("injected crash")
	modes := []string{"before commit", "after commit", "between pages", "during fetch"}
	configs := []struct {
		name                 string
		ahead, merge, points int
	}{
		{"alone", 1, 1, 5},
		{"merged", aheadPages, mergePages, 2},
	}
	for _, cfg := range configs {
		for _, mode := range modes {
			for page := 1; page <= cfg.points; page++ {
				t.Run(fmt.Sprintf("%s/%s/%d", cfg.name, mode, page), func(t *testing.T) {
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					commits := 0
					store, err := postgres.Open(ctx, pgtest.NewDatabase(t), postgres.WithHooks(postgres.Hooks{
						BeforeCommit: func(context.Context, string) error {
							if commits++; mode == "before commit" && commits == page {
								return crash
							}
							return nil
						},
					}))
					if err != nil {
						t.Fatal(err)
					}
					defer store.Close()
					w := &pgWriter{store: store, failAfter: page}
					src := &failingSource{fakeSource: fakeSource{n: records}}
					switch mode {
					case "after commit":
						w.fault = func() error { return crash }
					case "between pages":
						w.fault = func() error { cancel(); return nil }
					case "during fetch":
						src.failAt = page
					}
					tun := testTuning()
					tun.PageSize = pageSize
					s := newTestSyncer(t, w, true, tun)
					s.ahead, s.merge = cfg.ahead, cfg.merge
					s.SetSources([]Source{{Name: "blue", Source: src}})

					if rep := s.Sync(ctx); rep.Complete {
						t.Fatalf("interrupted sync reported complete: %+v", rep)
					}
					if rep := s.Sync(context.Background()); !rep.Complete {
						t.Fatalf("sync after the interruption: %+v", rep)
					}
					if got := total(t, store, "blue"); got != records {
						t.Fatalf("aggregate holds %d records, want %d", got, records)
					}
					if c, _ := store.Cursor(context.Background(), "blue"); c != fmt.Sprint(records) {
						t.Fatalf("cursor %q, want %d", c, records)
					}
				})
			}
		}
	}
}

// failingSource fails its failAt-th fetch, as a provider dropping the
// connection would.
type failingSource struct {
	fakeSource
	mu     sync.Mutex
	calls  int
	failAt int
}

func (f *failingSource) Fetch(ctx context.Context, req provider.Request) (aggregate.Page, error) {
	f.mu.Lock()
	f.calls++
	fail := f.calls == f.failAt
	f.mu.Unlock()
	if fail {
		return aggregate.Page{}, fmt.Errorf("fetch: %w", provider.ErrBadPage)
	}
	return f.fakeSource.Fetch(ctx, req)
}

// TestReplicasShareOneCursor runs two syncers — two aggregator replicas —
// against one aggregate at once: every record is stored once and the
// cursor ends at the end.
func TestReplicasShareOneCursor(t *testing.T) {
	store, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const records = 500
	tun := testTuning()
	tun.PageSize = 7
	var wg sync.WaitGroup
	for range 2 {
		s := newTestSyncer(t, &pgWriter{store: store}, true, tun)
		s.SetSources([]Source{{Name: "blue", Source: &fakeSource{n: records}}})
		for range 3 {
			wg.Go(func() {
				if rep := s.Sync(context.Background()); !rep.Complete {
					t.Errorf("replica sync: %+v", rep)
				}
			})
		}
	}
	wg.Wait()
	if got := total(t, store, "blue"); got != records {
		t.Fatalf("aggregate holds %d records, want %d", got, records)
	}
	if c, _ := store.Cursor(context.Background(), "blue"); c != fmt.Sprint(records) {
		t.Fatalf("cursor %q, want %d", c, records)
	}
}
