package aggregator

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"

	"github.com/go-kit/kit/endpoint"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Requests that ask the same question share calls to the aggregator the
// way the aggregator's requests share a provider's rounds: a request never
// joins a call that has started (its answer may predate the request), only
// the one queued behind it, which starts after every request that joined
// it arrived. So every answer a request gets is as fresh as a call of its
// own would be. A dashboard that many people watch asks the same thing
// over and over; this makes those requests cost one call between them.
//
// A queued call starts when no call for its question runs any more, or
// holdAtMost after its first request came, whichever is first: a call that
// hangs holds nobody back for long. A request joins only a call whose
// deadline is at most joinSlack before its own and not after it, so sharing
// never cuts its time short by more than that, and never outlives it.
const (
	holdAtMost = 25 * time.Millisecond
	joinSlack  = 250 * time.Millisecond
)

// coalescer shares the calls of one endpoint between requests with the
// same url.Values.
type coalescer struct {
	next endpoint.Endpoint
	hold time.Duration
	// tracer starts a span for a call several requests share; nil: none.
	tracer func(ctx context.Context) trace.Tracer

	mu        sync.Mutex
	questions map[string]*question
}

// question is the state of one url.Values: the calls running and the one
// queued.
type question struct {
	running int
	queued  *call
}

// call is one call to next, and its result for everyone who joined.
type call struct {
	done     chan struct{}
	resp     any
	err      error
	waiters  int
	deadline time.Time
	parent   context.Context // the first request's, for the trace; never cancelled
	links    []trace.Link    // every request's span
	started  bool
	cancel   context.CancelFunc // set once started
	timer    *time.Timer
}

// tracerOf is the tracer of ctx's span's provider, so that a shared
// call's span lands where the request's spans do.
func tracerOf(ctx context.Context) trace.Tracer {
	return trace.SpanFromContext(ctx).TracerProvider().Tracer("xii/dashboard-svc/aggregator")
}

func newCoalescer(next endpoint.Endpoint) *coalescer {
	return &coalescer{next: next, hold: holdAtMost, questions: map[string]*question{}}
}

// endpoint is next, shared. A request without a deadline calls next alone.
func (c *coalescer) endpoint(ctx context.Context, request any) (any, error) {
	values, ok := request.(url.Values)
	deadline, hasDeadline := ctx.Deadline()
	if !ok || !hasDeadline {
		return c.next(ctx, request)
	}
	key := values.Encode()

	c.mu.Lock()
	q := c.questions[key]
	if q == nil {
		q = &question{}
		c.questions[key] = q
	}
	k := q.queued
	switch {
	case k != nil && !k.deadline.After(deadline) && deadline.Sub(k.deadline) <= joinSlack:
		k.waiters++
		k.links = append(k.links, trace.LinkFromContext(ctx))
		// The call runs in the first request's trace: say where.
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.SetAttributes(attribute.String("xii.call.trace_id", trace.SpanContextFromContext(k.parent).TraceID().String()))
		}
	default:
		k = &call{done: make(chan struct{}), waiters: 1, deadline: deadline,
			parent: context.WithoutCancel(ctx), links: []trace.Link{trace.LinkFromContext(ctx)}}
		if q.running == 0 || q.queued != nil {
			// Nothing to wait for, or another deadline queued: its own call.
			c.startLocked(key, q, k, values)
			break
		}
		q.queued = k
		k.timer = time.AfterFunc(c.hold, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if q.queued == k {
				c.startLocked(key, q, k, values)
			}
		})
	}
	c.mu.Unlock()

	select {
	case <-k.done:
		return k.resp, k.err
	case <-ctx.Done():
		c.leave(key, q, k, ctx.Err())
		return nil, ctx.Err()
	}
}

// leave withdraws a request whose context ended with why. A queued call
// nobody waits for is dropped; a running one is cancelled, unless the
// request ran out of time: the call's deadline, never later than the
// request's, ends it then too, and the call learns from it that it was
// late (see deadline.Reserve), not that it was cancelled.
func (c *coalescer) leave(key string, q *question, k *call, why error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k.waiters--
	if k.waiters > 0 {
		return
	}
	if !k.started {
		k.timer.Stop()
		q.queued = nil
		c.forgetLocked(key, q)
		return
	}
	if !errors.Is(why, context.DeadlineExceeded) {
		k.cancel()
	}
}

// startLocked makes call k. The caller holds c.mu.
func (c *coalescer) startLocked(key string, q *question, k *call, values url.Values) {
	if q.queued == k {
		q.queued = nil
		k.timer.Stop()
	}
	k.started = true
	q.running++
	ctx, cancel := context.WithDeadline(k.parent, k.deadline)
	k.cancel = cancel
	// Nobody joins a started call, so the links are final.
	links, waiters := k.links, k.waiters
	go func() {
		defer cancel()
		var span trace.Span
		if waiters > 1 && c.tracer != nil {
			ctx, span = c.tracer(ctx).Start(ctx, "aggregator call (shared)", trace.WithLinks(links...),
				trace.WithAttributes(attribute.Int("xii.call.requests", waiters)))
		}
		resp, err := c.next(ctx, values)
		if span != nil {
			span.End()
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		k.resp, k.err = resp, err
		close(k.done)
		q.running--
		if q.running == 0 && q.queued != nil {
			c.startLocked(key, q, q.queued, values)
		}
		c.forgetLocked(key, q)
	}()
}

// forgetLocked drops a question nothing runs or waits for. The caller
// holds c.mu.
func (c *coalescer) forgetLocked(key string, q *question) {
	if q.running == 0 && q.queued == nil && c.questions[key] == q {
		delete(c.questions, key)
	}
}
