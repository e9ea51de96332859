// Package pgdb opens the PostgreSQL pool behind a store: lib/pq traced with
// otelsql, the database created when it is missing, checked to be UTF8 and
// migrated from the store's embedded SQL files.
//
// Stores keep their schema and queries; pgdb owns how a database is reached
// and brought up to date, so every service does it the same way. Errors never
// contain the DSN's password, and spans never contain a parameter's value.
//
// # Migrations
//
// Each migrations/*.sql file is one step, applied in name order in its own
// transaction and recorded by name, without ".sql", in the table
// schema_migrations. A failed step leaves nothing behind. Instances that
// start together take turns under an advisory lock, so each step is applied
// exactly once. An applied file must never change; add a new one instead.
package pgdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

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

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string), creating it on the same server when it does not exist,
// checks that it is UTF8, and applies the steps migrations/*.sql of
// migrations that it has not applied yet (see the package doc). Concurrent
// Opens of the same database are safe.
//
// Closing the returned pool also unregisters its metrics. Errors never
// contain the DSN's password.
func Open(ctx context.Context, dsn string, migrations fs.FS, opts ...Option) (*sql.DB, error) {
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
	// A statement with parameters goes in one round trip (parse, bind and
	// execute sent at once) instead of two (prepare, then execute). The
	// price: a []byte parameter is sent in binary form, so stores pass JSON
	// for jsonb columns as text.
	pqcfg.BinaryParameters = true

	db, c := openDB(pqcfg, cfg)
	fail := func(err error) (*sql.DB, error) {
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

	// Pool gauges are read on collection, so registering them costs nothing
	// per query. Failing to register loses metrics, not service. Closing db
	// unregisters them (see connector).
	if reg, err := otelsql.RegisterDBStatsMetrics(db, otelOptions(pqcfg, cfg)...); err == nil {
		c.metrics = reg
	}
	return db, nil
}

// createDatabase creates pqcfg's database, connecting to the server's
// "postgres" database to do so. Losing the race to another instance that
// creates it at the same time is success.
func createDatabase(ctx context.Context, pqcfg pq.Config, cfg config) error {
	name := pqcfg.Database
	if name == "" {
		return fmt.Errorf("create database: no database name in the dsn")
	}
	admincfg := pqcfg.Clone()
	admincfg.Database = "postgres"
	admin, _ := openDB(admincfg, cfg)
	defer admin.Close()

	// CREATE DATABASE takes no parameters; the name is quoted instead.
	_, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	switch {
	case err == nil:
		return nil
	case pq.As(err, pqerror.DuplicateDatabase) != nil:
		return nil
	}
	if e := pq.As(err, pqerror.UniqueViolation); e != nil && e.Constraint == "pg_database_datname_index" {
		// Concurrent CREATE DATABASE of one name: the losers pass the
		// friendly 42P04 check and trip over the catalog's unique index.
		return nil
	}
	return fmt.Errorf("create database %s: %w", pq.QuoteIdentifier(name), err)
}

// checkEncoding refuses a database whose text cannot hold every valid UTF-8
// string.
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
