package aggregate

import (
	"context"
	"fmt"
	"time"

	"xii/libs/deadline"
	"xii/libs/xiiapi"
)

// QueryResult is a page of responses read after a sync.
type QueryResult struct {
	Page ResultPage
	Sync SyncReport
}

// StatsResult are counts read after a sync.
type StatsResult struct {
	Stats Stats
	Sync  SyncReport
}

// Service answers the dashboard: it syncs, then reads.
type Service interface {
	// Query syncs every provider within ctx's deadline, then reads one page.
	// Errors: ErrInvalid. An incomplete sync is reported, not an error.
	Query(ctx context.Context, q Query) (QueryResult, error)
	// Stats syncs like Query, then counts per group. Errors: ErrInvalid.
	Stats(ctx context.Context, q StatsQuery) (StatsResult, error)
	// Sync syncs without reading.
	Sync(ctx context.Context) SyncReport
	// Providers says what is known of every covered provider, and the
	// settings in force, without syncing.
	Providers(ctx context.Context) Providers
}

// Providers is the answer of Service.Providers, as the wire contract has it.
type Providers = xiiapi.ProvidersBody

// Operations reports the providers' and the settings' state.
type Operations interface {
	Providers() Providers
}

type service struct {
	syncer  Syncer
	reader  Reader
	ops     Operations
	reserve *deadline.Reserve
}

// ServiceOption configures NewService.
type ServiceOption func(*service)

// WithReadReserve sets how much of a request's time the sync leaves for
// the read after it (see deadline.Reserve); a floor of
// deadline.DefaultReserve without it.
func WithReadReserve(r *deadline.Reserve) ServiceOption {
	return func(s *service) { s.reserve = r }
}

// NewService returns the Service that syncs with s, reads from r and
// reports ops (nil: an empty report).
func NewService(s Syncer, r Reader, ops Operations, opts ...ServiceOption) Service {
	svc := &service{syncer: s, reader: r, ops: ops, reserve: deadline.NewReserve(deadline.DefaultReserve)}
	for _, o := range opts {
		o(svc)
	}
	return svc
}

func (s *service) Providers(context.Context) Providers {
	if s.ops == nil {
		return Providers{Providers: []xiiapi.ProviderInfo{}, Settings: []xiiapi.Setting{}, Rejected: []xiiapi.RejectedKey{}}
	}
	return s.ops.Providers()
}

func (s *service) Query(ctx context.Context, q Query) (QueryResult, error) {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if err := q.Validate(); err != nil {
		return QueryResult{}, err
	}
	rep := s.sync(ctx)
	start := time.Now()
	page, err := s.reader.Query(ctx, q)
	s.reserve.Observe(time.Since(start))
	if err != nil {
		return QueryResult{}, fmt.Errorf("query: %w", err)
	}
	return QueryResult{Page: page, Sync: rep}, nil
}

func (s *service) Stats(ctx context.Context, q StatsQuery) (StatsResult, error) {
	if err := q.Validate(); err != nil {
		return StatsResult{}, err
	}
	rep := s.sync(ctx)
	start := time.Now()
	st, err := s.reader.Stats(ctx, q)
	s.reserve.Observe(time.Since(start))
	if err != nil {
		return StatsResult{}, fmt.Errorf("stats: %w", err)
	}
	return StatsResult{Stats: st, Sync: rep}, nil
}

func (s *service) Sync(ctx context.Context) SyncReport { return s.sync(ctx) }

// sync runs the sync with part of ctx's time held back for the read that
// follows, so that a slow provider costs completeness, not the answer:
// twice what reads took lately (a read that ran out of time counts the
// time it had), at least the configured floor, at most half the time left.
// A read that fails for its deadline, or is cancelled, was not observed
// whole; the next reserve is then at least twice what it had.
func (s *service) sync(ctx context.Context) SyncReport {
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-s.reserve.Of(time.Until(d))))
		defer cancel()
	}
	return s.syncer.Sync(ctx)
}
