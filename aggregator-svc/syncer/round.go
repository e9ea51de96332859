package syncer

import (
	"context"
	"sync"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"xii/aggregator-svc/aggregate"
	"xii/libs/xiiapi"
)

// providerSync coalesces the requests for one provider into rounds.
type providerSync struct {
	s       *Syncer
	src     Source
	breaker *gobreaker.CircuitBreaker[aggregate.Page]
	fetch   endpoint.Endpoint // the provider's Fetch behind the breaker
	// measured holds the provider's metric attributes (see attrs).
	measured metric.MeasurementOption
	// applying holds a token while one of the provider's rounds applies a
	// page: rounds take turns in process, not on the cursor row's lock.
	applying chan struct{}
	// stored are the cursors this process stored for the provider. Only
	// the holder of applying touches it.
	stored storedCursors

	mu      sync.Mutex
	running *round // at most one, started before anyone now arriving
	queued  *round // at most one, starts when running ends (or, paced, later)
	// took is how long the provider's rounds take, a moving average of
	// those that succeeded; zero before the first.
	took     time.Duration
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
	// notBefore paces the round (see startWhenDueLocked); zero starts it
	// at once.
	notBefore time.Time
	timer     *time.Timer // armed while a paced round waits for notBefore
	queuedAt  time.Time   // when its first waiter came
	startedAt time.Time   // set by startLocked
}

// roundStart is what a round knows of its waiters when it starts.
type roundStart struct {
	waiters  int
	links    []trace.Link
	deadline time.Time
	paced    time.Duration // a paced round's wait from its first waiter to its start
	// startedAt is when the round started: after every waiter arrived, so
	// what it stores is at least as fresh as that.
	startedAt time.Time
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
//
// finishBy is when the caller expects its slowest provider's round to end
// (see Syncer.Sync); a round of a faster provider is paced to end shortly
// before then rather than at once. The zero time asks for no pacing.
func (p *providerSync) await(ctx context.Context, finishBy time.Time) aggregate.ProviderSync {
	p.s.metrics.waiters.Add(ctx, 1, p.attrs())
	p.mu.Lock()
	r := p.queued
	if r == nil || !p.s.opts.Coalesce {
		r = &round{done: make(chan struct{}), parent: context.WithoutCancel(ctx), queuedAt: time.Now()}
	} else {
		r.links = append(r.links, trace.LinkFromContext(ctx))
	}
	r.waiters++
	r.extendDeadline(ctx)
	switch {
	case !p.s.opts.Coalesce:
		p.startLocked(r)
	default:
		p.queued = r
		// The earliest start any waiter asks for holds; zero is at once.
		if nb := p.notBefore(ctx, finishBy); r.waiters == 1 || nb.IsZero() || nb.Before(r.notBefore) {
			r.notBefore = nb
		}
		p.startWhenDueLocked(r)
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

// Pacing. Every request waits for a round of each provider, so its answer
// comes when the slowest one's round ends; a round of a fast provider that
// starts at once ends long before that, and under load rounds of fast
// providers run back to back, each serving a few waiters, costing CPU on
// both sides. A paced round starts later, so that it ends shortly before
// the slowest provider's round is expected to: the waiters that arrive
// meanwhile share it, and none is answered later for it while the
// estimates hold (when they do not, by maxPace at most). Nothing is paced
// while a provider is failing (see expectedDone). A paced round still
// starts after every one of its waiters arrived, which is all freshness
// asks; pacing only decides how much later.
const (
	// maxPace bounds how long a round is held back, whatever the estimates,
	// and a provider expected to be done less than minPace before the
	// slowest one is not held back at all.
	maxPace = 100 * time.Millisecond
	minPace = 2 * time.Millisecond
	// paceShare bounds it by the share of the waiter's time left, so a
	// paced round always leaves most of its deadline to run in.
	paceShare = 4
)

// expectedDone is when a round a caller would join now is expected to
// end: after the running one, if any, and one round's time. ok is false
// while the provider's last round failed: a failing provider's rounds end
// at a timeout, at once (circuit open) or anywhere between, so no round
// is paced on its account. The caller holds no lock.
func (p *providerSync) expectedDone(now time.Time) (_ time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.expectedDoneLocked(now), p.last.status == "" || p.last.status == xiiapi.StatusOK
}

func (p *providerSync) expectedDoneLocked(now time.Time) time.Time {
	start := now
	if p.running != nil && p.running.startedAt.Add(p.took).After(now) {
		start = p.running.startedAt.Add(p.took)
	}
	return start.Add(p.took)
}

// notBefore is when a round for a waiter expecting to be answered at
// finishBy should start; the zero time means as soon as it can. Only a
// provider expected to be done sooner than that by minPace or more is
// paced; the slowest one never is. The caller holds p.mu.
func (p *providerSync) notBefore(ctx context.Context, finishBy time.Time) time.Time {
	if finishBy.IsZero() || p.took == 0 {
		return time.Time{}
	}
	now := time.Now()
	if finishBy.Sub(p.expectedDoneLocked(now)) < minPace {
		return time.Time{}
	}
	// Started one round's time early, so that a round slower than its
	// average still ends by finishBy.
	at := finishBy.Add(-2 * p.took)
	limit := now.Add(p.s.maxPace)
	if d, ok := ctx.Deadline(); ok {
		if l := now.Add(time.Until(d) / paceShare); l.Before(limit) {
			limit = l
		}
	}
	if at.After(limit) {
		at = limit
	}
	if !at.After(now) {
		return time.Time{}
	}
	return at
}

// startWhenDueLocked starts queued round r once no round runs and its
// notBefore has come: at once if both hold, else when the running one ends
// (startLocked calls it again then) or when its timer fires. Called again
// after a waiter brought notBefore forward, it re-arms the timer. The
// caller holds p.mu.
func (p *providerSync) startWhenDueLocked(r *round) {
	if p.running != nil {
		return // it starts when the running one ends
	}
	wait := time.Until(r.notBefore)
	if r.notBefore.IsZero() || wait <= 0 {
		p.startLocked(r)
		return
	}
	if r.timer != nil && !r.timer.Stop() {
		return // firing: it starts r, or r has left
	}
	r.timer = time.AfterFunc(wait, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.queued == r && p.running == nil {
			p.startLocked(r)
		}
	})
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
	if r.timer != nil {
		r.timer.Stop()
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
	if r.timer != nil {
		r.timer.Stop()
	}
	r.startedAt = time.Now()
	ctx, cancel := context.WithDeadline(r.parent, r.deadline)
	r.cancel = cancel
	// Nobody joins a started round, so these are final; copy them for run.
	start := roundStart{waiters: r.waiters, links: r.links, deadline: r.deadline, startedAt: r.startedAt}
	if !r.notBefore.IsZero() {
		start.paced = r.startedAt.Sub(r.queuedAt)
	}
	go func() {
		res := p.run(ctx, start)
		cancel()
		p.mu.Lock()
		defer p.mu.Unlock()
		if res.err == nil {
			p.took = movingAverage(p.took, time.Since(res.startedAt))
		}
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
			if q := p.queued; q != nil {
				p.startWhenDueLocked(q)
			}
		}
	}()
}

// movingAverage folds d into avg, an eighth at a time; the first d is
// taken whole.
func movingAverage(avg, d time.Duration) time.Duration {
	if avg == 0 {
		return d
	}
	return avg + (d-avg)/8
}
