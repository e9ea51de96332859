package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// openRow is the layout of open's table.
const openRow = "%10v %7v %8v %9v %9v %9v %9v %8v %10v %6v %6v %6v %8v %11v %11v %8v\n"

// openRun is what every level of one open run shares.
type openRun struct {
	stdout     io.Writer
	client     *http.Client
	target     string
	deadline   time.Duration
	procs      []int
	names      []string
	aggregator string        // base URL for fetch counts; "" for none
	round      time.Duration // one sync round; 0 when not measured
	fresh      *freshness    // nil: no fresh check
	last       openResult    // the level measured last
}

// level measures one level: run sends the requests through the call it
// is given; level reads CPU and fetch counts around it and prints a row.
func (r *openRun) level(ctx context.Context, label string, run func(call) openResult) error {
	var fc freshCount
	do := func(ctx context.Context) (int, bool, error) {
		want, check := ack{}, false
		if r.fresh != nil {
			want, check = r.fresh.want() // before the request is sent
		}
		a, err := request(ctx, r.client, http.MethodGet, r.target, r.deadline, check)
		if err == nil && check && a.status == http.StatusOK && a.complete {
			fc.checked.Add(1)
			if r.fresh.stale(want, a.body) {
				fc.stale.Add(1)
			}
		}
		return a.status, a.complete, err
	}
	cpu0, err := cpuEach(r.procs)
	if err != nil {
		return err
	}
	m0, _ := machineCPU()
	f0, err := r.fetches(ctx)
	if err != nil {
		return err
	}
	o := run(do)
	cpu1, err := cpuEach(r.procs)
	if err != nil {
		return err
	}
	m1, _ := machineCPU()
	f1, err := r.fetches(ctx)
	if err != nil {
		return err
	}
	total := 0.0
	var each []string
	for i := range r.procs {
		total += cpu1[i] - cpu0[i]
		each = append(each, r.names[i]+" "+cpuPerAnswer(cpu1[i]-cpu0[i], len(o.lat)))
	}
	fetches := "-"
	if f0 >= 0 && o.sent > 0 {
		fetches = fmt.Sprintf("%.3f", float64(f1-f0)/float64(o.sent))
	}
	fmt.Fprintf(r.stdout, openRow, label, o.sent, fmt.Sprintf("%.1f", float64(len(o.lat))/o.elapsed.Seconds()),
		ms(o.pct(50)), ms(o.pct(99)), r.perRound(o.pct(50)), r.perRound(o.pct(99)), share(int64(o.complete), len(o.lat)),
		fc.String(), share(int64(o.status[http.StatusServiceUnavailable]), o.sent), share(int64(o.status[http.StatusGatewayTimeout]), o.sent),
		share(int64(o.other()), o.sent), share(int64(o.inTime(r.deadline+50*time.Millisecond)), o.sent),
		fetches, cpuPerAnswer(total, len(o.lat)), m1.busy(m0))
	if len(each) > 0 {
		fmt.Fprintf(r.stdout, "  (%s) cpu/answer by process: %s\n", label, strings.Join(each, ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(o.errs)) {
		fmt.Fprintf(r.stdout, "  (%s) %d × %s\n", label, o.errs[k], k)
	}
	r.last = o
	return ctx.Err()
}

// fetches is the aggregator's provider fetches so far, or -1 when no
// aggregator was given.
func (r *openRun) fetches(ctx context.Context) (int, error) {
	if r.aggregator == "" {
		return -1, nil
	}
	return fetchCount(ctx, r.client, r.aggregator)
}

// perRound formats d as a multiple of one sync round.
func (r *openRun) perRound(d time.Duration) string {
	if r.round <= 0 || d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f×", float64(d)/float64(r.round))
}
