package postgres

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"xii/aggregator-svc/aggregate"
)

// The rollup benchmarks' data: the demo's spread (xii-load seed: 4
// surveys, 3 devices, 10 countries) from two providers over one week, so a
// larger aggregate is a busier week, not a longer one. The rollup's size is
// then bounded by 2 × 4 × 3 × 10 combinations × 168 hours, whatever the
// rows.
var (
	benchWeekEnd   = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	benchDevices   = []string{"iOS", "iOS", "Android", "Android", "web"}
	benchCountries = []string{"Germany", "Germany", "France", "Spain", "Italy", "Poland", "Austria", "Netherlands", "Belgium", "Sweden", "Norway"}
)

// rollupBenchSizes are the aggregate sizes BenchmarkStatsRollup loads:
// XII_ROLLUP_ROWS, comma-separated, default 1000000.
func rollupBenchSizes(tb testing.TB) []int {
	tb.Helper()
	v := cmp.Or(os.Getenv("XII_ROLLUP_ROWS"), "1000000")
	var sizes []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			tb.Fatalf("XII_ROLLUP_ROWS=%q: want positive numbers, comma-separated", v)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// loadWeek fills an empty aggregate with n responses by one INSERT ...
// SELECT over generate_series, the rollup kept by its trigger as for any
// write, then vacuums and analyzes both tables as autovacuum would have.
// The indexes are dropped for the load and built after it, which is
// several times faster than maintaining them row by row.
func loadWeek(b *testing.B, s *Store, n int) (rollupRows int64) {
	b.Helper()
	ctx := b.Context()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		b.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%.60s: %v", q, err)
		}
	}
	rows, err := conn.QueryContext(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'responses' AND indexname <> 'responses_pkey'`)
	if err != nil {
		b.Fatal(err)
	}
	defs := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			b.Fatal(err)
		}
		defs[name] = def
	}
	if err := rows.Close(); err != nil {
		b.Fatal(err)
	}
	exec(`SET maintenance_work_mem = '256MB'`)
	exec(`SET synchronous_commit = off`)
	for name := range defs {
		exec(`DROP INDEX ` + name)
	}
	exec(`ALTER TABLE responses DROP CONSTRAINT responses_pkey`)
	start := time.Now()
	exec(`INSERT INTO responses (provider, provider_id, survey, text, device, location, created_at)
		SELECT (ARRAY['blue', 'red'])[1 + i % 2], 'b' || i, 'survey-' || (h % 4), 'bench response',
			($1::text[])[1 + (h / 4) % 5], ($2::text[])[1 + (h / 20) % 11],
			$3::timestamptz - (i * $4::float8) * interval '1 microsecond'
		FROM (SELECT i, abs(hashint8(i)::bigint) AS h FROM generate_series(0, $5::bigint - 1) AS i) AS g`,
		pq.Array(benchDevices), pq.Array(benchCountries), benchWeekEnd, float64(7*24*time.Hour/time.Microsecond)/float64(n), n)
	exec(`ALTER TABLE responses ADD PRIMARY KEY (provider, provider_id)`)
	for _, name := range slices.Sorted(maps.Keys(defs)) {
		exec(defs[name])
	}
	exec(`VACUUM ANALYZE responses`)
	exec(`VACUUM ANALYZE response_counts`)
	exec(`CHECKPOINT`) // the load's writes flushed now, not while measuring
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM response_counts`).Scan(&rollupRows); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d rows (%d rollup rows) in %s", n, rollupRows, time.Since(start).Round(time.Second))
	return rollupRows
}

