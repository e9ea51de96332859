package postgres

import (
	"slices"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"xii/survey-svc/survey"
)

// TestSpans checks that Create and Export are traced through the given
// provider and that their queries never carry a value: all SQL is
// parameterised. Span names and attributes are tested in pgdb.
func TestSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(t.Context())
	s := openStore(t, WithTracerProvider(tp))

	ctx, parent := tp.Tracer("test").Start(t.Context(), "request")
	r := survey.NewResponse{Survey: "span-survey-5e1f", Text: "span-text-77aa", Device: "span-device-c3", Location: "span-loc-90"}
	if _, err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Export(ctx, survey.ExportQuery{Limit: 10, Filter: survey.Filter{Device: r.Device}}); err != nil {
		t.Fatal(err)
	}
	parent.End()

	secrets := []string{r.Survey, r.Text, r.Device, r.Location}
	var names []string
	for _, span := range rec.Ended() {
		if span.Parent().SpanID() != parent.SpanContext().SpanID() || span.SpanKind() != trace.SpanKindClient {
			continue
		}
		names = append(names, span.Name())
		for _, kv := range span.Attributes() {
			for _, secret := range secrets {
				if strings.Contains(kv.Value.String(), secret) {
					t.Errorf("span %s attribute %s reveals %q", span.Name(), kv.Key, secret)
				}
			}
		}
	}
	t.Logf("spans: %q", names)
	for _, want := range []string{"INSERT", "SELECT"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s span under the request; spans: %q", want, names)
		}
	}
}
