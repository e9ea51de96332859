// Package postgres is the aggregate store: every provider's responses and
// each provider's export cursor, in PostgreSQL through lib/pq.
//
// # Exactly once
//
// A provider's responses are stored exactly once however a sync is
// interrupted, because ApplyPage writes a page's records and the provider's
// new cursor in one transaction, after locking the cursor row and checking
// that it still holds the cursor the page was fetched from:
//
//   - A crash, timeout or failed commit before COMMIT leaves rows and cursor
//     as they were; the next sync refetches the same page.
//   - If COMMIT succeeded but the caller never heard (the connection died),
//     retrying from the old cursor returns aggregate.ErrConflict, writes
//     nothing, and the caller rereads the cursor.
//   - Two replicas syncing the same provider serialise on the cursor row:
//     the first commits, the second finds the cursor moved and returns
//     aggregate.ErrConflict without writing. The cursor never moves
//     backwards or applies a page twice.
//   - Writes are idempotent upserts on (provider, provider_id), so a record
//     seen again (a provider that rescans, a page that overlaps the last)
//     stays one row, updated only when its content changed.
//
// Store implements aggregate.Reader. Open creates the database when it is
// missing and applies the embedded migrations. All SQL is parameterised, so
// the query text the tracing records never contains a value.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"xii/aggregator-svc/aggregate"
)

var _ aggregate.Reader = (*Store)(nil)

// Store is the PostgreSQL aggregate. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	tracer  trace.Tracer
	hooks   Hooks
	metrics metric.Registration // nil when no pool metrics are registered
}

// Hooks inject faults in tests. Nil fields do nothing.
type Hooks struct {
	// BeforeCommit runs inside ApplyPage's transaction after every write,
	// just before COMMIT. An error aborts the transaction and is returned.
	BeforeCommit func(ctx context.Context, provider string) error
}

// Pool defaults. Equal open and idle limits keep connections warm under load
// instead of churning them.
const (
	DefaultMaxOpenConns    = 20
	DefaultMaxIdleConns    = 20
	DefaultConnMaxLifetime = 30 * time.Minute
	DefaultConnMaxIdleTime = 5 * time.Minute
)

type config struct {
	maxOpenConns    int
	maxIdleConns    int
	connMaxLifetime time.Duration
	connMaxIdleTime time.Duration
	tracerProvider  trace.TracerProvider // nil: the global one
	meterProvider   metric.MeterProvider // nil: the global one
	hooks           Hooks
}

// Option configures Open.
type Option func(*config)

// WithMaxOpenConns limits the pool's open connections (default
// DefaultMaxOpenConns). n <= 0 means unlimited.
func WithMaxOpenConns(n int) Option { return func(c *config) { c.maxOpenConns = n } }

// WithMaxIdleConns limits the pool's idle connections (default
// DefaultMaxIdleConns).
func WithMaxIdleConns(n int) Option { return func(c *config) { c.maxIdleConns = n } }

// WithConnMaxLifetime closes connections older than d (default
// DefaultConnMaxLifetime). d <= 0 keeps them forever.
func WithConnMaxLifetime(d time.Duration) Option { return func(c *config) { c.connMaxLifetime = d } }

// WithConnMaxIdleTime closes connections idle for longer than d (default
// DefaultConnMaxIdleTime). d <= 0 keeps them forever.
func WithConnMaxIdleTime(d time.Duration) Option { return func(c *config) { c.connMaxIdleTime = d } }

// WithTracerProvider sets where database spans go (default: the global
// provider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracerProvider = tp }
}

// WithMeterProvider sets where pool and query metrics go (default: the global
// provider).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = mp }
}

// WithHooks installs fault-injection hooks; see Hooks.
func WithHooks(h Hooks) Option { return func(c *config) { c.hooks = h } }

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string), creating it on the same server when it does not exist,
// and migrates it. Concurrent Opens of the same database are safe.
//
// Errors never contain the DSN's password.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg := config{
		maxOpenConns:    DefaultMaxOpenConns,
		maxIdleConns:    DefaultMaxIdleConns,
		connMaxLifetime: DefaultConnMaxLifetime,
		connMaxIdleTime: DefaultConnMaxIdleTime,
	}
	for _, o := range opts {
		o(&cfg)
	}
	pqcfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: parse dsn: %w", redactURLError(err))
	}

	db := openDB(pqcfg, cfg)
	fail := func(err error) (*Store, error) {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		if pq.As(err, pqerror.InvalidCatalogName) == nil {
			return fail(err)
		}
		if err := createDatabase(ctx, pqcfg, cfg); err != nil {
			return fail(err)
		}
	}
	if err := checkEncoding(ctx, db); err != nil {
		return fail(err)
	}
	if err := migrate(ctx, db, migrations); err != nil {
		return fail(err)
	}

	tp := cfg.tracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	s := &Store{db: db, tracer: tp.Tracer("xii/aggregator-svc/postgres"), hooks: cfg.hooks}
	// Pool gauges are read on collection, so registering them costs nothing
	// per query. Failing to register loses metrics, not service.
	if reg, err := otelsql.RegisterDBStatsMetrics(db, otelOptions(pqcfg, cfg)...); err == nil {
		s.metrics = reg
	}
	return s, nil
}

// Close closes the pool. Queries in flight finish first.
func (s *Store) Close() error {
	var errs []error
	if s.metrics != nil {
		errs = append(errs, s.metrics.Unregister())
	}
	errs = append(errs, s.db.Close())
	if err := errors.Join(errs...); err != nil {
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

// checkEncoding refuses a database whose text cannot hold every valid UTF-8
// response.
func checkEncoding(ctx context.Context, db *sql.DB) error {
	var enc string
	if err := db.QueryRowContext(ctx, "SELECT current_setting('server_encoding')").Scan(&enc); err != nil {
		return fmt.Errorf("check encoding: %w", err)
	}
	if enc != "UTF8" {
		return fmt.Errorf("check encoding: database encoding is %s, want UTF8", enc)
	}
	return nil
}

// redactURLError drops the DSN that net/url quotes in its parse errors: it
// may contain a password.
func redactURLError(err error) error {
	if uerr, ok := errors.AsType[*url.Error](err); ok {
		return uerr.Err
	}
	return err
}
