package aggregator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"time"

	"github.com/go-kit/kit/endpoint"

	"xii/dashboard-svc/dashboard"
)

// downFor is how long a replica that could not be reached is passed over.
// A killed replica stays registered until its lease runs out; without
// this, every call would first try it. After downFor one call tries it
// again.
const downFor = time.Second

// errPassedOver is the retryable failure of a call not sent to a replica
// that was recently unreachable.
var errPassedOver = errors.New("replica recently unreachable; passed over")

// replicas remembers which replicas recently failed to connect, shared by
// every endpoint of a Client (responses and stats), keyed by base URL.
type replicas struct {
	mu    sync.Mutex
	known map[string]*replica
	now   func() time.Time
}

type replica struct {
	refs      int       // endpoints made for this base URL and not closed
	downUntil time.Time // zero when reachable as far as is known
}

func newReplicas() *replicas {
	return &replicas{known: map[string]*replica{}, now: time.Now}
}

// guard wraps the endpoint of the replica at instance: a call is passed
// over (failing fast, so the retry tries the next replica) while the
// replica is down and another one is not; a call that cannot connect marks
// it down. The closer forgets the replica when the endpoint is dropped.
func (rs *replicas) guard(instance string, next endpoint.Endpoint) (endpoint.Endpoint, io.Closer) {
	rs.mu.Lock()
	r := rs.known[instance]
	if r == nil {
		r = &replica{}
		rs.known[instance] = r
	}
	r.refs++
	rs.mu.Unlock()

	e := func(ctx context.Context, request any) (any, error) {
		if rs.passOver(r) {
			return nil, retryable{fmt.Errorf("%w: %w", dashboard.ErrUnavailable, errPassedOver)}
		}
		resp, err := next(ctx, request)
		switch {
		case err == nil:
			rs.mark(r, time.Time{})
		case ctx.Err() == nil && unreachable(err):
			rs.mark(r, rs.now().Add(downFor))
		}
		return resp, err
	}
	return e, closerFunc(func() error {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		if r.refs--; r.refs == 0 {
			delete(rs.known, instance)
		}
		return nil
	})
}

// passOver reports whether r is down while some other replica is not.
func (rs *replicas) passOver(r *replica) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	now := rs.now()
	if !now.Before(r.downUntil) {
		return false
	}
	for _, other := range rs.known {
		if other != r && !now.Before(other.downUntil) {
			return true
		}
	}
	return false // all down: trying is the only chance
}

func (rs *replicas) mark(r *replica, downUntil time.Time) {
	rs.mu.Lock()
	r.downUntil = downUntil
	rs.mu.Unlock()
}

// unreachable reports whether err means no answer came from the replica
// at all: refused, reset, closed before answering. An answer, even an
// error status, means it is up.
func unreachable(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
