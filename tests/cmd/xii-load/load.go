package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// bounds limit a closed-loop run: c workers send requests back to back
// until d has passed or, when total > 0, total requests have been sent,
// whichever comes first. Each request gets at most timeout.
type bounds struct {
	c       int
	d       time.Duration
	total   int
	timeout time.Duration
}

// loadFlags are the flags every load command shares.
type loadFlags struct {
	c, n       *int
	d, timeout *time.Duration
}

func addLoadFlags(fs *flag.FlagSet, c int, d time.Duration) loadFlags {
	return loadFlags{
		c:       fs.Int("c", c, "concurrent workers (closed loop: each sends its next request when the last one is answered)"),
		d:       fs.Duration("d", d, "how long to send requests"),
		n:       fs.Int("n", 0, "stop after this many requests in all (0: only -d bounds the run)"),
		timeout: fs.Duration("timeout", 10*time.Second, "timeout of each request"),
	}
}

func (l loadFlags) bounds() (bounds, error) {
	b := bounds{c: *l.c, d: *l.d, total: *l.n, timeout: *l.timeout}
	switch {
	case b.c < 1:
		return b, errors.New("-c: must be at least 1")
	case b.d <= 0:
		return b, errors.New("-d: must be positive")
	case b.total < 0:
		return b, errors.New("-n: must not be negative")
	case b.timeout <= 0:
		return b, errors.New("-timeout: must be positive")
	}
	return b, nil
}

// result is what a run measured.
type result struct {
	elapsed time.Duration
	lat     []time.Duration // of the successful requests, sorted
	errs    map[string]int  // failed requests by kind
}

// load runs do under b and measures it. Requests still in flight when d
// has passed are finished (each is bounded by b.timeout), not cancelled.
func load(ctx context.Context, b bounds, do func(ctx context.Context) error) result {
	stopAt := time.Now().Add(b.d)
	var sent atomic.Int64
	lats := make([][]time.Duration, b.c)
	errs := make([]map[string]int, b.c)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range b.c {
		errs[w] = map[string]int{}
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(stopAt) {
				if b.total > 0 && sent.Add(1) > int64(b.total) {
					return
				}
				rctx, cancel := context.WithTimeout(ctx, b.timeout)
				t := time.Now()
				err := do(rctx)
				took := time.Since(t)
				cancel()
				if err != nil {
					errs[w][classify(err)]++
					continue
				}
				lats[w] = append(lats[w], took)
			}
		})
	}
	wg.Wait()
	r := result{elapsed: time.Since(start), lat: slices.Concat(lats...), errs: map[string]int{}}
	slices.Sort(r.lat)
	for _, m := range errs {
		for k, v := range m {
			r.errs[k] += v
		}
	}
	return r
}

func (r result) ok() int { return len(r.lat) }

func (r result) failed() int {
	n := 0
	for _, v := range r.errs {
		n += v
	}
	return n
}

// rate is successful requests per second.
func (r result) rate() float64 { return float64(r.ok()) / r.elapsed.Seconds() }

// pct returns the p-th percentile (0 < p <= 100) of the latencies.
func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(float64(len(r.lat))*p/100+0.999999) - 1
	return r.lat[min(max(i, 0), len(r.lat)-1)]
}

func (r result) print(w io.Writer) {
	fmt.Fprintf(w, "  requests   %d ok, %d errors in %s: %.1f ok/s\n",
		r.ok(), r.failed(), r.elapsed.Round(time.Millisecond), r.rate())
	fmt.Fprintf(w, "  latency    p50 %s  p90 %s  p99 %s  max %s (successful requests)\n",
		ms(r.pct(50)), ms(r.pct(90)), ms(r.pct(99)), ms(r.pct(100)))
	for _, k := range slices.Sorted(maps.Keys(r.errs)) {
		fmt.Fprintf(w, "  error      %d × %s\n", r.errs[k], k)
	}
}

// ms formats d in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// classify names the kind of a failed request, briefly.
func classify(err error) string {
	var se *statusError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("HTTP %d", se.code)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	s := err.Error()
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
