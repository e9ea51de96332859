package postgres

import (
	"strconv"
	"strings"
	"testing"
	"time"

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

// Stats say in their span whether they read the rollup or the table, and
// why not the rollup.
func TestStatsSourceSpan(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(t.Context())
	s := openStore(t, WithTracerProvider(tp))
	apply(t, s, "blue", "", aggregate.Page{Records: records(0, 10), Next: "c1"})
	hour := t0.Truncate(time.Hour)
	for _, tt := range []struct {
		q           aggregate.StatsQuery
		source, why string
	}{
		{aggregate.StatsQuery{GroupBy: []string{"device"}}, "rollup", ""},
		{aggregate.StatsQuery{GroupBy: []string{"time", "provider"}, Interval: "1h", Filter: aggregate.Filter{Since: hour, Until: hour.Add(time.Hour), Device: "iOS"}}, "rollup", ""},
		{aggregate.StatsQuery{GroupBy: []string{"time"}, Interval: "1d"}, "rollup", ""},
		{aggregate.StatsQuery{Filter: aggregate.Filter{Since: hour.Add(time.Second)}}, "table", "since inside an hour"},
		{aggregate.StatsQuery{Filter: aggregate.Filter{Until: hour.Add(time.Minute)}}, "table", "until inside an hour"},
		{aggregate.StatsQuery{GroupBy: []string{"time"}, Interval: "1m"}, "table", "interval finer than an hour"},
	} {
		before := len(rec.Ended())
		if _, err := s.Stats(t.Context(), tt.q); err != nil {
			t.Fatal(err)
		}
		var attrs map[string]string
		for _, sp := range rec.Ended()[before:] {
			if sp.Name() == "stats" {
				attrs = map[string]string{}
				for _, a := range sp.Attributes() {
					attrs[string(a.Key)] = a.Value.Emit()
				}
			}
		}
		if attrs == nil || attrs["xii.stats.source"] != tt.source || attrs["xii.stats.table_because"] != tt.why {
			t.Errorf("%+v: stats span attributes %v, want source %q because %q", tt.q, attrs, tt.source, tt.why)
		}
	}
}
