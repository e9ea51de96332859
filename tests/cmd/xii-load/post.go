package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// cmdPost measures survey-svc's write path: POST /api/v1/responses, one
// response per request, at concurrency c.
func cmdPost(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("post", "POST single survey responses (a realistic spread of survey, device and\n"+
		"location) to a survey-svc at concurrency c; prints requests/s, p50/p90/p99 latency and errors.", stderr)
	base := fs.String("url", "http://127.0.0.1:1101", "survey-svc base URL")
	seed := fs.Uint64("seed", 1, "seed of the generated responses")
	lf := addLoadFlags(fs, 32, 10*time.Second)
	if err := parse(fs, args); err != nil {
		return err
	}
	b, err := lf.bounds()
	if err != nil {
		return err
	}
	target := strings.TrimRight(*base, "/") + "/api/v1/responses"
	client := newClient(b.c, b.timeout)
	sp := newSpread(*seed)
	fmt.Fprintf(stdout, "post %s  c=%d d=%s\n", target, b.c, b.d)
	r := load(ctx, b, func(ctx context.Context) error {
		_, err := send(ctx, client, "POST", target, sp.body())
		return err
	})
	r.print(stdout)
	return ctx.Err()
}
