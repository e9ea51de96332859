package provider

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestAlchemerSecretsStayOut: the token and its secret travel in the query
// string, yet no span (otelhttp's client spans included), log line, metric
// or error shows either, whatever the answer: a page, a warning, a 401
// that quotes the token, a result_ok:false, a 429, a provider gone.
func TestAlchemerSecretsStayOut(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	fx := newAlchemerFixture(t, Options{Logger: logger, MeterProvider: mp, HTTPClient: &http.Client{}})
	// As the aggregator wires it: tracing above, credentials below.
	fx.src.http.client.Transport = otelhttp.NewTransport(QueryAuthTransport(fx.srv.Client().Transport),
		otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp))
	fx.fake.header.Set("X-SG-Warning", "You are reaching your API request rate limit and may be throttled or blocked if you continue to make excessive requests.")
	fx.fake.header.Set("X-SG-Cached", "true")
	fx.fake.add(3)
	fx.fake.advance(time.Second)

	var errs []string
	fetch := func() {
		fx.fake.advance(61 * time.Second)
		if _, err := fetchWithin(fx.src, 5*time.Second, Request{Rescan: true, Limit: 50}); err != nil {
			errs = append(errs, err.Error())
		}
	}
	fetch() // a page, with a warning and from the cache
	fetch()
	fx.fake.token = "another" // the fake now refuses, quoting the token it got
	fetch()
	fx.fake.token = testToken
	inner := fx.srv.Config.Handler
	fx.srv.Config.Handler = canned(200, nil, `{"result_ok":false,"message":"Bad request for `+testToken+` / `+testSecret+`"}`)
	fetch()
	fx.srv.Config.Handler = canned(429, map[string]string{"Retry-After": "600"}, `{"result_ok":false,"message":"Please wait for other requests to complete."}`)
	fetch()
	fx.src.blockedUntil = time.Time{}
	fx.srv.Config.Handler = inner
	fx.srv.Close() // gone: the client's error names the URL
	fetch()
	if len(errs) != 4 {
		t.Fatalf("errors = %q, want 4", errs)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	var all strings.Builder
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			fmt.Fprintf(&all, "%s %+v\n", m.Name, m.Data)
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range sum.DataPoints {
					got[m.Name] += dp.Value
				}
			}
		}
	}
	if got["xii.provider.rate_warnings"] < 2 || got["xii.provider.cached_answers"] < 2 {
		t.Errorf("counted %v, want at least 2 rate warnings and 2 cached answers", got)
	}
	if n := strings.Count(logs.String(), "provider rate limit near"); n != 1 {
		t.Errorf("%d warning lines for the warned answers, want 1 (throttled):\n%s", n, logs.String())
	}

	var text strings.Builder
	for _, e := range errs {
		text.WriteString(e + "\n")
	}
	text.WriteString(logs.String())
	text.WriteString(all.String())
	ended := spans.GetSpans()
	if len(ended) < 5 {
		t.Errorf("%d client spans, want one per request", len(ended))
	}
	for _, s := range ended {
		fmt.Fprintf(&text, "%s %v %v %v\n", s.Name, s.Attributes, s.Events, s.Status)
	}
	checkNoAlchemerSecrets(t, text.String())
	if !strings.Contains(text.String(), "/v5/survey/123456/surveyresponse") {
		t.Errorf("the spans do not show the request's URL, so the check proves nothing:\n%s", text.String())
	}
}
