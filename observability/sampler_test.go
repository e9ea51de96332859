package observability

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestPublicEdgeSampling: at a public edge the service's sampler decides,
// whatever flag the client's traceparent carries; the trace id stays the
// client's. Behind the edge, a service follows its caller's decision.
func TestPublicEdgeSampling(t *testing.T) {
	const clientTrace = "0af7651916cd43dd8448eb211c80319c"
	tests := []struct {
		name    string
		sampler string
		flags   string
		public  bool
		want    bool
	}{
		{name: "client forces sampling at 0 %", sampler: "parentbased_traceidratio", flags: "01", public: true, want: false},
		{name: "client forces no sampling at 100 %", sampler: "parentbased_always_on", flags: "00", public: true, want: true},
		{name: "internal hop follows its caller in", sampler: "parentbased_traceidratio", flags: "01", public: false, want: true},
		{name: "internal hop follows its caller out", sampler: "parentbased_always_on", flags: "00", public: false, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OTEL_TRACES_SAMPLER", tt.sampler)
			t.Setenv("OTEL_TRACES_SAMPLER_ARG", "0")
			sampler, err := samplerFromEnv()
			if err != nil {
				t.Fatal(err)
			}
			tel := newSampledTelemetry(t, sampler)
			var got trace.SpanContext
			mux := http.NewServeMux()
			mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
				got = trace.SpanContextFromContext(r.Context())
			})
			handler := tel.HTTPHandler(mux)
			if tt.public {
				handler = tel.PublicHandler(mux)
			}
			req := httptest.NewRequest("GET", "/items", nil)
			req.Header.Set("Traceparent", "00-"+clientTrace+"-b7ad6b7169203331-"+tt.flags)
			handler.ServeHTTP(httptest.NewRecorder(), req)
			if got.IsSampled() != tt.want {
				t.Errorf("sampled %v, want %v", got.IsSampled(), tt.want)
			}
			if got.TraceID().String() != clientTrace {
				t.Errorf("trace %s, want the client's", got.TraceID())
			}
		})
	}
}

func TestSamplerFromEnvRejects(t *testing.T) {
	for _, env := range [][2]string{{"sometimes", ""}, {"traceidratio", "1.5"}, {"parentbased_traceidratio", "half"}} {
		t.Setenv("OTEL_TRACES_SAMPLER", env[0])
		t.Setenv("OTEL_TRACES_SAMPLER_ARG", env[1])
		if _, err := samplerFromEnv(); err == nil {
			t.Errorf("OTEL_TRACES_SAMPLER=%s ARG=%s accepted", env[0], env[1])
		}
	}
}

func newSampledTelemetry(tb testing.TB, sampler sdktrace.Sampler) *Telemetry {
	tb.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler))
	mp, reg, err := newMeterProvider(resource.Empty())
	if err != nil {
		tb.Fatalf("new meter provider: %v", err)
	}
	tel := newTelemetry(tp, mp, reg)
	tb.Cleanup(func() { _ = tel.Shutdown(tb.Context()) })
	return tel
}
