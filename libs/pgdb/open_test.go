package pgdb

import (
	"context"
	"database/sql"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lib/pq"
	"go.uber.org/goleak"

	"xii/testkit/pgtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// steps is a schema of two steps, neither of which can be applied twice.
var steps = fstest.MapFS{
	"migrations/0001_a.sql": {Data: []byte("CREATE TABLE a (x int);")},
	"migrations/0002_b.sql": {Data: []byte("CREATE TABLE b (s text, n int);")},
	"migrations/notes.txt":  {Data: []byte("not a step")},
}

// open opens the database at url, migrated with fsys, and closes it when tb
// ends.
func open(tb testing.TB, url string, fsys fs.FS, opts ...Option) *sql.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	db, err := Open(ctx, url, fsys, opts...)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return db
}

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
	t.Parallel()
	url, _ := missingDatabase(t)
	want := []string{"0001_a", "0002_b"}

	for i := range 2 { // the second Open finds everything in place
		db, err := Open(t.Context(), url, steps)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		if _, err := db.ExecContext(t.Context(), "INSERT INTO a (x) VALUES ($1)", i); err != nil {
			t.Errorf("insert after open #%d: %v", i+1, err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("close #%d: %v", i+1, err)
		}
		if got := appliedMigrations(t, url); !slices.Equal(got, want) {
			t.Errorf("after open #%d: schema_migrations = %q, want %q", i+1, got, want)
		}
	}
}

// Instances starting together on a missing database create it once and
// apply each step once.
func TestOpenConcurrently(t *testing.T) {
	t.Parallel()
	url, _ := missingDatabase(t)
	const instances = 8

	start := make(chan struct{})
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() {
			<-start
			db, err := Open(t.Context(), url, steps, WithMaxOpenConns(2))
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = db.Close()
		})
	}
	close(start)
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	if got, want := appliedMigrations(t, url), []string{"0001_a", "0002_b"}; !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %q, want %q", got, want)
	}
}

func TestOpenRefusesNonUTF8(t *testing.T) {
	t.Parallel()
	url, name := missingDatabase(t)
	admin := pgtest.Require(t)
	defer admin.Close()
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+pq.QuoteIdentifier(name)+
		" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"); err != nil {
		t.Fatal(err)
	}

	db, err := Open(t.Context(), url, steps)
	if err == nil {
		db.Close()
		t.Fatal("open succeeded")
	}
	if !strings.Contains(err.Error(), "want UTF8") {
		t.Errorf("error %q does not say why", err)
	}
}

func TestOpenErrorsHidePassword(t *testing.T) {
	t.Parallel()
	pgtest.Require(t).Close() // the unreachable cases must fail for the right reason
	const secret = "s3cr3t-pw"
	for _, tc := range []struct{ name, dsn string }{
		{"unreachable url", "postgres://postgres:" + secret + "@127.0.0.1:1/xii?sslmode=disable&connect_timeout=5"},
		{"unreachable key-value", "host=127.0.0.1 port=1 user=postgres password=" + secret + " dbname=xii sslmode=disable connect_timeout=5"},
		{"malformed url", "postgres://postgres:" + secret + "@127.0.0.1:port/xii"},
		{"malformed key-value", "host=127.0.0.1 password='" + secret},
		{"bad option", "postgres://postgres:" + secret + "@127.0.0.1/xii?sslmode=sometimes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			db, err := Open(ctx, tc.dsn, steps)
			if err == nil {
				db.Close()
				t.Fatal("open succeeded")
			}
			t.Logf("error: %v", err)
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}
