package throttle

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"xii/libs/xiiapi"
)

func TestSyncLogWarnsOncePerInterval(t *testing.T) {
	var buf bytes.Buffer
	l := NewSyncLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), time.Hour)
	rep := xiiapi.SyncReport{Providers: map[string]xiiapi.ProviderSync{"blue": {Status: xiiapi.StatusOK}, "red": {Status: xiiapi.StatusTimeout}}}
	for range 3 {
		l.Answered(t.Context(), "query", rep, slog.Int("rows", 1))
	}
	l.Answered(t.Context(), "query", xiiapi.SyncReport{Complete: true})
	out := buf.String()
	if n := strings.Count(out, "level=WARN"); n != 1 || !strings.Contains(out, "unsynced_providers=[red]") || !strings.Contains(out, "op=query") {
		t.Errorf("%d warnings, want one naming red:\n%s", n, out)
	}
	if n := strings.Count(out, "level=DEBUG"); n != 3 {
		t.Errorf("%d debug lines, want the two held back and the complete one:\n%s", n, out)
	}
}
