package observability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Config holds the defaults a service passes to Init. The standard
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES variables override them.
type Config struct {
	// ServiceName is the default service.name, e.g. "survey-svc". Required.
	ServiceName string
	// ServiceVersion is the default service.version.
	ServiceVersion string
	// InstanceID is the default service.instance.id, e.g. "blue"; optional.
	InstanceID string
	// Logger receives errors the OTel SDK reports in the background, such as
	// failed span exports. Nil keeps the SDK default (standard library log).
	Logger *slog.Logger
}

// Telemetry holds the tracer and meter providers of one process. Create it
// with Init and call Shutdown before the process exits.
type Telemetry struct {
	TracerProvider *sdktrace.TracerProvider
	MeterProvider  *sdkmetric.MeterProvider
	// Propagator injects and extracts W3C trace context and baggage.
	Propagator propagation.TextMapPropagator

	metrics      http.Handler
	shutdownOnce sync.Once
	shutdownErr  error
}

// Init sets up tracing (OTLP over gRPC, configured by the standard
// OTEL_* environment variables), Prometheus metrics and W3C propagation,
// and installs them as the OTel globals. It neither dials nor blocks on
// the collector: without one the service runs and spans are dropped.
// It returns an error for a missing service name, an invalid resource
// from the environment, or an unsupported exporter or protocol setting.
func Init(ctx context.Context, cfg Config) (*Telemetry, error) {
	if cfg.ServiceName == "" {
		return nil, errors.New("init telemetry: service name is required")
	}
	if cfg.Logger != nil {
		logger := cfg.Logger
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			logger.Warn("opentelemetry", slog.Any("err", err))
		}))
	}

	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("init resource: %w", err)
	}
	tp, err := newTracerProvider(ctx, res)
	if err != nil {
		return nil, fmt.Errorf("init tracer: %w", err)
	}
	mp, reg, err := newMeterProvider(res)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("init metrics: %w", err), tp.Shutdown(ctx))
	}

	t := newTelemetry(tp, mp, reg)
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	otel.SetTextMapPropagator(t.Propagator)
	return t, nil
}

// newTelemetry assembles a Telemetry without touching the OTel globals.
func newTelemetry(tp *sdktrace.TracerProvider, mp *sdkmetric.MeterProvider, reg *prometheus.Registry) *Telemetry {
	return &Telemetry{
		TracerProvider: tp,
		MeterProvider:  mp,
		Propagator: propagation.NewCompositeTextMapPropagator(
			propagation.TraceContext{}, propagation.Baggage{},
		),
		metrics: metricsHandler(reg),
	}
}

// newResource describes the service; later detectors win, so the
// environment overrides the configured defaults.
func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{semconv.ServiceName(cfg.ServiceName)}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, semconv.ServiceVersion(cfg.ServiceVersion))
	}
	if cfg.InstanceID != "" {
		attrs = append(attrs, semconv.ServiceInstanceID(cfg.InstanceID))
	}
	return resource.New(ctx,
		resource.WithAttributes(attrs...),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithFromEnv(),
	)
}

// MetricsHandler serves the process's metrics in the Prometheus text format:
// the OTel instruments plus the Go runtime and process collectors.
func (t *Telemetry) MetricsHandler() http.Handler {
	return t.metrics
}

// Shutdown flushes pending spans and stops both providers, giving up when
// ctx is done. It returns the providers' errors, including ctx.Err() when
// the flush did not finish in time. Later calls return the first result.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.shutdownOnce.Do(func() {
		var errs []error
		if err := t.MeterProvider.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown meter provider: %w", err))
		}
		if err := t.TracerProvider.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown tracer provider: %w", err))
		}
		t.shutdownErr = errors.Join(errs...)
	})
	return t.shutdownErr
}

// flushTimeout bounds Flush.
const flushTimeout = 5 * time.Second

// Flush shuts telemetry down, exporting what is buffered, within a few
// seconds even when ctx is already done (as it is at shutdown); a failure is
// logged. Services defer it right after Init.
func (t *Telemetry) Flush(ctx context.Context, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		logger.WarnContext(ctx, "flush telemetry", "err", err)
	}
}

// Start is how a service begins: a JSON logger at level that names
// cfg.ServiceName on every line, a "starting" line with the version and
// attrs (the service's configuration), and Init's telemetry reporting to
// that logger. The logger is returned even when Init fails.
func Start(ctx context.Context, cfg Config, w io.Writer, level slog.Leveler, attrs ...any) (*slog.Logger, *Telemetry, error) {
	logger := WithService(NewLogger(w, level), cfg.ServiceName)
	logger.Info("starting", append([]any{"version", cfg.ServiceVersion}, attrs...)...)
	cfg.Logger = logger
	tel, err := Init(ctx, cfg)
	return logger, tel, err
}
