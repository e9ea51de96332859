package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// syncCompleteHeader says whether a sync-backed answer is complete.
const syncCompleteHeader = "X-Sync-Complete"

// cmdQuery measures a read path: the same request at concurrency c. With
// several -url it takes turns between them for -rounds rounds, so that
// each target sees the same background noise, and prints ratios to the
// first.
func cmdQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("query", "Send the same request at concurrency c (GET by default; e.g. the dashboard's\n"+
		"or the aggregator's /api/v1/responses, or POST the aggregator's /api/v1/sync); prints\n"+
		"throughput, p50/p90/p99 latency, errors and the share of answers with X-Sync-Complete: true.\n"+
		"Several -url take turns, -d each, for -rounds rounds; ratios are to the first -url.", stderr)
	var targets []string
	fs.Func("url", "full request URL; repeat to compare targets (default the dashboard on :1100, iOS in Germany, limit 50)",
		func(s string) error { targets = append(targets, s); return nil })
	method := fs.String("method", "GET", "request method")
	rounds := fs.Int("rounds", 1, "turns per -url")
	lf := addLoadFlags(fs, 50, 10*time.Second)
	if err := parse(fs, args); err != nil {
		return err
	}
	b, err := lf.bounds()
	if err != nil {
		return err
	}
	if *rounds < 1 {
		return errors.New("-rounds: must be at least 1")
	}
	if len(targets) == 0 {
		targets = []string{"http://127.0.0.1:1100/api/v1/responses?device=iOS&location=Germany&limit=50"}
	}
	client := newClient(b.c, b.timeout)
	fmt.Fprintf(stdout, "query %s  c=%d d=%s rounds=%d\n", *method, b.c, b.d, *rounds)
	total := make([]result, len(targets))
	complete := make([]atomic.Int64, len(targets))
	perRound := make([][]string, len(targets))
	for range *rounds {
		for i, target := range targets {
			r := load(ctx, b, func(ctx context.Context) error {
				h, err := send(ctx, client, *method, target, nil)
				if err == nil && h.Get(syncCompleteHeader) == "true" {
					complete[i].Add(1)
				}
				return err
			})
			total[i] = total[i].add(r)
			perRound[i] = append(perRound[i], fmt.Sprintf("%.1f", r.rate()))
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	for i, target := range targets {
		fmt.Fprintf(stdout, "[%d] %s %s\n", i+1, *method, target)
		if *rounds > 1 {
			fmt.Fprintf(stdout, "  rounds     %s ok/s\n", strings.Join(perRound[i], ", "))
		}
		total[i].print(stdout)
		fmt.Fprintf(stdout, "  complete   %d of %d ok answers (%s)\n", complete[i].Load(), total[i].ok(), share(complete[i].Load(), total[i].ok()))
	}
	for i := 1; i < len(targets); i++ {
		fmt.Fprintf(stdout, "[%d] vs [1]  throughput ×%.2f  p50 ×%.2f  p99 ×%.2f\n", i+1,
			total[i].rate()/total[0].rate(), ratio(total[i].pct(50), total[0].pct(50)), ratio(total[i].pct(99), total[0].pct(99)))
	}
	return nil
}

// add merges two runs of the same request.
func (r result) add(o result) result {
	m := result{elapsed: r.elapsed + o.elapsed, lat: slices.Concat(r.lat, o.lat), errs: map[string]int{}}
	slices.Sort(m.lat)
	for _, errs := range []map[string]int{r.errs, o.errs} {
		for k, v := range errs {
			m.errs[k] += v
		}
	}
	return m
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(max(b, 1)) }

// share formats part/whole as a percentage.
func share(part int64, whole int) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}
