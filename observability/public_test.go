package observability

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"
)

// TestPublicHandlerDropsClientBaggage: what a client sends as baggage
// never reaches the handler's context; its traceparent still does.
func TestPublicHandlerDropsClientBaggage(t *testing.T) {
	tel, _ := newTestTelemetry(t)
	var got baggage.Baggage
	var parent trace.SpanContext
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		got = baggage.FromContext(r.Context())
		parent = trace.SpanContextFromContext(r.Context())
	})
	req := httptest.NewRequest("GET", "/items/1", nil)
	req.Header.Set("Baggage", "tenant=admin,role=root")
	req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	tel.PublicHandler(mux).ServeHTTP(httptest.NewRecorder(), req)
	if got.Len() != 0 {
		t.Errorf("client baggage reached the handler: %v", got)
	}
	if parent.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("trace %s, want the client's", parent.TraceID())
	}
}

// TestExternalTransportInjectsNothing: a call to another party's API
// carries neither our trace context nor our baggage, though it is traced.
func TestExternalTransportInjectsNothing(t *testing.T) {
	tel, rec := newTestTelemetry(t)
	var header http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { header = r.Header.Clone() }))
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: tel.ExternalTransport(srv.Client().Transport)}

	member, _ := baggage.NewMember("tenant", "blue")
	bag, _ := baggage.New(member)
	ctx, root := tel.TracerProvider.Tracer("test").Start(baggage.ContextWithBaggage(context.Background(), bag), "root")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	do(t, client, req)
	root.End()
	for _, h := range []string{"Traceparent", "Tracestate", "Baggage"} {
		if v := header.Get(h); v != "" {
			t.Errorf("%s: %q sent to an external API", h, v)
		}
	}
	var traced bool
	for _, s := range rec.Ended() {
		traced = traced || s.SpanKind() == trace.SpanKindClient
	}
	if !traced {
		t.Error("the external call has no client span")
	}
}
