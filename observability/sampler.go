package observability

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// samplerFromEnv is the sampler OTEL_TRACES_SAMPLER and
// OTEL_TRACES_SAMPLER_ARG name, as the specification defines them (default
// parentbased_always_on), wrapped so that a public edge decides for itself
// (see edgeSampler). It returns the sampler a parent-less span gets too, the
// root, which the public edge uses.
func samplerFromEnv() (sdktrace.Sampler, error) {
	name := strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER")))
	arg := strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER_ARG"))
	ratio := 1.0
	if arg != "" && strings.HasSuffix(name, "traceidratio") {
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG=%q: want a ratio between 0 and 1", arg)
		}
		ratio = r
	}
	var root sdktrace.Sampler
	parentBased := true
	switch name {
	case "", "parentbased_always_on":
		root = sdktrace.AlwaysSample()
	case "parentbased_always_off":
		root = sdktrace.NeverSample()
	case "parentbased_traceidratio":
		root = sdktrace.TraceIDRatioBased(ratio)
	case "always_on":
		root, parentBased = sdktrace.AlwaysSample(), false
	case "always_off":
		root, parentBased = sdktrace.NeverSample(), false
	case "traceidratio":
		root, parentBased = sdktrace.TraceIDRatioBased(ratio), false
	default:
		return nil, fmt.Errorf("OTEL_TRACES_SAMPLER=%q is not supported", name)
	}
	inner := root
	if parentBased {
		inner = sdktrace.ParentBased(root)
	}
	return edgeSampler{root: root, inner: inner}, nil
}

// publicEdgeKey marks a request's context as arriving at a public edge:
// its remote parent, if any, is a client's and not one of our services.
type publicEdgeKey struct{}

func withPublicEdge(ctx context.Context) context.Context {
	return context.WithValue(ctx, publicEdgeKey{}, true)
}

// edgeSampler samples like inner, except for a span whose parent is a
// client's traceparent at a public edge: there root decides, so a client can
// neither force its requests into our traces (flag 01 at a 10 % ratio) nor
// out of them (flag 00). The span keeps the client's trace id, so the client
// still finds its trace when it is sampled, and everything downstream follows
// the edge's decision.
type edgeSampler struct {
	root, inner sdktrace.Sampler
}

func (s edgeSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if trace.SpanContextFromContext(p.ParentContext).IsRemote() && p.ParentContext.Value(publicEdgeKey{}) != nil {
		return s.root.ShouldSample(p)
	}
	return s.inner.ShouldSample(p)
}

func (s edgeSampler) Description() string {
	return "PublicEdge{" + s.inner.Description() + "}"
}
