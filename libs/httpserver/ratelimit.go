package httpserver

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Bounds of a RateLimit's memory: a client unseen for clientIdle is
// forgotten, and past maxClients the newcomers share one allowance.
const (
	clientIdle = time.Minute
	maxClients = 100_000
)

// RateLimit allows each client, told apart by its IP address, PerSecond
// requests on average with bursts of Burst; past that a request is
// answered 429 with Retry-After, code rate_limited. A zero PerSecond means
// no limit. Behind a proxy every client has the proxy's address: limit
// there instead.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// Validate reports a negative or non-finite rate, or a burst under one
// with a rate set.
func (rl RateLimit) Validate() error {
	switch {
	case rl.PerSecond < 0 || math.IsNaN(rl.PerSecond) || math.IsInf(rl.PerSecond, 0):
		return fmt.Errorf("rate limit %v: must be a finite number, at least 0", rl.PerSecond)
	case rl.PerSecond > 0 && rl.Burst < 1:
		return fmt.Errorf("rate burst %d: must be at least 1", rl.Burst)
	}
	return nil
}

// ErrRateLimited is what Middleware fails a request with past its
// client's allowance; APIs answer it 429, code rate_limited.
var ErrRateLimited = errors.New("rate limit reached")

// Middleware returns the limit as middleware: every handler it wraps
// draws on the same allowances. A request past its client's allowance
// gets a Retry-After header and goes to fail with an error wrapping
// ErrRateLimited.
func (rl RateLimit) Middleware(fail func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	if rl.PerSecond <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	burst := max(rl.Burst, 1)
	c := &clients{limit: rate.Limit(rl.PerSecond), burst: burst, seen: map[string]*client{},
		crowd: rate.NewLimiter(rate.Limit(rl.PerSecond), burst)}
	err := fmt.Errorf("%w: at most %s requests per second per client; retry after Retry-After seconds",
		ErrRateLimited, strconv.FormatFloat(rl.PerSecond, 'g', -1, 64))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if wait := c.reserve(clientAddr(r), time.Now()); wait > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
				fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// clientAddr is the IP address r came from.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

// clients holds one allowance per client address.
type clients struct {
	limit rate.Limit
	burst int
	crowd *rate.Limiter // shared by the newcomers past maxClients

	mu    sync.Mutex
	seen  map[string]*client
	swept time.Time
}

// reserve takes one request of addr's allowance and returns 0, or how long
// until one is free when there is none (nothing is taken then).
func (c *clients) reserve(addr string, now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.swept) > clientIdle {
		for a, cl := range c.seen {
			if now.Sub(cl.seen) > clientIdle {
				delete(c.seen, a)
			}
		}
		c.swept = now
	}
	lim := c.crowd
	if cl, ok := c.seen[addr]; ok {
		cl.seen, lim = now, cl.lim
	} else if len(c.seen) < maxClients {
		lim = rate.NewLimiter(c.limit, c.burst)
		c.seen[addr] = &client{lim: lim, seen: now}
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}
