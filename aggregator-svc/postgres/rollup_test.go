package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"go.opentelemetry.io/otel/trace/noop"

	"xii/aggregator-svc/aggregate"
	"xii/libs/pgdb"
	"xii/testkit/pgtest"
)

// noSpan records nothing.
var noSpan = noop.Span{}

// rollupQueries are the stats queries the agreement checks: every group_by
// combination the dashboard uses, each interval, filters on every rollup
// dimension, and time ranges on and off the hour.
func rollupQueries(base time.Time) []aggregate.StatsQuery {
	hour := base.Truncate(time.Hour)
	var qs []aggregate.StatsQuery
	for _, groupBy := range [][]string{
		nil, {"device"}, {"location"}, {"provider"}, {"survey"},
		{"device", "location"}, {"provider", "survey", "device", "location"},
	} {
		qs = append(qs, aggregate.StatsQuery{GroupBy: groupBy})
	}
	for _, interval := range []string{"1m", "1h", "1d"} {
		for _, groupBy := range [][]string{{"time"}, {"time", "provider"}, {"device", "time"}, {"time", "survey", "device", "location", "provider"}} {
			qs = append(qs, aggregate.StatsQuery{GroupBy: groupBy, Interval: interval})
		}
	}
	for _, f := range []aggregate.Filter{
		{Device: "iOS"},
		{Location: "Germany", Provider: "red"},
		{Survey: "s1", Device: "web"},
		{Since: hour.Add(-5 * time.Hour)},
		{Since: hour.Add(-30 * time.Hour), Until: hour.Add(-2 * time.Hour), Device: "Android"},
		{Until: hour.Add(-7 * time.Hour)},
		{Since: hour.Add(-5*time.Hour + 90*time.Second)}, // inside an hour: the table
		{Until: hour.Add(-time.Hour - time.Millisecond)},
	} {
		qs = append(qs,
			aggregate.StatsQuery{Filter: f},
			aggregate.StatsQuery{Filter: f, GroupBy: []string{"device", "location"}},
			aggregate.StatsQuery{Filter: f, GroupBy: []string{"time", "provider"}, Interval: "1h"},
			aggregate.StatsQuery{Filter: f, GroupBy: []string{"time"}, Interval: "1d"},
		)
	}
	qs = append(qs,
		aggregate.StatsQuery{GroupBy: []string{"device"}, Top: 2},
		aggregate.StatsQuery{GroupBy: []string{"time", "location"}, Interval: "1h", Top: 7},
	)
	return qs
}

