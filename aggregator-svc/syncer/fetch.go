package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"xii/libs/xiiapi"

	"github.com/go-kit/kit/endpoint"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"xii/aggregator-svc/aggregate"
	"xii/aggregator-svc/provider"
)

// Retry and breaker settings. A fetch is retried only while the caller's
// deadline leaves room for the backoff.
const (
	maxAttempts      = 3
	firstBackoff     = 50 * time.Millisecond
	breakerFailures  = 5                // consecutive failures that open the breaker
	breakerOpenFor   = time.Second      // before one trial request is let through
	breakerCountOver = 30 * time.Second // closed-state counting window
)

// roundResult is what one round achieved.
type roundResult struct {
	startedAt time.Time
	pages     int
	rows      int
	cursor    string
	// quarantined is the provider's count of quarantined records as last
	// read or written.
	quarantined int
	err         error
}

// run pages from the stored cursor until the provider is caught up. Every
// page is committed with its cursor, so an interrupted round loses nothing
// and the next one resumes where this one stopped.
func (p *providerSync) run(ctx context.Context, r roundStart) (res roundResult) {
	res.startedAt = r.startedAt
	ctx, span := p.s.tracer.Start(ctx, "sync.provider "+p.src.Name,
		trace.WithLinks(r.links...),
		trace.WithAttributes(p.spanAttrs()...),
		trace.WithAttributes(attribute.Int("xii.sync.waiters", r.waiters)))
	if r.paced > 0 {
		span.SetAttributes(attribute.Int64("xii.sync.paced_ms", r.paced.Milliseconds()))
	}
	defer func() {
		status := classify(res.err)
		left := time.Until(r.deadline).Milliseconds()
		span.SetAttributes(
			attribute.Int("xii.sync.pages", res.pages),
			attribute.Int("xii.sync.rows", res.rows),
			attribute.String("xii.sync.status", string(status)),
			attribute.Int64("xii.sync.deadline_left_ms", left))
		if res.err != nil {
			span.RecordError(res.err)
			span.SetStatus(codes.Error, string(status)+": "+res.err.Error())
			if ok, held := p.s.failures.Allow(p.src.Name, time.Now()); ok && status != xiiapi.StatusTimeout {
				p.s.opts.Logger.WarnContext(ctx, "sync round failed", "provider", p.src.Name, "status", status, "err", res.err,
					"failed_since_last_line", held)
			}
		}
		p.s.metrics.recordRound(ctx, p, status, res.rows)
		span.End()
	}()

	pos, err := p.s.opts.Store.Position(ctx, p.src.Name)
	if err != nil {
		res.err = fmt.Errorf("read cursor: %w", err)
		return res
	}
	cursor := pos.Cursor
	res.cursor, res.quarantined = cursor, pos.Quarantined
	// While a page is stored, the ones after it are on their way (pager):
	// a backlog costs the slower of fetching and storing per page, not
	// their sum, and pages that wait go in together.
	pages := p.pages(ctx, cursor)
	defer func() { pages.stop() }()
	restartFrom := func(from string) {
		pages.stop()
		cursor = from
		pages = p.pages(ctx, cursor)
	}
	for {
		b, err := pages.next(ctx)
		if err != nil {
			res.err = err
			return res
		}
		res.pages += b.pages
		page := b.page
		if len(page.Records) == 0 && len(page.Quarantined) == 0 && page.Next == cursor && !page.HasMore {
			// Nothing new: the common round under load costs no write.
			return res
		}
		quarantined, err := p.applyPage(ctx, cursor, page)
		pages.stored(b)
		var moved cursorMoved
		if errors.As(err, &moved) {
			// Another round of this process stored the page first: rescan
			// from its cursor, as after a conflict, without asking the store.
			restartFrom(moved.cursor)
			res.cursor, res.quarantined = cursor, moved.quarantined
			continue
		}
		if errors.Is(err, aggregate.ErrConflict) {
			// Another replica stored this provider's pages first. Adopt its
			// cursor and rescan: its scan may have passed rows that
			// committed after it looked.
			if pos, err = p.s.opts.Store.Position(ctx, p.src.Name); err != nil {
				res.err = fmt.Errorf("read cursor: %w", err)
				return res
			}
			restartFrom(pos.Cursor)
			res.cursor, res.quarantined = cursor, pos.Quarantined
			continue
		}
		if err != nil {
			res.err = fmt.Errorf("store page: %w", err)
			return res
		}
		res.rows += len(page.Records)
		res.quarantined = quarantined
		cursor = page.Next
		res.cursor = cursor
		if !page.HasMore {
			return res
		}
	}
}

// request is the page request from cursor, at the page size in force.
func (p *providerSync) request(cursor string, rescan bool) provider.Request {
	return provider.Request{Cursor: cursor, Rescan: rescan, Limit: p.s.opts.Tuning().PageSize}
}

