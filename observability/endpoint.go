package observability

import (
	"context"

	"github.com/go-kit/kit/endpoint"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// instrumentationName names the tracer of the spans this package creates.
const instrumentationName = "xii/observability"

// EndpointSpan returns a go-kit middleware that runs each call of the
// endpoint in an internal span called name, a child of the span in the
// call's context (the HTTP server span, normally). The span is marked as an
// error, with the message and an exception event, when the endpoint returns
// an error or when its response reports a business error through
// endpoint.Failer. Request and response pass through unchanged.
func EndpointSpan(name string) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			ctx, span := tracerFor(ctx).Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal))
			defer span.End()

			response, err := next(ctx, request)
			failure := err
			if f, ok := response.(endpoint.Failer); ok && failure == nil {
				failure = f.Failed()
			}
			if failure != nil {
				span.RecordError(failure)
				span.SetStatus(codes.Error, failure.Error())
			}
			return response, err
		}
	}
}

// tracerFor returns a tracer from the provider of the span in ctx, as
// otelhttp does, so the child lands in the same pipeline as its parent; with
// no recording span there it falls back to the global provider set by Init.
func tracerFor(ctx context.Context) trace.Tracer {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		return span.TracerProvider().Tracer(instrumentationName)
	}
	return otel.Tracer(instrumentationName)
}
