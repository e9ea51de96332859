package observability

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// newTestMux returns the routes the HTTP tests exercise.
func newTestMux(tel *Telemetry) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "item") })
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	mux.Handle("GET /metrics", tel.MetricsHandler())
	return mux
}

// startServer serves tel.HTTPHandler(mux) until the test ends.
func startServer(tb testing.TB, tel *Telemetry, mux *http.ServeMux) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(tel.HTTPHandler(mux))
	tb.Cleanup(srv.Close)
	return srv
}

// do sends a request with client and reads the whole response, which also
// ends an otelhttp client span.
func do(tb testing.TB, client *http.Client, req *http.Request) *http.Response {
	tb.Helper()
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		tb.Fatalf("read %s: %v", req.URL, err)
	}
	return resp
}

func TestHTTPHandlerSpans(t *testing.T) {
	tests := []struct {
		method, path string
		wantSpan     string // "" when the request must not be traced
		wantRoute    string
		wantCode     int
		wantStatus   codes.Code
	}{
		{method: "GET", path: "/items/42", wantSpan: "GET /items/{id}", wantRoute: "/items/{id}", wantCode: 200},
		{method: "POST", path: "/items", wantSpan: "POST /items", wantRoute: "/items", wantCode: 201},
		{method: "GET", path: "/boom", wantSpan: "GET /boom", wantRoute: "/boom", wantCode: 500, wantStatus: codes.Error},
		{method: "GET", path: "/no/such/route", wantSpan: "GET", wantCode: 404},
		{method: "GET", path: "/healthz", wantCode: 200},
		{method: "GET", path: "/readyz", wantCode: 200},
		{method: "GET", path: "/metrics", wantCode: 200},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			tel, rec := newTestTelemetry(t)
			srv := startServer(t, tel, newTestMux(tel))

			req, err := http.NewRequestWithContext(context.Background(), tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp := do(t, srv.Client(), req); resp.StatusCode != tt.wantCode {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantCode)
			}

			// The server span ends before the response is flushed, so it
			// is recorded by now.
			ended := rec.Ended()
			if tt.wantSpan == "" {
				if len(ended) != 0 {
					t.Fatalf("want no spans, got %v", spanNames(ended))
				}
				return
			}
			span := spanNamed(t, rec, tt.wantSpan)
			if span.SpanKind() != trace.SpanKindServer {
				t.Errorf("kind = %v, want server", span.SpanKind())
			}
			if span.Status().Code != tt.wantStatus {
				t.Errorf("status = %v, want %v", span.Status().Code, tt.wantStatus)
			}
			attrs := attribute.NewSet(span.Attributes()...)
			route, ok := attrs.Value(semconv.HTTPRouteKey)
			if got := route.AsString(); got != tt.wantRoute || ok != (tt.wantRoute != "") {
				t.Errorf("http.route = %q (set %v), want %q", got, ok, tt.wantRoute)
			}
			if code, _ := attrs.Value(semconv.HTTPResponseStatusCodeKey); code.AsInt64() != int64(tt.wantCode) {
				t.Errorf("http.response.status_code = %v, want %d", code.AsInt64(), tt.wantCode)
			}
		})
	}
}

// TestTransportPropagation follows one trace across an HTTP hop: a root
// span, the client span of Transport, and the server span of HTTPHandler.
func TestTransportPropagation(t *testing.T) {
	tel, rec := newTestTelemetry(t)
	var gotHeader string
	var handlerSpan trace.SpanContext
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		gotHeader = r.Header.Get("traceparent")
		handlerSpan = trace.SpanContextFromContext(r.Context())
	})
	srv := startServer(t, tel, mux)

	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	client := &http.Client{Transport: tel.Transport(base)}

	ctx, root := tel.TracerProvider.Tracer("test").Start(context.Background(), "root")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/items/7", nil)
	if err != nil {
		t.Fatal(err)
	}
	do(t, client, req)
	root.End()

	var clientSpan sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			clientSpan = s
		}
	}
	if clientSpan == nil {
		t.Fatalf("no client span among %v", spanNames(rec.Ended()))
	}
	serverSpan := spanNamed(t, rec, "GET /items/{id}")

	traceID := root.SpanContext().TraceID()
	for _, s := range []sdktrace.ReadOnlySpan{clientSpan, serverSpan} {
		if s.SpanContext().TraceID() != traceID {
			t.Errorf("span %q has trace %s, want %s", s.Name(), s.SpanContext().TraceID(), traceID)
		}
	}
	if clientSpan.Parent().SpanID() != root.SpanContext().SpanID() {
		t.Errorf("client span parent = %s, want root %s", clientSpan.Parent().SpanID(), root.SpanContext().SpanID())
	}
	if serverSpan.Parent().SpanID() != clientSpan.SpanContext().SpanID() || !serverSpan.Parent().IsRemote() {
		t.Errorf("server span parent = %s (remote %v), want remote client span %s",
			serverSpan.Parent().SpanID(), serverSpan.Parent().IsRemote(), clientSpan.SpanContext().SpanID())
	}
	if want := "00-" + traceID.String() + "-" + clientSpan.SpanContext().SpanID().String() + "-01"; gotHeader != want {
		t.Errorf("traceparent = %q, want %q", gotHeader, want)
	}
	if handlerSpan.SpanID() != serverSpan.SpanContext().SpanID() {
		t.Error("handler context does not hold the server span")
	}
}
