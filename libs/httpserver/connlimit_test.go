package httpserver

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestIdleFloodDoesNotStarveRequests: a client that opens connections and
// leaves them idle (the ~20,000 that ran the dashboard out of file
// descriptors) never holds more than the cap, and normal requests made
// during the flood are all answered 200.
func TestIdleFloodDoesNotStarveRequests(t *testing.T) {
	const limit, flood = 100, 2000
	srv := New(Routes{API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })},
		slog.New(slog.DiscardHandler), WithMaxConns(limit))
	addr := serve(t, srv)

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	asked := func() time.Duration {
		start := time.Now()
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request: status %d", resp.StatusCode)
		}
		return time.Since(start)
	}
	var quiet []time.Duration
	for range 200 {
		quiet = append(quiet, asked())
	}

	var (
		mu       sync.Mutex
		idle     []net.Conn // the flood's connections, left open
		peak     atomic.Int64
		done     = make(chan struct{})
		flooding sync.WaitGroup
	)
	t.Cleanup(func() {
		for _, c := range idle {
			c.Close()
		}
	})
	flooding.Go(func() {
		for range flood {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				continue
			}
			c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				resp.Body.Close()
			}
			mu.Lock()
			idle = append(idle, c)
			mu.Unlock()
			if open, _ := srv.Conns(); open > peak.Load() {
				peak.Store(open)
			}
		}
		close(done)
	})

	var took []time.Duration
	for {
		select {
		case <-done:
		default:
			took = append(took, asked())
			continue
		}
		break
	}
	flooding.Wait()
	open, refused := srv.Conns()
	if p := peak.Load(); p > limit {
		t.Errorf("%d connections open at the peak, over the cap of %d", p, limit)
	}
	slices.Sort(took)
	if len(took) == 0 {
		t.Fatal("no request ran during the flood")
	}
	slices.Sort(quiet)
	t.Logf("flood of %d idle connections, cap %d: peak %d open, %d open after, %d refused; %d requests during it: "+
		"p50 %v (%.2f× the %v before the flood), p99 %v (%.2f× %v)",
		flood, limit, peak.Load(), open, refused, len(took),
		took[len(took)/2], float64(took[len(took)/2])/float64(quiet[len(quiet)/2]), quiet[len(quiet)/2],
		took[len(took)*99/100], float64(took[len(took)*99/100])/float64(quiet[len(quiet)*99/100]), quiet[len(quiet)*99/100])
}

// TestConnectionsOverTheCapAreRefused: with every place taken by a request
// still being served, a new connection gets a 503 with Retry-After at once
// instead of waiting in the accept queue.
func TestConnectionsOverTheCapAreRefused(t *testing.T) {
	const limit = 4
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(limit)
	srv := New(Routes{API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Done()
		<-release
	})}, slog.New(slog.DiscardHandler), WithMaxConns(limit))
	url := "http://" + serve(t, srv) + "/"

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var busy sync.WaitGroup
	for range limit {
		busy.Go(func() {
			if resp, err := client.Get(url); err == nil {
				resp.Body.Close()
			}
		})
	}
	started.Wait()
	resp, err := client.Get(url)
	close(release)
	busy.Wait()
	if err != nil {
		t.Fatalf("over the cap: %v, want a 503", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over the cap: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if _, refused := srv.Conns(); refused != 1 {
		t.Errorf("%d refused, want 1", refused)
	}
}

// serve runs srv on a free port until t ends and returns its address.
func serve(t *testing.T, srv *Server) string {
	t.Helper()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, time.Second) }()
	t.Cleanup(func() { stop(); <-served })
	return ln.Addr().String()
}
