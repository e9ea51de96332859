package main

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"
)

// openResult is what one rate, or the closed loop, measured.
type openResult struct {
	elapsed  time.Duration
	sent     int
	skipped  int
	lat      []time.Duration // of the 200 answers, sorted
	all      []time.Duration // of every answer, whatever its status, sorted
	complete int             // 200 answers with X-Sync-Complete: true
	status   map[int]int     // answers other than 200, by status
	errs     map[string]int  // requests without an answer, by kind
}

func newOpenResult() openResult { return openResult{status: map[int]int{}, errs: map[string]int{}} }

func (o openResult) pct(p float64) time.Duration { return result{lat: o.lat}.pct(p) }

// record counts one request's outcome: it took took and was answered
// status (complete or not), or failed with err.
func (o *openResult) record(took time.Duration, status int, complete bool, err error) {
	switch {
	case err != nil:
		o.errs[classify(err)]++
		return
	case status == http.StatusOK:
		o.lat = append(o.lat, took)
		if complete {
			o.complete++
		}
	default:
		o.status[status]++
	}
	o.all = append(o.all, took)
}

// done sorts the latencies once the run is over.
func (o *openResult) done(start time.Time) {
	o.elapsed = time.Since(start)
	slices.Sort(o.lat)
	slices.Sort(o.all)
}

// other counts the requests that got neither 200, 503 nor 504.
func (o openResult) other() int {
	n := 0
	for code, v := range o.status {
		if code != http.StatusServiceUnavailable && code != http.StatusGatewayTimeout {
			n += v
		}
	}
	for _, v := range o.errs {
		n += v
	}
	return n
}

// inTime counts the answers, any status, that came within limit.
func (o openResult) inTime(limit time.Duration) int {
	n, _ := slices.BinarySearch(o.all, limit+1)
	return n
}

// call is one request: it returns the answer's status and completeness.
type call func(context.Context) (int, bool, error)

// openLoop calls do at rate per second for d, each call on its own
// goroutine at its due time, at most maxOut at once, and waits for the
// calls still in flight.
func openLoop(ctx context.Context, rate float64, d time.Duration, maxOut int, do call) openResult {
	type answer struct {
		took     time.Duration
		status   int
		complete bool
		err      error
	}
	answers := make(chan answer, 1024)
	slots := make(chan struct{}, maxOut)
	o := newOpenResult()
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for a := range answers {
			o.record(a.took, a.status, a.complete, a.err)
		}
	}()
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	total := int(rate * d.Seconds())
	var wg sync.WaitGroup
	timer := time.NewTimer(0)
	defer timer.Stop()
	sent, skipped := 0, 0
	for i := 0; i < total && ctx.Err() == nil; i++ {
		// Due times are fixed from the start: a late tick is caught up at
		// once, so a slow generator does not lower the rate.
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
		select {
		case slots <- struct{}{}:
		default:
			skipped++
			continue
		}
		sent++
		wg.Go(func() {
			defer func() { <-slots }()
			t := time.Now()
			status, complete, err := do(ctx)
			answers <- answer{took: time.Since(t), status: status, complete: complete, err: err}
		})
	}
	wg.Wait()
	close(answers)
	<-collected
	o.sent, o.skipped = sent, skipped
	o.done(start)
	return o
}

// closedLoop calls do for d, one call at a time, each as soon as the one
// before is answered: concurrency 1, the latency of an unloaded system.
func closedLoop(ctx context.Context, d time.Duration, do call) openResult {
	o := newOpenResult()
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		o.sent++
		t := time.Now()
		status, complete, err := do(ctx)
		o.record(time.Since(t), status, complete, err)
	}
	o.done(start)
	return o
}
