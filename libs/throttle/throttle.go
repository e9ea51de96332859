// Package throttle keeps repeated log lines to one per interval per key.
package throttle

import (
	"sync"
	"time"
)

// maxKeys bounds a Throttle's memory; past it, it starts afresh.
const maxKeys = 1024

// Throttle lets one log line per key through per interval, so that a
// provider that stays down is one line an interval, not one a request; the
// line that goes through says how many were held back since the last.
type Throttle struct {
	every time.Duration

	mu   sync.Mutex
	keys map[string]*throttled
}

type throttled struct {
	last time.Time
	held int
}

// New returns a Throttle letting a key through once per every.
func New(every time.Duration) *Throttle {
	return &Throttle{every: every, keys: map[string]*throttled{}}
}

// Allow reports whether a line keyed key may be logged at now, and how
// many lines of key were held back before it.
func (t *Throttle) Allow(key string, now time.Time) (ok bool, held int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k, seen := t.keys[key]
	if !seen {
		if len(t.keys) >= maxKeys {
			t.keys = map[string]*throttled{}
		}
		t.keys[key] = &throttled{last: now}
		return true, 0
	}
	if now.Sub(k.last) < t.every {
		k.held++
		return false, 0
	}
	held, k.last, k.held = k.held, now, 0
	return true, held
}
