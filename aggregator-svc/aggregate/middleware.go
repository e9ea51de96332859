package aggregate

import (
	"context"
	"log/slog"
	"time"

	"xii/libs/throttle"
)

// Middleware decorates a Service.
type Middleware func(Service) Service

// LoggingMiddleware logs each answer at debug level; one whose sync left
// providers out, naming them, at warn level, once per set of missing
// providers every ten seconds (a dead provider misses every answer).
// Failures are logged once, where the transport turns them into a status.
func LoggingMiddleware(logger *slog.Logger) Middleware {
	return func(next Service) Service {
		return logging{log: throttle.NewSyncLog(logger, 10*time.Second), next: next}
	}
}

type logging struct {
	log  *throttle.SyncLog
	next Service
}

func (l logging) Query(ctx context.Context, q Query) (QueryResult, error) {
	r, err := l.next.Query(ctx, q)
	if err == nil {
		l.log.Answered(ctx, "query", r.Sync, slog.Int("rows", len(r.Page.Responses)))
	}
	return r, err
}

func (l logging) Stats(ctx context.Context, q StatsQuery) (StatsResult, error) {
	r, err := l.next.Stats(ctx, q)
	if err == nil {
		l.log.Answered(ctx, "stats", r.Sync, slog.Int("groups", len(r.Stats.Groups)), slog.Int64("total", r.Stats.Total))
	}
	return r, err
}

func (l logging) Providers(ctx context.Context) Providers { return l.next.Providers(ctx) }

func (l logging) Sync(ctx context.Context) SyncReport {
	rep := l.next.Sync(ctx)
	l.log.Answered(ctx, "sync", rep)
	return rep
}
