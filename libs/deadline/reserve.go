package deadline

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Bounds of a Reserve's floor.
const (
	MinReserve     = 5 * time.Millisecond
	MaxReserve     = time.Second
	DefaultReserve = 50 * time.Millisecond
)

// ValidateReserve checks a configured floor against MinReserve and
// MaxReserve.
func ValidateReserve(d time.Duration) error {
	if d < MinReserve || d > MaxReserve {
		return fmt.Errorf("%s: must be between %s and %s", d, MinReserve, MaxReserve)
	}
	return nil
}

// Reserve is the time held back, from a request's deadline, for the work
// that must follow a wait: an aggregator's read after its sync, a
// dashboard's answer after the aggregator's. It is measured, not guessed:
// twice the recent slow duration of that work, at least the floor and at
// most half of what is left. The estimate rises at once with a slower
// sample and decays by a sixteenth of the gap with each faster one, so a
// machine that is starved of CPU keeps its margin while it stays starved.
//
// The zero Reserve has a zero floor; use NewReserve. It is safe for
// concurrent use.
type Reserve struct {
	floor time.Duration
	slow  atomic.Int64 // nanoseconds
}

// NewReserve returns a Reserve with the floor given.
func NewReserve(floor time.Duration) *Reserve {
	return &Reserve{floor: floor}
}

// Observe records how long the work took once.
func (r *Reserve) Observe(took time.Duration) {
	for {
		old := r.slow.Load()
		next := int64(took)
		if next < old {
			next = old - (old-next)/16
		}
		if r.slow.CompareAndSwap(old, next) {
			return
		}
	}
}

// Of returns the time to hold back when left remains before the deadline.
func (r *Reserve) Of(left time.Duration) time.Duration {
	return min(max(r.floor, 2*time.Duration(r.slow.Load())), left/2)
}
