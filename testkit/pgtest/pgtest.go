// Package pgtest gives each test its own PostgreSQL database on the real
// server, dropped when the test ends.
//
// The server is XII_TEST_POSTGRES_URL, or the local one with trust auth.
// When it is unreachable the test is skipped with a hint, except under CI
// (CI=true), where a missing dependency fails the run.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/lib/pq"
)

// DefaultURL is used when XII_TEST_POSTGRES_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the admin URL of the test server.
func ServerURL() string {
	if u := os.Getenv("XII_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Require skips (or, under CI, fails) tb when the server is unreachable,
// and returns an open admin connection otherwise.
func Require(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("postgres", ServerURL())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		Unavailable(tb, "PostgreSQL", "start it or set XII_TEST_POSTGRES_URL", err)
	}
	return db
}

// Unavailable reports a missing test dependency: a failure under CI, a skip
// with a hint elsewhere.
func Unavailable(tb testing.TB, what, hint string, err error) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s unavailable (required when CI is set): %v", what, err)
	}
	tb.Skipf("%s unavailable (%s): %v", what, hint, err)
}

// NewDatabase creates an empty database with a random name and returns its
// URL. The database is dropped when tb ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	admin := Require(tb)
	name := RandomName("xii_test_")
	if _, err := admin.Exec("CREATE DATABASE " + pq.QuoteIdentifier(name)); err != nil {
		admin.Close()
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	return WithDatabase(tb, ServerURL(), name)
}

// WithDatabase returns serverURL pointing at database name instead.
func WithDatabase(tb testing.TB, serverURL, name string) string {
	tb.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		tb.Fatalf("parse postgres url: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// RandomName returns prefix followed by 12 random hex digits, a valid
// unquoted identifier when prefix is one.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + hex.EncodeToString(b)
}
