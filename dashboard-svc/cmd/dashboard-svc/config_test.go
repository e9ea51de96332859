package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseConfig(t *testing.T) {
	const token = "0123456789abcdef"
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(config) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c config) bool {
			return c.ListenAddr == ":1100" && len(c.EtcdEndpoints) == 1 && c.APIToken == "" &&
				c.Deadlines.Default == 2*time.Second && c.Deadlines.Max == 10*time.Second && c.Attempts == 3
		}, ""},
		{"from env", nil, map[string]string{"XII_API_TOKEN": token, "XII_DEFAULT_TIMEOUT": "1s", "XII_MAX_TIMEOUT": "20s", "XII_SHUTDOWN_TIMEOUT": "30s"},
			func(c config) bool {
				return c.APIToken == token && c.Deadlines.Default == time.Second && c.Deadlines.Max == 20*time.Second
			}, ""},
		{"flag beats env", []string{"-listen-addr=127.0.0.1:9"}, map[string]string{"XII_LISTEN_ADDR": ":1"},
			func(c config) bool { return c.ListenAddr == "127.0.0.1:9" }, ""},
		{"etcd list", []string{"-etcd-endpoints= a:1 , b:2"}, nil, func(c config) bool { return len(c.EtcdEndpoints) == 2 && c.EtcdEndpoints[1] == "b:2" }, ""},
		{"no etcd", []string{"-etcd-endpoints="}, nil, nil, "etcd-endpoints: required"},
		{"bad listen", []string{"-listen-addr=1100"}, nil, nil, "listen-addr"},
		{"bad port", []string{"-listen-addr=:http2"}, nil, nil, "listen-addr: bad port"},
		{"short token", []string{"-api-token=short"}, nil, nil, "api-token: must be 16"},
		{"token with space", []string{"-api-token=0123456789 abcdef"}, nil, nil, "api-token: must be printable ASCII"},
		{"max below default", []string{"-default-timeout=5s", "-max-timeout=1s"}, nil, nil, "max-timeout"},
		{"max above aggregator's", []string{"-max-timeout=31s", "-shutdown-timeout=1m"}, nil, nil, "longer than the aggregator's"},
		{"zero default", []string{"-default-timeout=0s"}, nil, nil, "shorter than the minimum"},
		{"attempts", []string{"-aggregator-attempts=0"}, nil, nil, "aggregator-attempts"},
		{"grace below max", []string{"-shutdown-timeout=5s"}, nil, nil, "shutdown-timeout"},
		{"etcd timeout", []string{"-etcd-timeout=1ms"}, nil, nil, "etcd-timeout"},
		{"jaeger ui from env", nil, map[string]string{"XII_JAEGER_UI_URL": "https://jaeger.example.com"},
			func(c config) bool { return c.JaegerUIURL == "https://jaeger.example.com" }, ""},
		{"bad jaeger ui", []string{"-jaeger-ui-url=localhost:16686"}, nil, nil, "jaeger-ui-url: must be an absolute"},
		{"overload settings", nil, map[string]string{"XII_ANSWER_RESERVE": "80ms", "XII_MAX_IN_FLIGHT": "64", "XII_PPROF_ADDR": "127.0.0.1:6060"},
			func(c config) bool {
				return c.AnswerReserve == 80*time.Millisecond && c.MaxInFlight == 64 && c.PprofAddr == "127.0.0.1:6060"
			}, ""},
		{"answer reserve", []string{"-answer-reserve=2s"}, nil, nil, "answer-reserve"},
		{"bad env", nil, map[string]string{"XII_MAX_TIMEOUT": "later"}, nil, "XII_MAX_TIMEOUT"},
		{"bad level", []string{"-log-level=loud"}, nil, nil, "log-level"},
		{"stray args", []string{"serve"}, nil, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, env(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseConfig() = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Fatalf("parseConfig() = %+v, %v", c, err)
			}
		})
	}
}

func TestConfigLogMasksToken(t *testing.T) {
	c, err := parseConfig([]string{"-api-token=t0k3n-t0k3n-t0k3n"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	if out := buf.String(); strings.Contains(out, "t0k3n") || !strings.Contains(out, `"api_token":"***"`) {
		t.Fatalf("config log leaks or hides the token setting: %s", out)
	}
}
