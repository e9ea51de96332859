package httpserver

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// RunFunc is a service's run: it serves until ctx is done, reading its
// configuration from args and the environment (lookup).
type RunFunc func(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error

// Main is the main function every xii service shares. "name healthcheck"
// probes the running service's /healthz (the container image's health
// check: it has no shell or curl). Otherwise it calls run with a context
// cancelled on SIGINT or SIGTERM — a second signal kills at once — and
// exits 1, naming the service, when run fails. It sets the garbage
// collector's targets first (see DefaultGOGC).
func Main(name, defaultListenAddr string, run RunFunc) {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(HealthcheckCommand(context.Background(), os.Args[2:], defaultListenAddr, os.LookupEnv, os.Stderr))
	}
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		}
		os.Exit(1)
	}
}
