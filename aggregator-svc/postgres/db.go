package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/XSAM/otelsql"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// openDB returns a traced pool for pqcfg. It does not connect.
func openDB(pqcfg pq.Config, cfg config) *sql.DB {
	// NewConnectorConfig never fails; the error is only in its signature.
	connector, _ := pq.NewConnectorConfig(pqcfg)
	db := otelsql.OpenDB(connector, otelOptions(pqcfg, cfg)...)
	db.SetMaxOpenConns(cfg.maxOpenConns)
	db.SetMaxIdleConns(cfg.maxIdleConns)
	db.SetConnMaxLifetime(cfg.connMaxLifetime)
	db.SetConnMaxIdleTime(cfg.connMaxIdleTime)
	return db
}

// otelOptions makes client spans named after the statement's kind (SELECT,
// INSERT, ...) with the query text, which is safe to record because every
// value is a parameter; parameters themselves are never recorded. Pings,
// session resets and the per-row calls of a COPY are not traced: a COPY is
// one span for its setup and one for its final flush.
func otelOptions(pqcfg pq.Config, cfg config) []otelsql.Option {
	opts := []otelsql.Option{
		otelsql.WithAttributes(
			semconv.DBSystemNamePostgreSQL,
			semconv.DBNamespace(pqcfg.Database),
			semconv.ServerAddress(pqcfg.Host),
			semconv.ServerPort(int(pqcfg.Port)),
		),
		otelsql.WithSpanNameFormatter(func(_ context.Context, method otelsql.Method, query string) string {
			if kind := statementKind(query); kind != "" {
				return kind
			}
			return string(method)
		}),
		otelsql.WithAttributesGetter(func(_ context.Context, _ otelsql.Method, query string, _ []driver.NamedValue) []attribute.KeyValue {
			if kind := statementKind(query); kind != "" {
				return []attribute.KeyValue{semconv.DBOperationName(kind)}
			}
			return nil
		}),
		otelsql.WithSpanOptions(otelsql.SpanOptions{
			OmitConnResetSession: true,
			DisableErrSkip:       true,
			SpanFilter: func(_ context.Context, method otelsql.Method, query string, args []driver.NamedValue) bool {
				return !(method == otelsql.MethodStmtExec && len(args) > 0 && statementKind(query) == "COPY")
			},
		}),
	}
	if cfg.tracerProvider != nil {
		opts = append(opts, otelsql.WithTracerProvider(cfg.tracerProvider))
	}
	if cfg.meterProvider != nil {
		opts = append(opts, otelsql.WithMeterProvider(cfg.meterProvider))
	}
	return opts
}

// statementKind returns the first keyword of query in upper case, or "".
func statementKind(query string) string {
	query = strings.TrimLeft(query, " \t\r\n")
	end := strings.IndexFunc(query, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
	})
	if end < 0 {
		end = len(query)
	}
	return strings.ToUpper(query[:end])
}

// createDatabase creates pqcfg's database, connecting to the server's
// "postgres" database to do so. Losing the race to another replica that
// creates it at the same time is success.
func createDatabase(ctx context.Context, pqcfg pq.Config, cfg config) error {
	name := pqcfg.Database
	if name == "" {
		return fmt.Errorf("create database: no database name in the dsn")
	}
	admincfg := pqcfg.Clone()
	admincfg.Database = "postgres"
	admin := openDB(admincfg, cfg)
	defer admin.Close()

	// CREATE DATABASE takes no parameters; the name is quoted instead.
	_, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	switch {
	case err == nil:
		return nil
	case pq.As(err, pqerror.DuplicateDatabase) != nil:
		return nil
	case pq.As(err, pqerror.UniqueViolation) != nil:
		// Two CREATE DATABASE of the same name at once: the loser may trip
		// over the catalog's unique index instead of the friendly check.
		return nil
	}
	return fmt.Errorf("create database %s: %w", pq.QuoteIdentifier(name), err)
}
