package dashboard

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"xii/libs/throttle"
)

// Middleware decorates a Service.
type Middleware func(Service) Service

// LoggingMiddleware logs answers whose sync was incomplete, naming the
// providers that missed it, at warn level, one line per set of missing
// providers every ten seconds (a dead provider misses every answer), and
// every answer at debug. Failures are logged once, where they become an
// HTTP status.
func LoggingMiddleware(logger *slog.Logger) Middleware {
	return func(next Service) Service {
		return loggingService{logger: logger, next: next, incomplete: throttle.New(10 * time.Second)}
	}
}

type loggingService struct {
	logger     *slog.Logger
	next       Service
	incomplete *throttle.Throttle
}

func (s loggingService) Responses(ctx context.Context, q Query) (Page, error) {
	p, err := s.next.Responses(ctx, q)
	if err == nil {
		s.logSync(ctx, "responses", p.Sync, "rows", len(p.Responses))
	}
	return p, err
}

func (s loggingService) Stats(ctx context.Context, q StatsQuery) (Stats, error) {
	st, err := s.next.Stats(ctx, q)
	if err == nil {
		s.logSync(ctx, "stats", st.Sync, "groups", len(st.Groups), "total", st.Total)
	}
	return st, err
}

func (s loggingService) Providers(ctx context.Context) (Providers, error) {
	return s.next.Providers(ctx)
}

func (s loggingService) logSync(ctx context.Context, what string, rep SyncReport, args ...any) {
	if rep.Complete {
		s.logger.DebugContext(ctx, what+" answered", args...)
		return
	}
	unsynced := rep.Incomplete()
	if ok, held := s.incomplete.Allow(strings.Join(unsynced, ","), time.Now()); ok {
		s.logger.WarnContext(ctx, what+" answered from an incomplete sync",
			append(args, "unsynced_providers", unsynced, "like_it_since_last_line", held)...)
		return
	}
	s.logger.DebugContext(ctx, what+" answered from an incomplete sync", append(args, "unsynced_providers", unsynced)...)
}
