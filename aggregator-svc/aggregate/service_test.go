package aggregate

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xii/libs/xiiapi"
)

// hangingSyncer is a provider that never answers once hang is set: Sync
// then returns only when its deadline passes, reporting a timeout.
type hangingSyncer struct{ hang atomic.Bool }

func (h *hangingSyncer) Sync(ctx context.Context) SyncReport {
	if !h.hang.Load() {
		return SyncReport{Complete: true, Providers: map[string]ProviderSync{"blue": {Status: xiiapi.StatusOK}}}
	}
	<-ctx.Done()
	return SyncReport{Providers: map[string]ProviderSync{"blue": {Status: xiiapi.StatusTimeout, Error: "not synced within the deadline"}}}
}

// slowReader is a starved store: every read takes took, unless its
// context ends first.
type slowReader struct {
	fakeReader
	took time.Duration
}

func (s *slowReader) Query(ctx context.Context, q Query) (ResultPage, error) {
	t := time.NewTimer(s.took)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ResultPage{}, ctx.Err()
	case <-t.C:
	}
	return s.fakeReader.Query(ctx, q)
}

// A provider that hangs costs completeness, not the answer, even when the
// read after the sync is slow: the sync leaves the read what reads took
// lately. With a fixed share of a fifth of the deadline (120ms of 600ms)
// the 150ms read below ran out of time and the answer was a 504.
func TestStarvedReadStillAnswersIncomplete(t *testing.T) {
	syncer := &hangingSyncer{}
	reader := &slowReader{took: 150 * time.Millisecond}
	srv := httptest.NewServer(NewHTTPHandler(MakeEndpoints(NewService(syncer, reader, nil)), "", slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	header := http.Header{"Request-Timeout": {"600ms"}}

	// One answer while the provider is fine: the read's time is measured.
	if resp, body := call(t, "GET", srv.URL+"/api/v1/responses", header); resp.StatusCode != 200 {
		t.Fatalf("provider fine: status %d: %s", resp.StatusCode, body)
	}
	syncer.hang.Store(true)
	for i := range 3 {
		resp, body := call(t, "GET", srv.URL+"/api/v1/responses", header)
		if resp.StatusCode != 200 || resp.Header.Get(SyncCompleteHeader) != "false" || !strings.Contains(body, `"status":"timeout"`) {
			t.Fatalf("answer %d with the provider hanging: status %d, %s=%q: %s", i+1, resp.StatusCode,
				SyncCompleteHeader, resp.Header.Get(SyncCompleteHeader), body)
		}
	}
}