// applyPage stores one page fetched from cursor from. Rounds of one
// provider take turns here, in process: without coalescing many run side
// by side, and each would otherwise wait in PostgreSQL on the cursor row
// lock another one holds, a connection held the while, until its statement
// timed out ("lock cursor: canceling statement"). Waiting here holds
// nothing and ends with the round's context. A round whose turn comes
// after another one moved the cursor on from `from` learns it here, with
// no transaction: it gets a cursorMoved with the cursor that round stored.
func (p *providerSync) applyPage(ctx context.Context, from string, page aggregate.Page) (int, error) {
	select {
	case p.applying <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-p.applying }()
	if p.stored.known && from != p.stored.cursor && p.stored.passed(from) {
		return 0, cursorMoved{p.stored.cursor, p.stored.quarantined}
	}
	quarantined, err := p.s.opts.Store.ApplyPage(ctx, p.src.Name, from, page)
	if err != nil {
		p.stored.known = false
		return quarantined, err
	}
	p.stored.add(from, page.Next, quarantined)
	return quarantined, nil
}

// storedCursors are the cursors this process stored for a provider, the
// latest last: a page fetched from one of the earlier ones is stale, since
// cursors only move on. A cursor it did not store (another replica's) says
// nothing, and the store decides.
type storedCursors struct {
	known       bool   // cursor is the latest stored; false before the first page and after a failed one
	cursor      string // the latest
	quarantined int    // with the latest
	earlier     []string
}

// keptCursors bounds storedCursors.earlier.
const keptCursors = 64

func (s *storedCursors) passed(c string) bool { return slices.Contains(s.earlier, c) }

// add records a page stored from cursor from to cursor next.
func (s *storedCursors) add(from, next string, quarantined int) {
	if from != next && !slices.Contains(s.earlier, from) {
		if len(s.earlier) == keptCursors {
			s.earlier = slices.Delete(s.earlier, 0, 1)
		}
		s.earlier = append(s.earlier, from)
	}
	s.known, s.cursor, s.quarantined = true, next, quarantined
}

// cursorMoved: another round of this process stored pages past the cursor
// a page was fetched from. Like aggregate.ErrConflict, but the new cursor
// is known without asking the store.
type cursorMoved struct {
	cursor      string
	quarantined int
}

func (cursorMoved) Error() string { return "cursor moved on by another round" }

// fetchPage asks the provider for one page, retrying what is worth it
// while the deadline allows, each attempt bounded by fetch_timeout.
func (p *providerSync) fetchPage(ctx context.Context, req provider.Request) (aggregate.Page, error) {
	timeout := p.s.opts.Tuning().FetchTimeout
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		page, err := p.fetchOnce(ctx, req, timeout)
		if err == nil || !provider.Retryable(err) || attempt == maxAttempts {
			return page, err
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) < backoff {
			return page, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return page, ctx.Err()
		case <-t.C:
		}
		backoff *= 2
	}
}

// fetchCall is the breaker endpoint's request: the page request and the
// round's context, to tell a provider's failure from the caller leaving.
type fetchCall struct {
	round context.Context
	req   provider.Request
}

// callerLeft marks a fetch that failed because its round ended first:
// every waiter left, or the round stopped fetching ahead. It says nothing
// of the provider, so the breaker counts it neither as a failure nor as
// a success, which would reset the failures counted so far or, as a
// half-open breaker's trial, close it.
type callerLeft struct{ err error }

func (c callerLeft) Error() string { return c.err.Error() }
func (c callerLeft) Unwrap() error { return c.err }

func (p *providerSync) fetchOnce(ctx context.Context, req provider.Request, timeout time.Duration) (aggregate.Page, error) {
	if err := p.s.gate.enter(ctx); err != nil {
		return aggregate.Page{}, err
	}
	defer p.s.gate.leave()
	pageCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	resp, err := p.fetch(pageCtx, fetchCall{round: ctx, req: req})
	if left, ok := errors.AsType[callerLeft](err); ok {
		err = left.err
	}
	p.s.metrics.recordFetch(ctx, p, time.Since(start), classify(err))
	if err != nil {
		if pageCtx.Err() != nil && ctx.Err() == nil {
			// Only this page's fetch_timeout expired: say so, keeping
			// errors.Is(err, context.DeadlineExceeded).
			err = fmt.Errorf("fetch page from %s: no answer within fetch_timeout %v: %w", p.src.Name, timeout, context.DeadlineExceeded)
		}
		return aggregate.Page{}, err
	}
	return resp.(aggregate.Page), nil
}

// newBreaker wraps the provider's Fetch in a circuit breaker. Failures
// caused by the caller going away are passed through without counting.
func newBreaker(s *Syncer, src Source) (*gobreaker.CircuitBreaker[aggregate.Page], endpoint.Endpoint) {
	cb := gobreaker.NewCircuitBreaker[aggregate.Page](gobreaker.Settings{
		Name:        src.Name,
		MaxRequests: 1,
		Interval:    breakerCountOver,
		Timeout:     breakerOpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= breakerFailures },
		OnStateChange: func(name string, from, to gobreaker.State) {
			s.opts.Logger.Warn("circuit breaker", "provider", name, "from", from.String(), "to", to.String())
		},
		IsExcluded: func(err error) bool {
			_, left := errors.AsType[callerLeft](err)
			return left
		},
	})
	return cb, func(ctx context.Context, request any) (any, error) {
		call := request.(fetchCall)
		return cb.Execute(func() (aggregate.Page, error) {
			page, err := src.Source.Fetch(ctx, call.req)
			if err != nil && call.round.Err() != nil {
				return page, callerLeft{err}
			}
			return page, err
		})
	}
}
