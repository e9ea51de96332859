package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// cmdFetches measures how well the aggregator shares provider fetches
// between concurrent dashboard requests: for each number of readers it
// counts the export requests the providers served (from their own
// /metrics) and divides by the dashboard requests sent. A background
// writer keeps posting, so that rounds have new rows to fetch.
func cmdFetches(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fetches", "For each reader count in -c, send dashboard requests from that many closed-loop\n"+
		"readers and print provider fetches per dashboard request, counted from each provider's\n"+
		"/metrics (http_server_request_duration_seconds_count of GET /api/v1/responses), while a\n"+
		"background writer posts a trickle of responses to the providers.", stderr)
	dash := fs.String("dashboard", "http://127.0.0.1:1100", "dashboard-svc base URL")
	query := fs.String("query", "device=iOS&location=Germany&limit=50", "query of each dashboard GET /api/v1/responses")
	provs := fs.String("providers", "http://127.0.0.1:1101,http://127.0.0.1:1102", "comma-separated survey-svc base URLs")
	levels := fs.String("c", "1,10,100,500", "comma-separated reader counts, one level each")
	n := fs.Int("n", 0, "requests per reader at each level (0: only -d bounds a level)")
	d := fs.Duration("d", 10*time.Second, "how long a level lasts at most")
	timeout := fs.Duration("timeout", 10*time.Second, "timeout of each request")
	rate := fs.Float64("write-rate", 20, "background writes per second, round robin over the providers (0: none)")
	baseline := fs.Duration("baseline", 5*time.Second, "count fetches this long without readers first: the aggregator's own polling")
	settle := fs.Duration("settle", time.Second, "pause after each level before counting, for fetches still finishing")
	if err := parse(fs, args); err != nil {
		return err
	}
	cs, err := parseInts(*levels)
	if err != nil {
		return fmt.Errorf("-c: %w", err)
	}
	providers := splitList(*provs)
	if len(providers) == 0 {
		return errors.New("-providers: at least one URL")
	}
	if *n < 0 || *d <= 0 || *timeout <= 0 || *rate < 0 || *baseline < 0 || *settle < 0 {
		return errors.New("-n, -d, -timeout, -write-rate, -baseline and -settle must not be negative (-d, -timeout positive)")
	}
	client := newClient(max(cs[len(cs)-1], 16), *timeout)
	target := strings.TrimRight(*dash, "/") + "/api/v1/responses?" + *query

	wctx, stopWriter := context.WithCancel(ctx)
	w := &writer{client: client, timeout: *timeout, rate: *rate, sp: newSpread(uint64(time.Now().UnixNano()))}
	var wg sync.WaitGroup
	wg.Go(func() { w.run(wctx, providers) })
	defer func() { stopWriter(); wg.Wait() }()

	fmt.Fprintf(stdout, "fetches GET %s  providers %s  write-rate %g/s\n", target, strings.Join(providers, ","), *rate)
	if *baseline > 0 {
		before, err := exportCount(ctx, client, providers)
		if err != nil {
			return err
		}
		if err := sleep(ctx, *baseline); err != nil {
			return err
		}
		after, err := exportCount(ctx, client, providers)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "baseline   %d fetches in %s without readers (the aggregator's own polling)\n", after-before, *baseline)
	}

	const row = "%7v %9v %7v %8v %10v %10v %9v %8v %16v\n"
	fmt.Fprintf(stdout, row, "readers", "requests", "errors", "ok/s", "p50", "p99", "complete", "fetches", "fetches/request")
	for _, c := range cs {
		before, err := exportCount(ctx, client, providers)
		if err != nil {
			return err
		}
		var complete atomic.Int64
		r := load(ctx, bounds{c: c, d: *d, total: *n * c, timeout: *timeout}, func(ctx context.Context) error {
			h, err := send(ctx, client, "GET", target, nil)
			if err == nil && h.Get(syncCompleteHeader) == "true" {
				complete.Add(1)
			}
			return err
		})
		if err := sleep(ctx, *settle); err != nil {
			return err
		}
		after, err := exportCount(ctx, client, providers)
		if err != nil {
			return err
		}
		sent := r.ok() + r.failed()
		fmt.Fprintf(stdout, row, c, sent, r.failed(), fmt.Sprintf("%.1f", r.rate()), ms(r.pct(50)), ms(r.pct(99)),
			share(complete.Load(), r.ok()), after-before, fmt.Sprintf("%.3f", float64(after-before)/float64(max(sent, 1))))
		for k, v := range r.errs {
			fmt.Fprintf(stdout, "  (%d readers) error %d × %s\n", c, v, k)
		}
	}
	stopWriter()
	wg.Wait()
	fmt.Fprintf(stdout, "writer     %d posted, %d failed\n", w.ok.Load(), w.failed.Load())
	return nil
}

// writer posts responses at a steady rate, round robin over providers:
// from sp, or, when fresh is set, responses the fresh check can look for,
// each acknowledged one recorded there.
type writer struct {
	client     *http.Client
	timeout    time.Duration
	rate       float64
	sp         *spread
	fresh      *freshness
	ok, failed atomic.Int64
}

func (w *writer) run(ctx context.Context, providers []string) {
	if w.rate <= 0 {
		return
	}
	t := time.NewTicker(time.Duration(float64(time.Second) / w.rate))
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var body []byte
		if w.fresh != nil {
			body = w.fresh.body()
		} else {
			body = w.sp.body()
		}
		rctx, cancel := context.WithTimeout(ctx, w.timeout)
		_, answer, err := sendRead(rctx, w.client, "POST", strings.TrimRight(providers[i%len(providers)], "/")+"/api/v1/responses", body)
		cancel()
		if err == nil && w.fresh != nil {
			err = w.fresh.acked(answer)
		}
		switch {
		case err == nil:
			w.ok.Add(1)
		case ctx.Err() == nil:
			w.failed.Add(1)
		}
	}
}

// parseInts parses "1,10,100": positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

// splitList splits a comma-separated list, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
