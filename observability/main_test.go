package observability

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newTestTelemetry returns a Telemetry whose spans end up in the returned
// recorder, without touching the OTel globals.
func newTestTelemetry(tb testing.TB) (*Telemetry, *tracetest.SpanRecorder) {
	tb.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	mp, reg, err := newMeterProvider(resource.Empty())
	if err != nil {
		tb.Fatalf("new meter provider: %v", err)
	}
	tel := newTelemetry(tp, mp, reg)
	tb.Cleanup(func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
	})
	return tel, rec
}

// spanNamed returns the one ended span called name.
func spanNamed(tb testing.TB, rec *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	tb.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("want 1 ended span %q, got %d (all: %v)", name, len(found), spanNames(rec.Ended()))
	}
	return found[0]
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	names := make([]string, 0, len(spans))
	for _, s := range spans {
		names = append(names, s.Name())
	}
	return names
}
