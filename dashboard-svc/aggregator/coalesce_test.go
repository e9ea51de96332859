package aggregator

import (
	"context"
	"errors"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"xii/testkit/wait"
)

// calls is a stand-in for the aggregator: each call waits for release.
type calls struct {
	started chan *fakeCall
}

type fakeCall struct {
	n        int
	ctx      context.Context
	release  chan struct{}
	finished chan error // the call's ctx error, or nil
}

func newCalls() *calls { return &calls{started: make(chan *fakeCall, 100)} }

// newTestCoalescer shares f's calls, a queued one held at most hold.
func newTestCoalescer(f *calls, hold time.Duration) *coalescer {
	co := newCoalescer(f.next())
	co.hold = hold
	return co
}

func (f *calls) next() func(ctx context.Context, _ any) (any, error) {
	var n atomic.Int64 // calls may start side by side
	return func(ctx context.Context, _ any) (any, error) {
		fc := &fakeCall{n: int(n.Add(1)), ctx: ctx, release: make(chan struct{}), finished: make(chan error, 1)}
		f.started <- fc
		select {
		case <-fc.release:
			fc.finished <- nil
			return fc.n, nil
		case <-ctx.Done():
			fc.finished <- ctx.Err()
			return nil, ctx.Err()
		}
	}
}

func (f *calls) next1(t *testing.T) *fakeCall {
	t.Helper()
	select {
	case fc := <-f.started:
		return fc
	case <-time.After(10 * time.Second):
		t.Fatal("no call started")
		return nil
	}
}

func (f *calls) none(t *testing.T) {
	t.Helper()
	select {
	case fc := <-f.started:
		t.Fatalf("call %d started", fc.n)
	default:
	}
}

type result struct {
	resp any
	err  error
}

var asked = url.Values{"device": {"iOS"}, "limit": {"50"}}

// ask calls co in the background with a deadline of timeout.
func ask(t *testing.T, co *coalescer, ctx context.Context, timeout time.Duration) <-chan result {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)
	ch := make(chan result, 1)
	go func() {
		resp, err := co.endpoint(ctx, asked)
		ch <- result{resp, err}
	}()
	return ch
}

func got(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("no answer")
		return result{}
	}
}

// queuedWaiters is how many requests wait for the queued call.
func queuedWaiters(co *coalescer) int {
	co.mu.Lock()
	defer co.mu.Unlock()
	if q := co.questions[asked.Encode()]; q != nil && q.queued != nil {
		return q.queued.waiters
	}
	return 0
}

// A request never gets the answer of a call that started before it came;
// the requests that came while it ran share the next one.
func TestCoalescerSharesOnlyACallStartedAfterEveryRequest(t *testing.T) {
	f := newCalls()
	co := newTestCoalescer(f, time.Hour)

	first := ask(t, co, t.Context(), time.Minute)
	one := f.next1(t)
	var later []<-chan result
	for i := range 3 {
		later = append(later, ask(t, co, t.Context(), time.Minute))
		wait.For(t, "the request queued", func() bool { return queuedWaiters(co) == i+1 })
	}
	f.none(t)
	close(one.release)
	if a := got(t, first); a.err != nil || a.resp != 1 {
		t.Fatalf("first request: %v, %v; want the answer of call 1", a.resp, a.err)
	}
	two := f.next1(t)
	close(two.release)
	for i, ch := range later {
		if a := got(t, ch); a.err != nil || a.resp != 2 {
			t.Errorf("request %d: %v, %v; want the answer of call 2, which started after it came", i+2, a.resp, a.err)
		}
	}
	f.none(t)
	co.mu.Lock()
	defer co.mu.Unlock()
	if len(co.questions) != 0 {
		t.Errorf("%d questions kept after every call ended", len(co.questions))
	}
}

// A call that hangs holds the requests queued behind it back for hold at
// most: their call starts beside it.
func TestCoalescerQueuedCallStartsWhileOneHangs(t *testing.T) {
	f := newCalls()
	co := newTestCoalescer(f, 10*time.Millisecond)

	first := ask(t, co, t.Context(), time.Minute)
	hung := f.next1(t)
	second := ask(t, co, t.Context(), time.Minute)
	two := f.next1(t)
	close(two.release)
	if a := got(t, second); a.err != nil || a.resp != 2 {
		t.Fatalf("second request: %v, %v; want the answer of call 2", a.resp, a.err)
	}
	close(hung.release)
	got(t, first)
}

// A request joins only a queued call whose deadline is not after its own
// and at most joinSlack before it.
func TestCoalescerJoinsOnlyCallsThatFitTheDeadline(t *testing.T) {
	f := newCalls()
	co := newTestCoalescer(f, time.Hour)

	first := ask(t, co, t.Context(), time.Minute)
	one := f.next1(t)
	queued := ask(t, co, t.Context(), 10*time.Second)
	wait.For(t, "the request queued", func() bool { return queuedWaiters(co) == 1 })

	for _, timeout := range []time.Duration{5 * time.Second, 20 * time.Second} {
		own := ask(t, co, t.Context(), timeout)
		fc := f.next1(t) // a call of its own, at once
		if d, _ := fc.ctx.Deadline(); time.Until(d) > timeout {
			t.Errorf("a request with %v left: its call has %v", timeout, time.Until(d))
		}
		close(fc.release)
		got(t, own)
	}
	if n := queuedWaiters(co); n != 1 {
		t.Errorf("%d requests wait for the queued call, want 1", n)
	}
	close(one.release)
	got(t, first)
	two := f.next1(t)
	close(two.release)
	if a := got(t, queued); a.resp != two.n {
		t.Errorf("queued request: %v, %v", a.resp, a.err)
	}
}

// A queued call everyone left is never made; a running one is cancelled
// when its last request is.
func TestCoalescerLeaving(t *testing.T) {
	f := newCalls()
	co := newTestCoalescer(f, time.Hour)

	first := ask(t, co, t.Context(), time.Minute)
	one := f.next1(t)
	ctx, cancel := context.WithCancel(t.Context())
	left := ask(t, co, ctx, time.Minute)
	wait.For(t, "the request queued", func() bool { return queuedWaiters(co) == 1 })
	cancel()
	if a := got(t, left); !errors.Is(a.err, context.Canceled) {
		t.Fatalf("a request that left: %v", a.err)
	}
	close(one.release)
	got(t, first)
	f.none(t) // the queued call was dropped

	ctx, cancel = context.WithCancel(t.Context())
	alone := ask(t, co, ctx, time.Minute)
	running := f.next1(t)
	cancel()
	got(t, alone)
	if err := <-running.finished; !errors.Is(err, context.Canceled) {
		t.Errorf("the call of a cancelled request ended with %v, want it cancelled", err)
	}

}
