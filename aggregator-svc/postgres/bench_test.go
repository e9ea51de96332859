package postgres

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"xii/aggregator-svc/aggregate"
)

// benchRows is the backlog the benchmarks load: XII_BENCH_ROWS, default
// 50000.
func benchRows(tb testing.TB) int {
	tb.Helper()
	v := os.Getenv("XII_BENCH_ROWS")
	if v == "" {
		return 50000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("XII_BENCH_ROWS=%q: want a positive number", v)
	}
	return n
}

func bulkRecords(n int) []aggregate.Record {
	recs := make([]aggregate.Record, n)
	for i := range recs {
		recs[i] = bulkRecord(i)
	}
	return recs
}

func truncate(tb testing.TB, s *Store, tables string) {
	tb.Helper()
	if _, err := s.db.ExecContext(tb.Context(), "TRUNCATE "+tables); err != nil {
		tb.Fatalf("truncate: %v", err)
	}
}

// BenchmarkApplyPage syncs a backlog of one provider into an empty
// aggregate, page by page as the syncer does, and reports rows/s.
func BenchmarkApplyPage(b *testing.B) {
	n := benchRows(b)
	recs := bulkRecords(n)
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("page=%d/rows=%d", size, n), func(b *testing.B) {
			s := openStore(b)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				truncate(b, s, "responses, provider_cursors")
				b.StartTimer()
				from := ""
				for off := 0; off < n; off += size {
					next := strconv.Itoa(off + size)
					apply(b, s, "blue", from, aggregate.Page{Records: recs[off:min(off+size, n)], Next: next})
					from = next
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkRawCopy is ApplyPage's baseline: the same rows in one COPY, into
// a table without indexes and into one shaped like responses.
func BenchmarkRawCopy(b *testing.B) {
	n := benchRows(b)
	recs := bulkRecords(n)
	for _, table := range []struct{ name, ddl string }{
		{"plain", `CREATE TABLE raw (provider text, provider_id text, survey text, text text,
			device text, location text, answers jsonb, created_at timestamptz)`},
		{"indexed", `CREATE TABLE raw (LIKE responses INCLUDING ALL)`},
	} {
		b.Run(fmt.Sprintf("%s/rows=%d", table.name, n), func(b *testing.B) {
			s := openStore(b)
			if _, err := s.db.ExecContext(b.Context(), table.ddl); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				truncate(b, s, "raw")
				b.StartTimer()
				if err := rawCopy(b, s, recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func rawCopy(tb testing.TB, s *Store, recs []aggregate.Record) error {
	tx, err := s.db.BeginTx(tb.Context(), nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(tb.Context(),
		"COPY raw (provider, provider_id, survey, text, device, location, answers, created_at) FROM STDIN")
	if err != nil {
		return err
	}
	for _, r := range recs {
		if _, err := stmt.ExecContext(tb.Context(), "blue", r.ProviderID, r.Survey, r.Text, r.Device, r.Location, answersArg(r.Answers), r.CreatedAt); err != nil {
			return err
		}
	}
	if _, err := stmt.ExecContext(tb.Context()); err != nil {
		return err
	}
	if err := stmt.Close(); err != nil {
		return err
	}
	return tx.Commit()
}

// BenchmarkQuery reads the dashboard's headline query, iOS users in Germany
// 50 at a time, from a seeded aggregate: the first page and one from the
// middle of the results.
func BenchmarkQuery(b *testing.B) {
	n := benchRows(b)
	s := openStore(b)
	seedBulk(b, s, n, 1000)
	f := aggregate.Filter{Device: "iOS", Location: "Germany"}

	var (
		mid   aggregate.Key
		count int
	)
	if err := s.db.QueryRowContext(b.Context(),
		"SELECT count(*) FROM responses WHERE device = $1 AND location = $2", f.Device, f.Location).Scan(&count); err != nil {
		b.Fatal(err)
	}
	if err := s.db.QueryRowContext(b.Context(), `SELECT created_at, provider, provider_id FROM responses
		WHERE device = $1 AND location = $2 `+readOrder+` OFFSET $3 LIMIT 1`, f.Device, f.Location, count/2,
	).Scan(&mid.CreatedAt, &mid.Provider, &mid.ProviderID); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		after *aggregate.Key
	}{
		{"first page", nil},
		{"middle page", &mid},
	} {
		b.Run(fmt.Sprintf("%s/rows=%d", bc.name, n), func(b *testing.B) {
			q := aggregate.Query{Filter: f, Limit: 50, After: bc.after}
			for b.Loop() {
				p, err := s.Query(b.Context(), q)
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Responses) != 50 {
					b.Fatalf("%d responses, want 50", len(p.Responses))
				}
			}
		})
	}
}
