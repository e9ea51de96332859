package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// cmdSeed fills a survey-svc with demo responses.
func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("seed", "POST n responses with a realistic spread (surveys × devices × locations)\n"+
		"to a survey-svc, a few at a time.", stderr)
	base := fs.String("url", "http://127.0.0.1:1101", "survey-svc base URL")
	n := fs.Int("n", 300, "how many responses")
	c := fs.Int("c", 8, "concurrent requests")
	seed := fs.Uint64("seed", 1, "seed of the generated responses (use another per survey-svc for different data)")
	limit := fs.Duration("max", 5*time.Minute, "give up after this long")
	timeout := fs.Duration("timeout", 10*time.Second, "timeout of each request")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n < 1 {
		return fmt.Errorf("-n: must be at least 1")
	}
	b, err := loadFlags{c: c, n: n, d: limit, timeout: timeout}.bounds()
	if err != nil {
		return err
	}
	target := strings.TrimRight(*base, "/") + "/api/v1/responses"
	client := newClient(b.c, b.timeout)
	sp := newSpread(*seed)
	r := load(ctx, b, func(ctx context.Context) error {
		_, err := send(ctx, client, "POST", target, sp.body())
		return err
	})
	fmt.Fprintf(stdout, "seed %s: %d stored, %d failed in %s\n", target, r.ok(), r.failed(), r.elapsed.Round(time.Millisecond))
	if r.failed() > 0 {
		r.print(stderr)
		return fmt.Errorf("seed %s: %d of %d requests failed", target, r.failed(), *n)
	}
	return ctx.Err()
}
