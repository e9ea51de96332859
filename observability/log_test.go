package observability

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
)

var (
	testTraceID = trace.TraceID{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c}
	testSpanID  = trace.SpanID{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31}
)

func TestLoggerTraceIDs(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: testTraceID, SpanID: testSpanID, TraceFlags: trace.FlagsSampled,
	})
	withSpan := trace.ContextWithSpanContext(context.Background(), sc)
	withRemote := trace.ContextWithRemoteSpanContext(context.Background(), sc)
	withInvalid := trace.ContextWithSpanContext(context.Background(), trace.SpanContext{})
	ids := map[string]any{TraceIDKey: testTraceID.String(), SpanIDKey: testSpanID.String()}

	tests := []struct {
		name string
		ctx  context.Context
		log  func(l *slog.Logger, ctx context.Context)
		want map[string]any // expected attributes besides time, level and msg
	}{
		{
			name: "no span",
			ctx:  context.Background(),
			log:  func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "m", "k", "v") },
			want: map[string]any{"k": "v"},
		},
		{
			name: "invalid span context",
			ctx:  withInvalid,
			log:  func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "m") },
			want: map[string]any{},
		},
		{
			name: "span",
			ctx:  withSpan,
			log:  func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "m", "k", "v") },
			want: merge(ids, map[string]any{"k": "v"}),
		},
		{
			name: "remote span",
			ctx:  withRemote,
			log:  func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "m") },
			want: ids,
		},
		{
			name: "with attrs",
			ctx:  withSpan,
			log:  func(l *slog.Logger, ctx context.Context) { WithService(l, "svc").InfoContext(ctx, "m") },
			want: merge(ids, map[string]any{"service": "svc"}),
		},
		{
			name: "group keeps ids at top level",
			ctx:  withSpan,
			log: func(l *slog.Logger, ctx context.Context) {
				l.With("a", "1").WithGroup("req").With("b", "2").WithGroup("inner").InfoContext(ctx, "m", "c", "3")
			},
			want: merge(ids, map[string]any{
				"a":   "1",
				"req": map[string]any{"b": "2", "inner": map[string]any{"c": "3"}},
			}),
		},
		{
			name: "group without span",
			ctx:  context.Background(),
			log:  func(l *slog.Logger, ctx context.Context) { l.WithGroup("req").InfoContext(ctx, "m", "c", "3") },
			want: map[string]any{"req": map[string]any{"c": "3"}},
		},
		{
			name: "empty group is dropped",
			ctx:  withSpan,
			log:  func(l *slog.Logger, ctx context.Context) { l.WithGroup("req").WithGroup("").InfoContext(ctx, "m") },
			want: ids,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(NewLogger(&buf, slog.LevelInfo), tt.ctx)

			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("decode %q: %v", buf.String(), err)
			}
			if got["msg"] != "m" || got["level"] != "INFO" {
				t.Errorf("msg/level = %v/%v, want m/INFO", got["msg"], got["level"])
			}
			for _, k := range []string{"time", "level", "msg"} {
				delete(got, k)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("attributes = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoggerLevel(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(&buf, slog.LevelWarn)
	l.Info("dropped")
	if buf.Len() != 0 {
		t.Errorf("info logged at warn level: %q", buf.String())
	}
	l.Warn("kept")
	if buf.Len() == 0 {
		t.Error("warn not logged at warn level")
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{in: "", want: slog.LevelInfo},
		{in: "debug", want: slog.LevelDebug},
		{in: "INFO", want: slog.LevelInfo},
		{in: " warn ", want: slog.LevelWarn},
		{in: "warning", want: slog.LevelWarn},
		{in: "error", want: slog.LevelError},
		{in: "info+2", want: slog.LevelInfo + 2},
		{in: "verbose", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLevel(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseLevel(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("ParseLevel(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestLoggerWritesDurationsAsText(t *testing.T) {
	var buf bytes.Buffer
	NewLogger(&buf, slog.LevelInfo).Info("started", "ttl", 10*time.Second, slog.Group("config", slog.Duration("timeout", 1500*time.Millisecond)))
	if out := buf.String(); !strings.Contains(out, `"ttl":"10s"`) || !strings.Contains(out, `"timeout":"1.5s"`) {
		t.Errorf("log %s: want durations as text", out)
	}
}
