package deadline

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Bounds of a Reserve's floor.
const (
	MinReserve     = 5 * time.Millisecond
	MaxReserve     = time.Second
	DefaultReserve = 50 * time.Millisecond
)

// ReserveHalfLife is how fast a Reserve forgets a slow sample: its weight
// halves every ReserveHalfLife, whatever the request rate.
const ReserveHalfLife = 2 * time.Second

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
// twice the recent slowest duration of that work, at least the floor and
// at most half of what is left. "Recent slowest" rises at once with a
// slower sample and halves every ReserveHalfLife, so a machine starved of
// CPU keeps its margin while it stays starved, and gets the time back
// within seconds when it is not.
//
// It is safe for concurrent use.
type Reserve struct {
	floor time.Duration

	mu   sync.Mutex
	slow float64 // seconds, as of at
	at   time.Time
}

// NewReserve returns a Reserve with the floor given.
func NewReserve(floor time.Duration) *Reserve {
	return &Reserve{floor: floor}
}

// Observe records how long the work took once.
func (r *Reserve) Observe(took time.Duration) { r.observeAt(took, time.Now()) }

// Of returns the time to hold back when left remains before the deadline.
func (r *Reserve) Of(left time.Duration) time.Duration { return r.of(left, time.Now()) }

func (r *Reserve) observeAt(took time.Duration, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.slow, r.at = max(r.decayedLocked(now), took.Seconds()), now
}

func (r *Reserve) of(left time.Duration, now time.Time) time.Duration {
	r.mu.Lock()
	slow := time.Duration(r.decayedLocked(now) * float64(time.Second))
	r.mu.Unlock()
	return min(max(r.floor, 2*slow), left/2)
}

func (r *Reserve) decayedLocked(now time.Time) float64 {
	dt := now.Sub(r.at)
	if dt <= 0 || r.slow == 0 {
		return r.slow
	}
	return r.slow * math.Exp2(-dt.Seconds()/ReserveHalfLife.Seconds())
}
