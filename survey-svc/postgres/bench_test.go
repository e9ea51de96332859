package postgres

import (
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"xii/survey-svc/survey"
	"xii/testkit/pgtest"
)

// benchRows is the table size for export benchmarks: XII_BENCH_ROWS, or
// 100000.
func benchRows(b *testing.B) int {
	b.Helper()
	v := os.Getenv("XII_BENCH_ROWS")
	if v == "" {
		return 100000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1000 {
		b.Fatalf("XII_BENCH_ROWS=%q: want a whole number of at least 1000", v)
	}
	return n
}

// BenchmarkExport measures the latency of one export page at the start and
// at the end of a large table, without a filter, with a common one and with
// a rare one.
func BenchmarkExport(b *testing.B) {
	n := benchRows(b)
	s := openStore(b)
	start := time.Now()
	seed(b, s.db, n, 4, 400)
	b.Logf("seeded %d rows in %v", n, time.Since(start).Round(time.Millisecond))

	const limit = survey.DefaultExportLimit
	for _, f := range []struct {
		name   string
		filter survey.Filter
	}{
		{"all", survey.Filter{}},
		{"device=quarter", survey.Filter{Device: "d1"}},
		{"device+location=rare", survey.Filter{Device: "d-rare", Location: "l-rare"}},
	} {
		for _, at := range []struct {
			name  string
			after survey.Cursor
		}{
			{"first", survey.Cursor{}},
			{"last", lastPage(b, s, f.filter, limit)},
		} {
			b.Run(f.name+"/"+at.name, func(b *testing.B) {
				q := survey.ExportQuery{After: at.after, Limit: limit, Filter: f.filter}
				for b.Loop() {
					p, err := s.Export(b.Context(), q)
					if err != nil {
						b.Fatal(err)
					}
					if len(p.Responses) != limit {
						b.Fatalf("page of %d responses, want %d", len(p.Responses), limit)
					}
				}
			})
		}
	}
}

// lastPage returns the cursor after which exactly limit rows match f.
func lastPage(b *testing.B, s *Store, f survey.Filter, limit int) survey.Cursor {
	b.Helper()
	query := "SELECT xid::text AS x, id FROM responses WHERE true"
	args := []any{limit}
	for _, c := range []struct{ column, value string }{
		{"survey", f.Survey}, {"device", f.Device}, {"location", f.Location},
	} {
		if c.value != "" {
			args = append(args, c.value)
			query += fmt.Sprintf(" AND %s = $%d", c.column, len(args))
		}
	}
	query += " ORDER BY responses.xid DESC, id DESC OFFSET $1 LIMIT 1"
	var (
		xid string
		pos survey.Position
	)
	if err := s.db.QueryRowContext(b.Context(), query, args...).Scan(&xid, &pos.ID); err != nil {
		b.Fatalf("find the last page: %v", err)
	}
	var err error
	if pos.XID, err = strconv.ParseUint(xid, 10, 64); err != nil {
		b.Fatal(err)
	}
	return survey.Cursor{Scan: pos, Stable: pos}
}

// BenchmarkCreate compares Store.Create with a bare INSERT through
// database/sql and lib/pq, one writer and many.
func BenchmarkCreate(b *testing.B) {
	url := pgtest.NewDatabase(b)
	s, err := Open(b.Context(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	plain, err := sql.Open("postgres", url)
	if err != nil {
		b.Fatal(err)
	}
	defer plain.Close()
	plain.SetMaxOpenConns(DefaultMaxOpenConns)
	plain.SetMaxIdleConns(DefaultMaxIdleConns)

	r := response(0)
	create := func(b *testing.B) error {
		_, err := s.Create(b.Context(), r)
		return err
	}
	insert := func(b *testing.B) error {
		_, err := plain.ExecContext(b.Context(),
			"INSERT INTO responses (survey, text, device, location) VALUES ($1, $2, $3, $4)",
			r.Survey, r.Text, r.Device, r.Location)
		return err
	}
	for _, bc := range []struct {
		name string
		op   func(*testing.B) error
	}{
		{"store", create},
		{"database-sql", insert},
	} {
		b.Run(bc.name+"/serial", func(b *testing.B) {
			for b.Loop() {
				if err := bc.op(b); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.SetParallelism(8) // writers per CPU, bounded by the pool
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := bc.op(b); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
