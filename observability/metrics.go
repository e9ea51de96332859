package observability

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// serverMetricKeys are the only attributes kept on otelhttp's http.server.*
// instruments. otelhttp also adds server.address and server.port, taken from
// the client-controlled Host header; dropping them keeps the number of series
// bounded by routes × methods × status codes.
var serverMetricKeys = []attribute.Key{
	semconv.HTTPRequestMethodKey,
	semconv.HTTPRouteKey,
	semconv.HTTPResponseStatusCodeKey,
	semconv.URLSchemeKey,
	semconv.NetworkProtocolVersionKey,
	semconv.ErrorTypeKey,
}

// newMeterProvider builds a meter provider whose only reader is a Prometheus
// exporter on a private registry, which also carries the Go runtime and
// process collectors. A private registry keeps tests and multiple Telemetry
// values from colliding on prometheus.DefaultRegisterer.
func newMeterProvider(res *resource.Resource) (*sdkmetric.MeterProvider, *prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, nil, fmt.Errorf("register collector: %w", err)
		}
	}
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, fmt.Errorf("create prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(exp),
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Name: "http.server.*"},
			sdkmetric.Stream{AttributeFilter: attribute.NewAllowKeysFilter(serverMetricKeys...)},
		)),
	)
	return mp, reg, nil
}

// metricsHandler serves reg, counting its own scrapes as Prometheus
// conventionally does (promhttp_metric_handler_requests_total).
func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry: reg,
	}))
}
