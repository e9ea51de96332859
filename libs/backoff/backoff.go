// Package backoff computes retry delays, the same way for every xii loop
// that retries etcd or the database.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Delay returns the wait before the next attempt after failures attempts
// failed in a row: first, doubled per further failure, capped at limit,
// with up to half of it taken off at random so that many instances do not
// retry in step. It is 0 when nothing has failed.
func Delay(failures int, first, limit time.Duration) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := limit
	if failures < 30 {
		d = min(first<<(failures-1), limit)
	}
	return d/2 + rand.N(d/2+1)
}

// Wait sleeps Delay(failures, first, limit) and reports true, or returns
// false as soon as ctx ends.
func Wait(ctx context.Context, failures int, first, limit time.Duration) bool {
	d := Delay(failures, first, limit)
	if d == 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
