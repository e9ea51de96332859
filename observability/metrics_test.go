package observability

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// durationCount is otelhttp's request-duration histogram, whose count is the
// request rate of the RED metrics.
const durationCount = "http_server_request_duration_seconds"

func TestHTTPHandlerMetrics(t *testing.T) {
	tel, _ := newTestTelemetry(t)
	srv := startServer(t, tel, newTestMux(tel))
	for _, path := range []string{"/items/1", "/items/2", "/items/3", "/boom", "/no/such/route", "/healthz", "/readyz", "/metrics"} {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		do(t, srv.Client(), req)
	}
	post, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/items", nil)
	if err != nil {
		t.Fatal(err)
	}
	do(t, srv.Client(), post)

	text := scrape(t, tel)
	families := parseMetrics(t, text)
	hist, ok := families[durationCount]
	if !ok {
		t.Fatalf("no %s in scrape:\n%s", durationCount, text)
	}
	got := map[string]uint64{} // "method route code" -> requests
	for _, m := range hist.GetMetric() {
		l := labels(m)
		for _, banned := range []string{"server_address", "server_port", "url_path"} {
			if _, ok := l[banned]; ok {
				t.Errorf("series has unbounded label %s: %v", banned, l)
			}
		}
		got[l["http_request_method"]+" "+l["http_route"]+" "+l["http_response_status_code"]] += m.GetHistogram().GetSampleCount()
	}
	want := map[string]uint64{
		"GET /items/{id} 200": 3,
		"POST /items 201":     1,
		"GET /boom 500":       1,
		"GET  404":            1, // unmatched: no route label at all
	}
	if len(got) != len(want) {
		t.Errorf("series = %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("requests %q = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	for _, raw := range []string{"/items/1", "/no/such/route", "/healthz", "/readyz", `http_route="/metrics"`} {
		if strings.Contains(text, raw) {
			t.Errorf("scrape mentions %s", raw)
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "promhttp_metric_handler_requests_total"} {
		if _, ok := families[name]; !ok {
			t.Errorf("scrape lacks %s", name)
		}
	}
}

// scrape returns what tel's metrics handler serves.
func scrape(tb testing.TB, tel *Telemetry) string {
	tb.Helper()
	rr := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rr.Code != http.StatusOK {
		tb.Fatalf("scrape status %d: %s", rr.Code, rr.Body)
	}
	return rr.Body.String()
}

func parseMetrics(tb testing.TB, text string) map[string]*dto.MetricFamily {
	tb.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		tb.Fatalf("parse scrape: %v\n%s", err, text)
	}
	return families
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
