// Package observability sets up OpenTelemetry for every xii service in one
// place: traces exported over OTLP (to Jaeger), Prometheus metrics, W3C
// context propagation across HTTP hops, and JSON logs that carry trace ids.
//
// # Pieces
//
//   - Init builds a Telemetry: a TracerProvider with a batching OTLP/gRPC
//     exporter, a MeterProvider read by a Prometheus exporter on a private
//     registry (with the Go runtime and process collectors), and the W3C
//     TraceContext+Baggage propagator. It installs all three as the OTel
//     globals. Call Telemetry.Shutdown on the way out to flush spans.
//   - Telemetry.MetricsHandler serves that registry; mount it at /metrics.
//   - Telemetry.HTTPHandler wraps a service's *http.ServeMux with a server
//     span per request, named "METHOD route" from the mux pattern, plus the
//     otelhttp request metrics. /healthz, /readyz and /metrics are neither
//     traced nor measured.
//   - Telemetry.Transport wraps an http.RoundTripper so calls to other
//     services get a client span and send traceparent/baggage headers.
//   - EndpointSpan is a go-kit endpoint.Middleware that adds an internal
//     span per endpoint call and marks it failed on returned errors and on
//     business errors reported through endpoint.Failer.
//   - NewLogger returns a JSON slog.Logger that adds trace_id and span_id to
//     every record logged with a context holding a span; ParseLevel reads a
//     level setting and WithService tags a logger with the service name.
//
// A service's main wires them roughly so:
//
//	tel, err := observability.Init(ctx, observability.Config{ServiceName: "survey-svc", ServiceVersion: version, InstanceID: name, Logger: logger})
//	defer tel.Shutdown(shutdownCtx)
//	mux.Handle("GET /metrics", tel.MetricsHandler())
//	server := &http.Server{Handler: tel.HTTPHandler(mux)}
//	client := &http.Client{Transport: tel.Transport(nil)}
//	e = observability.EndpointSpan("survey.create")(e)
//
// # Metrics
//
// The request rate, errors and duration per endpoint come from otelhttp's
// http.server.request.duration histogram, which Prometheus sees as
// http_server_request_duration_seconds with the labels http_request_method,
// http_route (the mux pattern without the method, e.g. "/api/v1/responses";
// absent for unmatched requests), http_response_status_code, url_scheme and
// network_protocol_version. For example:
//
//	rate:     sum by (http_route) (rate(http_server_request_duration_seconds_count[5m]))
//	errors:   sum by (http_route) (rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[5m]))
//	latency:  histogram_quantile(0.99, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket[5m])))
//
// otelhttp also records http_server_request_body_size_bytes and
// http_server_response_body_size_bytes with the same labels, and
// Transport records http_client_request_duration_seconds per target host.
// The server address and port, which come from the client's Host header,
// are dropped from the server metrics to keep their cardinality bounded.
//
// # Environment
//
// The standard OpenTelemetry variables apply:
//
//   - OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES: override Config's
//     service name, version and instance id.
//   - OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
//     e.g. http://jaeger:4317; the default is localhost:4317 over TLS, and an
//     http:// endpoint or OTEL_EXPORTER_OTLP_INSECURE=true turns TLS off.
//     OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION and _CERTIFICATE work
//     as specified. Only the grpc protocol is supported; another value of
//     OTEL_EXPORTER_OTLP_PROTOCOL makes Init fail.
//   - OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG choose the sampler;
//     the default is parentbased_always_on. At a public edge
//     (PublicHandler) a client's sampled flag is not obeyed: the root
//     sampler decides for its trace id.
//   - OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true: no exporter is
//     created. Spans are still made, so trace ids still reach logs and are
//     propagated downstream, and metrics are still served.
//   - OTEL_BSP_* tune the batch span processor.
//
// Init never waits for the collector: if it is down, the service runs and
// spans are dropped (and reported to Config.Logger).
package observability
