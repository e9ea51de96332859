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
	"time"
)

// cmdOpen measures a read path under open-loop load: requests are sent at
// a fixed rate whether or not earlier ones were answered, as real clients
// do, so that overload shows as queueing, shed requests and late answers
// instead of a closed loop quietly slowing down.
func cmdOpen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("open", "Send the same GET at fixed rates (open loop: on schedule, whether or not earlier\n"+
		"requests were answered), each for -d, with the deadline -deadline sent as Request-Timeout,\n"+
		"after one closed-loop level (concurrency 1, -d) unless -closed=false.\n"+
		"Prints per level: p50/p99 of the 200 answers, and as multiples of one sync round (the\n"+
		"median of -round-n sequential POSTs to -round-url, measured first); the share complete;\n"+
		"stale complete answers (missing a write the -providers writer had acknowledged before the\n"+
		"request was sent) of those checked; 503 and 504 answers, other failures, the share\n"+
		"answered (any status) within deadline + 50ms; provider fetches per request (the\n"+
		"aggregator's xii_fetch_duration_seconds_count from -aggregator's /metrics, its own polling\n"+
		"included); the CPU the processes of -pids used (from /proc) per 200 answer, in all and\n"+
		"per process; and the machine's CPU busy share.", stderr)
	target := fs.String("url", "http://127.0.0.1:1100/api/v1/responses?device=iOS&location=Germany&limit=50", "request URL")
	rates := fs.String("rates", "250,500", "comma-separated request rates per second, one level each")
	d := fs.Duration("d", 10*time.Second, "how long each level lasts")
	deadline := fs.Duration("deadline", 2*time.Second, "the request's deadline, sent as Request-Timeout; the client gives up 1s after it")
	maxOut := fs.Int("max-outstanding", 20000, "most requests in flight from the generator; a request due past it is counted as not sent")
	closed := fs.Bool("closed", true, "measure a closed-loop level (concurrency 1) before the rates")
	pids := fs.String("pids", "", "comma-separated process ids whose CPU time is counted (xii-load up prints XII_PIDS)")
	pidNames := fs.String("pid-names", "", "comma-separated names of -pids, in the same order (xii-load up prints XII_PID_NAMES)")
	provs := fs.String("providers", "", "comma-separated survey-svc base URLs for a background writer (empty: none)")
	writeRate := fs.Float64("write-rate", 20, "background writes per second, round robin over -providers")
	fresh := fs.Bool("fresh", true, "with -providers: write only responses the -url's query matches, and check complete answers hold the last acknowledged")
	aggregator := fs.String("aggregator", "", "aggregator base URL whose /metrics counts provider fetches (xii-load up prints XII_AGGREGATOR; empty: not counted)")
	roundURL := fs.String("round-url", "", "URL to POST for one sync round, e.g. $XII_AGGREGATOR/api/v1/sync (empty: no round measured)")
	roundN := fs.Int("round-n", 20, "sequential rounds measured; their median is one round")
	settle := fs.Duration("settle", 2*time.Second, "pause between levels, for queues to drain")
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
	names, err := pidLabels(procs, *pidNames)
	if err != nil {
		return err
	}
	if *d <= 0 || *deadline <= 0 || *maxOut < 1 || *writeRate < 0 || *settle < 0 || *roundN < 1 {
		return errors.New("-d, -deadline, -max-outstanding and -round-n must be positive, -write-rate and -settle not negative")
	}
	run := &openRun{
		stdout: stdout, client: newClient(1024, *deadline+time.Second), target: *target, deadline: *deadline,
		procs: procs, names: names, aggregator: strings.TrimRight(*aggregator, "/"),
	}
	if providers := splitList(*provs); len(providers) > 0 {
		w := &writer{client: newClient(16, 10*time.Second), timeout: 10 * time.Second, rate: *writeRate, sp: newSpread(uint64(time.Now().UnixNano()))}
		if *fresh && *writeRate > 0 {
			if run.fresh, err = newFreshness(*target); err != nil {
				return err
			}
			w.fresh = run.fresh
		}
		wctx, stopWriter := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { w.run(wctx, providers) })
		defer func() {
			stopWriter()
			wg.Wait()
			fmt.Fprintf(stdout, "writer     %d posted, %d failed\n", w.ok.Load(), w.failed.Load())
		}()
	}

	fmt.Fprintf(stdout, "open GET %s  deadline %s  d=%s  cpu of pids %v\n", *target, *deadline, *d, procs)
	if *roundURL != "" {
		if run.round, err = measureRound(ctx, run.client, *roundURL, *roundN, *deadline, stdout); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, openRow, "rate", "sent", "200/s", "p50", "p99", "p50/round", "p99/round", "complete", "stale",
		"503", "504", "other", "in time", "fetches/req", "cpu/answer", "cpu busy")
	if *closed {
		if err := run.level(ctx, "1 (closed)", func(do call) openResult { return closedLoop(ctx, *d, do) }); err != nil {
			return err
		}
		if err := sleep(ctx, *settle); err != nil {
			return err
		}
	}
	for _, rate := range rs {
		if err := run.level(ctx, strconv.Itoa(rate), func(do call) openResult {
			return openLoop(ctx, float64(rate), *d, *maxOut, do)
		}); err != nil {
			return err
		}
		if o := run.last; o.skipped > 0 {
			fmt.Fprintf(stdout, "  (rate %d) %d due requests not sent: %d already outstanding\n", rate, o.skipped, *maxOut)
		}
		if err := sleep(ctx, *settle); err != nil {
			return err
		}
	}
	return nil
}