// checkRollup fails t unless the rollup holds exactly the counts a plain
// GROUP BY over responses gives, no count is negative, and every query of
// rollupQueries answers the same from the rollup and from the table.
func checkRollup(t *testing.T, s *Store, base time.Time, step string) {
	t.Helper()
	ctx := t.Context()
	const diff = `SELECT count(*) FROM ((
		SELECT provider, bucket, survey, device, location, n FROM response_counts WHERE n <> 0
		EXCEPT ALL
		SELECT provider, date_trunc('hour', created_at, 'UTC'), survey, device, location, count(*) FROM responses GROUP BY 1, 2, 3, 4, 5
	) UNION ALL (
		SELECT provider, date_trunc('hour', created_at, 'UTC'), survey, device, location, count(*) FROM responses GROUP BY 1, 2, 3, 4, 5
		EXCEPT ALL
		SELECT provider, bucket, survey, device, location, n FROM response_counts WHERE n <> 0
	)) AS d`
	var differ, negative int
	if err := s.db.QueryRowContext(ctx, diff).Scan(&differ); err != nil {
		t.Fatalf("%s: compare rollup: %v", step, err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM response_counts WHERE n < 0`).Scan(&negative); err != nil {
		t.Fatalf("%s: negative counts: %v", step, err)
	}
	if differ != 0 || negative != 0 {
		t.Fatalf("%s: %d rollup rows differ from GROUP BY over responses, %d negative", step, differ, negative)
	}
	rollupUsed := 0
	for _, q := range rollupQueries(base) {
		src, _ := chooseSource(q)
		if src.name == sourceRollup {
			rollupUsed++
		}
		fromRollup, err := s.Stats(ctx, q)
		if err != nil {
			t.Fatalf("%s: stats %+v: %v", step, q, err)
		}
		fromTable, err := s.stats(ctx, noSpan, tableSource, "", q)
		if err != nil {
			t.Fatalf("%s: table stats %+v: %v", step, q, err)
		}
		if fromRollup.Total != fromTable.Total || fromRollup.Truncated != fromTable.Truncated ||
			!slices.EqualFunc(fromRollup.Groups, fromTable.Groups, func(a, b aggregate.Group) bool {
				return a.Count == b.Count && maps.Equal(a.Key, b.Key)
			}) {
			t.Fatalf("%s: %+v (%s):\n%s: %+v\ntable: %+v", step, q, src.name, src.name, fromRollup, fromTable)
		}
	}
	if rollupUsed < 20 {
		t.Fatalf("only %d of the queries read the rollup", rollupUsed)
	}
}

// TestRollupAgreesWithTable applies random pages to three providers —
// small and large (by unnest, or COPY for one seed), new records, replaced ones whose survey, device, location or time
// changed, ids repeated within a page, quarantined records, records
// leaving quarantine, replays of applied pages (refused as conflicts, and
// the same records again as a new page), pages whose transaction fails
// before COMMIT, and finally a retirement that drops a provider's rows —
// and after every step compares the rollup with the table.
func TestRollupAgreesWithTable(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			var crash atomic.Bool
			s := openStore(t, WithHooks(Hooks{BeforeCommit: func(context.Context, string) error {
				if crash.Load() {
					return errors.New("crash before commit")
				}
				return nil
			}}))
			s.copyPages = seed == 3 // large pages by COPY into a staging table
			rng := rand.New(rand.NewPCG(seed, 13))
			base := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
			random := func(id int) aggregate.Record {
				return aggregate.Record{
					ProviderID: fmt.Sprintf("id-%03d", id),
					Survey:     []string{"s1", "s2", "s3"}[rng.IntN(3)],
					Text:       fmt.Sprintf("text %d", rng.IntN(4)),
					Device:     []string{"iOS", "Android", "web"}[rng.IntN(3)],
					Location:   []string{"Germany", "France", "Spain", "Italy"}[rng.IntN(4)],
					// Three days back, to the millisecond: buckets of every size, edges included.
					CreatedAt: base.Add(-time.Duration(rng.Int64N(int64(72*time.Hour/time.Millisecond))) * time.Millisecond),
				}
			}
			providers := []string{"blue", "red", "acme"}
			cursors := map[string]string{}
			type applied struct {
				from string
				page aggregate.Page
			}
			last := map[string]applied{}
			for step := range 60 {
				p := providers[rng.IntN(len(providers))]
				size := 1 + rng.IntN(40)
				if rng.IntN(5) == 0 {
					size = copyThreshold + rng.IntN(200) // the unnest path, or COPY
				}
				page := aggregate.Page{Next: fmt.Sprintf("%s@%d", p, step)}
				aside := map[string]bool{}
				for range size {
					// ids repeat: replaced records, and repeats within a page.
					// Ids from 400 are set aside, and some come back valid.
					if id := 400 + rng.IntN(20); rng.IntN(10) == 0 && !aside[random(id).ProviderID] {
						q := random(id).ProviderID
						aside[q] = true
						page.Quarantined = append(page.Quarantined, aggregate.Quarantined{ProviderID: q, Reason: "test", Record: json.RawMessage(`{}`)})
						continue
					}
					page.Records = append(page.Records, random(rng.IntN(400)))
				}
				if r := random(400 + rng.IntN(20)); rng.IntN(8) == 0 && !aside[r.ProviderID] {
					page.Records = append(page.Records, r) // out of quarantine
				}

				var what string
				switch k := rng.IntN(10); {
				case k == 0 && last[p].page.Next != "": // replay of the last page from its cursor: a conflict
					what = "replay"
					_, err := s.ApplyPage(t.Context(), p, last[p].from, last[p].page)
					if !errors.Is(err, aggregate.ErrConflict) {
						t.Fatalf("step %d: replay: %v, want ErrConflict", step, err)
					}
				case k == 1 && last[p].page.Next != "": // the same records again, as a new page
					what = "same records again"
					again := last[p].page
					again.Next += "+again"
					apply(t, s, p, cursors[p], again)
					cursors[p] = again.Next
				case k == 2: // the transaction fails after every write, before COMMIT
					what = "crash"
					crash.Store(true)
					_, err := s.ApplyPage(t.Context(), p, cursors[p], page)
					crash.Store(false)
					if err == nil || !strings.Contains(err.Error(), "crash before commit") {
						t.Fatalf("step %d: crash: %v", step, err)
					}
				default:
					what = "page"
					apply(t, s, p, cursors[p], page)
					last[p] = applied{from: cursors[p], page: page}
					cursors[p] = page.Next
				}
				checkRollup(t, s, base, fmt.Sprintf("step %d (%s of %s, %d records)", step, what, p, len(page.Records)))
			}
			if err := s.RetireProvider(t.Context(), "red", true); err != nil {
				t.Fatal(err)
			}
			checkRollup(t, s, base, "after retiring red with its rows")
			var total int64
			if err := s.db.QueryRowContext(t.Context(), `SELECT coalesce(sum(n), 0) FROM response_counts WHERE provider = 'red'`).Scan(&total); err != nil || total != 0 {
				t.Fatalf("red's counts after retirement: %d, %v", total, err)
			}
		})
	}
}

// Providers syncing concurrently, two writers sharing one of them (one
// wins each page, the other conflicts): no deadlock, and the counts
// agree.
func TestRollupConcurrentProviders(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	base := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	writers := []string{"blue", "red", "acme", "typeform", "blue"}
	var wg sync.WaitGroup
	errs := make(chan error, len(writers))
	for w, p := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for page := range 15 {
				recs := make([]aggregate.Record, 0, 300)
				for range 20 + rng.IntN(300) {
					r := record(rng.IntN(2000))
					r.CreatedAt = base.Add(-time.Duration(rng.IntN(48*3600)) * time.Second)
					recs = append(recs, r)
				}
				for {
					from, err := s.Cursor(t.Context(), p)
					if err != nil {
						errs <- err
						return
					}
					_, err = s.ApplyPage(t.Context(), p, from, aggregate.Page{Records: recs, Next: fmt.Sprintf("%s/%d/%d", p, w, page)})
					if err == nil {
						break
					}
					if !errors.Is(err, aggregate.ErrConflict) {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkRollup(t, s, base, "after concurrent syncs")
}

// The migration counts the rows stored before it.
func TestRollupBackfill(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	before := fstest.MapFS{}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if name >= "migrations/0004" {
			break
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			t.Fatal(err)
		}
		before[name] = &fstest.MapFile{Data: body}
	}
	db, err := pgdb.Open(t.Context(), url, before)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO responses (provider, provider_id, survey, text, device, location, created_at)
		SELECT 'p' || (i % 3), 'id-' || i, 's' || (i % 2), 'text', (ARRAY['iOS', 'Android', 'web'])[1 + i % 3], 'loc-' || (i % 5),
			timestamptz '2026-12-01 14:00:00+00' - i * interval '7 minutes'
		FROM generate_series(1, 5000) AS i`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	checkRollup(t, s, time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC), "after the migration")
}
