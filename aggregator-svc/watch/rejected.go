package watch

import (
	"cmp"
	"slices"
	"sync"
)

// maxShownValue bounds a rejected value as Rejected shows it: an operator
// needs to recognise the write, not to read a megabyte back.
const maxShownValue = 128

// RejectedKey is a key refused now: its name is invalid or its value
// cannot be used.
type RejectedKey struct {
	Key string
	// Value is the value written, at most maxShownValue bytes; "" for
	// descriptors, which may hold credentials.
	Value  string
	Reason string
}

// Rejected collects the keys the followed prefixes refuse now, for the
// operator's view; each delivery of a prefix replaces what it holds of that
// prefix, so a fixed or deleted key leaves it. Safe for concurrent use; the
// zero value is ready.
type Rejected struct {
	mu       sync.Mutex
	byPrefix map[string][]RejectedKey
}

// List returns every refused key, by key.
func (r *Rejected) List() []RejectedKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []RejectedKey
	for _, keys := range r.byPrefix {
		out = append(out, keys...)
	}
	slices.SortFunc(out, func(a, b RejectedKey) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

func (r *Rejected) set(prefix string, keys []RejectedKey) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byPrefix == nil {
		r.byPrefix = map[string][]RejectedKey{}
	}
	r.byPrefix[prefix] = keys
}

// shown is value as RejectedKey.Value holds it.
func shown(value string) string {
	if len(value) <= maxShownValue {
		return value
	}
	return value[:maxShownValue] + "…"
}
