package postgres

import (
	"context"
	"testing"
	"time"

	"xii/aggregator-svc/aggregate"
	"xii/testkit/pgtest"
)

// Open applies every embedded migration, and opening again later changes
// nothing. How Open creates and migrates a database, concurrently too, is
// tested in pgdb.
func TestOpenAppliesMigrations(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	s, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	apply(t, s, "blue", "", aggregate.Page{Records: records(0, 3), Next: "c1"})
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
