package observability

import (
	"context"
	"errors"
	"testing"

	"github.com/go-kit/kit/endpoint"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// failerResponse is a response that reports a business error.
type failerResponse struct{ err error }

func (r failerResponse) Failed() error { return r.err }

var _ endpoint.Failer = failerResponse{}

func TestEndpointSpan(t *testing.T) {
	errTransport := errors.New("store unavailable")
	errBusiness := errors.New("text is required")

	tests := []struct {
		name        string
		response    any
		err         error
		wantStatus  codes.Code
		wantMessage string
	}{
		{name: "ok", response: "fine", wantStatus: codes.Unset},
		{name: "failer without error", response: failerResponse{}, wantStatus: codes.Unset},
		{name: "returned error", err: errTransport, wantStatus: codes.Error, wantMessage: errTransport.Error()},
		{name: "business error", response: failerResponse{err: errBusiness}, wantStatus: codes.Error, wantMessage: errBusiness.Error()},
		{
			name:     "returned error wins over failer",
			response: failerResponse{err: errBusiness}, err: errTransport,
			wantStatus: codes.Error, wantMessage: errTransport.Error(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel, rec := newTestTelemetry(t)
			ctx, parent := tel.TracerProvider.Tracer("test").Start(context.Background(), "parent")

			var inner trace.SpanContext
			ep := EndpointSpan("survey.create")(func(ctx context.Context, request any) (any, error) {
				inner = trace.SpanContextFromContext(ctx)
				return tt.response, tt.err
			})
			response, err := ep(ctx, "request")
			parent.End()

			if response != tt.response || !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Errorf("endpoint returned (%v, %v), want (%v, %v) unchanged", response, err, tt.response, tt.err)
			}
			span := spanNamed(t, rec, "survey.create")
			if got, want := span.Parent().SpanID(), parent.SpanContext().SpanID(); got != want {
				t.Errorf("parent span id = %s, want %s", got, want)
			}
			if span.SpanContext().TraceID() != parent.SpanContext().TraceID() {
				t.Error("endpoint span is in another trace than its parent")
			}
			if inner.SpanID() != span.SpanContext().SpanID() {
				t.Error("endpoint did not receive its span in ctx")
			}
			if span.SpanKind() != trace.SpanKindInternal {
				t.Errorf("kind = %v, want internal", span.SpanKind())
			}
			if span.Status().Code != tt.wantStatus || span.Status().Description != tt.wantMessage {
				t.Errorf("status = %v %q, want %v %q",
					span.Status().Code, span.Status().Description, tt.wantStatus, tt.wantMessage)
			}
			checkExceptionEvent(t, span, tt.wantMessage)
		})
	}
}

// TestEndpointSpanRoot checks that a call without a span in ctx starts a
// new trace on the global provider.
func TestEndpointSpanRoot(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })

	ep := EndpointSpan("root.call")(func(context.Context, any) (any, error) { return nil, nil })
	if _, err := ep(context.Background(), nil); err != nil {
		t.Fatalf("endpoint: %v", err)
	}
	if span := spanNamed(t, rec, "root.call"); span.Parent().IsValid() {
		t.Errorf("root call has parent %s", span.Parent().SpanID())
	}
}

// checkExceptionEvent checks that span has one exception event with
// message, or none when message is empty.
func checkExceptionEvent(tb testing.TB, span sdktrace.ReadOnlySpan, message string) {
	tb.Helper()
	var got []string
	for _, e := range span.Events() {
		if e.Name != "exception" {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == "exception.message" {
				got = append(got, a.Value.AsString())
			}
		}
	}
	switch {
	case message == "" && len(got) != 0:
		tb.Errorf("unexpected exception events %q", got)
	case message != "" && (len(got) != 1 || got[0] != message):
		tb.Errorf("exception events = %q, want one with %q", got, message)
	}
}
