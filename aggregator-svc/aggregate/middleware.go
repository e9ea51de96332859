package aggregate

import (
	"context"
	"log/slog"
)

// Middleware decorates a Service.
type Middleware func(Service) Service

// LoggingMiddleware logs each answer: at warn level when its sync left
// providers out, naming them, at debug otherwise. Failures are logged
// once, where the transport turns them into a status.
func LoggingMiddleware(logger *slog.Logger) Middleware {
	return func(next Service) Service { return logging{logger: logger, next: next} }
}

type logging struct {
	logger *slog.Logger
	next   Service
}

func (l logging) Query(ctx context.Context, q Query) (QueryResult, error) {
	r, err := l.next.Query(ctx, q)
	if err == nil {
		l.answered(ctx, "query", r.Sync, slog.Int("rows", len(r.Page.Responses)))
	}
	return r, err
}

func (l logging) Stats(ctx context.Context, q StatsQuery) (StatsResult, error) {
	r, err := l.next.Stats(ctx, q)
	if err == nil {
		l.answered(ctx, "stats", r.Sync, slog.Int("groups", len(r.Stats.Groups)), slog.Int64("total", r.Stats.Total))
	}
	return r, err
}

func (l logging) Sync(ctx context.Context) SyncReport {
	rep := l.next.Sync(ctx)
	l.answered(ctx, "sync", rep)
	return rep
}

// answered logs one answer of the kind op with the sync it was read after.
func (l logging) answered(ctx context.Context, op string, rep SyncReport, attrs ...slog.Attr) {
	level := slog.LevelDebug
	if !rep.Complete {
		level = slog.LevelWarn
		attrs = append(attrs, slog.Any("unsynced_providers", rep.Incomplete()))
	}
	l.logger.LogAttrs(ctx, level, "answered", append(attrs, slog.String("op", op), slog.Bool("complete", rep.Complete))...)
}
