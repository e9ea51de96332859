package aggregate

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"xii/libs/xiiapi"
)

type reportSyncer SyncReport

func (r reportSyncer) Sync(context.Context) SyncReport { return SyncReport(r) }

type emptyReader struct{ Reader }

func (emptyReader) Query(context.Context, Query) (ResultPage, error) { return ResultPage{}, nil }

func TestLoggingMiddlewareNamesUnsyncedProviders(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rep := SyncReport{Providers: map[string]ProviderSync{"blue": {Status: xiiapi.StatusOK}, "red": {Status: xiiapi.StatusTimeout}}}
	svc := LoggingMiddleware(logger)(NewService(reportSyncer(rep), emptyReader{}, nil))
	for range 3 {
		if _, err := svc.Query(t.Context(), Query{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := buf.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "unsynced_providers=[red]") || !strings.Contains(got, "op=query") {
		t.Errorf("log %q: want a warning naming red", got)
	}
	if n := strings.Count(buf.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings for three answers missing red, want one per interval:\n%s", n, buf.String())
	}
}
