package postgres

import (
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
)

// Open applies every embedded migration, and the store works on the
// result. How Open creates and migrates a database is tested in pgdb.
func TestOpenAppliesMigrations(t *testing.T) {
	s := openStore(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("ping: %v", err)
	}
	if _, err := s.Create(t.Context(), response(0)); err != nil {
		t.Errorf("create: %v", err)
	}

	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		want = append(want, strings.TrimSuffix(path.Base(f), ".sql"))
	}
	rows, err := s.db.QueryContext(t.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %q, want %q", got, want)
	}
}
