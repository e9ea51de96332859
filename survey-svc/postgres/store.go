// Package postgres stores survey responses in PostgreSQL through lib/pq.
//
// Store implements survey.Repository. Open creates the database when it is
// missing and applies the embedded migrations, so a fresh server needs no
// setup. Export implements the late-commit-safe cursor described on
// survey.Cursor: every row records its inserting transaction's id (xid8) and
// each page reads the horizon from the same snapshot as its rows.
//
// All SQL is parameterised, so the query text the tracing records never
// contains a value.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"xii/libs/pgdb"
	"xii/survey-svc/survey"
)

var _ survey.Repository = (*Store)(nil)

// migrations holds the schema, one file per step, applied in name order by
// pgdb.Open. Applied files must never change; add a new one instead.
//
//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL survey.Repository. It is safe for concurrent use.
type Store struct {
	db *sql.DB

	mu      sync.Mutex
	pending []*pendingCreate // Creates waiting for a statement, in arrival order
	inserts int              // statements running, at most maxInserts
}

// Pool defaults; see pgdb.
const (
	DefaultMaxOpenConns    = pgdb.DefaultMaxOpenConns
	DefaultMaxIdleConns    = pgdb.DefaultMaxIdleConns
	DefaultConnMaxLifetime = pgdb.DefaultConnMaxLifetime
	DefaultConnMaxIdleTime = pgdb.DefaultConnMaxIdleTime
)

// Option configures Open.
type Option = pgdb.Option

// WithMaxOpenConns limits the pool's open connections (default
// DefaultMaxOpenConns). n <= 0 means unlimited.
func WithMaxOpenConns(n int) Option { return pgdb.WithMaxOpenConns(n) }

// WithMaxIdleConns limits the pool's idle connections (default
// DefaultMaxIdleConns).
func WithMaxIdleConns(n int) Option { return pgdb.WithMaxIdleConns(n) }

// WithConnMaxLifetime closes connections older than d (default
// DefaultConnMaxLifetime). d <= 0 keeps them forever.
func WithConnMaxLifetime(d time.Duration) Option { return pgdb.WithConnMaxLifetime(d) }

// WithConnMaxIdleTime closes connections idle for longer than d (default
// DefaultConnMaxIdleTime). d <= 0 keeps them forever.
func WithConnMaxIdleTime(d time.Duration) Option { return pgdb.WithConnMaxIdleTime(d) }

// WithTracerProvider sets where database spans go (default: the global
// provider).
func WithTracerProvider(tp trace.TracerProvider) Option { return pgdb.WithTracerProvider(tp) }

// WithMeterProvider sets where pool and query metrics go (default: the global
// provider).
func WithMeterProvider(mp metric.MeterProvider) Option { return pgdb.WithMeterProvider(mp) }

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string), creating it on the same server when it does not exist,
// and migrates it. Concurrent Opens of the same database are safe.
//
// Errors never contain the DSN's password.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	db, err := pgdb.Open(ctx, dsn, migrations, opts...)
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the pool. Queries in flight finish first.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close postgres: %w", err)
	}
	return nil
}

// Ping reports whether the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}
