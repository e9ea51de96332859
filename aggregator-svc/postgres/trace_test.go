package postgres

import (
	"strconv"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"xii/aggregator-svc/aggregate"
)

// A page apply is one span with the database's spans under it; no span
// carries a value, and a COPY is not a span per row.
func TestTracing(t *testing.T) {
	t.Parallel()
	const secret = "value-that-must-not-be-traced"
	for _, path := range paths {
		t.Run(path.name, func(t *testing.T) {
			t.Parallel()
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			defer tp.Shutdown(t.Context())
			s := openStore(t, WithTracerProvider(tp))

			recs := records(0, path.size)
			for i := range recs {
				recs[i].Text = secret
				recs[i].Location = secret
			}
			apply(t, s, "blue", "", aggregate.Page{Records: recs, Next: secret})
			if _, err := s.Query(t.Context(), aggregate.Query{Filter: aggregate.Filter{Location: secret}, Limit: 5}); err != nil {
				t.Fatal(err)
			}

			var (
				applySpan sdktrace.ReadOnlySpan
				children  int
				names     []string
			)
			for _, sp := range rec.Ended() {
				names = append(names, sp.Name())
				if sp.Name() == "apply page" {
					applySpan = sp
				}
				for _, a := range sp.Attributes() {
					if strings.Contains(a.Value.String(), secret) {
						t.Errorf("span %s records a value: %s=%s", sp.Name(), a.Key, a.Value.String())
					}
				}
			}
			if applySpan == nil {
				t.Fatalf("no apply page span among %v", names)
			}
			for _, sp := range rec.Ended() {
				if sp.Parent().SpanID() == applySpan.SpanContext().SpanID() {
					children++
				}
			}
			if children < 5 || children > 20 {
				t.Errorf("apply page has %d child spans, want one per statement (%v)", children, names)
			}
			attrs := map[string]string{}
			for _, a := range applySpan.Attributes() {
				attrs[string(a.Key)] = a.Value.String()
			}
			if attrs["xii.provider"] != "blue" || attrs["xii.apply.inserted"] != strconv.Itoa(path.size) {
				t.Errorf("apply page attributes %v", attrs)
			}
		})
	}
}
