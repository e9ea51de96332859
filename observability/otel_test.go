package observability

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// otelEnv lists the variables the Init tests set; each case clears the rest
// so the machine's environment cannot leak in.
var otelEnv = []string{
	"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TIMEOUT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
}

func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range otelEnv {
		t.Setenv(k, env[k])
	}
}

// within runs f and fails the test if it has not returned after limit: a
// liveness bound for calls that must not block, not a performance check.
func within[T any](t *testing.T, limit time.Duration, what string, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(limit):
		t.Fatalf("%s still blocked after %v", what, limit)
		panic("unreachable")
	}
}

func TestInit(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		cleanOK bool // Shutdown must return nil
		want    map[string]string
	}{
		{
			name:    "exporter none",
			env:     map[string]string{"OTEL_TRACES_EXPORTER": "none"},
			cleanOK: true,
			want:    map[string]string{"service_name": "test-svc", "service_version": "1.2.3", "service_instance_id": "blue"},
		},
		{
			name:    "sdk disabled",
			env:     map[string]string{"OTEL_SDK_DISABLED": "true"},
			cleanOK: true,
			want:    map[string]string{"service_name": "test-svc"},
		},
		{
			name: "env overrides defaults",
			env: map[string]string{
				"OTEL_TRACES_EXPORTER":     "none",
				"OTEL_SERVICE_NAME":        "from-env",
				"OTEL_RESOURCE_ATTRIBUTES": "service.version=9,deployment.environment.name=ci",
			},
			cleanOK: true,
			want:    map[string]string{"service_name": "from-env", "service_version": "9", "deployment_environment_name": "ci"},
		},
		{
			// A refused connection: spans are dropped, nothing blocks. The
			// short export timeout lets the background export give up soon
			// after Shutdown, so the goroutine leak check passes.
			name: "unreachable collector",
			env: map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
				"OTEL_EXPORTER_OTLP_TIMEOUT":  "200",
			},
			want: map[string]string{"service_name": "test-svc"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			t.Cleanup(resetGlobals)
			cfg := Config{
				ServiceName: "test-svc", ServiceVersion: "1.2.3", InstanceID: "blue",
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			}
			type result struct {
				tel *Telemetry
				err error
			}
			r := within(t, 5*time.Second, "Init", func() result {
				tel, err := Init(context.Background(), cfg)
				return result{tel, err}
			})
			if r.err != nil {
				t.Fatalf("Init: %v", r.err)
			}
			tel := r.tel

			if otel.GetTracerProvider() != tel.TracerProvider || otel.GetMeterProvider() != tel.MeterProvider {
				t.Error("Init did not install the global providers")
			}
			_, span := otel.Tracer("test").Start(context.Background(), "work")
			if !span.SpanContext().IsValid() || !span.IsRecording() {
				t.Error("global tracer does not record spans")
			}
			span.End()

			families := parseMetrics(t, scrape(t, tel))
			target := families["target_info"]
			if target == nil || len(target.GetMetric()) != 1 {
				t.Fatalf("want one target_info series, got %v", target)
			}
			got := labels(target.GetMetric()[0])
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("target_info %s = %q, want %q", k, got[k], v)
				}
			}

			// Long enough for the batch processor to end its export (which
			// gives up after OTEL_EXPORTER_OTLP_TIMEOUT): a goroutine left
			// exporting would report its failure to the next test's error
			// handler, racing with that test's reads of its log.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			err := within(t, 5*time.Second, "Shutdown", func() error { return tel.Shutdown(ctx) })
			if tt.cleanOK && err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		})
	}
}

func TestInitErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		env  map[string]string
	}{
		{name: "no service name", env: map[string]string{"OTEL_TRACES_EXPORTER": "none"}},
		{name: "unsupported exporter", cfg: Config{ServiceName: "s"}, env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}},
		{name: "unsupported protocol", cfg: Config{ServiceName: "s"}, env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			t.Cleanup(resetGlobals)
			if tel, err := Init(context.Background(), tt.cfg); err == nil {
				tel.Shutdown(context.Background())
				t.Fatal("Init succeeded, want error")
			}
		})
	}
}

func TestTracesExportEnabled(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    bool
		wantErr bool
	}{
		{name: "default", want: true},
		{name: "otlp", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, want: true},
		{name: "none", env: map[string]string{"OTEL_TRACES_EXPORTER": "none"}},
		{name: "none upper case", env: map[string]string{"OTEL_TRACES_EXPORTER": "NONE"}},
		{name: "sdk disabled", env: map[string]string{"OTEL_SDK_DISABLED": "TRUE"}},
		{name: "sdk not disabled", env: map[string]string{"OTEL_SDK_DISABLED": "false"}, want: true},
		{name: "console", env: map[string]string{"OTEL_TRACES_EXPORTER": "console"}, wantErr: true},
		{name: "grpc", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, want: true},
		{name: "http protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, wantErr: true},
		{
			name: "traces protocol wins",
			env: map[string]string{
				"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/protobuf",
				"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
			},
			want: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			got, err := tracesExportEnabled()
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("export = %v, want %v", got, tt.want)
			}
		})
	}
}

// resetGlobals undoes what Init installs, so tests do not see each other's
// providers or error handler.
func resetGlobals() {
	otel.SetTracerProvider(tracenoop.NewTracerProvider())
	otel.SetMeterProvider(metricnoop.NewMeterProvider())
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {}))
}
