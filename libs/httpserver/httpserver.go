// Package httpserver holds what every xii HTTP service shares: the
// operational routes (/healthz, /readyz, /metrics), an http.Server with sane
// timeouts and limits, and a graceful stop that lets in-flight requests
// finish.
package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"xii/libs/throttle"
)

// Server timeouts and limits. Handlers that need longer deadlines enforce
// their own, shorter, per request.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 2 * time.Minute
	// idleTimeout is short: an idle keep-alive connection holds a file
	// descriptor, and a client reconnects in a round trip.
	idleTimeout    = 30 * time.Second
	maxHeaderBytes = 32 << 10
	readyTimeout   = 2 * time.Second
)

// Routes are a service's handlers.
type Routes struct {
	API     http.Handler                    // everything but the operational routes
	Metrics http.Handler                    // Prometheus text format
	Ready   func(ctx context.Context) error // nil error: dependencies reachable
}

// Server is an HTTP server whose readiness turns false while it drains,
// and whose open connections are capped (see Serve).
type Server struct {
	srv      *http.Server
	draining atomic.Bool
	logger   *slog.Logger
	maxConns int
	limiter  atomic.Pointer[connLimiter] // set by Serve
	inFlight int
	api      *InFlight // nil when the API is unbounded
}

// Option configures a Server.
type Option func(*Server)

// WithMaxConns caps the server's open connections at n; 0 or less keeps
// DefaultMaxConns.
func WithMaxConns(n int) Option {
	return func(s *Server) {
		if n > 0 {
			s.maxConns = n
		}
	}
}

// WithMaxInFlight bounds the API requests served at once to n (see
// LimitInFlight); the operational routes are never bounded. 0 or less:
// no bound, as without the option.
func WithMaxInFlight(n int) Option {
	return func(s *Server) { s.inFlight = n }
}

// New returns a server for routes. logger receives readiness failures.
func New(routes Routes, logger *slog.Logger, opts ...Option) *Server {
	s := &Server{logger: logger, maxConns: DefaultMaxConns()}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", s.ready(routes.Ready))
	if routes.Metrics != nil {
		mux.Handle("GET /metrics", routes.Metrics)
	}
	api := LimitInFlight(s.inFlight, routes.API)
	if s.api, _ = api.(*InFlight); s.api != nil {
		s.api.log, s.api.every = logger, throttle.New(shedLogEvery)
	}
	mux.Handle("/", api)
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Conns returns how many connections are open and how many were refused
// at the cap so far, 0 and 0 before Serve.
func (s *Server) Conns() (open, refused int64) {
	if l := s.limiter.Load(); l != nil {
		return l.active.Load(), l.refused.Load()
	}
	return 0, 0
}

// Shed returns how many API requests were answered 503 for the in-flight
// bound so far.
func (s *Server) Shed() int64 {
	if s.api == nil {
		return 0
	}
	return s.api.Shed()
}

// Handler returns the server's root handler, for tests.
func (s *Server) Handler() http.Handler { return s.srv.Handler }

func (s *Server) ready(check func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			writeStatus(w, http.StatusServiceUnavailable, "draining")
			return
		}
		if check != nil {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			if err := check(ctx); err != nil {
				s.logger.WarnContext(ctx, "not ready", "err", err)
				writeStatus(w, http.StatusServiceUnavailable, "not ready")
				return
			}
		}
		writeStatus(w, http.StatusOK, "ready")
	}
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status})
}

// Listen binds addr, so that a taken port is reported before anything else
// starts.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Serve serves on ln until ctx is done, then stops taking requests and
// waits up to grace for those in flight. It returns nil after a clean stop.
//
// At most the configured number of connections are open at once: past
// three quarters of it idle keep-alive connections are closed, and at the
// cap a new connection is answered 503 with Retry-After and closed, so a
// flood of connections cannot take the file descriptors the requests being
// served need.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	lim := newConnLimiter(ln, s.maxConns, s.srv.SetKeepAlivesEnabled)
	s.limiter.Store(lim)
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(lim) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := s.srv.Shutdown(shutdownCtx); err != nil {
		s.srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
