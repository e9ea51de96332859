package aggregate

import (
	"context"
	"log/slog"
	"strings"
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
		return logging{logger: logger, next: next, incomplete: throttle.New(10 * time.Second)}
	}
}

type logging struct {
	logger     *slog.Logger
	next       Service
	incomplete *throttle.Throttle
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

func (l logging) Providers(ctx context.Context) Providers { return l.next.Providers(ctx) }

func (l logging) Sync(ctx context.Context) SyncReport {
	rep := l.next.Sync(ctx)
	l.answered(ctx, "sync", rep)
	return rep
}

// answered logs one answer of the kind op with the sync it was read after.
func (l logging) answered(ctx context.Context, op string, rep SyncReport, attrs ...slog.Attr) {
	level := slog.LevelDebug
	if !rep.Complete {
		unsynced := rep.Incomplete()
		attrs = append(attrs, slog.Any("unsynced_providers", unsynced))
		if ok, held := l.incomplete.Allow(strings.Join(unsynced, ","), time.Now()); ok {
			level = slog.LevelWarn
			attrs = append(attrs, slog.Int("like_it_since_last_line", held))
		}
	}
	l.logger.LogAttrs(ctx, level, "answered", append(attrs, slog.String("op", op), slog.Bool("complete", rep.Complete))...)
}