// BenchmarkStatsRollup answers the dashboard's stats — by device, by hour,
// by hour and provider for the last day — from the rollup and by a plain
// GROUP BY over the table, on the same aggregate of each size, taking
// turns query by query so that both see the same background load. It
// reports the time of each, their ratio and the rollup's size; compare
// the sizes for growth.
//
//	XII_ROLLUP_ROWS=1000000,10000000 go test -run '^$' -bench StatsRollup -benchtime 5x ./aggregator-svc/postgres/
func BenchmarkStatsRollup(b *testing.B) {
	if testing.Short() {
		b.Skip("loads millions of rows; not with -short")
	}
	day := aggregate.Filter{Since: benchWeekEnd.Add(-24 * time.Hour)}
	queries := []struct {
		name string
		q    aggregate.StatsQuery
	}{
		{"by device", aggregate.StatsQuery{GroupBy: []string{"device"}}},
		{"by hour", aggregate.StatsQuery{GroupBy: []string{"time"}, Interval: "1h"}},
		{"by hour and provider, last day", aggregate.StatsQuery{GroupBy: []string{"time", "provider"}, Interval: "1h", Filter: day}},
	}
	for _, n := range rollupBenchSizes(b) {
		s := openStore(b)
		rollupRows := loadWeek(b, s, n)
		for _, qc := range queries {
			b.Run(fmt.Sprintf("rows=%d/%s", n, qc.name), func(b *testing.B) {
				if got, _ := chooseSource(qc.q); got.name != sourceRollup {
					b.Fatalf("%+v does not read the rollup", qc.q)
				}
				var spent [2]time.Duration
				for b.Loop() {
					var answers [2]aggregate.Stats
					for i, src := range []source{rollupSource, tableSource} {
						start := time.Now()
						st, err := s.stats(b.Context(), noSpan, src, "", qc.q)
						if err != nil {
							b.Fatal(err)
						}
						spent[i] += time.Since(start)
						answers[i] = st
					}
					if a, t := answers[0], answers[1]; a.Total != t.Total || len(a.Groups) != len(t.Groups) {
						b.Fatalf("rollup: total %d in %d groups, table: %d in %d", a.Total, len(a.Groups), t.Total, len(t.Groups))
					}
				}
				b.ReportMetric(float64(spent[0].Microseconds())/1000/float64(b.N), "rollup-ms/op")
				b.ReportMetric(float64(spent[1].Microseconds())/1000/float64(b.N), "table-ms/op")
				b.ReportMetric(spent[1].Seconds()/spent[0].Seconds(), "speedup-x")
				b.ReportMetric(float64(rollupRows), "rollup-rows")
			})
		}
	}
}

// weekRecord is the i-th of a provider's records at the pace of the
// 1M-row week (one every 0.6 s), with the benchmarks' spread.
func weekRecord(i int, moved bool) aggregate.Record {
	h := uint64(i)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e5b5
	h ^= h >> 29
	d, c := (h/4)%5, (h/20)%11
	if moved { // a replaced record: another device and country
		d, c = (d+2)%5, (c+2)%11
	}
	return aggregate.Record{
		ProviderID: fmt.Sprintf("w%09d", i),
		Survey:     fmt.Sprintf("survey-%d", h%4),
		Text:       fmt.Sprintf("bench response %d", i),
		Device:     benchDevices[d],
		Location:   benchCountries[c],
		CreatedAt:  benchWeekEnd.Add(-time.Duration(i) * 600 * time.Millisecond),
	}
}

// BenchmarkApplyPageRollup is BenchmarkApplyPage with and without the
// rollup's triggers, on two aggregates taking turns page by page, so that
// both see the same background load: a backlog of new
// records, and the same backlog again with every record moved to another
// device and country. It reports the rows/s of both and the rollup's cost
// in percent of the time without it.
//
//	go test -run '^$' -bench ApplyPageRollup -benchtime 3x ./aggregator-svc/postgres/
func BenchmarkApplyPageRollup(b *testing.B) {
	n := benchRows(b)
	fresh, moved := make([]aggregate.Record, n), make([]aggregate.Record, n)
	for i := range n {
		fresh[i], moved[i] = weekRecord(i, false), weekRecord(i, true)
	}
	for _, size := range []int{100, 1000} {
		for _, mode := range []string{"new", "replaced"} {
			b.Run(fmt.Sprintf("page=%d/%s", size, mode), func(b *testing.B) {
				with, without := openStore(b), openStore(b)
				if _, err := without.db.ExecContext(b.Context(), `ALTER TABLE responses DISABLE TRIGGER USER`); err != nil {
					b.Fatal(err)
				}
				stores := []*Store{with, without}
				// backlog applies recs to both stores page by page, taking
				// turns page by page, and returns the time each spent.
				backlog := func(recs []aggregate.Record, from string) (string, [2]time.Duration) {
					var spent [2]time.Duration
					for off := 0; off < n; off += size {
						next := from + "+" + strconv.Itoa(off+size)
						for i, s := range stores {
							start := time.Now()
							apply(b, s, "blue", from, aggregate.Page{Records: recs[off:min(off+size, n)], Next: next})
							spent[i] += time.Since(start)
						}
						from = next
					}
					return from, spent
				}
				var spent [2]time.Duration
				for b.Loop() {
					for _, s := range stores {
						truncate(b, s, "responses, provider_cursors, response_counts")
					}
					from, recs := "", fresh
					if mode == "replaced" {
						from, _ = backlog(fresh, from)
						recs = moved
					}
					_, took := backlog(recs, from)
					spent[0] += took[0]
					spent[1] += took[1]
				}
				b.ReportMetric(float64(n*b.N)/spent[0].Seconds(), "rollup-rows/s")
				b.ReportMetric(float64(n*b.N)/spent[1].Seconds(), "plain-rows/s")
				b.ReportMetric(100*(spent[0].Seconds()/spent[1].Seconds()-1), "cost-%")
			})
		}
	}
}
