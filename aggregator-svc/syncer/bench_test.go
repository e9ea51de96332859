package syncer

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/postgres"
	"xii/aggregator-svc/provider"
	"xii/testkit/pgtest"
)

// slowSource is a fakeSource whose every page takes delay to arrive, as
// over a network from a provider that reads its own database.
type slowSource struct {
	*fakeSource
	delay time.Duration
}

func (s slowSource) Fetch(ctx context.Context, req provider.Request) (aggregate.Page, error) {
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return aggregate.Page{}, ctx.Err()
	case <-t.C:
	}
	return s.fakeSource.Fetch(ctx, req)
}

// BenchmarkBacklog syncs a backlog of XII_BENCH_ROWS (default 50000) rows
// of one provider into an empty aggregate, pages of 1000 that each take
// 10ms to arrive, and reports rows/s: merged (pages fetched ahead while
// one is stored, those waiting stored together), pipelined (one page
// fetched ahead, each stored alone) and sequential.
//
//	XII_BENCH_ROWS=200000 go test -run '^$' -bench Backlog -benchtime 1x ./aggregator-svc/syncer/
func BenchmarkBacklog(b *testing.B) {
	n := 50000
	if v := os.Getenv("XII_BENCH_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("XII_BENCH_ROWS=%q: want a positive number", v)
		}
	}
	modes := map[string]struct{ ahead, merge int }{
		"merged":     {aheadPages, mergePages},
		"pipelined":  {1, 1},
		"sequential": {0, 1},
	}
	for _, mode := range []string{"merged", "pipelined", "sequential"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				store, err := postgres.Open(b.Context(), pgtest.NewDatabase(b))
				if err != nil {
					b.Fatal(err)
				}
				tun := testTuning()
				tun.PageSize = 1000
				s := newTestSyncer(b, storeAdapter{store}, true, tun)
				s.ahead, s.merge = modes[mode].ahead, modes[mode].merge
				s.SetSources([]Source{{Name: "blue", Source: slowSource{&fakeSource{n: n}, 10 * time.Millisecond}}})
				b.StartTimer()
				if rep := s.Sync(context.Background()); !rep.Complete {
					b.Fatalf("sync: %+v", rep)
				}
				b.StopTimer()
				store.Close()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// storeAdapter is the real store as Store.
type storeAdapter struct{ *postgres.Store }

func (s storeAdapter) ApplyPage(ctx context.Context, p, from string, page aggregate.Page) (int, error) {
	applied, err := s.Store.ApplyPage(ctx, p, from, page)
	return applied.Quarantined, err
}
