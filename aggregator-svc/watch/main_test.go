package watch_test

import (
	"sync"
	"testing"
	"time"

	"xii/testkit/etcdtest"
)

// shared is one etcd for the tests that neither stop nor compact it; each
// test works in a namespace of its own, so they can run in parallel.
var shared *etcdtest.Server

const (
	waitLimit = 20 * time.Second // bounds waits the spec sets no limit for
	visible   = time.Second      // how soon a change in etcd must be seen
)

func TestMain(m *testing.M) { etcdtest.Main(m, &shared) }

// recorder keeps every value it is given and lets tests wait for one.
type recorder[T any] struct {
	mu      sync.Mutex
	all     []T
	changed chan struct{} // closed and replaced on every value
}

func newRecorder[T any]() *recorder[T] {
	return &recorder[T]{changed: make(chan struct{})}
}

func (r *recorder[T]) record(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, v)
	close(r.changed)
	r.changed = make(chan struct{})
}

// history returns every value recorded so far.
func (r *recorder[T]) history() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.all...)
}

// wait waits up to within for the latest value to satisfy ok, and returns
// it, or fails t.
func (r *recorder[T]) wait(t *testing.T, within time.Duration, what string, ok func(T) bool) T {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ch, n := r.changed, len(r.all)
		var last T
		if n > 0 {
			last = r.all[n-1]
		}
		r.mu.Unlock()
		if n > 0 && ok(last) {
			return last
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("%s: not within %s; last of %d values: %+v", what, within, n, last)
		}
	}
}
