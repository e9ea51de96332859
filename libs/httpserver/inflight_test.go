package httpserver

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func TestLimitInFlight(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	api := LimitInFlight(2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := New(Routes{API: api, Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}, slog.New(slog.DiscardHandler))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for range 2 {
		wg.Go(func() {
			resp, err := http.Get(ts.URL + "/api/v1/x")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
		<-entered
	}
	// Both slots taken: the API sheds, the probes do not.
	resp, err := http.Get(ts.URL + "/api/v1/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || string(body) != overloaded {
		t.Fatalf("third request: %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s while the API is full: %d", path, resp.StatusCode)
		}
	}
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusNoContent {
			t.Errorf("an admitted request got %d", c)
		}
	}
	if n := api.(*InFlight).Shed(); n != 1 {
		t.Errorf("shed %d, want 1", n)
	}
	// Slots are given back: the next request is served.
	go func() { <-entered }()
	resp, err = http.Get(ts.URL + "/api/v1/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("after the others finished: %d", resp.StatusCode)
	}
}

func TestLimitInFlightOff(t *testing.T) {
	h := http.NotFoundHandler()
	if LimitInFlight(0, h) == nil {
		t.Fatal("nil handler")
	}
	if _, ok := LimitInFlight(0, h).(*InFlight); ok {
		t.Fatal("limit 0 is bounded")
	}
}

func TestPprofActor(t *testing.T) {
	execute, interrupt, err := PprofActor("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- execute() }()
	interrupt(nil)
	if err := <-done; err != nil {
		t.Fatalf("execute after interrupt: %v", err)
	}
	rec := httptest.NewRecorder()
	Pprof().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("pprof index: %d", rec.Code)
	}
}
