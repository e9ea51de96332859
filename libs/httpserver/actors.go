package httpserver

import (
	"context"
	"fmt"
	"net"
	"time"
)

// The actors below are the pieces of a service's oklog/run.Group, in the
// shape go-kit's examples use: each an execute function and the interrupt
// that ends it. The group ends all of them when the first returns.
//
// The order of a graceful stop follows from it: on SIGINT or SIGTERM (ctx
// done) the server stops taking requests and lets those in flight finish;
// only when it has drained does its execute return, and the background
// work (registration, watches, polling) is interrupted, so that a service
// stays registered and in step while it still answers.

// Actor serves on ln until ctx is done or the group is interrupted, then
// drains for up to grace; see Serve.
func (s *Server) Actor(ctx context.Context, ln net.Listener, grace time.Duration) (execute func() error, interrupt func(error)) {
	ctx, cancel := context.WithCancel(ctx)
	return func() error { return s.Serve(ctx, ln, grace) }, func(error) { cancel() }
}

// Background runs f until the group is interrupted; it outlives ctx, which
// only stops the server. A background task that ends early without an
// error does not stop the others: its execute waits for the interrupt. One
// that fails stops the service, its error named.
func Background(ctx context.Context, name string, f func(context.Context) error) (execute func() error, interrupt func(error)) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	return func() error {
		if err := f(ctx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		<-ctx.Done()
		return nil
	}, func(error) { cancel() }
}
