package discovery

import (
	"math/rand/v2"
	"time"
)

// retryDelay returns the delay before attempt n+1 after n failures in a
// row: retryMin doubled per failure, capped at limit, with up to half of it
// taken off at random so that many instances do not retry in step.
func retryDelay(n int, limit time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	d := limit
	if n < 30 {
		d = min(retryMin<<(n-1), limit)
	}
	return d/2 + rand.N(d/2+1)
}
