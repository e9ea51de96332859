package observability

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// Log attribute keys that link a log line to its trace.
const (
	TraceIDKey = "trace_id"
	SpanIDKey  = "span_id"
)

// NewLogger returns a JSON logger writing to w at level. Every record logged
// with a context that holds a valid span (logger.InfoContext(ctx, ...)) gets
// top-level trace_id and span_id attributes, also inside With and WithGroup
// loggers, so a request's lines can be found from its trace and back.
// Durations are written as text ("1.5s"), not as nanoseconds.
func NewLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(&traceHandler{inner: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: durationText})})
}

// durationText writes a duration as time.Duration.String does.
func durationText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// WithService returns l with a service attribute on every record.
func WithService(l *slog.Logger, service string) *slog.Logger {
	return l.With(slog.String("service", service))
}

// ParseLevel parses a log level name such as "debug", "INFO", "warn" or
// "error" (also offsets like "info+2", as slog.Level does). An empty string
// is info; "warning" is accepted for warn.
func ParseLevel(s string) (slog.Level, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return slog.LevelInfo, nil
	case "warning":
		return slog.LevelWarn, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("parse log level %q: %w", s, err)
	}
	return l, nil
}

var _ slog.Handler = (*traceHandler)(nil)

// traceHandler adds trace ids to records. It keeps groups out of inner and
// applies them itself per record, so that the ids stay at the top level
// instead of landing inside whatever group the logger has open.
type traceHandler struct {
	inner  slog.Handler // carries only the attributes added before any group
	groups []group      // open groups, outermost first
}

// group is a WithGroup name with the attributes added after it.
type group struct {
	name  string
	attrs []slog.Attr
}

func (h *traceHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() && len(h.groups) == 0 {
		return h.inner.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	if sc.IsValid() {
		out.AddAttrs(
			slog.String(TraceIDKey, sc.TraceID().String()),
			slog.String(SpanIDKey, sc.SpanID().String()),
		)
	}
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	// Nest from the innermost group outwards; empty groups vanish, as slog
	// handlers drop groups without attributes.
	for i := len(h.groups) - 1; i >= 0; i-- {
		g := h.groups[i]
		content := append(append(make([]slog.Attr, 0, len(g.attrs)+len(attrs)), g.attrs...), attrs...)
		attrs = []slog.Attr{{Key: g.name, Value: slog.GroupValue(content...)}}
	}
	out.AddAttrs(attrs...)
	return h.inner.Handle(ctx, out)
}

func (h *traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	if len(h.groups) == 0 {
		return &traceHandler{inner: h.inner.WithAttrs(attrs)}
	}
	groups := append([]group(nil), h.groups...)
	last := &groups[len(groups)-1]
	last.attrs = append(append([]slog.Attr(nil), last.attrs...), attrs...)
	return &traceHandler{inner: h.inner, groups: groups}
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	groups := append(append([]group(nil), h.groups...), group{name: name})
	return &traceHandler{inner: h.inner, groups: groups}
}
