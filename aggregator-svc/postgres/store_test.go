package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"xii/aggregator-svc/provider"
	"xii/libs/pgtest"
)

// missingDatabase returns the URL of a database that does not exist yet and
// drops it when tb ends.
func missingDatabase(tb testing.TB) string {
	tb.Helper()
	admin := pgtest.Require(tb)
	name := pgtest.RandomName("xii_test_")
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	return pgtest.WithDatabase(tb, pgtest.ServerURL(), name)
}

// Replicas starting together on a missing database create it once and
// migrate it once; opening again later changes nothing.
func TestOpenCreatesAndMigrates(t *testing.T) {
	t.Parallel()
	url := missingDatabase(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	const replicas = 4
	stores := make([]*Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: open: %v", i, err)
		}
		defer stores[i].Close()
	}

	s := stores[0]
	apply(t, s, "blue", "", provider.Page{Records: records(0, 3), Next: "c1"})
	again, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("open again: %v", err)
	}
	defer again.Close()
	if n := countRows(t, again, "blue"); n != 3 {
		t.Errorf("%d rows after reopening, want 3", n)
	}

	var versions []string
	rows, err := s.db.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(entries) {
		t.Errorf("schema_migrations = %v, want one row per file of %d", versions, len(entries))
	}
}

func TestOpenErrorsHidePassword(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-Pa55"
	tests := []struct{ name, dsn string }{
		{"unparsable url", "postgres://xii:" + secret + "@127.0.0.1:notaport/xii"},
		{"unreachable server", "postgres://xii:" + secret + "@127.0.0.1:1/xii?sslmode=disable&connect_timeout=2"},
		{"key value form", "host=127.0.0.1 port=1 user=xii password=" + secret + " dbname=xii sslmode=disable connect_timeout=2"},
		{"bad option", "postgres://xii:" + secret + "@127.0.0.1/xii?sslmode=sometimes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s, err := Open(ctx, tt.dsn)
			if err == nil {
				s.Close()
				t.Fatal("open succeeded")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}
