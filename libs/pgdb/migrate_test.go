package pgdb

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"xii/testkit/pgtest"
)

// A failed step leaves neither its changes nor a record behind, and the
// steps before it stay applied.
func TestMigrateStepIsAtomic(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	broken := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte("CREATE TABLE a (x int);")},
		"migrations/0002_b.sql": {Data: []byte("CREATE TABLE b (x int); SELECT no_such_column FROM a;")},
	}
	if err := migrate(t.Context(), db, broken); err == nil {
		t.Fatal("migrate with a broken step succeeded")
	} else if !strings.Contains(err.Error(), "0002_b") {
		t.Errorf("error %q does not name the failed step", err)
	}
	if got, want := appliedMigrations(t, url), []string{"0001_a"}; !slices.Equal(got, want) {
		t.Errorf("after failure: schema_migrations = %q, want %q", got, want)
	}
	var b sql.NullString
	if err := db.QueryRowContext(t.Context(), "SELECT to_regclass('b')::text").Scan(&b); err != nil {
		t.Fatal(err)
	}
	if b.Valid {
		t.Error("table b of the failed step exists")
	}

	fixed := fstest.MapFS{
		"migrations/0001_a.sql": broken["migrations/0001_a.sql"], // not run again: it would fail
		"migrations/0002_b.sql": {Data: []byte("CREATE TABLE b (x int);")},
	}
	if err := migrate(t.Context(), db, fixed); err != nil {
		t.Fatalf("migrate after the fix: %v", err)
	}
	if got, want := appliedMigrations(t, url), []string{"0001_a", "0002_b"}; !slices.Equal(got, want) {
		t.Errorf("after the fix: schema_migrations = %q, want %q", got, want)
	}
}
