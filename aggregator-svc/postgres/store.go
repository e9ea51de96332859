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
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"xii/aggregator-svc/aggregate"
	"xii/libs/pgdb"
)

var _ aggregate.Reader = (*Store)(nil)

// migrations holds the schema, one file per step, applied in name order by
// pgdb.Open. Applied files must never change; add a new one instead.
//
//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL aggregate. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	tracer trace.Tracer
	hooks  Hooks
	// copyPages stores large pages by COPY into a staging table and a
	// merge, as before unnest, and upsertPages upserts them without trying
	// a plain INSERT first; kept to measure the paths against each other.
	copyPages, upsertPages bool
	// mixed holds the providers whose last large page held records
	// already stored (see insertOrUpsert).
	mixed sync.Map
}

// Hooks inject faults in tests. Nil fields do nothing.
type Hooks struct {
	// BeforeCommit runs inside ApplyPage's transaction after every write,
	// just before COMMIT. An error aborts the transaction and is returned.
	BeforeCommit func(ctx context.Context, provider string) error
}

// Pool defaults; see pgdb.
const (
	DefaultMaxOpenConns    = pgdb.DefaultMaxOpenConns
	DefaultMaxIdleConns    = pgdb.DefaultMaxIdleConns
	DefaultConnMaxLifetime = pgdb.DefaultConnMaxLifetime
	DefaultConnMaxIdleTime = pgdb.DefaultConnMaxIdleTime
)

type config struct {
	pool           []pgdb.Option
	tracerProvider trace.TracerProvider // nil: the global one
	hooks          Hooks
}

// Option configures Open.
type Option func(*config)

// poolOption makes o an Option.
func poolOption(o pgdb.Option) Option {
	return func(c *config) { c.pool = append(c.pool, o) }
}

// WithMaxOpenConns limits the pool's open connections (default
// DefaultMaxOpenConns). n <= 0 means unlimited.
func WithMaxOpenConns(n int) Option { return poolOption(pgdb.WithMaxOpenConns(n)) }

// WithMaxIdleConns limits the pool's idle connections (default
// DefaultMaxIdleConns).
func WithMaxIdleConns(n int) Option { return poolOption(pgdb.WithMaxIdleConns(n)) }

// WithConnMaxLifetime closes connections older than d (default
// DefaultConnMaxLifetime). d <= 0 keeps them forever.
func WithConnMaxLifetime(d time.Duration) Option { return poolOption(pgdb.WithConnMaxLifetime(d)) }

// WithConnMaxIdleTime closes connections idle for longer than d (default
// DefaultConnMaxIdleTime). d <= 0 keeps them forever.
func WithConnMaxIdleTime(d time.Duration) Option { return poolOption(pgdb.WithConnMaxIdleTime(d)) }

// WithTracerProvider sets where the store's and the database's spans go
// (default: the global provider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) {
		c.tracerProvider = tp
		c.pool = append(c.pool, pgdb.WithTracerProvider(tp))
	}
}

// WithMeterProvider sets where pool and query metrics go (default: the global
// provider).
func WithMeterProvider(mp metric.MeterProvider) Option { return poolOption(pgdb.WithMeterProvider(mp)) }

// WithHooks installs fault-injection hooks; see Hooks.
func WithHooks(h Hooks) Option { return func(c *config) { c.hooks = h } }

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string), creating it on the same server when it does not exist,
// and migrates it. Concurrent Opens of the same database are safe.
//
// Errors never contain the DSN's password.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	db, err := pgdb.Open(ctx, dsn, migrations, cfg.pool...)
	if err != nil {
		return nil, err
	}
	tp := cfg.tracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return &Store{db: db, tracer: tp.Tracer("xii/aggregator-svc/postgres"), hooks: cfg.hooks}, nil
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

// withCause is err with its cause made plain for the caller: ctx's error
// when ctx has ended and err does not say so (lib/pq reports a statement it
// cancelled because ctx ended as "canceling statement due to user
// request", and a deadline must be told from a failure: 504, not 500), or
// aggregate.ErrUnavailable when the database could not be reached or went
// away (a restart: 503, worth retrying, not 500).
func withCause(ctx context.Context, err error) error {
	switch cerr := ctx.Err(); {
	case err == nil:
		return nil
	case cerr != nil && !errors.Is(err, cerr):
		return fmt.Errorf("%w: %w", cerr, err)
	case cerr == nil && unreachable(err):
		return fmt.Errorf("%w: %w", aggregate.ErrUnavailable, err)
	}
	return err
}

// unreachable reports whether err says the database could not be reached
// or ended the session: no connection, a connection lost, the server
// shutting down or starting up.
func unreachable(err error) bool {
	if pqErr := pq.As(err); pqErr != nil {
		switch pqErr.Code {
		case pqerror.AdminShutdown, pqerror.CrashShutdown, pqerror.CannotConnectNow:
			return true
		}
		return pqErr.Code.Class() == "08" // connection exception
	}
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &netErr)
}
