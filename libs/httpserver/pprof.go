package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"
)

// Pprof returns net/http/pprof's handlers on a mux of their own, for an
// admin listener: never the API's, so that profiles are not one of its
// routes and cannot be reached where the API is.
func Pprof() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// PprofActor listens on addr and serves Pprof there until the group is
// interrupted. A CPU profile or trace may take as long as it asks for,
// up to a minute.
func PprofActor(addr string, logger *slog.Logger) (execute func() error, interrupt func(error), err error) {
	ln, err := Listen(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("pprof: %w", err)
	}
	srv := &http.Server{
		Handler:           Pprof(),
		ReadHeaderTimeout: readHeaderTimeout,
		WriteTimeout:      time.Minute + 10*time.Second,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("serving pprof", "addr", ln.Addr().String())
	return func() error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("pprof: %w", err)
			}
			return nil
		}, func(error) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		}, nil
}
