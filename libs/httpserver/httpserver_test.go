package httpserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, h http.Handler, path string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code
}

func TestRoutes(t *testing.T) {
	var readyErr error
	s := New(Routes{
		API:     http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }),
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "m 1\n") }),
		Ready:   func(context.Context) error { return readyErr },
	}, slog.New(slog.DiscardHandler))
	h := s.Handler()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/api": 418} {
		if got := get(t, h, path); got != want {
			t.Errorf("GET %s = %d, want %d", path, got, want)
		}
	}
	readyErr = errors.New("db down")
	if got := get(t, h, "/readyz"); got != 503 {
		t.Errorf("readyz with failing check = %d, want 503", got)
	}
	if got := get(t, h, "/healthz"); got != 200 {
		t.Errorf("healthz with failing check = %d, want 200", got)
	}
}

// TestServeDrains checks that a request in flight when the stop comes still
// gets its answer, and that readiness turns false meanwhile.
func TestServeDrains(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s := New(Routes{API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})}, slog.New(slog.DiscardHandler))
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, 10*time.Second) }()

	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- string(b)
	}()
	<-entered
	stop()
	for !s.draining.Load() {
		time.Sleep(time.Millisecond) // polls a condition; Serve sets it right after ctx is done
	}
	if got := get(t, s.Handler(), "/readyz"); got != 503 {
		t.Errorf("readyz while draining = %d, want 503", got)
	}
	close(release)
	if got := <-answer; got != "done" {
		t.Fatalf("in-flight request got %q, want done", got)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve() = %v, want nil", err)
	}
	again, err := Listen(ln.Addr().String())
	if err != nil {
		t.Fatalf("port still taken after Serve returned: %v", err)
	}
	again.Close()
}

func TestListenTakenPort(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := Listen(ln.Addr().String()); err == nil {
		t.Fatal("Listen on a taken port succeeded")
	}
}
