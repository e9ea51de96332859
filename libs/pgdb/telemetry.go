package pgdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
	"strings"

	"github.com/XSAM/otelsql"
	"github.com/lib/pq"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// openDB returns a traced pool for pqcfg and its connector. It does not
// connect.
func openDB(pqcfg pq.Config, cfg config) (*sql.DB, *connector) {
	// NewConnectorConfig never fails; the error is only in its signature.
	pqconn, _ := pq.NewConnectorConfig(pqcfg)
	conn := &connector{Connector: pqconn}
	db := otelsql.OpenDB(conn, otelOptions(pqcfg, cfg)...)
	db.SetMaxOpenConns(cfg.maxOpenConns)
	db.SetMaxIdleConns(cfg.maxIdleConns)
	db.SetConnMaxLifetime(cfg.connMaxLifetime)
	db.SetConnMaxIdleTime(cfg.connMaxIdleTime)
	return db, conn
}

// connector is lib/pq's connector with the pool's metrics, so that closing
// the pool unregisters them: sql.DB.Close closes a connector that is an
// io.Closer, and otelsql's passes the call on.
type connector struct {
	driver.Connector
	metrics metric.Registration // nil when none are registered
}

var _ io.Closer = (*connector)(nil)

// Close unregisters the pool's metrics.
func (c *connector) Close() error {
	if c.metrics == nil {
		return nil
	}
	return c.metrics.Unregister()
}

// otelOptions makes client spans named after the statement's kind (SELECT,
// INSERT, ...) with the query text, which is safe to record because every
// value is a parameter; parameters themselves are never recorded. Pings
// (readiness probes), session resets, the iteration over a read's rows and
// the per-row calls of a COPY are not traced: a COPY is one span for its
// setup and one for its final flush.
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
			// A read is one span, the statement's until its first answer;
			// reading its rows is the caller's span's time. A span per
			// read's rows cost as much to export as the read itself.
			OmitRows:       true,
			DisableErrSkip: true,
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
