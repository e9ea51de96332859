package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// cmdOpen measures a read path under open-loop load: requests are sent at
// a fixed rate whether or not earlier ones were answered, as real clients
// do, so that overload shows as queueing, shed requests and late answers
// instead of a closed loop quietly slowing down.
func cmdOpen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("open", "Send the same GET at fixed rates (open loop: on schedule, whether or not earlier\n"+
		"requests were answered), each for -d, with the deadline -deadline sent as Request-Timeout.\n"+
		"Prints per rate: p50/p99 of the 200 answers, the share complete, 503 and 504 answers, other\n"+
		"failures, the share of requests answered (any status) within deadline + 50ms, and the CPU\n"+
		"seconds the processes of -pids used (from /proc) per 200 answer.", stderr)
	target := fs.String("url", "http://127.0.0.1:1100/api/v1/responses?device=iOS&location=Germany&limit=50", "request URL")
	rates := fs.String("rates", "250,500", "comma-separated request rates per second, one level each")
	d := fs.Duration("d", 10*time.Second, "how long each rate lasts")
	deadline := fs.Duration("deadline", 2*time.Second, "the request's deadline, sent as Request-Timeout; the client gives up 1s after it")
	maxOut := fs.Int("max-outstanding", 20000, "most requests in flight from the generator; a request due past it is counted as not sent")
	pids := fs.String("pids", "", "comma-separated process ids whose CPU time is counted (xii-load up prints XII_PIDS)")
	provs := fs.String("providers", "", "comma-separated survey-svc base URLs for a background writer (empty: none)")
	writeRate := fs.Float64("write-rate", 20, "background writes per second, round robin over -providers")
	settle := fs.Duration("settle", 2*time.Second, "pause between rates, for queues to drain")
	if err := parse(fs, args); err != nil {
		return err
	}
	rs, err := parseInts(*rates)
	if err != nil {
		return fmt.Errorf("-rates: %w", err)
	}
	procs, err := parsePids(*pids)
	if err != nil {
		return fmt.Errorf("-pids: %w", err)
	}
	if *d <= 0 || *deadline <= 0 || *maxOut < 1 || *writeRate < 0 || *settle < 0 {
		return errors.New("-d, -deadline and -max-outstanding must be positive, -write-rate and -settle not negative")
	}
	client := newClient(1024, *deadline+time.Second)
	if providers := splitList(*provs); len(providers) > 0 {
		wctx, stopWriter := context.WithCancel(ctx)
		w := &writer{client: newClient(16, 10*time.Second), timeout: 10 * time.Second, rate: *writeRate, sp: newSpread(uint64(time.Now().UnixNano()))}
		var wg sync.WaitGroup
		wg.Go(func() { w.run(wctx, providers) })
		defer func() {
			stopWriter()
			wg.Wait()
			fmt.Fprintf(stdout, "writer     %d posted, %d failed\n", w.ok.Load(), w.failed.Load())
		}()
	}

	fmt.Fprintf(stdout, "open GET %s  deadline %s  d=%s  cpu of pids %v\n", *target, *deadline, *d, procs)
	const row = "%7v %7v %9v %9v %9v %8v %6v %6v %7v %8v %11v %9v\n"
	fmt.Fprintf(stdout, row, "rate", "sent", "200/s", "p50", "p99", "complete", "503", "504", "other", "in time", "cpu/answer", "cpu busy")
	for _, rate := range rs {
		cpu0, err := cpuSeconds(procs)
		if err != nil {
			return err
		}
		m0, _ := machineCPU()
		o := openLoop(ctx, float64(rate), *d, *maxOut, func(ctx context.Context) (int, bool, error) {
			return get(ctx, client, *target, *deadline)
		})
		cpu1, err := cpuSeconds(procs)
		if err != nil {
			return err
		}
		m1, _ := machineCPU()
		fmt.Fprintf(stdout, row, rate, o.sent, fmt.Sprintf("%.1f", float64(len(o.lat))/o.elapsed.Seconds()),
			ms(o.pct(50)), ms(o.pct(99)), share(int64(o.complete), len(o.lat)),
			share(int64(o.status[http.StatusServiceUnavailable]), o.sent), share(int64(o.status[http.StatusGatewayTimeout]), o.sent),
			share(int64(o.other()), o.sent), share(int64(o.inTime(*deadline+50*time.Millisecond)), o.sent),
			cpuPerAnswer(cpu1-cpu0, len(o.lat)), m1.busy(m0))
		for _, k := range slices.Sorted(maps.Keys(o.errs)) {
			fmt.Fprintf(stdout, "  (rate %d) %d × %s\n", rate, o.errs[k], k)
		}
		if o.skipped > 0 {
			fmt.Fprintf(stdout, "  (rate %d) %d due requests not sent: %d already outstanding\n", rate, o.skipped, *maxOut)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := sleep(ctx, *settle); err != nil {
			return err
		}
	}
	return nil
}

// get sends one GET with deadline as its Request-Timeout and reads the
// whole answer; it returns the status and whether X-Sync-Complete is true.
func get(ctx context.Context, c *http.Client, url string, deadline time.Duration) (int, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, false, fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Request-Timeout", deadline.String())
	resp, err := c.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 8<<20)); err != nil {
		return 0, false, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, resp.Header.Get(syncCompleteHeader) == "true", nil
}

// openResult is what one rate measured.
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

func (o openResult) pct(p float64) time.Duration { return result{lat: o.lat}.pct(p) }

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

// openLoop calls do at rate per second for d, each call on its own
// goroutine at its due time, at most maxOut at once, and waits for the
// calls still in flight. do returns the answer's status and completeness.
func openLoop(ctx context.Context, rate float64, d time.Duration, maxOut int, do func(context.Context) (int, bool, error)) openResult {
	type answer struct {
		took     time.Duration
		status   int
		complete bool
		err      error
	}
	answers := make(chan answer, 1024)
	slots := make(chan struct{}, maxOut)
	o := openResult{status: map[int]int{}, errs: map[string]int{}}
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for a := range answers {
			switch {
			case a.err != nil:
				o.errs[classify(a.err)]++
				continue
			case a.status == http.StatusOK:
				o.lat = append(o.lat, a.took)
				if a.complete {
					o.complete++
				}
			default:
				o.status[a.status]++
			}
			o.all = append(o.all, a.took)
		}
	}()
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	total := int(rate * d.Seconds())
	var wg sync.WaitGroup
	timer := time.NewTimer(0)
	defer timer.Stop()
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
			o.skipped++
			continue
		}
		o.sent++
		wg.Go(func() {
			defer func() { <-slots }()
			t := time.Now()
			status, complete, err := do(ctx)
			answers <- answer{took: time.Since(t), status: status, complete: complete, err: err}
		})
	}
	wg.Wait()
	o.elapsed = time.Since(start)
	close(answers)
	<-collected
	slices.Sort(o.lat)
	slices.Sort(o.all)
	return o
}

// cpuPerAnswer formats CPU seconds per answer in milliseconds.
func cpuPerAnswer(cpu float64, answers int) string {
	if answers == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3fms", 1000*cpu/float64(answers))
}

// parsePids parses "12,34": process ids; empty is none.
func parsePids(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	return parseInts(s)
}
