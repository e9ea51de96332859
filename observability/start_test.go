package observability

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestStartLogsTheStart(t *testing.T) {
	var out bytes.Buffer
	logger, tel, err := Start(t.Context(), Config{ServiceName: "test-svc", ServiceVersion: "v1"}, &out, slog.LevelInfo, "config", "c")
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Flush(t.Context(), logger)
	line := out.String()
	for _, want := range []string{`"msg":"starting"`, `"service":"test-svc"`, `"version":"v1"`, `"config":"c"`} {
		if !strings.Contains(line, want) {
			t.Errorf("start line %s: missing %s", line, want)
		}
	}
}
