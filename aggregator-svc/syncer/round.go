package syncer

import (
	"context"
	"sync"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/sony/gobreaker"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"xii/aggregator-svc/aggregate"
)

// providerSync coalesces the requests for one provider into rounds.
type providerSync struct {
	s       *Syncer
	src     Source
	breaker *gobreaker.CircuitBreaker
	fetch   endpoint.Endpoint // the provider's Fetch behind the breaker
	// measured holds the provider's metric attributes (see attrs).
	measured metric.MeasurementOption
	// applying holds a token while one of the provider's rounds applies a
	// page: rounds take turns in process, not on the cursor row's lock.
	applying chan struct{}
	// stored are the cursors this process stored for the provider. Only
	// the holder of applying touches it.
	stored storedCursors

	mu       sync.Mutex
	running  *round // at most one, started before anyone now arriving
	queued   *round // at most one, starts when running ends
	syncedAt time.Time
	cursor   string
	// quarantined is the provider's count of quarantined records, as the
	// last round read or wrote it.
	quarantined int
	// last is how the last round ended; zero before the first.
	last struct {
		status aggregate.SyncStatus
		err    string
		at     time.Time
	}
}

// round is one pass over a provider, from the stored cursor until caught up.
type round struct {
	done     chan struct{}
	result   roundResult // set before done is closed
	waiters  int
	deadline time.Time
	parent   context.Context // the first waiter's, for the trace; never cancelled
	links    []trace.Link    // the other waiters' spans
	cancel   context.CancelFunc
}

// roundStart is what a round knows of its waiters when it starts.
type roundStart struct {
	waiters  int
	links    []trace.Link
	deadline time.Time
}

func newProviderSync(s *Syncer, src Source) *providerSync {
	p := &providerSync{s: s, src: src, applying: make(chan struct{}, 1),
		measured: metric.WithAttributeSet(attribute.NewSet(attribute.String("provider", src.Name)))}
	p.breaker, p.fetch = newBreaker(s, src)
	return p
}

// lastSyncedAt is when the provider was last caught up, zero if never.
func (p *providerSync) lastSyncedAt() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.syncedAt
}

// await returns once a round that started after await was called has
// finished, or ctx is done, whichever is first.
func (p *providerSync) await(ctx context.Context) aggregate.ProviderSync {
	p.s.metrics.waiters.Add(ctx, 1, p.attrs())
	p.mu.Lock()
	r := p.queued
	if r == nil || !p.s.opts.Coalesce {
		r = &round{done: make(chan struct{}), parent: context.WithoutCancel(ctx)}
	} else {
		r.links = append(r.links, trace.LinkFromContext(ctx))
	}
	r.waiters++
	r.extendDeadline(ctx)
	switch {
	case !p.s.opts.Coalesce:
		p.startLocked(r)
	case p.running == nil:
		p.startLocked(r)
	default:
		p.queued = r
	}
	p.mu.Unlock()

	select {
	case <-r.done:
		return p.report(r.result)
	case <-ctx.Done():
		p.leave(r)
		return p.report(roundResult{err: ctx.Err()})
	}
}

func (r *round) extendDeadline(ctx context.Context) {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Now().Add(backgroundTimeout)
	}
	if d.After(r.deadline) {
		r.deadline = d
	}
}

// leave withdraws a waiter whose context ended. A queued round nobody waits
// for is dropped; a running one is cancelled (its committed pages stay).
func (p *providerSync) leave(r *round) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r.waiters--
	if r.waiters > 0 {
		return
	}
	if p.queued == r {
		p.queued = nil
	}
	if r.cancel != nil {
		r.cancel()
	}
}

// startLocked runs r. The caller holds p.mu.
func (p *providerSync) startLocked(r *round) {
	if p.s.opts.Coalesce {
		p.running = r
		if p.queued == r {
			p.queued = nil
		}
	}
	ctx, cancel := context.WithDeadline(r.parent, r.deadline)
	r.cancel = cancel
	// Nobody joins a started round, so these are final; copy them for run.
	start := roundStart{waiters: r.waiters, links: r.links, deadline: r.deadline}
	go func() {
		res := p.run(ctx, start)
		cancel()
		p.mu.Lock()
		defer p.mu.Unlock()
		if res.err == nil && res.startedAt.After(p.syncedAt) {
			p.syncedAt, p.cursor = res.startedAt, res.cursor
		}
		p.quarantined = res.quarantined
		p.last.status, p.last.at = classify(res.err), time.Now()
		p.last.err = ""
		if res.err != nil {
			p.last.err = reason(res.err)
		}
		r.result = res
		close(r.done)
		if p.running == r {
			p.running = nil
			if p.queued != nil {
				p.startLocked(p.queued)
			}
		}
	}()
}