// measureRound POSTs to url n times, one after the other, prints the
// rounds' spread and returns their median.
func measureRound(ctx context.Context, c *http.Client, url string, n int, deadline time.Duration, stdout io.Writer) (time.Duration, error) {
	o := newOpenResult()
	start := time.Now()
	for range n {
		t := time.Now()
		a, err := request(ctx, c, http.MethodPost, url, deadline, false)
		o.record(time.Since(t), a.status, a.complete, err)
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	o.done(start)
	if len(o.lat) == 0 {
		return 0, fmt.Errorf("one round: none of %d POST %s answered 200 (%v, %v)", n, url, o.status, o.errs)
	}
	fmt.Fprintf(stdout, "one round  POST %s: median %s (min %s, max %s; %d of %d answered 200, %d complete)\n",
		url, ms(o.pct(50)), ms(o.pct(0)), ms(o.pct(100)), len(o.lat), n, o.complete)
	return o.pct(50), nil
}

// answer is what request read.
type answer struct {
	status   int
	complete bool   // X-Sync-Complete: true
	body     []byte // when asked for
}

// request sends one request with deadline as its Request-Timeout and
// reads the whole answer, keeping its body when keep is set.
func request(ctx context.Context, c *http.Client, method, url string, deadline time.Duration, keep bool) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return answer{}, fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Request-Timeout", deadline.String())
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, complete: resp.Header.Get(syncCompleteHeader) == "true"}
	body := io.LimitReader(resp.Body, 8<<20)
	if keep {
		a.body, err = io.ReadAll(body)
	} else {
		_, err = io.Copy(io.Discard, body)
	}
	if err != nil {
		return answer{}, fmt.Errorf("read answer: %w", err)
	}
	return a, nil
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

// pidLabels returns a name for each of pids: from the comma-separated
// names, which must then be as many, or "pid N".
func pidLabels(pids []int, names string) ([]string, error) {
	l := splitList(names)
	if len(l) == 0 {
		for _, pid := range pids {
			l = append(l, "pid "+strconv.Itoa(pid))
		}
		return l, nil
	}
	if len(l) != len(pids) {
		return nil, fmt.Errorf("-pid-names: %d names for %d pids", len(l), len(pids))
	}
	return l, nil
}
