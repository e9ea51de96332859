// Package backoff computes retry delays, the same way for every xii loop
// that retries etcd or the database.
package backoff

import (
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
