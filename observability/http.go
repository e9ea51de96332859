package observability

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/propagation"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// untracedPaths are served without spans or request metrics: probes and
// scrapes would otherwise drown the real traffic.
var untracedPaths = map[string]bool{
	"/healthz": true,
	"/readyz":  true,
	"/metrics": true,
}

// HTTPHandler wraps a service's router with a server span per request and
// the OTel HTTP server metrics; /healthz, /readyz and /metrics pass through
// untouched. The incoming traceparent, if any, becomes the span's parent.
//
// h should be the *http.ServeMux itself (or a handler that passes the same
// *http.Request on to it): the mux records the matched pattern on that
// request, and the span name ("GET /api/v1/responses"), its http.route
// attribute and the route label of the metrics are taken from it. A
// middleware in between that calls r.WithContext hides the pattern, and
// requests are then reported without a route. Unmatched requests (404) have
// no route either, so raw paths never become span names or labels.
func (t *Telemetry) HTTPHandler(h http.Handler) http.Handler {
	withRoute := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		// otelhttp renames the span from r.Pattern but sets http.route only
		// when the pattern is known before routing, which it never is.
		if route := patternRoute(r.Pattern); route != "" {
			trace.SpanFromContext(r.Context()).SetAttributes(semconv.HTTPRoute(route))
		}
	})
	return otelhttp.NewHandler(withRoute, "",
		otelhttp.WithTracerProvider(t.TracerProvider),
		otelhttp.WithMeterProvider(t.MeterProvider),
		otelhttp.WithPropagators(t.Propagator),
		otelhttp.WithFilter(func(r *http.Request) bool { return !untracedPaths[r.URL.Path] }),
	)
}

// PublicHandler is HTTPHandler for an API the public reaches: the client's
// W3C baggage is dropped before it is read, so what a client puts there
// never reaches our spans, logs or the services behind. A client's
// traceparent is kept, so that it can find its request's trace, but its
// sampled flag is not obeyed: the service's own sampler decides (see
// edgeSampler).
func (t *Telemetry) PublicHandler(h http.Handler) http.Handler {
	traced := t.HTTPHandler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Baggage")
		traced.ServeHTTP(w, r.WithContext(withPublicEdge(r.Context())))
	})
}

// ExternalTransport is Transport for calls to other parties' APIs (the
// providers xii does not run): each gets a client span like any call, but
// nothing of ours is injected into its headers, neither traceparent nor
// baggage.
func (t *Telemetry) ExternalTransport(base http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(t.TracerProvider),
		otelhttp.WithMeterProvider(t.MeterProvider),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
	)
}

// Transport wraps base (http.DefaultTransport when nil) so that each
// outgoing request gets a client span, a child of the span in the request's
// context, and carries it downstream in the traceparent header. Build
// requests with http.NewRequestWithContext so the parent is known.
func (t *Telemetry) Transport(base http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(t.TracerProvider),
		otelhttp.WithMeterProvider(t.MeterProvider),
		otelhttp.WithPropagators(t.Propagator),
	)
}

// patternRoute strips the method and host from a ServeMux pattern:
// "GET example.com/items/{id}" becomes "/items/{id}".
func patternRoute(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return ""
}
