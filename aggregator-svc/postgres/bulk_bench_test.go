package postgres

import (
	"fmt"
	"strconv"
	"testing"

	"xii/aggregator-svc/aggregate"
)

// BenchmarkBulkPath stores a backlog in pages of 1000 by each bulk path
// (COPY into staging and a merge; an upsert of arrays; a plain INSERT of
// arrays, as ApplyPage does first), taking turns three times, and reports
// rows/s:
//
//	XII_BENCH_ROWS=200000 go test -run '^$' -bench BulkPath -benchtime 1x ./aggregator-svc/postgres/
func BenchmarkBulkPath(b *testing.B) {
	n := benchRows(b)
	recs := bulkRecords(n)
	for round := range 3 {
		for _, path := range []string{"copy", "upsert", "insert"} {
			b.Run(fmt.Sprintf("%s/turn=%d", path, round), func(b *testing.B) {
				s := openStore(b)
				s.copyPages, s.upsertPages = path == "copy", path == "upsert"
				for range b.N {
					b.StopTimer()
					truncate(b, s, "responses, provider_cursors")
					b.StartTimer()
					from := ""
					for off := 0; off < n; off += 1000 {
						next := strconv.Itoa(off + 1000)
						apply(b, s, "blue", from, aggregate.Page{Records: recs[off:min(off+1000, n)], Next: next})
						from = next
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
