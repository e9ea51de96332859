package observability

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// newTracerProvider builds the tracer provider. The sampler is the one
// OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name (default
// ParentBased(AlwaysSample)), deciding afresh at a public edge
// (samplerFromEnv); the SDK reads OTEL_BSP_*; the OTLP exporter reads
// OTEL_EXPORTER_OTLP_*. Without an exporter spans are still created, so trace
// ids reach logs and downstream services, but they are not sent anywhere.
func newTracerProvider(ctx context.Context, res *resource.Resource) (*sdktrace.TracerProvider, error) {
	export, err := tracesExportEnabled()
	if err != nil {
		return nil, err
	}
	sampler, err := samplerFromEnv()
	if err != nil {
		return nil, err
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(sampler)}
	if export {
		// New does not dial: the gRPC connection is made lazily, so an
		// unreachable collector costs dropped spans, never a failed start.
		exp, err := otlptracegrpc.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("create otlp exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	return sdktrace.NewTracerProvider(opts...), nil
}

// tracesExportEnabled reports whether spans should be exported, from
// OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER and the OTLP protocol variables.
// Settings this module cannot honour are errors rather than silent no-ops.
func tracesExportEnabled() (bool, error) {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return false, nil
	}
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER"))); v {
	case "", "otlp":
	case "none":
		return false, nil
	default:
		return false, fmt.Errorf("OTEL_TRACES_EXPORTER=%q is not supported (use otlp or none)", v)
	}
	for _, key := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		v := strings.TrimSpace(os.Getenv(key))
		if v == "" {
			continue
		}
		if v != "grpc" {
			return false, fmt.Errorf("%s=%q is not supported (use grpc)", key, v)
		}
		break // the signal-specific variable wins over the general one
	}
	return true, nil
}
