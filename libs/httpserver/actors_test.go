package httpserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/oklog/run"
)

// TestGroupStopsInOrder checks the order a graceful stop relies on: the
// background work runs until the server has drained, and a failing
// background task stops the server.
func TestGroupStopsInOrder(t *testing.T) {
	t.Run("signal", func(t *testing.T) {
		ctx, signal := context.WithCancel(t.Context())
		srv := New(Routes{API: http.NotFoundHandler()}, slog.New(slog.DiscardHandler))
		ln, err := Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan struct{})
		stoppedBeforeServed := make(chan bool, 1)
		var g run.Group
		execute, interrupt := srv.Actor(ctx, ln, time.Second)
		g.Add(func() error { defer close(served); return execute() }, interrupt)
		g.Add(Background(ctx, "work", func(ctx context.Context) error {
			<-ctx.Done()
			select {
			case <-served:
				stoppedBeforeServed <- false
			default:
				stoppedBeforeServed <- true
			}
			return nil
		}))
		signal()
		if err := g.Run(); err != nil {
			t.Fatalf("run: %v", err)
		}
		if <-stoppedBeforeServed {
			t.Error("background work stopped before the server had drained")
		}
	})
	t.Run("background fails", func(t *testing.T) {
		srv := New(Routes{API: http.NotFoundHandler()}, slog.New(slog.DiscardHandler))
		ln, err := Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		var g run.Group
		g.Add(srv.Actor(t.Context(), ln, time.Second))
		g.Add(Background(t.Context(), "work", func(context.Context) error { return boom }))
		if err := g.Run(); !errors.Is(err, boom) || err.Error() != "work: boom" {
			t.Fatalf("run = %v, want work: boom", err)
		}
	})
}
