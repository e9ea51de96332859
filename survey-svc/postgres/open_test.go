package postgres

import (
	"database/sql"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/lib/pq"

	"xii/libs/pgtest"
)

// missingDatabase returns the URL of a database that does not exist yet and
// drops it, if anything created it, when tb ends.
func missingDatabase(tb testing.TB) (url, name string) {
	tb.Helper()
	admin := pgtest.Require(tb)
	name = pgtest.RandomName("xii_test_")
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	return pgtest.WithDatabase(tb, pgtest.ServerURL(), name), name
}

// appliedMigrations lists schema_migrations of the database at url.
func appliedMigrations(tb testing.TB, url string) []string {
	tb.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(tb.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		tb.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			tb.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestOpenCreatesAndMigratesOnce(t *testing.T) {
	url, _ := missingDatabase(t)
	want := []string{"0001_responses"}

	for i := range 2 { // the second Open finds everything in place
		s, err := Open(t.Context(), url)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("ping #%d: %v", i+1, err)
		}
		if _, err := s.Create(t.Context(), response(i)); err != nil {
			t.Errorf("create after open #%d: %v", i+1, err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("close #%d: %v", i+1, err)
		}
		if got := appliedMigrations(t, url); !slices.Equal(got, want) {
			t.Errorf("after open #%d: schema_migrations = %q, want %q", i+1, got, want)
		}
	}
}

func TestOpenConcurrently(t *testing.T) {
	url, _ := missingDatabase(t)
	const instances = 8

	start := make(chan struct{})
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() {
			<-start
			s, err := Open(t.Context(), url, WithMaxOpenConns(2))
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = s.Close()
		})
	}
	close(start)
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	if got, want := appliedMigrations(t, url), []string{"0001_responses"}; !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %q, want %q", got, want)
	}
}

func TestOpenErrorsHidePassword(t *testing.T) {
	pgtest.Require(t).Close() // the unreachable case must fail for the right reason
	const secret = "s3cr3t-pw"
	for _, tc := range []struct{ name, dsn string }{
		{"unreachable url", "postgres://postgres:" + secret + "@127.0.0.1:1/xii?sslmode=disable&connect_timeout=5"},
		{"unreachable key-value", "host=127.0.0.1 port=1 user=postgres password=" + secret + " dbname=xii sslmode=disable connect_timeout=5"},
		{"malformed url", "postgres://postgres:" + secret + "@127.0.0.1:port/xii"},
		{"malformed key-value", "host=127.0.0.1 password='" + secret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(t.Context(), tc.dsn)
			if err == nil {
				s.Close()
				t.Fatal("open succeeded")
			}
			t.Logf("error: %v", err)
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}

func TestMigrateStepIsAtomic(t *testing.T) {
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

func TestStatementKind(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{insertResponse, "INSERT"},
		{"\n\tselect 1", "SELECT"},
		{"CREATE DATABASE x", "CREATE"},
		{"", ""},
	} {
		if got := statementKind(tc.query); got != tc.want {
			t.Errorf("statementKind(%q) = %q, want %q", tc.query, got, tc.want)
		}
	}
}
