package aggregate

import (
	"context"
	"sync"
	"time"
)

// versionReadTimeout bounds one shared read of the version; a caller
// waits for it no longer than its own deadline.
const versionReadTimeout = 2 * time.Second

// sharedVersion reads the version once for all callers that can share a
// read: every caller gets the result of a read that started after it
// called, so the version it is given reflects everything committed before
// that (its own sync above all), never a read already under way when it
// came, which might have started before its sync's last commit. As with
// sync rounds, at most one read runs and at most one is queued behind it;
// whoever arrives while one runs joins the queued one.
type sharedVersion struct {
	read func(context.Context) (string, error)

	mu      sync.Mutex
	running *versionRead
	queued  *versionRead
}

type versionRead struct {
	done    chan struct{}
	version string // set before done is closed
	err     error
	parent  context.Context // the first caller's, for the trace; never cancelled
}

// get returns the version as read by a read that started after get was
// called, or ctx's error if ctx ends first.
func (s *sharedVersion) get(ctx context.Context) (string, error) {
	s.mu.Lock()
	r := s.queued
	if r == nil {
		r = &versionRead{done: make(chan struct{}), parent: context.WithoutCancel(ctx)}
		if s.running == nil {
			s.startLocked(r)
		} else {
			s.queued = r
		}
	}
	s.mu.Unlock()
	select {
	case <-r.done:
		return r.version, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// startLocked runs r; the caller holds s.mu.
func (s *sharedVersion) startLocked(r *versionRead) {
	s.running = r
	go func() {
		ctx, cancel := context.WithTimeout(r.parent, versionReadTimeout)
		v, err := s.read(ctx)
		cancel()
		s.mu.Lock()
		defer s.mu.Unlock()
		r.version, r.err = v, err
		close(r.done)
		s.running = nil
		if q := s.queued; q != nil {
			s.queued = nil
			s.startLocked(q)
		}
	}()
}
