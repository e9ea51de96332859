package dashboard

import (
	"context"
	"log/slog"
)

// Middleware decorates a Service.
type Middleware func(Service) Service

// LoggingMiddleware logs every answer whose sync was incomplete, naming
// the providers that missed it, at warn level, and the rest at debug.
// Failures are logged once, where they become an HTTP status.
func LoggingMiddleware(logger *slog.Logger) Middleware {
	return func(next Service) Service {
		return loggingService{logger: logger, next: next}
	}
}

type loggingService struct {
	logger *slog.Logger
	next   Service
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

func (s loggingService) logSync(ctx context.Context, what string, rep SyncReport, args ...any) {
	if !rep.Complete {
		s.logger.WarnContext(ctx, what+" answered from an incomplete sync",
			append(args, "unsynced_providers", rep.Incomplete())...)
		return
	}
	s.logger.DebugContext(ctx, what+" answered", args...)
}
