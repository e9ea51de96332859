package pgdb

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"xii/testkit/pgtest"
)

// TestSpans checks that database spans are named by statement kind, carry
// the query text and the database, and never a value or the password; and
// that neither pings nor a COPY's rows are spans.
func TestSpans(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	const password = "span-pw-1d0b" // ignored by a trust-auth server, but in the DSN
	u.User = url.UserPassword(u.User.Username(), password)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(t.Context())
	db := open(t, u.String(), steps, WithTracerProvider(tp))

	const (
		text   = "span-text-77aa"
		number = 917263548
		rows   = 50
	)
	ctx, parent := tp.Tracer("test").Start(t.Context(), "request")
	if _, err := db.ExecContext(ctx, "INSERT INTO b (s, n) VALUES ($1, $2)", text, number); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT n FROM b WHERE s = $1", text).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, "COPY b (s, n) FROM STDIN")
	if err != nil {
		t.Fatal(err)
	}
	for range rows {
		if _, err := stmt.ExecContext(ctx, text, number); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil { // the flush
		t.Fatal(err)
	}
	if err := stmt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	parent.End()

	secrets := []string{password, text, strconv.Itoa(number)}
	var names []string
	for _, span := range rec.Ended() {
		if span.Parent().SpanID() != parent.SpanContext().SpanID() || span.SpanKind() != trace.SpanKindClient {
			continue
		}
		names = append(names, span.Name())
		attrs := map[string]string{}
		for _, kv := range span.Attributes() {
			attrs[string(kv.Key)] = kv.Value.String()
			for _, secret := range secrets {
				if strings.Contains(kv.Value.String(), secret) {
					t.Errorf("span %s attribute %s reveals %q", span.Name(), kv.Key, secret)
				}
			}
		}
		if attrs["db.system.name"] != "postgresql" || attrs["db.namespace"] != strings.TrimPrefix(u.Path, "/") {
			t.Errorf("span %s: db.system.name %q, db.namespace %q", span.Name(), attrs["db.system.name"], attrs["db.namespace"])
		}
		if kind := span.Name(); (kind == "INSERT" || kind == "SELECT") &&
			(attrs["db.operation.name"] != kind || !strings.Contains(attrs["db.query.text"], "$1")) {
			t.Errorf("span %s: db.operation.name %q, db.query.text %q", kind, attrs["db.operation.name"], attrs["db.query.text"])
		}
	}
	t.Logf("spans: %q", names)
	for _, want := range []string{"INSERT", "SELECT", "COPY"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s span under the request; spans: %q", want, names)
		}
	}
	if copies := countOf(names, "COPY"); copies > 2 {
		t.Errorf("%d COPY spans for %d rows, want one for the setup and one for the flush", copies, rows)
	}
	if slices.Contains(names, "sql.conn.ping") {
		t.Errorf("a ping is a span; spans: %q", names)
	}
}

func countOf(names []string, name string) int {
	n := 0
	for _, s := range names {
		if s == name {
			n++
		}
	}
	return n
}

// The pool's gauges are reported while it is open, and no longer once it is
// closed.
func TestPoolMetrics(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(t.Context())
	db, err := Open(t.Context(), pgtest.NewDatabase(t), steps, WithMeterProvider(mp), WithMaxOpenConns(3))
	if err != nil {
		t.Fatal(err)
	}
	maxOpen := func() (int64, bool) {
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(t.Context(), &rm); err != nil {
			t.Fatalf("collect: %v", err)
		}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if g, ok := m.Data.(metricdata.Gauge[int64]); ok && m.Name == "db.sql.connection.max_open" && len(g.DataPoints) > 0 {
					return g.DataPoints[0].Value, true
				}
			}
		}
		return 0, false
	}

	if got, ok := maxOpen(); !ok || got != 3 {
		t.Errorf("open pool: db.sql.connection.max_open = %d (reported: %t), want 3", got, ok)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if got, ok := maxOpen(); ok {
		t.Errorf("closed pool: db.sql.connection.max_open still reported (%d)", got)
	}
}

func TestStatementKind(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"INSERT INTO a (x) VALUES ($1)", "INSERT"},
		{"\n\tselect 1", "SELECT"},
		{"CREATE DATABASE x", "CREATE"},
		{"COPY b (s, n) FROM STDIN", "COPY"},
		{"WITH x AS (SELECT 1) SELECT * FROM x", "WITH"},
		{"", ""},
	} {
		if got := statementKind(tc.query); got != tc.want {
			t.Errorf("statementKind(%q) = %q, want %q", tc.query, got, tc.want)
		}
	}
}
